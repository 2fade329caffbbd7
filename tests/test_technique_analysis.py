"""Persuasion techniques in the analysis: spans stored with valid offsets, English only, a stage users can skip,
the JSON export, `atlas techniques summary` and `atlas profile` (real databases, real models, real processes)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from databases import copy_database, new_database
from influence_atlas.errors import AtlasError
from influence_atlas.export import export_dict
from influence_atlas.extract.techniques import EXTRACTOR, TECHNIQUES
from influence_atlas.pipeline import analysis_version, analyze, check_skip, ingest
from influence_atlas.versions import technique_status
from influence_atlas.store import open_store
from influence_atlas.technique_summary import source_of, summarize_techniques

ATLAS = [sys.executable, "-m", "influence_atlas"]
SHORT_SEED = "002_d19142e7eadac636.txt"
FRENCH = (
    "Le groupe Wagner au Mali\n\n"
    "Selon des sources locales, les mercenaires russes du groupe Wagner ont été déployés à Bamako en décembre 2021. "
    "Des pages Facebook inauthentiques ont diffusé de fausses images pour présenter la Russie comme le sauveur du Sahel, "
    "tandis que la junte a suspendu RFI et France 24.\n"
)


def atlas(args, cwd, check=True):
    proc = subprocess.run(ATLAS + args, cwd=cwd, env=dict(os.environ, COLUMNS="200"), capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, seeds):
    """An English seed (the short one) and a French article, as files."""
    folder = tmp_path_factory.mktemp("corpus")
    (folder / SHORT_SEED).write_text((seeds / SHORT_SEED).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "wagner_fr.txt").write_text(FRENCH, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def analysed(corpus, tmp_path_factory):
    """The corpus ingested and analysed once with every stage: (db value, AnalyzeReport)."""
    db = new_database(tmp_path_factory.mktemp("analysed"))
    store = open_store(db)
    try:
        ingest(store, [corpus])
        report = analyze(store)
    finally:
        store.close()
    return db, report


def _docs(store):
    return {d.name: d for d in store.documents()}


def test_english_documents_get_technique_spans_that_point_into_the_stored_text(analysed):
    db, report = analysed
    store = open_store(db)
    try:
        doc = _docs(store)[SHORT_SEED]
        hits = store.techniques(doc.id)
        assert hits and report.techniques == len(store.techniques())
        for h in hits:
            assert doc.text[h.start:h.end] == h.text and h.text.strip()
            assert h.technique in TECHNIQUES and 0 < h.score <= 1 and h.extractor == EXTRACTOR
        assert [(h.start, h.end, h.technique) for h in hits] == sorted((h.start, h.end, h.technique) for h in hits)
        assert technique_status(doc.language, store.document_metadata([doc.id])[0]["analysis_version"]) == "analysed"
    finally:
        store.close()


def test_french_documents_get_no_technique_labels_and_say_why(analysed):
    db, report = analysed
    store = open_store(db)
    try:
        doc = _docs(store)["wagner_fr.txt"]
        assert doc.language == "fr"
        assert store.techniques(doc.id) == []
        assert store.ttps(doc.id), "DISARM cues are bilingual: the French text still yields DISARM techniques"
        assert report.techniques_unsupported == {"fr": 1}
        version = store.document_metadata([doc.id])[0]["analysis_version"]
        assert technique_status(doc.language, version) == "unsupported_language"
    finally:
        store.close()


def test_document_view_says_why_a_french_document_has_no_techniques(analysed):
    from influence_atlas.web import data

    store = open_store(analysed[0])
    try:
        docs = _docs(store)
        corpus = data.Corpus(store)
        french = data.document_view(corpus, docs["wagner_fr.txt"].id)
        english = data.document_view(corpus, docs[SHORT_SEED].id)
    finally:
        store.close()
    assert french["techniques"] == [] and french["techniques_status"]["status"] == "unsupported_language"
    assert "English" in french["techniques_status"]["text"] and french["ttps"]
    assert english["techniques_status"]["status"] == "analysed" and english["techniques"]


def test_skipping_techniques_changes_the_version_and_toggling_it_reanalyses(analysed, tmp_path):
    db = copy_database(analysed[0], tmp_path)
    store = open_store(db)
    try:
        assert analysis_version(skip=["techniques"]) != analysis_version()
        assert store.count_to_analyze(analysis_version()) == 0
        assert store.count_to_analyze(analysis_version(skip=["techniques"])) == 2
        report = analyze(store, skip=["techniques"])
        assert report.documents == 2 and report.techniques == 0 and report.techniques_unsupported == {}
        assert store.techniques() == [] and store.mentions() and store.ttps()
        doc = _docs(store)[SHORT_SEED]
        assert technique_status(doc.language, store.document_metadata([doc.id])[0]["analysis_version"]) == "skipped"
        assert analyze(store, skip=["techniques"]).documents == 0, "same stages: nothing to redo"
        back = analyze(store)
        assert back.documents == 2 and store.techniques(doc.id)
    finally:
        store.close()
    with pytest.raises(AtlasError, match="techniques"):
        check_skip(["claims"])


def test_json_export_follows_the_contract_for_techniques(analysed):
    store = open_store(analysed[0])
    try:
        data = export_dict(store)
        texts = {d.id: d.text for d in store.documents()}
    finally:
        store.close()
    rows = data["techniques"]
    assert rows
    for r in rows:
        assert {"doc", "technique", "start", "end", "text", "score"} <= set(r)
        assert texts[r["doc"]][r["start"]:r["end"]] == r["text"]
    assert rows == sorted(rows, key=lambda x: (x["doc"], x["start"], x["end"], x["technique"]))
    status = {d["name"]: d["techniques_status"] for d in data["documents"]}
    assert status == {SHORT_SEED: "analysed", "wagner_fr.txt": "unsupported_language"}


def test_summary_counts_per_document_and_per_source(analysed):
    store = open_store(analysed[0])
    try:
        by_doc = summarize_techniques(store, "document")
        techniques = store.techniques()
        ttps = store.ttps()
        with pytest.raises(AtlasError, match="document, source"):
            summarize_techniques(store, "outlet")
    finally:
        store.close()
    rows = {r.label: r for r in by_doc.rows}
    assert list(rows) == [SHORT_SEED, "wagner_fr.txt"]
    assert sum(rows[SHORT_SEED].techniques.values()) == len(techniques)
    assert sum(r.ttps[k] for r in rows.values() for k in r.ttps) == len(ttps)
    assert rows["wagner_fr.txt"].status_text() == "unsupported_language" and not rows["wagner_fr.txt"].techniques
    assert any("English" in n and "fr 1" in n for n in by_doc.notes())
    assert by_doc.totals.documents == 2 and by_doc.totals.status_text() == "analysed:1;unsupported_language:1"
    assert source_of({"outlet": "RT", "url": "https://www.x.org/a", "name": "a.txt"}) == "RT"
    assert source_of({"outlet": None, "url": "https://www.example.org/a", "name": "a.txt"}) == "example.org"
    assert source_of({"outlet": None, "url": None, "name": "a.txt"}) == "a.txt"


def test_summary_command_prints_a_table_csv_and_json(analysed, tmp_path):
    db = analysed[0]
    table = atlas(["techniques", "summary", "--db", db], tmp_path).stdout
    assert SHORT_SEED in table and "wagner_fr.txt" in table and "no: language" in table and "English" in table
    assert "Loaded_Language" in table or "Name_Calling" in table or "Appeal_to" in table
    rows = list(csv.DictReader(io.StringIO(atlas(["techniques", "summary", "--db", db, "--format", "csv"], tmp_path).stdout)))
    assert [r["document"] for r in rows] == [SHORT_SEED, "wagner_fr.txt"]
    assert set(TECHNIQUES) <= set(rows[0]) and int(rows[0]["techniques_total"]) == sum(int(rows[0][t]) for t in TECHNIQUES) > 0
    assert rows[1]["techniques_status"] == "unsupported_language" and rows[1]["techniques_total"] == "0"
    assert int(rows[1]["ttps_total"]) > 0
    atlas(["techniques", "summary", "--db", db, "--format", "json", "--by", "source", "--out", "s.json"], tmp_path)
    body = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert body["group"] == "source" and len(body["rows"]) == 2 and body["totals"]["documents"] == 2
    assert all(body["disarm"][k] for r in body["rows"] for k in r["ttps"])
    bad = atlas(["techniques", "summary", "--db", db, "--format", "xml"], tmp_path, check=False)
    assert bad.returncode == 2 and "--format" in bad.stderr


def test_analyze_command_skips_techniques_and_says_so(corpus, tmp_path):
    db = new_database(tmp_path)
    atlas(["ingest", str(corpus / "wagner_fr.txt"), "--db", db], tmp_path)
    skipped = atlas(["analyze", "--db", db, "--skip", "techniques"], tmp_path)
    assert "persuasion techniques skipped" in skipped.stdout and "English" not in skipped.stderr
    full = atlas(["analyze", "--db", db], tmp_path)
    assert full.stdout.startswith("analysed 1 document(s)"), "toggling the stage analyses the document again"
    assert "English" in full.stderr and "1 in fr" in full.stderr
    summary = atlas(["techniques", "summary", "--db", db, "--format", "json"], tmp_path).stdout
    assert json.loads(summary)["rows"][0]["techniques_status"] == {"unsupported_language": 1}
    bad = atlas(["analyze", "--db", db, "--skip", "events"], tmp_path, check=False)
    assert bad.returncode == 2 and "can be skipped are techniques" in bad.stderr


def test_profile_lists_a_documents_techniques(analysed, tmp_path):
    out = atlas(["profile", SHORT_SEED, "--db", analysed[0]], tmp_path).stdout
    assert "persuasion techniques" in out and any(t in out for t in TECHNIQUES)
    fr = atlas(["profile", "wagner_fr.txt", "--db", analysed[0]], tmp_path).stdout
    assert "trained on English" in fr and "DISARM" in fr


@pytest.mark.slow
def test_ray_engine_skips_techniques_through_the_same_analysis(corpus, tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'influence-atlas[ray]')")
    from influence_atlas.ray_engine import analyze_with_ray

    store = open_store(new_database(tmp_path))
    try:
        ingest(store, [corpus / SHORT_SEED])
        report = analyze_with_ray(store, workers=1, skip=["techniques"])
        assert report.documents == 1 and report.techniques == 0 and store.techniques() == [] and store.mentions()
        assert store.count_to_analyze(analysis_version(skip=["techniques"])) == 0
        assert store.count_to_analyze(analysis_version()) == 1, "the default stages would analyse it again"
    finally:
        store.close()
