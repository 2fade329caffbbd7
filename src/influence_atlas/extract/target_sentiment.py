"""Sentiment toward a named target in one sentence: -1 hostile, 0 neutral, +1 favourable, learned on NewsMTSC.

MiniLM's top layers, fine-tuned by `training/stance/train.py`, read the int8 graph's hidden states where
those layers start (`encoder.encode_pieces`). A learned vector is added to the target's word pieces, so the
layers know whom the sentence is judged toward; the mean of all pieces and the mean of the target's
pieces feed a softmax over (-1, 0, +1). The weights are float16 numpy arrays in `models/stance/`. No torch at run
time: `TargetSentimentModel.forward` in numpy float32 matches the training script's torch module; the analysis loads
the model with `int8=True`, which runs the layers in ONNX Runtime with every weight product in int8, each word
piece's input quantised on its own largest magnitude (`encoder.bert_layer_nodes`, `per_row`), so that padding weighs
on no scale and the items go in batches of similar length (`encoder.length_batches`). On the stance readings of 30
PTC articles the two layers cost 1.5 -> 0.85 CPU-s against the feed-forward products alone in int8 on one scale per
batch (sorted batches of 32: 29,168 rows for 19,586 word pieces); NewsMTSC dev macro-F1 rw 0.7661 -> 0.7685, mt
0.7099 -> 0.7054 (8 of 785 readings differ); development stance sign 0.754 -> 0.762, MAE 0.387 -> 0.381, cross-source
MAE 0.433 -> 0.434, every other figure and every link the same (bench/README.md, session 11).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import InputError, ModelError
from .encoder import (ALL_WEIGHTS, PieceStates, bert_layer_session, encode_pieces, length_batches, loaded_once,
                      softmax)

MODEL = "models/stance/target_sentiment.npz"
LABELS = (-1, 0, 1)
HEADS = 12
_BATCH = 32
# The fine-tuned layers read the word pieces at most this far from the target's (plus [CLS] and [SEP]).
WINDOW = 32
_LAYER_KEYS = ("wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo", "g1", "b1", "wi", "bi", "wf", "bf", "g2", "b2")


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-12) * g + b


def _gelu(x: np.ndarray) -> np.ndarray:
    """Return GELU in the tanh form, as the training script computes it: 0.5·x·(1 + tanh(0.79788·(x + 0.044715·x³))).
    Written in place with x·x·x: numpy's `x ** 3` calls pow per element and cost about fifty times the rest of the
    expression (most of the stance stage's CPU); the values agree to float32 rounding."""
    y = x * x
    y *= 0.044715
    y += 1.0
    y *= x
    y *= 0.7978845608028654
    np.tanh(y, out=y)
    y += 1.0
    y *= x
    y *= 0.5
    return y


@dataclass(frozen=True, slots=True)
class TargetItem:
    """One sentence and the (start, end) characters of the target whose treatment is asked."""

    sentence: str
    start: int
    end: int


class TargetSentimentModel:
    """Fine-tuned top MiniLM layers, a target-marking vector and a three-way head (numpy, float32)."""

    def __init__(self, layers: list[dict[str, np.ndarray]], mark: np.ndarray, head_w: np.ndarray, head_b: np.ndarray,
                 cut: str, int8: bool = False):
        # Weights arrive in torch layout (out x in); keep the transposes for x @ W.
        self.layers = [{k: (v.T if k.startswith("w") else v).astype(np.float32) for k, v in w.items()} for w in layers]
        self.mark = mark.astype(np.float32)
        self.head_w = head_w.astype(np.float32)  # 3 x 2·dim
        self.head_b = head_b.astype(np.float32)
        self.cut = cut
        # With int8 the layers run in ONNX Runtime, every product by a weight in int8 per word piece
        # (`encoder.bert_layer_nodes`): the analysis's model; without, in numpy float32, the training script's arithmetic.
        self.int8 = int8
        self._session = None

    @classmethod
    def load(cls, path: Path | None = None, int8: bool = False) -> "TargetSentimentModel":
        """Read the weights written by the training script (the packaged model by default); `int8` as in __init__."""
        where = Path(path) if path is not None else resources.files("influence_atlas").joinpath(MODEL)
        try:
            with where.open("rb") as fh, np.load(fh, allow_pickle=False) as z:
                n = int(z["n_layers"][0])
                layers = [{k: z[f"l{i}.{k}"] for k in _LAYER_KEYS} for i in range(n)]
                return cls(layers, z["mark"], z["head_w"], z["head_b"], z["cut"].tobytes().decode(), int8=int8)
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"the stance model {where} cannot be read ({exc}); reinstall influence-atlas "
                             "(pip install -e .) or retrain it with training/stance/train.py") from exc

    def save(self, path: Path, **extra: np.ndarray) -> None:
        """Write float16 weights, the cut name and any extra arrays to one `.npz` file (no pickles)."""
        arrays = {f"l{i}.{k}": (v.T if k.startswith("w") else v).astype(np.float16)
                  for i, w in enumerate(self.layers) for k, v in w.items()}
        np.savez_compressed(path, **arrays, n_layers=np.array([len(self.layers)]), mark=self.mark.astype(np.float16),
                            head_w=self.head_w, head_b=self.head_b, cut=np.frombuffer(self.cut.encode(), dtype=np.uint8),
                            **extra)

    def forward(self, x: np.ndarray, mask: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Return logits (batch x 3) from cut states (batch x width x dim), the piece mask and the target mask."""
        b, n, d = x.shape
        h = HEADS
        if self.int8:
            return self._head(self._layers_int8(x + target[:, :, None] * self.mark, mask), mask, target)
        # Rows of all items side by side: one matrix product per weight instead of one per item.
        x = (x + target[:, :, None] * self.mark).reshape(b * n, d)
        bias = ((1.0 - mask) * -1e4)[:, None, None, :]
        for w in self.layers:
            q, k, v = (np.ascontiguousarray((x @ w[f"w{c}"] + w[f"b{c}"]).reshape(b, n, h, d // h).transpose(0, 2, 1, 3))
                       for c in "qkv")
            att = softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(d // h) + bias)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b * n, d)
            x = _layer_norm(ctx @ w["wo"] + w["bo"] + x, w["g1"], w["b1"])
            x = _layer_norm(_gelu(x @ w["wi"] + w["bi"]) @ w["wf"] + w["bf"] + x, w["g2"], w["b2"])
        return self._head(x.reshape(b, n, d), mask, target)

    def _head(self, x: np.ndarray, mask: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Return logits from the last layer's states: the head over the mean of the pieces and of the target's."""
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1.0)
        on_target = (x * target[:, :, None]).sum(1) / np.maximum(target.sum(1, keepdims=True), 1.0)
        return np.concatenate([pooled, on_target], axis=1) @ self.head_w.T + self.head_b

    def _layers_int8(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Return the fine-tuned layers' output states for marked states `x`, in ONNX Runtime with int8 weights and
        each word piece quantised on its own (the session built on first use)."""
        if self._session is None:
            layers = [{k: (v.T if k.startswith("w") else v) for k, v in w.items()} for w in self.layers]
            self._session = bert_layer_session(layers, int8=ALL_WEIGHTS, gelu="tanh", what="the stance model's layers",
                                               per_row=True)
        (hidden,) = self._session.run(None, {"states": np.ascontiguousarray(x, np.float32),
                                             "attention_mask": mask.astype(np.int64)})
        return hidden

    def probabilities(self, items: list[TargetItem], states: dict[str, PieceStates] | None = None) -> np.ndarray:
        """Return P(-1), P(0), P(+1) per item (rows align with `items`); a target outside the encoded pieces is neutral.
        `states` (sentence -> word-piece states) keeps the encoder's states across calls: a caller that reads one
        document in several calls encodes each sentence once."""
        out = np.tile(np.array([0.0, 1.0, 0.0], np.float32), (len(items), 1))
        if not items:
            return out
        states = {} if states is None else states
        texts = sorted({it.sentence for it in items} - states.keys())
        states.update(zip(texts, encode_pieces(texts, self.cut)))
        ready: list[tuple[int, PieceStates, np.ndarray]] = []
        for k, it in enumerate(items):
            ps = states[it.sentence]
            on = target_pieces(ps.offsets, it.start, it.end)
            if on.any():
                ready.append((k, *around_target(ps, on)))
        for rows in length_batches([len(ps.states) for _, ps, _ in ready], _BATCH):
            group = [ready[r] for r in rows]
            width = max(len(ps.states) for _, ps, _ in group)
            x = np.zeros((len(group), width, self.mark.shape[0]), np.float32)
            mask = np.zeros((len(group), width), np.float32)
            target = np.zeros((len(group), width), np.float32)
            for r, (_, ps, on) in enumerate(group):
                x[r, :len(ps.states)] = ps.states
                mask[r, :len(ps.states)] = 1.0
                target[r, 1:1 + len(on)] = on
            probs = softmax(self.forward(x, mask, target))
            for r, (k, _, _) in enumerate(group):
                out[k] = probs[r]
        return out


def around_target(ps: PieceStates, on: np.ndarray, window: int | None = None) -> tuple[PieceStates, np.ndarray]:
    """Return the states of [CLS], the word pieces within `window` (WINDOW by default) of the target's and [SEP], and
    the target mask over those pieces. The fine-tuned layers read this window only: the encoder's states below them
    already carry the whole sentence, and their cost grows with the width."""
    window = WINDOW if window is None else window
    idx = np.flatnonzero(on)
    lo, hi = max(0, int(idx[0]) - window), min(len(on), int(idx[-1]) + 1 + window)
    if lo == 0 and hi == len(on):
        return ps, on
    rows = np.r_[0, np.arange(1 + lo, 1 + hi), len(ps.states) - 1]
    return PieceStates(ps.states[rows], ps.offsets[lo:hi]), on[lo:hi]


def target_pieces(offsets: np.ndarray, start: int, end: int) -> np.ndarray:
    """Return 1.0 for each word piece overlapping characters [start, end), else 0.0."""
    if len(offsets) == 0:
        return np.zeros(0, np.float32)
    return ((offsets[:, 0] < end) & (offsets[:, 1] > start)).astype(np.float32)


_model = loaded_once(lambda: TargetSentimentModel.load(int8=True))


def load_target_model() -> TargetSentimentModel:
    """Return the packaged target-sentiment model, loaded once per process."""
    return _model()


def target_polarities(items: list[TargetItem]) -> list[int]:
    """Return -1, 0 or +1 per item: the most likely treatment of its target."""
    probs = load_target_model().probabilities(items)
    return [LABELS[int(i)] for i in probs.argmax(axis=1)]


def read_target_lines(path: str | Path) -> list[tuple[str, TargetItem]]:
    """Return (id, item) for each line of a NewsMTSC-format JSON-lines file (`sentence`, `from`, `to`, `id`)."""
    source = str(path)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(source, f"cannot be read ({exc})") from exc
    out: list[tuple[str, TargetItem]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{source}, line {n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(where, f"not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise InputError(where, "expected a JSON object with sentence, from, to and id")
        missing = [k for k in ("sentence", "from", "to", "id") if k not in row]
        if missing:
            raise InputError(where, f"missing field(s) {', '.join(missing)}")
        sentence, start, end = row["sentence"], row["from"], row["to"]
        if not isinstance(sentence, str):
            raise InputError(where, "`sentence` must be a string")
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
            raise InputError(where, "`from` and `to` must be integers (character offsets into `sentence`)")
        if not 0 <= start < end <= len(sentence):
            raise InputError(where, f"target span {start}..{end} lies outside the sentence ({len(sentence)} characters)")
        out.append((str(row["id"]), TargetItem(sentence, start, end)))
    return out


def score_target_file(path: str | Path) -> list[tuple[str, int]]:
    """Return (id, polarity -1/0/+1) for each line of a NewsMTSC-format file."""
    rows = read_target_lines(path)
    polarities = target_polarities([item for _, item in rows])
    return [(rid, p) for (rid, _), p in zip(rows, polarities)]
