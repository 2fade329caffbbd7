"""Fit the map that puts MiniLM lead-sentence similarities of two English documents on multilingual-e5's scale.

Run from the repository root (about two minutes of CPU; the encoders run once per sentence):

    .venv/bin/python training/multilingual/calibrate_story.py [--ptc-docs 80] [--write]

The doc-pair model (models/links/links.json) reads a pair's story similarity (the mean of the three closest
lead-sentence pairs, centred on each language's mean lead row, and raw) and its nearest lead claims from e5 rows.
Two English documents need no cross-lingual encoder: MiniLM, whose rows the analysis has already, tells two English
sentences apart as well. Its cosines sit on another scale, so this script fits, on English document pairs of
reference corpora, one increasing line per similarity (centred, raw) from MiniLM's value to e5's (least squares over
the pairs' top-three means; an increasing line commutes with the top-three mean and the maximum, so one line serves
a story similarity, the nearest claims and a single sentence pair). Each corpus is centred on its own English mean,
as the reconciliation centres a corpus.

Corpora: the English documents of the development and cross-source corpora (../shared/corpus, each its own corpus)
and PTC 2020 news articles (../shared/data/ptc2020, articles from the 101st on by name, so the benchmark's first 30
are not among them; each block of 40 is a corpus). Figures: the fit's mean absolute error in e5's units, and the same
in leave-one-corpus-out cross-validation; pairs are all English pairs of a corpus whose two documents share a main
actor (the pairs blocking could compare).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
OUT = REPO / "src" / "influence_atlas" / "models" / "multilingual" / "story_calibration.json"


def corpora(ptc_docs: int) -> dict[str, list]:
    from influence_atlas.pipeline import build_document
    from influence_atlas.text.readers import read_sources

    out = {}
    for name in ("dev", "cross"):
        folder = SHARED / "corpus" / name / "docs"
        files = sorted(p for p in folder.iterdir() if p.suffix in (".txt", ".md"))
        out[name] = [build_document(s) for f in files for s in read_sources(f)]
    ptc = sorted((SHARED / "data" / "ptc2020" / "articles").glob("*.txt"))[100:100 + ptc_docs]
    docs = [build_document(s) for f in ptc for s in read_sources(f)]
    for k in range(0, len(docs), 40):
        out[f"ptc{k // 40}"] = docs[k:k + 40]
    return {name: [d for d in docs if d.language == "en"] for name, docs in out.items()}


def corpus_pairs(docs: list) -> list[tuple]:
    """Per English pair sharing a main actor: (e5 centred, e5 raw, MiniLM centred, MiniLM raw) top-three means."""
    from influence_atlas.extract.encoder import encode_sentences
    from influence_atlas.extract.multilingual import encode_multilingual
    from influence_atlas.reconcile.claims import _main_actors
    from influence_atlas.reconcile.features import describe
    from influence_atlas.reconcile.links import STORY_SENTENCES, sentences, story_similarities

    leads = {d.id: sentences(d.text, STORY_SENTENCES) for d in docs}
    leads = {d: s for d, s in leads.items() if s}
    keys = {d.id: _main_actors([describe(f"{d.id}:s{i}", d.id, t, "en") for i, t in enumerate(sentences(d.text))])
            for d in docs if d.id in leads}
    ids = sorted(leads)
    pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1:] if keys[a] & keys[b]]
    language = {d: "en" for d in ids}
    e5 = story_similarities({d: encode_multilingual(leads[d]) for d in ids}, language, pairs)
    mini = story_similarities({d: encode_sentences(leads[d]) for d in ids}, language, pairs)
    return [(*e5[p], *mini[p]) for p in pairs]


def fit(x: np.ndarray, y: np.ndarray, how: str = "least-squares") -> tuple[float, float]:
    """Return (slope, intercept): least squares of y on x, or `moments` (the line that gives x's values y's mean and
    spread: least squares shrinks the spread by the correlation)."""
    if how == "moments":
        slope = float(y.std() / x.std())
        return slope, float(y.mean() - slope * x.mean())
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ptc-docs", type=int, default=80, help="PTC articles to read (default 80)")
    parser.add_argument("--fit", choices=("least-squares", "moments"), default="least-squares",
                        help="how the lines are fitted (default least-squares)")
    parser.add_argument("--cache", type=Path, help="an .npz file keeping the pairs' values between runs")
    parser.add_argument("--write", action="store_true", help=f"write the fitted lines to {OUT.relative_to(REPO)}")
    args = parser.parse_args()
    if args.cache and args.cache.exists():
        rows = dict(np.load(args.cache))
    else:
        rows = {name: np.array(corpus_pairs(docs), np.float64).reshape(-1, 4)
                for name, docs in corpora(args.ptc_docs).items()}
        if args.cache:
            np.savez(args.cache, **rows)
    report, lines = {}, {}
    for col, what in ((0, "centred"), (1, "raw")):
        every = np.concatenate(list(rows.values()))
        slope, intercept = fit(every[:, col + 2], every[:, col], args.fit)
        lines[what] = {"slope": round(slope, 6), "intercept": round(intercept, 6)}
        fitted = np.abs(slope * every[:, col + 2] + intercept - every[:, col])
        held = []
        for name, r in rows.items():
            if not len(r):
                continue
            rest = np.concatenate([v for k, v in rows.items() if k != name])
            s, i = fit(rest[:, col + 2], rest[:, col], args.fit)
            err = np.abs(s * r[:, col + 2] + i - r[:, col])
            held.append(err)
            report[f"{what} {name} (held out) MAE"] = round(float(err.mean()), 4)
        held = np.concatenate(held)
        top = every[:, col] >= np.quantile(every[:, col], 0.9)
        report[f"{what} fit MAE"] = round(float(fitted.mean()), 4)
        report[f"{what} leave-one-corpus-out MAE"] = round(float(held.mean()), 4)
        report[f"{what} fit MAE, top tenth of e5 values"] = round(float(fitted[top].mean()), 4)
        report[f"{what} correlation"] = round(float(np.corrcoef(every[:, col + 2], every[:, col])[0, 1]), 4)
    report["pairs"] = {name: len(r) for name, r in rows.items()}
    print(json.dumps({"lines": lines, "report": report}, indent=1))
    if args.write:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps({**lines, "meta": {
            "what": "MiniLM lead-sentence similarity (top-three mean, centred or raw) of two English documents -> "
                    "multilingual-e5's, value = slope * minilm + intercept",
            "fitted_by": "training/multilingual/calibrate_story.py", "fit": args.fit, "ptc_docs": args.ptc_docs,
            **report}},
            indent=1) + "\n")
        print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
