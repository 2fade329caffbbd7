from __future__ import annotations

from pathlib import Path

import pytest

from databases import DIALECT, PG_ADMIN, drop_all, drop_database, freeze, new_database  # tests/ is on sys.path
from influence_atlas.store import open_store

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "corpus" / "seeds"
GOLD = SHARED / "corpus" / "gold"


def pytest_report_header(config):
    where = f"PostgreSQL at {PG_ADMIN} ($ATLAS_TEST_DB)" if DIALECT == "postgresql" else "SQLite files in tmp folders"
    return f"databases: {where}"


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases():
    yield
    drop_all()


@pytest.fixture
def atlas_db(tmp_path) -> str:
    """The --db value of a new empty database: a SQLite file, or a PostgreSQL database under $ATLAS_TEST_DB."""
    value = new_database(tmp_path)
    yield value
    drop_database(value)


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
    result = run_demo(seeds, out, gold, db=new_database(out))
    freeze(str(result.db))
    return result
