"""End-to-end figures of the event stage on the development set, with the detector cross-validated by document.

    cd training/events && ../../.venv/bin/python cv_events.py [--packaged] [--detail]

Runs extract_events on the 31 parsed development documents (devset.py) and scores the events with
../shared/tools/score_gold.py exactly as scripts/score_devset.py does (all, dev28, seeds, en, fr). By
default each document's sentences are scored by the detector heads of the fold that held it out
(train.py's out-of-fold scores), so the figures are cross-validated; --packaged uses the shipped model.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from devset import CORPUS, SHARED, gold_paths, load_devset, sentence_labels
from influence_atlas.extract import events as ev_mod
from influence_atlas.extract.event_detector import EventDetector, load_detector
from influence_atlas.ontology import load_actor_catalog
from train import OOF

SCORER = SHARED / "tools" / "score_gold.py"


class _FixedScores(EventDetector):
    """A detector that returns precomputed (out-of-fold) scores for known sentences."""

    def __new__(cls, table, types, thresholds):
        obj = object.__new__(cls)
        object.__setattr__(obj, "types", types)
        object.__setattr__(obj, "table", table)
        object.__setattr__(obj, "thresholds", thresholds)
        object.__setattr__(obj, "weights", None)
        object.__setattr__(obj, "bias", None)
        return obj

    def __init__(self, *a):
        pass

    def scores(self, sentences, vectors=None):
        return np.array([self.table[s] for s in sentences], dtype=np.float32).reshape(len(sentences), len(self.types))


def export_events(docs, detector) -> dict:
    catalog = load_actor_catalog(())
    out = {"documents": [], "events": []}
    for p in docs:
        d = p.doc
        published = d.published if d.published and not d.published_estimated else None
        evs = ev_mod.extract_events(d.id, d.text, p.sentences, p.mentions, catalog, d.language, published, detector=detector)
        out["documents"].append({"id": d.id, "name": d.name})
        for e in evs:
            out["events"].append({"id": e.id, "doc": d.id, "type": e.type, "date": e.date,
                                  "actors": [a.name for a in e.actors], "evidence": e.evidence, "start": e.start, "end": e.end,
                                  "location": e.location,
                                  "fatalities": e.fatalities})
    return out


def score(export: dict, docs: list[str] | None = None, detail: bool = False, which: str = "dev") -> dict:
    gold = Path(tempfile.mkdtemp(prefix="atlas-events-gold-"))
    for path in gold_paths(which) + [CORPUS / "gold" / "actors.json"]:
        (gold / path.name).write_bytes(path.read_bytes())
    exp = gold.parent / (gold.name + "-export.json")
    exp.write_text(json.dumps(export))
    cmd = [sys.executable, str(SCORER), str(exp), str(gold), "--actors", str(CORPUS / which / "actors_extra.json")]
    if docs:
        cmd += ["--docs", ",".join(docs)]
    out = subprocess.run(cmd + ([] if detail else ["--json"]), capture_output=True, text=True, check=True).stdout
    if detail:
        print("\n".join(l for l in out.splitlines() if " events:" in l))
        return {}
    return json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packaged", action="store_true")
    ap.add_argument("--none", action="store_true", help="no detector at all (rules only)")
    ap.add_argument("--detail", action="store_true")
    ap.add_argument("--out", default="/tmp/atlas-events-cv-export.json")
    ap.add_argument("--set", choices=("dev", "cross"), default="dev",
                    help="cross: the cross-source set (out-of-fold scores need train.py --cross)")
    ap.add_argument("--threshold", type=float, default=0.5, help="out-of-fold runs: the detector's per-type threshold")
    ap.add_argument("--add", type=float, default=None, help="set events.DETECTOR_ADD (the detector adds types at p >= it)")
    ap.add_argument("--veto", type=float, default=None, help="set events.DETECTOR_VETO")
    a = ap.parse_args()
    docs = load_devset(which=a.set)
    if a.add is not None:
        ev_mod.DETECTOR_ADD = a.add
    if a.veto is not None:
        ev_mod.DETECTOR_VETO = a.veto
    if a.none:
        detector = None
    elif a.packaged:
        detector = load_detector()
    else:
        data = np.load(OOF)
        types = tuple(str(t) for t in data["types"])
        names = [str(n) for n in data["docs"]]
        table = {(names[g], str(t)): row for g, t, row in zip(data["groups"], data["texts"], data["oof"])}
        missing = [p.doc.name for p in docs if (p.doc.name, p.doc.text[slice(*p.sentences[0])]) not in table]
        if missing:
            sys.exit(f"no out-of-fold scores for {missing[:3]}...: run train.py (--cross for the cross-source set)")
        detector = _FixedScores({p.doc.text[s:e]: table[(p.doc.name, p.doc.text[s:e])] for p in docs for s, e in p.sentences},
                                types, np.full(len(types), a.threshold, np.float32))
    export = export_events(docs, detector)
    Path(a.out).write_text(json.dumps(export))
    names = [p.doc.name for p in docs]
    sets = {"all": None, "dev28": [n for n in names if not n.startswith("00")], "seeds": [n for n in names if n.startswith("00")],
            "en": [p.doc.name for p in docs if p.gold.get("language", "en") == "en"],
            "fr": [p.doc.name for p in docs if p.gold.get("language") == "fr"]}
    if a.set == "cross":
        sets = {k: v for k, v in sets.items() if k not in ("dev28", "seeds")}
    if a.detail:
        score(export, None, True, a.set)
    print(f"{'set':6} {'P':>6} {'R':>6} {'F1':>6} {'date':>6}")
    for k, v in sets.items():
        r = score(export, v, which=a.set)
        print(f"{k:6} {r['event_p']:6.3f} {r['event_r']:6.3f} {r['event_f1']:6.3f} {r['event_date_exact']:6.3f}")


if __name__ == "__main__":
    main()
