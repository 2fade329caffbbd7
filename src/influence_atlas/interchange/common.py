"""What the interchange formats share: which events they carry, who acts on whom, date spans, places and record times."""

from __future__ import annotations

from datetime import datetime, timezone


from ..extract.dates import date_span  # noqa: F401 - one date span for every format
from ..extract.places import country_code, geocode
from ..records import Event
from ..store import Store

ROLE_RANK = {"agent": 0, "target": 1, "other": 2}
ACTS_ON = "acts-on"
WITH = "with"


def exported_events(store: Store) -> list[Event]:
    """Return the events the interchange formats carry: every telling except those the text negates ("did not attack")."""
    return [e for e in store.events() if e.modality != "negated"]


def participants(event: Event) -> list[tuple[str, str]]:
    """Return (actor, role) once per actor of an event, agents first, then targets, then others, each by name."""
    best: dict[str, str] = {}
    for a in event.actors:
        if a.name not in best or ROLE_RANK.get(a.role, 3) < ROLE_RANK.get(best[a.name], 3):
            best[a.name] = a.role
    return sorted(best.items(), key=lambda item: (ROLE_RANK.get(item[1], 3), item[0]))


def actor_pairs(event: Event) -> list[tuple[str, str, str]]:
    """Return (source, target, relation) for each pair of an event's actors.

    The relation is `acts-on` from an agent to a target and `with` for every other pair of
    co-participants, pointing from the leading role (agent, then target, then other) or, for two
    actors in the same role, in name order.
    """
    people = participants(event)
    pairs = []
    for i, (source, source_role) in enumerate(people):
        for target, target_role in people[i + 1:]:
            relation = ACTS_ON if (source_role, target_role) == ("agent", "target") else WITH
            pairs.append((source, target, relation))
    return pairs


def ingestion_times(store: Store) -> dict[str, datetime]:
    """Return when each document was ingested (UTC): the stable timestamp of every record drawn from it."""
    return {doc_id: parse_timestamp(value) for doc_id, value in store.ingestion_times().items()}


def parse_timestamp(value: str | None) -> datetime | None:
    """Return an ISO date or date-time of any precision as an aware UTC datetime (a bare date at midnight), or None."""
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        span = date_span(value)
        if span is None:
            return None
        stamp = datetime(span[0].year, span[0].month, span[0].day)
    return stamp.replace(tzinfo=timezone.utc) if stamp.tzinfo is None else stamp.astimezone(timezone.utc)


def place_country(name: str | None, latitude: float | None = None, longitude: float | None = None) -> str | None:
    """Return the ISO 3166-1 alpha-2 code of the country a place is in (the country itself for a country), or None.

    The place is looked up again by name; when coordinates are given the answer counts only if it is
    the same point, so a town of the same name elsewhere never lends its country.
    """
    if not name:
        return None
    code = country_code(name)
    if code:
        return code
    place = geocode(name)
    if place is None:
        return None
    if latitude is not None and longitude is not None and (abs(place.latitude - latitude) > 0.01 or abs(place.longitude - longitude) > 0.01):
        return None
    return place.country


def actor_country(country: str | None) -> str | None:
    """Return the ISO 3166-1 alpha-2 code of an actor's country as the gazetteer names it ("Mali" → "ML"), or None."""
    return country_code(country) if country else None
