"""ACLED event coding of sentences: is there an event, and which of ACLED's 25 sub-event types is it.

A multinomial logistic-regression head (numpy) reads the shared MiniLM sentence vector
(`encoder.encode_sentences`) and cheap lexical features: for each sub-type, how often its cues
from `ontology/acled.yaml` occur in the text and whether they occur in its first sentence. The
head has one class per ACLED sub-type plus `none` (no ACLED event: diplomacy, statements,
disasters, crime). It is trained by `training/acled/train.py` on CASE 2021 Task 2 snippets,
ACLED-style notes written from the codebook and PLOVER sentences without an ACLED event, and
ships as `models/acled/head.npz`.

Hedges ("reportedly", "allegedly", "aurait") are removed before the text is read, so a hedge
sets an event's modality elsewhere but never changes its type here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import InputError, ModelError
from ..ontology.acled import AcledTaxonomy, load_acled_taxonomy
from ..ontology.files import any_of
from ..text.readers import read_utf8_file
from .encoder import encode_sentences, loaded_once, softmax

MODEL_DIR = "models/acled"
NONE = "none"
# The layout of the head's input rows (features()); a head trained on another layout is refused.
FEATURES = "minilm-text+minilm-first-sentence+cues"
# Share of the event probability at which the classifier's sub-type overrides an open project type's `allowed`.
SURE = 0.6
_FIRST_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý\"“])")


@dataclass(frozen=True, slots=True)
class AcledLabel:
    """ACLED coding of one text: the most likely sub-event type, its event type and probability, and whether an event is there."""

    event_type: str
    sub_event_type: str
    code: str
    probability: float
    event_probability: float
    is_event: bool


def strip_hedges(text: str, taxonomy: AcledTaxonomy | None = None) -> str:
    """Return the text without its hedges ("reportedly", "allegedly", ...), spaces tidied."""
    tax = taxonomy or load_acled_taxonomy()
    if not any(p.search(text) for p in tax.hedges.values()):
        return text  # unchanged, so the encoder's memo serves the vector other stages ask for
    for pattern in tax.hedges.values():
        text = pattern.sub("", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r",\s*([.;:])", r"\1", re.sub(r"\s+([,.;:])", r"\1", text))
    return re.sub(r"\s{2,}", " ", text).strip()


def cue_features(texts: list[str], taxonomy: AcledTaxonomy | None = None) -> np.ndarray:
    """Return per text and sub-type: log(1 + cue hits in the text), then cue presence in its first sentence."""
    tax = taxonomy or load_acled_taxonomy()
    out = np.zeros((len(texts), 2 * len(tax.sub_types)), np.float32)
    n = len(tax.sub_types)
    for i, text in enumerate(texts):
        first = _FIRST_SENTENCE.split(text, maxsplit=1)[0]
        for j, sub in enumerate(tax.sub_types):
            out[i, j] = np.log1p(sum(len(p.findall(text)) for p in sub.cues.values()))
            out[i, n + j] = float(any(p.search(first) for p in sub.cues.values()))
    return out


def features(texts: list[str], cue_weight: float, taxonomy: AcledTaxonomy | None = None) -> np.ndarray:
    """Return the head's input rows for `texts` (hedges removed): MiniLM vector of the text, of its first sentence, then weighted cue features.

    The first sentence gets a vector of its own because a news snippet tells its main event first and
    the rest dilutes it; for a one-sentence text both vectors are the same (and encoded once).
    """
    tax = taxonomy or load_acled_taxonomy()
    plain = [strip_hedges(t, tax) for t in texts]
    first = [_FIRST_SENTENCE.split(t, maxsplit=1)[0] for t in plain]
    return np.hstack([encode_sentences(plain), encode_sentences(first), cue_weight * cue_features(plain, tax)]).astype(np.float32)


class AcledHead:
    """The trained softmax head: weights, bias, class codes (25 ACLED codes and `none`) and settings."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, classes: tuple[str, ...], cue_weight: float, threshold: float,
                 presence: tuple[np.ndarray, np.ndarray] | None = None):
        self.weights, self.bias, self.classes = weights, bias, classes
        self.cue_weight, self.threshold = cue_weight, threshold
        # A second, less regularised softmax of the same shape: its `none` probability says whether there is an event.
        self.presence = presence

    @classmethod
    def load(cls) -> AcledHead:
        """Return the packaged head; ModelError says how to rebuild it if it is missing or damaged."""
        folder = resources.files("influence_atlas").joinpath(MODEL_DIR)
        try:
            meta = json.loads(folder.joinpath("meta.json").read_text(encoding="utf-8"))
            with folder.joinpath("head.npz").open("rb") as fh:
                arrays = np.load(fh)
                weights, bias = arrays["weights"], arrays["bias"]
                presence = arrays["presence_weights"], arrays["presence_bias"]
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"the ACLED head in {MODEL_DIR} cannot be read ({exc}); rebuild it with "
                             "`python training/acled/train.py` or reinstall influence-atlas") from exc
        classes = tuple(meta["classes"])
        known = set(load_acled_taxonomy().codes()) | {NONE}
        if weights.shape[1] != len(classes) or set(classes) - known or meta.get("features") != FEATURES:
            raise ModelError(f"the ACLED head in {MODEL_DIR} does not match ontology/acled.yaml; "
                             "retrain it with `python training/acled/train.py`")
        return cls(weights, bias, classes, float(meta["cue_weight"]), float(meta["threshold"]), presence)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Return class probabilities (rows x classes); `none` is the presence head's, the sub-types share the rest."""
        probs = softmax(rows @ self.weights + self.bias)
        if self.presence is None or NONE not in self.classes:
            return probs
        k = self.classes.index(NONE)
        p_none = softmax(rows @ self.presence[0] + self.presence[1])[:, k]
        subs = np.delete(probs, k, axis=1)
        subs = subs / np.maximum(subs.sum(axis=1, keepdims=True), 1e-12) * (1 - p_none)[:, None]
        return np.insert(subs, k, p_none, axis=1)


_head = loaded_once(AcledHead.load)


def load_head() -> AcledHead:
    """Return the process's ACLED head, loaded once."""
    return _head()


def _probabilities(texts: list[str]) -> tuple[AcledHead, np.ndarray]:
    head = load_head()
    return head, head.probabilities(features(texts, head.cue_weight))


def classify_events(texts: list[str]) -> list[AcledLabel]:
    """Return one ACLED label per text: best sub-event type among the 25, its probability, and whether an event is present."""
    if not texts:
        return []
    tax = load_acled_taxonomy()
    head, probs = _probabilities(list(texts))
    none = head.classes.index(NONE) if NONE in head.classes else None
    out = []
    for row in probs:
        p_event = 1.0 - float(row[none]) if none is not None else 1.0
        scores = row.copy()
        if none is not None:
            scores[none] = -1.0
        k = int(scores.argmax())
        sub = tax.sub_type(head.classes[k])
        out.append(AcledLabel(sub.event_type, sub.name, sub.code, round(float(row[k]) / max(p_event, 1e-9), 4),
                              round(p_event, 4), p_event >= head.threshold))
    return out


def _none_probability(row: np.ndarray, head: AcledHead) -> float:
    return float(row[head.classes.index(NONE)]) if NONE in head.classes else 0.0


def acled_for(project_type: str, sentence: str) -> tuple[str, str]:
    """Return the (ACLED event type, sub-event type) of an event of a project type told by `sentence`.

    The classifier picks among the sub-types `ontology/acled.yaml` allows for the project type;
    a project type with one allowed sub-type gets it without running the model.
    """
    return acled_for_many([(project_type, sentence)])[0]


def acled_for_many(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return (ACLED event type, sub-event type) for each (project type, sentence) pair; one model pass for all."""
    tax = load_acled_taxonomy()
    mappings = [tax.project_types.get(t) or tax.project_types["other"] for t, _ in items]
    need = [i for i, m in enumerate(mappings) if len(m.allowed) > 1 and items[i][1].strip()]
    picks = {i: m.default for i, m in enumerate(mappings)}
    if need:
        head, probs = _probabilities([items[i][1] for i in need])
        for row, i in zip(probs, need):
            allowed = {tax.sub_type(n).code for n in mappings[i].allowed}
            if mappings[i].open:
                sure = [c for p, c in zip(row, head.classes) if c != NONE and p >= SURE * (1 - _none_probability(row, head))]
                allowed |= set(sure)
            ranked = [(float(p), c) for p, c in zip(row, head.classes) if c in allowed]
            if ranked:
                picks[i] = tax.sub_type(max(ranked)[1]).name
    return [(tax.sub_type(picks[i]).event_type, picks[i]) for i in range(len(items))]


def code_events(events: list) -> list:
    """Return the events with their ACLED event and sub-event type set from their type and evidence sentence."""
    from dataclasses import replace

    if not events:
        return events
    codes = acled_for_many([(e.type, e.evidence) for e in events])
    return [replace(e, acled_event_type=t, acled_sub_event_type=s) for e, (t, s) in zip(events, codes)]


def confident_events(sentences: list[str], threshold: float = 0.8) -> list[tuple[str, int, int] | None]:
    """For each sentence, (project type, cue start, cue end) when the detector is sure it tells an ACLED event, else None.

    Only sentences holding a cue of some sub-type are read by the model (the rest cost nothing);
    the span is the first cue of the chosen sub-type, or the whole sentence when it has none.
    """
    tax = load_acled_taxonomy()
    out: list[tuple[str, int, int] | None] = [None] * len(sentences)
    cues = tuple(p for sub in tax.sub_types for p in sub.cues.values())
    screen = any_of(cues)  # one scan for every sub-type's cue
    todo = [i for i, s in enumerate(sentences) if (screen.search(s) if screen is not None else any(p.search(s) for p in cues))]
    if not todo:
        return out
    for i, label in zip(todo, classify_events([sentences[i] for i in todo])):
        if label.event_probability < threshold:
            continue
        sub = tax.sub_type(label.code)
        hits = [m for p in sub.cues.values() for m in [p.search(sentences[i])] if m]
        first = min(hits, key=lambda m: m.start()) if hits else None
        out[i] = (sub.to_project, first.start(), first.end()) if first else (sub.to_project, 0, len(sentences[i]))
    return out


@dataclass(frozen=True, slots=True)
class CaseSnippet:
    """One row of a CASE 2021 Task 2 TSV: id, snippet text, gold sub-type code (None when absent) and file line."""

    snippet_id: str
    text: str
    label: str | None
    line: int


def read_case_tsv(path: str | Path) -> list[CaseSnippet]:
    """Return the snippets of a CASE 2021 Task 2 TSV (`id<TAB>EventSnippet[<TAB>SubType]`, header allowed).

    InputError names the file and line of a row without text or with a repeated id.
    """
    p = Path(path)
    text = read_utf8_file(p)
    rows: list[CaseSnippet] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.lstrip("\ufeff")
        if not line.strip():
            continue
        fields = line.split("\t")
        if number == 1 and fields[0].strip().lower() == "id":
            continue
        where = f"{p}, line {number}"
        if len(fields) < 2 or not fields[1].strip():
            raise InputError(where, "expected `id<TAB>EventSnippet[<TAB>SubType]`; check that the file is tab-separated")
        sid = fields[0].strip()
        if sid in seen:
            raise InputError(where, f"id {sid!r} already used on line {seen[sid]}")
        seen[sid] = number
        label = fields[2].strip() if len(fields) > 2 and fields[2].strip() else None
        rows.append(CaseSnippet(sid, fields[1].strip(), label, number))
    if not rows:
        raise InputError(str(p), "no snippets found; expected lines of `id<TAB>EventSnippet`")
    return rows


def classify_case_file(path: str | Path) -> list[tuple[CaseSnippet, AcledLabel]]:
    """Return each snippet of a CASE 2021 Task 2 TSV with its predicted ACLED label."""
    rows = read_case_tsv(path)
    return list(zip(rows, classify_events([r.text for r in rows])))
