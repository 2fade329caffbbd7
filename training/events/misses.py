"""List the development set's event misses and false positives side by side (a diagnostic, no scoring of its own).

    cd training/events && PYTHONPATH=. ../../.venv/bin/python misses.py [EXPORT] [--doc NAME]

Reads the export cv_events.py wrote and pairs every required gold event with the system events of its
document the way score_gold.py does (type, compatible date, a shared actor by the gold alias tables), then
prints, per document, the unmatched gold events with the closest system event of the same sentence and the
unmatched system events.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

from devset import CORPUS, SHARED, _norm, gold_files

_spec = importlib.util.spec_from_file_location("score_gold", SHARED / "tools" / "score_gold.py")
score_gold = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(score_gold)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("export", nargs="?", default="/tmp/atlas-events-cv-export.json")
    ap.add_argument("--doc", default="")
    ap.add_argument("--fp", action="store_true", help="also list false positives")
    a = ap.parse_args()
    alias = score_gold.Aliases(CORPUS / "gold" / "actors.json", CORPUS / "dev" / "actors_extra.json")
    ex = json.loads(Path(a.export).read_text())
    names = {d["id"]: d["name"] for d in ex["documents"]}
    by_doc: dict[str, list[dict]] = {}
    for e in ex["events"]:
        by_doc.setdefault(names[e["doc"]], []).append(e)
    for name, g in sorted(gold_files().items()):
        if a.doc and a.doc not in name:
            continue
        sys_ev = by_doc.get(name, [])
        used: set[int] = set()
        lines = []
        for ge in g["events"]:
            gact = {alias(x) for x in ge["actors"]}
            hit = next((i for i, se in enumerate(sys_ev) if i not in used and se["type"] == ge["type"]
                        and score_gold.date_ok(ge["date"], se.get("date")) and gact & {alias(x) for x in se["actors"]}), None)
            if hit is not None:
                used.add(hit)
                if ge["date"] != sys_ev[hit].get("date") and not ge.get("optional"):
                    lines.append(f"  DATE gold {ge['date']} sys {sys_ev[hit].get('date')} [{ge['type']}] {ge['evidence'][:90]}")
                continue
            if ge.get("optional"):
                continue
            ev = _norm(ge["evidence"])[:40]
            near = [se for se in sys_ev if ev and ev[:30] in _norm(se["evidence"])]
            lines.append(f"  MISS {ge['type']} {ge['date']} {ge['actors']} | {ge['evidence'][:110]}")
            for se in near:
                lines.append(f"       sys: {se['type']} {se.get('date')} {se['actors']}")
        if a.fp:
            for i, se in enumerate(sys_ev):
                if i not in used:
                    lines.append(f"  FP   {se['type']} {se.get('date')} {se['actors']} | {se['evidence'][:110]}")
        if lines:
            print(f"== {name} ({g.get('language')})")
            print("\n".join(lines))


if __name__ == "__main__":
    main()
