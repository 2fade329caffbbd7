"""Analyst corrections (issue 23): made on the analysed demo corpus, replayed by re-analysis, carried by every export."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from databases import copy_database, drop_database  # tests/ is on sys.path
from test_web_browser import browser  # noqa: F401 (the headless Chromium fixture)
from influence_atlas import corrections as C
from influence_atlas.cli import app
from influence_atlas.export import export, export_dict
from influence_atlas.store import open_store
from influence_atlas.store.schema import events as events_t

WHO = "test-analyst"


@pytest.fixture
def demo_copy(demo_run, tmp_path):
    """A writable copy of the analysed demo database."""
    db = copy_database(str(demo_run.db), tmp_path)
    yield db
    drop_database(db)


def _pick(store):
    """Return one record of each kind from the analysed demo corpus, chosen by their properties, not by name."""
    events = store.events()
    claims = store.claims()
    links = store.links()
    dated = [e for e in events if e.date]
    # A link reconciliation made (not through the events edited or rejected below): a contradiction when there is one.
    contradicts = sorted((x for x in links if not {dated[0].id, dated[-1].id} & set(x.items)),
                         key=lambda x: (x.kind != "contradicts", x.id))[0]
    in_links = {i for x in links for i in x.items}
    free_claims = [c for c in claims if c.id not in in_links]
    linked_pair = next((a, b) for a in free_claims for b in free_claims if a.doc < b.doc)
    stance = store.stances()[0]
    narrative = store.narratives()[0]
    technique = store.techniques()[0]
    ttp = store.ttps()[0]
    mention = next(m for m in store.mentions() if m.actor is None)
    return dict(edit_event=dated[0], reject_event=dated[-1], claim=claims[0], confirm_claim=claims[-1], contradicts=contradicts,
                stance=stance, narrative=narrative, technique=technique, ttp=ttp, mention=mention, new_link=linked_pair)


def _two_actors(store):
    """Return (merged, kept): the two actors taking part in the most events, each in some event without the other."""
    counts = Counter(a.name for e in store.events() for a in {x.name: x for x in e.actors}.values())
    names = [n for n, _ in counts.most_common()]
    return names[1], names[0]


def test_every_kind_of_correction_survives_reanalysis(demo_copy):
    store = open_store(demo_copy)
    p = _pick(store)
    doomed = p["edit_event"] if p["edit_event"].id != p["reject_event"].id else None
    ev = p["edit_event"]
    made = {
        "edit event": C.add_correction(store, "edit", "event", ev.id,
                                       {"date": "2019-07-14", "type": "protest", "fatalities": "7", "location": "Gao"}, WHO,
                                       "the text gives the day"),
        "reject event": C.add_correction(store, "reject", "event", p["reject_event"].id, None, WHO, "not an event"),
        "edit claim": C.add_correction(store, "edit", "claim", p["claim"].id, {"attributed_to": "Human Rights Watch"}, WHO),
        "confirm claim": C.add_correction(store, "confirm", "claim", p["confirm_claim"].id, None, WHO),
        "reject link": C.add_correction(store, "reject", "link", p["contradicts"].id, None, WHO, "false contradiction"),
        "edit stance": C.add_correction(store, "edit", "stance", f"{p['stance'].doc}/{p['stance'].actor}", {"score": "-1.5"}, WHO),
        "edit narrative": C.add_correction(
            store, "edit", "narrative", f"{p['narrative'].doc}/{p['narrative'].narrative}/{p['narrative'].mode}",
            {"mode": "reported" if p["narrative"].mode == "endorsed" else "endorsed"}, WHO),
        "reject technique": C.add_correction(
            store, "reject", "technique", f"{p['technique'].doc}/{p['technique'].start}-{p['technique'].end}/{p['technique'].technique}",
            None, WHO),
        "reject ttp": C.add_correction(store, "reject", "ttp", f"{p['ttp'].doc}/{p['ttp'].start}-{p['ttp'].end}/{p['ttp'].disarm_id}",
                                       None, WHO),
        "reject mention": C.add_correction(store, "reject", "mention", f"{p['mention'].doc}/{p['mention'].start}-{p['mention'].end}",
                                           None, WHO),
        "add link": C.add_correction(store, "add_link", "corroborates", [c.id for c in p["new_link"]], None, WHO, "same figure"),
        "add narrative": C.add_correction(store, "add_narrative", "narrative", f"{ev.doc}/N2",
                                          {"mode": "reported", "evidence": [f"{ev.start}-{ev.end}"]}, WHO),
    }
    assert all(c.state == "applied" for c in made.values()), {k: c.state for k, c in made.items()}
    merged, kept = _two_actors(store)
    made["merge"] = C.add_correction(store, "merge", "actor", merged, {"into": kept}, WHO)
    # Split off an alias: a mention whose words differ from its actor's canonical name (an actor not merged above).
    alias = next(m for m in store.mentions() if m.actor and m.actor not in (merged, kept) and m.text.casefold() != m.actor.casefold())
    made["split"] = C.add_correction(store, "split", "actor", alias.actor, {"alias": alias.text, "into": "Split-off test actor"}, WHO)

    # An edit whose record the next analysis no longer produces: the stored record of an earlier analysis (here a
    # span and type the extractors do not give) is corrected, then re-analysis replaces it.
    other = next(e for e in store.events() if e.doc != ev.doc)
    length = len(store.documents([other.doc])[0].text)
    with store.transaction() as conn:
        conn.execute(update(events_t).where(events_t.c.id == other.id).values(start=length - 3, end=length, type="vote", trigger="zz"))
    gone = C.add_correction(store, "edit", "event", other.id, {"date": "2001"}, WHO, "to be orphaned")
    assert gone.state == "applied"
    store.close()

    result = CliRunner().invoke(app, ["analyze", "--all", "--db", demo_copy])
    assert result.exit_code == 0, result.output
    assert gone.id in result.output and "orphaned" in result.output

    store = open_store(demo_copy)
    states = {c.id: c.state for c in C.list_corrections(store)}
    assert {k: states[c.id] for k, c in made.items()} == {k: "applied" for k in made}
    assert states[gone.id] == "orphaned"
    listed = CliRunner().invoke(app, ["correct", "list", "--state", "orphaned", "--db", demo_copy])
    assert listed.exit_code == 0 and gone.id in listed.output

    # The corrected values are in the store after re-analysis...
    events = {e.id: e for e in store.events()}
    edited = next(e for e in events.values() if e.doc == ev.doc and e.start == ev.start and e.end == ev.end and e.type == "protest")
    assert (edited.date, edited.date_precision, edited.fatalities, edited.location) == ("2019-07-14", "day", 7, "Gao")
    assert p["reject_event"].id not in events
    claims = {c.id: c for c in store.claims()}
    assert claims[p["claim"].id].attributed_to == "Human Rights Watch"
    assert p["contradicts"].id not in {x.id for x in store.links()}
    added = [x for x in store.links() if x.kind == "corroborates" and set(x.items) == {c.id for c in p["new_link"]}]
    assert len(added) == 1
    stance = next(s for s in store.stances(p["stance"].doc) if s.actor == p["stance"].actor)
    assert stance.score == -1.5
    modes = {(n.narrative, n.mode) for n in store.narratives(p["narrative"].doc)}
    assert (p["narrative"].narrative, made["edit narrative"].fields["mode"]) in modes
    assert ("N2", "reported") in {(n.narrative, n.mode) for n in store.narratives(ev.doc)}
    assert (p["technique"].start, p["technique"].technique) not in {(t.start, t.technique) for t in store.techniques(p["technique"].doc)}
    assert (p["ttp"].start, p["ttp"].disarm_id) not in {(t.start, t.disarm_id) for t in store.ttps(p["ttp"].doc)}
    assert (p["mention"].start, p["mention"].end) not in {(m.start, m.end) for m in store.mentions(p["mention"].doc)}
    assert merged not in {m.actor for m in store.mentions()}
    relinked = [m for m in store.mentions() if m.text.casefold() == alias.text.casefold() and m.actor in (alias.actor, "Split-off test actor")]
    assert relinked and all(m.actor == "Split-off test actor" for m in relinked)
    assert alias.text not in next(a.aliases for a in store.actors(False) if a.name == alias.actor)

    # ...in the other exports, which read the corrected store...
    from influence_atlas.export import ACLED_COLUMNS, acled_rows, claimreview

    row = next(dict(zip(ACLED_COLUMNS, r)) for r in acled_rows(store) if r[0] == edited.id)
    assert (row["event_date"], row["location"], int(row["fatalities"])) == ("2019-07-14", "Gao", 7)
    item = next(x for x in claimreview(store)["@graph"] if x["@id"] == f"atlas:claim:{p['claim'].id}")
    assert item["author"]["name"] == "Human Rights Watch"

    # ...and in the JSON export, with each record's review state and the corrections log.
    data = export_dict(store)
    assert {c["id"] for c in data["corrections"]} == set(states)
    assert {c["id"]: c["state"] for c in data["corrections"]}[gone.id] == "orphaned"
    for c in data["corrections"]:
        assert set(c) == {"id", "who", "when", "target", "operation", "fields", "reason", "state"}
        assert c["who"] == WHO and c["target"]["kind"] in C.KINDS
    review = {e["id"]: e["review"] for e in data["events"]}
    assert review[edited.id] == "corrected"
    assert {c["id"]: c["review"] for c in data["claims"]}[p["confirm_claim"].id] == "confirmed"
    assert {c["id"]: c["review"] for c in data["claims"]}[p["claim"].id] == "corrected"
    assert all(x["review"] in ("unreviewed", "confirmed", "corrected") for name in ("mentions", "stances", "narratives", "links",
                                                                                    "techniques", "ttps", "actors") for x in data[name])
    # The merge corrected the events it renamed an actor in; events it did not touch and no one edited are unreviewed.
    for e in data["events"]:
        if e["id"] != edited.id and kept not in e["actors"]:
            assert e["review"] == "unreviewed", e
    store.close()


def test_merging_two_actors_changes_network_timeline_stances_and_exports(demo_copy, tmp_path):
    from influence_atlas.interchange.ftm import ftm_entities
    from influence_atlas.interchange.stix import stix_bundle
    from influence_atlas.timeline import timeline
    from influence_atlas.web import data as views

    store = open_store(demo_copy)
    merged, kept = _two_actors(store)
    with_merged = {e.id for e in store.events() if merged in {a.name for a in e.actors}}
    before = views.Corpus(store)
    assert merged in {n["name"] for n in views.network_view(before)["nodes"]}
    assert merged in {o["name"] for o in views.timeline_view(before)["actors"]}
    assert merged in {x["actor"] for x in views.sources_view(before)["stances"]}
    C.add_correction(store, "merge", "actor", merged, {"into": kept}, WHO, "one organisation")

    corpus = views.Corpus(store)
    nodes = {n["name"] for n in views.network_view(corpus)["nodes"]}
    assert merged not in nodes and kept in nodes
    options = {o["name"] for o in views.timeline_view(corpus)["actors"]}
    assert merged not in options and kept in options
    # Filtering the timeline by the merged name finds its events under the actor kept.
    rows = timeline(store, actor=merged, include_undated=True)
    assert with_merged and with_merged <= {r.event.id for r in rows}
    assert all(kept in {a.name for a in r.event.actors} for r in rows)
    assert merged not in {s.actor for s in store.stances()}
    assert merged not in {x["actor"] for x in views.sources_view(corpus)["stances"]}

    data = export_dict(store)
    assert merged not in {a["name"] for a in data["actors"]}
    assert merged in next(a for a in data["actors"] if a["name"] == kept)["aliases"]
    assert all(merged not in e["actors"] for e in data["events"])
    assert {a["name"]: a["review"] for a in data["actors"]}[kept] == "corrected"
    stix_names = {o.get("name") for o in stix_bundle(store)["objects"] if o.get("type") in ("identity", "threat-actor", "intrusion-set")}
    assert merged not in stix_names and kept in stix_names
    ftm_names = {n for e in ftm_entities(store) if e["schema"] != "Mention" for n in e["properties"].get("name", [])}
    assert merged not in ftm_names and kept in ftm_names
    path = export(store, "acled-csv", tmp_path / "events.csv")
    with open(path, encoding="utf-8") as fh:
        cells = {c for row in csv.DictReader(fh) for c in (row["actor1"], row["actor2"])}
    assert merged not in cells
    store.close()


def test_cli_errors_are_clear_and_nothing_is_written(demo_copy, monkeypatch):
    monkeypatch.setenv("ATLAS_USER", WHO)
    runner = CliRunner()
    store = open_store(demo_copy)
    ev = store.events()[0]
    store.close()
    cases = [
        (["reject", "event", "ev_nope"], "no event 'ev_nope'"),
        (["edit", "event", ev.id, "--set", "date=2022-13-01"], "YYYY-MM-DD"),
        (["edit", "event", ev.id, "--set", "toll=3"], "not an editable field"),
        (["edit", "event", ev.id, "--set", "type=picnic"], "invalid event type"),
        (["merge", "Nobody At All", "Mali"], "no actor 'Nobody At All'"),
        (["undo", "co_nope"], "no correction 'co_nope'"),
        (["link", "same_event", ev.id], "at least two"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["correct", *args, "--db", demo_copy])
        assert result.exit_code == 2, (args, result.output)
        assert message in " ".join(result.output.split()), (args, result.output)
    monkeypatch.delenv("ATLAS_USER")
    result = runner.invoke(app, ["correct", "confirm", "event", ev.id, "--db", demo_copy])
    assert result.exit_code == 2 and "--who" in result.output
    store = open_store(demo_copy)
    assert C.list_corrections(store) == []
    store.close()


def test_cli_correct_then_undo_export_and_import(demo_copy, tmp_path, demo_run):
    runner = CliRunner()
    store = open_store(demo_copy)
    ev = next(e for e in store.events() if e.date)
    store.close()
    result = runner.invoke(app, ["correct", "edit", "event", ev.id, "--set", "date=2020-01", "--who", WHO, "--reason", "r",
                                 "--db", demo_copy])
    assert result.exit_code == 0, result.output
    store = open_store(demo_copy)
    assert store.find_records("event", id=ev.id)[0].date == "2020-01"
    (correction,) = C.list_corrections(store)
    store.close()

    shared = tmp_path / "shared.json"
    assert runner.invoke(app, ["correct", "export", str(shared), "--db", demo_copy]).exit_code == 0
    # A team-mate's database: a fresh copy of the analysed corpus takes the shared corrections.
    (tmp_path / "mate").mkdir()
    mate = copy_database(str(demo_run.db), tmp_path / "mate")
    try:
        result = runner.invoke(app, ["correct", "import", str(shared), "--db", mate])
        assert result.exit_code == 0 and "imported 1 correction(s) (0 orphaned)" in result.output, result.output
        again = runner.invoke(app, ["correct", "import", str(shared), "--db", mate])
        assert "imported 0 correction(s)" in again.output and "1 already here" in again.output
        mate_store = open_store(mate)
        assert mate_store.find_records("event", id=ev.id)[0].date == "2020-01"
        assert [c.id for c in C.list_corrections(mate_store)] == [correction.id]
        mate_store.close()
    finally:
        drop_database(mate)

    result = runner.invoke(app, ["correct", "undo", correction.id, "--db", demo_copy])
    assert result.exit_code == 0 and "undone" in result.output
    store = open_store(demo_copy)
    assert C.list_corrections(store)[0].state == "undone"
    assert ev.doc in {m["id"] for m in store.document_metadata() if m["analysis_version"] is None}
    store.close()


def test_keys_do_not_use_row_ids(demo_copy):
    store = open_store(demo_copy)
    ev = store.events()[0]
    key = C.record_key("event", ev)
    assert ev.id not in key and ev.doc in key and f"{ev.start}-{ev.end}" in key
    link = store.links()[0]
    items = {e.id: C.record_key("event", e) for e in store.events()} | {c.id: C.record_key("claim", c) for c in store.claims()}
    assert all(i not in C.record_key("link", link, items) for i in link.items)
    store.close()


def test_web_api_writes_only_with_allow_edits_and_token(demo_copy):
    import httpx

    from test_web_api import running_server

    store = open_store(demo_copy)
    ev = next(e for e in store.events() if e.date)
    link = sorted(store.links(), key=lambda x: (x.kind != "contradicts", x.id))[0]
    store.close()
    body = {"operation": "edit", "kind": "event", "ref": ev.id, "fields": {"date": "2018-05-04"}, "who": WHO, "reason": "api"}
    with running_server(demo_copy) as base:  # read-only by default
        assert httpx.post(base + "/api/corrections", json=body).status_code == 403
        assert httpx.get(base + "/api/corrections").json() == {"allow_edits": False, "corrections": []}
    with running_server(demo_copy, allow_edits=True, token="s3cret") as base:
        assert httpx.post(base + "/api/corrections", json=body).status_code == 401
        auth = {"Authorization": "Bearer s3cret"}
        assert httpx.post(base + "/api/corrections", content=b"operation=edit", headers={**auth, "Content-Type":
                                                                                     "application/x-www-form-urlencoded"}).status_code == 415
        assert httpx.post(base + "/api/corrections", json=body, headers={**auth, "Origin": "https://elsewhere.example"}).status_code == 403
        bad = httpx.post(base + "/api/corrections", json={**body, "fields": {"date": "2018-02-30"}}, headers=auth)
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["detail"]
        assert httpx.post(base + "/api/corrections", json={**body, "ref": "ev_nope"}, headers=auth).status_code == 404
        made = httpx.post(base + "/api/corrections", json=body, headers=auth)
        assert made.status_code == 201 and made.json()["state"] == "applied"
        rejected = httpx.post(base + "/api/corrections", headers=auth,
                              json={"operation": "reject", "kind": "link", "ref": link.id, "who": WHO, "reason": "false"})
        assert rejected.status_code == 201
        # The views show the corrected store at once.
        timeline = httpx.get(base + "/api/timeline", headers=auth).json()
        told = [e for h in timeline["items"] + timeline["undated"] for e in h["events"] if e["id"] == ev.id]
        assert told and told[0]["date"] == "2018-05-04" and told[0]["review"] == "corrected"
        views = httpx.get(base + "/api/contradictions", headers=auth).json()
        assert link.id not in {c["id"] for c in views["contradictions"]}
        assert link.id not in {x["id"] for h in views["conflicting_events"] for x in h["links"]}
        schema = httpx.get(base + "/openapi.json", headers=auth).json()
        assert {"get", "post"} <= set(schema["paths"]["/api/corrections"])
        assert "post" in schema["paths"]["/api/corrections/{correction_id}/undo"]
        listed = httpx.get(base + "/api/corrections", headers=auth).json()
        assert listed["allow_edits"] is True and len(listed["corrections"]) == 2
        undone = httpx.post(base + f"/api/corrections/{made.json()['id']}/undo", json={}, headers=auth)
        assert undone.status_code == 200 and undone.json()["state"] == "undone" and ev.doc in undone.json()["reanalyse"]


@pytest.mark.slow
def test_browser_rejects_a_contradiction_and_fixes_a_date_that_survive_reload_and_reanalysis(demo_copy, browser):
    from influence_atlas.pipeline import analyze
    from test_web_api import running_server
    from test_web_browser import Page

    store = open_store(demo_copy)
    grouped = {i for x in store.links() if x.kind == "same_event" for i in x.items}
    ev = next(e for e in store.events() if e.date and e.id not in grouped)
    store.close()
    new_date = "2017-06-05" if ev.date != "2017-06-05" else "2016-01-02"
    tab = Page(browser)
    try:
        with running_server(demo_copy, allow_edits=True) as base:
            # A false contradiction: a pair of contradicting claims, or (when reconciliation found none) two tellings
            # joined as one event whose sources then disagree.
            page = tab.open(base + "/contradictions", "contradictions")
            card = page.locator(".card.contradiction[data-link], #conflicts-table .link-note[data-link]").first
            link_id = card.get_attribute("data-link")
            card.locator("summary").click()
            card.locator("input[name=who]").fill(WHO)
            card.locator("input[name=reason]").fill("not the same thing")
            card.locator("button[name=reject]").click()
            page.wait_for_selector(f"[data-link='{link_id}']", state="detached", timeout=30_000)
            page.wait_for_selector("body[data-ready='contradictions']", timeout=30_000)

            # The document page: confirm a claim from the evidence panel of its highlighted passage.
            page = tab.open(base + "/documents/" + ev.doc, "document")
            page.locator("#doc-text .hl.k-claim").first.click()
            record = page.locator("#record-panel .record[data-kind='claim']").first
            claim_ref = record.get_attribute("data-ref")
            record.locator("summary").click()
            record.locator("button[name=confirm]").click()
            page.wait_for_selector("#record-panel .record", state="detached", timeout=30_000)  # the view is drawn anew
            page.wait_for_selector("body[data-ready='document']", timeout=30_000)
            page.locator(f"#doc-text .hl.k-claim").first.click()
            page.wait_for_selector(f"#record-panel .record[data-ref='{claim_ref}'] .review-confirmed", timeout=30_000)

            page = tab.open(base + "/timeline", "timeline")
            quote = page.locator(f".quote[data-event='{ev.id}']").first
            quote.locator("summary").click()
            assert quote.locator("input[name=who]").input_value() == WHO  # remembered from the first form
            quote.locator("input[name=date]").fill(new_date)
            quote.locator("button[name=save]").click()
            page.wait_for_selector(f".quote[data-event='{ev.id}'] .review-corrected", timeout=30_000)

            def check(page):
                row = page.locator(f"tr:has(.quote[data-event='{ev.id}'])").first
                assert row.locator("td").first.inner_text().startswith(new_date)
                assert page.locator(f".quote[data-event='{ev.id}'] .review-corrected").count() == 1
                page.goto(base + "/contradictions")
                page.wait_for_selector("body[data-ready='contradictions']", timeout=30_000)
                assert page.locator(f"[data-link='{link_id}']").count() == 0

            page.reload()
            page.wait_for_selector("body[data-ready='timeline']", timeout=30_000)
            check(page)

            store = open_store(demo_copy)
            analyze(store, redo_all=True, skip=("techniques",))
            data = export_dict(store)
            store.close()
            page = tab.open(base + "/timeline", "timeline")
            check(page)
        assert link_id not in {x["id"] for x in data["links"]}
        assert {e["id"]: (e["date"], e["review"]) for e in data["events"]}[ev.id] == (new_date, "corrected")
        assert {c["operation"] for c in data["corrections"]} == {"reject", "edit", "confirm"}
        assert {c["id"]: c["review"] for c in data["claims"]}[claim_ref] == "confirmed"
        assert all(c["state"] == "applied" for c in data["corrections"])
        assert not tab.errors, tab.errors
    finally:
        tab.close()
