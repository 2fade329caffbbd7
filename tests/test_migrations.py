"""Migrations are self-contained and, applied one by one, build the tables schema.py defines (SQLite and PostgreSQL)."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

from sqlalchemy import String, inspect, text

from databases import DIALECT, new_database  # tests/ is on sys.path
from influence_atlas.store import open_store
from influence_atlas.store.migrations import MIGRATIONS
from influence_atlas.store.schema import metadata

MIGRATIONS_PY = Path(__file__).resolve().parent.parent / "src" / "influence_atlas" / "store" / "migrations.py"


def _schema(store) -> dict:
    """Return every table as the database reports it: columns (type with collation, nullable), primary key,
    indexes and foreign keys. Columns are compared by name: a column a migration adds comes last in its table."""
    out = {}
    with store.engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PostgreSQL's regconfig has no SQLAlchemy type; it reflects as NullType
        db = inspect(conn)
        for table in sorted(db.get_table_names()):
            out[table] = {
                "columns": {c["name"]: (str(c["type"]), c["nullable"]) for c in db.get_columns(table)},
                "primary key": db.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted((i["name"], tuple(map(str, i["column_names"])), bool(i["unique"])) for i in db.get_indexes(table)),
                "foreign keys": sorted((tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]),
                                        f["options"].get("ondelete")) for f in db.get_foreign_keys(table)),
            }
    return out


def test_migrations_do_not_read_the_live_table_definitions():
    imported = [node.module for node in ast.walk(ast.parse(MIGRATIONS_PY.read_text()))
                if isinstance(node, ast.ImportFrom) and node.level]
    assert imported == [], f"migrations.py imports {imported}: a migration must state the tables as they were"


def test_a_database_migrated_step_by_step_equals_a_fresh_one(tmp_path):
    fresh = open_store(new_database(tmp_path, "fresh.db"))
    stepped_db = new_database(tmp_path, "stepped.db")
    for version, _, _ in MIGRATIONS:
        # One release after another: each opening applies the one migration that is new to the database.
        stepped = open_store(stepped_db, migrate=False)
        assert stepped.migrate(until=version) == [version]
        if version == 4:
            # A document stored before the work claims (30) and the reconciliation state (40) existed.
            with stepped.transaction() as conn:
                conn.execute(text(
                    'INSERT INTO documents (id, name, path, published_estimated, authors, words, text, ingested_at, analysis_version) '
                    "VALUES ('d1', 'old', 'old.txt', false, '[]', 2, 'old text', '2026-01-01', 'v1')"))
        stepped.close()
    stepped = open_store(stepped_db)
    assert stepped.schema_version() == fresh.schema_version() == MIGRATIONS[-1][0]
    assert _schema(stepped) == _schema(fresh)
    with stepped.engine.connect() as conn:
        assert conn.execute(text("SELECT reconciled, claimed_by FROM documents WHERE id = 'd1'")).one() == (True, None)
        if DIALECT == "postgresql":
            assert conn.execute(text("SELECT count(*) FROM documents_fts WHERE doc_id = 'd1'")).scalar() == 1
    stepped.close()
    fresh.close()


def test_the_migrations_build_the_tables_schema_py_defines(tmp_path):
    """A change to a table in schema.py without a migration that makes it fails here."""
    migrated = open_store(new_database(tmp_path, "migrated.db"))
    reference = open_store(new_database(tmp_path, "reference.db"), migrate=False)
    with reference.transaction() as conn:
        metadata.create_all(conn)
        if DIALECT == "postgresql":
            # The store's rule on PostgreSQL: every string column is unbounded text compared by code point.
            for table in metadata.sorted_tables:
                columns = [c.name for c in table.columns if isinstance(c.type, String)]
                conn.execute(text(f'ALTER TABLE "{table.name}" '
                                  + ", ".join(f'ALTER COLUMN "{c}" TYPE text COLLATE "C"' for c in columns)))
    built, wanted = _schema(migrated), _schema(reference)
    for table in metadata.tables:
        assert built[table] == wanted[table], table
    migrated.close()
    reference.close()
