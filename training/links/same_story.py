"""Cross-validate a document-level "same story" model on the rows analysis computes (issue 20, fifth round).

A document pair tells one story when the gold joins its two documents by any link (the exhaustive cross-source set;
the seeds' cross.json); every other candidate pair of the cross-source set and of the development set is a negative
(the 28 development documents tell mostly different stories). Rows are the DOC_FEATURES rows `compare_documents`
computes on the stored records of two analysed databases (`PairFindings.row`), optionally with the three per-kind
confidences. Folds hold out by story (`stories.json`; the 28 development documents in four folds by name): a pair's
out-of-fold probability comes from a model fitted without the stories of both its documents.

    .venv/bin/python training/links/same_story.py /tmp/NAME-cross/atlas.db /tmp/NAME-dev/atlas.db [--l2 1]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1].parent / "shared" / "corpus"
sys.path.insert(0, str(HERE.parents[1] / "src"))
sys.path.insert(0, str(HERE))

from breakdown import gold_pairs  # noqa: E402
from influence_atlas.reconcile.claims import compare_documents  # noqa: E402
from influence_atlas.reconcile.features import DOC_FEATURES, LINK_KINDS  # noqa: E402
from influence_atlas.store import open_store  # noqa: E402

CUTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def rows_of(db: str, cross: Path, with_confidence: bool,
            extra: dict | None = None) -> list[tuple[tuple[str, str], np.ndarray, float]]:
    """Return (document names, feature row, same-story label) for every candidate pair of an analysed database; `extra`
    ("name|name" -> more features, zeros for a pair it lacks) is appended to the rows."""
    store = open_store(db)
    documents = store.documents()
    names = {d.id: d.name for d in documents}
    joined = {(a, b) for _, a, b in gold_pairs(json.loads(cross.read_text()))}
    found = compare_documents(documents, store.claims(), store.events(), store.stances())
    out = []
    for (a, b), f in sorted(found.items()):
        pair = tuple(sorted((names[a], names[b])))
        row = f.row[1:]
        if with_confidence:
            row = np.concatenate([row, [f.confidence[k] for k in LINK_KINDS]])
        if extra is not None:
            width = len(next(iter(extra.values()), ()))
            row = np.concatenate([row, extra.get("|".join(pair), [0.0] * width)])
        out.append((pair, np.concatenate([[1.0], row]), float(pair in joined)))
    return out


def fit(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 3000, lr: float = 0.5):
    """Return (weights, mean, scale) of an L2 logistic regression on standardised features."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    mean[0], scale[0] = 0.0, 1.0
    scale[scale < 1e-6] = 1.0
    z = (x - mean) / scale
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        grad = z.T @ (p - y) / len(y) + l2 * w / len(y)
        grad[0] -= l2 * w[0] / len(y)
        w -= lr * grad
    return w, mean, scale


def predict(model, x: np.ndarray) -> np.ndarray:
    w, mean, scale = model
    return 1.0 / (1.0 + np.exp(-(((x - mean) / scale) @ w)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cross_db", help="the analysed cross-source set")
    ap.add_argument("dev_db", help="the analysed development set (28 documents + seeds)")
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--with-confidence", action="store_true", help="add the three per-kind confidences as features")
    ap.add_argument("--extra", default="", help='a JSON file of more features per document pair ("name|name" -> list; '
                                                "nli_probe.py --doc-features writes one)")
    a = ap.parse_args()
    extra = json.loads(Path(a.extra).read_text()) if a.extra else None
    data = (rows_of(a.cross_db, SHARED / "cross" / "gold" / "cross.json", a.with_confidence, extra)
            + rows_of(a.dev_db, SHARED / "gold" / "cross.json", a.with_confidence, extra))
    stories = json.loads((HERE / "stories.json").read_text())
    story = {d: s for s, ds in stories.items() if not s.startswith("_") for d in ds}
    cross_docs = {d for s, ds in stories.items() if not s.startswith("_") and s != "seeds" for d in ds}
    for i, d in enumerate(sorted({d for pair, _, _ in data for d in pair if d not in story})):
        story[d] = f"dev{i % 4}"
    x = np.stack([r for _, r, _ in data])
    y = np.array([label for _, _, label in data])
    held = [frozenset(story[d] for d in pair) for pair, _, _ in data]
    oof = np.zeros(len(y))
    models = {}
    for i, key in enumerate(held):
        if key not in models:
            train = np.array([not (h & key) for h in held])
            models[key] = fit(x[train], y[train], a.l2)
        oof[i] = predict(models[key], x[i:i + 1])[0]
    inside = predict(fit(x, y, a.l2), x)
    in_cross = np.array([pair[0] in cross_docs for pair, _, _ in data])
    print(f"{int(y[in_cross].sum())} same-story pairs among {int(in_cross.sum())} cross-source candidate pairs; "
          f"{int((~in_cross).sum())} development-set pairs ({int(y[~in_cross].sum())} joined by the seeds' gold)")
    print("cut   cross right/emitted (out of fold | in sample)   development pairs emitted (out of fold | in sample)")
    for cut in CUTS:
        cells = []
        for p in (oof, inside):
            e = p >= cut
            cells.append((int((e & (y > 0) & in_cross).sum()), int((e & in_cross).sum()), int((e & ~in_cross).sum())))
        (r0, e0, d0), (r1, e1, d1) = cells
        print(f"{cut:.1f}   {r0:3d}/{e0:<3d} | {r1:3d}/{e1:<3d}                             {d0:3d} | {d1:3d}")


if __name__ == "__main__":
    main()
