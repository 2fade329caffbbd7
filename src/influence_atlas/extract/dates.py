"""Resolve the dates a text gives the way a careful reader does: explicit, relative, vague, running context."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from ..ontology.dates import Names, load_date_words

_WORDS = load_date_words()
# Every month and weekday name the date words give (lower case, abbreviations without their dot) and its number.
MONTHS = {w: n for t in _WORDS.months.values() for w, n in {**t.names, **t.abbreviations}.items()}
WEEKDAYS = {w: n for t in _WORDS.weekdays.values() for w, n in t.names.items()}
_COUNTS = {w: n for table in _WORDS.counts.values() for w, n in table.items()}
_UNIT_KIND = {w: kind for table in _WORDS.units.values() for kind, words in table.items() for w in words}
_BACK_DAY = re.compile(_WORDS.direction("relative_day", "back"), re.I)
_BACK_SHIFT = re.compile(_WORDS.direction("shift_directions", "back"), re.I)


def _names(tables: dict[str, Names], month_first: bool = False) -> str:
    """Return an alternation of the names (abbreviations with an optional dot) of every language, or only of those
    that write the month first; a language whose names are capitalised is read only capitalised."""
    parts = []
    for table in tables.values():
        if month_first and not table.month_first:
            continue
        case = str.capitalize if table.capitalised else str
        names = [re.escape(case(n)) for n in table.names]
        names += [re.escape(case(a)) + r"\.?" for a, _ in sorted(table.abbreviations.items(), key=lambda a: (a[1], -len(a[0])))]
        parts.append("|".join(names) if table.capitalised else f"(?i:{'|'.join(names)})")
    return "(?:" + "|".join(parts) + ")" if parts else "(?!)"


_MONTH_FIRST_LANGUAGES = tuple(lang for lang, t in _WORDS.months.items() if t.month_first)
_MONTH_FIRST = _names(_WORDS.months, month_first=True)
_MONTH = _names(_WORDS.months)
_WEEKDAY = _names(_WORDS.weekdays)
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_DECADE = r"(?:1[89]\d0|20\d0)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th|er)?"
_UNIT = "(?:" + "|".join(re.escape(w) for w in _UNIT_KIND) + ")s?"
_COUNT = "|".join(re.escape(w) for w in _COUNTS)


def _phrase(section: str, languages: tuple[str, ...] | None = None) -> str:
    return _WORDS.phrase(section, languages)


# Ordered: the first pattern that matches at a position wins.
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("iso", re.compile(rf"\b({_YEAR})-(\d\d)-(\d\d)\b")),
    ("iso_month", re.compile(rf"\b({_YEAR})-(0[1-9]|1[0-2])\b(?!-\d)")),
    # A span of days is dated by its first day: "between 5 and 7 June 2021", "overnight 3-4 May", "du 5 au 7 juin".
    ("span_dmy", re.compile(rf"\b(?:(?i:{_phrase('span_open')})\s+)?({_DAY})\s*(?:-|–|{_phrase('span_join')})\s*({_DAY})\s+({_MONTH})"
                            rf"(?:,?\s+({_YEAR}))?\b")),
    ("span_mdy", re.compile(rf"\b(?:(?i:{_phrase('span_open', _MONTH_FIRST_LANGUAGES)})\s+)?({_MONTH_FIRST})\s+({_DAY})\s*"
                            rf"(?:-|–|{_phrase('span_join', _MONTH_FIRST_LANGUAGES)})\s*(?:{_MONTH_FIRST}\s+)?({_DAY})(?:,?\s+({_YEAR}))?\b")),
    ("mdy", re.compile(rf"\b({_MONTH})\s+({_DAY}),?\s+({_YEAR})\b")),
    ("dmy", re.compile(rf"\b(?:{_phrase('day_article')}\s+)?({_DAY})\s+({_MONTH})\s+({_YEAR})\b")),
    ("decade", re.compile(rf"\b(?:{_phrase('decade_article')}\s+)?(?:({_phrase('decade_qualifiers')})[- ])?({_DECADE})s\b"
                          rf"|\b(?:{_phrase('decade_leads')})\s+({_DECADE})\b", re.I)),
    ("vague_year", re.compile(rf"\b({_phrase('year_qualifiers')})[\s-]+({_YEAR})\b", re.I)),
    ("month_year", re.compile(rf"\b({_MONTH})\s+(?:{_phrase('month_of')}\s+)?({_YEAR})\b")),
    # "in April last year", "en avril de l'année dernière": a month of the year before publication.
    ("month_last_year", re.compile(rf"\b({_MONTH})\s+(?:{_phrase('month_of')}\s+)?(?i:{_phrase('last_year')})\b")),
    ("md", re.compile(rf"\b({_MONTH_FIRST})\s+({_DAY})\b(?!\s*,?\s*{_YEAR})(?!\d|,\s*\d)")),
    ("dm", re.compile(rf"\b(?:{_phrase('day_article')}\s+)?({_DAY})\s+({_MONTH})\b(?!\s+{_YEAR})")),
    ("month", re.compile(rf"\b(?i:{_phrase('month_leads')})[\s-]+({_MONTH})\b(?!\s+{_YEAR})(?!\s+{_DAY}\b)")),
    ("year", re.compile(rf"(?<![\d$€£,.])\b({_YEAR})\b(?![\d%]|[.,]\d)")),
    ("weekday", re.compile(rf"\b(?:{_phrase('weekday_leads')}\s+)?({_WEEKDAY})\b(?!\s+\d)")),
    ("rel_day", re.compile(rf"\b({_WORDS.direction('relative_day')})\b", re.I)),
    ("same_day", re.compile(rf"\b({_phrase('same_day')})\b", re.I)),
    ("last_year", re.compile(rf"\b({_phrase('last_year')})\b", re.I)),
    ("this_year", re.compile(rf"\b({_phrase('this_year')})\b", re.I)),
    ("same_month", re.compile(rf"\b({_phrase('same_month')})\b", re.I)),
    ("same_year", re.compile(rf"\b({_phrase('same_year')})\b", re.I)),
    ("next_year", re.compile(rf"\b({_phrase('next_year')})\b", re.I)),
    ("shift", re.compile(rf"\b({_COUNT}|\d+)\s+({_UNIT})\s+({_WORDS.direction('shift_directions')})\b", re.I)),
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
        k = dm.kind
        if k in _EXPLICIT:
            return _explicit(k, dm.groups)
        if k in ("span_dmy", "span_mdy"):
            return self._span(dm, anchor)
        if k == "weekday":
            return self._weekday(dm.groups[0])
        if k in ("md", "dm", "month"):
            return self._bare_month(k, dm.groups)
        if k == "rel_day":
            return self._next_day(dm.groups[0])
        if k in ("month_last_year", "last_year"):
            return self._last_year(k, dm.groups)
        if k == "this_year":
            return self._this_year()
        if k in ("same_day", "same_month", "same_year", "next_year"):
            return self._same(k)
        if k == "shift":
            return self._shift(dm.groups, anchor)
        return None

    def _span(self, dm: DateMention, anchor: ResolvedDate | None) -> ResolvedDate | None:
        """A span of days, dated by its first day."""
        g = dm.groups
        first, mon = (g[0], g[2]) if dm.kind == "span_dmy" else (g[1], g[0])
        inner = DateMention(dm.start, dm.end, "dmy" if g[3] else "dm", (first, mon, g[3]) if g[3] else (first, mon))
        r = self._resolve(inner, anchor)
        return ResolvedDate(r.value, r.precision, "span") if r is not None else None

    def _weekday(self, name: str) -> ResolvedDate | None:
        """The latest such weekday up to the day in context (or the publication day before any narrative); in a text
        that states only its publication month, that month while the narrative has not left it."""
        if self.year is not None and self.month and self.day:
            base = date(self.year, self.month, self.day)
        elif self.year is None and self.published is not None and self.published_precision == "day":
            base = self.published
        elif (self.published is not None and self.published_precision == "month" and not self.day
              and (self.year, self.month) in ((None, None), (self.published.year, self.published.month))):
            return ResolvedDate(self.published.isoformat()[:7], "month")
        else:
            return None
        back = (base.weekday() - WEEKDAYS[name.lower()]) % 7
        return ResolvedDate((base - timedelta(days=back)).isoformat(), "day")

    def _bare_month(self, k: str, g: tuple) -> ResolvedDate | None:
        """A month (with or without a day) and no year: the year comes from the publication date or the narrative."""
        m = _month(g[0] if k in ("md", "month") else g[1])
        if self.year is None and self.published is not None:
            # No narrative yet: the latest such month up to the publication date.
            y = self.published.year - (1 if m > self.published.month else 0)
        else:
            y = self._narrative_year(m)
            if y is None:
                return None
        if k == "month":
            return ResolvedDate(f"{y:04d}-{m:02d}", "month")
        d = _day(g[1] if k == "md" else g[0])
        return ResolvedDate(f"{y:04d}-{m:02d}-{d:02d}", "day") if _valid(y, m, d) else None

    def _narrative_year(self, m: int) -> int | None:
        """The year of a bare month `m` in a narrative that has told a year already (None when it has not)."""
        y = self._context_year()
        if y is None:
            return None
        # A narrative moves forward: a bare month that would fall before the months already told is next year's.
        # ("In June" after "In August 2019" is June 2020; "In February" after a passage on "2022"
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
            # A text does not tell of months after its own publication as past: the latest such month before it
            # (a year said of a plan, "by 2023", may have moved the context past the publication).
            y = self.published.year - (1 if m > self.published.month else 0)
        return y

    def _next_day(self, phrase: str) -> ResolvedDate | None:
        """The day after (or before) the day in context."""
        if self.year is None or self.month is None or self.day is None:
            return None
        step = -1 if _BACK_DAY.fullmatch(phrase) else 1
        return ResolvedDate((date(self.year, self.month, self.day) + timedelta(days=step)).isoformat(), "day")

    def _last_year(self, k: str, g: tuple) -> ResolvedDate | None:
        """The year before publication, or a month of it; counted back from the publication date only: the running
        context is not "now"."""
        if self.published is None:
            return None
        y = self.published.year - 1
        return ResolvedDate(f"{y:04d}-{_month(g[0]):02d}", "month") if k == "month_last_year" else ResolvedDate(f"{y:04d}", "year")

    def _this_year(self) -> ResolvedDate | None:
        """The year of publication; without a stated one, the latest year the text states (its present is not before)."""
        y = self.published.year if self.published is not None else self.latest_year
        return ResolvedDate(f"{y:04d}", "year") if y is not None else None

    def _same(self, k: str) -> ResolvedDate | None:
        """The day, month or year in context, or the year after it."""
        if k == "same_day":
            if self.year is None or self.month is None or self.day is None:
                return None
            return ResolvedDate(f"{self.year:04d}-{self.month:02d}-{self.day:02d}", "day")
        if k == "same_month":
            if self.year is None or self.month is None:
                return None
            return ResolvedDate(f"{self.year:04d}-{self.month:02d}", "month")
        if self.year is None:
            return None
        return ResolvedDate(f"{self.year + (k == 'next_year'):04d}", "year")

    def _shift(self, g: tuple, anchor: ResolvedDate | None) -> ResolvedDate | None:
        """"two weeks later", "trois jours avant": a count of units back or forward from the anchor or the context."""
        base = anchor if anchor is not None else self._context_date()
        if base is None:
            return None
        amount = int(g[0]) if g[0].isdigit() else _COUNTS.get(g[0].lower(), 1)
        return _shifted(base, _unit_kind(g[1]), -amount if _BACK_SHIFT.fullmatch(g[2]) else amount)

    def _context_date(self) -> ResolvedDate | None:
        """The date in context at the precision it has (None before any year)."""
        if self.year is None:
            return None
        return ResolvedDate(
            f"{self.year:04d}" + (f"-{self.month:02d}" if self.month else "") + (f"-{self.day:02d}" if self.month and self.day else ""),
            "day" if self.day and self.month else ("month" if self.month else "year"),
        )


_EXPLICIT = ("iso", "iso_month", "mdy", "dmy", "month_year", "decade", "vague_year", "year")


def _explicit(k: str, g: tuple) -> ResolvedDate | None:
    """A date that states its own year: needs no context."""
    if k == "iso":
        y, m, d = int(g[0]), int(g[1]), int(g[2])
        return ResolvedDate(f"{y:04d}-{m:02d}-{d:02d}", "day") if _valid(y, m, d) else None
    if k == "iso_month":
        return ResolvedDate(f"{int(g[0]):04d}-{int(g[1]):02d}", "month")
    if k in ("mdy", "dmy"):
        mon, day = (g[0], g[1]) if k == "mdy" else (g[1], g[0])
        y, m, d = int(g[2]), _month(mon), _day(day)
        return ResolvedDate(f"{y:04d}-{m:02d}-{d:02d}", "day") if _valid(y, m, d) else None
    if k == "month_year":
        return ResolvedDate(f"{int(g[1]):04d}-{_month(g[0]):02d}", "month")
    if k == "decade":
        return ResolvedDate(g[1] or g[2], "decade", (g[0] or "").lower() or None)
    if k == "vague_year":
        return ResolvedDate(g[1], "year", g[0].lower())
    return ResolvedDate(g[0], "year")


def _unit_kind(word: str) -> str:
    """day, week, month or year: what a unit word ("weeks", "ans") counts."""
    word = word.lower()
    return _UNIT_KIND.get(word) or _UNIT_KIND.get(word[:-1], "day")


def _shifted(base: ResolvedDate, unit: str, amount: int) -> ResolvedDate | None:
    """`base` moved by `amount` units, at the precision base and unit allow."""
    y, m, d = base.key
    if unit == "year":
        return ResolvedDate(f"{y + amount:04d}" + (f"-{m:02d}" if m and base.precision != "year" else ""),
                            "month" if m and base.precision != "year" else "year")
    if unit == "month":
        if not m:
            return None
        ny, nm = _shift_months(y, m, amount)
        return ResolvedDate(f"{ny:04d}-{nm:02d}", "month")
    if not (m and d):
        return ResolvedDate(f"{y:04d}-{m:02d}", "month") if m else None
    nd = date(y, m, d) + timedelta(days=amount * (7 if unit == "week" else 1))
    return ResolvedDate(nd.isoformat(), "day")
