"""Train the claim head and choose its one threshold by cross-validation by document on the development set.

Run from the repository root in the project venv (numpy only, no torch, no scikit-learn):

    .venv/bin/python training/checkworthiness/claim_head.py            # CV report + write models/checkworthiness/claim_head.json
    .venv/bin/python training/checkworthiness/claim_head.py --dry-run  # CV report only

The development set is the 28 documents of ../shared/corpus/dev plus the three seeds. A sentence is
a positive example when it covers a gold claim the way ../shared/tools/score_gold.py matches them
(the sentence holds at least 0.6 of the gold evidence's words). The head is an L2-regularised
logistic regression over the claim stage's cheap features (extract/claims.py FEATURES) and the
shared MiniLM sentence vector. Out-of-fold scores come from leave-one-document-out; the threshold
is the lowest one whose out-of-fold system claims stay within MAX_RATIO claims per gold claim over
the set, and the CV figures printed (and stored in the model file) are those out-of-fold figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pickle
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "src"))

from influence_atlas.extract import claims as cl  # noqa: E402
from influence_atlas.extract.checkworthiness import score_sentences  # noqa: E402
from influence_atlas.extract.encoder import encode_sentences  # noqa: E402
from influence_atlas.ontology import load_actor_catalog  # noqa: E402
from influence_atlas.ontology.lexicons import load_voice_cues  # noqa: E402

SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
OUT = REPO / "src" / "influence_atlas" / "models" / "checkworthiness" / "claim_head.json"
CACHE = Path(os.environ.get("ATLAS_CLAIM_HEAD_CACHE", "/tmp/atlas-claim-head.pkl"))  # parsed documents, not scores
L2 = 1.0            # inverse regularisation strength, as scikit-learn's C
VECTOR_WEIGHT = 2.0  # the sentence vector's scale next to the standardised features
MAX_RATIO = 1.45     # system claims per gold claim over the set (the acceptance bound is 1.5)


def _scorer_tokens():
    spec = importlib.util.spec_from_file_location("score_gold", SHARED / "tools" / "score_gold.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.tokens


def documents() -> list[dict]:
    """Return the development documents analysed up to the claim stage: text, sentences, mentions, language, gold."""
    if CACHE.is_file():
        return pickle.loads(CACHE.read_bytes())
    from influence_atlas.extract.actors import link_actors
    from influence_atlas.nlp import parse
    from influence_atlas.pipeline import ANALYSIS_NEEDS, _sentence_spans, build_document
    from influence_atlas.text.readers import Source, read_sources

    catalog = load_actor_catalog()
    paths = sorted((CORPUS / "dev" / "docs").glob("*.txt")) + sorted((CORPUS / "seeds").glob("*.txt"))
    out = []
    for path in paths:
        gold = CORPUS / "dev" / "gold" / (path.stem + ".json")
        gold = gold if gold.is_file() else CORPUS / "gold" / (path.stem + ".json")
        doc = build_document(next(s for s in read_sources(path) if isinstance(s, Source)))
        entities, sentences = [], []
        for offset, sdoc in parse(doc.text, doc.language, ANALYSIS_NEEDS):
            entities.extend((offset + e.start_char, offset + e.end_char, e.label_) for e in sdoc.ents
                            if not all(t.is_stop or t.is_punct for t in e))
            sentences.extend(_sentence_spans(doc.text, offset, sdoc))
        mentions, _ = link_actors(doc.id, doc.text, entities, catalog)
        out.append({"name": path.name, "id": doc.id, "text": doc.text, "language": doc.language, "sentences": sentences,
                    "mentions": mentions, "gold": json.loads(gold.read_text(encoding="utf-8"))["claims"]})
        print(f"  {path.name}: {len(sentences)} sentences", file=sys.stderr)
    CACHE.write_bytes(pickle.dumps(out))
    return out


def examples(docs: list[dict]):
    """Return (features, vectors, rows) for every candidate sentence; a row is (doc index, start, end)."""
    catalog = load_actor_catalog()
    kinds = {e.name: e.kind for e in catalog.entries}
    cues = load_voice_cues()
    feats, texts, rows = [], [], []
    for i, d in enumerate(docs):
        text, sentences = d["text"], d["sentences"]
        keep = [j for j, (s, e) in enumerate(sentences) if text[s:e].strip() and not cl._is_question(text[s:e])
                and not cl._repeats_later(j, text, sentences)]
        spans = [sentences[j] for j in keep]
        scores = score_sentences([text[s:e] for s, e in spans], d["language"])
        atts = cl._attributions(text, spans, d["mentions"], kinds, d["language"], cues)
        feats += cl.statement_features(text, spans, d["mentions"], scores, atts, d["language"], cues)
        texts += [text[s:e] for s, e in spans]
        rows += [(i, s, e) for s, e in spans]
    return np.asarray(feats, np.float64), encode_sentences(texts).astype(np.float64), rows


def fit(x: np.ndarray, y: np.ndarray, c: float = L2, steps: int = 25) -> tuple[np.ndarray, float]:
    """Return (weights, intercept) of an L2-regularised logistic regression fitted by Newton's method."""
    z = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], 1.0 / c)
    penalty[-1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w)))
        grad = z.T @ (p - y) + penalty * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return w[:-1], float(w[-1])


def design(feats: np.ndarray, vectors: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.hstack([(feats - mean) / scale, VECTOR_WEIGHT * vectors])


def standardise(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = feats.std(0)
    scale[scale == 0] = 1.0
    return feats.mean(0), scale


def claim_figures(docs, rows, probabilities, threshold, tokens, which=None) -> dict:
    """Return recall over gold claims and system claims per gold claim, at a threshold, for some documents."""
    picked: dict[int, list[str]] = {}
    for (i, s, e), p in zip(rows, probabilities):
        if p >= threshold:
            picked.setdefault(i, []).append(docs[i]["text"][s:e])
    found = total = emitted = 0
    for i, d in enumerate(docs):
        if which and not which(d):
            continue
        emitted += len(picked.get(i, []))
        for g in d["gold"]:
            gt = tokens(g["evidence"])
            total += 1
            found += any(gt and len(gt & tokens(t)) / len(gt) >= 0.6 for t in picked.get(i, []))
    return {"recall": round(found / total, 3) if total else 0.0, "ratio": round(emitted / total, 3) if total else 0.0,
            "claims": emitted, "gold": total}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="print the cross-validated figures without writing the model")
    args = ap.parse_args()
    tokens = _scorer_tokens()
    docs = documents()
    feats, vectors, rows = examples(docs)
    y = np.array([any((gt := tokens(g["evidence"])) and len(gt & tokens(docs[i]["text"][s:e])) / len(gt) >= 0.6
                      for g in docs[i]["gold"]) for i, s, e in rows], np.float64)
    doc_of = np.array([r[0] for r in rows])
    oof = np.zeros(len(rows))
    for i in range(len(docs)):
        test = doc_of == i
        mean, scale = standardise(feats[~test])
        w, b = fit(design(feats[~test], vectors[~test], mean, scale), y[~test])
        oof[test] = 1 / (1 + np.exp(-(design(feats[test], vectors[test], mean, scale) @ w + b)))
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    within = [t for t in grid if claim_figures(docs, rows, oof, t, tokens)["ratio"] <= MAX_RATIO]
    threshold = float(min(within)) if within else 0.5
    groups = {"all": None, "dev28": lambda d: not d["name"][:3].isdigit(), "seeds": lambda d: d["name"][:3].isdigit(),
              "en": lambda d: d["language"] == "en", "fr": lambda d: d["language"] == "fr"}
    cv = {name: claim_figures(docs, rows, oof, threshold, tokens, which) for name, which in groups.items()}
    print(json.dumps({"threshold": threshold, "sentences": len(rows), "positives": int(y.sum()), "cv_leave_one_document_out": cv}, indent=1))
    if args.dry_run:
        return
    mean, scale = standardise(feats)
    w, b = fit(design(feats, vectors, mean, scale), y)
    fitted = 1 / (1 + np.exp(-(design(feats, vectors, mean, scale) @ w + b)))
    head = {"features": list(cl.FEATURES), "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
            "vector_weight": VECTOR_WEIGHT, "coef": w.round(6).tolist(), "intercept": round(b, 6), "threshold": threshold,
            "trained_on": "28 documents of ../shared/corpus/dev + the 3 seeds; a sentence is positive when it covers a gold claim",
            "cv_leave_one_document_out": cv, "fit_on_all": claim_figures(docs, rows, fitted, threshold, tokens)}
    OUT.write_text(json.dumps(head) + "\n", encoding="utf-8")
    print(json.dumps({"written": str(OUT), "fit_on_all": head["fit_on_all"]}))


if __name__ == "__main__":
    main()
