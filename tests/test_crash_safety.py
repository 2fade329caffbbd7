"""`kill -9` during analysis or reconciliation loses nothing: the next run finishes the work and the export equals a
clean run's, links included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from databases import new_database
from influence_atlas.export import export
from influence_atlas.pipeline import analyze, ingest
from influence_atlas.store import open_store

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
CROSS = SHARED / "corpus" / "cross" / "docs"
PICK = ("ap-gossi-russians-staging-burial.txt", "maliweb-gossi-charnier-communique-fama.txt")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, seeds):
    if not CROSS.is_dir():
        pytest.fail(f"{CROSS} not found: the crash-safety test needs ../shared beside the clone")
    folder = tmp_path_factory.mktemp("crash-corpus")
    for path in list(seeds.glob("*.txt")) + [CROSS / name for name in PICK]:
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


@pytest.fixture(scope="module")
def clean_export(tmp_path_factory, corpus):
    out = tmp_path_factory.mktemp("crash-clean")
    store = open_store(new_database(out))
    ingest(store, [corpus])
    analyze(store)
    assert store.links(), "the corpus must give cross-document links for this test to mean something"
    path = export(store, "json", out / "clean.json")
    store.close()
    return path.read_bytes()


def _analyze_process(db: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "influence_atlas", "analyze", "--db", db],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def test_kill_during_analysis_then_resume_equals_a_clean_run(tmp_path, corpus, clean_export):
    db = new_database(tmp_path)
    store = open_store(db)
    ingest(store, [corpus])
    proc = _analyze_process(db)
    total = store.count_to_analyze(_version())
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:  # kill once some documents are analysed
        if store.count_to_analyze(_version()) < total:
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    report = analyze(store)  # at once: the killed worker's claim is taken up, not left for the lease to lapse
    assert store.count_to_analyze(_version()) == 0
    assert report.documents >= 1
    assert export(store, "json", tmp_path / "resumed.json").read_bytes() == clean_export
    store.close()


def test_interrupted_reconciliation_is_redone_by_the_next_run(tmp_path, corpus, clean_export, monkeypatch):
    db = new_database(tmp_path)
    store = open_store(db)
    ingest(store, [corpus])

    def dies(*args, **kwargs):  # the process dies before the links' transaction commits
        raise KeyboardInterrupt

    monkeypatch.setattr(type(store), "replace_links", dies)
    with pytest.raises(KeyboardInterrupt):
        analyze(store)
    monkeypatch.undo()
    assert not store.links() and store.unreconciled_documents()
    report = analyze(store)  # nothing left to analyse, but the reconciliation is owed
    assert report.documents == 0 and report.links > 0
    assert not store.unreconciled_documents()
    assert export(store, "json", tmp_path / "resumed.json").read_bytes() == clean_export
    store.close()


def _version() -> str:
    from influence_atlas.pipeline import analysis_version

    return analysis_version()
