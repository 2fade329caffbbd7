"""Document metadata read from the text itself: title, byline authors, publication date, language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from .wordfile import word_sections

METADATA_WORDS_FILE = Path(__file__).resolve().parent / "metadata.yaml"
_SECTIONS = ("months", "month_abbreviations", "day_first_suffixes", "month_first_suffixes", "year_prepositions",
             "dateline_labels", "iso_date_labels", "date_leads", "byline_leads", "author_joiners", "name_particles")
_YEAR = r"(?:19|20)\d\d"


def metadata_words() -> dict[str, str]:
    """Return each section of the metadata words file as one alternation of every language's patterns."""
    return word_sections(METADATA_WORDS_FILE, _SECTIONS)


@dataclass(frozen=True, slots=True)
class _Patterns:
    full_date: re.Pattern
    month_year: re.Pattern
    anchored_year: re.Pattern
    dateline: re.Pattern
    byline: re.Pattern
    author_split: re.Pattern
    name: re.Pattern
    opening_dateline: re.Pattern
    labelled_iso: re.Pattern
    source_dateline: re.Pattern


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    """Return the patterns of dates, datelines and bylines built on the metadata words."""
    w = metadata_words()
    month = rf"(?:{w['months']}|(?:{w['month_abbreviations']})\.?)"
    full_date = (rf"\b(?:\d{{1,2}}(?:{w['day_first_suffixes']})?\s+{month}\s+{_YEAR}|{month}\s+\d{{1,2}}(?:{w['month_first_suffixes']})?,?\s+{_YEAR}"
                 rf"|{_YEAR}-\d\d-\d\d)\b")
    leads = w["date_leads"].split("|")
    spaced_lead, lead_spaced = "|".join(" " + x for x in leads), "|".join(x + r"\s+" for x in leads)
    return _Patterns(
        full_date=re.compile(full_date, re.I),
        month_year=re.compile(rf"\b{month}\s+(?:of\s+)?{_YEAR}\b", re.I),
        # A year counts as an explicit date only when a preposition anchors it; vague phrases do not bound anything.
        anchored_year=re.compile(rf"\b(?:{w['year_prepositions']})\s+({_YEAR})\b", re.I),
        dateline=re.compile(rf"^(?:{w['dateline_labels']})(?:{spaced_lead})?\s*:?\s*(.{{6,40}})$", re.I),
        # (A web page's byline may be a list item whose label is set off by a comma: "- Author, Jane Doe".)
        byline=re.compile(rf"^(?:[-–•*]\s*)?(?:{w['byline_leads']})\s*[:,]?\s+(.+)$", re.I),
        author_split=re.compile(rf"\s*(?:,|;|&|\b(?:{w['author_joiners']})\b)\s*"),
        name=re.compile(rf"^[A-ZÀ-ÖØ-Þ][\w.'’-]*(?:\s+(?:[A-ZÀ-ÖØ-Þ][\w.'’-]*|{w['name_particles']})){{0,4}}$"),
        # A news dateline opens the first paragraph: "CITY, Country (AGENCY) — March 3, 2023 —", "Ville, le 28 janvier 2024 —".
        opening_dateline=re.compile(
            rf"^(?:[A-ZÀ-Ý][\w'’.-]*(?:[ ,]+(?:\(?[A-ZÀ-Ý][\w'’.-]*\)?))*\s*,?\s*)?(?:\([^)]{{1,20}}\)\s*)?(?:[—–-]\s*)?"
            rf"(?:{lead_spaced})?((?i:{full_date}))\s*[—–:-]"),
        # A labelled ISO date opening the text, the body running on after it; a month-precision label gives a month.
        labelled_iso=re.compile(
            rf"^(?:{w['iso_date_labels']})(?:\s+(?:{w['date_leads']}))?\s*:?\s*((?:19|20)\d\d-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)(?![\d-])",
            re.I),
        # The sources a news dateline credits in brackets: "CITY (Outlet / Agency - 3rd March, 2021) -", or a
        # labelled date opening the text and then "(Outlet- Agency)".
        source_dateline=re.compile(
            rf"^(?:(?i:{w['iso_date_labels']})\s*:?\s*(?:19|20)\d\d-\d\d(?:-\d\d)?\s+|[A-ZÀ-Ý][A-ZÀ-Ý'’.-]+(?:[ ,/]+[A-ZÀ-Ý][A-ZÀ-Ý'’.-]+)*\s*)"
            rf"\((?P<sources>[^()\n]{{2,80}})\)"),
    )


_YEAR_IN = re.compile(_YEAR)

# The languages the analysis reads: spaCy pipelines, word lists and lexicons exist for these (other texts are read
# with the English pipeline and every language's word lists).
ANALYSED_LANGUAGES = ("en", "fr")
# The languages told apart when a text's language is guessed.
LANGUAGES = ANALYSED_LANGUAGES + ("ar", "ru", "es", "pt", "de", "it")


def guess_title(text: str) -> str | None:
    """Return the first paragraph when it reads like a headline, else None."""
    lines = text.split("\n")
    if len(lines) < 2:
        return None
    first = lines[0].lstrip("#").strip()
    words = first.split()
    if 2 <= len(words) <= 25 and len(first) <= 200 and not re.search(r"[.;,:]$", first):
        return first
    return None


def find_authors(text: str) -> list[str]:
    """Return the authors named in a byline paragraph ("By A and B", "Par A et B"), or []."""
    for names in _bylines(text):
        return [text[start:end] for start, end in names]
    return []


def byline_names(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of every name the byline paragraphs near the top of the text give."""
    return [span for names in _bylines(text) for span in names]


_SOURCE_SPLIT = re.compile(r"\s*/\s*|\s*[-–—]\s+|\s+[-–—]\s*")


def dateline_sources(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of the outlets and agencies a dateline in the first paragraphs credits in
    brackets ("CITY (Outlet News / Agency - 3rd March, 2021)"), the date left out; [] when a part is not a name."""
    offset = 0
    for para in text.split("\n")[:8]:
        start, offset = offset, offset + len(para) + 1
        lead = len(para) - len(para.lstrip())
        match = _patterns().source_dateline.match(para.lstrip())
        if not match:
            continue
        base = start + lead + match.start("sources")
        spans = []
        body = match.group("sources")
        for at, end in _located(body, _SOURCE_SPLIT.split(body)):
            part = body[at:end]
            if not re.search(r"\d", part):
                if not _patterns().name.match(part) or len(part.split()) > 4:
                    return []
                spans.append((base + at, base + end))
        return spans
    return []


def _located(body: str, parts: Iterable[str]) -> Iterator[tuple[int, int]]:
    """Yield the (start, end) offsets in `body` of its non-empty `parts`, in order (the pieces a split left of it)."""
    pos = 0
    for part in parts:
        if part:
            pos = body.index(part, pos) + len(part)
            yield pos - len(part), pos


def _bylines(text: str) -> Iterator[list[tuple[int, int]]]:
    """Yield, for each byline paragraph in the first 80 lines, the offsets of its names (every part a name of two
    words or more)."""
    offset = 0
    for para in text.split("\n")[:80]:
        start, offset = offset, offset + len(para) + 1
        if len(para) > 150:
            continue
        stripped = para.strip()
        match = _patterns().byline.match(stripped)
        if not match:
            continue
        body_start = start + (len(para) - len(para.lstrip())) + match.start(1)
        body = match.group(1).strip().rstrip(".")
        parts = (p.strip() for p in _patterns().author_split.split(body))
        names = [(body_start + at, body_start + end) for at, end in _located(body, parts)]
        if names and all(_patterns().name.match(text[a:b]) and len(text[a:b].split()) >= 2 for a, b in names):
            yield names


# A short line ending in a numeric day-month-year date ("Outlet 19-05-2025", "Publié le 19/05/2025").
_NUMERIC_DMY = re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.]((?:19|20)\d\d)$")


def _numeric_date(para: str) -> str | None:
    """Return the ISO date a short line ends with in numeric form, when the order of day and month is unambiguous."""
    m = _NUMERIC_DMY.search(para)
    if not m:
        return None
    a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    day, month = (a, b) if a > 12 >= b else (b, a) if b > 12 >= a else (a, b) if a == b else (None, None)
    if day is None:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def stated_date(text: str) -> str | None:
    """Return the ISO date given by a dateline near the top or bottom of the text, or None.

    The date is a day ("2023-03-03"), or a month ("2021-11") when a labelled date at the top gives no more.
    """
    paragraphs = [p for p in text.split("\n") if p.strip()]
    candidates = paragraphs[:8] + paragraphs[-4:]
    if paragraphs:
        m = _patterns().labelled_iso.match(paragraphs[0].strip())
        if m:
            return m.group(1)
    for para in paragraphs[:8]:
        m = _patterns().opening_dateline.match(para.strip())
        if m:
            return parse_date(m.group(1))
    for para in candidates:
        para = para.strip()
        if len(para) > 80:
            continue
        m = _patterns().dateline.match(para)
        body = m.group(1) if m else para
        full = _patterns().full_date.fullmatch(body.strip().rstrip("."))
        if full:
            return parse_date(full.group(0))
        numeric = _numeric_date(body.rstrip("."))
        if numeric:
            return numeric
    return None


def latest_explicit_year(text: str) -> str | None:
    """Return the latest year the text states as a date (full date, month and year, or 'in YEAR'), or None."""
    p = _patterns()
    years = [int(_YEAR_IN.search(m.group(0)).group(0)) for m in p.full_date.finditer(text)]
    years += [int(_YEAR_IN.search(m.group(0)).group(0)) for m in p.month_year.finditer(text)]
    years += [int(m.group(1)) for m in p.anchored_year.finditer(text)]
    return str(max(years)) if years else None


def parse_date(value: str) -> str | None:
    """Return value as an ISO date (YYYY-MM-DD), or None when it is not a date."""
    value = value.strip()
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)", value)
    if m:
        return m.group(0)
    import dateparser

    parsed = dateparser.parse(
        value,
        languages=list(ANALYSED_LANGUAGES),
        settings={"PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["year"], "RETURN_AS_TIMEZONE_AWARE": False},
    )
    return parsed.date().isoformat() if parsed else None


@lru_cache(maxsize=1)
def _detector():
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in LANGUAGES]
    # Models load when first needed (the same models, so the same answers): a text of a few hundred characters reads
    # only the trigram models, and preloading every n-gram order of every language cost 1.8 CPU-s per ingest.
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


def detect_language(text: str) -> str | None:
    """Return the ISO 639-1 code of the text's language, or None when it cannot tell."""
    sample = text[:3000]
    if len(re.findall(r"\w+", sample)) < 3:
        return None
    language = _detector().detect_language_of(sample)
    return language.iso_code_639_1.name.lower() if language else None
