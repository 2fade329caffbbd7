"""Kinds of act inside an event type that gathers unlike acts (`other`): read from the trigger, they keep a denial
apart from a condemnation in one document and across documents. Sentences written for these tests."""

from __future__ import annotations

from dataclasses import replace

import pytest

from influence_atlas.errors import OntologyError
from influence_atlas.extract.events import merge_duplicate_events
from influence_atlas.ontology.events import different_kinds, event_kind, load_event_types
from influence_atlas.pipeline import analyze_document, build_document
from influence_atlas.reconcile.claims import event_anchor
from influence_atlas.reconcile.features import describe
from influence_atlas.records import Event, EventActor
from influence_atlas.text.readers import Source


def _telling(id_: str, doc: str, trigger: str, text: str, date: str | None = None, etype: str = "other",
             actors: tuple[str, ...] = ("Mali",)) -> Event:
    return Event(id_, doc, etype, date, "month" if date else None, tuple(EventActor(a, "agent") for a in actors), None,
                 None, None, None, None, "asserted", 0, len(text), text, trigger, "test", 0.5)


def _events(text: str, language: str = "en") -> list[Event]:
    doc = build_document(Source(name="t.txt", path="t.txt", text=text, meta={"language": language}))
    return analyze_document(doc).events


def test_the_kind_is_read_from_the_whole_trigger_in_either_language():
    assert event_kind("other", "denied") == event_kind("other", "a démenti") is not None
    assert event_kind("other", "condemned") == event_kind("other", "ont condamné") is not None
    assert event_kind("other", "denied") != event_kind("other", "condemned")
    # One happening told as a burial by one outlet and as a discovery by another is one kind.
    assert event_kind("other", "buried the bodies") == event_kind("other", "a découvert le charnier") is not None
    assert event_kind("other", "crashed") == event_kind("other", "s'est écrasé") != event_kind("other", "opened an inquiry")
    # Not a whole trigger, no trigger (the detector's), a type without kinds, an unknown type: no kind.
    assert event_kind("other", "the government denied") is None
    assert event_kind("other", "") is None and event_kind("coup", "coup") is None and event_kind("nothing", "denied") is None


def test_what_a_trigger_of_other_matches_has_a_kind():
    other = {t.id: t for t in load_event_types()}["other"]
    for lang, sentence in (("en", "On Monday the junta expelled the French ambassador."), ("en", "Two journalists were arrested."),
                           ("en", "The court has opened a criminal investigation into the killings."),
                           ("en", "Soldiers were filmed burying several bodies near the camp."),
                           ("fr", "Le gouvernement a fermement démenti ces accusations."),
                           ("fr", "Des corps ont été découverts près du village."),
                           ("fr", "Le ministre a été limogé hier.")):
        found = other.triggers[lang].search(sentence)
        assert found and event_kind("other", found.group(0)), sentence


def test_user_files_add_kinds_and_triggers_to_a_kind(tmp_path, monkeypatch):
    own = tmp_path / "event_types.yaml"
    own.write_text("event_types:\n  - id: other\n    kinds:\n      denial:\n        de: ['dementiert']\n"
                   "      boycott:\n        en: ['boycotted']\n", encoding="utf-8")
    monkeypatch.setenv("ATLAS_EVENT_TYPES", str(own))
    other = {t.id: t for t in load_event_types()}["other"]
    assert other.triggers["de"].search("Die Regierung dementiert") and other.triggers["en"].search("They boycotted it")
    assert event_kind("other", "dementiert") == event_kind("other", "denied") and event_kind("other", "boycotted") == "boycott"
    for i, body in enumerate(("kinds: [denial]", "kinds:\n      Denial:\n        en: [denied]", "kinds:\n      denial: [denied]")):
        bad = tmp_path / str(i) / "event_types.yaml"
        bad.parent.mkdir()
        bad.write_text(f"event_types:\n  - id: other\n    {body}\n", encoding="utf-8")
        monkeypatch.setenv("ATLAS_EVENT_TYPES", str(bad))
        with pytest.raises(OntologyError, match=r"event type 'other': (?:'kinds'|kinds\.denial)"):
            load_event_types()


def test_two_kinds_of_one_type_are_never_one_happening_across_documents():
    denial = _telling("e1", "d1", "denied", "In May 2023 the army denied the report.", "2023-05")
    condemnation = _telling("e2", "d2", "condemned", "In May 2023 the army condemned the report.", "2023-05")
    again = _telling("e3", "d3", "a démenti", "En mai 2023, l'armée a démenti le rapport.", "2023-05")
    st = {e.id: describe(e.id, e.doc, e.evidence, "en") for e in (denial, condemnation, again)}
    assert different_kinds(denial, condemnation) and not different_kinds(denial, again)
    assert event_anchor(denial, condemnation, st["e1"], st["e2"], frozenset(), similarity=0.9) is None
    assert event_anchor(denial, again, st["e1"], st["e3"], frozenset()) == "same other, dated 2023-05"
    # A telling without a kind (a trigger no kind names) is judged as before.
    unknown = _telling("e4", "d4", "", "In May 2023 the army spoke.", "2023-05")
    assert event_anchor(denial, unknown, st["e1"], st["e3"], frozenset()) == "same other, dated 2023-05"


def test_two_undated_tellings_of_two_kinds_in_one_document_stay_two():
    denial = _telling("e1", "d1", "denied", "The army denied the report.")
    condemnation = _telling("e2", "d1", "condemned", "The army condemned the report.")
    assert len(merge_duplicate_events([denial, condemnation])) == 2


def test_a_grave_discovered_is_told_in_french():
    other = [e for e in _events("Le 4 mai 2023, l'armée malienne a découvert un charnier près de Tessit.", "fr") if e.type == "other"]
    assert len(other) == 1 and other[0].date == "2023-05-04" and "Mali" in {a.name for a in other[0].actors}
    assert event_kind("other", other[0].trigger) == event_kind("other", "discovered a mass grave")
    passive = [e for e in _events("Le 4 mai 2023, un charnier a été découvert par l'armée malienne à Tessit.", "fr") if e.type == "other"]
    assert passive and event_kind("other", passive[0].trigger) == event_kind("other", "discovered a mass grave")


def test_the_persons_aboard_a_crashed_plane_are_named_by_the_next_sentence():
    crash = "On 8 July 2023, a plane of the Wagner Group crashed near Gao, in Mali. "
    aboard = [e for e in _events(crash + "Yevgeny Prigozhin was listed as a passenger.") if e.type == "other"]
    assert "Yevgeny Prigozhin" in {a.name for a in aboard[0].actors}
    # A next sentence that does not say who was aboard names no victim.
    elsewhere = [e for e in _events(crash + "Yevgeny Prigozhin spoke in Moscow the next day.") if e.type == "other"]
    assert "Yevgeny Prigozhin" not in {a.name for a in elsewhere[0].actors}
    # A next sentence that dates a flight of its own tells another happening.
    other_flight = [e for e in _events(crash + "In March 2021, Yevgeny Prigozhin was a passenger on a flight to Moscow.")
                    if e.type == "other"]
    assert "Yevgeny Prigozhin" not in {a.name for a in other_flight[0].actors}
    # A new paragraph is another matter.
    apart = [e for e in _events(crash + "\n\nYevgeny Prigozhin was listed as a passenger.") if e.type == "other"]
    assert "Yevgeny Prigozhin" not in {a.name for a in apart[0].actors}


def test_a_country_and_a_town_in_it_can_be_the_place_of_one_happening():
    from influence_atlas.extract.places import geocode
    from influence_atlas.reconcile.claims import one_place

    town = geocode("Timbuktu")
    assert town is not None and town.country == "ML"
    in_town = replace(_telling("e1", "d1", "buried the bodies", "They buried the bodies."), location="Timbuktu",
                      latitude=town.latitude, longitude=town.longitude)
    in_country = replace(_telling("e2", "d2", "discovered a mass grave", "Soldiers discovered a mass grave."), location="Mali")
    assert one_place(in_town, in_country) and one_place(in_country, in_town)
    assert not one_place(in_town, replace(in_country, location="Niger")), "a town is not in another country"
    elsewhere = replace(in_town, latitude=town.latitude + 5)
    assert not one_place(elsewhere, in_country), "a town of the same name elsewhere lends no country"
    st = {e.id: describe(e.id, e.doc, e.evidence, "en") for e in (in_town, in_country)}
    assert event_anchor(in_town, in_country, st["e1"], st["e2"], frozenset(), country_ok=True) == \
        "same other in Mali, in two documents telling one story"
    assert event_anchor(in_town, replace(in_country, location="Niger"), st["e1"], st["e2"], frozenset(), country_ok=True) is None
