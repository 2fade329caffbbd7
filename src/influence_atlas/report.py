"""The shareable report: every view of the web app in one self-contained HTML file (no server, no network)."""

from __future__ import annotations

from pathlib import Path

from .store import Store
from .web import data
from .web.render import render_page


def report_data(store: Store) -> dict:
    """Return the payload the report embeds: each view unfiltered, and every document with its evidence."""
    corpus = data.Corpus(store)
    snap = corpus.snapshot()
    everything = max(1, len(snap.docs))
    return {
        "summary": data.summary_view(corpus),
        "timeline": data.timeline_view(corpus, undated=True, limit=max(1, snap.totals["happenings"])),
        "network": data.network_view(corpus),
        "sources": data.sources_view(corpus, limit=everything),
        "contradictions": data.contradictions_view(corpus, limit=max(1, len(snap.contradicts), len(snap.conflicting))),
        "map": data.map_view(corpus),
        "documents": data.documents_view(corpus, limit=everything),
        "docs": {doc_id: data.document_view(corpus, doc_id) for doc_id in snap.doc_order},
    }


def write_report(store: Store, out_path: str | Path) -> Path:
    """Write the one-file HTML report (charts library and data inline) to out_path; return the path written."""
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = render_page("overview", "Report", report=report_data(store))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
