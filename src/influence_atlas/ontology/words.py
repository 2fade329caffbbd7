"""The words the actor and quantity stages read (`names.yaml`, `quantities.yaml`), each extended by the user's
files ($ATLAS_NAME_WORDS, $ATLAS_QUANTITY_WORDS), validated on load."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from .files import PACKAGE_DIR, joined, languages_of, merge_sections, read_yaml, user_files, words_of

NAMES_FILE = PACKAGE_DIR / "names.yaml"
QUANTITIES_FILE = PACKAGE_DIR / "quantities.yaml"
NAME_SECTIONS = ("leading_articles", "catalogue_articles", "name_articles", "name_glue", "coordinators", "title_articles",
                 "title_modifiers", "titles", "facility_heads", "non_actor_heads", "non_name_prefixes",
                 "acronym_word_exceptions", "defence_office", "foreign_office", "office_possessives", "credit_labels",
                 "organisation_descriptors", "channel_words", "name_prepositions",
                 "peacekeeping_phrases", "un_mission_names")
NAME_WORD_SECTIONS = ("name_articles", "name_glue", "coordinators", "acronym_word_exceptions", "office_possessives",
                      "organisation_descriptors", "channel_words")
# The sections of ontology/names.yaml that name a state's ministries by their office (plain phrases).
OFFICE_SECTIONS = ("defence_office", "foreign_office")
QUANTITY_VALUES = ("numbers", "scales", "fractions", "vague", "currencies", "counted_kinds")
# Value sections whose values are names (a currency code, a kind of counted thing), not numbers.
QUANTITY_NAMES = ("currencies", "counted_kinds")
QUANTITY_SECTIONS = ("number_joiners", "qualifiers", "percent", "rate_words", "rate_periods", "unit_links", "not_units",
                     "ordinal_endings", "range_open", "range_join", "at_most",
                     "at_least")
QUANTITY_WORD_SECTIONS = ("number_joiners", "not_units", "rate_words")


@dataclass(frozen=True, slots=True)
class WordLists:
    """Merged pattern sections (section → language → patterns) and value sections (section → phrase → value)."""

    patterns: dict[str, dict[str, list[str]]]
    values: dict[str, dict[str, object]]

    def any(self, section: str) -> str:
        """Return one alternation (no boundaries of its own) of a section's patterns in every language."""
        return joined(self.patterns[section])

    def words(self, section: str) -> frozenset[str]:
        """Return the words of a word section in every language."""
        return words_of(self.patterns[section])


def name_word_files(extra: tuple[str, ...] = ()) -> tuple[Path, ...]:
    """Return the packaged name-words file followed by the user's files ($ATLAS_NAME_WORDS, then `extra`)."""
    return user_files(NAMES_FILE, "ATLAS_NAME_WORDS", extra)


def quantity_word_files(extra: tuple[str, ...] = ()) -> tuple[Path, ...]:
    """Return the packaged quantity-words file followed by the user's files ($ATLAS_QUANTITY_WORDS, then `extra`)."""
    return user_files(QUANTITIES_FILE, "ATLAS_QUANTITY_WORDS", extra)


def load_name_words(extra: tuple[str, ...] = ()) -> WordLists:
    """Return the merged, validated words around names."""
    return _load(tuple(str(p) for p in name_word_files(extra)), "name words", NAME_SECTIONS, NAME_WORD_SECTIONS, ())


def load_quantity_words(extra: tuple[str, ...] = ()) -> WordLists:
    """Return the merged, validated quantity words."""
    return _load(tuple(str(p) for p in quantity_word_files(extra)), "quantity words", QUANTITY_SECTIONS, QUANTITY_WORD_SECTIONS,
                 QUANTITY_VALUES)


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...], what: str, sections: tuple[str, ...], words: tuple[str, ...],
          value_sections: tuple[str, ...]) -> WordLists:
    files = tuple(Path(p) for p in paths)
    patterns = merge_sections(files, what, sections, words, others=value_sections)
    values: dict[str, dict[str, object]] = {s: {} for s in value_sections}
    for p in files:
        data = read_yaml(p, what)
        for section in value_sections:
            if section in data:
                for lang, table in languages_of(f"{p}: {section}", data[section]).items():
                    values[section].update(_values(f"{p}: {section}.{lang}", table, str if section in QUANTITY_NAMES else (int, float)))
    return WordLists(patterns, values)


def _values(where: str, table: object, kind: type | tuple[type, ...]) -> dict[str, object]:
    if not isinstance(table, dict) or not table:
        raise OntologyError(f"{where}: expected a mapping of lower-case phrase to its value")
    for phrase, value in table.items():
        if not isinstance(phrase, str) or not phrase.strip() or phrase != phrase.lower() or re.search(r"\s\s|^\s|\s$", phrase):
            raise OntologyError(f"{where}: {phrase!r} must be a lower-case phrase with single spaces")
        if not isinstance(value, kind) or isinstance(value, bool):
            expected = "a code such as USD" if kind is str else "a number"
            raise OntologyError(f"{where}: {phrase!r} must map to {expected}, got {value!r}")
    return dict(table)
