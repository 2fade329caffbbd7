"""Document metadata read from the text itself: title, byline authors, publication date, language."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

_MONTHS_EN = "january|february|march|april|may|june|july|august|september|october|november|december"
_MONTHS_ABBR = "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
_MONTHS_FR = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
_MONTH = rf"(?:{_MONTHS_EN}|{_MONTHS_FR}|(?:{_MONTHS_ABBR})\.?)"
_YEAR = r"(?:19|20)\d\d"
_FULL_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:er)?\s+{_MONTH}\s+{_YEAR}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_YEAR}|{_YEAR}-\d\d-\d\d)\b",
    re.I,
)
_YEAR_IN = re.compile(_YEAR)
_MONTH_YEAR = re.compile(rf"\b{_MONTH}\s+(?:of\s+)?{_YEAR}\b", re.I)
# A year counts as an explicit date only when a preposition anchors it ("in 2019", "depuis 2020");
# vague phrases such as "early 2022" do not bound anything.
_ANCHORED_YEAR = re.compile(rf"\b(?:in|into|through|throughout|since|by|until|from|of|during|after|before|en|depuis|jusqu'en|avant|après)\s+({_YEAR})\b", re.I)
_DATELINE = re.compile(
    r"^(?:published|posted|updated|last updated|date|publié|mis à jour|paru)(?: on| le)?\s*:?\s*(.{6,40})$", re.I
)
_BYLINE = re.compile(r"^(?:by|par|written by|écrit par|authors?|auteurs?)\s*:?\s+(.+)$", re.I)
_NAME = re.compile(r"^[A-ZÀ-ÖØ-Þ][\w.'’-]*(?:\s+(?:[A-ZÀ-ÖØ-Þ][\w.'’-]*|de|da|du|van|von|bin|ben|al-\w+|el-\w+)){0,4}$")

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
    for para in text.split("\n")[:80]:
        if len(para) > 150:
            continue
        match = _BYLINE.match(para.strip())
        if not match:
            continue
        parts = re.split(r"\s*(?:,|;|&|\band\b|\bet\b)\s*", match.group(1).strip().rstrip("."))
        names = [p.strip() for p in parts if p.strip()]
        if names and all(_NAME.match(n) and len(n.split()) >= 2 for n in names):
            return names
    return []


# A news dateline opens the first paragraph: "BAMAKO, Mali (AP) — March 3, 2023 —", "Niamey, le 28 janvier 2024 —".
_OPENING_DATELINE = re.compile(
    rf"^(?:[A-ZÀ-Ý][\w'’.-]*(?:[ ,]+(?:\(?[A-ZÀ-Ý][\w'’.-]*\)?))*\s*,?\s*)?(?:\([^)]{{1,20}}\)\s*)?(?:[—–-]\s*)?(?:le\s+|on\s+)?"
    rf"((?i:{_FULL_DATE.pattern}))\s*[—–:-]")


# A labelled ISO date opening the text, the body running on after it: "date 2022-09-04 The junta ...",
# "Published: 2021-11". A month-precision label gives a month ("2021-11").
_LABELLED_ISO = re.compile(
    r"^(?:date|dated|published|posted|updated|publié|paru|mis en ligne)(?:\s+(?:on|le))?\s*:?\s*((?:19|20)\d\d-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)(?![\d-])",
    re.I,
)
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
        m = _LABELLED_ISO.match(paragraphs[0].strip())
        if m:
            return m.group(1)
    for para in paragraphs[:8]:
        m = _OPENING_DATELINE.match(para.strip())
        if m:
            return parse_date(m.group(1))
    for para in candidates:
        para = para.strip()
        if len(para) > 80:
            continue
        m = _DATELINE.match(para)
        body = m.group(1) if m else para
        full = _FULL_DATE.fullmatch(body.strip().rstrip("."))
        if full:
            return parse_date(full.group(0))
        numeric = _numeric_date(body.rstrip("."))
        if numeric:
            return numeric
    return None


def latest_explicit_year(text: str) -> str | None:
    """Return the latest year the text states as a date (full date, month and year, or 'in YEAR'), or None."""
    years = [int(_YEAR_IN.search(m.group(0)).group(0)) for m in _FULL_DATE.finditer(text)]
    years += [int(_YEAR_IN.search(m.group(0)).group(0)) for m in _MONTH_YEAR.finditer(text)]
    years += [int(m.group(1)) for m in _ANCHORED_YEAR.finditer(text)]
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
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_preloaded_language_models().build()


def detect_language(text: str) -> str | None:
    """Return the ISO 639-1 code of the text's language, or None when it cannot tell."""
    sample = text[:3000]
    if len(re.findall(r"\w+", sample)) < 3:
        return None
    language = _detector().detect_language_of(sample)
    return language.iso_code_639_1.name.lower() if language else None
