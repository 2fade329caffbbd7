"""Train the ACLED sub-event head (extract/acled.py) and report its cross-validated weighted F1 on CASE 2021 Task 2.

Data (read from ../shared, never copied into the repository):
- ../shared/data/case2021-task2/dev.tsv: 503 snippets; the 25 ACLED codes are classes, the five
  types outside ACLED (disasters, organised crime, diplomacy, attribution) are `none`;
- training/acled/notes.yaml: ACLED-style notes written from the codebook definitions;
- ../shared/data/plover-gsr/plover_gsr.jsonl: sentences of PLOVER types that ACLED does not
  code (demands, threats, consultations, ...) as more `none`.

Cross-validation: stratified folds over the CASE snippets; the notes and PLOVER sentences are in
every training fold and never scored. The figure is the weighted F1 over the 25 ACLED types on
the snippets whose gold label is an ACLED type (the CASE 2021 metric), with the prediction the
best of the 25 sub-types. Then the head is fitted on everything and written to
src/influence_atlas/models/acled/.

    nice -n 10 .venv/bin/python training/acled/train.py [--folds 5] [--no-save]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from influence_atlas.extract.acled import FEATURES, NONE, features  # noqa: E402
from influence_atlas.ontology.acled import load_acled_taxonomy  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
CASE = SHARED / "case2021-task2" / "dev.tsv"
PLOVER = SHARED / "plover-gsr" / "plover_gsr.jsonl"
NOTES = Path(__file__).resolve().parent / "notes.yaml"
OUT = ROOT / "src" / "influence_atlas" / "models" / "acled"
# PLOVER types with no ACLED counterpart: their sentences teach the head what is not an event.
PLOVER_NONE = ("DEMAND", "REJECT", "THREATEN", "DISAPPROVE", "CONSULT", "SUPPORT", "AID", "INVESTIGATE", "COOPERATE")


def load_case(codes: set[str]) -> tuple[list[str], list[str], list[str]]:
    """Return CASE texts, training labels (ACLED code or none) and the original labels."""
    rows = [line.rstrip("\n").split("\t") for line in CASE.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    texts = [r[1] for r in rows]
    gold = [r[2] for r in rows]
    return texts, [g if g in codes else NONE for g in gold], gold


def load_extra(codes: set[str]) -> tuple[list[str], list[str]]:
    """Return the written notes and PLOVER `none` sentences with their labels."""
    notes = yaml.safe_load(NOTES.read_text(encoding="utf-8"))
    texts, labels = [], []
    for code, items in notes.items():
        if code not in codes and code != NONE:
            raise SystemExit(f"{NOTES}: unknown code {code}")
        texts += items
        labels += [code] * len(items)
    if PLOVER.exists():
        for line in PLOVER.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec.get("event") in PLOVER_NONE and rec.get("text"):
                texts.append(rec["text"])
                labels.append(NONE)
    return texts, labels


def fit_softmax(x: np.ndarray, y: np.ndarray, n_classes: int, l2: float, sample_weight: np.ndarray,
                steps: int = 800, lr: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """Return weights and bias of an L2-regularised multinomial logistic regression (full-batch Adam)."""
    x = x.astype(np.float32)
    n, d = x.shape
    w = np.zeros((d, n_classes), np.float32)
    b = np.zeros(n_classes, np.float32)
    onehot = np.eye(n_classes, dtype=np.float32)[y]
    sw = (sample_weight / sample_weight.sum()).astype(np.float32)
    m = [np.zeros_like(w), np.zeros_like(b)]
    v = [np.zeros_like(w), np.zeros_like(b)]
    for t in range(1, steps + 1):
        logits = x @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) * sw[:, None]
        grads = [x.T @ g + 2 * l2 * w, g.sum(axis=0)]
        for k, (param, grad) in enumerate(zip((w, b), grads)):
            m[k] = 0.9 * m[k] + 0.1 * grad
            v[k] = 0.999 * v[k] + 0.001 * grad ** 2
            param -= lr * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
    return w.astype(np.float32), b.astype(np.float32)


def balanced_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    counts = np.bincount(y, minlength=n_classes).astype(float)
    return (len(y) / (n_classes * np.maximum(counts, 1)))[y]


def weighted_f1(gold: list[str], pred: list[str], labels: list[str]) -> tuple[float, dict[str, float]]:
    """Return weighted F1 over `labels` (weights: gold support) and per-label F1."""
    per, total, acc = {}, 0, 0.0
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in zip(gold, pred))
        fp = sum(g != lab and p == lab for g, p in zip(gold, pred))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred))
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        per[lab] = round(f1, 3)
        support = sum(g == lab for g in gold)
        total += support
        acc += f1 * support
    return (acc / total if total else 0.0), per


def stratified_folds(labels: list[str], k: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    offset = 0
    for lab in sorted(set(labels)):
        idx = [i for i, x in enumerate(labels) if x == lab]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            folds[(offset + j) % k].append(i)
        offset += len(idx)
    return [np.array(sorted(f)) for f in folds]


def cached_features(texts: list[str], cue_weight: float, cache: str | None) -> np.ndarray:
    """Return features(texts), kept in `cache` (keyed by the texts, the weight and the ontology file) when given."""
    if not cache:
        return features(texts, cue_weight)
    import hashlib

    from influence_atlas.ontology.acled import ACLED_FILE

    key = hashlib.sha1(("\n".join(texts) + f"|{cue_weight}|{FEATURES}|" + ACLED_FILE.read_text(encoding="utf-8")).encode()).hexdigest()[:16]
    path = Path(cache) / f"{key}.npy"
    if path.exists():
        return np.load(path)
    x = features(texts, cue_weight)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    return x


def predict(w, b, x, classes, none_index):
    logits = x @ w + b
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    best = probs.copy()
    best[:, none_index] = -1
    return [classes[i] for i in best.argmax(axis=1)], 1 - probs[:, none_index]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cue-weight", type=float, default=0.3)
    ap.add_argument("--l2", type=float, default=1e-3, help="L2 of the sub-type head")
    ap.add_argument("--presence-l2", type=float, default=1e-4,
                    help="L2 of the head whose `none` probability says whether there is an event (sharper than the sub-type head)")
    ap.add_argument("--extra-weight", type=float, default=1.0, help="sample weight of the written notes and PLOVER sentences")
    ap.add_argument("--threshold", type=float, default=0.5, help="event probability at or above which a text holds an event")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--cache", default=None, help="folder keeping computed features between runs (e.g. /tmp/acled-cache)")
    args = ap.parse_args()

    tax = load_acled_taxonomy()
    codes = list(tax.codes())
    classes = codes + [NONE]
    none_index = classes.index(NONE)
    case_texts, case_labels, case_gold = load_case(set(codes))
    extra_texts, extra_labels = load_extra(set(codes))
    t0 = time.time()
    x_case = cached_features(case_texts, args.cue_weight, args.cache)
    x_extra = cached_features(extra_texts, args.cue_weight, args.cache)
    print(f"features: {len(case_texts)} CASE snippets, {len(extra_texts)} extra sentences ({time.time() - t0:.0f} s)", flush=True)
    y_case = np.array([classes.index(c) for c in case_labels])
    y_extra = np.array([classes.index(c) for c in extra_labels])

    pred = [""] * len(case_texts)
    p_event = np.zeros(len(case_texts))
    for fold in stratified_folds(case_labels, args.folds):
        train = np.setdiff1d(np.arange(len(case_texts)), fold)
        x = np.vstack([x_case[train], x_extra])
        y = np.concatenate([y_case[train], y_extra])
        sw = balanced_weights(y, len(classes))
        sw[len(train):] *= args.extra_weight
        w, b = fit_softmax(x, y, len(classes), args.l2, sw)
        labs, _ = predict(w, b, x_case[fold], classes, none_index)
        pw, pb = fit_softmax(x, y, len(classes), args.presence_l2, sw)
        _, pe = predict(pw, pb, x_case[fold], classes, none_index)
        for i, lab, q in zip(fold, labs, pe):
            pred[i], p_event[i] = lab, q
    acled_rows = [i for i, g in enumerate(case_gold) if g in codes]
    score, per = weighted_f1([case_gold[i] for i in acled_rows], [pred[i] for i in acled_rows], codes)
    is_acled = np.array([g in codes for g in case_gold])
    detected = p_event >= args.threshold
    presence = {"acled_recall": round(float(detected[is_acled].mean()), 3),
                "non_acled_rejected": round(float((~detected[~is_acled]).mean()), 3)}
    event_type = {s.code: s.event_type for s in tax.sub_types}
    type_acc = float(np.mean([event_type[pred[i]] == event_type[case_gold[i]] for i in acled_rows]))
    print(f"{args.folds}-fold CV weighted F1 over the 25 ACLED types: {score:.3f} (n={len(acled_rows)}); "
          f"ACLED event type accuracy {type_acc:.3f}; presence {presence}")
    print("per sub-type F1:", json.dumps(dict(sorted(per.items(), key=lambda kv: kv[1]))))
    if args.no_save:
        return
    x = np.vstack([x_case, x_extra])
    y = np.concatenate([y_case, y_extra])
    sw = balanced_weights(y, len(classes))
    sw[len(case_texts):] *= args.extra_weight
    w, b = fit_softmax(x, y, len(classes), args.l2, sw)
    pw, pb = fit_softmax(x, y, len(classes), args.presence_l2, sw)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "head.npz", weights=w.astype(np.float32), bias=b.astype(np.float32),
                        presence_weights=pw.astype(np.float32), presence_bias=pb.astype(np.float32))
    meta = {
        "classes": classes, "features": FEATURES, "cue_weight": args.cue_weight, "threshold": args.threshold, "l2": args.l2, "presence_l2": args.presence_l2,
        "extra_weight": args.extra_weight, "encoder": "all-MiniLM-L6-v2 int8 (extract/encoder.py)",
        "training": {"case2021_dev": len(case_texts), "extra": len(extra_texts)},
        "cv": {"folds": args.folds, "weighted_f1_25": round(score, 3), "event_type_accuracy": round(type_acc, 3),
               "presence": presence, "per_sub_type_f1": per},
    }
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}/head.npz and meta.json")


if __name__ == "__main__":
    main()
