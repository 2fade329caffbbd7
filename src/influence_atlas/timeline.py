"""The cross-source timeline: events in date order, filtered by actor, country and period, and grouped into
happenings (the tellings of one thing that `same_event` links join), with the ways the tellings disagree."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Callable, Iterable

from .errors import AtlasError
from .extract.dates import date_span
from .records import Actor, Event, Link
from .store import Store
from .text.normalise import name_key


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One event on the timeline with the document that tells it."""

    event: Event
    document: str


def date_bounds(value: str) -> tuple[str, str]:
    """Return the first and last day an ISO date of any precision covers ("2022-03" → 2022-03-01, 2022-03-31)."""
    span = date_span(value)
    if span is None:
        raise AtlasError(f"'{value}' is not a date; use YYYY, YYYY-MM or YYYY-MM-DD")
    return span[0].isoformat(), span[1].isoformat()


def period(date_from: str | None, date_to: str | None) -> tuple[str | None, str | None]:
    """Return the first and last day of the period a filter names (None where it is open); AtlasError for a non-date."""
    return (date_bounds(date_from)[0] if date_from else None, date_bounds(date_to)[1] if date_to else None)


def overlaps(first: str, last: str, low: str | None, high: str | None) -> bool:
    """Return True when the days first..last overlap the period low..high (either end may be open)."""
    return not ((low and last < low) or (high and first > high))


def actor_index(actors: Iterable[Actor]) -> dict[str, str]:
    """Return name key → canonical name for every actor's name and alias; a canonical name wins over another actor's
    alias, and of two actors sharing an alias the first by name wins."""
    ranked = sorted(actors, key=lambda a: a.name, reverse=True)
    index = {name_key(alias): a.name for a in ranked for alias in a.aliases}
    index.update({name_key(a.name): a.name for a in ranked})
    return index


def resolve_actor(index: dict[str, str], name: str) -> str:
    """Return the canonical actor a name or alias refers to (the name itself when none does)."""
    return index.get(name_key(name), name)


def place_keys(event: Event, country_of: dict[str, str | None]) -> frozenset[str]:
    """Return the name keys of the places an event is in or involves: its location, its actors and their countries."""
    keys = {name_key(event.location or "")}
    for a in event.actors:
        keys.add(name_key(a.name))
        keys.add(name_key(country_of.get(a.name) or ""))
    keys.discard("")
    return frozenset(keys)


def group_events(events: Iterable[Event], links: Iterable[Link]) -> list[tuple[list[Event], list[Link]]]:
    """Return happenings: the events joined (transitively) by same_event links, each with the links that join them,
    named by their smallest event id; an event no link joins is a happening of its own."""
    by_id = {e.id: e for e in events}
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    same = [x for x in links if x.kind == "same_event"]
    for link in same:
        ids = [i for i in link.items if i in by_id]
        for a, b in zip(ids, ids[1:]):
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    members: dict[str, list[Event]] = defaultdict(list)
    for e in by_id.values():
        members[root(e.id)].append(e)
    joined: dict[str, list[Link]] = defaultdict(list)
    for link in same:
        ids = [i for i in link.items if i in by_id]
        if ids:
            joined[root(ids[0])].append(link)
    return [(evs, joined.get(r, [])) for r, evs in members.items()]


def fatalities_text(e: Event) -> str | None:
    """Return a toll as the text gives it ("more than 300"), or None."""
    if e.fatalities is None:
        return None
    return (f"{e.fatalities_qualifier} " if e.fatalities_qualifier else "") + str(e.fatalities)


@lru_cache(maxsize=65536)
def day_bounds(date: str | None) -> tuple[str | None, str | None]:
    """Return the first and last day a date covers, or (None, None) for no date or one that is not a date."""
    if not date:
        return None, None
    try:
        return date_bounds(date)
    except AtlasError:
        return None, None


def disagreements(events: list[Event], source_of: Callable[[str], str]) -> list[dict]:
    """Return the fields on which tellings of one happening differ (dates that cannot overlap, tolls, places, types,
    modality), each value with the sources (source_of(document id)) that give it."""
    out = []

    def spread(field_name: str, value_of) -> None:
        values: dict[str, list[str]] = {}
        for e in events:
            v = value_of(e)
            if v is not None and v != "":
                names = values.setdefault(str(v), [])
                name = source_of(e.doc)
                if name not in names:
                    names.append(name)
        if len(values) > 1:
            out.append({"field": field_name, "values": [{"value": v, "sources": s} for v, s in values.items()]})

    bounds = [b for b in (day_bounds(e.date) for e in events) if b[0]]
    if any(a[1] < b[0] or b[1] < a[0] for a, b in combinations(bounds, 2)):
        spread("date", lambda e: e.date)
    spread("fatalities", fatalities_text)
    spread("location", lambda e: e.location)
    spread("type", lambda e: e.type)
    spread("modality", lambda e: e.modality)
    return out


def timeline(store: Store, actor: str | None = None, country: str | None = None, date_from: str | None = None,
             date_to: str | None = None, include_undated: bool = False) -> list[TimelineRow]:
    """Return events in date order (undated last, when asked for) matching the filters.

    `actor` matches a canonical name or alias; `country` matches events located in, or involving
    actors of, that country; the period keeps events whose date overlaps it.
    """
    names = store.document_names()
    actors = store.actors()
    wanted_actor = resolve_actor(actor_index(actors), actor) if actor else None
    wanted_place = name_key(country) if country else None
    country_of = {a.name: a.country for a in actors}
    low, high = period(date_from, date_to)
    rows = []
    for ev in store.events():
        if wanted_actor and wanted_actor not in {a.name for a in ev.actors}:
            continue
        if wanted_place and wanted_place not in place_keys(ev, country_of):
            continue
        if ev.date:
            if not overlaps(*date_bounds(ev.date), low, high):
                continue
        elif not include_undated or low or high:
            continue
        rows.append(TimelineRow(ev, names.get(ev.doc, ev.doc)))
    rows.sort(key=lambda r: (r.event.date is None, r.event.date or "", r.document, r.event.start))
    return rows
