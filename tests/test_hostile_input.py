"""One bad input never stops a batch: each failure is named once, the rest is stored and analysed, exit codes tell
"some inputs failed" (1) from "the tool broke" (2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from influence_atlas.pipeline import analyze, ingest

GOOD = "Russia sent 450 military trainers to Burkina Faso in March 2022, officials said."


def _hostile_folder(tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "iso-date.txt").write_text("The attack took place on 2021-05-06 near Gao, witnesses said.\n")
    (folder / "surrogates.jsonl").write_text(
        '{"id": "a", "text": "broken \\ud800 escape in a text about Mali"}\n'
        '{"id": "\\udc00", "title": "\\ud800", "author": "\\ud800", "text": "A record with broken metadata about Niger."}\n'
        '{"id": "b", "text": "A good record about Wagner in Mali."}\n')
    (folder / "nested.jsonl").write_text("[" * 5000 + "]" * 5000 + '\n{"id": "c", "text": "Good text after deep nesting."}\n')
    (folder / "bigint.jsonl").write_text('{"id": ' + "9" * 5000 + ', "text": "x"}\n{"id": "d", "text": "Good text about Chad."}\n')
    (folder / os.fsdecode(b"name-not-utf8-\xff.txt")).write_text("A file whose name is not UTF-8, about Burkina Faso.\n")
    (folder / "good.txt").write_text(GOOD + "\n")
    return folder


def test_hostile_files_fail_alone_and_good_records_are_kept(store, tmp_path):
    report = ingest(store, [_hostile_folder(tmp_path)])
    failed = sorted(str(f) for f in report.failed)
    assert len(failed) == 2, failed
    assert "nested.jsonl line 1" in failed[1] and "nested too deeply" in failed[1]
    assert "bigint.jsonl line 1" in failed[0] and "digits" in failed[0]
    assert len(report.added) == 8, report.added
    texts = {d.name: d for d in store.documents()}
    assert any("\ufffd" in d.text for d in texts.values())  # a lone surrogate became U+FFFD, the record kept
    assert any(name.startswith("name-not-utf8-") and "\\udcff" in name for name in texts)
    for doc in texts.values():
        doc.text.encode("utf-8")  # everything stored is valid Unicode
        doc.name.encode("utf-8")


def test_an_analysis_bug_on_one_document_fails_that_document_only(store, tmp_path, monkeypatch):
    import influence_atlas.pipeline as pipeline

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD + "\n")
    (folder / "b.txt").write_text("TRIGGER-FAULT. Wagner fighters deployed to Mali in December 2021.\n")
    (folder / "c.txt").write_text("Mali's junta suspended RFI and France 24 in March 2022, the government said.\n")
    ingest(store, [folder])
    real = pipeline.find_claims

    def faulty(doc_id, text, *args, **kwargs):  # fault injection: a stage that raises on one document's content
        if "TRIGGER-FAULT" in text:
            raise TypeError("expected string or bytes-like object, got 'list'")
        return real(doc_id, text, *args, **kwargs)

    monkeypatch.setattr(pipeline, "find_claims", faulty)
    report = analyze(store)
    assert report.documents == 2
    assert len(report.failed) == 1 and report.failed[0].startswith("b.txt: unexpected TypeError")
    monkeypatch.setattr(pipeline, "find_claims", real)
    again = analyze(store)  # the failed document is retried by the next run
    assert again.documents == 1 and not again.failed


DRIVER = """
import sys
import influence_atlas.pipeline as pipeline
from influence_atlas import cli
mode = sys.argv.pop(1)
def faulty(*args, **kwargs):
    raise TypeError("injected fault")
if mode == "stage":
    pipeline.find_claims = faulty
elif mode == "tool":
    pipeline.analysis_version = faulty
cli.run()
"""


def _atlas(tmp_path, mode, *args):
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run([sys.executable, "-c", DRIVER, mode, *args], cwd=tmp_path, env=env, capture_output=True, text=True)


def test_exit_codes_and_summary_always_printed(tmp_path, atlas_db):
    folder = _hostile_folder(tmp_path)
    out = _atlas(tmp_path, "none", "ingest", "--db", atlas_db, str(folder))
    assert out.returncode == 1, out.stderr
    assert "ingested 8 new, 0 unchanged, 2 failed" in out.stdout
    assert out.stderr.count("failed:") == 2 and "Traceback" not in out.stderr
    out = _atlas(tmp_path, "stage", "analyze", "--db", atlas_db)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.count("unexpected TypeError: injected fault") == 8
    assert "analysed 0 document(s)" in out.stdout
    out = _atlas(tmp_path, "tool", "analyze", "--db", atlas_db)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "internal error" in out.stderr and "--debug" in out.stderr
    out = _atlas(tmp_path, "tool", "--debug", "analyze", "--db", atlas_db, "--all")
    assert out.returncode != 0 and "Traceback" in out.stderr and "injected fault" in out.stderr


def test_hard_wrapped_lines_and_unmatched_markdown_markers():
    # Their cost is measured in bench/bench_ingest.py; here, what they give.
    from influence_atlas.text.normalise import normalise_text
    from influence_atlas.text.readers import markdown_to_text

    wrapped = ["word " * 10 + "and" for _ in range(4000)]
    joined = normalise_text("\n".join(wrapped))
    assert "\n" not in joined and joined.count(" and word ") == 3999
    assert markdown_to_text("**x " * 4000) == "**x " * 4000
    assert markdown_to_text("a **bold** and _it_ word") == "a bold and it word"


def test_symlinks_out_of_the_folder_are_not_read(store, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("A private file outside the ingested folder, about Mali.\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "inside.txt").write_text(GOOD + "\n")
    (folder / "link.txt").symlink_to(outside)
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    report = ingest(store, [folder])
    assert report.added == ["inside.txt"]


def test_text_over_the_character_limit_fails_alone(store, tmp_path):
    from influence_atlas.text.readers import ReadOptions

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "huge.txt").write_text("Wagner in Mali. " * 1000)
    (folder / "small.txt").write_text(GOOD + "\n")
    report = ingest(store, [folder], ReadOptions(max_chars=5000))
    assert report.added == ["small.txt"]
    assert len(report.failed) == 1 and "huge.txt" in str(report.failed[0]) and "over the 5,000 limit" in str(report.failed[0])


def test_pdf_that_expands_past_the_limit_stops_early(store, tmp_path):
    import fpdf

    from influence_atlas.text.readers import ReadOptions

    pdf = fpdf.FPDF()
    pdf.set_font("Helvetica", size=8)
    for _ in range(6):
        pdf.add_page()
        pdf.multi_cell(0, 4, "Russian trainers reached Ouagadougou in March 2022. " * 40)
    pdf.output(str(tmp_path / "expands.pdf"))
    report = ingest(store, [tmp_path / "expands.pdf"], ReadOptions(max_chars=4000))
    assert not report.added and len(report.failed) == 1
    assert "PDF expands to over 4,000 characters" in str(report.failed[0])


def test_low_level_oddities_are_read_not_refused(store, tmp_path):
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "utf16.txt").write_bytes("Wagner fighters arrived in Mali, officials said.\n".encode("utf-16"))
    (folder / "utf32.txt").write_bytes("Russian instructors reached Bangui in December 2020.\n".encode("utf-32"))
    (folder / "separators.jsonl").write_text('{"id": "s", "text": "Line one\u2028still the same record\u0085about Niger."}\n',
                                            encoding="utf-8")
    (folder / "escape-title.jsonl").write_text('{"id": "t", "title": "Title \\u001b[31mred\\u001b[0m", "text": "A text about Chad."}\n')
    body = "<p>" + "The junta in Bamako suspended two French broadcasters after reports of abuses. " * 4 + "</p>"
    (folder / "control-entity.html").write_text(f"<html><head><title>T</title></head><body><article>{body}&#1;{body}</article></body></html>")
    (folder / "header-only.csv").write_text("id,text\n")
    report = ingest(store, [folder])
    assert sorted(report.added) == ["control-entity.html", "escape-title.jsonl#t", "separators.jsonl#s", "utf16.txt", "utf32.txt"], \
        (report.added, [str(f) for f in report.failed])
    assert len(report.failed) == 1 and "header-only.csv" in str(report.failed[0]) and "no records" in str(report.failed[0])
    docs = {d.name: d for d in store.documents()}
    assert "\x1b" not in docs["escape-title.jsonl#t"].title and "red" in docs["escape-title.jsonl#t"].title
    assert "about Niger" in docs["separators.jsonl#s"].text


def test_coordination_refuses_out_of_range_settings_and_nested_columns(tmp_path):
    import math

    import polars as pl
    import pytest

    from influence_atlas.coordination import CoordinationSettings, PostColumns, detect_coordination, write_edges_csv
    from influence_atlas.errors import AtlasError

    posts = tmp_path / "posts.csv"
    posts.write_text("account,time,object\na,1,x\nb,2,x\na,3,y\nb,4,y\n")
    for bad in ({"window": 1e308}, {"window": -1.0}, {"window": math.nan}, {"resolution": math.nan}, {"resolution": -1.0},
                {"quantile": 0.0}, {"share": 2.0}, {"similarity": 1.5}, {"min_repeat": 0}):
        with pytest.raises(AtlasError, match="out of range"):
            detect_coordination(posts, PostColumns(), CoordinationSettings(**bad))
    nested = tmp_path / "nested.parquet"
    pl.DataFrame({"account": [["a"], ["b"]], "time": [1, 2], "object": [{"u": 1}, {"u": 1}]}).write_parquet(nested)
    with pytest.raises(AtlasError, match="lists or structs"):
        detect_coordination(nested, PostColumns(), CoordinationSettings(window=60))
    result = detect_coordination(posts, PostColumns(), CoordinationSettings(window=60))
    with pytest.raises(AtlasError, match="is a folder"):
        write_edges_csv(result.edges, tmp_path)


def test_html_attribute_and_nesting_bombs_are_read(store, tmp_path):
    body = "<p>" + "The junta in Bamako suspended two French broadcasters after reports of abuses. " * 4 + "</p>"
    attrs = " ".join(f'a{i}="x"' for i in range(40000))
    (tmp_path / "attributes.html").write_text(f"<html><body><div {attrs}>{body}</div><article>{body}</article></body></html>")
    (tmp_path / "nested.html").write_text("<html><body><article>" + "<div>" * 300 + body + "</div>" * 300 + "</article></body></html>")
    report = ingest(store, [tmp_path])
    assert sorted(report.added) == ["attributes.html", "nested.html"], [str(f) for f in report.failed]
    assert all("suspended two French broadcasters" in d.text for d in store.documents())
