"""The event-type vocabulary with ACLED mapping and trigger patterns, loaded from YAML and validated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from .files import check_entry, compile_words, language_alternation, read_yaml

EVENT_TYPES_FILE = Path(__file__).resolve().parent / "event_types.yaml"
EVENT_TYPES = (
    "armed_clash", "attack", "violence_against_civilians", "protest", "coup", "election", "deployment",
    "withdrawal", "training", "arms_transfer", "agreement", "diplomatic_meeting", "vote", "sanction",
    "media_restriction", "information_operation", "publication", "other",
)

_EVENT_TYPE_FIELDS = {"id", "acled", "suppresses", "requires_source", "triggers", "weak_triggers", "description"}


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


@lru_cache(maxsize=4)
def load_event_types(path: str | None = None) -> tuple[EventType, ...]:
    """Return the validated event types of the packaged file (or another file of the same shape)."""
    p = Path(path) if path else EVENT_TYPES_FILE
    data = read_yaml(p, "event types")
    out = []
    for i, item in enumerate(data.get("event_types") or []):
        where = check_entry(p, "event_types", i, item, "event type", "id", EVENT_TYPES, _EVENT_TYPE_FIELDS)
        acled = item.get("acled") or ["Strategic developments", "Other"]
        if not (isinstance(acled, list) and len(acled) == 2):
            raise OntologyError(f"{where}: 'acled' must be [event_type, sub_event_type]")
        triggers, weak = {}, {}
        for key, table in (("triggers", triggers), ("weak_triggers", weak)):
            for lang, patterns in (item.get(key) or {}).items():
                table[lang] = compile_words(f"{where}: {key}.{lang}", patterns)
        suppresses = tuple(item.get("suppresses") or ())
        bad = [s for s in suppresses if s not in EVENT_TYPES]
        if bad:
            raise OntologyError(f"{where}: unknown type(s) in 'suppresses': {', '.join(bad)}")
        out.append(EventType(item["id"], acled[0], acled[1], suppresses,
                             bool(item.get("requires_source", False)), triggers, weak))
    return tuple(out)


CUE_NAMES = ("reporting", "possible", "onset", "by_agent", "civilian_target", "place_preposition", "place_noun",
             "toll_victim", "toll_verb", "toll_qualifier", "toll_verb_qualifier", "toll_many", "harm_not_death", "remote_weapon",
             "number_words", "no_deaths", "one_killed", "one", "demand", "reference_determiner", "elided_article",
             "introduces_parties", "announced", "intro_clause", "intro_after", "passive", "no_object", "speech_opening", "self_reference", "denied_existence", "habitual", "time_anchor", "passive_perfect", "death_word", "of_gap", "article", "target",
             "agent_head", "conjunction", "perfect_auxiliary", "according_to", "singular_determiner", "definite_article", "near",
             "untagged_place_near", "untagged_place_preposition", "untagged_place_head", "locative", "locative_head",
             "place_article", "place_of", "partitive", "past_ending")
HEDGE_NAMES = ("denied", "suspected", "alleged", "planned")
# Cues the event stage reads from voice.yaml, the one list of who-is-speaking words: event cue → voice section.
VOICE_CUES = {"negation": "negation"}
VOICE_FILE = Path(__file__).resolve().parent / "voice.yaml"


@dataclass(frozen=True, slots=True)
class EventCues:
    """The word lists the event stage reads around triggers, each an alternation of English and French patterns
    (no boundaries of its own: the stage puts each in its context). `hedges` keeps the file's order."""

    cues: dict[str, str]
    hedges: tuple[tuple[str, str], ...]


@lru_cache(maxsize=4)
def load_event_cues(path: str | None = None, voice_path: str | None = None) -> EventCues:
    """Return the validated cue word lists of the event-types file (its `cues` section) and, for VOICE_CUES, of the
    voice file."""
    p = Path(path) if path else EVENT_TYPES_FILE
    data = read_yaml(p, "event cues")
    section = data.get("cues")
    if not isinstance(section, dict):
        raise OntologyError(f"{p}: expected a 'cues' mapping")
    missing = [n for n in (*CUE_NAMES, "hedges") if n not in section]
    if missing:
        raise OntologyError(f"{p}: cues: missing {', '.join(missing)}")
    cues = {name: language_alternation(f"{p}: cues.{name}", section[name]) for name in CUE_NAMES}
    own = [n for n in VOICE_CUES if n in section]
    if own:
        raise OntologyError(f"{p}: cues: {', '.join(own)} is read from voice.yaml (one list for every stage); remove it here")
    v = Path(voice_path) if voice_path else VOICE_FILE
    voice = read_yaml(v, "voice cues")
    for name, key in VOICE_CUES.items():
        if key not in voice:
            raise OntologyError(f"{v}: '{key}' is missing (the event stage reads it)")
        cues[name] = language_alternation(f"{v}: {key}", voice[key])
    hedges = section["hedges"]
    if not isinstance(hedges, dict) or set(hedges) != set(HEDGE_NAMES):
        raise OntologyError(f"{p}: cues.hedges must give exactly {', '.join(HEDGE_NAMES)}")
    return EventCues(cues, tuple((name, language_alternation(f"{p}: cues.hedges.{name}", table)) for name, table in hedges.items()))


ACTOR_TYPES_FILE = Path(__file__).resolve().parent / "actor_types.yaml"
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
