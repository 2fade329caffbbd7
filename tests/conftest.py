from __future__ import annotations

from pathlib import Path

import pytest

from influence_atlas.store import open_store

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "corpus" / "seeds"
GOLD = SHARED / "corpus" / "gold"


@pytest.fixture
def atlas_db(tmp_path) -> str:
    """The --db value of a new empty database."""
    return str(tmp_path / "atlas.db")


@pytest.fixture
def store(atlas_db):
    s = open_store(atlas_db)
    yield s
    s.close()


@pytest.fixture(scope="session")
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"demo corpus not found at {SEEDS} (CI has ../shared beside the clone)")
    return SEEDS


@pytest.fixture(scope="session")
def gold() -> Path:
    if not GOLD.is_dir():
        pytest.skip(f"gold annotations not found at {GOLD}")
    return GOLD


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, seeds, gold):
    """The demo corpus ingested, analysed and exported once for the whole session."""
    from influence_atlas.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    return run_demo(seeds, out, gold)
