"""The event-type vocabulary with ACLED mapping and trigger patterns, loaded from YAML and validated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import OntologyError

EVENT_TYPES_FILE = Path(__file__).resolve().parent / "event_types.yaml"
EVENT_TYPES = (
    "armed_clash", "attack", "violence_against_civilians", "protest", "coup", "election", "deployment",
    "withdrawal", "training", "arms_transfer", "agreement", "diplomatic_meeting", "vote", "sanction",
    "media_restriction", "information_operation", "publication", "other",
)


@dataclass(frozen=True, slots=True)
class EventType:
    """One event type: its ACLED event and sub-event type, priority, and compiled triggers per language."""

    id: str
    acled_type: str
    acled_sub_type: str
    priority: int
    suppresses: tuple[str, ...]
    requires_source: bool
    triggers: dict[str, re.Pattern]


@lru_cache(maxsize=4)
def load_event_types(path: str | None = None) -> tuple[EventType, ...]:
    """Return the validated event types of the packaged file (or another file of the same shape)."""
    p = Path(path) if path else EVENT_TYPES_FILE
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OntologyError(f"{p}: cannot read event types: {exc}") from exc
    out = []
    for i, item in enumerate(data.get("event_types") or []):
        where = f"{p}: event_types[{i}]"
        if not isinstance(item, dict) or item.get("id") not in EVENT_TYPES:
            raise OntologyError(f"{where}: 'id' must be one of {', '.join(EVENT_TYPES)}")
        where = f"{p}: event type '{item['id']}'"
        acled = item.get("acled") or ["Strategic developments", "Other"]
        if not (isinstance(acled, list) and len(acled) == 2):
            raise OntologyError(f"{where}: 'acled' must be [event_type, sub_event_type]")
        triggers = {}
        for lang, patterns in (item.get("triggers") or {}).items():
            try:
                triggers[lang] = re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)", re.I)
            except re.error as exc:
                raise OntologyError(f"{where}: bad trigger pattern for '{lang}': {exc}") from exc
        suppresses = tuple(item.get("suppresses") or ())
        bad = [s for s in suppresses if s not in EVENT_TYPES]
        if bad:
            raise OntologyError(f"{where}: unknown type(s) in 'suppresses': {', '.join(bad)}")
        out.append(EventType(item["id"], acled[0], acled[1], int(item.get("priority", 5)), suppresses,
                             bool(item.get("requires_source", False)), triggers))
    return tuple(out)
