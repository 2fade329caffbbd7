"""The cross-source timeline: events in date order, filtered by actor, country and period."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import AtlasError
from .evaluate import gold_key
from .extract.dates import date_span
from .records import Event
from .store import Store


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


def timeline(store: Store, actor: str | None = None, country: str | None = None, date_from: str | None = None,
             date_to: str | None = None, include_undated: bool = False) -> list[TimelineRow]:
    """Return events in date order (undated last, when asked for) matching the filters.

    `actor` matches a canonical name or alias; `country` matches events located in, or involving
    actors of, that country; the period keeps events whose date overlaps it.
    """
    names = {d.id: d.name for d in store.documents()}
    actors = store.actors()
    wanted_actor = None
    if actor:
        key = gold_key(actor)
        wanted_actor = next((a.name for a in actors if gold_key(a.name) == key or key in {gold_key(x) for x in a.aliases}), actor)
    country_of = {a.name: a.country for a in actors}
    low = date_bounds(date_from)[0] if date_from else None
    high = date_bounds(date_to)[1] if date_to else None
    rows = []
    for ev in store.events():
        involved = [a.name for a in ev.actors]
        if wanted_actor and wanted_actor not in involved:
            continue
        if country:
            c = gold_key(country)
            places = {gold_key(ev.location or "")} | {gold_key(country_of.get(n) or "") for n in involved} | {gold_key(n) for n in involved}
            if c not in places:
                continue
        if ev.date:
            first, last = date_bounds(ev.date)
            if (low and last < low) or (high and first > high):
                continue
        elif not include_undated or low or high:
            continue
        rows.append(TimelineRow(ev, names.get(ev.doc, ev.doc)))
    rows.sort(key=lambda r: (r.event.date is None, r.event.date or "", r.document, r.event.start))
    return rows
