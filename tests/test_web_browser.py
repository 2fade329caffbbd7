"""The web app and the report in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Screenshots of each view go to $ATLAS_SCREENSHOTS_DIR when it is set (docs/screenshots/ for the README:
`ATLAS_SCREENSHOTS_DIR=docs/screenshots .venv/bin/python -m pytest tests/test_web_browser.py -k screenshots`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from influence_atlas.store import open_store
from influence_atlas.web.render import topojson_path
from test_web_api import make_web_db, moura_events, running_server, seed_docs

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWS = ("overview", "timeline", "network", "sources", "contradictions", "map", "documents")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it with apt-get)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(demo_run, tmp_path_factory):
    db = make_web_db(demo_run, tmp_path_factory.mktemp("webui"))
    with running_server(db) as base:
        yield base, db


class Page:
    """A browser tab that records dialogs, console errors and every request it makes."""

    def __init__(self, browser, width=1400, height=900):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, url: str, ready: str):
        self.page.goto(url)
        self.page.wait_for_selector(f"body[data-ready='{ready}']", timeout=30_000)
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def tab(browser):
    t = Page(browser)
    yield t
    t.close()


def _doc_id(db, prefix: str) -> str:
    store = open_store(str(db))
    try:
        return seed_docs(store)[prefix].id if prefix[:1].isdigit() else next(d.id for d in store.documents() if d.name.startswith(prefix))
    finally:
        store.close()


def test_demo_corpus_loads(site, tab):
    base, _ = site
    page = tab.open(base + "/documents", "documents")
    rows = page.locator("#documents-table tbody tr")
    assert rows.count() == 4
    assert "Has Russia Finally Restored Itself" in page.inner_text("#documents-table")
    page.fill("input[name=q]", "Moura")
    page.click("button:has-text(\"Search\")")
    page.wait_for_selector("body[data-ready='documents'] #documents-table mark")
    assert page.locator("#documents-table mark").first.inner_text().lower() == "moura"
    page.goto(base + "/")
    page.wait_for_selector("body[data-ready='overview']")
    assert page.locator(".tile").count() >= 8
    assert not tab.errors, tab.errors


def test_timeline_shows_the_moura_event_with_its_sources(site, tab):
    base, db = site
    page = tab.open(base + "/timeline", "timeline")
    assert page.locator("#timeline-chart .scatterlayer .point").count() > 10
    row = page.locator("#timeline-table tr", has_text="Moura").first
    text = row.inner_text()
    assert "2022-03" in text and "violence_against_civilians" in text and "001_435e1632eaa19eed.txt" in text
    store = open_store(str(db))
    try:
        first, second = moura_events(store)
        linked = any(x.kind == "same_event" and first.id in x.items for x in store.links())
    finally:
        store.close()
    if linked and second is not None:
        assert "002_d19142e7eadac636.txt" in text, "a same_event link joins seed 002's telling: both sources belong in one row"
        assert "fatalities" in row.locator(".badge.warn").first.inner_text()
    page.select_option("select[name=actor]", "Wagner Group")
    page.wait_for_selector("body[data-ready='timeline']")
    assert page.locator("select[name=actor]").input_value() == "Wagner Group"
    assert page.locator("#timeline-table tbody tr").count() >= 1
    assert not tab.errors, tab.errors


def test_clicking_a_highlighted_claim_shows_its_attribution(site, tab):
    base, db = site
    page = tab.open(base + "/documents/" + _doc_id(db, "001"), "document")
    claim = page.locator("#doc-text .hl.k-claim", has_text="Moura").first
    claim.click()
    panel = page.locator("#record-panel")
    panel.locator(".record[data-kind='claim']").first.wait_for()
    text = panel.inner_text()
    assert "attributed to" in text and "Human Rights Watch" in text and "confidence" in text
    # An event's record shows its date.
    page.locator("#doc-text .hl.k-event").first.click()
    assert "date" in panel.locator(".record[data-kind='event']").first.inner_text()
    assert not tab.errors, tab.errors


def test_technique_highlights_and_list_in_the_document_view(site, tab):
    base, db = site
    doc_id = _doc_id(db, "000")
    store = open_store(str(db))
    try:
        hits = store.techniques(doc_id)
    finally:
        store.close()
    assert hits, "the pro-Kremlin opinion piece uses persuasion techniques"
    page = tab.open(base + "/documents/" + doc_id, "document")
    highlight = page.locator("#doc-text .hl.k-technique").first
    assert highlight.count() == 1 and highlight.is_visible()
    # The highlight is drawn (a wavy underline in the technique colour), and clicking it shows the technique and its score.
    assert highlight.evaluate("e => [getComputedStyle(e).textDecorationLine, getComputedStyle(e).textDecorationStyle]") == ["underline", "wavy"]
    highlight.click()
    record = page.locator("#record-panel .record[data-kind='technique']").first
    record.wait_for()
    text = record.inner_text()
    assert "persuasion technique" in text and "score" in text and any(h.technique in text for h in hits)
    rows = page.locator("#technique-list tbody tr")
    assert rows.count() == len(hits)
    first = min(hits, key=lambda h: (h.start, h.end, h.technique))
    assert first.technique.replace("_", " ") in rows.first.inner_text() and f"{first.score:.2f}" in rows.first.inner_text()
    # A row of the list selects its passage in the text.
    last = rows.nth(rows.count() - 1)
    last.click()
    selected = page.locator("#doc-text .hl.selected")
    assert selected.count() == 1 and "k-technique" in selected.get_attribute("class")
    latest = max(hits, key=lambda h: (h.start, h.end, h.technique))
    assert selected.inner_text() in latest.text
    # Turning the kind off removes the underline.
    page.locator(".kinds label", has_text="Persuasion techniques").locator("input").uncheck()
    assert highlight.evaluate("e => getComputedStyle(e).textDecorationLine") == "none"
    assert not tab.errors, tab.errors


def test_hostile_document_renders_inert(site, tab):
    base, db = site
    hostile = _doc_id(db, "hostile")
    page = tab.open(base + "/documents/" + hostile, "document")
    page.locator("#doc-text .hl.k-claim").first.click()
    body = page.inner_text("main")
    assert "<script>alert(1)</script>" in body and "<img src=x onerror=alert(1)>" in body
    panel = page.locator("#record-panel").inner_text()
    assert "<img src=x onerror=alert(1)>" in panel and "<script>alert(2)</script>" in panel
    assert page.evaluate("document.querySelectorAll('main img, main script, main a[href^=javascript]').length") == 0
    assert page.title().startswith("<script>alert(1)</script> title")
    techniques = page.inner_text("#technique-list")
    assert "<b>Loaded Language</b>" in techniques and '<a href="javascript:alert(1)">click</a>' in techniques
    assert page.evaluate("document.querySelectorAll('#technique-list b, #technique-list a').length") == 0
    tab.open(base + "/documents", "documents")
    tab.open(base + "/timeline", "timeline")
    page.wait_for_timeout(300)
    assert tab.dialogs == []


def test_report_opens_offline_with_every_view(site, browser, tmp_path):
    from influence_atlas.report import write_report

    _, db = site
    store = open_store(str(db))
    try:
        path = write_report(store, tmp_path / "report.html")
    finally:
        store.close()
    t = Page(browser)
    try:
        t.context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
        url = path.resolve().as_uri()
        page = t.page
        for view in VIEWS:
            t.open(f"{url}#{view}", view)
            if view == "map" and topojson_path() is not None:
                # Country outlines come from the local topojson, not from Plotly's CDN (every other request is aborted).
                assert page.locator("#map-chart .geo .countries path, #map-chart .geo .countries").count() >= 1
                assert page.locator("#map-chart .scattergeo .point").count() >= 5
            elif view == "map":
                assert page.locator("#map-chart .scatterlayer .point").count() >= 5
        t.open(f"{url}#timeline", "timeline")
        assert page.locator("#timeline-table tr", has_text="Moura").count() >= 1
        t.open(f"{url}#document/{_doc_id(db, '000')}", "document")
        assert page.locator("#doc-text .hl.k-technique").count() >= 1 and page.locator("#technique-list tbody tr").count() >= 1
        t.open(f"{url}#document/{_doc_id(db, 'hostile')}", "document")
        assert "<script>alert(1)</script>" in page.inner_text("main")
        assert [u for u in t.requests if not u.startswith(("file:", "data:", "blob:", "about:"))] == []
        assert t.dialogs == [] and not t.errors, t.errors
    finally:
        t.close()


def test_screenshots_of_each_view(demo_run, browser, tmp_path):
    """The demo corpus as analysed, plus the sample records of `enrich` (marked 'test sample') for views still empty."""
    out = Path(os.environ.get("ATLAS_SCREENSHOTS_DIR") or tmp_path / "shots")
    out.mkdir(parents=True, exist_ok=True)
    db = make_web_db(demo_run, tmp_path, hostile=False)
    t = Page(browser, 1360, 860)
    with running_server(db) as base:
        for view in VIEWS:
            page = t.open(base + ("/" if view == "overview" else f"/{view}"), view)
            page.wait_for_timeout(400)
            page.screenshot(path=str(out / f"{view}.png"), full_page=view in ("overview",))
        page = t.open(base + "/timeline", "timeline")
        row = page.locator("#timeline-table tr", has_text="Moura").first
        row.evaluate("r => window.scrollTo(0, r.getBoundingClientRect().top + window.scrollY - 120)")
        page.wait_for_timeout(200)
        page.screenshot(path=str(out / "timeline-grouped.png"))
        page = t.open(base + "/documents/" + _doc_id(db, "001"), "document")
        page.locator("#doc-text .hl.k-claim", has_text="Moura").first.scroll_into_view_if_needed()
        page.locator("#doc-text .hl.k-claim", has_text="Moura").first.click()
        page.wait_for_timeout(200)
        page.screenshot(path=str(out / "document.png"))
        t.close()
    assert not t.errors, t.errors
    assert len(list(out.glob("*.png"))) >= 9
