"""Exports of the analysed store; the JSON export follows the stable contract in DESIGN.md."""

from __future__ import annotations

import json
from pathlib import Path

from .store import Store

FORMATS = ("json",)


def export_dict(store: Store) -> dict:
    """Return the JSON export as a dict of sorted arrays with stable ids."""
    docs = store.documents()
    out = {
        "documents": [
            {
                "id": d.id, "name": d.name, "path": d.path, "title": d.title, "language": d.language,
                "published": d.published, "published_estimated": d.published_estimated, "authors": list(d.authors),
                "genre": d.genre, "url": d.url, "outlet": d.outlet, "words": d.words,
            }
            for d in docs
        ],
        "actors": [
            {"id": a.id, "name": a.name, "kind": a.kind, "aliases": list(a.aliases), "country": a.country, "known": a.known}
            for a in store.actors()
        ],
        "mentions": [
            {"doc": m.doc, "start": m.start, "end": m.end, "text": m.text, "label": m.label, "actor": m.actor,
             "extractor": m.extractor, "confidence": m.confidence}
            for m in store.mentions()
        ],
        "events": [
            {
                "id": e.id, "doc": e.doc, "type": e.type, "date": e.date, "date_precision": e.date_precision,
                "actors": [a.name for a in e.actors], "roles": {a.name: a.role for a in e.actors},
                "location": e.location, "latitude": e.latitude, "longitude": e.longitude,
                "fatalities": e.fatalities, "fatalities_qualifier": e.fatalities_qualifier, "modality": e.modality,
                "start": e.start, "end": e.end, "evidence": e.evidence, "trigger": e.trigger,
                "extractor": e.extractor, "confidence": e.confidence,
            }
            for e in store.events()
        ],
        "claims": [], "stances": [], "narratives": [], "techniques": [], "ttps": [], "links": [],
    }
    out["documents"].sort(key=lambda d: d["id"])
    out["actors"].sort(key=lambda a: a["id"])
    out["mentions"].sort(key=lambda m: (m["doc"], m["start"], m["end"], m["label"]))
    out["events"].sort(key=lambda e: (e["doc"], e["start"], e["id"]))
    return out


def export(store: Store, fmt: str, out: str | Path) -> Path:
    """Write the store in a format to a file; return the path written."""
    from .errors import AtlasError

    if fmt not in FORMATS:
        raise AtlasError(f"unknown export format '{fmt}'; choose one of: {', '.join(FORMATS)}")
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = export_dict(store)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
