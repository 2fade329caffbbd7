#!/usr/bin/env python3
"""Distant supervision for narrative presence from SemEval-2025 Task 10 (measured, not shipped).

The task's 399 English articles carry article-level narrative and sub-narrative labels (a Ukraine-war taxonomy whose
pro-Kremlin narratives are close to ours: praise of Russia, the West as aggressor, sanctions backfiring, Ukraine as
Nazi...). Each label with at least `--min-positives` articles gets a linear scorer over the frozen shared-encoder rows
(MiniLM) of the articles' sentences, trained by multiple-instance learning: an article's score is a soft maximum
(log-mean-exp at sharpness R; the mean at R = 0, which is a logistic regression on the mean sentence vector) of its
sentences' scores, fitted to the article's label by class-balanced logistic loss. Each of our narratives that
`semeval_map.yaml` maps to task labels reads the best of their pooled probabilities on its document's sentences (the
rows `extract/narratives.py` compares; no extra encoder pass) as a ninth presence feature; the script prints
leave-one-document-out figures on the development set (heads and threshold refitted in each fold, as
`train_heads.py` does) and the cross-source set held out, with and without it.

    .venv/bin/python training/narratives/semeval_head.py --db /tmp/narratives-dev/atlas.db \
        [--cross /tmp/narratives-cross/atlas.db] [--vectors /tmp/semeval-vecs.npz] [--sharpness 0,5,20] [--cv]

`--cv` also prints the 5-fold (by article) AUC of every label's pooled score on SemEval itself, against the
labelled classifier's logistic regression on the mean sentence vector. Nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_heads as th  # noqa: E402

from influence_atlas.extract import narratives as nx  # noqa: E402
from influence_atlas.extract.encoder import encode_sentences  # noqa: E402
from influence_atlas.ontology.narratives import load_taxonomy  # noqa: E402
from influence_atlas.pipeline import document_sentences  # noqa: E402
from influence_atlas.store import open_store  # noqa: E402
from influence_atlas.text.sentences import rough_sentences  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "semeval2025-task10"
DOCS = DATA / "train" / "EN" / "raw-documents"
LABELS = DATA / "train" / "EN" / "subtask-2-annotations.txt"
MAPPING = Path(__file__).resolve().parent / "semeval_map.yaml"
L2 = 1.0
STEPS = 300
LR = 0.05


def kept_rows(text: str, spans: list[tuple[int, int]]) -> np.ndarray:
    """Return the shared-encoder rows of the sentences the narrative stage compares (at least MIN_WORDS words)."""
    kept = [(s, e) for s, e in spans if len(text[s:e].split()) >= nx.MIN_WORDS] or spans
    return encode_sentences([text[s:e] for s, e in kept]).astype(np.float32)


def load_articles() -> tuple[list[str], list[np.ndarray], dict[str, set[str]]]:
    """Return the task's article names, their sentence rows and their label sets (narratives and sub-narratives)."""
    labels: dict[str, set[str]] = {}
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) >= 3:
            labels[cols[0]] = {x.strip() for c in cols[1:3] for x in c.split(";") if x.strip() and x.strip() != "Other"}
    names = sorted(labels)
    rows = []
    for name in names:
        text = (DOCS / name).read_text(encoding="utf-8", errors="replace")
        rows.append(kept_rows(text, rough_sentences(text)))
    return names, rows, labels


def load_mapping(path: Path, known_ids: set[str], known_labels: set[str]) -> dict[str, list[str]]:
    """Return the mapping from our narrative ids to task labels, validated against the taxonomy and the trained labels."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: expected a mapping of narrative ids to lists of SemEval labels")
    for nid, labs in data.items():
        if nid not in known_ids:
            raise SystemExit(f"{path}: {nid!r} is not a narrative id of the taxonomy")
        if not isinstance(labs, list) or not all(isinstance(x, str) for x in labs):
            raise SystemExit(f"{path}: {nid}: expected a list of SemEval labels")
        bad = [x for x in labs if x not in known_labels]
        if bad:
            raise SystemExit(f"{path}: {nid}: label(s) {bad} have no scorer (unknown, or fewer articles than --min-positives)")
    return data


def pooled(s: np.ndarray, starts: np.ndarray, r: float) -> tuple[np.ndarray, np.ndarray]:
    """Return per article and label the log-mean-exp of its sentences' scores at sharpness r (their mean at 0), and each
    sentence's share of the gradient."""
    seg = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    counts = np.diff(starts)[:, None]
    if r <= 0:
        return np.add.reduceat(s, starts[:-1], axis=0) / counts, np.ones_like(s) / counts[seg]
    peak = np.maximum.reduceat(s, starts[:-1], axis=0)
    e = np.exp(r * (s - peak[seg]))
    total = np.add.reduceat(e, starts[:-1], axis=0)
    z = peak + np.log(total / counts) / r
    return z, e / total[seg]


def fit(rows: list[np.ndarray], y: np.ndarray, r: float, l2: float = L2, steps: int = STEPS) -> np.ndarray:
    """Return the sentence scorers (dim + 1) x labels, fitted by Adam on the class-balanced logistic loss of the pooled scores
    (at sharpness 0, the mean pooling, a logistic regression on the mean sentence vector fitted by Newton steps)."""
    if r <= 0:
        means = np.stack([v.mean(axis=0) for v in rows])
        return np.stack([nx._fit_logistic(means, y[:, j], l2) for j in range(y.shape[1])], axis=1).astype(np.float32)
    x = np.vstack(rows).astype(np.float64)
    starts = np.concatenate([[0], np.cumsum([len(v) for v in rows])])
    seg = np.repeat(np.arange(len(rows)), np.diff(starts))
    n, k = y.shape
    pos = np.maximum(1, y.sum(axis=0))
    weight = np.where(y > 0, n / (2 * pos), n / (2 * np.maximum(1, n - pos)))
    w = np.zeros((x.shape[1] + 1, k))
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, steps + 1):
        s = x @ w[:-1] + w[-1]
        z, share = pooled(s, starts, r)
        p = 1 / (1 + np.exp(-np.clip(z, -30, 30)))
        ds = share * (weight * (p - y) / n)[seg]
        grad = np.vstack([x.T @ ds + l2 * w[:-1] / n, ds.sum(axis=0)])
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        w -= LR * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return w.astype(np.float32)


def auc(score: np.ndarray, y: np.ndarray) -> float:
    """Return the area under the ROC curve of `score` for the binary labels `y` (nan with one class)."""
    order = np.argsort(score, kind="stable")
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    pos = y > 0
    if pos.sum() == 0 or pos.all():
        return float("nan")
    return float((ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum()))


def collect(db: str, gold: dict, tax) -> list[tuple]:
    """Return per gold document of the database its narrative features, gold pairs, language, name and sentence rows."""
    store = open_store(db)
    out = []
    for doc in store.documents():
        if doc.name in gold:
            spans = document_sentences(doc)
            feats = nx.narrative_features(doc.text, spans, store.mentions(doc.id), doc.language, tax)
            out.append((feats, gold[doc.name]["pairs"], gold[doc.name]["language"], doc.name, kept_rows(doc.text, spans)))
    return out


def with_feature(docs: list[tuple], columns: list[list[int]] | None, w: np.ndarray | None, r: float) -> list[tuple]:
    """Return (features, pairs) with one more presence column before the bias: per narrative the best pooled probability
    of its mapped labels (0 when it has none, or for every narrative when `w` is None)."""
    out = []
    for feats, pairs, _, _, rows in docs:
        extra = np.zeros(len(feats.narratives), np.float32)
        if w is not None:
            z, _ = pooled(rows @ w[:-1] + w[-1], np.array([0, len(rows)]), r)
            prob = 1 / (1 + np.exp(-np.clip(z[0], -30, 30)))
            extra = np.array([max((prob[c] for c in cols), default=0.0) for cols in columns], np.float32)
        copy = nx.DocumentFeatures(feats.narratives, np.insert(feats.presence, -1, extra, axis=1), feats.mode, feats.evidence,
                                   feats.doc_vector, feats.relay, feats.debunked)
        out.append((copy, pairs))
    return out


def report(label: str, dev: list[tuple], cross: list[tuple], items: list[tuple], cross_items: list[tuple]) -> None:
    pred = th.lodo(items)
    golds = [g for _, g in items]
    parts = th.split_figures(pred, golds, [(d[3], d[2]) for d in dev])
    if cross_items:
        wp, wm = th.fit(items)
        t = th.best_threshold(wp, wm, items)
        parts.append("cross %.3f" % th.f1([th.predict(wp, wm, t, f) for f, _ in cross_items], [g for _, g in cross_items])[2])
        parts.append("weight %.2f" % (wp[-2] if label != "without" else 0.0))
    print(f"{label:28s} " + "  ".join(parts), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    th.database_arguments(ap, vectors=True)
    ap.add_argument("--min-positives", type=int, default=5, help="labels with fewer positive articles get no scorer")
    ap.add_argument("--sharpness", default="0,5,20", help="log-mean-exp pooling sharpness values to compare (0: mean)")
    ap.add_argument("--cv", action="store_true", help="print 5-fold (by article) AUC per label on SemEval, MIL against mean")
    a = ap.parse_args()
    encoder = th.memoised_encoder(a.vectors)
    names, rows, labels = load_articles()
    tax = load_taxonomy()
    dev = collect(a.db, th.gold_pairs(), tax)
    cross = collect(a.cross, th.gold_from(Path(a.cross).parent / "gold"), tax) if a.cross else []
    th.keep_vectors(a.vectors, encoder)
    counts: dict[str, int] = {}
    for ls in labels.values():
        for lab in ls:
            counts[lab] = counts.get(lab, 0) + 1
    chosen = sorted(lab for lab, c in counts.items() if c >= a.min_positives)
    mapping = load_mapping(MAPPING, {n.id for n in tax.narratives}, set(chosen))
    columns = [[chosen.index(x) for x in mapping.get(n.id, [])] for n in tax.narratives]
    y = np.array([[lab in labels[n] for lab in chosen] for n in names], dtype=np.float64)
    print(f"{len(names)} articles, {sum(map(len, rows))} sentences, {len(chosen)} labels with >= {a.min_positives} articles; "
          f"{len(dev)} development and {len(cross)} cross-source documents")
    sharpness = [float(x) for x in a.sharpness.split(",")]
    if a.cv:
        order = list(range(len(names)))
        random.Random(0).shuffle(order)
        scores = {r: np.zeros_like(y) for r in sharpness}
        for k in range(5):
            test = sorted(order[k::5])
            train = sorted(set(order) - set(test))
            starts = np.concatenate([[0], np.cumsum([len(rows[i]) for i in test])])
            for r in sharpness:
                w = fit([rows[i] for i in train], y[train], r, nx.LABELLED_L2 if r <= 0 else L2)
                scores[r][test] = pooled(np.vstack([rows[i] for i in test]) @ w[:-1] + w[-1], starts, r)[0]
        mapped = sorted({chosen.index(x) for labs in mapping.values() for x in labs})
        for r in sharpness:
            every = [auc(scores[r][:, j], y[:, j]) for j in range(len(chosen))]
            print(f"SemEval 5-fold AUC, sharpness {r:g}: mean over {len(chosen)} labels {np.nanmean(every):.3f}, "
                  f"over the {len(mapped)} mapped labels {np.nanmean([every[j] for j in mapped]):.3f}")
    report("without", dev, cross, with_feature(dev, None, None, 0), with_feature(cross, None, None, 0))
    for r in sharpness:
        w = fit(rows, y, r, nx.LABELLED_L2 if r <= 0 else L2)
        report(f"with, sharpness {r:g}", dev, cross, with_feature(dev, columns, w, r), with_feature(cross, columns, w, r))


if __name__ == "__main__":
    main()
