"""Fresh databases for the tests: SQLite files by default, or PostgreSQL databases when $ATLAS_TEST_DB names a server.

`make test` runs the suite twice: once as is, once through scripts/pg_test_server.sh, which starts a
throwaway PostgreSQL server and sets ATLAS_TEST_DB to it. Every database a test makes comes from here, so the
same tests run on both. On PostgreSQL each one is a new database of a run-specific name, dropped at the end.
"""

from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path

PG_ADMIN = os.environ.get("ATLAS_TEST_DB", "")
ON_POSTGRES = PG_ADMIN.startswith(("postgresql://", "postgres://"))
DIALECT = "postgresql" if ON_POSTGRES else "sqlite"

_RUN = f"atlas_t{uuid.uuid4().hex[:8]}"
_counter = itertools.count(1)
_created: list[str] = []
_frozen: dict[str, str] = {}


def _url(name: str) -> str:
    base, _, _ = PG_ADMIN.rpartition("/")
    return f"{base}/{name}"


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def _name(url: str) -> str:
    return url.rpartition("/")[2].split("?")[0]


def new_database(folder: Path, filename: str = "atlas.db") -> str:
    """Return the --db value of a new, empty database: folder/filename on SQLite, a new database on PostgreSQL."""
    if not ON_POSTGRES:
        return str(Path(folder) / filename)
    name = f"{_RUN}_{next(_counter)}"
    _admin(f'CREATE DATABASE "{name}"')
    _created.append(name)
    return _url(name)


def copy_database(source: str | Path, folder: Path, filename: str = "atlas.db") -> str:
    """Return the --db value of a copy of a database (SQLite file with its WAL, or a PostgreSQL database)."""
    if not ON_POSTGRES:
        import shutil

        out = Path(folder) / filename
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(source) + suffix)
            if src.exists():
                shutil.copyfile(src, str(out) + suffix)
        return str(out)
    template = _frozen.get(str(source)) or _name(str(source))
    name = f"{_RUN}_{next(_counter)}"
    # A template must have no other connections: drop any a test left open on it.
    _admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{template}' AND pid <> pg_backend_pid()")
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    _created.append(name)
    return _url(name)


def freeze(source: str) -> None:
    """Keep a pristine copy of a PostgreSQL database that later copies are made from (tests may hold the original open)."""
    if ON_POSTGRES:
        copy = copy_database(source, Path("."))
        _frozen[source] = _name(copy)


def drop_database(db: str) -> None:
    """Drop a PostgreSQL database made here (SQLite files go with their tmp folder)."""
    if ON_POSTGRES and _name(db) in _created:
        _admin(f'DROP DATABASE IF EXISTS "{_name(db)}" WITH (FORCE)')
        _created.remove(_name(db))


def drop_all() -> None:
    """Drop every PostgreSQL database this run made."""
    for name in list(_created):
        drop_database(_url(name))

