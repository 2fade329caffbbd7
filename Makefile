# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv when missing, installs what it needs, and runs.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Debian packages the test suite needs (none yet; PostgreSQL and Chromium arrive with their issues).
APT_PACKAGES :=

.PHONY: demo test venv deps test-deps system-deps bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.deps: pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	@touch $@

$(VENV)/.test-deps: pyproject.toml $(VENV)/.deps
	$(PIP) install --quiet -e '.[test]'
	@touch $@

venv: $(PY)
deps: $(VENV)/.deps
test-deps: $(VENV)/.test-deps

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

demo: deps
	$(VENV)/bin/atlas demo

test: test-deps system-deps
	$(PY) -m pytest -q

bench: deps
	$(PY) bench/bench_ingest.py

clean:
	rm -rf atlas-demo .pytest_cache
