"""Train the sentence-level event detector (extract/event_detector.py) and report cross-validated figures.

    cd training/events && ../../.venv/bin/python train.py [--folds 5] [--refresh]

Data: the 31 development documents (dev + seeds; a sentence's labels are the types of the gold events
it quotes), with `--cross` also the 16 cross-source documents (four stories told by four outlets each), and,
in every training fold, CASE 2021 Task 2 snippets and PLOVER records mapped to the project's types
(external.py). Cross-validation holds out documents: development documents by random folds, cross-source
documents a whole story per fold (training/links/stories.json), so a held-out telling's story was never seen.
Out-of-fold scores go to /tmp/atlas-events-oof.npz for cv_events.py (keyed by document and sentence).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from devset import load_devset, sentence_labels
from external import case_examples, plover_examples
from influence_atlas.extract.encoder import encode_sentences
from influence_atlas.extract.event_detector import MODEL_FILE, detector_features
from influence_atlas.ontology.events import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]
OOF = Path("/tmp/atlas-events-oof.npz")
TYPES = tuple(EVENT_TYPES)
EXTERNAL_WEIGHT = 0.5
L2 = 1e-3
SEED = 13


def fit_heads(x: np.ndarray, y: np.ndarray, w: np.ndarray, epochs: int = 300, lr: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Fit one weighted, L2-regularised logistic head per column of y with Adam (full batch)."""
    n, d = x.shape
    k = y.shape[1]
    W = np.zeros((d, k), dtype=np.float64)
    b = np.zeros(k, dtype=np.float64)
    # Rare positive classes get a weight that balances them against the negatives.
    pos = (y * w[:, None]).sum(0)
    neg = ((1 - y) * w[:, None]).sum(0)
    cw_pos = np.where(pos > 0, np.sqrt(neg / np.maximum(pos, 1e-9)), 1.0)
    sw = w[:, None] * np.where(y > 0, cw_pos, 1.0)
    sw = sw / sw.mean()
    mW = np.zeros_like(W); vW = np.zeros_like(W); mb = np.zeros_like(b); vb = np.zeros_like(b)
    for t in range(1, epochs + 1):
        p = 1 / (1 + np.exp(-(x @ W + b)))
        g = (p - y) * sw / n
        gW = x.T @ g + L2 * W
        gb = g.sum(0)
        for prm, grd, m, v in ((W, gW, mW, vW), (b, gb, mb, vb)):
            m *= 0.9; m += 0.1 * grd
            v *= 0.999; v += 0.001 * grd * grd
            prm -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return W.astype(np.float32), b.astype(np.float32)


def cached_vectors(texts: list[str]) -> np.ndarray:
    """Return sentence vectors, kept in /tmp between runs (encoding is most of a run's time)."""
    import hashlib
    key = hashlib.sha1("\x00".join(texts).encode()).hexdigest()[:16]
    path = Path(f"/tmp/atlas-events-vec-{key}.npy")
    if path.exists():
        return np.load(path)
    vec = encode_sentences(texts) if texts else np.zeros((0, 384), np.float32)
    np.save(path, vec)
    return vec


def predict(x, W, b):
    return 1 / (1 + np.exp(-(x @ W + b)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--refresh", action="store_true")
    ap.add_argument("--no-external", action="store_true")
    ap.add_argument("--cross", action="store_true", help="also train on the cross-source set, a story per fold")
    a = ap.parse_args()
    docs = load_devset(a.refresh) + (load_devset(a.refresh, which="cross") if a.cross else [])
    texts, labels, groups, langs = [], [], [], []
    for gi, p in enumerate(docs):
        for (s, e), lab in zip(p.sentences, sentence_labels(p)):
            texts.append(p.doc.text[s:e]); labels.append(lab); groups.append(gi); langs.append(p.doc.language)
    ext = [] if a.no_external else case_examples() + plover_examples()
    x_dev = detector_features(texts, TYPES, cached_vectors(texts))
    x_ext = detector_features([t for t, _ in ext], TYPES, cached_vectors([t for t, _ in ext])) if ext else np.zeros((0, x_dev.shape[1]), np.float32)
    y_dev = np.array([[t in lab for t in TYPES] for lab in labels], dtype=np.float64)
    y_ext = np.array([[t == lab for t in TYPES] for _, lab in ext], dtype=np.float64).reshape(len(ext), len(TYPES))
    groups = np.array(groups)
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(docs))
    fold_of = {int(d): i % a.folds for i, d in enumerate(order)}
    stories = json.loads((ROOT / "training" / "links" / "stories.json").read_text())
    story_fold = {name: i % a.folds for i, (k, names) in enumerate(
        (k, v) for k, v in stories.items() if not k.startswith("_") and k != "seeds") for name in names}
    for gi, p in enumerate(docs):
        if p.doc.name in story_fold:
            fold_of[gi] = story_fold[p.doc.name]
    oof = np.zeros_like(y_dev)
    for f in range(a.folds):
        test = np.array([fold_of[int(g)] == f for g in groups])
        x = np.vstack([x_dev[~test], x_ext]); y = np.vstack([y_dev[~test], y_ext])
        w = np.concatenate([np.ones((~test).sum()), np.full(len(ext), EXTERNAL_WEIGHT)])
        W, b = fit_heads(x, y, w)
        oof[test] = predict(x_dev[test], W, b)
    # Figures: any-event detection and per-type F1 at each threshold, by language.
    report = {}
    for thr in (0.3, 0.4, 0.5, 0.6, 0.7):
        pred = oof >= thr
        row = {}
        for lang in ("en", "fr", None):
            m = np.array([lang is None or l == lang for l in langs])
            tp = (pred[m] & (y_dev[m] > 0)).sum(); fp = (pred[m] & (y_dev[m] == 0)).sum(); fn = (~pred[m] & (y_dev[m] > 0)).sum()
            p = tp / max(tp + fp, 1); r = tp / max(tp + fn, 1)
            row[lang or "all"] = round(2 * p * r / max(p + r, 1e-9), 3)
        report[thr] = row
    print("CV by document, sentence x type F1 (micro):", json.dumps(report))
    per_type = {}
    for j, t in enumerate(TYPES):
        pred = oof[:, j] >= 0.5; gold = y_dev[:, j] > 0
        tp = (pred & gold).sum(); p = tp / max(pred.sum(), 1); r = tp / max(gold.sum(), 1)
        per_type[t] = (int(gold.sum()), round(2 * p * r / max(p + r, 1e-9), 2))
    print("per type (gold sentences, F1 at 0.5):", per_type)
    np.savez(OOF, oof=oof.astype(np.float32), groups=groups, types=np.array(TYPES),
             docs=np.array([p.doc.name for p in docs]), texts=np.array(texts))
    x = np.vstack([x_dev, x_ext]); y = np.vstack([y_dev, y_ext])
    w = np.concatenate([np.ones(len(x_dev)), np.full(len(ext), EXTERNAL_WEIGHT)])
    W, b = fit_heads(x, y, w)
    out = ROOT / "src" / "influence_atlas" / MODEL_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, types=np.array(TYPES), weights=W, bias=b, thresholds=np.full(len(TYPES), 0.5, np.float32))
    print("wrote", out, f"({out.stat().st_size // 1024} KB); {len(x_dev)} dev sentences, {len(ext)} external examples")


if __name__ == "__main__":
    main()
