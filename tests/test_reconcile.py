"""Across sources: same-event links with disagreements, claim links, blocking, incremental updates."""

from __future__ import annotations

import shutil

from influence_atlas.pipeline import analyze, ingest
from influence_atlas.reconcile.events import disagreements, link_same_events, pair_score
from influence_atlas.records import Claim, Event, EventActor, Mention


def _event(id_, doc, etype="violence_against_civilians", date=None, actors=("Mali",), location=None, deaths=None, text="x"):
    return Event(id_, doc, etype, date, None, tuple(EventActor(a, "agent") for a in actors), location, None, None, deaths,
                 None, "asserted", 0, 1, text, "t", "test", 0.5)


def test_one_massacre_told_twice_with_different_tolls():
    a = _event("e1", "d1", date="2022-03", actors=("Mali", "Wagner Group"), location="Moura", deaths=500,
               text="Soldiers and mercenaries executed villagers in Moura.")
    b = _event("e2", "d2", actors=("Mali",), deaths=300, text="Soldiers slaughtered a village of 300 civilians.")
    c = _event("e3", "d3", date="2019", actors=("Mali",), deaths=300, text="Another killing.")
    d = _event("e4", "d4", date="2022-03", actors=("Mali",), deaths=12, text="A clash.")
    assert pair_score(a, b) >= 0.55
    assert pair_score(a, c) == 0.0, "incompatible dates never link"
    links = link_same_events([a, b, c, d])
    # b could be either a (dated 2022-03) or c (2019); a group never joins tellings whose dates disagree.
    for link in links:
        dates = {x.date for x in (a, b, c, d) if x.id in link.items and x.date}
        assert len({dt[:4] for dt in dates}) <= 1, link
    (link,) = link_same_events([a, b, d])
    assert set(link.items) == {"e1", "e2"}
    assert "fatalities: 300 vs 500" in link.detail and "date: 2022-03 vs undated" in link.detail
    assert disagreements([a, a]) == []


def test_same_document_and_different_places_do_not_link():
    a = _event("e1", "d1", date="2022-03", location="Moura", deaths=500)
    b = _event("e2", "d1", date="2022-03", location="Moura", deaths=500)
    c = _event("e3", "d2", date="2022-03", location="Gao", deaths=480)
    assert link_same_events([a, b]) == []
    assert pair_score(a, c) < pair_score(a, _event("e4", "d2", date="2022-03", location="Moura", deaths=480))


def test_incremental_linking_equals_a_full_pass(tmp_path, seeds):
    from influence_atlas.store import open_store

    full = open_store(str(tmp_path / "full.db"))
    ingest(full, [seeds])
    analyze(full)
    step = open_store(str(tmp_path / "step.db"))
    for i, path in enumerate(sorted(seeds.glob("*.txt"))):
        one = tmp_path / f"in{i}"
        one.mkdir()
        shutil.copy(path, one / path.name)
        ingest(step, [one])
        analyze(step)
    kinds = lambda store: sorted((l.kind, tuple(sorted(store_docs(store, l.items)))) for l in store.links())  # noqa: E731
    assert {k for k in kinds(step) if k[0] == "same_event"} == {k for k in kinds(full) if k[0] == "same_event"}
    assert any(k[0] == "contradicts" for k in kinds(step))


def store_docs(store, items):
    records = {e.id: e.doc for e in store.events()} | {c.id: c.doc for c in store.claims()}
    return {records[i] for i in items}


def _claim(id_, doc, text):
    return Claim(id_, doc, 0, len(text), text, 0.9, (), None, None, None, False, (), "test", 0.9)


def test_claims_of_a_large_block_are_still_compared():
    """A block of one actor and topic larger than the comparison window still links a late contradicting claim."""
    from influence_atlas.reconcile.claims import _WINDOW, link_claims

    accusing = "Wagner fighters massacred hundreds of civilians in Moura."
    claims = [_claim(f"c{i:04d}", f"d{i:04d}", accusing) for i in range(_WINDOW + 50)]
    denial = _claim("c9999", "d9999", "The operation in Moura was a success against terrorists, with no civilian victims.")
    claims.append(denial)
    mentions = [Mention(c.doc, 0, 6, "Wagner", "ORG", "Wagner Group", "test", 1.0) for c in claims]
    links = link_claims(claims, mentions)
    assert any(l.kind == "contradicts" and "c9999" in l.items for l in links)
    # Incremental: the new document alone is compared, and it meets its neighbours in the block.
    later = link_claims(claims, mentions, focus={"d9999"}, existing=[])
    assert any(l.kind == "contradicts" and "c9999" in l.items for l in later)
    assert all("c9999" in l.items for l in later)


def test_a_new_telling_joins_an_existing_group_only_if_every_member_agrees_on_the_date():
    """Incremental: the group kept from before holds a precise date; a new telling at odds with it stays apart."""
    from influence_atlas.reconcile.events import link_id
    from influence_atlas.records import Link

    month = _event("e1", "d1", date="2022-03", actors=("Mali", "Wagner Group"), location="Moura", deaths=500,
                   text="Soldiers and mercenaries executed villagers in Moura.")
    day = _event("e2", "d2", date="2022-03-27", actors=("Mali", "Wagner Group"), location="Moura", deaths=500,
                 text="Soldiers and mercenaries executed villagers in Moura.")
    other_day = _event("e3", "d3", date="2022-03-05", actors=("Mali", "Wagner Group"), location="Moura", deaths=500,
                       text="Soldiers and mercenaries executed villagers in Moura.")
    assert pair_score(month, other_day) >= 0.55 and pair_score(day, other_day) == 0.0
    existing = [Link(link_id("same_event", ["e1", "e2"]), "same_event", ("e1", "e2"), "x", 0.9)]
    links = link_same_events([month, day, other_day], focus={"d3"}, existing=existing)
    assert [set(l.items) for l in links] == [{"e1", "e2"}]
    # A full pass agrees: the day-precise tellings of the 5th and the 27th never share a group.
    assert all(not {"e2", "e3"} <= set(l.items) for l in link_same_events([month, day, other_day]))
