"""The interchange exports (STIX 2.1, FollowTheMoney, GEXF, GraphML) on the analysed seeds and on a hand-made store.

Checked with the field's own tools: stix2-validator and stix2 for the bundle, followthemoney for
the entities, networkx reading back the graph files.
"""

from __future__ import annotations

import json

import networkx as nx
import pytest
import stix2
from followthemoney import model
from stix2validator import ValidationOptions, validate_parsed_json
from typer.testing import CliRunner

from influence_atlas.cli import app
from influence_atlas.errors import AtlasError
from influence_atlas.export import export
from influence_atlas.interchange.common import date_span, exported_events
from influence_atlas.interchange.ftm import ftm_entities
from influence_atlas.interchange.graph import actor_graph
from influence_atlas.interchange.stix import stix_bundle
from influence_atlas.pipeline import analysis_version, build_document
from influence_atlas.records import Actor, Analysis, Claim, Event, EventActor, Mention, TtpHit
from databases import copy_database
from influence_atlas.store import open_store
from influence_atlas.text.readers import Source

INTERCHANGE_FORMATS = ("stix", "ftm", "gexf", "graphml")
UUID_V4_WARNING = "{103}"  # stix2-validator: ids SHOULD be UUIDv4; ours are deterministic uuid5 by design


def _seed_ttps(store):
    """Return DISARM hits for the seeds: the pipeline's, else the DISARM cue mapper's, else one at an information operation."""
    hits = store.ttps()
    if hits:
        return []
    docs = store.documents()
    try:
        from influence_atlas.extract.disarm import EXTRACTOR, find_ttps

        hits = [TtpHit(d.id, tid, name, a, b, d.text[a:b], conf, EXTRACTOR)
                for d in docs for a, b, tid, name, conf in find_ttps(d.text, d.language)]
    except (AtlasError, ImportError):
        hits = []
    if not hits:
        op = next(e for e in store.events() if e.type == "information_operation")
        hits = [TtpHit(op.doc, "T0007", "Create Inauthentic Social Media Pages and Groups", op.start, op.end, op.evidence, 0.8, "test")]
    return hits


@pytest.fixture(scope="module")
def seed_store(demo_run, tmp_path_factory):
    """A copy of the analysed seeds with DISARM technique hits stored through replace_analysis."""
    store = open_store(copy_database(demo_run.db, tmp_path_factory.mktemp("interchange")))
    hits = _seed_ttps(store)
    by_doc: dict[str, list[TtpHit]] = {}
    for h in hits:
        by_doc.setdefault(h.doc, []).append(h)
    for doc, found in by_doc.items():
        store.replace_analysis(Analysis(
            doc=doc, mentions=store.mentions(doc), actors=store.actors(mentioned_only=False), events=store.events(doc),
            claims=store.claims(doc), stances=store.stances(doc), narratives=store.narratives(doc),
            techniques=store.techniques(doc), ttps=store.ttps(doc) + found), analysis_version())
    assert store.ttps(), "the seed store needs DISARM hits for these tests"
    yield store
    store.close()


@pytest.fixture(scope="module")
def seed_bundle(seed_store):
    return stix_bundle(seed_store)


def _validate(bundle):
    return validate_parsed_json(bundle, ValidationOptions(version="2.1", enforce_refs=True))


# -- STIX on the seeds ---------------------------------------------------------------------------
def test_seed_bundle_validates_with_no_errors(seed_bundle):
    result = _validate(seed_bundle)
    assert result.errors == [] and result.is_valid
    others = [str(w) for w in result.warnings if UUID_V4_WARNING not in str(w)]
    assert others == []
    print(f"stix2-validator 3.2.0 on the seeds: {len(result.errors)} errors, {len(result.warnings)} warnings "
          f"(all uuid-check), {len(seed_bundle['objects'])} objects")


def test_seed_bundle_reloads_with_stix2(seed_bundle):
    parsed = stix2.parse(seed_bundle, allow_custom=True)
    assert isinstance(parsed, stix2.v21.Bundle)
    assert [o.id for o in parsed.objects] == [o["id"] for o in seed_bundle["objects"]]
    again = json.loads(parsed.serialize())
    assert again["objects"] == seed_bundle["objects"]


def test_seed_bundle_holds_actors_reports_events_claims_and_disarm(seed_store, seed_bundle):
    objects = seed_bundle["objects"]
    by_id = {o["id"]: o for o in objects}
    actor_types = {"identity", "threat-actor", "intrusion-set"}
    named = {o["name"]: o["type"] for o in objects if o["type"] in actor_types}
    for actor in seed_store.actors():
        assert actor.name in named
    assert named["Wagner Group"] == "threat-actor"
    operators = {a.name for e in seed_store.events() if e.type == "information_operation" for a in e.actors if a.role == "agent"}
    assert operators and all(named[n] in ("threat-actor", "intrusion-set") for n in operators)

    reports = [o for o in objects if o["type"] == "report"]
    assert len(reports) == len(seed_store.documents())
    assert all(ref in by_id for r in reports for ref in r["object_refs"])

    told = {}
    for o in objects:
        if "x_atlas_event" in o and o["type"] in ("relationship", "sighting", "campaign"):
            told.setdefault(o["x_atlas_event"], []).append(o)
    dated = 0
    for e in exported_events(seed_store):
        if not e.actors:
            continue
        assert e.id in told, f"event {e.id} ({e.type}) is missing from the bundle"
        report = by_id[next(r["id"] for r in reports if r["external_references"][0]["external_id"] == e.doc)]
        for o in told[e.id]:
            assert o["id"] in report["object_refs"] and e.evidence in o["description"]
            if e.date:
                first, last = date_span(e.date)
                start = o.get("start_time") or o.get("first_seen")
                end = o.get("stop_time") or o.get("last_seen")
                assert start.startswith(first.isoformat()) and end.startswith(last.isoformat())
                dated += 1
    assert dated and any(o["type"] == "campaign" for o in objects)
    assert not [e for e in seed_store.events() if e.modality == "negated" and e.id in told]

    patterns = {r["external_id"]: o for o in objects if o["type"] == "attack-pattern"
                for r in o["external_references"] if r["source_name"] == "DISARM"}
    assert set(patterns) == {t.disarm_id for t in seed_store.ttps()}
    assert all(p["x_mitre_id"] == i for i, p in patterns.items())
    uses = [o for o in objects if o["type"] == "relationship" and o["relationship_type"] == "uses"]
    assert uses and all(by_id[u["target_ref"]]["type"] == "attack-pattern" for u in uses)
    assert all(by_id[u["source_ref"]]["type"] in ("campaign", "threat-actor", "intrusion-set") for u in uses)

    notes = [o for o in objects if o["type"] == "note"]
    assert sorted(n["content"] for n in notes) == sorted(c.text for c in seed_store.claims())


# -- the mapping, on a hand-made store -----------------------------------------------------------
TEXT = (
    "On 27 March 2022, Wagner Group fighters attacked the Malian army in Moura. "
    "In 2021, RT ran a network of fake Facebook pages targeting France. "
    "Russia did not attack Niger. "
    "France withdrew its troops in August 2022. "
    "Human Rights Watch said that at least 300 civilians died. "
    "Vladimir Putin praised the operation."
)
ACTORS = [
    Actor("Wagner Group", "armed_group", ("Wagner",), "Russia"), Actor("Mali", "state", ("Malian army",), "Mali"),
    Actor("RT", "media", ("Russia Today",), "Russia"), Actor("France", "state", (), "France"),
    Actor("Russia", "state", (), "Russia"), Actor("Niger", "state", (), "Niger"),
    Actor("Human Rights Watch", "ngo", ("HRW",), "United States"), Actor("Vladimir Putin", "person", ("Putin",), "Russia"),
]


def _span(phrase: str, after: int = 0) -> tuple[int, int]:
    start = TEXT.index(phrase, after)
    return start, start + len(phrase)


def _sentence(phrase: str) -> tuple[int, int, str]:
    start, _ = _span(phrase)
    end = TEXT.index(". ", start) + 1 if ". " in TEXT[start:] else len(TEXT)
    return start, end, TEXT[start:end]


def _event(eid, doc, etype, date, precision, roles, sentence, location=None, lat=None, lon=None, modality="asserted"):
    start, end, evidence = _sentence(sentence)
    return Event(eid, doc, etype, date, precision, tuple(EventActor(n, r) for n, r in roles), location, lat, lon,
                 None, None, modality, start, end, evidence, etype, "test", 0.9)


@pytest.fixture
def small_store(atlas_db):
    store = open_store(atlas_db)
    doc = build_document(Source(name="small.txt", path="small.txt", text=TEXT, meta={"title": "Small test", "published": "2023-01-15"}))
    assert store.add_document(doc)
    text = doc.text
    assert text == TEXT
    mentions = []
    # (actor, the words, the sentence they are in, label)
    for actor, words, where, label in [
        ("Wagner Group", "Wagner Group", "On 27 March", "ORG"), ("Mali", "Malian army", "On 27 March", "ORG"),
        (None, "Moura", "On 27 March", "GPE"), ("RT", "RT", "In 2021", "ORG"), ("France", "France", "In 2021", "GPE"),
        ("Russia", "Russia", "Russia did not", "GPE"), ("Niger", "Niger", "Russia did not", "GPE"),
        ("France", "France", "France withdrew", "GPE"), ("Human Rights Watch", "Human Rights Watch", "Human Rights", "ORG"),
        ("Vladimir Putin", "Vladimir Putin", "Vladimir", "PERSON"),
    ]:
        start, _ = _span(words, TEXT.index(where))
        mentions.append(Mention(doc.id, start, start + len(words), words, label, actor, "test", 1.0))
    events = [
        _event("ev_attack", doc.id, "attack", "2022-03-27", "day", [("Wagner Group", "agent"), ("Mali", "target")],
               "On 27 March", "Moura", 14.086, -4.969),
        _event("ev_op", doc.id, "information_operation", "2021", "year", [("RT", "agent"), ("France", "target")], "In 2021, RT"),
        _event("ev_negated", doc.id, "attack", None, None, [("Russia", "agent"), ("Niger", "target")], "Russia did not",
               modality="negated"),
        _event("ev_withdrawal", doc.id, "withdrawal", "2022-08", "month", [("France", "agent")], "France withdrew"),
    ]
    c_start, c_end, c_text = _sentence("Human Rights Watch said")
    claims = [Claim("cl_1", doc.id, c_start, c_end, c_text, 0.9, (), "Human Rights Watch", "Human Rights Watch said", "said",
                    False, (), "test", 0.8)]
    t_start, t_end = _span("network of fake Facebook pages")
    ttps = [TtpHit(doc.id, "T0007", "Create Inauthentic Social Media Pages and Groups", t_start, t_end, TEXT[t_start:t_end], 0.8, "test")]
    store.replace_analysis(Analysis(doc=doc.id, mentions=mentions, actors=ACTORS, events=events, claims=claims, ttps=ttps), "test")
    yield store
    store.close()


def _objects_by(bundle, **match):
    return [o for o in bundle["objects"] if all(o.get(k) == v for k, v in match.items())]


def test_stix_mapping_of_actors_events_places_techniques_and_claims(small_store):
    bundle = stix_bundle(small_store)
    result = _validate(bundle)
    assert result.errors == [] and [str(w) for w in result.warnings if UUID_V4_WARNING not in str(w)] == []
    by_id = {o["id"]: o for o in bundle["objects"]}
    by_name = {o["name"]: o for o in bundle["objects"] if o["type"] in ("identity", "threat-actor", "intrusion-set")}
    assert by_name["Wagner Group"]["type"] == "threat-actor"
    assert by_name["RT"]["type"] == "intrusion-set" and by_name["RT"]["aliases"] == ["Russia Today"]
    assert by_name["France"]["type"] == "identity" and by_name["France"]["identity_class"] == "organization"
    assert by_name["France"]["sectors"] == ["government-national"]
    assert by_name["Vladimir Putin"]["identity_class"] == "individual"
    assert by_name["Russia"]["type"] == "identity"  # its only operation is negated

    attack = _objects_by(bundle, type="relationship", x_atlas_event="ev_attack")
    pairs = {(by_id[o["source_ref"]]["name"], o["relationship_type"], by_id[o["target_ref"]]["name"]) for o in attack}
    assert pairs == {("Wagner Group", "targets", "Mali"), ("Wagner Group", "targets", "Moura")}
    assert {(o["start_time"], o["stop_time"]) for o in attack} == {("2022-03-27T00:00:00Z", "2022-03-27T23:59:59.999Z")}
    assert all("“On 27 March 2022, Wagner Group fighters attacked the Malian army in Moura.”" in o["description"] for o in attack)
    moura = next(o for o in bundle["objects"] if o["type"] == "location")
    assert (moura["name"], moura["latitude"], moura["longitude"], moura["country"]) == ("Moura", 14.086, -4.969, "ML")

    campaign = _objects_by(bundle, type="campaign")[0]
    assert campaign["first_seen"] == "2021-01-01T00:00:00Z" and campaign["last_seen"] == "2021-12-31T23:59:59.999Z"
    links = {(o["relationship_type"], by_id[o["target_ref"]]["name"]) for o in bundle["objects"]
             if o["type"] == "relationship" and o["source_ref"] == campaign["id"]}
    assert links == {("attributed-to", "RT"), ("targets", "France"), ("uses", "Create Inauthentic Social Media Pages and Groups")}
    pattern = _objects_by(bundle, type="attack-pattern")[0]
    assert pattern["external_references"] == [{"source_name": "DISARM", "external_id": "T0007"}]

    assert not _objects_by(bundle, x_atlas_event="ev_negated")
    sighting = _objects_by(bundle, type="sighting")[0]
    assert by_id[sighting["sighting_of_ref"]]["name"] == "France" and sighting["x_atlas_event"] == "ev_withdrawal"
    assert (sighting["first_seen"], sighting["last_seen"]) == ("2022-08-01T00:00:00Z", "2022-08-31T23:59:59.999Z")

    note = _objects_by(bundle, type="note")[0]
    assert note["authors"] == ["Human Rights Watch"] and note["content"].startswith("Human Rights Watch said")
    report = _objects_by(bundle, type="report")[0]
    assert report["published"] == "2023-01-15T00:00:00Z" and report["name"] == "Small test"
    assert note["id"] in report["object_refs"] and report["id"] in note["object_refs"]
    assert {campaign["id"], sighting["id"], pattern["id"], moura["id"]} <= set(report["object_refs"])


def test_ftm_entities_load_with_followthemoney(small_store, seed_store):
    for store in (small_store, seed_store):
        entities = ftm_entities(store)
        ids = {e["id"] for e in entities}
        assert len(ids) == len(entities)
        for entity in entities:
            proxy = model.get_proxy(entity, cleaned=False)  # cleaned=False: every value goes through FtM's type cleaning
            data = proxy.to_dict()
            assert (data["id"], data["schema"], data["properties"]) == (entity["id"], entity["schema"], entity["properties"])
            for prop in proxy.iterprops():
                if prop.type.name == "entity":
                    assert set(proxy.get(prop)) <= ids, f"{entity['schema']}.{prop.name} points outside the export"
    small = ftm_entities(small_store)
    named = {(e["schema"], e["properties"]["name"][0]): e["properties"] for e in small if "name" in e["properties"]}
    assert named[("Person", "Vladimir Putin")]["country"] == ["ru"]
    assert named[("PublicBody", "France")]["topics"] == ["gov.national"]
    assert named[("Organization", "Wagner Group")]["topics"] == ["mil"]
    article = named[("Article", "Small test")]
    assert article["publishedAt"] == ["2023-01-15"] and article["language"] == ["eng"] and article["bodyText"] == [TEXT]
    of = lambda schema: [e["properties"] for e in small if e["schema"] == schema]  # noqa: E731
    assert sorted(e["recordId"][0] for e in of("Event")) == ["ev_attack", "ev_op", "ev_withdrawal"]
    assert sorted(e["role"][0] for e in of("UnknownLink")) == ["attack", "information operation"]
    assert {tuple(m["name"]) for m in of("Mention") if "resolved" not in m} == set()  # Moura (GPE) is no Mention
    assert any(m["name"] == ["France"] and m["detectedSchema"] == ["PublicBody"] for m in of("Mention"))
    assert [n["publisher"] for n in of("Note")] == [["Human Rights Watch"]]


def _read_back(path, fmt):
    return nx.read_gexf(path) if fmt == "gexf" else nx.read_graphml(path)


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_actor_graph_round_trips_through_gexf_and_graphml(small_store, seed_store, tmp_path, fmt):
    for i, store in enumerate((small_store, seed_store)):
        graph = actor_graph(store)
        path = export(store, fmt, tmp_path / f"g{i}.{fmt}")
        back = _read_back(path, fmt)
        assert back.is_directed() and not back.is_multigraph()
        assert sorted(back.nodes) == sorted(graph.nodes)
        assert sorted(back.edges) == sorted(graph.edges)
        for node, attrs in graph.nodes(data=True):
            assert back.nodes[node] == attrs
        for u, v, attrs in graph.edges(data=True):
            got = dict(back.edges[u, v])
            got.pop("id", None)  # GEXF edge ids
            expected = {**attrs, "weight": float(attrs["weight"])} if fmt == "gexf" else attrs  # GEXF weights are doubles
            assert got == expected
    if fmt == "gexf":
        root = (tmp_path / "g0.gexf").read_text(encoding="utf-8")
        assert 'mode="dynamic"' in root and 'timeformat="date"' in root
    small = actor_graph(small_store)
    wagner, mali = "actor:wagner-group", "actor:mali"
    assert small.edges[wagner, mali] == {
        "weight": 1, "relation": "acts-on", "acts_on": 1, "co_participation": 0, "event_types": "attack", "documents": 1,
        "start": "2022-03-27", "end": "2022-03-27"}
    assert small.nodes["actor:rt"]["start"] == "2021-01-01" and small.nodes["actor:rt"]["end"] == "2021-12-31"
    assert not small.has_edge("actor:russia", "actor:niger")
    assert small.nodes["actor:vladimir-putin"]["mentions"] == 1 and "start" not in small.nodes["actor:vladimir-putin"]


@pytest.mark.parametrize("fmt", INTERCHANGE_FORMATS)
def test_two_exports_are_byte_identical(seed_store, tmp_path, fmt):
    first = export(seed_store, fmt, tmp_path / f"a.{fmt}").read_bytes()
    second = export(seed_store, fmt, tmp_path / f"b.{fmt}").read_bytes()
    assert first == second and len(first) > 1000


def test_empty_store_exports_every_format(store, tmp_path):
    for fmt in INTERCHANGE_FORMATS:
        assert export(store, fmt, tmp_path / f"empty.{fmt}").exists()
    bundle = json.loads((tmp_path / "empty.stix").read_text())
    assert bundle["type"] == "bundle" and "objects" not in bundle
    assert (tmp_path / "empty.ftm").read_text() == ""


def test_cli_exports_stix(small_store, tmp_path):
    out = tmp_path / "atlas.stix.json"
    result = CliRunner().invoke(app, ["export", "--format", "stix", str(out), "--db", small_store.url])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["type"] == "bundle"
