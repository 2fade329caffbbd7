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
        pytest.fail(f"demo corpus not found at {SEEDS} (the tests need ../shared beside the clone, as CI has it)")
    return SEEDS


@pytest.fixture(scope="session")
def gold() -> Path:
    if not GOLD.is_dir():
        pytest.fail(f"gold annotations not found at {GOLD} (the tests need ../shared beside the clone, as CI has it)")
    return GOLD


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, seeds, gold):
    """The demo corpus ingested, analysed and exported once for the whole session."""
    from influence_atlas.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    result = run_demo(seeds, out, gold, db=new_database(out))
    freeze(str(result.db))
    return result


def _scored_run(tmp_path_factory, name: str, gold_folders: list[Path], doc_folders: list[Path]):
    """Ingest, analyse and export `doc_folders` into a new database; gold files are gathered in one folder."""
    import shutil

    from influence_atlas.export import export
    from influence_atlas.pipeline import analyze, ingest

    for folder in doc_folders + gold_folders:
        if not folder.is_dir():
            pytest.fail(f"{folder} not found (the tests need ../shared beside the clone, as CI has it)")
    out = tmp_path_factory.mktemp(name)
    gold_dir = out / "gold"
    gold_dir.mkdir()
    for name_ in ("actors.json", "narratives.json"):
        shutil.copy(GOLD / name_, gold_dir / name_)
    for folder in gold_folders:
        for path in folder.glob("*.json"):
            if path.name not in ("actors.json", "narratives.json"):
                shutil.copy(path, gold_dir / path.name)
    db = new_database(out)
    store = open_store(db)
    ingest(store, doc_folders)
    analyze(store)
    export_path = export(store, "json", out / "export.json")
    store.close()
    freeze(str(db))
    return {"db": db, "export": export_path, "gold": gold_dir}


@pytest.fixture(scope="session")
def dev_run(tmp_path_factory):
    """The development set (../shared/corpus/dev and the seeds) analysed once for the session."""
    dev = SHARED / "corpus" / "dev"
    return _scored_run(tmp_path_factory, "devset", [dev / "gold", GOLD], [dev / "docs", SEEDS])


@pytest.fixture(scope="session")
def cross_run(tmp_path_factory):
    """The cross-source development set (../shared/corpus/cross) analysed once for the session."""
    cross = SHARED / "corpus" / "cross"
    return _scored_run(tmp_path_factory, "crossset", [cross / "gold"], [cross / "docs"])
