"""Train the cross-source pair models (claim pairs: unrelated / corroborates / contradicts; event pairs: same or not).

Numpy only: multinomial / binary logistic regression with L2 on the features of
influence_atlas.reconcile.features, trained on gold sentences (training/links/data.py). Reports
leave-one-story-out cross-validation at the level the scorer counts (document pairs per link kind),
picks each kind's confidence cut-off on the out-of-fold predictions (the lowest cut-off whose
precision stays >= the target), then fits on everything and writes models/links/links.json.

    .venv/bin/python training/links/train.py [--target 0.9] [--cache /tmp/links-data.pkl]
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from influence_atlas.reconcile.features import (CLAIM_FEATURES, DOC_FEATURES, EVENT_FEATURES, LINK_KINDS,  # noqa: E402
                                                corpus_context, doc_pair_features, document_figures, document_names,
                                                softmax_rows, stance_opposition)
from influence_atlas.reconcile.links import (assertion_similarity, centred, corpus_means,  # noqa: E402
                                             sentence_pair_rows, story_similarities)

OUT = ROOT / "src" / "influence_atlas" / "models" / "links" / "links.json"
KIND = {1: "corroborates", 2: "contradicts"}
# The document-level step's fit: positives weighted 3, L2 3 (cv_decisions.py --weight-pos / --l2 measure others).
DOC_WEIGHT_POS, DOC_L2 = 3.0, 3.0


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    mean[0], scale[0] = 0.0, 1.0
    scale[scale < 1e-6] = 1.0
    return mean, scale


def fit_softmax(x, y, classes, weight_pos=15.0, l2=1.0, steps=1500, lr=1.0):
    """Return weights (features, classes) of an L2 multinomial logistic regression; positives up-weighted."""
    mean, scale = standardise(x)
    # Unrelated pairs are the bulk: a seeded sample of them, weighted up to their full count, keeps the fit quick.
    neg = np.flatnonzero(y == 0)
    keep = np.concatenate([np.flatnonzero(y > 0), np.random.default_rng(0).choice(neg, min(len(neg), 6000), replace=False)])
    neg_weight = len(neg) / max(1, min(len(neg), 6000))
    x, y = x[keep], y[keep]
    z = (x - mean) / scale
    z[:, 0] = 1.0
    onehot = np.eye(classes)[y]
    w_row = np.where(y > 0, weight_pos, neg_weight)
    w_row = w_row / w_row.sum()
    w = np.zeros((x.shape[1], classes))
    for _ in range(steps):
        p = softmax_rows(z @ w)
        grad = z.T @ ((p - onehot) * w_row[:, None]) + l2 * w / len(y)
        grad[0] -= l2 * w[0] / len(y)
        w -= lr * grad
    return w, mean, scale


def predict_softmax(model, x):
    w, mean, scale = model
    z = (x - mean) / scale
    z[:, 0] = 1.0
    return softmax_rows(z @ w)


def load(cache: Path):
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    import data

    sets = {name: data.build(name) for name in data.SETS}
    cache.write_bytes(pickle.dumps(sets))
    return sets


def gold_doc_pairs(sets) -> dict[str, set]:
    """Return the gold document pairs per link kind, over every set."""
    out = defaultdict(set)
    for name, s in sets.items():
        for group, kind in (("same_event", "same_event"), ("contradicting_claims", "contradicts"),
                            ("corroborating_claims", "corroborates")):
            for x in s["cross"].get(group, []):
                ds = sorted({i.split("#")[0] for i in x["items"]})
                out[kind] |= {(a, b) for i, a in enumerate(ds) for b in ds[i + 1:]}
    return out


def doc_pair_scores(pairs, probs) -> dict[tuple[str, str], float]:
    """Return the best pair probability per document pair."""
    best: dict[tuple[str, str], float] = {}
    for (da, db, _, _), p in zip(pairs, probs):
        k = (da, db) if da < db else (db, da)
        best[k] = max(best.get(k, 0.0), float(p))
    return best


def pr_at(best: dict, gold: set, cut: float) -> tuple[int, int, int]:
    emitted = {k for k, v in best.items() if v >= cut}
    return len(emitted & gold), len(emitted), len(gold)


def choose_cut(best: dict, gold: set, target: float, beta: float = 0.5) -> float:
    """Return the cut-off that maximises F-beta (beta < 1 weighs precision more) out of fold, among cut-offs whose
    out-of-fold precision is at least `target`; 0.99 (nothing shown unless the user lowers it) when none is."""
    chosen, score = 0.99, 0.0
    for cut in sorted(set(round(v, 3) for v in best.values()), reverse=True):
        right, emitted, wanted = pr_at(best, gold, cut)
        if not right or right / emitted < target:
            continue
        p, r = right / emitted, right / wanted
        f = (1 + beta ** 2) * p * r / (beta ** 2 * p + r)
        if f > score:
            chosen, score = cut, f
    return chosen


def corpus_contexts(all_sets: dict, vecs: dict, told: dict, info: dict) -> dict:
    """Return the corpus context (CONTEXT_FEATURES) of every document pair, each set read as one corpus the way
    analysis reads it (the seeds are analysed with the 28 development documents)."""
    import data

    corpora = [["cross"], ["seeds", "dev"]]
    out = {}
    for names in corpora:
        docs = sorted(d for n in names if n in all_sets for d in all_sets[n]["docs"])
        texts = {d: v["text"] for n in names if n in all_sets for d, v in data.load_set(n)["docs"].items()}
        pairs = [(a, b) for i, a in enumerate(docs) for b in docs[i + 1:]]
        language = {d: info[d]["language"] for d in docs}
        members = [(n, d) for n in names if n in all_sets for d in all_sets[n]["docs"]]
        leads = {d: all_sets[n]["story"][d] for n, d in members}
        story = story_similarities(leads, language, pairs)
        # Claims centred on the leads' means, as at run time (links.CentredRows).
        xrows = centred({d: all_sets[n]["claim_xrows"][d] for n, d in members}, language, corpus_means(leads, language))
        assertion = {p: assertion_similarity(xrows[p[0]], xrows[p[1]]) for p in pairs}
        out.update(corpus_context(pairs, {p: float(vecs[p[0]] @ vecs[p[1]]) for p in pairs},
                                  {d: document_names(texts[d]) for d in docs},
                                  {d: document_figures(told[d][1]) for d in docs}, language, story, assertion))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=float, default=0.5, help="least out-of-fold precision a kind's cut-off may have")
    ap.add_argument("--cache", default="/tmp/links-data.pkl")
    ap.add_argument("--floor-cut", action="append", default=[], metavar="KIND=VALUE",
                    help="never let a kind's cut-off fall below VALUE (see README: corroborates=0.85)")
    ap.add_argument("--set-cut", action="append", default=[], metavar="KIND=VALUE",
                    help="ship this document-level cut-off for a kind (see README: links also need an item anchor)")
    ap.add_argument("--dump", default="", help="also write the document-pair rows to this pickle (for experiments)")
    ap.add_argument("--no-dev", action="store_true",
                    help="leave the 28 development documents out of the document-level step")
    a = ap.parse_args()
    floors = {k: float(v) for k, v in (x.split("=") for x in a.floor_cut)}
    fixed = {k: float(v) for k, v in (x.split("=") for x in a.set_cut)}
    all_sets = load(Path(a.cache))
    if a.no_dev:
        all_sets.pop("dev", None)
    # Item-pair models learn from the sets whose links are all listed; the 28 development documents (mostly
    # different stories, links not listed) join only the document-level step, as pairs that hold no link.
    sets = {k: v for k, v in all_sets.items() if k != "dev"}
    stories = {d: s for s, docs in json.loads((HERE / "stories.json").read_text()).items() if not s.startswith("_") for d in docs}
    # Documents of no listed story (the 28 development documents) fall in four folds by name.
    for i, d in enumerate(sorted(all_sets.get("dev", {}).get("docs", ()))):
        stories.setdefault(d, f"dev{i % 4}")
    gold = gold_doc_pairs(sets)
    cx = np.concatenate([s["claim_x"] for s in sets.values()])
    cy = np.concatenate([s["claim_y"] for s in sets.values()])
    cp = [p for s in sets.values() for p in s["claim_pairs"]]
    ex = np.concatenate([s["event_x"] for s in sets.values()])
    ey = np.concatenate([s["event_y"] for s in sets.values()])
    ep = [p for s in sets.values() for p in s["event_pairs"]]
    story_of = lambda pairs: [(stories[p[0]], stories[p[1]]) for p in pairs]  # noqa: E731
    cs, es = story_of(cp), story_of(ep)
    oof_c = np.zeros((len(cy), 3))
    oof_e = np.zeros(len(ey))
    seen_c = np.zeros(len(cy))
    seen_e = np.zeros(len(ey))
    for held in sorted(set(stories.values())):
        tr = np.array([held not in s for s in cs])
        model = fit_softmax(cx[tr], cy[tr], 3)
        oof_c[~tr] += predict_softmax(model, cx[~tr])
        seen_c[~tr] += 1
        tr_e = np.array([held not in s for s in es])
        emodel = fit_softmax(ex[tr_e], ey[tr_e], 2, weight_pos=10.0)
        oof_e[~tr_e] += predict_softmax(emodel, ex[~tr_e])[:, 1]
        seen_e[~tr_e] += 1
    oof_c /= seen_c[:, None]
    # The document-level step reads every two opening sentences of two documents, scored by the fold's claim model.
    info, vecs, told = {}, {}, {}
    for s_ in all_sets.values():
        info.update(s_["docs"])
        vecs.update(s_["doc_vec"])
        told.update(s_["told"])
    sent_probs: dict[tuple[str, str], np.ndarray] = {}
    for name, s_ in all_sets.items():
        ds_ = sorted(s_["docs"])
        for i, a_ in enumerate(ds_):
            for b_ in ds_[i + 1:]:
                rows = sentence_pair_rows(told[a_], told[b_], float(vecs[a_] @ vecs[b_]),
                                          stance_opposition(info[a_]["stance"], info[b_]["stance"]))
                sent_probs[(a_, b_)] = rows
    for held in sorted(set(stories.values())):
        tr = np.array([held not in s for s in cs])
        model = fit_softmax(cx[tr], cy[tr], 3)
        for k, rows in sent_probs.items():
            if held in (stories[k[0]], stories[k[1]]) and isinstance(rows, np.ndarray) and rows.shape[1] == len(CLAIM_FEATURES):
                sent_probs[k] = ("p", predict_softmax(model, rows) if len(rows) else np.zeros((0, 3)))
    oof_e /= seen_e
    # Stage 2: per document pair, from the out-of-fold item-pair probabilities.
    items = defaultdict(lambda: {k: [] for k in LINK_KINDS})
    for k, (_, p) in sent_probs.items():
        items[k]["corroborates"] = p[:, 1].tolist()
        items[k]["contradicts"] = p[:, 2].tolist()
    for (da, db, _, _), p in zip(ep, oof_e):
        k = (da, db) if da < db else (db, da)
        items[k]["same_event"].append(float(p))
    dpairs = sorted(items)
    context = corpus_contexts(all_sets, vecs, told, info)
    dx_all = np.array([doc_pair_features(float(vecs[a] @ vecs[b]), info[a]["language"] == info[b]["language"],
                                     stance_opposition(info[a]["stance"], info[b]["stance"]), items[(a, b)]["corroborates"],
                                     items[(a, b)]["contradicts"], items[(a, b)]["same_event"], context[(a, b)])
                       for a, b in dpairs])
    ds = [(stories[a], stories[b]) for a, b in dpairs]
    if a.dump:
        Path(a.dump).write_bytes(pickle.dumps(dict(dx=dx_all, dpairs=dpairs, ds=ds, gold=dict(gold),
                                                   dev_docs=set(all_sets.get("dev", {}).get("docs", ())))))
    thresholds, report, doc_models = {}, {}, {}
    tot = [0, 0, 0]
    for kind in LINK_KINDS:
        dy = np.array([int(p in gold[kind]) for p in dpairs])
        dx = dx_all.copy()
        # Inputs that depend most on other stages' extraction are left out where they do not pay: the
        # number of event tellings (only the best event pair counts, and only for same_event: claim links are
        # read from all the documents' sentences), and the stances except for contradictions.
        drop = ["same_event_second", "same_event_top3"] + ([] if kind == "same_event" else ["same_event_max"])
        if kind != "contradicts":
            drop.append("stance_opposed")
        dx[:, [DOC_FEATURES.index(f) for f in drop]] = 0.0
        # Development documents' events were not paired (no event links are listed there): same_event leaves them out.
        dev_docs = set(all_sets.get("dev", {}).get("docs", ()))
        use = np.array([kind != "same_event" or not ({x, y} & dev_docs) for x, y in dpairs])
        dx, dy = dx[use], dy[use]
        ds_k = [d for d, u in zip(ds, use) if u]
        dpairs_k = [d for d, u in zip(dpairs, use) if u]
        oof = np.zeros(len(dy))
        seen = np.zeros(len(dy))
        for held in sorted(set(stories.values())):
            tr = np.array([held not in s_ for s_ in ds_k])
            if tr.all():
                continue
            m = fit_softmax(dx[tr], dy[tr], 2, weight_pos=DOC_WEIGHT_POS, l2=DOC_L2)
            oof[~tr] += predict_softmax(m, dx[~tr])[:, 1]
            seen[~tr] += 1
        oof /= seen
        best = dict(zip(dpairs_k, oof))
        cut = fixed.get(kind, max(choose_cut(best, gold[kind], a.target), floors.get(kind, 0.0)))
        thresholds[kind] = cut
        right, emitted, wanted = pr_at(best, gold[kind], cut)
        tot = [tot[0] + right, tot[1] + emitted, tot[2] + wanted]
        report[kind] = dict(cut=cut, right=right, emitted=emitted, gold=wanted,
                            precision=round(right / emitted, 3) if emitted else 0.0, recall=round(right / wanted, 3))
        dev_at = lambda c: sum(1 for k, v in best.items() if v >= c and set(k) & dev_docs)  # noqa: E731
        report[kind]["dev_pairs_emitted"] = dev_at(cut)
        print(f"CV {kind:13s} cut {cut:.3f}: {right}/{emitted} right, {wanted} in gold  P={report[kind]['precision']} "
              f"R={report[kind]['recall']}  (of them, development-document pairs: {dev_at(cut)})")
        for c in (0.3, 0.5, 0.7, 0.8, 0.9):
            r, e, w = pr_at(best, gold[kind], c)
            print(f"    at {c}: P={r / e if e else 0:.2f} R={r / w:.2f} ({r}/{e}; development pairs {dev_at(c)})")
        m = fit_softmax(dx, dy, 2, weight_pos=DOC_WEIGHT_POS, l2=DOC_L2)
        doc_models[kind] = {"weights": np.round(m[0][:, 1] - m[0][:, 0], 5).tolist(), "mean": np.round(m[1], 5).tolist(),
                            "scale": np.round(m[2], 5).tolist()}
        print("   weights:", ", ".join(f"{f}={v:.2f}" for f, v in zip(DOC_FEATURES, doc_models[kind]["weights"])))
    print(f"CV all document pairs: P={tot[0] / max(1, tot[1]):.3f} R={tot[0] / tot[2]:.3f}")
    # Other cut-offs set by hand (contradicts_uncued: contradictions without a cue need this confidence).
    thresholds.update({k: v for k, v in fixed.items() if k not in LINK_KINDS})
    cmodel = fit_softmax(cx, cy, 3)
    emodel = fit_softmax(ex, ey, 2, weight_pos=10.0)
    out = {
        "claim": {"features": list(CLAIM_FEATURES), "classes": ["unrelated", "corroborates", "contradicts"],
                  "weights": np.round(cmodel[0], 5).tolist(), "mean": np.round(cmodel[1], 5).tolist(),
                  "scale": np.round(cmodel[2], 5).tolist()},
        "event": {"features": list(EVENT_FEATURES), "weights": np.round(emodel[0][:, 1] - emodel[0][:, 0], 5).tolist(),
                  "mean": np.round(emodel[1], 5).tolist(), "scale": np.round(emodel[2], 5).tolist()},
        "documents": dict(features=list(DOC_FEATURES), **doc_models),
        "thresholds": thresholds,
        "meta": {"trained_on": "gold sentences of ../shared/corpus/cross and the seeds",
                 "cv": "leave one story out (training/links/stories.json), document pairs", "cv_report": report},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
