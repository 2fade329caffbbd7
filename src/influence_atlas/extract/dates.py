"""Resolve the dates a text gives the way a careful reader does: explicit, relative, vague, running context."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

MONTHS = {
    "january": 1, "jan": 1, "janvier": 1, "janv": 1,
    "february": 2, "feb": 2, "février": 2, "fevrier": 2, "févr": 2,
    "march": 3, "mar": 3, "mars": 3,
    "april": 4, "apr": 4, "avril": 4, "avr": 4,
    "may": 5, "mai": 5,
    "june": 6, "jun": 6, "juin": 6,
    "july": 7, "jul": 7, "juillet": 7, "juil": 7,
    "august": 8, "aug": 8, "août": 8, "aout": 8,
    "september": 9, "sep": 9, "sept": 9, "septembre": 9,
    "october": 10, "oct": 10, "octobre": 10,
    "november": 11, "nov": 11, "novembre": 11,
    "december": 12, "dec": 12, "décembre": 12, "decembre": 12,
}
_EN_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)"
_FR_MONTH = r"(?:janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre)"
_MONTH = rf"(?:{_EN_MONTH}|(?i:{_FR_MONTH}))"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_DECADE = r"(?:1[89]\d0|20\d0)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th|er)?"
WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
            "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6}
_NUM_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "several": 3, "un": 1, "une": 1, "deux": 2, "trois": 3}
_UNIT = r"(?:day|week|month|year|jour|semaine|mois|an|année)s?"

# Ordered: the first pattern that matches at a position wins.
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("iso", re.compile(rf"\b({_YEAR})-(\d\d)-(\d\d)\b")),
    ("iso_month", re.compile(rf"\b({_YEAR})-(0[1-9]|1[0-2])\b(?!-\d)")),
    # A span of days is dated by its first day: "between 5 and 7 June 2021", "overnight 3-4 May", "du 5 au 7 juin".
    ("span_dmy", re.compile(rf"\b(?:(?i:between|from|overnight|the night of|la nuit du|entre le|du)\s+)?({_DAY})\s*(?:-|–|and|to|au|et le|et)\s*({_DAY})\s+({_MONTH})(?:,?\s+({_YEAR}))?\b")),
    ("span_mdy", re.compile(rf"\b(?:(?i:between|from|overnight|the night of)\s+)?({_EN_MONTH})\s+({_DAY})\s*(?:-|–|and|to)\s*(?:{_EN_MONTH}\s+)?({_DAY})(?:,?\s+({_YEAR}))?\b")),
    ("mdy", re.compile(rf"\b({_MONTH})\s+({_DAY}),?\s+({_YEAR})\b")),
    ("dmy", re.compile(rf"\b(?:le\s+)?({_DAY})\s+({_MONTH})\s+({_YEAR})\b")),
    ("decade", re.compile(rf"\b(?:the\s+)?(?:(early|mid|late)[- ])?({_DECADE})s\b|\b(?:les\s+années|(?:au\s+)?(?:début|milieu|fin)\s+des\s+années)\s+({_DECADE})\b", re.I)),
    ("vague_year", re.compile(rf"\b(early|mid|late|début|mi|fin|the start of|the end of|the beginning of)[\s-]+({_YEAR})\b", re.I)),
    ("month_year", re.compile(rf"\b({_MONTH})\s+(?:of\s+)?({_YEAR})\b")),
    # "in April last year", "en avril de l'année dernière": a month of the year before publication.
    ("month_last_year", re.compile(rf"\b({_MONTH})\s+(?:of\s+)?(?i:last year|l['’]an dernier|l['’]année dernière|de l['’]année dernière|de l['’]an dernier)\b")),
    ("md", re.compile(rf"\b({_EN_MONTH})\s+({_DAY})\b(?!\s*,?\s*{_YEAR})(?!\d|,\s*\d)")),
    ("dm", re.compile(rf"\b(?:le\s+)?({_DAY})\s+((?i:{_FR_MONTH})|{_EN_MONTH})\b(?!\s+{_YEAR})")),
    ("month", re.compile(rf"\b(?i:in|by|since|until|from|during|through|early|late|mid|en|depuis|jusqu'en|dès|début|fin|in early|in late|in mid)[\s-]+({_MONTH})\b(?!\s+{_YEAR})(?!\s+{_DAY}\b)")),
    ("year", re.compile(rf"(?<![\d$€£,.])\b({_YEAR})\b(?![\d%]|[.,]\d)")),
    ("weekday", re.compile(r"\b(?:on\s+|le\s+|ce\s+)?((?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|(?i:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche))\b(?!\s+\d)")),
    ("rel_day", re.compile(r"\b(the following day|the next day|the day after|the day before|the previous day|le lendemain|la veille)\b", re.I)),
    ("same_day", re.compile(r"\b((?:on )?(?:that|the) same day|on that day|le même jour|ce même jour|ce jour-là|le jour même)\b", re.I)),
    ("last_year", re.compile(r"\b(last year|l['’]an dernier|l['’]année dernière|l['’]an passé|l['’]année passée)\b", re.I)),
    ("same_month", re.compile(r"\b(that same month|the same month|that month|earlier that month|later that month|earlier this month|le même mois|ce même mois|plus tôt ce mois-là)\b", re.I)),
    ("same_year", re.compile(r"\b(that same year|the same year|that year|later that year|earlier that year|la même année|cette même année|cette année-là)\b", re.I)),
    ("next_year", re.compile(r"\b(the following year|the next year|l'année suivante|l’année suivante)\b", re.I)),
    ("shift", re.compile(rf"\b(a|an|one|two|three|four|five|six|several|\d+|un|une|deux|trois)\s+({_UNIT})\s+(before|after|later|earlier|avant|après|plus tard|plus tôt)\b", re.I)),
]


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date expression found in text: offsets, its kind and the raw parts."""

    start: int
    end: int
    kind: str
    groups: tuple


@dataclass(frozen=True, slots=True)
class ResolvedDate:
    """An ISO date at the precision the text supports: year, month, day or decade."""

    value: str
    precision: str
    qualifier: str | None = None

    @property
    def key(self) -> tuple[int, int, int]:
        parts = [int(p) for p in self.value.split("-")] + [0, 0]
        return parts[0], parts[1], parts[2]


def dates_compatible(a: str | None, b: str | None) -> bool:
    """True when two ISO dates agree at the precision both give (a missing date agrees with any)."""
    if not a or not b:
        return True
    k = min(len(a), len(b))
    return a[:k] == b[:k]


def published_context(published: str | None) -> DateContext:
    """Return the time context a document's stated publication date (an ISO day or month) opens its text with."""
    span = date_span(published) if published and re.fullmatch(r"\d{4}-\d\d(?:-\d\d)?", published) else None
    if span is None:
        return DateContext()
    return DateContext(published=span[1], published_precision="day" if len(published) == 10 else "month")


def date_span(value: str | None) -> tuple[date, date] | None:
    """Return the first and last day an ISO date of any precision covers ("2022-03" → 1 and 31 March 2022), or None."""
    if not value:
        return None
    try:
        parts = [int(p) for p in value[:10].split("-")]
        if len(parts) == 1:
            return date(parts[0], 1, 1), date(parts[0], 12, 31)
        if len(parts) == 2:
            y, m = parts
            return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])
        day = date(*parts[:3])
        return day, day
    except (ValueError, TypeError, calendar.IllegalMonthError):
        return None


def find_dates(text: str) -> list[DateMention]:
    """Return the non-overlapping date expressions in text, in order."""
    return list(_dates_in(text))


@lru_cache(maxsize=4096)
def _dates_in(text: str) -> tuple[DateMention, ...]:
    # Memoised by text: claims, check-worthiness, figures and events each ask for the same sentence's dates (about six
    # calls per sentence); the mentions are frozen, so sharing them changes nothing.
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            if kind == "md" and m.group(1).lower().startswith("may") and m.group(1) == "may":
                continue
            found.append(DateMention(m.start(), m.end(), kind, m.groups()))
            taken.append((m.start(), m.end()))
    return tuple(sorted(found, key=lambda d: d.start))


def _month(name: str) -> int:
    return MONTHS[name.lower().rstrip(".")]


def _day(text: str) -> int:
    return int(re.match(r"\d+", text).group(0))


def _valid(y: int, m: int, d: int) -> bool:
    return 1 <= m <= 12 and 1 <= d <= calendar.monthrange(y, m)[1]


def _shift_months(y: int, m: int, months: int) -> tuple[int, int]:
    total = y * 12 + (m - 1) + months
    return total // 12, total % 12 + 1


@dataclass(slots=True)
class DateContext:
    """The running time context of a document, updated as a reader moves through it."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    months_told: dict[int, int] = field(default_factory=dict)
    fallback_year: int | None = None
    # The stated publication date: "on Sunday" or "in February" in a news story point back from it.
    published: date | None = None
    # "month" when the document states only the month it came out (`published` is then that month's last day).
    published_precision: str = "day"
    anchors: dict[str, ResolvedDate] = field(default_factory=dict)
    # The latest year the text states: a narrative moving forward does not roll a bare month past it.
    latest_year: int | None = None

    def _set(self, r: ResolvedDate) -> None:
        y, m, d = r.key
        if r.precision == "decade":
            return
        self.year, self.month, self.day = y, (m or None), (d or None)
        if m:
            self.months_told[y] = max(self.months_told.get(y, 0), m)

    def _context_year(self) -> int | None:
        return self.year if self.year is not None else self.fallback_year

    def resolve(self, dm: DateMention, anchor: ResolvedDate | None = None, update: bool = True) -> ResolvedDate | None:
        """Return the date an expression means in the current context (None if it cannot say), and move the context."""
        r = self._resolve(dm, anchor)
        if r is not None and update:
            self._set(r)
        return r

    def _resolve(self, dm: DateMention, anchor: ResolvedDate | None) -> ResolvedDate | None:
        g = dm.groups
        k = dm.kind
        if k == "iso":
            y, m, d = int(g[0]), int(g[1]), int(g[2])
            return ResolvedDate(f"{y:04d}-{m:02d}-{d:02d}", "day") if _valid(y, m, d) else None
        if k == "iso_month":
            return ResolvedDate(f"{int(g[0]):04d}-{int(g[1]):02d}", "month")
        if k in ("mdy", "dmy"):
            mon, day = (g[0], g[1]) if k == "mdy" else (g[1], g[0])
            y, m, d = int(g[2]), _month(mon), _day(day)
            return ResolvedDate(f"{y:04d}-{m:02d}-{d:02d}", "day") if _valid(y, m, d) else None
        if k in ("span_dmy", "span_mdy"):
            first, mon = (g[0], g[2]) if k == "span_dmy" else (g[1], g[0])
            inner = DateMention(dm.start, dm.end, "dmy" if g[3] else "dm", (first, mon, g[3]) if g[3] else (first, mon))
            r = self._resolve(inner, anchor)
            return ResolvedDate(r.value, r.precision, "span") if r is not None else None
        if k == "month_year":
            return ResolvedDate(f"{int(g[1]):04d}-{_month(g[0]):02d}", "month")
        if k == "decade":
            decade = g[1] or g[2]
            return ResolvedDate(decade, "decade", (g[0] or "").lower() or None)
        if k == "vague_year":
            return ResolvedDate(g[1], "year", g[0].lower())
        if k == "year":
            return ResolvedDate(g[0], "year")
        if k == "weekday":
            if self.year is not None and self.month and self.day:
                base = date(self.year, self.month, self.day)
            elif self.year is None and self.published is not None and self.published_precision == "day":
                base = self.published
            else:
                return None
            back = (base.weekday() - WEEKDAYS[g[0].lower()]) % 7
            return ResolvedDate((base - timedelta(days=back)).isoformat(), "day")
        if k in ("md", "dm", "month"):
            mon = g[0] if k in ("md", "month") else g[1]
            m = _month(mon)
            y = self._context_year()
            if self.year is None and self.published is not None:
                # No narrative yet: the latest such month up to the publication date.
                y = self.published.year - (1 if m > self.published.month else 0)
                if k == "month":
                    return ResolvedDate(f"{y:04d}-{m:02d}", "month")
                d = _day(g[1] if k == "md" else g[0])
                return ResolvedDate(f"{y:04d}-{m:02d}-{d:02d}", "day") if _valid(y, m, d) else None
            if y is None:
                return None
            # A narrative moves forward: a bare month that would fall before the months already told is next year's.
            # ("In June" after "In August 2022" is June 2023; "In February" after a passage on "2022"
            # that already told August 2022 is February 2023.)
            # The reference is the month in context; after a bare year, the latest month told of that year.
            if self.latest_year is not None and y >= self.latest_year:
                # A text that states no later year tells no month of the year after: a bare month before the one in
                # context goes back to an earlier passage of the same year (a caption dated ahead of the story).
                pass
            elif self.month is not None and self.year == y:
                if m < self.month:
                    y += 1
            elif (told := self.months_told.get(y)) is not None and m <= told:
                y += 1
            if self.published is not None and (y, m) > (self.published.year, self.published.month):
                # A text does not tell of months after its own publication as past.
                y -= 1
            if k == "month":
                return ResolvedDate(f"{y:04d}-{m:02d}", "month")
            d = _day(g[1] if k == "md" else g[0])
            return ResolvedDate(f"{y:04d}-{m:02d}-{d:02d}", "day") if _valid(y, m, d) else None
        if k == "rel_day":
            if self.year is None or self.month is None or self.day is None:
                return None
            base = date(self.year, self.month, self.day)
            step = -1 if re.search(r"before|previous|veille", g[0], re.I) else 1
            nd = base + timedelta(days=step)
            return ResolvedDate(nd.isoformat(), "day")
        if k in ("month_last_year", "last_year"):
            # Counted back from the publication date only: the running context is not "now".
            if self.published is None:
                return None
            y = self.published.year - 1
            return ResolvedDate(f"{y:04d}-{_month(g[0]):02d}", "month") if k == "month_last_year" else ResolvedDate(f"{y:04d}", "year")
        if k == "same_day":
            if self.year is None or self.month is None or self.day is None:
                return None
            return ResolvedDate(f"{self.year:04d}-{self.month:02d}-{self.day:02d}", "day")
        if k == "same_month":
            if self.year is None or self.month is None:
                return None
            return ResolvedDate(f"{self.year:04d}-{self.month:02d}", "month")
        if k == "same_year":
            return ResolvedDate(f"{self.year:04d}", "year") if self.year is not None else None
        if k == "next_year":
            return ResolvedDate(f"{self.year + 1:04d}", "year") if self.year is not None else None
        if k == "shift":
            base = anchor
            if base is None:
                if self.year is None:
                    return None
                base = ResolvedDate(
                    f"{self.year:04d}" + (f"-{self.month:02d}" if self.month else "") + (f"-{self.day:02d}" if self.month and self.day else ""),
                    "day" if self.day and self.month else ("month" if self.month else "year"),
                )
            amount = int(g[0]) if g[0].isdigit() else _NUM_WORDS.get(g[0].lower(), 1)
            sign = -1 if re.search(r"before|earlier|avant|plus tôt", g[2], re.I) else 1
            unit = g[1].lower()
            y, m, d = base.key
            if unit.startswith(("year", "an", "ann")):
                return ResolvedDate(f"{y + sign * amount:04d}" + (f"-{m:02d}" if m and base.precision != "year" else ""),
                                    "month" if m and base.precision != "year" else "year")
            if unit.startswith(("month", "mois")):
                if not m:
                    return None
                ny, nm = _shift_months(y, m, sign * amount)
                return ResolvedDate(f"{ny:04d}-{nm:02d}", "month")
            if not (m and d):
                return ResolvedDate(f"{y:04d}-{m:02d}", "month") if m else None
            days = amount * (7 if unit.startswith(("week", "semaine")) else 1)
            nd = date(y, m, d) + timedelta(days=sign * days)
            return ResolvedDate(nd.isoformat(), "day")
        return None
