"""ACLED's event taxonomy (six event types, their sub-event types, definitions and trigger cues), loaded from YAML and validated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from ..text.metadata import ANALYSED_LANGUAGES
from .events import event_type_ids, packaged_event_type_ids
from .files import compile_words, language_alternation, read_yaml

ACLED_FILE = Path(__file__).resolve().parent / "acled.yaml"
LANGUAGES = ANALYSED_LANGUAGES


@dataclass(frozen=True, slots=True)
class AcledSubType:
    """One ACLED sub-event type: its name, CASE 2021 code, parent event type, project type, definition and cues."""

    name: str
    code: str
    event_type: str
    to_project: str
    definition: str
    cues: dict[str, re.Pattern]


@dataclass(frozen=True, slots=True)
class ProjectMapping:
    """The ACLED sub-types an event of one project type may carry, and the one to use when nothing decides.

    `open`: the classifier may code an event of this type with any sub-type it is sure of (a lexicon's
    "attack" may be a defused bomb or a protest met with live fire).
    """

    default: str
    allowed: tuple[str, ...]
    open: bool = False


@dataclass(frozen=True, slots=True)
class AcledTaxonomy:
    """ACLED's event types and sub-event types, with the mapping to and from the project's event types."""

    event_types: tuple[str, ...]
    sub_types: tuple[AcledSubType, ...]
    project_types: dict[str, ProjectMapping]
    hedges: dict[str, re.Pattern]
    inter_codes: dict[str, int]
    source: str
    publication_dates: dict[str, re.Pattern] | None = None
    near_place: str = "(?!)"  # an alternation (no boundaries of its own) of the words that put an event near a place
    near_place_articles: str = "(?!)"  # the articles that may follow them

    def dates_a_publication(self, before: str) -> bool:
        """True when the words just before a date make it a publication's date ("released on", "publiée le")."""
        tail = before[-30:]
        return any(p.search(tail) for p in (self.publication_dates or {}).values())

    def sub_type(self, key: str) -> AcledSubType:
        """Return the sub-type of a name ("Armed clash") or CASE code ("ARMED_CLASH"); KeyError if unknown."""
        for s in self.sub_types:
            if key in (s.name, s.code):
                return s
        raise KeyError(key)

    def codes(self) -> tuple[str, ...]:
        """Return the sub-types' CASE codes in file order."""
        return tuple(s.code for s in self.sub_types)


@lru_cache(maxsize=4)
def load_acled_taxonomy(path: str | None = None) -> AcledTaxonomy:
    """Return the validated ACLED taxonomy of the packaged file (or another file of the same shape)."""
    p = Path(path) if path else ACLED_FILE
    data = read_yaml(p, "ACLED taxonomy")
    if not isinstance(data.get("event_types"), list):
        raise OntologyError(f"{p}: expected a mapping with an 'event_types' list")
    event_types: list[str] = []
    subs: list[AcledSubType] = []
    for i, et in enumerate(data["event_types"]):
        where = f"{p}: event_types[{i}]"
        if not isinstance(et, dict) or not isinstance(et.get("name"), str) or not et["name"].strip():
            raise OntologyError(f"{where}: 'name' is required")
        where = f"{p}: event type '{et['name']}'"
        if et["name"] in event_types:
            raise OntologyError(f"{where}: listed twice")
        event_types.append(et["name"])
        items = et.get("sub_event_types")
        if not isinstance(items, list) or not items:
            raise OntologyError(f"{where}: 'sub_event_types' must be a non-empty list")
        for j, item in enumerate(items):
            subs.append(_sub_type(p, where, j, item, et["name"], subs))
    mappings = _project_types(p, data.get("project_types"), {s.name for s in subs})
    hedges = data.get("hedges") or {}
    if not isinstance(hedges, dict) or set(hedges) - set(LANGUAGES):
        raise OntologyError(f"{p}: 'hedges' must map languages ({', '.join(LANGUAGES)}) to pattern lists")
    compiled = {lang: compile_words(f"{p}: hedges.{lang}", pats) for lang, pats in hedges.items()}
    publication = data.get("publication_dates") or {}
    if not isinstance(publication, dict) or set(publication) - set(LANGUAGES):
        raise OntologyError(f"{p}: 'publication_dates' must map languages ({', '.join(LANGUAGES)}) to pattern lists")
    publication_dates = {lang: compile_words(f"{p}: publication_dates.{lang}", pats) for lang, pats in publication.items()}
    inter = data.get("inter_codes") or {}
    if not isinstance(inter, dict) or not all(isinstance(k, str) and isinstance(v, int) and 0 <= v <= 8 for k, v in inter.items()):
        raise OntologyError(f"{p}: 'inter_codes' must map actor kinds to ACLED actor-type codes 0-8")
    near = {key: language_alternation(f"{p}: {key}", data.get(key)) for key in ("near_place", "near_place_articles")}
    return AcledTaxonomy(tuple(event_types), tuple(subs), mappings, compiled, dict(inter), str(p), publication_dates, **near)


def _sub_type(p: Path, parent: str, j: int, item: object, event_type: str, seen: list[AcledSubType]) -> AcledSubType:
    where = f"{parent}: sub_event_types[{j}]"
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
        raise OntologyError(f"{where}: 'name' is required")
    where = f"{p}: sub-event type '{item['name']}'"
    unknown = set(item) - {"name", "code", "to_project", "definition", "cues"}
    if unknown:
        raise OntologyError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    code = item.get("code")
    if not isinstance(code, str) or not re.fullmatch(r"[A-Z_]+", code):
        raise OntologyError(f"{where}: 'code' must be an upper-case code such as ARMED_CLASH")
    if any(s.name == item["name"] or s.code == code for s in seen):
        raise OntologyError(f"{where}: name or code '{code}' used twice")
    if item.get("to_project") not in event_type_ids():
        raise OntologyError(f"{where}: 'to_project' must be one of {', '.join(event_type_ids())}")
    definition = item.get("definition")
    if not isinstance(definition, str) or not definition.strip():
        raise OntologyError(f"{where}: 'definition' is required")
    cues = item.get("cues") or {}
    if not isinstance(cues, dict) or set(cues) - set(LANGUAGES):
        raise OntologyError(f"{where}: 'cues' must map languages ({', '.join(LANGUAGES)}) to pattern lists")
    compiled = {lang: compile_words(f"{where}: cues.{lang}", pats) for lang, pats in cues.items()}
    return AcledSubType(item["name"], code, event_type, item["to_project"], definition.strip(), compiled)


def _project_types(p: Path, data: object, names: set[str]) -> dict[str, ProjectMapping]:
    if not isinstance(data, dict):
        raise OntologyError(f"{p}: expected a 'project_types' mapping from project event types to ACLED sub-types")
    missing = [t for t in packaged_event_type_ids() if t not in data]
    if missing:
        raise OntologyError(f"{p}: project_types lacks {', '.join(missing)}")
    out = {}
    for key, value in data.items():
        where = f"{p}: project type '{key}'"
        if key not in event_type_ids():
            raise OntologyError(f"{where}: not a project event type; use one of {', '.join(event_type_ids())}")
        if not isinstance(value, dict) or not isinstance(value.get("allowed"), list) or not value["allowed"]:
            raise OntologyError(f"{where}: expected {{default: ..., allowed: [...]}}")
        bad = [n for n in value["allowed"] + [value.get("default")] if n not in names]
        if bad:
            raise OntologyError(f"{where}: unknown ACLED sub-event type(s) {', '.join(map(str, bad))}")
        if value["default"] not in value["allowed"]:
            raise OntologyError(f"{where}: default '{value['default']}' is not in 'allowed'")
        if not isinstance(value.get("open", False), bool):
            raise OntologyError(f"{where}: 'open' must be true or false")
        out[key] = ProjectMapping(value["default"], tuple(value["allowed"]), value.get("open", False))
    return out
