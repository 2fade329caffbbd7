"""Scale-out: work claims and concurrent `atlas analyze` processes, SQLite's single writer, PostgreSQL text search,
and the Ray engine against the default one (real processes, real databases, Ray started on this machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from databases import ON_POSTGRES, new_database
from influence_atlas.errors import ExtraError
from influence_atlas.export import export
from influence_atlas.pipeline import analysis_version, ingest
from influence_atlas.records import Actor, Analysis, Document
from influence_atlas.store import open_store
from influence_atlas.text.normalise import document_id

ATLAS = [sys.executable, "-m", "influence_atlas"]
PARAGRAPHS = [
    "Russian trainers landed in Bamako in December 2021, the transitional government said.",
    "Human Rights Watch said soldiers and foreign fighters killed civilians in Moura in March 2022.",
    "Mali ordered the Danish envoy out in January 2022 after the junta accused Copenhagen of interference.",
    "Burkina Faso's junta suspended Radio France Internationale, accusing it of spreading false information.",
    "The Wagner Group denied any role in the killings and called the reports Western propaganda.",
    "Le gouvernement de transition du Mali a accueilli des instructeurs russes à Bamako en décembre 2021.",
]


def _doc(name: str, text: str, language: str = "en") -> Document:
    return Document(id=document_id(text), name=name, path=name, text=text, title=name, language=language, words=len(text.split()))


def _corpus(folder: Path, count: int) -> Path:
    """Write `count` short distinct documents (rotated paragraphs) into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        lines = [PARAGRAPHS[(i + k) % 5] for k in range(3)]
        (folder / f"doc{i:03d}.txt").write_text(f"Dispatch {i}\n\n" + "\n\n".join(lines) + f"\n\nFiled as report {i}.\n", encoding="utf-8")
    return folder


def _atlas(args, cwd, env=None):
    return subprocess.Popen(ATLAS + args, cwd=cwd, env=dict(os.environ, COLUMNS="200", **(env or {})),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _analysed_count(stdout: str) -> int:
    line = next(ln for ln in stdout.splitlines() if ln.startswith("analysed "))
    return int(line.split()[1])


# -- claims ------------------------------------------------------------------------------------
def test_workers_claim_different_documents_and_lapsed_claims_return(store):
    for i in range(3):
        store.add_document(_doc(f"d{i}.txt", f"Document number {i} about Mali."))
    version = analysis_version()
    assert store.count_to_analyze(version) == 3
    (a,) = store.claim_documents(version, "worker-a")
    (b,) = store.claim_documents(version, "worker-b")
    (c,) = store.claim_documents(version, "worker-b", after=(b.name, b.id))
    assert [a.name, b.name, c.name] == ["d0.txt", "d1.txt", "d2.txt"]
    assert store.claim_documents(version, "worker-c") == []
    # A worker that died holds its claim only until the lease runs out.
    assert [d.name for d in store.claim_documents(version, "worker-c", lease=-1, limit=5)] == ["d0.txt", "d1.txt", "d2.txt"]
    store.release_claims("worker-c")
    store.replace_analysis(Analysis(doc=a.id, actors=[Actor("Mali", "state")]), version)
    assert [d.name for d in store.claim_documents(version, "worker-a", limit=5)] == ["d1.txt", "d2.txt"]
    assert store.count_to_analyze(version) == 2
    store.mark_stale()
    assert store.count_to_analyze(version) == 3


def test_actor_upserts_in_one_batch_equal_one_by_one(tmp_path):
    guesses = [Actor("Alpha", "unknown", known=False), Actor("Alpha", "person", ("A.",), known=True),
               Actor("Alpha", "unknown", known=False), Actor("beta", "unknown", ("b",), known=False),
               Actor("beta", "org", known=False)]
    docs = [_doc(f"d{i}.txt", f"Text {i}.") for i in range(len(guesses))]
    results = []
    for batched in (False, True):
        store = open_store(new_database(tmp_path / str(batched)))
        for d in docs:
            store.add_document(d)
        analyses = [Analysis(doc=d.id, actors=[g]) for d, g in zip(docs, guesses)]
        if batched:
            store.replace_analyses(analyses, "v")
        else:
            for a in analyses:
                store.replace_analysis(a, "v")
        results.append(store.actors(mentioned_only=False))
        store.close()
    assert results[0] == results[1]
    assert {a.name: (a.kind, a.known) for a in results[0]} == {"Alpha": ("person", True), "beta": ("org", False)}


def test_text_columns_sort_by_code_point(store):
    names = ["al-Qaeda", "Al Jazeera", "Économie", "Zeta", "état", "Ｚ"]
    for i, n in enumerate(names):
        store.add_document(_doc(n, f"Body {i}."))
    assert [d.name for d in store.documents()] == sorted(names)


# -- concurrent analyse processes --------------------------------------------------------------
def test_two_analyze_processes_share_the_work_and_match_one(tmp_path):
    """Two real `atlas analyze` processes on one database: every document analysed exactly once, same export as one."""
    corpus = _corpus(tmp_path / "corpus", 24)
    single, shared = new_database(tmp_path / "single"), new_database(tmp_path / "shared")
    for db in (single, shared):
        ingest_proc = _atlas(["ingest", str(corpus), "--db", db], tmp_path)
        assert ingest_proc.wait(timeout=600) == 0, ingest_proc.stderr.read()
    one = _atlas(["analyze", "--db", single], tmp_path)
    workers = [_atlas(["analyze", "--db", shared], tmp_path) for _ in range(2)]
    outputs = [p.communicate(timeout=900) for p in [one, *workers]]
    for proc, (out, errs) in zip([one, *workers], outputs):
        assert proc.returncode == 0, errs + out
    counts = [_analysed_count(out) for out, _ in outputs[1:]]
    assert sum(counts) == 24, f"workers analysed {counts} of 24 documents: none twice, none missed"
    print(f"two workers on {'PostgreSQL' if ON_POSTGRES else 'SQLite'} analysed {counts} documents")
    exports = []
    for db in (single, shared):
        s = open_store(db)
        exports.append(export(s, "json", tmp_path / f"{len(exports)}.json").read_bytes())
        s.close()
    assert exports[0] == exports[1]


def test_sqlite_second_writer_waits_with_a_clear_message(tmp_path):
    """While another process holds SQLite's write lock, `atlas ingest` says it waits, then finishes (always SQLite)."""
    db = tmp_path / "busy.db"
    open_store(str(db)).close()
    (tmp_path / "a.txt").write_text("Mali's junta welcomed Russian instructors in 2022.", encoding="utf-8")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys\n"
         f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\n"
         "print('locked', flush=True)\nsys.stdin.readline()\nc.execute('COMMIT')\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    proc = _atlas(["ingest", "a.txt", "--db", str(db)], tmp_path)
    said = ""
    for line in proc.stderr:  # the lock stays held until the waiting writer has said so
        said += line
        if "waiting:" in line:
            break
    holder.communicate("release\n", timeout=60)
    out, errs = proc.communicate(timeout=300)
    assert proc.returncode == 0, said + errs + out
    assert "waiting: another process is writing to" in said and "SQLite takes one writer at a time" in said
    assert "1 new" in out


def test_sqlite_writer_gives_up_cleanly_after_its_wait(tmp_path):
    db = tmp_path / "stuck.db"
    store = open_store(str(db))
    store.writer_wait = 1
    import sqlite3

    holder = sqlite3.connect(str(db), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        from influence_atlas.errors import StoreError

        with pytest.raises(StoreError, match="stayed locked by another writer .* nothing was written"):
            store.add_document(_doc("a.txt", "Niger expelled the Belgian envoy."))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.add_document(_doc("a.txt", "Niger expelled the Belgian envoy."))
    store.close()


# -- full-text search --------------------------------------------------------------------------
def test_search_uses_each_documents_language(store):
    store.add_document(_doc("en.txt", "Russian mercenaries were deployed to Mali; the deployment drew sanctions."))
    store.add_document(_doc("fr.txt", "Les mercenaires russes ont été déployés au Mali, selon les journalistes.", "fr"))
    hits = store.search("Mali")
    assert {h["name"] for h in hits} == {"en.txt", "fr.txt"}
    snippet = next(h["snippet"] for h in hits if h["name"] == "en.txt")
    assert "\x02Mali\x03" in snippet
    assert [h["name"] for h in store.search("merc*")] and {h["name"] for h in store.search("merc*")} == {"en.txt", "fr.txt"}
    assert store.search('"unbalanced AND (') == [] and store.search("*") == []
    if store.dialect == "postgresql":
        # English and French stemming: other forms of the same word match in each language.
        assert [h["name"] for h in store.search("deploying")] == ["en.txt"]
        assert [h["name"] for h in store.search("journaliste")] == ["fr.txt"]


# -- Ray ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'influence-atlas[ray]')")
    for attempt in range(2):  # Ray's own start-up can time out on a busy machine; one retry
        try:
            ray.init(num_cpus=2, include_dashboard=False)
            break
        except Exception:
            ray.shutdown()
            if attempt:
                raise
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_export_equals_default_engine_on_the_demo_corpus(local_ray, demo_run, seeds, tmp_path):
    from influence_atlas.ray_engine import analyze_with_ray

    store = open_store(new_database(tmp_path))
    ingest(store, [seeds])
    report = analyze_with_ray(store, workers=2, batch_size=1)
    assert report.documents == 3 and report.links > 0
    ray_json = export(store, "json", tmp_path / "ray.json")
    again = analyze_with_ray(store)
    assert again.documents == 0
    store.close()
    assert ray_json.read_bytes() == Path(demo_run.export).read_bytes()


@pytest.mark.slow
def test_ray_reconciliation_units_give_the_default_engine_links_on_the_development_set(local_ray, dev_run):
    from influence_atlas.ray_engine import unit_mapper
    from influence_atlas.reconcile.blocks import link_blocks

    store = open_store(str(dev_run["db"]), migrate=False)
    here = link_blocks(store, unit_documents=6)
    # Units of six documents, each a Ray task, at most two in flight.
    there = link_blocks(store, map_units=unit_mapper(local_ray, store.url, 2), unit_documents=6)
    store.close()
    assert here
    assert [(l.id, l.kind, l.items, l.detail, l.score) for l in there] == [(l.id, l.kind, l.items, l.detail, l.score) for l in here]


@pytest.mark.slow
def test_ray_reads_jsonl_and_parquet_inputs(local_ray, tmp_path):
    import pandas as pd

    from influence_atlas.ray_engine import analyze_with_ray

    records = [{"id": f"r{i}", "text": " ".join(PARAGRAPHS[i:i + 2]), "title": f"Record {i}"} for i in range(4)]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[:2]) + '{"id": "bad"}\n', encoding="utf-8")
    pd.DataFrame(records[2:]).to_parquet(tmp_path / "in" / "b.parquet")
    store = open_store(new_database(tmp_path))
    report = analyze_with_ray(store, inputs=[tmp_path / "in"], workers=1)
    assert report.documents == 4 and len(report.failed) == 1 and "no text in field 'text'" in report.failed[0]
    assert sorted(d.name for d in store.documents()) == ["a.jsonl#r0", "a.jsonl#r1", "b.parquet#r2", "b.parquet#r3"]
    assert store.mentions() and store.count_to_analyze(analysis_version()) == 0
    store.close()


@pytest.mark.slow
def test_ray_reports_documents_whose_language_the_technique_models_do_not_cover(local_ray, tmp_path):
    from influence_atlas.ray_engine import analyze_with_ray

    store = open_store(new_database(tmp_path))
    store.add_document(_doc("en.txt", " ".join(PARAGRAPHS[:3])))
    store.add_document(_doc("fr.txt", PARAGRAPHS[5] + " Les autorités maliennes ont démenti ces accusations.", "fr"))
    report = analyze_with_ray(store, workers=1)
    assert report.documents == 2 and report.techniques_unsupported == {"fr": 1}
    store.close()


def test_ray_engine_without_ray_names_the_extra(monkeypatch, store):
    from influence_atlas.ray_engine import analyze_with_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # what a Python without the extra sees
    with pytest.raises(ExtraError, match=r"pip install 'influence-atlas\[ray\]'"):
        analyze_with_ray(store)


def test_cli_engine_options_are_checked(tmp_path):
    proc = _atlas(["analyze", "--engine", "spark"], tmp_path)
    assert proc.wait(timeout=120) == 2 and "--engine must be local or ray" in proc.stderr.read()
    proc = _atlas(["analyze", "--address", "auto"], tmp_path)
    assert proc.wait(timeout=120) == 2 and "go with --engine ray" in proc.stderr.read()


# -- reconciliation at scale: bounded reading, partner cap, units --------------------------------------------------
class _CountedReads:
    """A store that records the most documents any one read asks for (a whole-corpus read counts as unbounded)."""

    def __init__(self, store):
        self.store, self.largest = store, 0

    def _saw(self, count: float) -> None:
        self.largest = max(self.largest, count)

    def document_batches(self, size: int = 500):
        for batch in self.store.document_batches(size):
            self._saw(len(batch))
            yield batch

    def documents(self, ids=None):
        self._saw(float("inf") if ids is None else len(set(ids)))
        return self.store.documents(ids)

    def document_records(self, ids):
        ids = list(ids)
        self._saw(len(set(ids)))
        return self.store.document_records(ids)

    def __getattr__(self, name):
        return getattr(self.store, name)


def _synthetic_store(tmp_path, documents: int, monkeypatch):
    """A store of bench_reconcile's synthetic records (no NLP), linked with its stand-in encoder (no models)."""
    from influence_atlas.reconcile import blocks

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import bench_reconcile

    url = f"sqlite:///{tmp_path / 'synthetic.db'}"
    bench_reconcile.generate(url, documents, seed=7)
    monkeypatch.setattr(blocks, "encode_sentences", bench_reconcile.stand_in_encoder)
    monkeypatch.setattr(blocks, "encode_multilingual", bench_reconcile.stand_in_encoder)
    return open_store(url)


def test_blocked_reconciliation_reads_a_unit_at_a_time_and_units_do_not_change_links(tmp_path, monkeypatch):
    from influence_atlas.reconcile.blocks import link_blocks

    store = _synthetic_store(tmp_path, 150, monkeypatch)
    reads = _CountedReads(store)
    small = link_blocks(reads, batch=10, unit_documents=12, partners=8)
    # No read holds more than a batch (10) or a unit (it closes at 12 documents; its last pair may bring one more).
    assert 0 < reads.largest <= 13
    whole = link_blocks(store, unit_documents=10_000, partners=8)
    store.close()
    assert whole, "the synthetic corpus retells stories: it has links"
    assert [(l.id, l.kind, l.items, l.detail, l.score) for l in small] == \
        [(l.id, l.kind, l.items, l.detail, l.score) for l in whole]


def test_partner_cap_keeps_each_documents_strongest_partners_across_its_blocks(tmp_path):
    import numpy as np

    from influence_atlas.reconcile import blocks
    from influence_atlas.reconcile.links import candidate_documents, strongest_partners

    rng = np.random.default_rng(3)
    docs = [f"d{i:03d}" for i in range(80)]
    vectors = {d: (v / np.linalg.norm(v)).astype(np.float32) for d, v in zip(docs, rng.normal(size=(80, 16)))}
    keys = {d: {f"k{j}" for j in rng.choice(5, size=3, replace=False)} for d in docs}
    db = blocks._scratch(tmp_path)
    db.executemany("INSERT INTO docs (id, lang, vec) VALUES (?, 'en', ?)", [(d, v.tobytes()) for d, v in vectors.items()])
    db.executemany("INSERT INTO keys VALUES (?, ?)", [(k, d) for d, ks in keys.items() for k in sorted(ks)])
    blocks._find_candidates(db, partners=6)
    kept = set(db.execute("SELECT a, b FROM pairs").fetchall())
    found = set()
    for key in {k for ks in keys.values() for k in ks}:
        members = {d: vectors[d] for d in docs if key in keys[d]}
        found |= candidate_documents(members, {d: {key} for d in members})
    assert len(kept) < len(found), "the cap binds on documents in three blocks of about 48"
    assert len(kept) <= 6 * len(docs)
    assert kept == strongest_partners({(a, b): float(vectors[a] @ vectors[b]) for a, b in found}, 6)
    # Each kept pair is among the six strongest partners of one of its documents.
    for a, b in kept:
        assert any(sum(1 for p in found if x in p and float(vectors[p[0]] @ vectors[p[1]]) > float(vectors[a] @ vectors[b]))
                   < 6 for x in (a, b))


def test_claim_links_capped_per_claim_alike_in_the_blocked_and_the_whole_corpus_pass(tmp_path):
    import random

    from influence_atlas.reconcile import blocks
    from influence_atlas.reconcile.claims import capped_per_claim
    from influence_atlas.records import Link

    rng = random.Random(5)
    links, seen = [], set()
    while len(links) < 300:  # 40 claims, many links each, some scores tied
        x, y = sorted(rng.sample(range(40), 2))
        kind = rng.choice(("corroborates", "contradicts"))
        if (kind, x, y) not in seen:
            seen.add((kind, x, y))
            links.append(Link(f"l{len(links):03d}", kind, (f"c{x:02d}", f"c{y:02d}"), "", rng.choice((0.5, 0.6, 0.7, 0.8))))
    db = blocks._scratch(tmp_path)
    db.executemany("INSERT INTO claim_links VALUES (?, ?, ?, ?, ?, ?)",
                   [(l.id, l.kind, l.items[0], l.items[-1], l.detail, l.score) for l in links])
    capped = capped_per_claim(links, 3)
    assert 0 < len(capped) < len(links)
    assert [(l.id, l.items, l.score) for l in blocks._capped_claim_links(db, 3)] == [(l.id, l.items, l.score) for l in capped]
    per_claim: dict = {}
    for l in capped:
        for c in l.items:
            per_claim[(l.kind, c)] = per_claim.get((l.kind, c), 0) + 1
    assert max(per_claim.values()) <= 3
