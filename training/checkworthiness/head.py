"""Train the check-worthiness head on the shared encoder pass (CLEF CheckThat! 2024 English, task 1).

Run from the repository root in the training venv (scikit-learn lives only there; no torch needed):

    .venv-train/bin/pip install -e . scikit-learn                         # once
    .venv-train/bin/python training/checkworthiness/head.py               # fit, choose the threshold on dev, write the head
    .venv-train/bin/python training/checkworthiness/head.py --dry-run     # figures only

The head reads what the analysis computes anyway: the shared MiniLM sentence vector
(`extract/encoder.py`) and the cheap features of `extract/checkworthiness.py` CHEAP_FEATURES. It is
an ensemble of small networks (one ReLU layer) fitted on CT24_train with early stopping on a slice
of train; the threshold maximises F1 of "Yes" on CT24_dev. CT24_dev-test is only reported, never
used to choose anything. Vectors and features are cached in ATLAS_TRAIN_DIR (default /tmp/atlas-checkworthiness).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(HERE))

from influence_atlas.extract import checkworthiness as cw  # noqa: E402
from train import best_threshold, f1_positive, load_split  # noqa: E402

MODEL_OUT = REPO / "src" / "influence_atlas" / "models" / "checkworthiness"
WORK = Path(os.environ.get("ATLAS_TRAIN_DIR", "/tmp/atlas-checkworthiness"))
SPLITS = ("train", "dev", "dev-test")


def split_inputs(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (sentence vectors, cheap features, gold Yes) of one split, encoded once and cached in WORK."""
    from influence_atlas.extract.encoder import encode_sentences

    WORK.mkdir(parents=True, exist_ok=True)
    cache = WORK / f"head-{name}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return z["vectors"], z["features"], z["gold"]
    rows = load_split(name)
    texts = [r.text for r in rows]
    vectors, features = encode_sentences(texts), cw.cheap_features(texts, "en")
    gold = np.array([r.label == "Yes" for r in rows])
    np.savez(cache, vectors=vectors, features=features, gold=gold)
    return vectors, features, gold


def main() -> None:
    from sklearn.neural_network import MLPClassifier

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", type=int, default=256, help="units of the hidden layer")
    ap.add_argument("--alpha", type=float, default=0.01, help="L2 penalty")
    ap.add_argument("--members", type=int, default=3, help="networks in the ensemble (seeds 0..N-1)")
    ap.add_argument("--feature-weight", type=float, default=0.1, help="scale of the standardised cheap features beside the vector")
    ap.add_argument("--dry-run", action="store_true", help="print the figures without writing the head")
    args = ap.parse_args()
    data = {n: split_inputs(n) for n in SPLITS}
    mean = data["train"][1].mean(0)
    scale = data["train"][1].std(0)
    scale[scale == 0] = 1.0

    def inputs(name):
        v, f, _ = data[name]
        return np.hstack([v, args.feature_weight * (f - mean) / scale]).astype(np.float32)

    gold = {n: data[n][2].tolist() for n in SPLITS}
    members, scores = [], {n: [] for n in ("dev", "dev-test")}
    for seed in range(args.members):
        net = MLPClassifier((args.hidden,), alpha=args.alpha, early_stopping=True, random_state=seed, max_iter=200)
        net.fit(inputs("train"), data["train"][2])
        members.append(net)
        for n in scores:
            scores[n].append(net.predict_proba(inputs(n))[:, 1])
        t, f = best_threshold(gold["dev"], scores["dev"][-1].tolist())
        print(json.dumps({"member": seed, "epochs": net.n_iter_, "dev_f1": round(f, 4), "threshold": t,
                          "dev_test_f1": round(f1_positive(gold["dev-test"], (scores["dev-test"][-1] >= t).tolist()), 4)}), flush=True)
    mixed = {n: np.mean(s, axis=0) for n, s in scores.items()}
    threshold, dev_f1 = best_threshold(gold["dev"], mixed["dev"].tolist())
    figures = {}
    for n in ("dev", "dev-test"):
        pred = (mixed[n] >= threshold).tolist()
        tp = sum(g and p for g, p in zip(gold[n], pred))
        figures[n] = {"f1": round(f1_positive(gold[n], pred), 4), "precision": round(tp / max(1, sum(pred)), 4),
                      "recall": round(tp / max(1, sum(gold[n])), 4), "sentences": len(pred),
                      "oracle_f1": round(best_threshold(gold[n], mixed[n].tolist())[1], 4)}
    result = {"threshold": threshold, "hidden": args.hidden, "alpha": args.alpha, "members": args.members,
              "feature_weight": args.feature_weight, "figures": figures}
    print(json.dumps(result, indent=1))
    if args.dry_run:
        return
    arrays = {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32)}
    for m, net in enumerate(members):
        for j, (w, b) in enumerate(zip(net.coefs_, net.intercepts_)):
            arrays[f"m{m}_w{j}"], arrays[f"m{m}_b{j}"] = w.astype(np.float16), b.astype(np.float32)
    np.savez_compressed(MODEL_OUT / "head.npz", **arrays)
    meta = {"threshold": threshold, "features": list(cw.CHEAP_FEATURES), "feature_weight": args.feature_weight,
            "members": args.members, "hidden": args.hidden, "alpha": args.alpha,
            "input": "shared all-MiniLM-L6-v2 sentence vector (extract/encoder.py) + CHEAP_FEATURES",
            "trained_on": "CLEF CheckThat! 2024 English task 1: CT24_train.tsv; threshold chosen on CT24_dev.tsv",
            "figures": figures}
    (MODEL_OUT / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"written": str(MODEL_OUT / "head.npz"), "bytes": (MODEL_OUT / "head.npz").stat().st_size}))


if __name__ == "__main__":
    main()
