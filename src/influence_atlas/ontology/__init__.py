"""The ontology as data: packaged YAML files, validated on load, extensible with the user's own files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from ..records import Actor
from .files import PACKAGE_DIR, check_entry, read_yaml_bytes, user_files

ACTOR_KINDS = (
    "state", "bloc", "alliance", "igo", "armed_group", "media", "civil_society", "company",
    "research", "ngo", "person", "party", "government_body", "collective", "unknown",
)
_ACTOR_FIELDS = {"name", "kind", "country", "aliases", "demonyms", "flag", "description"}
# Places are matched only so that a region ("West Africa") is never read as an actor ("the West").
PLACE_KIND = "place"


@dataclass(frozen=True, slots=True)
class ActorEntry:
    """One gazetteer entry: a canonical actor with its surface forms."""

    name: str
    kind: str
    country: str | None
    aliases: tuple[str, ...]
    demonyms: tuple[str, ...]
    flag: str | None
    source: str

    def to_actor(self) -> Actor:
        """Return the plain Actor record of this entry."""
        return Actor(name=self.name, kind=self.kind, aliases=self.aliases, country=self.country, known=True)


@dataclass(frozen=True, slots=True)
class ActorCatalog:
    """Validated actor entries from the packaged file and the user's files."""

    entries: tuple[ActorEntry, ...]
    fingerprint: str

    def by_name(self) -> dict[str, ActorEntry]:
        """Return actor entries (not places) keyed by canonical name."""
        return {e.name: e for e in self.entries if e.kind != PLACE_KIND}

    def states_of_bodies(self) -> dict[str, str]:
        """Return each government body whose country is a state of the catalogue (a ministry, an agency, a named
        operation), with that state's name: a body speaks and acts for its state (built once per catalogue)."""
        table = _STATES_OF_BODIES.get(self.fingerprint)
        if table is None:
            states = {e.name for e in self.entries if e.kind == "state"}
            table = {e.name: e.country for e in self.entries
                     if e.kind == "government_body" and e.country in states and e.country != e.name}
            _STATES_OF_BODIES[self.fingerprint] = table
        return table


_STATES_OF_BODIES: dict[str, dict[str, str]] = {}


def actor_files(extra: tuple[str, ...] = ()) -> tuple[Path, ...]:
    """Return the packaged actor file followed by user files (ATLAS_ACTORS, then `extra`)."""
    return user_files(PACKAGE_DIR / "actors.yaml", "ATLAS_ACTORS", extra)


def load_actor_catalog(extra: tuple[str, ...] = ()) -> ActorCatalog:
    """Return the merged, validated actor catalog; later files extend or override earlier entries."""
    return _load(tuple(str(p) for p in actor_files(extra)))


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> ActorCatalog:
    merged: dict[tuple[bool, str], ActorEntry] = {}
    digest = hashlib.sha256()
    for path in paths:
        p = Path(path)
        raw, data = read_yaml_bytes(p, "actor")
        digest.update(raw)
        if not isinstance(data.get("actors", []), list) or not isinstance(data.get("places", []), list):
            raise OntologyError(f"{p}: expected a mapping with an 'actors' list (and optionally a 'places' list)")
        items = [(i, item, False) for i, item in enumerate(data.get("actors") or [])]
        items += [(i, item, True) for i, item in enumerate(data.get("places") or [])]
        for i, item, place in items:
            entry = _validate(p, i, item, place)
            key = (place, entry.name)
            old = merged.get(key)
            if old is not None:
                entry = ActorEntry(
                    name=entry.name,
                    kind=entry.kind,
                    country=entry.country or old.country,
                    aliases=tuple(dict.fromkeys(old.aliases + entry.aliases)),
                    demonyms=tuple(dict.fromkeys(old.demonyms + entry.demonyms)),
                    flag=entry.flag or old.flag,
                    source=entry.source,
                )
            merged[key] = entry
    return ActorCatalog(entries=tuple(merged.values()), fingerprint=digest.hexdigest()[:16])


def _validate(path: Path, index: int, item: object, place: bool = False) -> ActorEntry:
    where = check_entry(path, "places" if place else "actors", index, item, "place" if place else "actor", fields=_ACTOR_FIELDS)
    name = item["name"]
    kind = PLACE_KIND if place else item.get("kind", "unknown")
    if not place and kind not in ACTOR_KINDS:
        raise OntologyError(f"{where}: unknown kind '{kind}'; use one of {', '.join(ACTOR_KINDS)}")
    lists = {}
    for key in ("aliases", "demonyms"):
        value = item.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise OntologyError(f"{where}: '{key}' must be a list of non-empty strings")
        lists[key] = tuple(v.strip() for v in value)
    country = item.get("country")
    if country is not None and not isinstance(country, str):
        raise OntologyError(f"{where}: 'country' must be a string or null")
    flag = item.get("flag")
    if flag is not None and not isinstance(flag, str):
        raise OntologyError(f"{where}: 'flag' must be a string")
    return ActorEntry(
        name=name.strip(), kind=kind, country=country, aliases=lists["aliases"], demonyms=lists["demonyms"],
        flag=flag, source=str(path),
    )
