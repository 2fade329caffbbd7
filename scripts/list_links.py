#!/usr/bin/env python3
"""List every cross-source link of an analysed database with both sides' words, its reason and confidence.

For judging links by hand (issue 20): each link is printed with the two documents' names, the sentences of its
items, the reason the linker gives and its confidence, and, when a gold folder is given, whether the gold joins
the two documents with a link of that kind ("gold: listed" / "gold: none"; a folder whose cross.json does not
cover the documents says "gold: not listed", which for the 28 development documents means no link is expected).

    .venv/bin/python scripts/list_links.py /tmp/NAME-dev/atlas.db [--gold /tmp/NAME-dev/gold] [--relink]
        [--min-confidence 0.5] [--docs dev28]

`--relink` recomputes the links with the current code and models instead of reading the stored ones.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from influence_atlas.evaluate import gold_document_pairs  # noqa: E402
from influence_atlas.store import open_store  # noqa: E402

def gold_pairs(gold: Path) -> set[tuple[str, str, str]]:
    """Return (kind, doc name, doc name) for every pair of documents a gold cross.json joins (none without one)."""
    path = gold / "cross.json"
    return gold_document_pairs(json.loads(path.read_text())) if path.exists() else set()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", help="the analysed database (a path or URL)")
    ap.add_argument("--gold", default=None, help="gold folder with cross.json, to mark each link listed or not")
    ap.add_argument("--relink", action="store_true", help="recompute the links with the current code and models")
    ap.add_argument("--min-confidence", type=float, default=None, help="with --relink: the cut-off (default calibrated)")
    ap.add_argument("--docs", default="", help="only links touching documents whose name does not start with a digit "
                    "(dev28), or a comma-separated list of names")
    a = ap.parse_args()
    store = open_store(a.db)
    documents = store.documents()
    names = {d.id: d.name for d in documents}
    events = {e.id: e for e in store.events()}
    claims = {c.id: c for c in store.claims()}
    if a.relink:
        from influence_atlas.reconcile import link_across

        links = link_across(documents, list(events.values()), list(claims.values()), store.stances(),
                            min_confidence=a.min_confidence)
    else:
        links = store.links()
    gold = gold_pairs(Path(a.gold)) if a.gold else None
    wanted = None
    if a.docs == "dev28":
        wanted = {n for n in names.values() if not n[:1].isdigit()}
    elif a.docs:
        wanted = set(a.docs.split(","))
    counts: Counter = Counter()
    for link in sorted(links, key=lambda l: (l.kind, -l.score, l.id)):
        sides = []
        for i in link.items:
            if i in claims:
                sides.append((names.get(claims[i].doc, claims[i].doc), "claim", claims[i].text))
            elif i in events:
                e = events[i]
                sides.append((names.get(e.doc, e.doc), f"event {e.type} {e.date or 'undated'}", e.evidence))
        docs = sorted({s[0] for s in sides})
        if wanted is not None and not set(docs) & wanted:
            continue
        verdict = ""
        if gold is not None:
            listed = all((link.kind, x, y) in gold for i, x in enumerate(docs) for y in docs[i + 1:])
            verdict = "gold: listed" if listed else ("gold: none" if any(k[1] in docs or k[2] in docs for k in gold)
                                                    else "gold: not listed")
            counts[(link.kind, verdict)] += 1
        counts[link.kind] += 1
        print(f"== {link.kind}  confidence {link.score:.3f}  {verdict}\n   reason: {link.detail}")
        for doc, what, text in sides:
            print(f"   [{doc}] ({what}) {' '.join(text.split())}")
        print()
    print("links:", ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=str)))
    if gold:
        # Document pairs per kind, as ../shared/tools/score_gold.py counts them where the gold is exhaustive.
        right = emitted = 0
        seen = set()
        for link in links:
            ds = sorted({names.get(x.doc) for x in (claims.get(i) or events.get(i) for i in link.items) if x})
            for i, x in enumerate(ds):
                for y in ds[i + 1:]:
                    if (link.kind, x, y) not in seen:
                        seen.add((link.kind, x, y))
                        emitted += 1
                        right += (link.kind, x, y) in gold
        print(f"document pairs: {right}/{emitted} listed in gold, {len(gold)} in gold")


if __name__ == "__main__":
    main()
