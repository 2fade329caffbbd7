"""The words the date stage reads (`dates.yaml`, extended by the user's files in $ATLAS_DATE_WORDS): month and
weekday names, counts and units, and the phrases of relative and vague dates, validated on load."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from .files import PACKAGE_DIR, check_patterns, joined, languages_of, merge_sections, read_yaml, user_files

DATES_FILE = PACKAGE_DIR / "dates.yaml"
NAME_SECTIONS = ("months", "weekdays")
PHRASE_SECTIONS = ("same_day", "same_month", "same_year", "next_year", "last_year", "this_year", "month_leads", "month_of", "day_article",
                   "weekday_leads", "span_open", "span_join", "year_qualifiers", "decade_article", "decade_qualifiers",
                   "decade_leads")
# Sections whose phrases are split by direction: back (earlier) or forward (later).
DIRECTION_SECTIONS = ("shift_directions", "relative_day")
DIRECTIONS = ("back", "forward")
UNIT_KINDS = ("day", "week", "month", "year")
_OTHER_SECTIONS = (*NAME_SECTIONS, "counts", "units", *DIRECTION_SECTIONS)
_NAME_FIELDS = {"names", "abbreviations", "capitalised", "month_first"}


@dataclass(frozen=True, slots=True)
class Names:
    """Month or weekday names of one language: name → number, as the file gives them."""

    names: dict[str, int]
    abbreviations: dict[str, int]
    capitalised: bool
    month_first: bool


@dataclass(frozen=True, slots=True)
class DateWords:
    """The validated date words. Names keep the file's order per language; phrases are per language lists of patterns."""

    months: dict[str, Names]
    weekdays: dict[str, Names]
    counts: dict[str, dict[str, int]]
    units: dict[str, dict[str, list[str]]]
    directions: dict[str, dict[str, dict[str, list[str]]]]  # section -> language -> back/forward -> patterns
    phrases: dict[str, dict[str, list[str]]]  # section -> language -> patterns

    def phrase(self, section: str, languages: tuple[str, ...] | None = None) -> str:
        """Return one alternation (no boundaries of its own) of a phrase section's patterns, every language's unless
        `languages` names some, in the files' order; `(?!)`, matching nothing, when none is given."""
        return joined(self.phrases[section], languages)

    def direction(self, section: str, way: str | None = None) -> str:
        """Return one alternation of a direction section's patterns, both ways (in the files' order) or one way."""
        return joined({lang: [p for w, pats in ways.items() if way in (None, w) for p in pats]
                       for lang, ways in self.directions[section].items()})


def date_word_files(extra: tuple[str, ...] = ()) -> tuple[Path, ...]:
    """Return the packaged date-words file followed by the user's files ($ATLAS_DATE_WORDS, then `extra`)."""
    return user_files(DATES_FILE, "ATLAS_DATE_WORDS", extra)


def load_date_words(extra: tuple[str, ...] = ()) -> DateWords:
    """Return the merged, validated date words of the packaged file and the user's files."""
    return _load(tuple(str(p) for p in date_word_files(extra)))


@lru_cache(maxsize=4)
def _load(paths: tuple[str, ...]) -> DateWords:
    files = tuple(Path(p) for p in paths)
    phrases = merge_sections(files, "date words", PHRASE_SECTIONS, others=_OTHER_SECTIONS)
    merged: dict[str, dict] = {s: {} for s in _OTHER_SECTIONS}
    for p in files:
        data = read_yaml(p, "date words")
        for section in _OTHER_SECTIONS:
            if section in data:
                for lang, entries in languages_of(f"{p}: {section}", data[section]).items():
                    _merge(f"{p}: {section}.{lang}", section, entries, merged[section].setdefault(lang, {}))
    months = {lang: _names(f"date words: months.{lang}", v) for lang, v in merged["months"].items()}
    weekdays = {lang: _names(f"date words: weekdays.{lang}", v) for lang, v in merged["weekdays"].items()}
    for label, table in (("months", months), ("weekdays", weekdays)):
        _no_clash(label, {lang: {**n.names, **n.abbreviations} for lang, n in table.items()})
    _no_clash("counts", merged["counts"])
    return DateWords(months, weekdays, merged["counts"], merged["units"], {s: merged[s] for s in DIRECTION_SECTIONS}, phrases)


def _merge(here: str, section: str, entries: object, into: dict) -> None:
    """Fold one file's entries of one language into the merged table: names and counts added or overridden, lists
    appended."""
    if section in NAME_SECTIONS:
        if not isinstance(entries, dict) or set(entries) - _NAME_FIELDS:
            raise OntologyError(f"{here}: expected a mapping with 'names' (and optionally {', '.join(sorted(_NAME_FIELDS - {'names'}))})")
        low, high = (1, 12) if section == "months" else (0, 6)
        for key in ("names", "abbreviations"):
            into.setdefault(key, {}).update(_numbers(f"{here}.{key}", entries.get(key) or {}, (low, high)))
        for key in ("capitalised", "month_first"):
            if key in entries:
                if not isinstance(entries[key], bool):
                    raise OntologyError(f"{here}.{key}: expected true or false")
                into[key] = entries[key]
    elif section == "counts":
        into.update(_numbers(here, entries))
    else:
        kinds = UNIT_KINDS if section == "units" else DIRECTIONS
        if not isinstance(entries, dict) or set(entries) - set(kinds):
            raise OntologyError(f"{here}: expected a mapping of {', '.join(kinds)} to a list of {'words' if section == 'units' else 'patterns'}")
        for kind, items in entries.items():
            into.setdefault(kind, []).extend(check_patterns(f"{here}.{kind}", items, words=section == "units"))


def _numbers(where: str, value: object, bounds: tuple[int, int] | None = None) -> dict[str, int]:
    if not isinstance(value, dict):
        raise OntologyError(f"{where}: expected a mapping of lower-case word to a number")
    for word, number in value.items():
        if not isinstance(word, str) or not re.fullmatch(r"[^\W\d_]+", word) or word != word.lower():
            raise OntologyError(f"{where}: {word!r} must be one lower-case word")
        if not isinstance(number, int) or isinstance(number, bool):
            raise OntologyError(f"{where}: {word!r} must map to a whole number, got {number!r}")
        if bounds and not bounds[0] <= number <= bounds[1]:
            raise OntologyError(f"{where}: {word!r} must map to a number from {bounds[0]} to {bounds[1]}")
    return dict(value)


def _names(where: str, value: dict) -> Names:
    if not value["names"]:
        raise OntologyError(f"{where}: 'names' is required")
    return Names(value["names"], value["abbreviations"], value.get("capitalised", False), value.get("month_first", False))


def _no_clash(section: str, tables: dict[str, dict[str, int]]) -> None:
    seen: dict[str, tuple[str, int]] = {}
    for lang, table in tables.items():
        for word, number in table.items():
            if word in seen and seen[word][1] != number:
                raise OntologyError(f"date words: {section}: {word!r} is {seen[word][1]} in {seen[word][0]} and {number} in {lang}")
            seen[word] = (lang, number)
