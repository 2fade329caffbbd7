"""What the bench scripts share: where results go, and how a run's JSON line is printed and kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"


def emit(result: dict, results_file: Path, save: bool) -> None:
    """Print `result` as one sorted JSON line on standard output; with `save`, also write it to `results_file`."""
    line = json.dumps(result, sort_keys=True)
    if save:
        results_file.parent.mkdir(parents=True, exist_ok=True)
        results_file.write_text(line + "\n", encoding="utf-8")
        print(f"saved {results_file.relative_to(REPO_ROOT)}", file=sys.stderr)
    print(line)


def pg_server(admin: str | None) -> tuple[str, str | None]:
    """Return (admin URL, folder to stop afterwards or None): `admin` when given, else a throwaway server started by
    scripts/pg_test_server.sh."""
    if admin:
        return admin, None
    out = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "pg_test_server.sh"), "start"], check=True,
                         capture_output=True, text=True)
    url, folder = out.stdout.split()[:2]
    return url, folder


def new_pg_database(admin: str, name: str) -> str:
    """Create (dropping any old one) database `name` on the server of `admin` and return its URL."""
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rpartition("/")[0] + "/" + name
