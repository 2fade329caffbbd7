"""What the bench scripts share: where results go, and how a run's JSON line is printed and kept."""

from __future__ import annotations

import json
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
