"""Sentence embeddings from the packaged static model, computed with numpy alone (no torch).

The model (`models/embeddings/`) is a token-vector table distilled from all-MiniLM-L6-v2
with model2vec by `training/embeddings/build.py`: a sentence is the mean of its tokens'
rows, L2-normalised. It is fast enough to embed every sentence of a large corpus.
"""

from __future__ import annotations

import json
import threading
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import ModelError

MODEL_DIR = "models/embeddings"
_BATCH = 1024


class StaticEmbedder:
    """A static sentence-embedding model: tokenizer plus one vector per token."""

    def __init__(self, folder: Path | None = None):
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelError("sentence embeddings need the `tokenizers` package: pip install -e . installs it") from exc
        where = folder if folder is not None else resources.files("influence_atlas").joinpath(MODEL_DIR)
        try:
            self.meta = json.loads(where.joinpath("meta.json").read_text(encoding="utf-8"))
            with where.joinpath("vectors.npz").open("rb") as fh:
                data = np.load(fh, allow_pickle=False)
                vectors, scales = data["vectors"], data["scales"]
            self.tokenizer = Tokenizer.from_str(where.joinpath("tokenizer.json").read_text(encoding="utf-8"))
        except Exception as exc:  # numpy, json and tokenizers each raise their own types for a damaged file
            raise ModelError(f"embedding model in {where} cannot be read ({exc}); reinstall influence-atlas "
                             "(pip install -e .) or rebuild it with training/embeddings/build.py") from exc
        self.vectors = vectors.astype(np.float32) * scales.astype(np.float32)[:, None]
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.max_tokens = int(self.meta.get("max_tokens", 512))
        self.unk = self.tokenizer.token_to_id("[UNK]")
        self.dims = int(self.vectors.shape[1])

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return one L2-normalised float32 row per text (zeros for a text without known tokens)."""
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for start in range(0, len(texts), _BATCH):
            batch = list(texts[start : start + _BATCH])
            for k, enc in enumerate(self.tokenizer.encode_batch(batch, add_special_tokens=False)):
                ids = [i for i in enc.ids[: self.max_tokens] if i != self.unk]
                if ids:
                    out[start + k] = self.vectors[ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


_cache: dict[str, StaticEmbedder] = {}
_lock = threading.Lock()


def load_embedder(path: str | Path | None = None) -> StaticEmbedder:
    """Return the static embedding model (the packaged one unless `path` names another model folder), loaded once."""
    key = str(path) if path else ""
    with _lock:
        if key not in _cache:
            _cache[key] = StaticEmbedder(Path(path) if path else None)
        return _cache[key]


def embed_sentences(texts: list[str]) -> np.ndarray:
    """Return L2-normalised embeddings of texts from the packaged static model (rows align with texts)."""
    return load_embedder().embed(texts)
