#!/usr/bin/env python3
"""An entailment reader as a presence signal: does the document's closest sentence entail the narrative?

For every document x narrative row the shipped presence features are kept (`train_heads.gold_documents`), and the
document's closest compared sentences to the narrative (by the shared MiniLM similarity, as the stage ranks them) are
read, as premises, against the narrative's statements (its description and its English examples) by the entailment
reader (`training/links/entailment_reader.py`, column DECIDED), or by another pair reader (`--reader FILE.py` with a `related(pairs)` function, e.g.
`related_reader.py`); `--reverse` reads the statement as the premise. The probabilities are cached per pair; the script
prints their ranking power (AUC on present vs absent rows, all rows and the rows without cue votes), the held-out pair
F1 with one pooled probability added to the presence head (leave-one-document-out on the development set, the
cross-source set held out), and the cost-limited use (`band`: the reader spent on the few likeliest narratives below
the threshold only). Figures: README.md, ninth session.

    .venv/bin/python training/narratives/nli_view.py --db /tmp/narratives-dev/atlas.db --cross /tmp/narratives-cross/atlas.db \
        --cache /tmp/nli-pairs.pkl
"""

from __future__ import annotations

import argparse
import copy
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_heads as th  # noqa: E402

from influence_atlas.extract import narratives as nx  # noqa: E402
from influence_atlas.extract.encoder import encode_sentences  # noqa: E402
from influence_atlas.ontology.narratives import load_taxonomy  # noqa: E402

TOP = 3  # closest sentences read per row


def statements(tax, n) -> list[str]:
    """Return the narrative's hypotheses: its description, then its English examples (the reader is English)."""
    return [n.description.strip() or n.name] + list(n.examples.get("en", ()))


def collect(db: str, tax, memo: dict, read, top: int = TOP) -> list[dict]:
    """Return per gold document its shipped features, and per narrative the `top` closest sentences' entailment
    probabilities against each of the narrative's statements (top x statements), reading only pairs not in `memo`."""
    rows = []
    for d, g, feats, compared in th.gold_documents(db, tax):
        texts = [d.text[s:e] for s, e in compared]
        vecs = encode_sentences(texts)
        ent, sims = [], []
        for j, n in enumerate(tax.narratives):
            s = (vecs @ nx._prototypes(tax, n).T).max(axis=1)
            order = np.argsort(-s)[:top]
            hyps = statements(tax, n)
            todo = [(texts[i], h) for i in order for h in hyps if (texts[i], h) not in memo]
            if todo:
                for pair, p in zip(todo, read(todo)):
                    memo[pair] = float(p)
            ent.append(np.array([[memo[(texts[i], h)] for h in hyps] for i in order], np.float32))
            sims.append(s[order])
        rows.append({"name": d.name, "lang": g["language"], "pairs": g["pairs"], "feats": feats, "ent": ent, "sims": sims})
        print(d.name, len(memo), flush=True, file=sys.stderr)
    return rows


def auc(score: np.ndarray, y: np.ndarray) -> float:
    """Return the area under the ROC curve of `score` for the boolean labels `y` (ties count half; nan without both)."""
    pos, neg = score[y], score[~y]
    if not len(pos) or not len(neg):
        return float("nan")
    return float(((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg)))


# How a row's probabilities (closest sentences x statements, the description first) become one value.
POOLS = {
    "top1_desc": lambda e: e[0, 0],
    "top1_max": lambda e: e[0].max(),
    "top1_mean": lambda e: e[0].mean(),
    "top3_desc_max": lambda e: e[:, 0].max(),
    "top3_max": lambda e: e.max(),
    "top3_mean": lambda e: e.mean(),
    "top2_max": lambda e: e[:2].max(),
}


def feature(row: dict, pool: str, relative: bool) -> np.ndarray:
    """Return per narrative the pooled reader probability of a document (minus its median over the narratives if `relative`)."""
    v = np.array([POOLS[pool](e) if len(e) else 0.0 for e in row["ent"]], np.float32)
    return v - np.median(v) if relative else v


def with_feature(row: dict, extra: np.ndarray):
    """Return the row's shipped features with `extra` (one value per narrative) as one more presence feature."""
    f = row["feats"]
    g = copy.copy(f)
    g.presence = np.hstack([f.presence[:, :-1], extra[:, None].astype(np.float32), f.presence[:, -1:]]).astype(np.float32)
    return g


def band(dev: list[dict], cross: list[dict], pool: str, budget: int) -> str:
    """Return the held-out figures when the reader is spent on the `budget` likeliest narratives below the presence
    threshold of each document only (the cost-limited use): such a candidate is promoted when its pooled probability
    reaches a cut-off chosen on the other documents (among 0.5, 0.9, 0.99, 0.999, or never), and the AUC of the pooled
    probability among all candidates."""
    items = [(r["feats"], r["pairs"]) for r in dev]
    held = []
    for k in range(len(items)):
        train = items[:k] + items[k + 1:]
        wp, wm = th.fit(train)
        held.append((*th.predict_scores(wp, wm, items[k][0]), th.best_threshold(wp, wm, train)))
    wp, wm = th.fit(items)
    t = th.best_threshold(wp, wm, items)
    shipped = [(*th.predict_scores(wp, wm, r["feats"]), t) for r in cross]

    def candidates(r, scored):
        present, _, cut = scored
        return [j for j in np.argsort(-present) if present[j] < cut][:budget]

    def predicted(rows, scored, cut):
        out = []
        for r, (present, endorsed, threshold) in zip(rows, scored):
            mode = ["endorsed" if e >= 0.5 else "reported" for e in endorsed]
            found = {(n, mode[j]) for j, n in enumerate(r["feats"].narratives) if present[j] >= threshold}
            found |= {(r["feats"].narratives[j], mode[j]) for j in candidates(r, (present, endorsed, threshold))
                      if POOLS[pool](r["ent"][j]) >= cut}
            out.append(found)
        return out

    cuts = (0.5, 0.9, 0.99, 0.999, 2.0)
    golds = [r["pairs"] for r in dev]
    pred = []
    for k in range(len(dev)):
        rows, scored = dev[:k] + dev[k + 1:], held[:k] + held[k + 1:]
        best = max(cuts, key=lambda c: (th.f1(predicted(rows, scored, c), golds[:k] + golds[k + 1:])[2], c))
        pred += predicted([dev[k]], [held[k]], best)
    best = max(cuts, key=lambda c: (th.f1(predicted(dev, held, c), golds)[2], c))
    x = np.array([POOLS[pool](r["ent"][j]) for r, h in zip(dev, held) for j in candidates(r, h)])
    y = np.array([any(p[0] == r["feats"].narratives[j] for p in r["pairs"]) for r, h in zip(dev, held) for j in candidates(r, h)])
    parts = th.split_figures(pred, golds, [(r["name"], r["lang"]) for r in dev])
    if cross:
        parts.append("cross %.3f" % th.f1(predicted(cross, shipped, best), [r["pairs"] for r in cross])[2])
    return (f"{pool} on {budget} candidate(s) per document ({len(x)} rows, {int(y.sum())} present, AUC {auc(x, y):.3f}; "
            f"cut-off on all {best}): " + " | ".join(parts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    th.database_arguments(ap)
    ap.add_argument("--cache", default=None, help="pickle file keeping the read pairs and the collected rows")
    ap.add_argument("--reader", default=None, metavar="MODULE.py",
                    help="score pairs with this file's `related(pairs)` (probability per pair) instead of the entailment reader")
    ap.add_argument("--reverse", action="store_true", help="read the narrative's statement as the premise, the sentence as the hypothesis")
    ap.add_argument("--top", type=int, default=TOP, help="closest sentences read per row")
    a = ap.parse_args()
    tax = load_taxonomy()
    if not a.reader:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "links"))
        from entailment_reader import DECIDED, entailment_probabilities

        def read(pairs):
            return entailment_probabilities(pairs)[:, DECIDED]
    else:
        import importlib.util
        spec = importlib.util.spec_from_file_location("reader", a.reader)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        read = module.related
    if a.reverse:
        forward = read

        def read(pairs):
            return forward([(h, p) for p, h in pairs])
    kept = pickle.loads(Path(a.cache).read_bytes()) if a.cache and Path(a.cache).exists() else {"memo": {}}
    for key, db in (("dev", a.db), ("cross", a.cross)):
        if db and key not in kept:
            t0 = time.process_time()
            n0 = len(kept["memo"])
            kept[key] = collect(db, tax, kept["memo"], read, a.top)
            print(f"{key}: {len(kept['memo']) - n0} pairs read, {time.process_time() - t0:.1f} CPU-s", flush=True)
            if a.cache:
                Path(a.cache).write_bytes(pickle.dumps(kept))
    dev, cross = kept["dev"], kept.get("cross", []) if a.cross else []
    col = {f: j for j, f in enumerate(nx.PRESENCE_FEATURES)}
    y = np.concatenate([[any(p[0] == n for p in r["pairs"]) for n in r["feats"].narratives] for r in dev])
    cues = np.concatenate([r["feats"].presence[:, col["cue_endorsed"]] + r["feats"].presence[:, col["cue_reported"]] for r in dev])
    nocue = cues == 0
    print(f"{len(y)} rows, {int(y.sum())} present; without cue votes {int(nocue.sum())} rows, {int(y[nocue].sum())} present")
    for f in ("sim_max", "sim_top", "sim_top_rel", "doc_sim_rel"):
        x = np.concatenate([r["feats"].presence[:, col[f]] for r in dev])
        print(f"  {f:22s} AUC all {auc(x, y):.3f}  no-cue {auc(x[nocue], y[nocue]):.3f}")
    for pool in POOLS:
        for rel in (False, True):
            x = np.concatenate([feature(r, pool, rel) for r in dev])
            print(f"  nli {pool:14s}{' rel' if rel else '    '} AUC all {auc(x, y):.3f}  no-cue {auc(x[nocue], y[nocue]):.3f}")
    names = [(r["name"], r["lang"]) for r in dev]
    golds = [r["pairs"] for r in dev]

    def run(label, extra_fn):
        items = [(with_feature(r, extra_fn(r)) if extra_fn else r["feats"], r["pairs"]) for r in dev]
        parts = th.split_figures(th.lodo(items), golds, names)
        if cross:
            wp, wm = th.fit(items)
            t = th.best_threshold(wp, wm, items)
            cx = [with_feature(r, extra_fn(r)) if extra_fn else r["feats"] for r in cross]
            parts.append("cross %.3f" % th.f1([th.predict(wp, wm, t, f) for f in cx], [r["pairs"] for r in cross])[2])
        print(f"{label:24s} " + " | ".join(parts), flush=True)

    run("shipped", None)
    for pool in POOLS:
        for rel in (False, True):
            run(f"+{pool}{' rel' if rel else ''}", lambda r, p=pool, q=rel: feature(r, p, q))
    for pool in ("top1_desc", "top1_max", "top3_max"):
        for budget in (1, 2, 3):
            print(band(dev, cross, pool, budget), flush=True)


if __name__ == "__main__":
    main()
