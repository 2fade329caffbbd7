#!/usr/bin/env python3
"""The multilingual encoder (multilingual-e5-small) as the presence head's meaning view on every document: held-out figures.

The shipped presence head reads four similarities of the document's sentences to each narrative's name, description
and examples in MiniLM's space (English-only). This script encodes the same compared sentences and prototypes with
multilingual-e5-small (`extract/multilingual.py`), computes the same four similarities there (closest sentence, mean
of the TOP_SENTENCES closest, the latter relative to the other narratives, the document vector relative to the other
narratives) and compares, under leave-one-document-out on the development set (heads and threshold refitted on the
other documents, as `train_heads.py` does) and on the cross-source set held out, the ways of letting them in: in place
of MiniLM's, added to them, or only the relative ones added.

    .venv/bin/python training/narratives/e5_view.py --db /tmp/narratives-dev/atlas.db --cross /tmp/narratives-cross/atlas.db
"""

from __future__ import annotations

import argparse
import copy
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_heads as th  # noqa: E402

from influence_atlas.extract import narratives as nx  # noqa: E402
from influence_atlas.extract.multilingual import encode_multilingual, load_multilingual  # noqa: E402
from influence_atlas.ontology.narratives import load_taxonomy  # noqa: E402

SIMS = ("sim_max", "sim_top", "sim_top_rel", "doc_sim_rel")


def e5_prototypes(tax, queries: bool = False) -> list[np.ndarray]:
    """Return per narrative its prototype texts' e5 vectors (the same texts as `narratives._prototypes`): e5 "passage"
    rows like the sentences', or with `queries` e5 "query" rows (the model's asymmetric retrieval setting)."""
    out = []
    for n in tax.narratives:
        family = [n, *tax.children(n.id)]
        texts = [f"{m.name}. {m.description}".strip() for m in family]
        texts += [t for m in family for ts in m.examples.values() for t in ts]
        if queries:
            v = np.asarray(load_multilingual().model.query(texts), np.float32).reshape(len(texts), -1)
            out.append(v / np.linalg.norm(v, axis=1, keepdims=True))
        else:
            out.append(encode_multilingual(texts))
    return out


def view(vecs: np.ndarray, protos: list[np.ndarray], top: int = nx.TOP_SENTENCES) -> np.ndarray:
    """Return the four similarity features (narratives x 4) of one document's sentence rows against the prototypes."""
    k = len(protos)
    if not len(vecs):
        return np.zeros((k, 4), np.float32)
    sims = np.stack([(vecs @ p.T).max(axis=1) for p in protos], axis=1)
    doc = vecs.mean(axis=0)
    doc /= np.linalg.norm(doc) or 1.0
    doc_sims = np.array([(p @ doc).max() for p in protos])
    t = np.sort(sims, axis=0)[-min(top, len(sims)):].mean(axis=0)
    return np.stack([sims.max(axis=0), t, t - np.median(t), doc_sims - np.median(doc_sims)], axis=1).astype(np.float32)


def collect(db: str, tax) -> list[dict]:
    """Return per gold document the shipped features and the e5 rows of its compared sentences, with the e5 pass's CPU."""
    rows = []
    for d, g, feats, compared in th.gold_documents(db, tax):
        t0 = time.process_time()
        vecs = encode_multilingual([d.text[s:e] for s, e in compared])
        rows.append({"name": d.name, "lang": g["language"], "pairs": g["pairs"], "feats": feats, "vecs": vecs,
                     "sentences": len(compared), "cpu_e5": time.process_time() - t0})
    return rows


def variant(row: dict, name: str, protos) -> nx.DocumentFeatures:
    """Return the document's features with the e5 view let in as `name` says."""
    feats = copy.copy(row["feats"])
    p = feats.presence.copy()
    col = {f: j for j, f in enumerate(nx.PRESENCE_FEATURES)}
    e5 = view(row["vecs"], protos)
    lang = row["lang"]
    extra = None
    if name == "replace":
        for j, f in enumerate(SIMS):
            p[:, col[f]] = e5[:, j]
    elif name == "replace_fr":
        if lang != "en":
            for j, f in enumerate(SIMS):
                p[:, col[f]] = e5[:, j]
    elif name == "add_all":
        extra = e5
    elif name == "add_rel":
        extra = e5[:, [2, 3]]
    elif name == "add_top_rel":
        extra = e5[:, [2]]
    elif name == "add_doc_rel":
        extra = e5[:, [3]]
    elif name == "replace_rel_keep_minilm_raw":
        p[:, col["sim_top_rel"]], p[:, col["doc_sim_rel"]] = e5[:, 2], e5[:, 3]
    elif name in ("no_cue_minilm", "no_cue_e5"):
        # the similarities again, on the rows without any cue vote only (their own weights where the cues say nothing)
        none = (p[:, col["cue_endorsed"]] + p[:, col["cue_reported"]] == 0)[:, None]
        sims = p[:, [col[f] for f in SIMS]] if name == "no_cue_minilm" else e5
        extra = sims * none
    if extra is not None:
        p = np.hstack([p[:, :-1], extra.astype(np.float32), p[:, -1:]])
    feats.presence = p.astype(np.float32)
    return feats


VARIANTS = ("shipped", "replace", "replace_fr", "add_all", "add_rel", "add_top_rel", "add_doc_rel", "replace_rel_keep_minilm_raw",
            "no_cue_minilm", "no_cue_e5")


def evaluate(dev: list[dict], cross: list[dict], name: str, protos) -> str:
    items = [(variant(r, name, protos), r["pairs"]) for r in dev]
    pred, golds = th.lodo(items), [g for _, g in items]
    parts = th.split_figures(pred, golds, [(r["name"], r["lang"]) for r in dev])
    if cross:
        wp, wm = th.fit(items)
        t = th.best_threshold(wp, wm, items)
        parts.append("cross %.3f" % th.f1([th.predict(wp, wm, t, variant(r, name, protos)) for r in cross], [r["pairs"] for r in cross])[2])
    return f"{name:30s} " + " | ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    th.database_arguments(ap)
    ap.add_argument("--cache", default=None, help="pickle file to keep the collected rows in and reuse")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated variants to score")
    ap.add_argument("--queries", action="store_true", help="encode the prototypes as e5 queries, not passages")
    a = ap.parse_args()
    tax = load_taxonomy()
    protos = e5_prototypes(tax, a.queries)
    kept = pickle.loads(Path(a.cache).read_bytes()) if a.cache and Path(a.cache).exists() else {}
    for key, db in (("dev", a.db), ("cross", a.cross)):
        if db and key not in kept:
            kept[key] = collect(db, tax)
    if a.cache:
        Path(a.cache).write_bytes(pickle.dumps(kept))
    dev, cross = kept["dev"], kept.get("cross", []) if a.cross else []
    print(f"{len(dev)} development documents, {len(cross)} cross-source documents; e5 over "
          f"{sum(r['sentences'] for r in dev)} development sentences: {sum(r['cpu_e5'] for r in dev):.1f} CPU-s")
    for name in a.variants.split(","):
        print(evaluate(dev, cross, name, protos), flush=True)


if __name__ == "__main__":
    main()
