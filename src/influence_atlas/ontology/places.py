"""Places the gazetteer lacks or places wrongly (`places_supplement.yaml`): name, country, coordinates and aliases,
validated on load."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from .files import PACKAGE_DIR, read_yaml

SUPPLEMENT_FILE = PACKAGE_DIR / "places_supplement.yaml"
_FIELDS = {"name", "country", "latitude", "longitude", "aliases"}


@dataclass(frozen=True, slots=True)
class SupplementPlace:
    """One place of the supplement: its name, ISO country code, coordinates and other names."""

    name: str
    country: str
    latitude: float
    longitude: float
    aliases: tuple[str, ...]


@lru_cache(maxsize=4)
def load_place_supplement(path: str | None = None) -> tuple[SupplementPlace, ...]:
    """Return the validated places of the packaged supplement (or another file of the same shape)."""
    p = Path(path) if path else SUPPLEMENT_FILE
    data = read_yaml(p, "place supplement")
    out = []
    for i, item in enumerate(data.get("places") or []):
        where = f"{p}: places[{i}]"
        if not isinstance(item, dict):
            raise OntologyError(f"{where}: expected a mapping, got {type(item).__name__}")
        try:
            place = SupplementPlace(item["name"], item["country"], float(item["latitude"]), float(item["longitude"]),
                                    tuple(item.get("aliases") or ()))
        except (KeyError, TypeError, ValueError) as exc:
            raise OntologyError(f"{where}: needs name, country, latitude, longitude ({exc})") from exc
        where = f"{p}: place '{place.name}'"
        unknown = set(item) - _FIELDS
        if unknown:
            raise OntologyError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        if not all(isinstance(a, str) and a.strip() for a in place.aliases):
            raise OntologyError(f"{where}: 'aliases' must be a list of non-empty strings")
        out.append(place)
    return tuple(out)
