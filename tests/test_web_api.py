"""The web app's JSON API against a real uvicorn server on 127.0.0.1 (helpers here are shared with the browser tests)."""

from __future__ import annotations

import hashlib
import re
from html import unescape
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from databases import copy_database
from influence_atlas.records import Analysis, Claim, Document, Link, Mention, NarrativeHit, Stance, TechniqueHit
from influence_atlas.store import Store, open_store

HOSTILE_TEXT = (
    "Breaking <script>alert(1)</script> news from Bamako.\n\n"
    "An image <img src=x onerror=alert(1)> was posted by Wagner Group accounts, "
    "and a link <a href=\"javascript:alert(1)\">click</a> spread on 27 March 2022.\n"
)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(db: str | Path, **app_options):
    """Run the web app over db in a real uvicorn server on 127.0.0.1 (a thread); yield its base URL; stop it after."""
    import uvicorn

    from influence_atlas.web import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(str(db), **app_options), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _sentence(text: str, needle: str) -> tuple[int, int]:
    """Return the span of the sentence (or line) of text containing needle."""
    i = text.index(needle)
    start = max(text.rfind(". ", 0, i) + 2, text.rfind("\n", 0, i) + 1)
    ends = [e for e in (text.find(". ", i), text.find("\n", i)) if e != -1]
    end = min(ends) + 1 if ends else len(text)
    return start, min(end, len(text))


def add_records(store: Store, doc_id: str, *, claims=(), stances=(), narratives=(), mentions=(), techniques=()) -> None:
    """Add records to a document through Store.replace_analysis, keeping every record it already has."""
    from influence_atlas.pipeline import analysis_version

    store.replace_analysis(Analysis(
        doc=doc_id, mentions=store.mentions(doc_id) + list(mentions), events=store.events(doc_id),
        claims=store.claims(doc_id) + list(claims), stances=store.stances(doc_id) + list(stances),
        narratives=store.narratives(doc_id) + list(narratives), techniques=store.techniques(doc_id) + list(techniques),
        ttps=store.ttps(doc_id),
    ), analysis_version())


def seed_docs(store: Store) -> dict[str, Document]:
    """Return the demo documents keyed by file-name prefix (000, 001, 002)."""
    return {d.name[:3]: d for d in store.documents()}


def moura_events(store: Store) -> tuple:
    """Return the Moura massacre as told by seed 001 (dated, located) and by seed 002 (undated, 300 dead), when found."""
    docs = seed_docs(store)
    first = next((e for e in store.events(docs["001"].id) if e.location == "Moura" or "Moura" in e.evidence), None)
    second = next((e for e in store.events(docs["002"].id) if e.fatalities == 300 or "300" in e.evidence), None)
    return first, second


def enrich(store: Store) -> dict:
    """Insert sample claims, stances, narratives and links into the demo database (views whose extractors may not have run).

    Records this adds carry extractor 'test-sample'; returns the ids the tests look for.
    """
    docs = seed_docs(store)
    d0, d1 = docs["000"], docs["001"]
    a, b = _sentence(d1.text, "Moura")
    claim1 = Claim(id="claim_test_moura", doc=d1.id, start=a, end=b, text=d1.text[a:b], checkworthiness=0.9, quantities=(),
                   attributed_to="Human Rights Watch", attribution_text="according to Human Rights Watch", reporting_verb="reported",
                   hedged=False, hedges=(), extractor="test-sample", confidence=0.8)
    c, d = _sentence(d0.text, "Wagner")
    claim0 = Claim(id="claim_test_wagner", doc=d0.id, start=c, end=d, text=d0.text[c:d], checkworthiness=0.7, quantities=(),
                   attributed_to=None, attribution_text=None, reporting_verb=None, hedged=False, hedges=(),
                   extractor="test-sample", confidence=0.6)
    add_records(store, d1.id, claims=[claim1],
                stances=[Stance(d1.id, "Wagner Group", -2.0, ((a, b),), "test-sample", 0.7)] if not store.stances(d1.id) else [],
                narratives=[NarrativeHit(d1.id, "N3", "reported", 0.6, ((a, b),), "test-sample")] if not store.narratives(d1.id) else [])
    add_records(store, d0.id, claims=[claim0],
                stances=[Stance(d0.id, "Russia", 2.0, ((c, d),), "test-sample", 0.7)] if not store.stances(d0.id) else [],
                narratives=[NarrativeHit(d0.id, "N3", "endorsed", 0.8, ((c, d),), "test-sample")] if not store.narratives(d0.id) else [])
    d2 = docs["002"]
    e, f = _sentence(d2.text, "Russia")
    add_records(store, d2.id, stances=[Stance(d2.id, "Relayed Sample Actor", 1.0, ((e, f),), "test-sample", 0.6,
                                              relayed_from="Sample Speaker")])
    links = store.links()
    links.append(Link("link_test_contradicts", "contradicts", (claim0.id, claim1.id), "effect of Wagner on security (test sample)", 0.7))
    first, second = moura_events(store)
    same = next((x for x in store.links() if x.kind == "same_event" and first and first.id in x.items), None)
    if same is None and first and second:
        links.append(Link("link_test_same_moura", "same_event", (first.id, second.id), "fatalities: 500 vs 300 (test sample)", 0.9))
    store.replace_links(links)
    return {"claim": claim1, "moura": (first, second)}


def add_hostile_document(store: Store) -> Document:
    """Store a document whose title, text and records carry script and event-handler markup; return it."""
    doc = Document(id=hashlib.sha256(HOSTILE_TEXT.encode()).hexdigest(), name="hostile<img src=x onerror=alert(1)>.txt",
                   path="hostile.txt", text=HOSTILE_TEXT, title="<script>alert(1)</script> title", language="en", words=30,
                   genre="<b>blog</b>")
    store.add_document(doc)
    s = HOSTILE_TEXT.index("<script>")
    i = HOSTILE_TEXT.index("<img")
    mentions = [Mention(doc.id, s, s + len("<script>alert(1)</script>"), "<script>alert(1)</script>", "ORG", None, "test-sample", 0.5)]
    claim = Claim(id="claim_test_hostile", doc=doc.id, start=i, end=HOSTILE_TEXT.index("\n", i), text=HOSTILE_TEXT[i:HOSTILE_TEXT.index("\n", i)],
                  checkworthiness=0.5, quantities=(), attributed_to="<img src=x onerror=alert(1)>", attribution_text="<script>alert(2)</script>",
                  reporting_verb=None, hedged=False, hedges=(), extractor="test-sample", confidence=0.5)
    h = HOSTILE_TEXT.index("<a href")
    technique = TechniqueHit(doc.id, "<b>Loaded_Language</b>", h, HOSTILE_TEXT.index("</a>") + 4,
                             HOSTILE_TEXT[h:HOSTILE_TEXT.index("</a>") + 4], 0.5, "test-sample")
    add_records(store, doc.id, mentions=mentions, claims=[claim], techniques=[technique])
    return doc


def make_web_db(demo_run, folder: Path, hostile: bool = True) -> str:
    """Copy the session's analysed demo database into folder; add sample records (and a hostile document) to the copy."""
    db = copy_database(demo_run.db, folder)
    store = open_store(str(db))
    try:
        enrich(store)
        if hostile:
            add_hostile_document(store)
    finally:
        store.close()
    return db


@pytest.fixture(scope="module")
def web_db(demo_run, tmp_path_factory) -> Path:
    """The demo corpus, analysed, plus sample records and a hostile document."""
    return make_web_db(demo_run, tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def api(web_db):
    with running_server(web_db) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client


def test_documents_list_has_id_name_title(api):
    body = api.get("/api/documents").json()
    assert body["total"] == 4
    names = {d["name"] for d in body["documents"]}
    assert {"000_9b9d87ddfa60c46e.txt", "001_435e1632eaa19eed.txt", "002_d19142e7eadac636.txt"} <= names
    for d in body["documents"]:
        assert d["id"] and d["name"] and "title" in d and "profile" in d


def test_full_text_search_and_paging(api):
    body = api.get("/api/documents", params={"q": "Moura"}).json()
    assert [d["name"] for d in body["documents"]][:1] and all(d["snippet"] for d in body["documents"])
    assert any(p["hit"] and p["t"].lower() == "moura" for d in body["documents"] for p in d["snippet"])
    page = api.get("/api/documents", params={"limit": 2, "offset": 2}).json()
    assert page["total"] == 4 and len(page["documents"]) == 2
    assert api.get("/api/documents", params={"q": '"unbalanced AND ('}).status_code == 200


def test_document_carries_records_with_evidence(api):
    doc_id = next(d["id"] for d in api.get("/api/documents").json()["documents"] if d["name"].startswith("001"))
    body = api.get(f"/api/documents/{doc_id}").json()
    assert len("".join(s["t"] for s in body["segments"])) == body["text_length"]
    kinds = {r["kind"] for r in body["records"]}
    assert {"mention", "event", "claim"} <= kinds
    claim = next(r for r in body["records"] if r["kind"] == "claim" and dict(r["fields"])["attributed to"] == "Human Rights Watch")
    covered = [s for s in body["segments"] if body["records"].index(claim) in s["r"]]
    assert "Moura" in "".join(s["t"] for s in covered)
    assert api.get("/api/documents/not-a-document").status_code == 404


def test_a_stance_taken_from_a_relayed_speaker_says_so(api):
    doc_id = next(d["id"] for d in api.get("/api/documents").json()["documents"] if d["name"].startswith("002"))
    records = api.get(f"/api/documents/{doc_id}").json()["records"]
    relayed = next(r for r in records if r["kind"] == "stance" and dict(r["fields"])["toward"] == "Relayed Sample Actor")
    assert dict(relayed["fields"])["relayed from"].startswith("Sample Speaker")
    sources = api.get("/api/sources").json()
    assert all("relayed_from" in s for s in sources["stances"])


def test_document_lists_its_techniques_and_disarm_hits_with_their_spans(api):
    docs = {d["name"][:3]: d["id"] for d in api.get("/api/documents").json()["documents"]}
    body = api.get(f"/api/documents/{docs['000']}").json()
    assert body["techniques_status"]["status"] == "analysed"
    text = "".join(s["t"] for s in body["segments"])
    assert body["techniques"], "the pro-Kremlin opinion piece uses persuasion techniques"
    for t in body["techniques"]:
        assert text[t["start"]:t["end"]] == t["text"] and 0 < t["score"] <= 1
        record = body["records"][t["record"]]
        assert record["kind"] == "technique" and (record["start"], record["end"]) == (t["start"], t["end"])
    assert [(t["start"], t["end"]) for t in body["techniques"]] == sorted((t["start"], t["end"]) for t in body["techniques"])
    disarm = api.get(f"/api/documents/{docs['001']}").json()
    text = "".join(s["t"] for s in disarm["segments"])
    assert disarm["ttps"], "the NGO report describes the operation's behaviours"
    for x in disarm["ttps"]:
        assert text[x["start"]:x["end"]] == x["evidence"] and disarm["records"][x["record"]]["kind"] == "ttp"


def test_timeline_groups_the_moura_event(api, web_db):
    body = api.get("/api/timeline").json()
    moura = [h for h in body["items"] if h["location"] == "Moura"]
    assert moura and moura[0]["date"].startswith("2022-03") and moura[0]["type"] == "violence_against_civilians"
    store = open_store(str(web_db))
    first, second = moura_events(store)
    store.close()
    if second is not None:
        # Joined by a same_event link: both sources appear together, and their tolls disagree.
        names = {s["name"][:3] for s in moura[0]["sources"]}
        assert {"001", "002"} <= names
        assert any(d["field"] == "fatalities" for d in moura[0]["disagreements"])
    filtered = api.get("/api/timeline", params={"actor": "Wagner", "country": "Mali", "from": "2022", "to": "2022-12"}).json()
    assert filtered["total"] >= 1 and all(h["first"] <= "2022-12-31" and h["last"] >= "2022-01-01" for h in filtered["items"])
    assert all("Wagner Group" in h["actors"] for h in filtered["items"])
    assert api.get("/api/timeline", params={"from": "March"}).status_code == 400


def test_network_map_sources_contradictions(api):
    net = api.get("/api/network").json()
    assert net["nodes"] and net["edges"] and all(e["source"] != e["target"] for e in net["edges"])
    places = api.get("/api/map").json()["places"]
    moura = next(p for p in places if p["location"] == "Moura")
    assert 14 < moura["latitude"] < 14.2 and -5.1 < moura["longitude"] < -4.8
    sources = api.get("/api/sources").json()
    assert any(c["narrative"] == "N3" and c["mode"] == "endorsed" for c in sources["cells"])
    assert sources["stances"]
    # Narratives are named from the taxonomy, not shown as bare ids.
    assert {n["id"]: n["name"] for n in sources["narratives"]}["N3"] == "Russia delivers security where the West failed"
    assert all(s["outlet"] for s in sources["sources"]) and sources["outlets"]
    page = api.get("/api/sources", params={"limit": 1, "offset": 1, "sort": "name"}).json()
    assert len(page["sources"]) == 1 and page["offset"] == 1
    assert page["sources"][0]["name"] == sorted(s["name"] for s in sources["sources"])[1]
    only = api.get("/api/sources", params={"narrative": "N3"}).json()
    assert only["sources"] and all(any(c["doc"] == s["doc"] and c["narrative"] == "N3" for c in only["cells"]) for s in only["sources"])
    assert api.get("/api/sources", params={"q": "no-such-source-name"}).json()["sources_matching"] == 0
    assert api.get("/api/sources", params={"sort": "sideways"}).status_code == 422
    contra = api.get("/api/contradictions").json()
    pair = next(c for c in contra["contradictions"] if c["id"] == "link_test_contradicts")
    assert [i["kind"] for i in pair["items"]] == ["claim", "claim"]
    assert pair["items"][1]["attributed_to"] == "Human Rights Watch"


def test_hostile_text_travels_as_data_and_pages_escape_it(api):
    docs = api.get("/api/documents").json()["documents"]
    hostile = next(d for d in docs if d["name"].startswith("hostile"))
    assert hostile["title"].startswith("<script>")  # JSON carries the text as it is; the page escapes it
    page = api.get(f"/documents/{hostile['id']}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "onerror=alert" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; title" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_no_endpoint_reads_a_client_chosen_path(api):
    for path in ("/static/../app.py", "/static/..%2f..%2fstore%2fdb.py", "/static/%2e%2e/render.py", "/assets/../../etc/passwd",
                 "/assets/plotly.min.js/../../../etc/passwd", "/api/documents/..%2f..%2fetc%2fpasswd"):
        r = api.get(path)
        assert r.status_code in (400, 404), path
        assert "root:" not in r.text and "def " not in r.text
    js = api.get("/assets/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000


def test_openapi_docs_are_served_offline(api):
    page = api.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert api.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/api/documents", "/api/documents/{doc_id}", "/api/timeline", "/api/network", "/api/sources",
            "/api/contradictions", "/api/map", "/api/summary"} <= set(paths)


def test_report_is_one_inert_offline_file(web_db, tmp_path):
    from influence_atlas.report import write_report

    store = open_store(str(web_db))
    try:
        path = write_report(store, tmp_path / "report.html")
        again = write_report(store, tmp_path / "again.html")
    finally:
        store.close()
    html = path.read_text(encoding="utf-8")
    assert again.read_text(encoding="utf-8") == html, "two reports of one database differ"
    data_start = html.index('<script type="application/json" id="atlas-data">')
    data_end = html.index("</script>", data_start)
    outside = html[:data_start] + html[data_end:]
    assert "<script>alert" not in html and "<img" not in html
    assert "onerror=alert" not in outside and "hostile" in html[data_start:data_end]
    markup = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)
    assert "http://" not in markup and "https://" not in markup
    assert "connect-src 'none'" in unescape(html[: html.index("</head>")])


def _listening_addresses(port: int) -> set[str]:
    """Return the local IPv4 addresses with a socket listening on port (from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, p = local.split(":")
        if int(p, 16) == port and state == "0A":
            found.add(".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_atlas_serve_listens_on_loopback_by_default(web_db):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux's /proc/net/tcp to see which address the server binds")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "influence_atlas", "serve", "--db", str(web_db), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/summary", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode() if proc.poll() is not None else "timeout"
            time.sleep(0.2)
        assert _listening_addresses(port) == {"127.0.0.1"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
