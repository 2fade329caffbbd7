"""Read files of every supported format into raw sources (text plus metadata), one per document."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..errors import InputError

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl", ".ndjson", ".csv")
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DEFAULT_MAX_CHARS = 5_000_000
# Fewer words than this after extraction is a menu or an empty shell, not an article.
MIN_HTML_WORDS = 8


@dataclass(frozen=True, slots=True)
class Source:
    """Raw text of one document as read from disk, before normalisation."""

    name: str
    path: str
    text: str
    meta: dict = field(default_factory=dict)
    # 'plain' texts get title and byline detection; structured sources bring their own.
    kind: str = "plain"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read inputs: record field names, size limit, fallback encoding."""

    text_field: str = "text"
    title_field: str = "title"
    url_field: str = "url"
    author_field: str = "author"
    published_field: str = "published"
    outlet_field: str = "outlet"
    id_field: str = "id"
    max_bytes: int = DEFAULT_MAX_BYTES
    encoding: str | None = None
    # Characters of text one document may hold once extracted (a small PDF or archive can expand far past its size).
    max_chars: int = DEFAULT_MAX_CHARS


def read_utf8_file(path: str | Path, kind: str = "a TSV file") -> str:
    """Return the UTF-8 text of one input file (a benchmark TSV, a labels file); InputError names it and says why not."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(p), "file not found") from None
    except IsADirectoryError:
        raise InputError(str(p), f"is a folder, not {kind}") from None
    except UnicodeDecodeError as exc:
        raise InputError(str(p), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(str(p), f"cannot be read ({exc.strerror})") from None


def iter_files(paths: list[str | Path]) -> Iterator[Path | InputError]:
    """Yield supported files under the given files and folders (recursively, sorted), or an error per bad path."""
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            yield InputError(str(raw), "no such file or folder")
        elif path.is_dir():
            root = path.resolve()
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED
                           and not _hidden(p, path) and _inside(p, root))
            if not found:
                yield InputError(str(raw), f"folder holds no supported files ({', '.join(SUPPORTED)})")
            yield from found
        elif path.suffix.lower() not in SUPPORTED:
            yield InputError(str(path), f"unsupported file type '{path.suffix or '(none)'}'; supported: {', '.join(SUPPORTED)}")
        else:
            yield path


def _inside(path: Path, root: Path) -> bool:
    """Return True when path, links resolved, stays inside root: a folder's symlink to a file elsewhere (a system
    file, another user's folder) is not read."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a link loop
        return False


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def read_sources(path: Path, options: ReadOptions = ReadOptions()) -> Iterator[Source | InputError]:
    """Yield the documents in one file; a bad file or record yields an InputError and reading goes on."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        yield InputError(str(path), f"cannot read: {exc.strerror or exc}")
        return
    if size == 0:
        yield InputError(str(path), "empty file")
        return
    if size > options.max_bytes:
        yield InputError(
            str(path),
            f"file is {size / 2**20:.1f} MB, over the {options.max_bytes / 2**20:g} MB limit; "
            "split it into smaller documents or raise --max-mb",
        )
        return
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
        if suffix == ".pdf":
            yield _read_pdf(path, data, options.max_chars)
        elif suffix in (".html", ".htm"):
            yield _read_html(path, _decode(path, data, options))
        elif suffix in (".jsonl", ".ndjson"):
            yield from _read_jsonl(path, _decode(path, data, options), options)
        elif suffix == ".csv":
            yield from _read_csv(path, _decode(path, data, options), options)
        elif suffix in (".md", ".markdown"):
            yield Source(name=path.name, path=str(path), text=markdown_to_text(_decode(path, data, options)), kind="plain")
        else:
            yield Source(name=path.name, path=str(path), text=_decode(path, data, options), kind="plain")
    except InputError as exc:
        yield exc
    except OSError as exc:
        yield InputError(str(path), f"cannot read: {exc.strerror or exc}")


def _decode(path: Path, data: bytes, options: ReadOptions) -> str:
    """Decode bytes as UTF-8, UTF-16/32 with a byte-order mark, or the user's fallback encoding; refuse binary data."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom) or (options.encoding or "").lower().replace("_", "-").startswith(codec):
            try:
                return data.decode(codec if data.startswith(bom) else options.encoding)
            except (UnicodeDecodeError, LookupError) as exc:
                raise InputError(str(path), f"cannot decode as {codec}: {exc}") from exc
    head = data[:8192]
    if b"\x00" in head:
        raise InputError(str(path), "binary data, not text (contains NUL bytes)")
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if head and controls / len(head) > 0.05:
        raise InputError(str(path), "binary data, not text (too many control bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if options.encoding:
            try:
                return data.decode(options.encoding)
            except (UnicodeDecodeError, LookupError) as exc2:
                raise InputError(str(path), f"cannot decode as {options.encoding}: {exc2}") from exc2
        raise InputError(
            str(path),
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "re-save it as UTF-8 or pass --encoding (e.g. --encoding cp1252)",
        ) from exc


_MD_RULES = [
    (re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+(?=\S)|\d+[.)]\s+)", re.M), ""),   # headings, quotes, list markers
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),                                   # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),                                 # links keep their text
    # Emphasis spans are bounded (at most 200 characters, within a line) so that unmatched markers cost
    # linear time, not a scan to the end of the line from each one.
    (re.compile(r"(\*\*|__)(?=\S)([^\n]{1,%d}?)(?<=\S)\1" % 200), r"\2"),                        # bold
    (re.compile(r"(?<![\w*])([*_])(?=\S)([^\n]{1,%d}?)(?<=\S)\1(?![\w*])" % 200), r"\2"),         # italics
    (re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$|^```.*$", re.M), ""),                    # rules and code fences
    (re.compile(r"`([^`]+)`"), r"\1"),
]


def markdown_to_text(markdown: str) -> str:
    """Return the readable text of Markdown: markers, link targets and images removed."""
    for pattern, repl in _MD_RULES:
        markdown = pattern.sub(repl, markdown)
    return markdown


def _read_pdf(path: Path, data: bytes, max_chars: int) -> Source:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not data.lstrip().startswith(b"%PDF"):
        raise InputError(str(path), "corrupt PDF: no PDF header")
    try:
        reader = PdfReader(io.BytesIO(data))
        pages, chars = [], 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            chars += len(pages[-1])
            if chars > max_chars:
                raise InputError(str(path), f"PDF expands to over {max_chars:,} characters of text (a decompression bomb, "
                                            "or a book): split it into smaller documents")
        info = reader.metadata or {}
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise InputError(str(path), f"corrupt PDF: {exc.__class__.__name__}: {exc}") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise InputError(str(path), f"PDF has no text layer ({len(pages)} page(s), scanned images?); run OCR first, e.g. ocrmypdf")
    meta = {}
    title = info.get("/Title") if hasattr(info, "get") else None
    author = info.get("/Author") if hasattr(info, "get") else None
    if title and str(title).strip():
        meta["title"] = str(title).strip()
    if author and str(author).strip():
        meta["authors"] = [str(author).strip()]
    return Source(name=path.name, path=str(path), text=text, meta=meta, kind="plain")


_HTML_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|&#(?:0*(?:[0-8]|1[1-2]|1[4-9]|2\d|3[01]|127)|"
                            r"[xX]0*(?:[0-8]|[bBcC]|1[0-9a-fA-F]|7[fF]));")


# A tag whose attributes run past this many characters keeps only its name (text is never in attributes).
_MAX_ATTRIBUTES = 2000
_TAG = re.compile(r"<([a-zA-Z][\w:-]*)([^<>]*)>")
# Twenty or more identical tags opened (or closed) in a row become one: the parser gives up on trees deeper than 256.
_NESTED_OPEN = re.compile(r"(<([a-zA-Z][\w:-]*)\b[^<>]{0,200}>\s*)(?:<\2\b[^<>]{0,200}>\s*){19,}")
_NESTED_CLOSE = re.compile(r"(</([a-zA-Z][\w:-]*)>\s*)(?:</\2>\s*){19,}")


def _tame_html(html: str) -> str:
    """Return html with what makes parsers slow or give up removed, in linear time: huge attribute lists and
    deep runs of the same tag."""
    html = _TAG.sub(lambda m: f"<{m.group(1)}>" if len(m.group(2)) > _MAX_ATTRIBUTES else m.group(0), html)
    html = _NESTED_OPEN.sub(lambda m: m.group(1), html)
    return _NESTED_CLOSE.sub(lambda m: m.group(1), html)


def _read_html(path: Path, html: str) -> Source:
    import logging

    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    # Control characters are not allowed in XML: lxml drops the whole tree over one raw or escaped (&#1;) control.
    html = _HTML_CONTROLS.sub(" ", html)
    html = _tame_html(html)
    result = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, favor_precision=True)
    if result is None:
        raise InputError(str(path), "HTML page has no main text to extract")
    data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    text = data.get("text") or ""
    if len(text.split()) < MIN_HTML_WORDS:
        raise InputError(str(path), f"HTML page has no main text to extract (found {len(text.split())} words of navigation or boilerplate)")
    meta = {}
    if data.get("title"):
        meta["title"] = data["title"]
    if data.get("author"):
        meta["authors"] = [a.strip() for a in str(data["author"]).split(";") if a.strip()]
    if data.get("date"):
        meta["published"] = str(data["date"])
    if data.get("url"):
        meta["url"] = data["url"]
    if data.get("sitename"):
        meta["outlet"] = data["sitename"]
    return Source(name=path.name, path=str(path), text=text, meta=meta, kind="structured")


def _record_source(path: Path, where: str, index: int, record: dict, options: ReadOptions) -> Source:
    text = record.get(options.text_field)
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{path} {where}", f"no text in field '{options.text_field}' (set --text-field)")
    meta = {}
    for key, fld in (("title", options.title_field), ("url", options.url_field), ("published", options.published_field), ("outlet", options.outlet_field)):
        value = record.get(fld)
        if value not in (None, ""):
            meta[key] = str(value).strip()
    author = record.get(options.author_field)
    if isinstance(author, list):
        meta["authors"] = [str(a).strip() for a in author if str(a).strip()]
    elif author not in (None, ""):
        meta["authors"] = [a.strip() for a in str(author).replace(" and ", ";").split(";") if a.strip()]
    for extra in ("genre", "language"):
        if record.get(extra):
            meta[extra] = str(record[extra])
    rid = record.get(options.id_field)
    name = f"{path.name}#{rid}" if rid not in (None, "") else f"{path.name}#{index}"
    return Source(name=name, path=str(path), text=text, meta=meta, kind="structured")


# Public for engines that read records themselves (the Ray engine's Parquet/JSONL inputs).
record_source = _record_source


def _read_jsonl(path: Path, content: str, options: ReadOptions) -> Iterator[Source | InputError]:
    count = 0
    # JSON Lines end at "\n" only: str.splitlines() would also cut at U+2028, U+0085 and others, which JSON strings
    # may hold raw.
    for lineno, line in enumerate(content.split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputError(f"{path} line {lineno}", f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except (RecursionError, ValueError) as exc:  # nesting too deep, or an integer too long to convert
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
            yield InputError(f"{path} line {lineno}", f"not readable JSON ({reason})")
            continue
        if not isinstance(record, dict):
            yield InputError(f"{path} line {lineno}", "not a JSON object")
            continue
        try:
            count += 1
            yield _record_source(path, f"line {lineno}", lineno, record, options)
        except InputError as exc:
            yield exc
    if count == 0:
        yield InputError(str(path), "no records")


def _read_csv(path: Path, content: str, options: ReadOptions) -> Iterator[Source | InputError]:
    csv.field_size_limit(max(options.max_bytes, 131072))
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        yield InputError(str(path), f"no CSV header ({exc})" if str(exc) else "no CSV header")
        return
    header = [h.strip() for h in header]
    if options.text_field not in header:
        yield InputError(str(path), f"no '{options.text_field}' column (columns: {', '.join(header)}); set --text-field")
        return
    row_no = 1
    records = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            if records == 0:
                yield InputError(str(path), "no records: the CSV has a header and nothing else")
            break
        except csv.Error as exc:
            row_no += 1
            yield InputError(f"{path} row {row_no}", f"malformed CSV: {exc}")
            continue
        row_no += 1
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield InputError(f"{path} row {row_no}", f"has {len(row)} fields, the header has {len(header)}")
            continue
        records += 1
        try:
            yield _record_source(path, f"row {row_no}", row_no, dict(zip(header, row)), options)
        except InputError as exc:
            yield exc
