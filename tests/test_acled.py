"""ACLED coding: the taxonomy as data, the sentence classifier on ACLED-style notes, the CASE 2021 command and the ACLED CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from influence_atlas.cli import app
from influence_atlas.errors import InputError, OntologyError
from influence_atlas.extract.acled import acled_for, classify_events, read_case_tsv, strip_hedges
from influence_atlas.ontology.acled import ACLED_FILE, load_acled_taxonomy
from influence_atlas.ontology.events import EVENT_TYPES

NOTES = yaml.safe_load((Path(__file__).parent / "data" / "acled_notes.yaml").read_text(encoding="utf-8"))
CASE_CODES = {
    "ABDUCT_DISSAP", "AGREEMENT", "AIR_STRIKE", "ARMED_CLASH", "ARREST", "ART_MISS_ATTACK", "ATTACK", "CHANGE_TO_GROUP_ACT",
    "CHEM_WEAP", "DISR_WEAP", "FORCE_AGAINST_PROTEST", "GOV_REGAINS_TERIT", "GRENADE", "HQ_ESTABLISHED", "MOB_VIOL",
    "NON_STATE_ACTOR_OVERTAKES_TER", "NON_VIOL_TERRIT_TRANSFER", "OTHER", "PEACE_PROTEST", "PROPERTY_DISTRUCT",
    "PROTEST_WITH_INTER", "REM_EXPLOS", "SEX_VIOL", "SUIC_BOMB", "VIOL_DEMONSTR",
}


def test_taxonomy_has_six_types_and_the_25_sub_types_mapped_both_ways():
    tax = load_acled_taxonomy()
    assert len(tax.event_types) == 6 and len(tax.sub_types) == 25
    assert set(tax.codes()) == CASE_CODES
    assert all(s.definition and s.cues.get("en") and s.cues.get("fr") for s in tax.sub_types)
    assert set(tax.project_types) == set(EVENT_TYPES)
    assert {s.to_project for s in tax.sub_types} <= set(EVENT_TYPES)
    # The project's own types that ACLED lacks stay, coded as ACLED strategic developments.
    for kind in ("information_operation", "publication", "media_restriction", "coup", "vote", "sanction"):
        assert tax.sub_type(tax.project_types[kind].default).event_type == "Strategic developments"


@pytest.mark.parametrize("change, message", [
    (lambda d: d["event_types"][0]["sub_event_types"][0].update(to_project="skirmish"), "sub-event type 'Armed clash'"),
    (lambda d: d["event_types"][0]["sub_event_types"][0]["cues"].update(en=["(unclosed"]), "cues.en: bad pattern"),
    (lambda d: d["project_types"]["coup"].update(default="Putsch"), "project type 'coup'"),
    (lambda d: d["event_types"][1]["sub_event_types"].append(dict(d["event_types"][1]["sub_event_types"][0])), "used twice"),
])
def test_a_bad_taxonomy_file_is_refused_naming_file_and_entry(tmp_path, change, message):
    data = yaml.safe_load(ACLED_FILE.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "acled.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(OntologyError) as exc:
        load_acled_taxonomy(str(path))
    assert str(path) in str(exc.value) and message in str(exc.value)


@pytest.fixture(scope="module")
def note_labels():
    return classify_events([n["t"] for n in NOTES])


def test_acled_notes_get_their_type_and_sub_type(note_labels):
    assert len(NOTES) >= 60 and sum(n["t"].startswith("Le ") for n in NOTES) >= 10
    type_right = sum(lab.event_type == n["type"] for lab, n in zip(note_labels, NOTES)) / len(NOTES)
    sub_right = sum(lab.sub_event_type == n["sub"] for lab, n in zip(note_labels, NOTES)) / len(NOTES)
    # Measured 0.94 and 0.93 on these 125 notes (written from the codebook, never trained on; 0.96 and 0.95 on the first 73).
    assert type_right >= 0.93
    assert sub_right >= 0.92
    assert sum(lab.is_event for lab in note_labels) / len(NOTES) >= 0.95


def test_hedges_never_change_the_type(note_labels):
    hedged = [n["t"].replace(", ", ", reportedly ", 1) if not n["t"].startswith("Le ") else n["t"] for n in NOTES]
    for lab, again in zip(note_labels, classify_events(hedged)):
        assert (again.event_type, again.sub_event_type) == (lab.event_type, lab.sub_event_type)
    assert strip_hedges("Gunmen allegedly killed two farmers near Kaya (as reported).") == "Gunmen killed two farmers near Kaya."


def test_sentences_without_an_acled_event_are_told_apart():
    quiet = [
        "The minister of foreign affairs received the ambassador to discuss trade.",
        "The central bank kept its interest rate unchanged this quarter.",
        "Le gouvernement a présenté son budget pour l'année prochaine.",
    ]
    assert not any(lab.is_event for lab in classify_events(quiet))


def test_acled_for_keeps_within_the_project_type():
    tax = load_acled_taxonomy()
    assert acled_for("protest", "Police fired tear gas to disperse the march of traders.")[0] in ("Protests", "Riots")
    assert acled_for("vote", "The assembly voted against the resolution.") == ("Strategic developments", "Other")
    event_type, sub = acled_for("attack", "Militants fired mortar shells at the camp, wounding two soldiers.")
    assert (event_type, sub) == ("Explosions/Remote violence", "Shelling/artillery/missile attack")
    assert sub in tax.project_types["attack"].allowed


def test_case_tsv_reader_and_command(tmp_path):
    path = tmp_path / "case.tsv"
    rows = ["id\tEventSnippet\tSubType"] + [f"{i}\t{n['t']}\t" for i, n in enumerate(NOTES[:6])]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert [r.snippet_id for r in read_case_tsv(path)] == [str(i) for i in range(6)]
    result = CliRunner().invoke(app, ["events", "classify", str(path)])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.strip().splitlines()]
    assert [line[0] for line in lines] == [str(i) for i in range(6)]
    assert all(line[1] in CASE_CODES and line[3] in ("event", "none") for line in lines)
    bad = tmp_path / "bad.tsv"
    bad.write_text("1\tA snippet.\n1\tThe same id again.\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        read_case_tsv(bad)
    assert CliRunner().invoke(app, ["events", "classify", str(tmp_path / "missing.tsv")]).exit_code != 0


def test_acled_notes_through_the_event_stage():
    """One event per note with ACLED's coding, date, place and toll (figures for the report; floors only move up)."""
    from influence_atlas.pipeline import analyze_document, build_document
    from influence_atlas.text.readers import Source

    got, all_right = 0, 0
    for n in NOTES:
        doc = build_document(Source(name="note.txt", path="note.txt", text=n["t"], meta={"published": str(n["pub"])}))
        events = analyze_document(doc).events
        assert all(e.acled_event_type and e.acled_sub_event_type for e in events)
        if not events:
            continue
        got += 1
        e = events[0]
        all_right += (e.acled_event_type == n["type"] and e.date == str(n["date"]) and e.location == n["place"]
                      and (e.fatalities or 0) == n["toll"])
    # Measured on 125 notes with the ACLED detector's events beside the lexicons: 0.95 of the notes give an
    # event, 0.86 with type, date, place and toll right (before it: 0.54 and 0.42).
    assert got / len(NOTES) >= 0.93
    assert all_right / len(NOTES) >= 0.83


def test_acled_csv_carries_sub_types_actor_types_and_precisions(store, tmp_path):
    from influence_atlas.export import export
    from influence_atlas.pipeline import analyze, ingest

    (tmp_path / "a.txt").write_text(
        "On 2 March 2022, Malian troops and Wagner fighters killed more than 30 civilians in Moura. "
        "In August 2022, the French army completed the withdrawal of its last soldiers from Mali.", encoding="utf-8")
    ingest(store, [tmp_path])
    analyze(store)
    rows = list(csv.DictReader(export(store, "acled-csv", tmp_path / "out.csv").open(encoding="utf-8")))
    assert rows and {"inter1", "inter2", "interaction", "geo_precision", "time_precision", "sub_event_type"} <= set(rows[0])
    names = {s.name for s in load_acled_taxonomy().sub_types}
    assert all(r["sub_event_type"] in names for r in rows)
    vac = next(r for r in rows if r["event_type"] == "Violence against civilians")
    assert vac["time_precision"] == "1" and vac["geo_precision"] == "1" and vac["inter1"] in ("1", "8")
    month = next(r for r in rows if r["event_date"].startswith("2022-08"))
    assert month["time_precision"] == "3"


def _note_events(text: str, published: str = "2022-05-04"):
    from influence_atlas.pipeline import analyze_document, build_document
    from influence_atlas.text.readers import Source

    doc = build_document(Source(name="note.txt", path="note.txt", text=text, meta={"published": published}))
    return analyze_document(doc).events


@pytest.mark.parametrize("text", [
    "The ministry of finance presented next year's budget to parliament.",
    "Le ministre des affaires étrangères a reçu l'ambassadeur pour parler du commerce.",
    "Heavy rains are expected across the south of the country this week.",
])
def test_a_document_without_an_event_gives_none(text):
    assert _note_events(text) == []


def test_no_date_place_or_toll_is_invented():
    events = _note_events("Gunmen abducted a trader and his driver.")
    assert events and all(e.date is None and e.location is None and e.fatalities is None for e in events)
    # Counts of the wounded or abducted are not a toll.
    wounded = _note_events("On 20 November 2021, unidentified men threw a grenade into a bar in Bujumbura, wounding twelve people.")
    assert wounded and not wounded[0].fatalities


def test_a_hedge_sets_the_modality_and_keeps_the_type():
    plain = _note_events("On 28 September 2022, JNIM militants shelled a military camp near Boulkessi.")
    hedged = _note_events("On 28 September 2022, JNIM militants reportedly shelled a military camp near Boulkessi.")
    assert plain and hedged
    assert hedged[0].modality == "alleged" and plain[0].modality == "asserted"
    assert (hedged[0].type, hedged[0].acled_sub_event_type) == (plain[0].type, plain[0].acled_sub_event_type)
    assert hedged[0].acled_sub_event_type == "Shelling/artillery/missile attack"
