"""The `atlas` command end to end, as a user runs it (real processes, real SQLite files)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from databases import ON_POSTGRES, new_database

ATLAS = [sys.executable, "-m", "influence_atlas"]


def run(args, cwd, env=None, check=True):
    full_env = dict(os.environ, **(env or {}), COLUMNS="200")
    proc = subprocess.run(ATLAS + args, cwd=cwd, env=full_env, capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def test_ingest_analyze_export_search_with_atlas_db(tmp_path, seeds):
    env = {"ATLAS_DB": new_database(tmp_path, "env.db")}
    out = run(["ingest", str(seeds)], tmp_path, env)
    assert "3 new" in out.stdout
    again = run(["ingest", str(seeds)], tmp_path, env)
    assert "0 new, 3 unchanged" in again.stdout
    run(["analyze"], tmp_path, env)
    run(["export", "--format", "json", "a.json"], tmp_path, env)
    run(["analyze", "--all"], tmp_path, env)
    run(["export", "--format", "json", "b.json"], tmp_path, env)
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes(), "exports must be deterministic"
    found = run(["search", "Moura"], tmp_path, env)
    assert "001_435e1632eaa19eed.txt" in found.stdout
    assert ON_POSTGRES or (tmp_path / "env.db").exists()
    assert not (tmp_path / "atlas.db").exists()


def test_db_option_wins_and_default_is_atlas_db(tmp_path):
    (tmp_path / "d.txt").write_text("Niger's junta expelled the Danish envoy in 2023.", encoding="utf-8")
    db = new_database(tmp_path, "x.db")
    run(["ingest", "d.txt", "--db", db], tmp_path, {"ATLAS_DB": str(tmp_path / "ignored.db")})
    assert "1 unchanged" in run(["ingest", "d.txt", "--db", db], tmp_path).stdout
    assert not (tmp_path / "ignored.db").exists()
    env = {k: v for k, v in os.environ.items() if k != "ATLAS_DB"}
    proc = subprocess.run(ATLAS + ["ingest", "d.txt"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and (tmp_path / "atlas.db").exists()


def test_failed_inputs_give_exit_code_and_one_line_each(tmp_path):
    (tmp_path / "ok.txt").write_text("Mali's junta welcomed Russian instructors in 2022.", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    proc = run(["ingest", "ok.txt", "empty.txt", "nope.txt"], tmp_path, check=False)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("failed:")]
    assert len(lines) == 2 and any("empty.txt" in ln for ln in lines) and any("nope.txt" in ln for ln in lines)
    assert "1 new" in proc.stdout


def test_demo_writes_db_and_json_and_summary(tmp_path, seeds):
    proc = run(["demo", "--corpus", str(seeds), "--out", "out"] + (["--db", new_database(tmp_path)] if ON_POSTGRES else []), tmp_path)
    assert (ON_POSTGRES or (tmp_path / "out" / "atlas.db").exists()) and (tmp_path / "out" / "atlas.json").exists()
    assert "000_9b9d87ddfa60c46e.txt" in proc.stdout


def test_demo_without_corpus_says_how_to_point_it(tmp_path):
    proc = run(["demo", "--corpus", "no-such-folder"], tmp_path, check=False)
    assert proc.returncode == 2 and "--corpus" in proc.stderr


def test_eval_prints_overall_line(tmp_path, seeds, gold):
    db = new_database(tmp_path / "out")
    run(["demo", "--corpus", str(seeds), "--out", "out", "--db", db], tmp_path)
    proc = run(["eval", str(gold), "--db", db], tmp_path)
    overall = next(ln for ln in proc.stdout.splitlines() if ln.startswith("overall: missing_docs=0 "))
    assert "entity_p=" in overall and "event_f1=" in overall


def test_unknown_export_format_is_a_clear_error(tmp_path):
    proc = run(["export", "--format", "xml", "o.xml"], tmp_path, check=False)
    assert proc.returncode == 2 and "unknown export format 'xml'" in proc.stderr
