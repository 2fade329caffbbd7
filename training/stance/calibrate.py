#!/usr/bin/env python3
"""Calibrate how the stance stage turns per-mention readings into a document's stance (-2..+2) per actor.

Reads the development set as `scripts/score_devset.py` left it (its database: documents and actor mentions;
its combined gold folder: the `stance` field of each gold file), computes each (document, actor)'s features
with the run-time code (`extract.stance.stance_features`: counts of the stance lexicon's words and blamed events in
the author's voice, and the target model's mean reading of the author's sentences naming the actor), fits the linear
aggregation by ridge regression and chooses the `implied` threshold for actors the linear map leaves silent.
Figures are leave-one-document-out: each document is scored by weights fitted on the other thirty, with the
independent scorer's rules (sign with a 0.5 dead zone; an actor the system leaves out counts as a miss and
its whole gold score as error). Writes `src/influence_atlas/models/stance/aggregation.json` (weights fitted on
every document) and `training/stance/calibration.json` (the cross-validated figures).

    .venv/bin/python scripts/score_devset.py --work /tmp/stance-dev      # builds the database and gold folder
    .venv/bin/python training/stance/calibrate.py --work /tmp/stance-dev [--features-cache FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gold import cached_rows, gold_documents, scorer_alias  # noqa: E402
from influence_atlas.extract import stance as S  # noqa: E402


def collect(work: Path) -> list[dict]:
    """Return one row per gold (document, actor): language, gold score and the system's features (or None)."""
    alias = scorer_alias(work)
    rows = []
    for key, gold, doc, sentences, store in gold_documents(work):
        mentions = S.actor_mentions(store.mentions(doc.id))
        tally = S._tally_lexicon(doc.text, sentences, mentions, doc.language, events=store.events(doc.id))
        # The model reads every actor's author-voice sentences here (at run time only the actors the aggregation
        # leaves silent), so that `model` is there for whichever actors a fit leaves silent.
        feats = S.stance_features(tally, S.read_mentions(doc.text, sentences, mentions, doc.language, author_voice=True))
        by_alias = {alias(a): f for a, f in feats.items()}
        for actor, gs in gold["stance"].items():
            rows.append({"doc": key, "language": gold.get("language", "en"), "actor": actor, "gold": gs,
                         "features": by_alias.get(alias(actor))})
        print(f"  {key}: {len(feats)} actors", flush=True)
    return rows


def design(rows: list[dict], names: tuple[str, ...]) -> np.ndarray:
    return np.array([[r["features"][k] for k in names] for r in rows], np.float64)


def fit(rows: list[dict], names: tuple[str, ...], alpha: float) -> tuple[np.ndarray, float]:
    """Return ridge weights and bias fitted to the gold scores of the rows that have features."""
    x = design(rows, names)
    y = np.array([r["gold"] for r in rows], np.float64)
    mu = x.mean(0)
    xc = x - mu
    w = np.linalg.solve(xc.T @ xc + alpha * np.eye(len(names)), xc.T @ (y - y.mean()))
    return w, float(y.mean() - mu @ w)


def sign(v: float) -> int:
    return 0 if abs(v) < 0.5 else (1 if v > 0 else -1)


def figures(rows: list[dict], preds: list[float | None]) -> dict:
    ok = sum(int(p is not None and sign(p) == sign(r["gold"])) for r, p in zip(rows, preds))
    err = sum(abs(r["gold"]) if p is None else abs(p - r["gold"]) for r, p in zip(rows, preds))
    n = max(len(rows), 1)
    return {"n": len(rows), "sign_acc": round(ok / n, 3), "mae": round(err / n, 3)}


def lexicon_or(r: dict, shipped: dict) -> float:
    """Return the shipped linear map's score for a row with features."""
    raw = shipped["bias"] + sum(w * r["features"][k] for k, w in shipped["weights"].items())
    return max(-2.0, min(2.0, raw))


def cross_validate(rows: list[dict], names: tuple[str, ...], alpha: float) -> list[float | None]:
    """Return leave-one-document-out predictions (None where the system has no stance for the actor)."""
    preds: list[float | None] = [None] * len(rows)
    for doc in sorted({r["doc"] for r in rows}):
        train = [r for r in rows if r["doc"] != doc and r["features"] is not None]
        w, b = fit(train, names, alpha)
        for i, r in enumerate(rows):
            if r["doc"] == doc and r["features"] is not None:
                preds[i] = max(-2.0, min(2.0, b + float(design([r], names)[0] @ w)))
    return preds


def with_implied(rows: list[dict], preds: list[float | None], threshold: float | None) -> list[float | None]:
    """Return the predictions with the run-time rule for silent actors (`Aggregation.score`): inside the dead zone, a
    mean model reading at or below the threshold becomes the score."""
    out = []
    for r, p in zip(rows, preds):
        if p is not None and threshold is not None and abs(p) < S.SILENT and r["features"]["model"] <= threshold:
            p = max(-2.0, min(2.0, r["features"]["model"]))
        out.append(p)
    return out


IMPLIED_GRID = (None, -0.8, -0.75, -0.7, -0.65, -0.6, -0.55, -0.5, -0.45, -0.4)


def cross_validate_implied(rows: list[dict], preds: list[float | None]) -> tuple[list[float | None], list]:
    """Return leave-one-document-out predictions of the implied rule (the threshold chosen on the other documents by
    sign accuracy, then error) and the thresholds chosen."""
    out: list[float | None] = list(preds)
    chosen = []
    for doc in sorted({r["doc"] for r in rows}):
        train = [i for i, r in enumerate(rows) if r["doc"] != doc]
        tr_rows, tr_preds = [rows[i] for i in train], [preds[i] for i in train]

        def key(th):
            f = figures(tr_rows, with_implied(tr_rows, tr_preds, th))
            return (f["sign_acc"], -f["mae"])
        best = max(IMPLIED_GRID, key=key)
        chosen.append(best)
        held = [i for i, r in enumerate(rows) if r["doc"] == doc]
        for i, p in zip(held, with_implied([rows[i] for i in held], [preds[i] for i in held], best)):
            out[i] = p
    return out, chosen


def report(rows: list[dict], preds: list[float | None]) -> dict:
    out = {"all": figures(rows, preds)}
    for lang in ("en", "fr"):
        keep = [i for i, r in enumerate(rows) if r["language"] == lang]
        out[lang] = figures([rows[i] for i in keep], [preds[i] for i in keep])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default="/tmp/atlas-dev", help="the folder score_devset.py analysed the set in")
    ap.add_argument("--features-cache", default="", help="JSON file to keep the features in (reused when present)")
    ap.add_argument("--alpha", type=float, default=0.0, help="ridge penalty (default: chosen by cross-validation)")
    a = ap.parse_args()
    rows = cached_rows(a.features_cache, collect, Path(a.work))
    names = S.FEATURES
    results = {}
    for alpha in ([a.alpha] if a.alpha else [0.3, 1.0, 3.0, 10.0, 30.0]):
        results[alpha] = report(rows, cross_validate(rows, names, alpha))
        print(f"alpha {alpha}: {results[alpha]}")
    every = tuple(next(r["features"] for r in rows if r["features"] is not None))
    subsets = {}
    for subset in (("lexicon",), names, every):
        best_alpha = a.alpha or 1.0
        subsets[",".join(subset)] = report(rows, cross_validate(rows, subset, best_alpha))
        print(f"features {','.join(subset)} (alpha {best_alpha}): {subsets[','.join(subset)]}")
    best = max(results, key=lambda k: (results[k]["all"]["sign_acc"], -results[k]["all"]["mae"]))
    lexicon_preds = [None if r["features"] is None else max(-2.0, min(2.0, r["features"]["lexicon"])) for r in rows]
    lexicon_only = report(rows, lexicon_preds)
    print(f"lexicon alone (no fitting): {lexicon_only}")
    w, b = fit([r for r in rows if r["features"] is not None], names, best)
    fitted = {"weights": {k: round(float(v), 5) for k, v in zip(names, w)}, "bias": round(b, 5)}
    # Ship the fit only when it cross-validates better than the lexicon's own score on sign accuracy without a worse
    # error; else the lexicon's score alone.
    learned = (results[best]["all"]["sign_acc"] > lexicon_only["all"]["sign_acc"]
               and results[best]["all"]["mae"] <= lexicon_only["all"]["mae"])
    shipped = fitted if learned else {"weights": {k: float(k == "lexicon") for k in names}, "bias": 0.0}
    # The implied rule for actors the linear map leaves silent, on top of the shipped map (its LODO predictions when
    # fitted): the threshold ships when its leave-one-document-out figure beats the map alone on sign without a
    # larger error.
    linear = cross_validate(rows, names, best) if learned else lexicon_preds
    implied_preds, chosen = cross_validate_implied(rows, linear)
    implied_cv, linear_cv = report(rows, implied_preds), report(rows, linear)
    print(f"implied rule, LODO (thresholds chosen {sorted(set(map(str, chosen)))}): {implied_cv}")
    full = [r for r in rows if r["features"] is not None]
    threshold = max(IMPLIED_GRID, key=lambda th: (figures(full, with_implied(full, [lexicon_or(r, shipped) for r in full], th))["sign_acc"],
                                                  -figures(full, with_implied(full, [lexicon_or(r, shipped) for r in full], th))["mae"]))
    if (implied_cv["all"]["sign_acc"] > linear_cv["all"]["sign_acc"] and implied_cv["all"]["mae"] <= linear_cv["all"]["mae"]
            and threshold is not None):
        shipped = {**shipped, "implied": threshold}
    note = ("ridge fit on every document, alpha chosen by leave-one-document-out" if learned else
            "the lexicon's score alone: the ridge fit does not cross-validate better on sign and error together "
            "(training/stance/calibration.json)")
    model_dir = ROOT / "src" / "influence_atlas" / "models" / "stance"
    if "implied" in shipped:
        note += ("; implied: inside the dead zone, a mean target-model reading of the author's sentences at or below "
                 "this threshold is the score (threshold chosen on every document; its rule cross-validated better)")
    (model_dir / "aggregation.json").write_text(json.dumps({**shipped, "note": note}, indent=1) + "\n")
    (ROOT / "training" / "stance" / "calibration.json").write_text(json.dumps(
        {"alpha": best, "features": list(names), "leave_one_document_out": results[best], "lexicon_alone": lexicon_only,
         "subsets_leave_one_document_out": subsets, "shipped": "ridge" if learned else "lexicon alone",
         "implied_leave_one_document_out": implied_cv, "implied_thresholds_chosen": [str(c) for c in chosen],
         "implied_shipped": shipped.get("implied"),
         "missing_actors": sum(r["features"] is None for r in rows), "ridge": fitted}, indent=1) + "\n")
    print(json.dumps({"alpha": best, **results[best]}, indent=1))


if __name__ == "__main__":
    main()
