"""Event extraction with the real spaCy pipelines, on texts written for these tests."""

from __future__ import annotations

import csv
import json

from influence_atlas.export import export
from influence_atlas.pipeline import analyze, analyze_document, build_document, ingest
from influence_atlas.text.readers import Source
from influence_atlas.timeline import timeline


def _events(text: str, meta=None):
    doc = build_document(Source(name="t.txt", path="t.txt", text=text, meta=meta or {}))
    return analyze_document(doc).events


def _by_type(events):
    out = {}
    for e in events:
        out.setdefault(e.type, []).append(e)
    return out


def test_types_dates_actors_roles_place_and_toll():
    text = (
        "In January 2024, Malian troops and Wagner fighters killed at least 40 civilians in the village of Moura. "
        "Two weeks later, the United States imposed sanctions on Wagner Group commanders. "
        "On March 3, 2024, Niger's junta signed a security agreement with Russia in Niamey."
    )
    ev = _by_type(_events(text))
    vac = ev["violence_against_civilians"][0]
    assert vac.date == "2024-01" and vac.fatalities == 40 and vac.fatalities_qualifier == "at least"
    assert {a.name for a in vac.actors} >= {"Mali", "Wagner Group"}
    assert vac.location == "Moura" and vac.latitude and vac.longitude
    sanction = ev["sanction"][0]
    assert {a.name: a.role for a in sanction.actors}["United States"] == "agent"
    agreement = ev["agreement"][0]
    assert agreement.date == "2024-03-03" and {"Niger", "Russia"} <= {a.name for a in agreement.actors}
    for e in ev["agreement"] + ev["sanction"] + ev["violence_against_civilians"]:
        assert text[e.start : e.end] == e.evidence and e.trigger.lower() in e.evidence.lower()


def test_one_event_per_happening_and_no_invented_dates():
    text = (
        "Colonel Assimi Goïta led a coup in Mali on Aug. 18, 2020. "
        "The coup was condemned by ECOWAS. Goïta later met the Russian ambassador."
    )
    ev = _by_type(_events(text))
    assert len(ev["coup"]) == 1 and ev["coup"][0].date == "2020-08-18"
    meeting = ev["diplomatic_meeting"][0]
    assert meeting.date is None


def test_reported_speech_keeps_the_reporter_out_of_the_event():
    text = "In July 2023, Human Rights Watch reported that Malian soldiers executed dozens of villagers since December 2022."
    ev = _by_type(_events(text))
    assert ev["publication"][0].date == "2023-07"
    vac = ev["violence_against_civilians"][0]
    assert vac.date == "2022-12" and "Human Rights Watch" not in {a.name for a in vac.actors}


def test_demands_plans_and_capabilities_are_not_happenings():
    text = (
        "In 2023, protesters in Bamako called for France to withdraw its troops. "
        "Russia could deploy more instructors to Burkina Faso. "
        "In June 2023, Mali announced that MINUSMA would leave."
    )
    events = _events(text)
    kinds = {(e.type, e.modality) for e in events}
    assert ("protest", "asserted") in kinds
    assert not any(e.type == "deployment" for e in events)
    assert not any(e.type == "withdrawal" and e.modality != "planned" for e in events)


def test_french_events():
    text = ("Niamey, le 28 janvier 2024 — Le Mali, le Burkina Faso et le Niger ont annoncé dimanche leur retrait de la CEDEAO. "
            "Selon RFI, des instructeurs russes sont arrivés à Ouagadougou en mai.")
    ev = _by_type(_events(text, {"language": "fr"}))
    w = ev["withdrawal"][0]
    assert w.date == "2024-01-28" and {"Mali", "Niger", "ECOWAS"} <= {a.name for a in w.actors}
    assert "RFI" not in {a.name for e in ev.get("training", []) + ev.get("deployment", []) for a in e.actors}


def test_timeline_filters_and_acled_export(store, tmp_path):
    (tmp_path / "a.txt").write_text(
        "In March 2022, Malian and Wagner forces killed more than 300 civilians in Moura. "
        "In August 2022, France completed its withdrawal from Mali. "
        "On 2 May 2023, Russia delivered two helicopters to Burkina Faso.", encoding="utf-8")
    ingest(store, [tmp_path])
    analyze(store)
    all_rows = timeline(store)
    assert [r.event.date for r in all_rows] == sorted(r.event.date for r in all_rows)
    assert {r.event.type for r in timeline(store, actor="Wagner")} == {"violence_against_civilians"}
    assert {r.event.type for r in timeline(store, date_from="2023")} == {"arms_transfer"}
    assert {r.event.type for r in timeline(store, country="Burkina Faso")} == {"arms_transfer"}
    path = export(store, "acled-csv", tmp_path / "out.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    vac = next(r for r in rows if r["event_type"] == "Violence against civilians")
    assert vac["event_date"] == "2022-03-01" and vac["time_precision"] == "3" and vac["fatalities"] == "300"
    assert vac["location"] == "Moura" and float(vac["latitude"]) > 10
    assert any(r["sub_event_type"] == "Non-violent transfer of territory" and r["event_type"] == "Strategic developments" for r in rows)
    data = json.loads(export(store, "json", tmp_path / "o.json").read_text())
    assert {e["type"] for e in data["events"]} >= {"violence_against_civilians", "withdrawal", "arms_transfer"}
