#!/usr/bin/env python3
"""Clause-level units for the narrative presence head, and which presence features carry the signal: held-out figures.

A narrative stated in one clause of a sentence about something else is what the presence head misses most. This script
cuts every compared sentence into clauses at punctuation (commas, semicolons, colons, dashes, brackets, quotation marks;
pieces under four words join their neighbour: the pipeline runs spaCy's tagger and sentence splitter, not its parser, so
no dependency parse is at hand), encodes the clauses with the shared MiniLM encoder (an extra encoder pass), and
compares with the shipped features (`extract/narratives.py`) several ways of letting the clauses in: the closest unit
(sentence or clause) in place of the closest sentence, each sentence scored by its best clause for the top-4 mean, the
closest clause relative to the other narratives (median, margin over the best other, z-score, rank) as a ninth
feature, and the closest clause among sentences whose own closest narrative is another one. `--ablate` drops presence
features instead (a dropped feature is a constant column). Every figure is leave-one-document-out on the 31
development documents (heads and threshold fitted on the other 30, as `train_heads.py` does), with the cross-source
set held out (heads fitted on the 31 development documents).

    .venv/bin/python scripts/score_devset.py --work /tmp/narratives-dev
    .venv/bin/python scripts/score_devset.py --set cross --work /tmp/narratives-cross
    .venv/bin/python training/narratives/clauses.py --db /tmp/narratives-dev/atlas.db --cross /tmp/narratives-cross/atlas.db [--ablate]
"""

from __future__ import annotations

import argparse
import copy
import pickle
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_heads as th  # noqa: E402

from influence_atlas.extract import narratives as nx  # noqa: E402
from influence_atlas.extract.encoder import encode_sentences  # noqa: E402
from influence_atlas.ontology.narratives import load_taxonomy  # noqa: E402
from influence_atlas.pipeline import document_sentences  # noqa: E402
from influence_atlas.store import open_store  # noqa: E402

CUT = re.compile(r"[,;:()\u2014\u2013\"\u201c\u201d\u00ab\u00bb]|\s-\s")
VARIANTS = ("shipped", "unit_max", "best_clause_top", "best_clause_top_and_max", "unit_top", "clause_max_rel", "clause_margin",
            "clause_rank1", "clause_z", "clause_top2_rel", "clause_max_other_sentence")
ABLATIONS = ("cue_endorsed", "cue_reported", "sim_max", "sim_top", "sim_top_rel", "doc_sim_rel", "about",
             "sim_max+sim_top+sim_top_rel+doc_sim_rel", "cue_endorsed+cue_reported")


def clauses(text: str, start: int, end: int, min_words: int = nx.MIN_WORDS) -> list[tuple[int, int]]:
    """Return a sentence's clauses cut at punctuation (pieces under `min_words` join a neighbour); none when it has one."""
    cuts = [start] + [start + m.end() for m in CUT.finditer(text[start:end])] + [end]
    merged: list[tuple[int, int]] = []
    for a, b in zip(cuts, cuts[1:]):
        if not text[a:b].strip():
            continue
        if merged and len(text[merged[-1][0]:merged[-1][1]].split()) < min_words:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    if len(merged) > 1 and len(text[merged[-1][0]:merged[-1][1]].split()) < min_words:
        _, b = merged.pop()
        merged[-1] = (merged[-1][0], b)
    return merged if len(merged) > 1 else []


def collect(db: str, gold: dict, tax) -> list[dict]:
    """Return per gold document the shipped features, its sentences' and clauses' similarities, and the clause pass's CPU."""
    store = open_store(db)
    protos = [nx._prototypes(tax, n) for n in tax.narratives]
    rows = []
    for doc in store.documents():
        if doc.name not in gold:
            continue
        sents = document_sentences(doc)
        t0 = time.process_time()
        feats = nx.narrative_features(doc.text, sents, store.mentions(doc.id), doc.language, tax)
        t1 = time.process_time()
        keep = [(s, e) for s, e in sents if len(doc.text[s:e].split()) >= nx.MIN_WORDS] or sents
        svec = encode_sentences([doc.text[s:e] for s, e in keep])
        units = [(i, c) for i, (s, e) in enumerate(keep) for c in clauses(doc.text, s, e)]
        t2 = time.process_time()
        cvec = encode_sentences([doc.text[a:b].strip() for _, (a, b) in units])
        t3 = time.process_time()

        def sims(v):
            return np.stack([(v @ p.T).max(axis=1) for p in protos], axis=1) if len(v) else np.zeros((0, len(protos)))

        rows.append({"name": doc.name, "lang": gold[doc.name]["language"], "pairs": gold[doc.name]["pairs"], "feats": feats,
                     "ss": sims(svec), "cs": sims(cvec), "owner": [i for i, _ in units],
                     "cpu_features": t1 - t0, "cpu_clauses": t3 - t2})
    return rows


def _top(m: np.ndarray, k: int = nx.TOP_SENTENCES) -> np.ndarray:
    return np.sort(m, axis=0)[-min(k, len(m)):].mean(axis=0)


def variant(row: dict, name: str) -> nx.DocumentFeatures:
    """Return the document's features with the clause signal let in as `name` says (or a feature dropped: `drop:...`)."""
    feats = copy.copy(row["feats"])
    p = feats.presence.copy()
    col = {f: j for j, f in enumerate(nx.PRESENCE_FEATURES)}
    ss, cs = row["ss"], row["cs"]
    has = len(cs) > 0
    best = ss.copy()
    for k, i in enumerate(row["owner"]):
        best[i] = np.maximum(best[i], cs[k])
    units = np.vstack([ss, cs]) if has else ss
    cmax = cs.max(axis=0) if has else p[:, col["sim_max"]]
    extra = None
    if name.startswith("drop:"):
        for f in name[5:].split("+"):
            p[:, col[f]] = 0.0
    elif name == "unit_max":
        p[:, col["sim_max"]] = units.max(axis=0)
    elif name in ("best_clause_top", "best_clause_top_and_max"):
        t = _top(best)
        p[:, col["sim_top"]], p[:, col["sim_top_rel"]] = t, t - np.median(t)
        if name.endswith("max"):
            p[:, col["sim_max"]] = best.max(axis=0)
    elif name == "unit_top":
        t = _top(units)
        p[:, col["sim_top"]], p[:, col["sim_top_rel"]] = t, t - np.median(t)
    elif name == "clause_max_rel":
        extra = cmax - np.median(cmax)
    elif name == "clause_margin":
        extra = cmax - np.array([np.delete(cmax, j).max() for j in range(len(cmax))])
    elif name == "clause_rank1":
        extra = (cmax >= cmax.max()).astype(np.float32)
    elif name == "clause_z":
        extra = (cmax - cmax.mean()) / (cmax.std() + 1e-6)
    elif name == "clause_top2_rel":
        t = _top(cs, 2) if has else p[:, col["sim_top"]]
        extra = t - np.median(t)
    elif name == "clause_max_other_sentence":
        own = ss.argmax(axis=1) if len(ss) else np.zeros(0, int)
        m = np.array([max([cs[k, j] for k, i in enumerate(row["owner"]) if own[i] != j], default=0.0) for j in range(cs.shape[1])])
        m = np.maximum(m, p[:, col["sim_max"]])
        extra = m - np.median(m)
    if extra is not None:
        p = np.hstack([p[:, :-1], np.asarray(extra, np.float32)[:, None], p[:, -1:]])
    feats.presence = p.astype(np.float32)
    return feats


def evaluate(dev: list[dict], cross: list[dict], name: str) -> str:
    items = [(variant(r, name), r["pairs"]) for r in dev]
    pred, golds = th.lodo(items), [g for _, g in items]
    parts = th.split_figures(pred, golds, [(r["name"], r["lang"]) for r in dev])
    if cross:
        wp, wm = th.fit(items)
        t = th.best_threshold(wp, wm, items)
        parts.append("cross %.3f" % th.f1([th.predict(wp, wm, t, variant(r, name)) for r in cross], [r["pairs"] for r in cross])[2])
    return f"{name:40s} " + " | ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="analysed development-set database")
    ap.add_argument("--cross", default=None, help="analysed cross-source database (held out)")
    ap.add_argument("--ablate", action="store_true", help="drop presence features instead of adding clauses")
    ap.add_argument("--cache", default=None, help="pickle file to keep the collected features in and reuse")
    a = ap.parse_args()
    tax = load_taxonomy()
    if a.cache and Path(a.cache).exists():
        dev, cross = pickle.loads(Path(a.cache).read_bytes())
    else:
        dev = collect(a.db, th.gold_from(Path(a.db).parent / "gold") if (Path(a.db).parent / "gold").is_dir()
                      else {k: v for k, v in th.gold_pairs().items()}, tax)
        cross = collect(a.cross, th.gold_from(Path(a.cross).parent / "gold"), tax) if a.cross else []
        if a.cache:
            Path(a.cache).write_bytes(pickle.dumps((dev, cross)))
    print(f"{len(dev)} development documents, {len(cross)} cross-source documents")
    cpu_f, cpu_c = sum(r["cpu_features"] for r in dev), sum(r["cpu_clauses"] for r in dev)
    print(f"clauses per sentence {sum(len(r['owner']) for r in dev) / max(1, sum(len(r['ss']) for r in dev)):.2f}; "
          f"CPU-s: features (sentence encoding included, unless memoised) {cpu_f:.1f}, clause encoding {cpu_c:.1f}")
    names = ["shipped"] + (["drop:" + x for x in ABLATIONS] if a.ablate else list(VARIANTS[1:]))
    for name in names:
        print(evaluate(dev, cross, "shipped" if name == "shipped" else name), flush=True)


if __name__ == "__main__":
    main()
