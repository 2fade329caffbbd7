"""Every data file the package reads (ontology, models, web assets) is declared as package data, so that an install
from a wheel (not only an editable checkout) carries it."""
from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "influence_atlas"


def test_every_data_file_is_package_data():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["influence_atlas"]
    data = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert data, "no data files found: the package layout moved"
    missing = [f for f in data if not any(fnmatch.fnmatchcase(f, g) for g in globs)]
    assert not missing, f"data files not declared in pyproject.toml [tool.setuptools.package-data]: {missing}"
