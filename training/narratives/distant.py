#!/usr/bin/env python3
"""Sentence scorers learned from the taxonomy's own cues on unlabelled news (distant supervision): held-out figures.

The cue patterns of `ontology/narratives.yaml` are precise but literal: of the narratives the presence head misses, most
have no cue match anywhere in the document. This script matches the English cues (with their `about` words; no actors
are linked here) on every sentence of two unlabelled English news corpora in `../shared/data` (SemEval-2025 Task 10's
and the Propaganda Techniques Corpus's articles), takes a sentence with a match as a positive of that narrative and the
sentences without any match as negatives, and fits per narrative with at least `--min-positives` positives a
class-balanced L2 logistic regression over the sentences' MiniLM rows (the rows `extract/narratives.py` already
computes, so no extra encoder pass at run time). A narrative's feature on a document is the mean of its scorer's
probability over the TOP_SENTENCES highest-scoring compared sentences (or the highest, or either relative to the
other narratives' median); the script prints leave-one-document-out figures on the development set (heads and
threshold refitted in each fold, as `train_heads.py` does) and the cross-source set held out, with and without it.
Nothing of the development set trains the scorers, except with `--in-domain`, where the cue matches of the other
development documents join the positives inside each fold.

    .venv/bin/python training/narratives/distant.py --db /tmp/narratives-dev/atlas.db --cross /tmp/narratives-cross/atlas.db \
        [--vectors /tmp/distant-vecs.npz] [--in-domain any --l2 10]
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_heads as th  # noqa: E402
from semeval_head import DOCS as SEMEVAL_DOCS  # noqa: E402

from influence_atlas.extract import narratives as nx  # noqa: E402
from influence_atlas.extract.encoder import encode_sentences  # noqa: E402
from influence_atlas.ontology.narratives import load_taxonomy  # noqa: E402
from influence_atlas.text.sentences import rough_sentences  # noqa: E402

PTC_DOCS = th.ROOT.parent / "shared" / "data" / "ptc2020" / "articles"
FEATURES = ("top", "max", "top_rel", "max_rel")


def corpus_sentences() -> list[tuple[str, str]]:
    """Return (sentence, previous sentence) for every compared sentence (at least MIN_WORDS words) of the two corpora."""
    out = []
    for folder in (SEMEVAL_DOCS, PTC_DOCS):
        for path in sorted(folder.glob("*.txt")):
            text = path.read_text(encoding="utf-8", errors="replace")
            prev = ""
            for s, e in rough_sentences(text):
                sentence = text[s:e].strip()
                if len(sentence.split()) >= nx.MIN_WORDS:
                    out.append((sentence, prev))
                prev = sentence
    return out


def cue_labels(tax, sentences: list[tuple[str, str]], about: bool = True) -> np.ndarray:
    """Return sentences x narratives: whether an English cue of the narrative matches the sentence (with `about`, its
    `about` words in the sentence or the one before, as `narratives._sentence_hits` asks, without linked actors)."""
    y = np.zeros((len(sentences), len(tax.narratives)), bool)
    for j, n in enumerate(tax.narratives):
        patterns = n.cues.get("en", ())
        for i, (sentence, prev) in enumerate(sentences):
            if any(p.search(sentence) for p in patterns) and (not about or nx._about(n, set(), sentence + " " + prev)):
                y[i, j] = True
    return y


def fit_scorers(x: np.ndarray, y: np.ndarray, min_positives: int, l2: float) -> dict[int, np.ndarray]:
    """Return per narrative column with enough positives its logistic weights (bias last); negatives are the sentences
    without any cue match, so one narrative's positives are never another's negatives."""
    none = ~y.any(axis=1)
    out = {}
    for j in range(y.shape[1]):
        if y[:, j].sum() >= min_positives:
            rows = y[:, j] | none
            out[j] = nx._fit_logistic(x[rows], y[rows, j].astype(float), l2)
    return out


def document_feature(vecs: np.ndarray, scorers: dict[int, np.ndarray], k: int, kind: str) -> np.ndarray:
    """Return per narrative the scorers' evidence on one document's sentence rows (0 for narratives without a scorer)."""
    out = np.zeros(k, np.float32)
    if not len(vecs) or not scorers:
        return out
    cols = sorted(scorers)
    p = nx._sigmoid(np.hstack([vecs, np.ones((len(vecs), 1), vecs.dtype)]) @ np.stack([scorers[j] for j in cols], axis=1))
    top = min(nx.TOP_SENTENCES, len(vecs))
    value = p.max(axis=0) if kind.startswith("max") else np.sort(p, axis=0)[-top:].mean(axis=0)
    if kind.endswith("rel"):
        value = value - np.median(value)
    out[cols] = value
    return out


def collect(db: str, tax) -> list[dict]:
    """Return per gold document of the database its features, gold pairs and compared sentences' MiniLM rows."""
    rows = []
    for d, g, feats, compared in th.gold_documents(db, tax):
        texts = [d.text[s:e] for s, e in compared]
        rows.append({"name": d.name, "lang": g["language"], "pairs": g["pairs"], "feats": feats,
                     "vecs": encode_sentences(texts), "sentences": list(zip(texts, [""] + texts[:-1]))})
    return rows


def with_feature(row: dict, scorers, kind: str | None) -> nx.DocumentFeatures:
    feats = copy.copy(row["feats"])
    if kind:
        extra = document_feature(row["vecs"], scorers, len(feats.narratives), kind)
        feats.presence = np.hstack([feats.presence[:, :-1], extra[:, None], feats.presence[:, -1:]]).astype(np.float32)
    return feats


def nested(dev: list[dict], variants: dict[str, list]) -> list[set]:
    """Return the held-out predictions when each fold takes the variant (one of `variants`: name -> feature rows per
    document) whose heads fit its other documents best, and print how often each was taken."""
    pred, chosen = [], []
    for k in range(len(dev)):
        best = None
        for name, feats in variants.items():
            train = [(f, r["pairs"]) for i, (f, r) in enumerate(zip(feats, dev)) if i != k]
            wp, wm = th.fit(train)
            t = th.best_threshold(wp, wm, train)
            score = th.f1([th.predict(wp, wm, t, f) for f, _ in train], [g for _, g in train])[2]
            if best is None or score > best[0]:
                best = (score, name, th.predict(wp, wm, t, feats[k]))
        chosen.append(best[1])
        pred.append(best[2])
    print("  taken per fold:", dict(sorted(Counter(chosen).items())))
    return pred


def in_domain(dev: list[dict], cross: list[dict], tax, x: np.ndarray, y: np.ndarray, about: bool, l2: float,
              min_positives: int) -> None:
    """Print the figures when the cue-matched sentences of the other development documents join the corpora's inside
    each fold (the scorers refitted per fold; the cross-source set's scorers use all 31 documents)."""
    own = [cue_labels(tax, r["sentences"], about) for r in dev]
    print("development sentences cue-matched: " + ", ".join(f"{n.id} {int(sum(v[:, j].sum() for v in own))}"
                                                           for j, n in enumerate(tax.narratives)))
    kinds = FEATURES[:3]
    pred: dict[str, list] = {kind: [] for kind in kinds}
    for k in range(len(dev) + 1):
        others = [i for i in range(len(dev)) if i != k]
        scorers = fit_scorers(np.vstack([x] + [dev[i]["vecs"] for i in others]), np.vstack([y] + [own[i] for i in others]),
                              min_positives, l2)
        for kind in kinds:
            items = [(with_feature(r, scorers, kind), r["pairs"]) for r in dev]
            train = [items[i] for i in others]
            wp, wm = th.fit(train)
            t = th.best_threshold(wp, wm, train)
            if k < len(dev):
                pred[kind].append(th.predict(wp, wm, t, items[k][0]))
            else:
                figures = th.split_figures(pred[kind], [r["pairs"] for r in dev], [(r["name"], r["lang"]) for r in dev])
                if cross:
                    figures.append("cross %.3f" % th.f1([th.predict(wp, wm, t, with_feature(r, scorers, kind)) for r in cross],
                                                        [r["pairs"] for r in cross])[2])
                print(f"{'about' if about else 'any'} L2 {l2:g} {kind} + development matches: " + " | ".join(figures), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    th.database_arguments(ap, vectors=True)
    ap.add_argument("--min-positives", type=int, default=10)
    ap.add_argument("--l2", default="1,10,30,100", help="comma-separated L2 strengths to compare")
    ap.add_argument("--in-domain", choices=("about", "any"), default=None,
                    help="only compare, at the first --l2 value, scorers that also learn from the other development documents' "
                         "cue matches (with or without the about words); about 40 CPU-s a fold")
    a = ap.parse_args()
    tax = load_taxonomy()
    encoder = th.memoised_encoder(a.vectors)
    sentences = corpus_sentences()
    x = encode_sentences([s for s, _ in sentences])
    th.keep_vectors(a.vectors, encoder)
    dev = collect(a.db, tax)
    cross = collect(a.cross, tax) if a.cross else []
    names = [(r["name"], r["lang"]) for r in dev]
    if a.in_domain:
        about = a.in_domain == "about"
        in_domain(dev, cross, tax, x, cue_labels(tax, sentences, about), about, float(a.l2.split(",")[0]), a.min_positives)
        return
    variants: dict[str, list] = {"without": [r["feats"] for r in dev]}
    cross_variants: dict[str, list] = {"without": [r["feats"] for r in cross]}
    for about in (True, False):
        y = cue_labels(tax, sentences, about)
        print(f"{len(sentences)} corpus sentences, cue-matched{'' if about else ' (about words not asked)'}: "
              + ", ".join(f"{n.id} {int(y[:, j].sum())}" for j, n in enumerate(tax.narratives)))
        for l2 in [float(v) for v in a.l2.split(",")]:
            scorers = fit_scorers(x, y, a.min_positives, l2)
            for kind in FEATURES:
                name = f"{'about' if about else 'any'} L2 {l2:g} {kind}"
                variants[name] = [with_feature(r, scorers, kind) for r in dev]
                cross_variants[name] = [with_feature(r, scorers, kind) for r in cross]
    golds = [r["pairs"] for r in dev]
    for name, feats in variants.items():
        items = list(zip(feats, golds))
        parts = th.split_figures(th.lodo(items), golds, names)
        if cross:
            wp, wm = th.fit(items)
            t = th.best_threshold(wp, wm, items)
            parts.append("cross %.3f" % th.f1([th.predict(wp, wm, t, f) for f in cross_variants[name]], [r["pairs"] for r in cross])[2])
        print(f"{name:24s} " + " | ".join(parts), flush=True)
    print("nested: the variant (or none) whose heads fit the other documents best, chosen inside each fold")
    print("  " + " | ".join(th.split_figures(nested(dev, variants), golds, names)))


if __name__ == "__main__":
    main()
