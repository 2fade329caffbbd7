#!/usr/bin/env python3
"""Train the narrative presence and mode heads on the development set, with leave-one-document-out figures.

The development set (`../shared/corpus/dev` + the seeds) must first be ingested and analysed into a
database, e.g. by `scripts/score_devset.py --work /tmp/narratives-dev`. For every document and narrative of
the packaged taxonomy the features of `extract/narratives.py` are computed; the presence head (is the
narrative in the document, in either mode) and the mode head (endorsed rather than reported, fitted on the
present narratives the side rule leaves to it) are class-balanced logistic regressions. The presence threshold is chosen inside each
leave-one-document-out fold on the other documents, so the printed figures are cross-validated; the shipped
heads are then fitted on all documents with the threshold chosen over all folds.

    .venv/bin/python training/narratives/train_heads.py --db /tmp/narratives-dev/atlas.db
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections import Counter
from pathlib import Path

import numpy as np

from influence_atlas.extract import narratives as nx
from influence_atlas.extract import encoder as encoder_module
from influence_atlas.extract.encoder import load_encoder
from influence_atlas.ontology.narratives import load_taxonomy
from influence_atlas.pipeline import document_sentences
from influence_atlas.store import open_store

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
OUT = ROOT / "src" / "influence_atlas" / nx.HEADS_FILE
L2 = 0.01
MODE_L2 = 1.0
THRESHOLDS = [round(t, 2) for t in np.arange(0.3, 0.91, 0.025)]
# A narrative with one cue vote or more, all of them in others' words, is reported whatever its side (a fixed rule
# from the definition of the modes, not tuned: choosing it inside each fold among 0.5, 0.75, 1.0 and off scored lower).
REPORTED_CUES_MIN = nx.CUE_SCORE


def gold_pairs() -> dict[str, dict]:
    out = {}
    for path in sorted((CORPUS / "dev" / "gold").glob("*.json")) + sorted((CORPUS / "gold").glob("0*.json")):
        g = json.loads(path.read_text())
        out[g["doc"]] = {"language": g.get("language", "en"), "pairs": {(n, m) for m in ("endorsed", "reported") for n in g["narratives"][m]}}
    return out


def gold_from(folder: Path) -> dict[str, dict]:
    """Return per document of a gold folder its (narrative, mode) pairs and language."""
    out = {}
    for path in sorted(folder.glob("*.json")):
        g = json.loads(path.read_text(encoding="utf-8"))
        if "doc" in g and "narratives" in g:
            out[g["doc"]] = {"language": g.get("language", "en"),
                             "pairs": {(n, m) for m in ("endorsed", "reported") for n in g["narratives"][m]}}
    return out


def gold_documents(db: str, tax):
    """Yield, per document of the analysed database that has gold (in the 'gold' folder beside it): the document, its
    gold entry (`gold_from`), its narrative features and the spans of the sentences the stage compares."""
    gold = gold_from(Path(db).parent / "gold")
    store = open_store(db)
    for doc in store.documents():
        if doc.name in gold:
            spans = document_sentences(doc)
            compared = [(s, e) for s, e in spans if len(doc.text[s:e].split()) >= nx.MIN_WORDS] or spans
            yield doc, gold[doc.name], nx.narrative_features(doc.text, spans, store.mentions(doc.id), doc.language, tax,
                                                          store.stances(doc.id)), compared


def database_arguments(ap: argparse.ArgumentParser, cross_required: bool = False, vectors: bool = False) -> None:
    """Add the experiment scripts' common options: the analysed development-set and cross-source databases, and the
    file that keeps the encoder's sentence vectors."""
    ap.add_argument("--db", required=True, help="analysed development-set database")
    ap.add_argument("--cross", required=cross_required, default=None,
                    help="analysed cross-source database (gold in the 'gold' folder beside it), held out")
    if vectors:
        ap.add_argument("--vectors", default=None, help="keep the encoder's sentence vectors in this .npz file and reuse them")


def memoised_encoder(vectors: str | None):
    """Return the shared encoder with its memo unbounded and filled from `vectors` (an .npz of texts and vectors) if it exists."""
    encoder_module._MEMO_SIZE = 10**6  # every sentence stays memoised for keep_vectors
    encoder = load_encoder()
    if vectors and Path(vectors).exists():
        with np.load(vectors, allow_pickle=False) as z:
            for text, vec in zip(z["texts"].tolist(), z["vectors"]):
                encoder._memo[text] = vec
    return encoder


def keep_vectors(vectors: str | None, encoder) -> None:
    """Write the encoder's memoised sentence vectors to `vectors` (nothing when None), for reruns without the encoder."""
    if vectors:
        np.savez(vectors, texts=np.array(list(encoder._memo)), vectors=np.stack(list(encoder._memo.values())))


def f1(system: list[set], gold: list[set]) -> tuple[float, float, float]:
    tp = sum(len(s & g) for s, g in zip(system, gold))
    ns, ng = sum(map(len, system)), sum(map(len, gold))
    p = tp / ns if ns else 0.0
    r = tp / ng if ng else 0.0
    return round(p, 3), round(r, 3), round(2 * p * r / (p + r) if p + r else 0.0, 3)


def split_figures(pred: list[set], golds: list[set], docs: list[tuple[str, str]]) -> list[str]:
    """Return the held-out figures as printed: "all P/R/F1", then F1 on the 28 dev documents (the seeds' names start
    with three digits), English and French; `docs` gives each document's (name, language) in the order of `pred`."""
    parts = []
    for label, keep in (("all", lambda n, lang: True), ("dev28", lambda n, lang: not n[:3].isdigit()),
                        ("en", lambda n, lang: lang == "en"), ("fr", lambda n, lang: lang == "fr")):
        idx = [k for k, (n, lang) in enumerate(docs) if keep(n, lang)]
        p, r, f = f1([pred[k] for k in idx], [golds[k] for k in idx])
        parts.append(f"{label} {p:.3f}/{r:.3f}/{f:.3f}" if label == "all" else f"{label} {f:.3f}")
    return parts


def predict_scores(pres_w, mode_w, feats, reported_min=REPORTED_CUES_MIN) -> tuple[np.ndarray, np.ndarray]:
    """Return per narrative the presence probability and the endorsement (`narratives.score_features`) under these heads."""
    return nx.score_features(feats, {"presence": {"weights": pres_w}, "mode": {"weights": mode_w, "reported_cues_min": reported_min}})


def predict(pres_w, mode_w, threshold, feats, reported_min=REPORTED_CUES_MIN) -> set:
    present, endorsed = predict_scores(pres_w, mode_w, feats, reported_min)
    return {(n, "endorsed" if endorsed[j] >= 0.5 else "reported") for j, n in enumerate(feats.narratives) if present[j] >= threshold}


def fit(items) -> tuple[np.ndarray, np.ndarray]:
    """Return the presence and mode weights (bias last); presence features are standardised, folded into the weights."""
    xp = np.vstack([f.presence for f, _ in items])
    yp = np.concatenate([[any(p[0] == n for p in pairs) for n in f.narratives] for f, pairs in items]).astype(float)
    mu, sd = xp[:, :-1].mean(axis=0), xp[:, :-1].std(axis=0) + 1e-6
    # The feature rows carry their own bias column; the fitted bias takes its place.
    w = nx._fit_logistic((xp[:, :-1] - mu) / sd, yp, L2)
    wp = np.append(w[:-1] / sd, w[-1] - float((w[:-1] * mu / sd).sum()))
    # The mode head decides only where the side rule does not (no side, or no leading side): it is fitted on those
    # present narratives alone, so the sided ones, which the rule settles, do not pull its weights.
    side = nx.MODE_FEATURES.index("same_side")
    rows = [(f.mode[j], (n, "endorsed") in pairs) for f, pairs in items for j, n in enumerate(f.narratives)
            if any(p[0] == n for p in pairs) and f.mode[j, side] == 0]
    xm = np.array([r for r, _ in rows], np.float32)
    ym = np.array([y for _, y in rows], float)
    wm = nx._fit_logistic(xm[:, :-1], ym, MODE_L2)
    return wp.astype(np.float32), wm.astype(np.float32)


def best_threshold(pres_w, mode_w, items) -> float:
    scored = [(f1([predict(pres_w, mode_w, t, f) for f, _ in items], [g for _, g in items])[2], -abs(t - 0.5), t) for t in THRESHOLDS]
    return max(scored)[2]


def lodo(items) -> list[set]:
    """Return the leave-one-document-out predictions (heads and threshold fitted on the other documents)."""
    out = []
    for k in range(len(items)):
        train = items[:k] + items[k + 1 :]
        wp, wm = fit(train)
        out.append(predict(wp, wm, best_threshold(wp, wm, train), items[k][0]))
    return out


def ceiling(items) -> str:
    """Return the best F1 any single presence threshold could reach on the pooled held-out probabilities (heads fitted
    on the other documents, threshold chosen after seeing the held-out answers: an upper bound for these features), for
    (narrative, mode) pairs and for presence alone."""
    rows = []
    for k in range(len(items)):
        wp, wm = fit(items[:k] + items[k + 1 :])
        f, pairs = items[k]
        present, endorsed = predict_scores(wp, wm, f)
        for j, n in enumerate(f.narratives):
            mode = "endorsed" if endorsed[j] >= 0.5 else "reported"
            rows.append((float(present[j]), (n, mode) in pairs, any(p[0] == n for p in pairs)))
    gold = sum(len(p) for _, p in items)
    present_gold = sum(len({n for n, _ in p}) for _, p in items)
    rows.sort(key=lambda r: -r[0])
    best_pairs = best_presence = (0.0, 0)
    right = found = 0
    for i, (_, pair, there) in enumerate(rows, 1):
        right += pair
        found += there
        best_pairs = max(best_pairs, (2 * right / (i + gold), i))
        best_presence = max(best_presence, (2 * found / (i + present_gold), i))
    return (f"best single threshold on the pooled held-out probabilities: pairs F1 {best_pairs[0]:.3f} ({best_pairs[1]} found), "
            f"presence alone F1 {best_presence[0]:.3f} ({best_presence[1]} found)")


def choose_top(store, tax, gold, tops: list[int]) -> None:
    """Print leave-one-document-out figures per number of closest sentences, and the nested figure: inside each fold
    the value whose heads fit the other 30 documents best is taken."""
    docs = [(doc, document_sentences(doc), store.mentions(doc.id), store.stances(doc.id)) for doc in store.documents() if doc.name in gold]
    names = [d.name for d, _, _, _ in docs]
    dev28 = [i for i, n in enumerate(names) if not n[:3].isdigit()]
    feats = {}
    for top in tops:
        nx.TOP_SENTENCES = top
        feats[top] = [(nx.narrative_features(d.text, s, m, d.language, tax, st), gold[d.name]["pairs"]) for d, s, m, st in docs]
        pred = lodo(feats[top])
        golds = [g for _, g in feats[top]]
        print(f"top {top}: leave-one-document-out all {f1(pred, golds)} dev28 {f1([pred[i] for i in dev28], [golds[i] for i in dev28])}")
    nested, chosen = [], []
    for k in range(len(docs)):
        best = None
        for top in tops:
            train = feats[top][:k] + feats[top][k + 1 :]
            wp, wm = fit(train)
            t = best_threshold(wp, wm, train)
            score = f1([predict(wp, wm, t, f) for f, _ in train], [g for _, g in train])[2]
            if best is None or score > best[0]:
                best = (score, top, predict(wp, wm, t, feats[top][k][0]))
        chosen.append(best[1])
        nested.append(best[2])
    golds = [g for _, g in feats[tops[0]]]
    for label, idx in (("all", range(len(docs))), ("dev28", dev28),
                       ("en", [i for i, n in enumerate(names) if gold[n]["language"] == "en"]),
                       ("fr", [i for i, n in enumerate(names) if gold[n]["language"] == "fr"])):
        print(f"nested {label:6s} P/R/F1 {f1([nested[i] for i in idx], [golds[i] for i in idx])}")
    print("chosen per fold", dict(sorted(Counter(chosen).items())))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="analysed development-set database")
    ap.add_argument("--cache", action="store_true", help="keep the features next to the database and reuse them")
    ap.add_argument("--dry-run", action="store_true", help="print the figures without writing the heads")
    ap.add_argument("--vectors", default=None, help="keep the encoder's sentence vectors in this .npz file and reuse them")
    ap.add_argument("--cross", default=None, metavar="DB",
                    help="analysed cross-source database (gold in the 'gold' folder beside it): also print its figures held out")
    ap.add_argument("--without", default="", metavar="FEATURE,...",
                    help="presence features set to 0 (to compare the heads with and without them on the same folds)")
    ap.add_argument("--choose-top", default=None, metavar="2,3,4,...",
                    help="compare these numbers of closest sentences (extract/narratives.py TOP_SENTENCES): leave-one-document-"
                         "out per value, and nested (the value chosen inside each fold by the other documents' fit); writes nothing")
    a = ap.parse_args()
    gold = gold_pairs()
    tax = load_taxonomy()
    unknown = [x for x in filter(None, a.without.split(",")) if x not in nx.PRESENCE_FEATURES[:-1]]
    if unknown:
        ap.error(f"--without: unknown feature(s) {', '.join(unknown)}; presence features: {', '.join(nx.PRESENCE_FEATURES[:-1])}")
    encoder = memoised_encoder(a.vectors)
    store = open_store(a.db)
    if a.choose_top:
        choose_top(store, tax, gold, [int(x) for x in a.choose_top.split(",")])
        return
    items, langs, names = [], [], []
    cache = Path(a.db).with_suffix(".features.pkl")
    if cache.exists() and a.cache:
        items, langs, names = pickle.loads(cache.read_bytes())
    for doc in ([] if items else store.documents()):
        if doc.name not in gold:
            continue
        feats = nx.narrative_features(doc.text, document_sentences(doc), store.mentions(doc.id), doc.language, tax,
                                      store.stances(doc.id))
        items.append((feats, gold[doc.name]["pairs"]))
        langs.append(gold[doc.name]["language"])
        names.append(doc.name)
    if a.cache:
        cache.write_bytes(pickle.dumps((items, langs, names)))
    cross = [(feats, g["pairs"]) for _, g, feats, _ in gold_documents(a.cross, tax)] if a.cross else []
    keep_vectors(a.vectors, encoder)
    for name in filter(None, a.without.split(",")):
        for f, _ in items + cross:
            f.presence[:, nx.PRESENCE_FEATURES.index(name)] = 0.0
    print(f"{len(items)} documents")
    cv_pred = lodo(items)
    golds = [g for _, g in items]
    figures = {}
    for label, keep in (("all", lambda i: True), ("dev28", lambda i: not names[i][:3].isdigit()),
                        ("en", lambda i: langs[i] == "en"), ("fr", lambda i: langs[i] == "fr")):
        idx = [i for i in range(len(items)) if keep(i)]
        figures[label] = dict(zip(("p", "r", "f1"), f1([cv_pred[i] for i in idx], [golds[i] for i in idx])))
        print(f"leave-one-document-out {label:6s} P/R/F1 {figures[label]}")
    print(ceiling(items))
    wp, wm = fit(items)
    t = best_threshold(wp, wm, items)
    print("presence weights", dict(zip(nx.PRESENCE_FEATURES, np.round(wp, 3).tolist())), "threshold", t)
    if cross:
        figures["cross"] = dict(zip(("p", "r", "f1"), f1([predict(wp, wm, t, f) for f, _ in cross], [g for _, g in cross])))
        print(f"cross-source set held out ({len(cross)} documents, heads fitted on the development set) P/R/F1 {figures['cross']}")
    print("mode weights", dict(zip(nx.MODE_FEATURES, np.round(wm, 3).tolist())))
    if a.dry_run:
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "about": "narrative presence and mode heads: logistic weights over extract/narratives.py features (last: bias); "
                 "trained by training/narratives/train_heads.py on the development set",
        "presence": {"features": list(nx.PRESENCE_FEATURES), "weights": [round(float(w), 5) for w in wp], "threshold": t},
        "mode": {"features": list(nx.MODE_FEATURES), "weights": [round(float(w), 5) for w in wm], "reported_cues_min": REPORTED_CUES_MIN},
        "cross_validation": {"scheme": "leave-one-document-out, threshold chosen within each fold", **figures},
    }, indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
