"""The library functions behind the read-only commands and the web's timeline: the timeline filter, happenings and
their disagreements on made-up events, and the command functions on the analysed seeds."""

from __future__ import annotations

import pytest

from influence_atlas.errors import AtlasError
from influence_atlas.queries import conflicts, document_profile, event_accounts, find_document, narrative_rows
from influence_atlas.records import Actor, Event, EventActor, Link
from influence_atlas.store import open_store
from influence_atlas.timeline import actor_index, disagreements, group_events, overlaps, period, place_keys, resolve_actor


def _event(eid: str, doc: str, date: str | None, fatalities: int | None = None, location: str | None = None) -> Event:
    return Event(eid, doc, "attack", date, "day" if date else None, (EventActor("Wagner Group", "agent"),), location, None, None,
                 fatalities, None, "asserted", 0, 10, "evidence", "attack", "test", 0.9)


def test_same_event_links_join_happenings_transitively():
    events = [_event("ev_c", "d3", "2022-03-27"), _event("ev_a", "d1", "2022-03"), _event("ev_b", "d2", None), _event("ev_z", "d4", "2021")]
    links = [Link("l1", "same_event", ("ev_a", "ev_b"), "", 0.9), Link("l2", "same_event", ("ev_c", "ev_b"), "", 0.8),
             Link("l3", "contradicts", ("ev_z", "ev_a"), "", 0.9)]
    groups = {tuple(sorted(e.id for e in evs)): [x.id for x in joined] for evs, joined in group_events(events, links)}
    assert groups == {("ev_a", "ev_b", "ev_c"): ["l1", "l2"], ("ev_z",): []}


def test_disagreements_name_the_sources_of_each_value():
    told = [_event("ev_a", "d1", "2022-03-27", 300, "Moura"), _event("ev_b", "d2", "2022-03", 500, "Moura"),
            _event("ev_c", "d3", "2021-01-02", 300, None)]
    found = {d["field"]: d["values"] for d in disagreements(told, str.upper)}
    assert found["fatalities"] == [{"value": "300", "sources": ["D1", "D3"]}, {"value": "500", "sources": ["D2"]}]
    assert "date" in found and "location" not in found and "type" not in found
    assert "date" not in {d["field"] for d in disagreements(told[:2], str.upper)}, "March 2022 holds the 27th"


def test_timeline_filter_pieces():
    index = actor_index([Actor("Wagner Group", "armed_group", ("Wagner", "Africa Corps"), "RU"),
                         Actor("Africa Corps", "armed_group", (), "RU")])
    assert resolve_actor(index, "the  WAGNER") == "Wagner Group"
    assert resolve_actor(index, "Africa Corps") == "Africa Corps", "a canonical name wins over another actor's alias"
    assert resolve_actor(index, "Nobody") == "Nobody"
    assert place_keys(_event("e", "d", None, location="Mali"), {"Wagner Group": "Russia"}) == {"mali", "wagner group", "russia"}
    low, high = period("2022", "2022-03")
    assert (low, high) == ("2022-01-01", "2022-03-31")
    assert overlaps("2021-01-01", "2022-01-01", low, high) and not overlaps("2022-04-01", "2022-04-30", low, high)
    assert overlaps("1999-01-01", "1999-12-31", None, None)
    with pytest.raises(AtlasError, match="not a date"):
        period("March", None)


def test_command_functions_on_the_seeds(demo_run):
    store = open_store(str(demo_run.db))
    names = store.document_names()
    name = sorted(names.values())[0]
    meta = find_document(store, name)
    assert meta["name"] == name and "text" not in meta
    assert find_document(store, meta["id"][:10])["id"] == meta["id"]
    with pytest.raises(AtlasError, match="no document"):
        find_document(store, "no-such-document")
    profile = document_profile(store, name)
    assert profile.profile["claims"] == len(profile.claims) == len(store.claims(meta["id"]))
    found, doc_names = conflicts(store)
    assert doc_names == names
    assert all(c.link.kind in ("contradicts", "same_event") for c in found)
    assert [c.link.score for c in found] == sorted((c.link.score for c in found), reverse=True)
    with pytest.raises(AtlasError, match="--kind"):
        conflicts(store, "everything")
    event = store.events()[0]
    accounts = event_accounts(store, event.id[3:])
    assert event.id in {e.id for e in accounts.events}
    rows = narrative_rows(store)
    assert len(rows) == len(store.narratives())
    texts = store.document_texts({r.hit.doc for r in rows})
    for r in rows:
        if r.hit.evidence:
            a, b = r.hit.evidence[0]
            assert r.quote == texts[r.hit.doc][a:b] and r.quote
