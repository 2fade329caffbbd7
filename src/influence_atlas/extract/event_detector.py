"""A sentence-level event detector: which event types a sentence tells, learned on frozen sentence vectors.

One logistic head per event type sits on the shared MiniLM sentence vector plus one indicator per type
whose trigger lexicon (ontology/event_types.yaml) fires in the sentence. The heads are trained by
training/events/train.py on the development gold and public event data; the weights ship as a small
.npz file. The detector scores; events.py decides with the scores and the sentence's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import OntologyError
from ..ontology.events import load_event_types
from .encoder import encode_sentences

MODEL_FILE = "models/events/detector.npz"
EXTRACTOR = "event-detector"


def trigger_indicators(sentences: list[str], type_ids: tuple[str, ...]) -> np.ndarray:
    """Return a (n, len(type_ids)) 0/1 matrix: does a trigger of the type occur in the sentence (either language)."""
    types = {t.id: t for t in load_event_types()}
    out = np.zeros((len(sentences), len(type_ids)), dtype=np.float32)
    for j, tid in enumerate(type_ids):
        et = types.get(tid)
        if et is None:
            continue
        for i, s in enumerate(sentences):
            if any(p.search(s) for p in et.triggers.values()):
                out[i, j] = 1.0
    return out


def detector_features(sentences: list[str], type_ids: tuple[str, ...], vectors: np.ndarray | None = None) -> np.ndarray:
    """Return the detector's input: sentence vectors joined with the trigger indicators."""
    if vectors is None:
        vectors = encode_sentences(sentences) if sentences else np.zeros((0, 384), dtype=np.float32)
    return np.hstack([vectors.astype(np.float32), trigger_indicators(sentences, type_ids)])


@dataclass(frozen=True)
class EventDetector:
    """Per-type logistic heads: weights (features x types), biases and a decision threshold per type."""

    types: tuple[str, ...]
    weights: np.ndarray
    bias: np.ndarray
    thresholds: np.ndarray

    def scores(self, sentences: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """Return a (n, types) matrix of probabilities that each sentence tells an event of each type."""
        if not sentences:
            return np.zeros((0, len(self.types)), dtype=np.float32)
        x = detector_features(sentences, self.types, vectors)
        z = x @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def threshold(self, etype: str) -> float:
        """Return the probability above which the detector alone asserts a type."""
        return float(self.thresholds[self.types.index(etype)]) if etype in self.types else 1.0


@lru_cache(maxsize=1)
def load_detector() -> EventDetector | None:
    """Return the packaged event detector, or None when the package ships none."""
    ref = resources.files("influence_atlas").joinpath(MODEL_FILE)
    if not ref.is_file():
        return None
    with resources.as_file(ref) as path:
        try:
            data = np.load(path, allow_pickle=False)
            return EventDetector(tuple(str(t) for t in data["types"]), data["weights"], data["bias"], data["thresholds"])
        except (OSError, KeyError, ValueError) as exc:
            raise OntologyError(f"{path}: cannot read the event detector: {exc}") from exc
