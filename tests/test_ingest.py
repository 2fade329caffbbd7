"""Ingest of every supported format, idempotency, and one test per kind of bad input."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from influence_atlas.pipeline import ingest
from influence_atlas.store.schema import documents
from influence_atlas.text.readers import ReadOptions

ARTICLE = (
    "Junta Signs Deal With Moscow\n\n"
    "By Awa Diallo and John Smith\n\n"
    "Published on March 3, 2023\n\n"
    "The transitional government of Mali signed a security agreement with Russia on Monday,\n"
    "officials said. Critics warned that the deal would deepen the country's isolation.\n"
)


def _count(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(documents)).scalar()


def _fts_count(store) -> int:
    with store.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM documents_fts").scalar()


def test_text_file_with_metadata(store, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    report = ingest(store, [tmp_path / "a.txt"])
    assert report.added == ["a.txt"] and not report.failed
    (doc,) = store.documents()
    assert doc.title == "Junta Signs Deal With Moscow"
    assert doc.authors == ("Awa Diallo", "John Smith")
    assert doc.published == "2023-03-03" and not doc.published_estimated
    assert doc.language == "en"
    assert "with Russia on Monday, officials said." in doc.text


def test_same_content_again_is_unchanged(store, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "copy.md").write_text(ARTICLE.replace(",\n", ", \n"), encoding="utf-8")
    first = ingest(store, [tmp_path / "a.txt"])
    second = ingest(store, [tmp_path])
    assert first.added == ["a.txt"]
    assert second.added == [] and sorted(second.unchanged) == ["a.txt", "copy.md"]
    assert _count(store) == 1 and _fts_count(store) == 1


def test_estimated_date_is_flagged(store, tmp_path):
    (tmp_path / "b.txt").write_text("Mali expelled the ambassador in January 2022 and then in 2023 more.", encoding="utf-8")
    ingest(store, [tmp_path])
    (doc,) = store.documents()
    assert doc.published == "2023" and doc.published_estimated


def test_html_main_text_and_metadata(store, tmp_path):
    body = " ".join(["The junta in Niamey expelled the Danish envoy after weeks of tension."] * 6)
    html = f"""<html><head><title>Envoy expelled | Example News</title>
    <meta name="author" content="Jane Reporter"><meta property="article:published_time" content="2022-02-01">
    </head><body><nav><a href="#main">Skip to main content</a> Home | World | Africa</nav>
    <article><h1>Envoy expelled</h1><p>{body}</p><p>{body}</p></article>
    <footer>Cookie settings. Share on Facebook.</footer></body></html>"""
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    report = ingest(store, [tmp_path])
    assert report.added == ["page.html"], report.failed
    (doc,) = store.documents()
    assert doc.published == "2022-02-01"
    assert doc.title and "Envoy expelled" in doc.title
    assert "expelled the Danish envoy" in doc.text and "Home | World" not in doc.text


def test_pdf_text_layer(store, tmp_path):
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, "Wagner Group fighters arrived in Mali in December 2021, according to diplomats.")
    pdf.set_title("Arrival report")
    pdf.output(str(tmp_path / "r.pdf"))
    report = ingest(store, [tmp_path])
    assert report.added == ["r.pdf"], report.failed
    (doc,) = store.documents()
    assert "arrived in Mali in December 2021" in doc.text and doc.title == "Arrival report"


def test_jsonl_and_csv_one_document_per_record(store, tmp_path):
    rows = [
        {"id": "p1", "text": "Russia delivered two helicopters to Mali in 2022.", "title": "Helicopters", "author": "A. B", "published": "2022-03-31", "outlet": "Wire"},
        {"id": "p2", "text": "La junte a accueilli des instructeurs russes en janvier 2022, selon RFI."},
    ]
    (tmp_path / "posts.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    (tmp_path / "items.csv").write_text('body,headline\n"Niger left ECOWAS, the junta said.",Exit\n', encoding="utf-8")
    report = ingest(store, [tmp_path / "posts.jsonl"])
    assert sorted(report.added) == ["posts.jsonl#p1", "posts.jsonl#p2"]
    report = ingest(store, [tmp_path / "items.csv"], ReadOptions(text_field="body", title_field="headline"))
    assert report.added == ["items.csv#2"], report.failed
    docs = {d.name: d for d in store.documents()}
    assert docs["posts.jsonl#p1"].published == "2022-03-31" and docs["posts.jsonl#p1"].outlet == "Wire"
    assert docs["posts.jsonl#p2"].language == "fr"
    assert docs["items.csv#2"].title == "Exit"


# --- bad input: one clear line naming the file, the batch goes on, nothing half-written ------------

def _ingest_with_good(store, tmp_path, bad_name: str, content: bytes | None):
    good = tmp_path / "good.txt"
    good.write_text(ARTICLE, encoding="utf-8")
    bad = tmp_path / bad_name
    if content is not None:
        bad.write_bytes(content)
    report = ingest(store, [bad, good])
    assert report.added == ["good.txt"], "the rest of the batch must go on"
    assert len(report.failed) == 1
    failure = report.failed[0]
    assert bad_name in str(failure) and failure.reason
    assert _count(store) == 1 and _fts_count(store) == 1
    return failure.reason


def test_empty_file(store, tmp_path):
    assert "empty" in _ingest_with_good(store, tmp_path, "empty.txt", b"")


def test_whitespace_only_file(store, tmp_path):
    assert "no text" in _ingest_with_good(store, tmp_path, "blank.txt", b"  \n\n \t\n")


def test_binary_file_named_txt(store, tmp_path):
    assert "binary" in _ingest_with_good(store, tmp_path, "blob.txt", bytes(range(256)) * 40)


def test_invalid_utf8(store, tmp_path):
    reason = _ingest_with_good(store, tmp_path, "latin.txt", "Le général a déclaré à Bamako.".encode("latin-1"))
    assert "UTF-8" in reason and "--encoding" in reason


def test_invalid_utf8_with_fallback_encoding(store, tmp_path):
    (tmp_path / "latin.txt").write_bytes("Le général a déclaré à Bamako que la junte resterait.".encode("cp1252"))
    report = ingest(store, [tmp_path], ReadOptions(encoding="cp1252"))
    assert report.added == ["latin.txt"]
    assert "général" in store.documents()[0].text


def test_corrupt_pdf(store, tmp_path):
    assert "corrupt PDF" in _ingest_with_good(store, tmp_path, "broken.pdf", b"%PDF-1.4\n1 0 obj <<< garbage \x00\x01 endobj trailer")


def test_pdf_without_text_layer(store, tmp_path):
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    data = bytes(pdf.output())
    assert "no text layer" in _ingest_with_good(store, tmp_path, "scan.pdf", data)


def test_file_over_size_limit(store, tmp_path):
    big = tmp_path / "huge.txt"
    with big.open("wb") as fh:
        line = b"The junta said the situation was under control. " * 20 + b"\n"
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(line)
    assert "limit" in _ingest_with_good(store, tmp_path, "huge.txt", None)


def test_html_without_main_text(store, tmp_path):
    reason = _ingest_with_good(store, tmp_path, "nav.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
    assert "no main text" in reason


def test_csv_with_malformed_row(store, tmp_path):
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "rows.csv").write_text(
        'id,text\n1,"Mali left the G5 Sahel in May 2022."\n2,"extra",field,here\n3,"Burkina Faso expelled French troops."\n',
        encoding="utf-8",
    )
    report = ingest(store, [tmp_path])
    assert sorted(report.added) == ["good.txt", "rows.csv#1", "rows.csv#3"]
    (failure,) = report.failed
    assert "rows.csv row 3" in str(failure) and "fields" in failure.reason


def test_jsonl_with_malformed_line(store, tmp_path):
    (tmp_path / "p.jsonl").write_text('{"text": "Chad expelled the German ambassador."}\n{not json\n{"title": "no text"}\n', encoding="utf-8")
    report = ingest(store, [tmp_path])
    assert report.added == ["p.jsonl#1"]
    assert sorted(str(f).split(": ")[0].split(" ", 1)[1] for f in report.failed) == ["line 2", "line 3"]


def test_path_that_does_not_exist(store, tmp_path):
    assert "no such file" in _ingest_with_good(store, tmp_path, "missing.txt", None)


def test_failed_transaction_leaves_nothing(store, tmp_path, monkeypatch):
    """A crash between the document row and its full-text row must roll both back."""
    from influence_atlas.errors import StoreError
    from influence_atlas.store import db as dbmod

    original = dbmod.text

    def exploding(sql):
        if "documents_fts" in str(sql):
            raise StoreError("simulated crash")
        return original(sql)

    monkeypatch.setattr(dbmod, "text", exploding)
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    with pytest.raises(StoreError):
        ingest(store, [tmp_path])
    monkeypatch.setattr(dbmod, "text", original)
    assert _count(store) == 0


def test_markdown_markers_are_removed(store, tmp_path):
    (tmp_path / "n.md").write_text(
        "# Wagner in **Mali**\n\nA [report](https://example.org/r) says fighters *arrived* in 2021.\n\n- first point\n",
        encoding="utf-8",
    )
    ingest(store, [tmp_path])
    (doc,) = store.documents()
    assert doc.title == "Wagner in Mali"
    assert "A report says fighters arrived in 2021." in doc.text and "https://" not in doc.text
