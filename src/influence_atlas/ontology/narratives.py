"""The narrative taxonomy: ids, names, meanings, parents, example phrasings and cue patterns, loaded from YAML and validated.

A taxonomy file may also name labelled documents (`labelled: {documents: DIR, labels: FILE}`, the labels in
SemEval-2025 Task 10 subtask-2 format: `article<TAB>narrative ids<TAB>sub-narrative ids`, `;`-separated, `Other`
for none); the narrative stage then fits a classifier on them. The taxonomy's fingerprint covers the file and the
labelled data, so changing either is a new analysis version.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from ..text.metadata import ANALYSED_LANGUAGES
from .files import read_yaml_bytes

NARRATIVES_FILE = Path(__file__).resolve().parent / "narratives.yaml"
LANGUAGES = ANALYSED_LANGUAGES
# Ids are written verbatim in benchmark files (`;`-separated, tab-separated), so they hold neither.
_ID = re.compile(r"^[^\t\n\r;]{1,160}$")
_FIELDS = {"id", "name", "description", "side", "parent", "cues", "examples", "about"}
ANY_LANGUAGE = "*"  # key of examples given as a plain list


@dataclass(frozen=True, slots=True)
class Narrative:
    """One narrative: id, name, meaning, cue patterns per language, example phrasings, and what it must be about."""

    id: str
    name: str
    description: str
    side: str | None
    parent: str | None
    cues: dict[str, tuple[re.Pattern, ...]]
    examples: dict[str, tuple[str, ...]]
    about_actors: tuple[str, ...]
    about_words: re.Pattern | None


@dataclass(frozen=True, slots=True)
class Labelled:
    """Labelled documents for a taxonomy: the folder of texts and, per file name, its narrative ids (parents and children)."""

    documents: Path
    labels: dict[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Side:
    """What a side of the taxonomy stands for: the actors its narratives favour and those they oppose (canonical names
    of the actor gazetteer). An author hostile to what a side favours, or favourable to what it opposes, does not
    endorse that side's narratives."""

    favours: tuple[str, ...] = ()
    opposes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A validated narrative taxonomy, the file it came from, its labelled documents if it names any, and what its
    sides stand for if it says."""

    narratives: tuple[Narrative, ...]
    source: str
    fingerprint: str
    labelled: Labelled | None = None
    sides: dict[str, Side] = field(default_factory=dict)

    def by_id(self) -> dict[str, Narrative]:
        """Return the narratives keyed by id."""
        return {n.id: n for n in self.narratives}

    def top_level(self) -> tuple[Narrative, ...]:
        """Return the narratives without a parent."""
        return tuple(n for n in self.narratives if n.parent is None)

    def children(self, nid: str) -> tuple[Narrative, ...]:
        """Return the sub-narratives of one narrative."""
        return tuple(n for n in self.narratives if n.parent == nid)


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
    raw, data = read_yaml_bytes(p, "narrative taxonomy")
    if not isinstance(data.get("narratives"), list) or not data["narratives"]:
        raise OntologyError(f"{p}: expected a mapping with a non-empty 'narratives' list "
                            "(see src/influence_atlas/ontology/narratives.yaml for the format)")
    unknown = set(data) - {"version", "narratives", "labelled", "sides"}
    if unknown:
        raise OntologyError(f"{p}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}; allowed: version, narratives, labelled, sides")
    out: list[Narrative] = []
    seen: set[str] = set()
    for i, item in enumerate(data["narratives"]):
        n = _validate(p, i, item)
        if n.id in seen:
            raise OntologyError(f"{p}: narrative '{n.id}' is defined twice")
        seen.add(n.id)
        out.append(n)
    by_id = {n.id: n for n in out}
    for n in out:
        if n.parent is None:
            continue
        if n.parent not in by_id:
            raise OntologyError(f"{p}: narrative '{n.id}': parent '{n.parent}' is not a narrative of this file")
        if by_id[n.parent].parent is not None:
            raise OntologyError(f"{p}: narrative '{n.id}': parent '{n.parent}' is itself a sub-narrative (two levels at most)")
    digest = hashlib.sha256(raw)
    labelled = _labelled(p, data.get("labelled"), by_id, digest)
    return Taxonomy(tuple(out), str(p), digest.hexdigest()[:16], labelled, _sides(p, data.get("sides"), out))


def _sides(path: Path, value: object, narratives: list[Narrative]) -> dict[str, Side]:
    """Return what each side stands for (`sides: {LABEL: {favours: [...], opposes: [...]}}`), validated: every label
    must be the side of some narrative of the file."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise OntologyError(f"{path}: 'sides' must map a side label to {{favours: [actors], opposes: [actors]}}")
    used = {n.side for n in narratives if n.side}
    out = {}
    for label, entry in value.items():
        where = f"{path}: sides.{label}"
        if label not in used:
            raise OntologyError(f"{where}: no narrative of this file has side '{label}' (sides used: {', '.join(sorted(used)) or 'none'})")
        if not isinstance(entry, dict) or not entry or set(entry) - {"favours", "opposes"}:
            raise OntologyError(f"{where}: expected a mapping with 'favours' and/or 'opposes' (lists of actor names)")
        out[label] = Side(_strings(where, "favours", entry.get("favours")), _strings(where, "opposes", entry.get("opposes")))
    return out


def _labelled(path: Path, value: object, by_id: dict[str, Narrative], digest) -> Labelled | None:
    """Return the labelled documents a taxonomy names (paths relative to the file), validated; their bytes feed `digest`."""
    if value is None:
        return None
    where = f"{path}: labelled"
    if not isinstance(value, dict) or set(value) != {"documents", "labels"} or not all(isinstance(v, str) for v in value.values()):
        raise OntologyError(f"{where}: expected a mapping with 'documents' (a folder of texts) and 'labels' (a file of "
                            "article<TAB>narratives<TAB>sub-narratives lines)")
    folder = (path.parent / value["documents"]).resolve()
    labels_file = (path.parent / value["labels"]).resolve()
    if not folder.is_dir():
        raise OntologyError(f"{where}: documents folder {folder} not found")
    try:
        lines = labels_file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise OntologyError(f"{where}: cannot read the labels file {labels_file} ({exc.strerror})") from None
    labels: dict[str, tuple[str, ...]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 2:
            raise OntologyError(f"{labels_file}:{number}: expected article<TAB>narratives[<TAB>sub-narratives]")
        ids = {x.strip() for col in cols[1:3] for x in col.split(";") if x.strip() and x.strip() != "Other"}
        bad = sorted(ids - set(by_id))
        if bad:
            raise OntologyError(f"{labels_file}:{number}: unknown narrative id(s) {', '.join(repr(b) for b in bad[:3])}; "
                                "labels must use the ids of the taxonomy (or Other)")
        doc = folder / cols[0].strip()
        if not doc.is_file():
            raise OntologyError(f"{labels_file}:{number}: document {cols[0].strip()!r} not found in {folder}")
        labels[cols[0].strip()] = tuple(sorted(ids))
        digest.update(line.encode())
        digest.update(doc.read_bytes())
    if not labels:
        raise OntologyError(f"{labels_file}: no labelled documents")
    return Labelled(folder, labels)


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
        raise OntologyError(f"{where}: '{key}' must be a list, or map a language code (en, fr, ...) to a list")
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
    if not isinstance(nid, str) or not nid.strip() or not _ID.match(nid):
        raise OntologyError(f"{where}: 'id' is required (a short code such as N1 or C3; no tab, line break or ';')")
    nid = nid.strip()
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
    parent = item.get("parent")
    if parent is not None and (not isinstance(parent, str) or not parent.strip()):
        raise OntologyError(f"{where}: 'parent' must be the id of another narrative")
    if parent is not None and parent.strip() == nid:
        raise OntologyError(f"{where}: 'parent' names the narrative itself")
    cues = {lang: _compile(where, f"cues.{lang}", pats) for lang, pats in _per_language(where, "cues", item.get("cues")).items()}
    raw_examples = item.get("examples")
    if isinstance(raw_examples, list):
        examples = {ANY_LANGUAGE: _strings(where, "examples", raw_examples)}
    else:
        examples = _per_language(where, "examples", raw_examples)
    about = item.get("about") or {}
    if not isinstance(about, dict) or set(about) - {"actors", "words"}:
        raise OntologyError(f"{where}: 'about' must be a mapping with 'actors' and/or 'words'")
    words = _per_language(where, "about.words", about.get("words"))
    all_words = tuple(w for ws in words.values() for w in ws)
    about_words = None
    if all_words:
        about_words = _compile(where, "about.words", ("|".join(all_words),))[0]
    return Narrative(
        id=nid, name=name.strip(), description=" ".join(description.split()), side=side,
        parent=parent.strip() if parent else None, cues=cues,
        examples=examples, about_actors=_strings(where, "about.actors", about.get("actors")), about_words=about_words,
    )
