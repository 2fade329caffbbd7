#!/usr/bin/env python3
"""Choose the relay-without-distance thresholds of the stance stage (`extract.voice.RelayRule`).

A document that relays a speaker without distance takes the quoted speakers' reading of the actors its own words leave
silent. It does when one voice carries most of what it quotes (`concentration`: no counter-source of weight) and the
author keeps no distance (`distance`: distancing words, scare quotes, debunking sentences per sentence); both
thresholds are chosen on the development set's gold stances. Figures are leave-one-document-out: each document is
decided by thresholds chosen on the other thirty, and scored with the independent scorer's rules (sign with a 0.5
dead zone; an actor the system leaves out is a miss and its whole gold score the error). The thresholds ship only
when their cross-validated figure beats the author's words alone; else the shipped rule never holds.

    .venv/bin/python scripts/score_devset.py --work /tmp/stance-dev        # builds the database and gold folder
    .venv/bin/python training/stance/relay.py --work /tmp/stance-dev [--cache FILE] [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gold import cached_rows, gold_documents, scorer_alias  # noqa: E402
from influence_atlas.extract import stance as S  # noqa: E402

def collect(work: Path) -> list[dict]:
    """Return one row per gold document: language, relay features, and per gold actor the gold score, the author's
    score (the stage with the relay off) and the relayed speakers' reading."""
    alias = scorer_alias(work)
    docs = []
    for key, gold, doc, sentences, store in gold_documents(work):
        mentions = store.mentions(doc.id)
        events = store.events(doc.id)
        found = S.find_stances(doc.id, doc.text, sentences, mentions, doc.language, events=events, relay=False)
        author = {alias(st.actor): st.score for st in found if not st.holder}
        held: dict[str, list[float]] = {}
        for st in found:
            if st.holder:
                held.setdefault(alias(st.actor), []).append(st.score)
        tally = S._tally_lexicon(doc.text, sentences, S.actor_mentions(mentions), doc.language, events=events)
        by_alias = {alias(a): t for a, t in tally.actors.items()}
        actors = []
        for a, gs in gold["stance"].items():
            t = by_alias.get(alias(a))
            actors.append({"actor": a, "gold": gs, "author": author.get(alias(a)),
                           "relayed": S.relayed_score(t) if t else 0.0, "total": t.total if t else 0.0,
                           "relayed_sum": t.relayed if t else 0.0, "relayed_by": t.relayed_by if t else {},
                           "named": len(t.named) if t else 0, "held": held.get(alias(a), [])})
        docs.append({"doc": key, "language": gold.get("language", "en"), "genre": gold.get("genre"),
                     "features": S.relay_features(tally), "speaker": tally.profile.relayed_speaker, "speakers": dict(tally.profile.speakers),
                     "actors": actors})
        print(f"  {key}: {docs[-1]['features']}", flush=True)
    return docs


def sign(v: float) -> int:
    return 0 if abs(v) < 0.5 else (1 if v > 0 else -1)


def predict(a: dict, relay: bool) -> float | None:
    """Return the stage's score for one gold actor with the relay off or on (as `find_stances` applies it)."""
    if a["author"] is None:
        return None
    if relay and abs(a["author"]) < S.SILENT and abs(a["relayed"]) >= S.SILENT:
        return a["relayed"]
    return a["author"]


def doc_counts(d: dict, relay: bool) -> tuple[int, float]:
    ok = err = 0.0
    for a in d["actors"]:
        p = predict(a, relay)
        ok += int(p is not None and sign(p) == sign(a["gold"]))
        err += abs(a["gold"]) if p is None else abs(p - a["gold"])
    return int(ok), err


def figures(docs: list[dict], decisions: dict[str, bool]) -> dict:
    out = {}
    for name, keep in (("all", lambda d: True), ("en", lambda d: d["language"] == "en"), ("fr", lambda d: d["language"] == "fr"),
                       ("dev28", lambda d: not d["doc"][:3].isdigit())):
        chosen = [d for d in docs if keep(d)]
        n = sum(len(d["actors"]) for d in chosen)
        ok = err = 0.0
        for d in chosen:
            o, e = doc_counts(d, decisions.get(d["doc"], False))
            ok, err = ok + o, err + e
        out[name] = {"n": n, "sign_acc": round(ok / max(n, 1), 3), "mae": round(err / max(n, 1), 3)}
    return out


CONCENTRATION_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
DISTANCE_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0)


def holds(d: dict, rule: tuple[float, float]) -> bool:
    """Return whether the rule (`voice.RelayRule`) with thresholds (min concentration, max distance) holds."""
    f = d["features"]
    return f["concentration"] >= rule[0] and f["distance"] <= rule[1] and not f["distanced"]


def choose(docs: list[dict]) -> tuple[float, float]:
    """Return the thresholds with the most correct signs on `docs`, then the smallest error; among equals the
    strictest (highest concentration, lowest distance): a relay is only assumed where the documents ask for it."""
    def key(rule):
        f = figures(docs, {d["doc"]: holds(d, rule) for d in docs})["all"]
        return (f["sign_acc"], -f["mae"], rule[0], -rule[1])
    return max(((c, m) for c in CONCENTRATION_GRID for m in DISTANCE_GRID), key=key)


def lodo(docs: list[dict]) -> tuple[dict[str, bool], list]:
    out, chosen = {}, []
    for d in docs:
        rule = choose([x for x in docs if x["doc"] != d["doc"]])
        chosen.append(rule)
        out[d["doc"]] = holds(d, rule)
    return out, chosen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default="/tmp/atlas-dev", help="the folder score_devset.py analysed the set in")
    ap.add_argument("--cache", default="", help="JSON file to keep the collected rows in (reused when present)")
    ap.add_argument("--write", action="store_true", help="write models/stance/relay.json and training/stance/relay_report.json")
    a = ap.parse_args()
    docs = cached_rows(a.cache, collect, Path(a.work))
    off = figures(docs, {})
    on = figures(docs, {d["doc"]: True for d in docs})
    print("author's words alone:", off)
    print("relay in every document:", on)
    for d in docs:
        change = doc_counts(d, True)[0] - doc_counts(d, False)[0]
        print(f"  {d['doc']}: signs {change:+d} speaker {d['speaker']!r} "
              + " ".join(f"{k}={v:.2f}" for k, v in d["features"].items()))
    decisions, chosen = lodo(docs)
    cv = figures(docs, decisions)
    rule = choose(docs)
    fitted = figures(docs, {d["doc"]: holds(d, rule) for d in docs})
    print(f"LODO: {cv} (thresholds chosen {sorted(set(chosen))}; relays {sorted(k for k, v in decisions.items() if v)})")
    print(f"thresholds on every document {rule}: {fitted}")
    wins = cv["all"]["sign_acc"] > off["all"]["sign_acc"] and cv["all"]["mae"] <= off["all"]["mae"]
    if a.write:
        shipped = rule if wins else (2.0, -1.0)
        note = ("thresholds chosen on every document; their leave-one-document-out figure beats the author's words alone"
                if wins else "never: the rule does not cross-validate better than the author's words alone")
        (ROOT / "src" / "influence_atlas" / "models" / "stance" / "relay.json").write_text(json.dumps(
            {"min_concentration": shipped[0], "max_distance": shipped[1], "note": note}, indent=1) + "\n")
        (ROOT / "training" / "stance" / "relay_report.json").write_text(json.dumps(
            {"author_alone": off, "relay_everywhere": on, "leave_one_document_out": cv,
             "thresholds_chosen": [list(c) for c in chosen], "fit_on_every_document": fitted, "shipped": list(shipped),
             "relay_documents_lodo": sum(decisions.values())}, indent=1) + "\n")


if __name__ == "__main__":
    main()
