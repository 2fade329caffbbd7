"""The narrative taxonomy: ids, meanings, cue patterns and example phrasings, loaded from YAML and validated."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import OntologyError

NARRATIVES_FILE = Path(__file__).resolve().parent / "narratives.yaml"
LANGUAGES = ("en", "fr")
_ID = re.compile(r"^[A-Za-z][\w.-]{0,31}$")
_FIELDS = {"id", "name", "description", "side", "cues", "examples", "about"}


@dataclass(frozen=True, slots=True)
class Narrative:
    """One narrative: id, name, meaning, cue patterns per language, example phrasings, and what it must be about."""

    id: str
    name: str
    description: str
    side: str | None
    cues: dict[str, tuple[re.Pattern, ...]]
    examples: dict[str, tuple[str, ...]]
    about_actors: tuple[str, ...]
    about_words: re.Pattern | None


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A validated narrative taxonomy and the file it came from."""

    narratives: tuple[Narrative, ...]
    source: str
    fingerprint: str

    def by_id(self) -> dict[str, Narrative]:
        """Return the narratives keyed by id."""
        return {n.id: n for n in self.narratives}


def taxonomy_path(path: str | Path | None = None) -> Path:
    """Return the taxonomy file to use: `path`, else $ATLAS_NARRATIVES, else the packaged one."""
    chosen = path or os.environ.get("ATLAS_NARRATIVES")
    return Path(chosen) if chosen else NARRATIVES_FILE


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Return the validated narrative taxonomy (the packaged file unless `path` or $ATLAS_NARRATIVES names another)."""
    return _load(str(taxonomy_path(path)))


@lru_cache(maxsize=8)
def _load(path: str) -> Taxonomy:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise OntologyError(f"{p}: narrative taxonomy file not found") from None
    except OSError as exc:
        raise OntologyError(f"{p}: cannot read the narrative taxonomy ({exc.strerror})") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise OntologyError(f"{p}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("narratives"), list) or not data["narratives"]:
        raise OntologyError(f"{p}: expected a mapping with a non-empty 'narratives' list "
                            "(see src/influence_atlas/ontology/narratives.yaml for the format)")
    out: list[Narrative] = []
    seen: set[str] = set()
    for i, item in enumerate(data["narratives"]):
        n = _validate(p, i, item)
        if n.id in seen:
            raise OntologyError(f"{p}: narrative '{n.id}' is defined twice")
        seen.add(n.id)
        out.append(n)
    return Taxonomy(tuple(out), str(p), hashlib.sha256(raw).hexdigest()[:16])


def _strings(where: str, key: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise OntologyError(f"{where}: '{key}' must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _per_language(where: str, key: str, value: object) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise OntologyError(f"{where}: '{key}' must map a language code (en, fr, ...) to a list")
    return {str(lang): _strings(where, f"{key}.{lang}", v) for lang, v in value.items()}


def _compile(where: str, key: str, patterns: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    out = []
    for pat in patterns:
        try:
            out.append(re.compile(r"(?<!\w)(?:" + pat + r")(?!\w)", re.I))
        except re.error as exc:
            raise OntologyError(f"{where}: bad pattern in '{key}': {pat!r} ({exc})") from None
    return tuple(out)


def _validate(path: Path, index: int, item: object) -> Narrative:
    where = f"{path}: narratives[{index}]"
    if not isinstance(item, dict):
        raise OntologyError(f"{where}: expected a mapping, got {type(item).__name__}")
    nid = item.get("id")
    if not isinstance(nid, str) or not _ID.match(nid):
        raise OntologyError(f"{where}: 'id' is required (a short code such as N1 or C3)")
    where = f"{path}: narrative '{nid}'"
    unknown = set(item) - _FIELDS
    if unknown:
        raise OntologyError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_FIELDS))}")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise OntologyError(f"{where}: 'name' is required")
    description = item.get("description") or ""
    if not isinstance(description, str):
        raise OntologyError(f"{where}: 'description' must be a string")
    side = item.get("side")
    if side is not None and not isinstance(side, str):
        raise OntologyError(f"{where}: 'side' must be a string")
    cues = {lang: _compile(where, f"cues.{lang}", pats) for lang, pats in _per_language(where, "cues", item.get("cues")).items()}
    examples = _per_language(where, "examples", item.get("examples"))
    if not any(cues.values()) and not any(examples.values()):
        raise OntologyError(f"{where}: give 'cues' or 'examples' (or both) so that the narrative can be found")
    about = item.get("about") or {}
    if not isinstance(about, dict) or set(about) - {"actors", "words"}:
        raise OntologyError(f"{where}: 'about' must be a mapping with 'actors' and/or 'words'")
    words = _per_language(where, "about.words", about.get("words"))
    all_words = tuple(w for ws in words.values() for w in ws)
    about_words = None
    if all_words:
        about_words = _compile(where, "about.words", ("|".join(all_words),))[0]
    return Narrative(
        id=nid, name=name.strip(), description=" ".join(description.split()), side=side, cues=cues,
        examples=examples, about_actors=_strings(where, "about.actors", about.get("actors")), about_words=about_words,
    )
