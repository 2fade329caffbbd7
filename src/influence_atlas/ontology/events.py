"""The event-type vocabulary with ACLED mapping and trigger patterns, loaded from YAML and validated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from .files import PACKAGE_DIR, alternation, check_entry, compile_words, joined, language_alternation, languages_of, read_yaml, user_files
from .voice import merged_hedge_kinds, merged_voice_words, voice_files

EVENT_TYPES_FILE = PACKAGE_DIR / "event_types.yaml"
_EVENT_TYPE_FIELDS = {"id", "acled", "suppresses", "requires_source", "triggers", "weak_triggers", "merge_similarity", "kinds",
                      "description"}
_TRIGGER_KEYS = ("triggers", "weak_triggers")
_DEFAULT_ACLED = ("Strategic developments", "Other")


@dataclass(frozen=True, slots=True)
class EventType:
    """One event type: its ACLED event and sub-event type, the types it suppresses, and compiled triggers per language."""

    id: str
    acled_type: str
    acled_sub_type: str
    suppresses: tuple[str, ...]
    requires_source: bool
    triggers: dict[str, re.Pattern]
    weak_triggers: dict[str, re.Pattern] = field(default_factory=dict)
    # Two undated tellings of the type in one document are one happening only when their sentences read alike
    # (shared encoder cosine at least this); None: type, date and parties decide alone.
    merge_similarity: float | None = None
    # The acts a type gathers, each a kind with its own triggers (kind -> language -> pattern); `triggers` holds them
    # too. Two tellings of one type and two kinds are two happenings (`event_kind`).
    kinds: dict[str, dict[str, re.Pattern]] = field(default_factory=dict)


def event_type_files(path: str | None = None) -> tuple[Path, ...]:
    """Return the packaged event-types file (or `path`, a whole file of the same shape) followed by the user's files
    ($ATLAS_EVENT_TYPES)."""
    return (Path(path) if path else EVENT_TYPES_FILE,) + user_files(EVENT_TYPES_FILE, "ATLAS_EVENT_TYPES")[1:]


def load_event_types(path: str | None = None) -> tuple[EventType, ...]:
    """Return the validated event types of the packaged file (or `path`) and the user's event-type files: a user's
    entry with a new id adds a type; with a known id it adds triggers and suppressed types and replaces the other
    fields it gives."""
    return _event_types(tuple(str(p) for p in event_type_files(path)))


def event_type_ids() -> tuple[str, ...]:
    """Return the ids of every event type, the packaged ones first, then those the user's files add."""
    return tuple(t.id for t in load_event_types())


@lru_cache(maxsize=1)
def packaged_event_type_ids() -> tuple[str, ...]:
    """Return the ids of the packaged event types, in the file's order (the vocabulary of the gold and the models)."""
    return tuple(t.id for t in _event_types((str(EVENT_TYPES_FILE),)))


def __getattr__(name: str) -> tuple[str, ...]:
    if name == "EVENT_TYPES":  # the packaged vocabulary, read from the file when first asked for
        return packaged_event_type_ids()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@lru_cache(maxsize=4)
def _event_types(paths: tuple[str, ...]) -> tuple[EventType, ...]:
    merged: dict[str, dict] = {}
    for p in (Path(x) for x in paths):
        data = read_yaml(p, "event types")
        unknown = set(data) - {"version", "event_types", "cues"}
        if unknown:
            raise OntologyError(f"{p}: unknown section(s) {', '.join(sorted(map(str, unknown)))}; the sections are event_types, cues")
        items = data.get("event_types") or []
        if not isinstance(items, list):
            raise OntologyError(f"{p}: 'event_types' must be a list of event types")
        seen: set[str] = set()
        for i, item in enumerate(items):
            entry = _event_type_entry(p, i, item)
            if entry["id"] in seen:
                raise OntologyError(f"{entry['where']}: given twice in one file")
            seen.add(entry["id"])
            _merge_event_type(merged, entry)
    out = []
    for tid, e in merged.items():
        bad = [s for s in e["suppresses"] if s not in merged]
        if bad:
            raise OntologyError(f"{e['where']}: unknown type(s) in 'suppresses': {', '.join(bad)}")
        triggers = {key: {lang: compile_words(f"{e['where']}: {key}.{lang}", pats) for lang, pats in e[key].items()}
                    for key in _TRIGGER_KEYS}
        kinds = {kind: {lang: compile_words(f"{e['where']}: kinds.{kind}.{lang}", pats) for lang, pats in table.items()}
                 for kind, table in e["kinds"].items()}
        out.append(EventType(tid, e["acled"][0], e["acled"][1], tuple(e["suppresses"]), e["requires_source"],
                             triggers["triggers"], triggers["weak_triggers"], e["merge_similarity"], kinds))
    return tuple(out)


def event_kind(type_id: str, trigger: str) -> str | None:
    """Return the kind of act (the type's `kinds`: a denial, an inquiry, a crash ...) whose pattern the whole trigger
    text of a telling of `type_id` matches, the first in the file's order; None when the type has no kinds, the
    trigger is none of them, or the type is unknown."""
    return _event_kind(type_id, trigger, tuple(str(p) for p in event_type_files()))


def different_kinds(a, b) -> bool:
    """Whether two tellings (records with a `type` and a `trigger`) are two kinds of act: both have a kind
    (`event_kind`) and the kinds differ. A telling without one (a type without kinds, a trigger the detector gave)
    differs from none."""
    ka, kb = event_kind(a.type, a.trigger), event_kind(b.type, b.trigger)
    return ka is not None and kb is not None and ka != kb


@lru_cache(maxsize=4096)
def _event_kind(type_id: str, trigger: str, paths: tuple[str, ...]) -> str | None:
    et = next((t for t in _event_types(paths) if t.id == type_id), None)
    if et is None or not trigger:
        return None
    text = trigger.strip()
    return next((kind for kind, table in et.kinds.items() if any(p.fullmatch(text) for p in table.values())), None)


def _event_type_entry(p: Path, i: int, item: object) -> dict:
    """Return one checked entry of an event-types file as plain lists; OntologyError naming the file and entry otherwise."""
    where = check_entry(p, "event_types", i, item, "event type", "id", None, _EVENT_TYPE_FIELDS)
    assert isinstance(item, dict)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", item["id"]):
        raise OntologyError(f"{where}: an id is lower-case letters, digits and underscores")
    acled = item.get("acled")
    if acled is not None and not (isinstance(acled, list) and len(acled) == 2 and all(isinstance(a, str) and a for a in acled)):
        raise OntologyError(f"{where}: 'acled' must be [event_type, sub_event_type]")
    suppresses = item.get("suppresses") or []
    if not isinstance(suppresses, list) or not all(isinstance(s, str) for s in suppresses):
        raise OntologyError(f"{where}: 'suppresses' must be a list of event type ids")
    similarity = item.get("merge_similarity")
    if similarity is not None and (isinstance(similarity, bool) or not isinstance(similarity, (int, float)) or not 0 <= similarity <= 1):
        raise OntologyError(f"{where}: 'merge_similarity' must be a number from 0 to 1")
    entry = {"id": item["id"], "where": where, "acled": acled, "suppresses": suppresses,
             "requires_source": bool(item["requires_source"]) if "requires_source" in item else None,
             "merge_similarity": float(similarity) if similarity is not None else None}
    for key in _TRIGGER_KEYS:
        entry[key] = {}
        if item.get(key) is not None:
            for lang, patterns in languages_of(f"{where}: {key}", item[key]).items():
                alternation(f"{where}: {key}.{lang}", patterns)
                entry[key][lang] = list(patterns)
    entry["kinds"] = {}
    kinds = item.get("kinds")
    if kinds is not None and not (isinstance(kinds, dict) and kinds and all(isinstance(k, str) and re.fullmatch(r"[a-z][a-z0-9_]*", k) for k in kinds)):
        raise OntologyError(f"{where}: 'kinds' must map kind names (lower-case letters, digits and underscores) to "
                            "their triggers per language")
    for kind, table in (kinds or {}).items():
        entry["kinds"][kind] = {}
        for lang, patterns in languages_of(f"{where}: kinds.{kind}", table).items():
            alternation(f"{where}: kinds.{kind}.{lang}", patterns)
            entry["kinds"][kind][lang] = list(patterns)
            # A kind's triggers are the type's triggers.
            entry["triggers"].setdefault(lang, []).extend(patterns)
    return entry


def _merge_event_type(merged: dict[str, dict], entry: dict) -> None:
    """Add a file's entry: a new type as it is (ACLED's Strategic developments / Other unless it says); a known one
    gains its triggers, kinds' triggers and suppressed types and takes the ACLED mapping, `requires_source` and `merge_similarity` it
    gives."""
    old = merged.get(entry["id"])
    if old is None:
        merged[entry["id"]] = {**entry, "acled": entry["acled"] or list(_DEFAULT_ACLED),
                               "requires_source": bool(entry["requires_source"]),
                               "suppresses": list(dict.fromkeys(entry["suppresses"]))}
        return
    old["suppresses"] = list(dict.fromkeys(old["suppresses"] + entry["suppresses"]))
    for key in _TRIGGER_KEYS:
        for lang, patterns in entry[key].items():
            old[key].setdefault(lang, []).extend(patterns)
    for kind, table in entry["kinds"].items():
        for lang, patterns in table.items():
            old["kinds"].setdefault(kind, {}).setdefault(lang, []).extend(patterns)
    if entry["acled"]:
        old["acled"] = entry["acled"]
    if entry["requires_source"] is not None:
        old["requires_source"] = entry["requires_source"]
    if entry["merge_similarity"] is not None:
        old["merge_similarity"] = entry["merge_similarity"]


CUE_NAMES = ("reporting", "possible", "onset", "by_agent", "civilian_target", "place_preposition", "place_noun",
             "toll_victim", "toll_verb", "toll_qualifier", "toll_verb_qualifier", "toll_many", "harm_not_death", "remote_weapon",
             "number_words", "no_deaths", "one_killed", "one", "demand", "depiction", "reference_determiner", "elided_article",
             "introduces_parties", "announced", "intro_clause", "intro_after", "passive", "no_object", "speech_opening", "self_reference", "self_possessive", "denied_existence", "habitual", "time_anchor", "passive_perfect", "death_word", "of_gap", "article", "target",
             "agent_head", "conjunction", "perfect_auxiliary", "according_to", "singular_determiner", "definite_article", "near",
             "untagged_place_near", "untagged_place_preposition", "untagged_place_head", "locative", "locative_head",
             "place_article", "place_of", "partitive", "past_ending", "purpose", "route", "route_onward", "accident",
             "aboard")
# Cues the event stage reads from voice.yaml, the one list of who-is-speaking words: event cue → voice section.
VOICE_CUES = {"negation": "negation"}


@dataclass(frozen=True, slots=True)
class EventCues:
    """The word lists the event stage reads around triggers, each an alternation of English and French patterns
    (no boundaries of its own: the stage puts each in its context). `hedges` keeps the voice file's order."""

    cues: dict[str, str]
    hedges: tuple[tuple[str, str], ...]


def load_event_cues(path: str | None = None, voice_path: str | None = None) -> EventCues:
    """Return the validated cue word lists of the event-types files (their `cues` sections: the packaged file, or
    `path`, gives every cue; the user's files add patterns) and, for VOICE_CUES and the hedge kinds, of the voice
    files (`voice_path` in place of the packaged one)."""
    return _event_cues(tuple(str(p) for p in event_type_files(path)), tuple(str(p) for p in voice_files(voice_path)))


@lru_cache(maxsize=4)
def _event_cues(paths: tuple[str, ...], voice_paths: tuple[str, ...]) -> EventCues:
    merged: dict[str, dict[str, list[str]]] = {name: {} for name in CUE_NAMES}
    for i, p in enumerate(Path(x) for x in paths):
        section = read_yaml(p, "event cues").get("cues")
        if section is None and i:
            continue
        if not isinstance(section, dict):
            raise OntologyError(f"{p}: expected a 'cues' mapping")
        missing = [n for n in CUE_NAMES if n not in section] if i == 0 else []
        if missing:
            raise OntologyError(f"{p}: cues: missing {', '.join(missing)}")
        own = [n for n in (*VOICE_CUES, "hedges") if n in section]
        if own:
            raise OntologyError(f"{p}: cues: {', '.join(own)} is read from voice.yaml (one list for every stage); remove it here")
        unknown = sorted(set(map(str, section)) - set(CUE_NAMES))
        if unknown:
            raise OntologyError(f"{p}: cues: unknown {', '.join(unknown)}")
        for name, table in section.items():
            language_alternation(f"{p}: cues.{name}", table)
            for lang, patterns in table.items():
                merged[name].setdefault(lang, []).extend(patterns)
    cues = {name: joined(table) for name, table in merged.items()}
    voice = merged_voice_words(voice_paths)
    for name, key in VOICE_CUES.items():
        cues[name] = joined(voice[key])
    return EventCues(cues, tuple((name, joined(table)) for name, table in merged_hedge_kinds(voice_paths).items()))


ACTOR_TYPES_FILE = PACKAGE_DIR / "actor_types.yaml"
ACTOR_TYPE_IDS = (
    "state_forces", "rebels", "political_militia", "unidentified_armed_group", "identity_militia", "rioters",
    "protesters", "civilians", "external_forces",
)

_ACTOR_TYPE_FIELDS = {"id", "inter", "label", "country_from_place", "heads", "description"}


@dataclass(frozen=True, slots=True)
class ActorType:
    """One actor type: ACLED's `inter` code, the label of an unnamed party, and its compiled heads per language."""

    id: str
    inter: int
    label: str
    country_from_place: bool
    heads: dict[str, re.Pattern]


@dataclass(frozen=True, slots=True)
class ActorTypes:
    """The validated actor-type vocabulary and which types act rather than suffer."""

    types: tuple[ActorType, ...]
    agent_types: tuple[str, ...]

    def by_id(self) -> dict[str, ActorType]:
        """Return the actor types keyed by id."""
        return {t.id: t for t in self.types}


@lru_cache(maxsize=4)
def load_actor_types(path: str | None = None) -> ActorTypes:
    """Return the validated actor types of the packaged file (or another file of the same shape)."""
    p = Path(path) if path else ACTOR_TYPES_FILE
    data = read_yaml(p, "actor types")
    if not isinstance(data.get("actor_types"), list):
        raise OntologyError(f"{p}: expected a mapping with an 'actor_types' list")
    out = []
    for i, item in enumerate(data["actor_types"]):
        where = check_entry(p, "actor_types", i, item, "actor type", "id", ACTOR_TYPE_IDS, _ACTOR_TYPE_FIELDS)
        inter = item.get("inter")
        if not isinstance(inter, int) or not 1 <= inter <= 8:
            raise OntologyError(f"{where}: 'inter' must be ACLED's actor code, an integer from 1 to 8")
        label = item.get("label")
        if not isinstance(label, str) or not label.strip():
            raise OntologyError(f"{where}: 'label' is required")
        heads = {}
        for lang, patterns in (item.get("heads") or {}).items():
            heads[lang] = compile_words(f"{where}: heads.{lang}", patterns)
        out.append(ActorType(item["id"], inter, label.strip(), bool(item.get("country_from_place", True)), heads))
    ids = {t.id for t in out}
    agents = tuple(data.get("agent_types") or ())
    bad = [a for a in agents if a not in ids]
    if bad:
        raise OntologyError(f"{p}: unknown type(s) in 'agent_types': {', '.join(bad)}")
    return ActorTypes(tuple(out), agents)
