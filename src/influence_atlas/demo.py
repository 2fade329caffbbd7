"""The demo: ingest and analyse a corpus folder into OUT/atlas.db and OUT/atlas.json."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .evaluate import evaluate
from .export import export
from .pipeline import IngestReport, analyze, ingest
from .store import open_store


@dataclass(slots=True)
class DemoResult:
    """Paths written, per-document summary rows, ingest report and gold scores (when a gold folder exists)."""

    db: Path | str
    export: Path
    ingest: IngestReport
    rows: list[tuple] = field(default_factory=list)
    scores: dict = field(default_factory=dict)


def run_demo(corpus: str | Path, out_dir: str | Path = "atlas-demo", gold: str | Path | None = None,
             progress: Callable[[str], None] | None = None, on_total: Callable[[int], None] | None = None,
             db: str | None = None) -> DemoResult:
    """Ingest and analyse corpus into out_dir/atlas.db (or the database `db` names), export out_dir/atlas.json,
    and score against gold if present."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    db_path: Path | str = db if db and "://" in db else Path(db) if db else out / "atlas.db"
    store = open_store(str(db_path))
    try:
        report = ingest(store, [corpus], progress=progress)
        analyze(store, progress=progress, on_total=on_total)
        json_path = export(store, "json", out / "atlas.json")
        mentions = store.mentions()
        per_doc = Counter(m.doc for m in mentions)
        actors_per_doc: dict[str, Counter] = {}
        for m in mentions:
            if m.actor:
                actors_per_doc.setdefault(m.doc, Counter())[m.actor] += 1
        rows = []
        for d in store.documents():
            counts = actors_per_doc.get(d.id, Counter())
            title = d.title or ""
            rows.append((
                d.name, title if len(title) <= 40 else title[:39] + "…", d.language or "?", d.words,
                (d.published or "?") + (" (est.)" if d.published_estimated else ""), ", ".join(d.authors) or "-",
                per_doc.get(d.id, 0), len(counts), ", ".join(name for name, _ in counts.most_common(3)),
            ))
        gold_dir = Path(gold) if gold else Path(corpus).resolve().parent / "gold"
        scores = evaluate(store, gold_dir).summary() if gold_dir.is_dir() and any(gold_dir.glob("*.json")) else {}
    finally:
        store.close()
    return DemoResult(db=db_path, export=json_path, ingest=report, rows=rows, scores=scores)
