"""Would a learned keep/drop head on extracted events raise precision? Cross-validated figures (a diagnostic, ships nothing).

    cd training/events && PYTHONPATH=. ../../.venv/bin/python keep_cv.py [--vectors]

Every event `extract_events` gives on the development set (31 documents) and the cross-source set (16) is labelled
kept-worthy when score_gold.py's pairing gives it a gold event (optional ones included). A weighted logistic head
(train.py's `fit_heads`) reads the event's own fields (type, modality, date precision, number of parties, roles,
place, toll, whether it is generic, its confidence, where its trigger and sentence sit) and, with --vectors, the shared
MiniLM vector of its sentence. Two protocols: trained on the development documents only (each held out in turn; the
cross-source set scored by the model of all of them, a clean held-out figure), and pooled (each development document and
each cross-source story held out in turn). For each threshold the events under it are dropped and both sets scored as
scripts/score_devset.py scores them; the ranking quality is the area under the ROC curve of the out-of-fold scores.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from cv_events import score
from devset import CORPUS, ParsedDoc, load_devset
from influence_atlas.extract import events as ev_mod
from influence_atlas.ontology import load_actor_catalog
from influence_atlas.ontology.events import EVENT_TYPES
from influence_atlas.records import Event
from misses import match, score_gold
from train import ROOT, cached_vectors, fit_heads, predict

TYPES = tuple(EVENT_TYPES)
MODALITIES = ("asserted", "negated", "denied", "suspected", "alleged", "planned")
THRESHOLDS = (0.0, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5)


def labelled_events(which: str) -> list[tuple[ParsedDoc, Event, int]]:
    """Return every extracted event of the set with 1 when the scorer pairs it with a gold event, else 0."""
    catalog = load_actor_catalog(())
    alias = score_gold.Aliases(CORPUS / "gold" / "actors.json", CORPUS / which / "actors_extra.json")
    rows = []
    for p in load_devset(which=which):
        d = p.doc
        published = d.published if d.published and not d.published_estimated else None
        events = ev_mod.extract_events(d.id, d.text, p.sentences, p.mentions, catalog, d.language, published, detector=None)
        plain = [{"type": e.type, "date": e.date, "actors": [a.name for a in e.actors]} for e in events]
        paired = set(match(p.gold["events"], plain, alias).values())
        rows += [(p, e, int(i in paired)) for i, e in enumerate(events)]
    return rows


def features(rows, vectors: bool) -> np.ndarray:
    """Return the head's input: the event's own fields, and with `vectors` its sentence's MiniLM vector."""
    x = np.array([[e.type == t for t in TYPES] + [e.modality == m for m in MODALITIES] + [
        e.date is not None, e.date_precision == "day", e.date_precision == "month", e.date_precision == "year",
        min(len(e.actors), 5) / 5, e.generic, e.location is not None, e.fatalities is not None, e.confidence,
        e.start / max(len(p.doc.text), 1), p.doc.language == "fr", any(a.role == "agent" for a in e.actors),
        any(a.role == "target" for a in e.actors), any(a.actor_type for a in e.actors),
        e.evidence.find(e.trigger) / max(len(e.evidence), 1)] for p, e, _ in rows], dtype=np.float32)
    return np.hstack([x, cached_vectors([e.evidence for _, e, _ in rows])]) if vectors else x


def kept_export(rows, keep) -> dict:
    """Return a scorer-ready export holding the kept events (and every document)."""
    docs = {p.doc.id: p.doc.name for p, _, _ in rows}
    return {"documents": [{"id": i, "name": n} for i, n in docs.items()],
            "events": [{"id": e.id, "doc": e.doc, "type": e.type, "date": e.date, "actors": [a.name for a in e.actors]}
                       for (_, e, _), k in zip(rows, keep) if k]}


def figures(rows, keep, which: str) -> str:
    """Return P/R/F1 and date exact per language (and dev28) of the kept events."""
    langs = {p.doc.name: p.gold.get("language", "en") for p, _, _ in rows}
    sets = {"all": None, "en": [n for n, lang in langs.items() if lang == "en"], "fr": [n for n, lang in langs.items() if lang == "fr"]}
    if which == "dev":
        sets["dev28"] = [n for n in langs if not n.startswith("00")]
    export = kept_export(rows, keep)
    out = []
    for name, docs in sets.items():
        r = score(export, docs, which=which)
        out.append(f"{name} {r['event_p']:.3f}/{r['event_r']:.3f}/{r['event_f1']:.3f} d{r['event_date_exact']:.3f}")
    return "  ".join(out)


def auc(y: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[y == 1], s[y == 0]
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vectors", action="store_true", help="add the sentence's MiniLM vector to the event's fields")
    a = ap.parse_args()
    dev, cross = labelled_events("dev"), labelled_events("cross")
    rows = dev + cross
    print(f"events: dev {len(dev)} ({sum(1 - r[2] for r in dev)} unpaired), cross {len(cross)} ({sum(1 - r[2] for r in cross)} unpaired)")
    x, y = features(rows, a.vectors), np.array([r[2] for r in rows], float)
    stories = json.loads((ROOT / "training" / "links" / "stories.json").read_text())
    story = {n: k for k, names in stories.items() if not k.startswith("_") for n in names}
    is_dev = np.arange(len(rows)) < len(dev)
    groups = np.array([p.doc.name if d else "story:" + story.get(p.doc.name, p.doc.name) for (p, _, _), d in zip(rows, is_dev)])
    dev_only, pooled = np.zeros(len(rows)), np.zeros(len(rows))
    for g in sorted(set(groups)):
        test = groups == g
        if is_dev[test].all():
            W, b = fit_heads(x[is_dev & ~test], y[is_dev & ~test, None], np.ones(int((is_dev & ~test).sum())))
            dev_only[test] = predict(x[test], W, b)[:, 0]
        W, b = fit_heads(x[~test], y[~test, None], np.ones(int((~test).sum())))
        pooled[test] = predict(x[test], W, b)[:, 0]
    W, b = fit_heads(x[is_dev], y[is_dev, None], np.ones(int(is_dev.sum())))
    dev_only[~is_dev] = predict(x[~is_dev], W, b)[:, 0]
    for name, oof in (("dev-only", dev_only), ("pooled", pooled)):
        print(f"{name}: AUC dev {auc(y[is_dev], oof[is_dev]):.3f}, cross {auc(y[~is_dev], oof[~is_dev]):.3f}")
        for t in THRESHOLDS:
            keep = oof >= t
            print(f"  t={t:<4} dev   {figures(dev, keep[is_dev], 'dev')}")
            print(f"  t={t:<4} cross {figures(cross, keep[~is_dev], 'cross')}")


if __name__ == "__main__":
    main()
