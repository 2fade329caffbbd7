"""The cue patterns that recognise influence-operation behaviours and the DISARM techniques they stand for
(`disarm_cues.yaml`, extended by the user's files), validated on load."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from .files import PACKAGE_DIR, check_entry, read_yaml, user_files

CUES_FILE = PACKAGE_DIR / "disarm_cues.yaml"
# DISARM technique and sub-technique ids: T0086, T0086.003.
TECHNIQUE_ID = re.compile(r"^T\d{4}(?:\.\d{3})?$")
_MACRO = re.compile(r"<([a-z_][a-z0-9_]*)>")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_ENTRY_FIELDS = {"name", "techniques", "confidence", "description"}
_SECTION_FIELDS = {"match", "context", "unless"}


@dataclass(frozen=True, slots=True)
class CueSection:
    """The compiled patterns of one cue entry for one language."""

    match: tuple[re.Pattern, ...]
    context: tuple[re.Pattern, ...]
    unless: tuple[re.Pattern, ...]


@dataclass(frozen=True, slots=True)
class Cue:
    """A behaviour to recognise: its DISARM techniques (in order of preference) and patterns per language."""

    name: str
    techniques: tuple[str, ...]
    confidence: float
    languages: dict[str, CueSection]
    source: str


def cue_files(extra: tuple[str, ...] = ()) -> tuple[Path, ...]:
    """Return the packaged cue file followed by user files (ATLAS_DISARM_CUES, then `extra`)."""
    return user_files(CUES_FILE, "ATLAS_DISARM_CUES", extra)


def load_cues(extra: tuple[str, ...] = ()) -> tuple[Cue, ...]:
    """Return the validated cue entries; an entry in a later file replaces one of the same name."""
    return _load_cues(tuple(str(p) for p in cue_files(extra)))


@lru_cache(maxsize=8)
def _load_cues(paths: tuple[str, ...]) -> tuple[Cue, ...]:
    merged: dict[str, Cue] = {}
    for path in paths:
        p = Path(path)
        data = read_yaml(p, "DISARM cue")
        if not isinstance(data.get("cues"), list):
            raise OntologyError(f"{p}: expected a mapping with a 'cues' list (and optionally 'macros')")
        macros = data.get("macros") or {}
        if not isinstance(macros, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in macros.items()):
            raise OntologyError(f"{p}: 'macros' must map names to regular expressions")
        for i, item in enumerate(data["cues"]):
            cue = _validate_cue(p, i, item, macros)
            merged[cue.name] = cue
    return tuple(merged.values())


def _validate_cue(path: Path, index: int, item: object, macros: dict[str, str]) -> Cue:
    where = check_entry(path, "cues", index, item, "cue")
    name = item["name"]
    techniques = item.get("techniques")
    if not isinstance(techniques, list) or not techniques or not all(isinstance(t, str) and TECHNIQUE_ID.match(t) for t in techniques):
        raise OntologyError(f"{where}: 'techniques' must be a non-empty list of DISARM ids like T0086 or T0086.003")
    confidence = item.get("confidence", 0.7)
    if not isinstance(confidence, (int, float)) or not 0 < confidence <= 1:
        raise OntologyError(f"{where}: 'confidence' must be a number in (0, 1]")
    languages: dict[str, CueSection] = {}
    for key, section in item.items():
        if key in _ENTRY_FIELDS:
            continue
        if not _LANGUAGE.match(str(key)):
            raise OntologyError(f"{where}: unknown field '{key}'; use {', '.join(sorted(_ENTRY_FIELDS))} or a language code (en, fr)")
        if not isinstance(section, dict) or set(section) - _SECTION_FIELDS:
            raise OntologyError(f"{where}: section '{key}' must be a mapping with 'match' (and optionally 'context', 'unless')")
        compiled = {}
        for field in _SECTION_FIELDS:
            patterns = section.get(field) or []
            if not isinstance(patterns, list) or not all(isinstance(x, str) and x for x in patterns):
                raise OntologyError(f"{where}: '{key}.{field}' must be a list of regular expressions")
            compiled[field] = tuple(_compile(where, f"{key}.{field}", x, macros) for x in patterns)
        if not compiled["match"]:
            raise OntologyError(f"{where}: section '{key}' needs at least one 'match' pattern")
        languages[key] = CueSection(**compiled)
    if not languages:
        raise OntologyError(f"{where}: give patterns for at least one language (en:, fr:)")
    return Cue(name.strip(), tuple(techniques), float(confidence), languages, str(path))


def _compile(where: str, field: str, pattern: str, macros: dict[str, str]) -> re.Pattern:
    def expand(m: re.Match) -> str:
        if m.group(1) not in macros:
            raise OntologyError(f"{where}: {field} uses undefined macro <{m.group(1)}>: {pattern}")
        return f"(?:{macros[m.group(1)]})"

    expanded = pattern
    for _ in range(3):  # macros may use other macros
        expanded = _MACRO.sub(expand, expanded)
    try:
        return re.compile(expanded, re.IGNORECASE)
    except re.error as exc:
        raise OntologyError(f"{where}: {field} is not a valid regular expression ({exc}): {pattern}") from exc
