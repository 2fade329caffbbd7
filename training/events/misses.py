"""List the development set's event misses and false positives side by side (a diagnostic, no scoring of its own).

    cd training/events && PYTHONPATH=. ../../.venv/bin/python misses.py [EXPORT] [--doc NAME] [--set cross]
    PYTHONPATH=. ../../.venv/bin/python misses.py EXPORT --causes [--set cross]

Reads an export (cv_events.py's, or a full `atlas export`) and pairs every required gold event with the system
events of its document the way score_gold.py does (type, compatible date, a shared actor by the gold alias
tables), then prints, per document, the unmatched gold events with the closest system event of the same sentence
and the unmatched system events. `--causes` counts the misses instead, by language and cause: no event in the
gold quote's sentence (or one of the gold type that the stage built there and then merged into another telling of
the document), an event there of another type, of the type with an incompatible date, with no shared actor, or one
already matched to another gold event; for the cross-source set also every gold same_event document
pair, by whether both tellings are matched and whether a same_event link of the export joins the two documents.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from functools import lru_cache
from pathlib import Path

from devset import CORPUS, SHARED, _norm, gold_files, load_devset
from influence_atlas.extract import events as ev_mod
from influence_atlas.ontology import load_actor_catalog

_spec = importlib.util.spec_from_file_location("score_gold", SHARED / "tools" / "score_gold.py")
score_gold = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(score_gold)


def match(gold_events: list[dict], sys_ev: list[dict], alias) -> dict[int, int]:
    """Return {gold index: system index} paired as score_gold.py pairs them (optional gold events included)."""
    used: dict[int, int] = {}
    for gi, ge in enumerate(gold_events):
        gact = {alias(x) for x in ge["actors"]}
        hit = next((i for i, se in enumerate(sys_ev) if i not in used.values() and se["type"] == ge["type"]
                    and score_gold.date_ok(ge["date"], se.get("date")) and gact & {alias(x) for x in se["actors"]}), None)
        if hit is not None:
            used[gi] = hit
    return used


def _quote_span(text: str, sentences: list[tuple[int, int]], quote: str) -> tuple[int, int] | None:
    """Return the span of the sentence holding a gold quote (its start or end suffices), or None."""
    texts = [_norm(text[s:e]) for s, e in sentences]
    words = _norm(quote).split()
    for probe in (" ".join(words), " ".join(words[:6]), " ".join(words[-6:])):
        hit = next((sentences[i] for i, t in enumerate(texts) if probe and probe in t), None)
        if hit:
            return hit
    return None


def miss_cause(ge: dict, span, sys_ev: list[dict], alias, unmerged: list | None = None) -> str:
    """Say why a required gold event found no system event: the first failing test among the events of its sentence.

    `unmerged` (the document's events before `merge_duplicate_events`) tells a telling of the gold type that was
    extracted in the sentence and then folded into another telling apart from one never extracted.
    """
    if span is None:
        return "quote not found"
    near = [(i, se) for i, se in enumerate(sys_ev) if se.get("start") is not None and se["start"] < span[1] and se["end"] > span[0]]
    if not near:
        if any(e.type == ge["type"] and e.start < span[1] and e.end > span[0] for e in unmerged or ()):
            return "merged into another telling"
        return "no event in sentence"
    typed = [(i, se) for i, se in near if se["type"] == ge["type"]]
    if not typed:
        return "other type"
    dated = [(i, se) for i, se in typed if score_gold.date_ok(ge["date"], se.get("date"))]
    if not dated:
        return "date"
    gact = {alias(x) for x in ge["actors"]}
    acted = [i for i, se in dated if gact & {alias(x) for x in se["actors"]}]
    if not acted:
        return "actors"
    return "taken by another gold event"


@lru_cache(maxsize=None)
def unmerged_events(name: str, which: str) -> list:
    """Return a document's events as the event stage builds them, before it merges tellings of one happening."""
    p = next(p for p in load_devset(which=which) if p.doc.name == name)
    d = p.doc
    published = d.published if d.published and not d.published_estimated else None
    merge = ev_mod.merge_duplicate_events
    ev_mod.merge_duplicate_events = lambda events: events
    try:
        return ev_mod.extract_events(d.id, d.text, p.sentences, p.mentions, load_actor_catalog(()), d.language, published, detector=None)
    finally:
        ev_mod.merge_duplicate_events = merge


def causes(ex: dict, which: str, alias) -> None:
    """Print the required gold events' misses by language and cause, and (cross) the gold same_event pairs."""
    names = {d["id"]: d["name"] for d in ex["documents"]}
    parsed = {p.doc.name: p for p in load_devset(which=which)}
    by_doc: dict[str, list[dict]] = {}
    for e in ex["events"]:
        by_doc.setdefault(names[e["doc"]], []).append(e)
    table: dict[str, dict[str, int]] = {}
    matched: dict[tuple[str, str], bool] = {}
    for name, g in sorted(gold_files(which).items()):
        lang = g.get("language", "en")
        sys_ev = by_doc.get(name, [])
        pairs = match(g["events"], sys_ev, alias)
        p = parsed[name]
        for gi, ge in enumerate(g["events"]):
            matched[(name, ge["id"])] = gi in pairs
            if ge.get("optional"):
                continue
            cause = "matched" if gi in pairs else miss_cause(
                ge, _quote_span(p.doc.text, p.sentences, ge["evidence"]), sys_ev, alias, unmerged_events(name, which))
            row = table.setdefault(cause, {"en": 0, "fr": 0})
            row[lang] = row.get(lang, 0) + 1
            if cause != "matched":
                print(f"  {cause:28} {lang} {name[:28]:28} {ge['type']:22} {ge['date']} | {ge['evidence'][:80]}")
    print(f"{'cause':30} {'en':>4} {'fr':>4}")
    for cause, row in sorted(table.items(), key=lambda kv: -sum(kv[1].values())):
        print(f"{cause:30} {row['en']:4} {row['fr']:4}")
    cross_file = CORPUS / which / "gold" / "cross.json"
    if which != "cross" or not cross_file.exists():
        return
    ids = {e["id"]: names[e["doc"]] for e in ex["events"]}
    linked = set()
    for link in ex.get("links", []):
        if link["kind"] == "same_event":
            ds = sorted({ids[i] for i in link["items"] if i in ids})
            linked |= {(a, b) for k, a in enumerate(ds) for b in ds[k + 1:]}
    langs = {n: g.get("language", "en") for n, g in gold_files(which).items()}
    counts: dict[str, dict[str, int]] = {}
    seen = set()
    for group in json.loads(cross_file.read_text())["same_event"]:
        items = sorted(tuple(it.split("#")) for it in group["items"])
        for k, (da, ea) in enumerate(items):
            for db, eb in items[k + 1:]:
                if (da, db) in seen:
                    continue
                seen.add((da, db))
                both = matched.get((da, ea), False) + matched.get((db, eb), False)
                state = ("linked" if (da, db) in linked else "not linked") + f", {both} of 2 tellings matched"
                lp = "-".join(sorted((langs[da], langs[db])))
                counts.setdefault(state, {}).setdefault(lp, 0)
                counts[state][lp] += 1
                if (da, db) not in linked:
                    print(f"  {state:32} {group['id']} {da[:30]}#{ea} {db[:30]}#{eb}")
    print("gold same_event document pairs:")
    for state, row in sorted(counts.items()):
        print(f"  {state:34} " + " ".join(f"{k} {v}" for k, v in sorted(row.items())) + f"  total {sum(row.values())}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("export", nargs="?", default="/tmp/atlas-events-cv-export.json")
    ap.add_argument("--doc", default="")
    ap.add_argument("--fp", action="store_true", help="also list false positives")
    ap.add_argument("--set", choices=("dev", "cross"), default="dev")
    ap.add_argument("--causes", action="store_true", help="count the misses by language and cause")
    a = ap.parse_args()
    alias = score_gold.Aliases(CORPUS / "gold" / "actors.json", CORPUS / a.set / "actors_extra.json")
    ex = json.loads(Path(a.export).read_text())
    if a.causes:
        causes(ex, a.set, alias)
        return
    names = {d["id"]: d["name"] for d in ex["documents"]}
    by_doc: dict[str, list[dict]] = {}
    for e in ex["events"]:
        by_doc.setdefault(names[e["doc"]], []).append(e)
    for name, g in sorted(gold_files(a.set).items()):
        if a.doc and a.doc not in name:
            continue
        sys_ev = by_doc.get(name, [])
        pairs = match(g["events"], sys_ev, alias)
        used = set(pairs.values())
        lines = []
        for gi, ge in enumerate(g["events"]):
            if gi in pairs:
                hit = pairs[gi]
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
