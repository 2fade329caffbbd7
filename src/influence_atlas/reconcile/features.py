"""What the cross-source linker knows about a statement (a claim or an event's sentence), and pair features.

Training (`training/links/`) and analysis compute features with these same functions: the pair
models are trained on the gold sentences of the development sets and applied to extracted records,
so nothing here may depend on how a particular extractor cut its spans. Features describe the
relation between two statements (how close in meaning, which actors, places and figures they
share, whether one denies what the other asserts, whether their sources lean opposite ways), never
the words themselves, so a model cannot learn one story's vocabulary.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import ModelError
from ..extract.actors import gazetteer_for
from ..extract.quantities import find_quantities
from ..ontology import load_actor_catalog
from ..text.normalise import fold
from ..ontology.lexicons import load_voice_cues

MODEL_FILE = "models/links/links.json"
_WORD = re.compile(r"[^\W_]{3,}", re.U)
_CAPITALISED = re.compile(r"(?<![\w’'-])[A-ZÀ-Ý][a-zà-ÿ]{3,}(?:[ -][A-ZÀ-Ý][a-zà-ÿ]+)?")


@lru_cache(maxsize=20000)
def _town(name: str) -> str | None:
    """Return the canonical name of a town or site a capitalised word names, or None (countries are actors)."""
    from ..extract.places import geocode

    try:
        place = geocode(name)
    except Exception:  # the place index is optional: without it, statements simply name no towns
        return None
    if place is None or place.precision == "country" or fold(place.name) != fold(name):
        return None
    return place.name


@dataclass(frozen=True, slots=True)
class Statement:
    """A claim or event sentence as the linker sees it: its actors, places, figures and denial cues."""

    id: str
    doc: str
    text: str
    language: str | None
    actors: frozenset[str]
    places: frozenset[str]
    figures: tuple[tuple[float, str], ...]  # (value, unit) of counted things; unit "" when the text gives none
    negated: bool
    debunks: bool
    words: frozenset[str]


@lru_cache(maxsize=1)
def _gazetteer():
    return gazetteer_for(load_actor_catalog())


def describe(id_: str, doc: str, text: str, language: str | None = None) -> Statement:
    """Return the Statement for a sentence: actors and places named (by the actor catalogue), figures, cues."""
    actors, places = set(), set()
    taken = []
    for start, end, entry, _ in _gazetteer().find(text):
        actors.add(entry.name)
        taken.append((start, end))
    for m in _CAPITALISED.finditer(text):
        if m.start() == 0 or any(s <= m.start() < e for s, e in taken):
            continue
        place = _town(m.group(0))
        if place:
            places.add(place)
    # Units compared by their first letters, so "instructors" and "instructeurs" count as one thing.
    figures = tuple(sorted({(round(q.value, 3), fold(q.unit or "")[:4]) for q in find_quantities(text)
                            if q.unit != "%" and q.value >= 2}))
    cues = load_voice_cues()
    neg, deb = cues.get("negation", language), cues.get("debunk", language)
    words = frozenset(w.lower() for w in _WORD.findall(text) if not w.isdigit()) | frozenset(
        w for w in re.findall(r"\d{2,}", text))
    return Statement(id_, doc, text, language, frozenset(actors), frozenset(places), figures,
                     bool(neg and neg.search(text)), bool(deb and deb.search(text)), words)


def _figures_relation(a: Statement, b: Statement) -> tuple[float, float]:
    """Return (same figure, conflicting figure): a shared counted value, or values of one unit far apart."""
    same = conflict = 0.0
    for va, ua in a.figures:
        for vb, ub in b.figures:
            if ua and ua == ub or (not ua and not ub):
                if va == vb:
                    same = 1.0
                else:
                    ratio = max(va, vb) / max(1e-9, min(va, vb))
                    if ratio <= 10:
                        conflict = max(conflict, min(1.0, math.log(ratio) / math.log(3)))
            elif va == vb and va >= 10:
                same = max(same, 0.5)
    return same, conflict


def _jaccard(x: frozenset, y: frozenset) -> float:
    return len(x & y) / len(x | y) if x or y else 0.0


def stance_opposition(a: dict[str, float], b: dict[str, float]) -> float:
    """Return how far two documents lean opposite ways on an actor both take a side on, in [0, 1]."""
    worst = 0.0
    for actor in a.keys() & b.keys():
        sa, sb = a[actor], b[actor]
        if sa * sb < 0:
            worst = max(worst, min(1.0, min(abs(sa), abs(sb))))
    return worst


CLAIM_FEATURES = ("bias", "cos", "cos_high", "doc_cos", "doc_cos_high", "actors_shared", "actors_jaccard", "places_shared",
                  "figure_same", "figure_conflict", "negation_one", "negation_both", "debunk_any", "same_language",
                  "words_jaccard", "stance_opposed", "cos_x_negation", "cos_x_figure_conflict", "doc_cos_x_opposed")


def claim_pair_features(a: Statement, b: Statement, cos: float, doc_cos: float, opposed: float) -> np.ndarray:
    """Return the feature row (CLAIM_FEATURES order) of two statements from different documents."""
    same, conflict = _figures_relation(a, b)
    neg_one = float(a.negated != b.negated)
    return np.array([
        1.0, cos, max(0.0, cos - 0.5), doc_cos, max(0.0, doc_cos - 0.6),
        min(3, len(a.actors & b.actors)) / 3, _jaccard(a.actors, b.actors), float(bool(a.places & b.places)),
        same, conflict, neg_one, float(a.negated and b.negated), float(a.debunks or b.debunks),
        float((a.language or "") == (b.language or "")), _jaccard(a.words, b.words), opposed,
        cos * neg_one, cos * conflict, doc_cos * opposed,
    ], np.float32)


EVENT_FEATURES = ("bias", "same_type", "date_agree", "date_precise_agree", "date_missing", "actors_shared",
                  "actors_jaccard", "place_same", "place_differs", "toll_close", "toll_far", "cos", "cos_high", "doc_cos",
                  "doc_cos_high", "words_jaccard")


def event_pair_features(a: dict, b: dict, cos: float, doc_cos: float) -> np.ndarray:
    """Return the feature row (EVENT_FEATURES order) of two event tellings.

    `a` and `b` are plain dicts with type, date, actors (set of canonical names), location,
    fatalities and words (set), so gold events and extracted ones go through the same function.
    """
    from ..extract.dates import dates_compatible

    da, db = a.get("date"), b.get("date")
    agree = float(bool(da and db and dates_compatible(da, db)))
    precise = float(bool(agree and len(da) >= 7 and len(db) >= 7))
    missing = float(not da or not db)
    la, lb = a.get("location"), b.get("location")
    fa, fb = a.get("fatalities"), b.get("fatalities")
    close = far = 0.0
    if fa and fb:
        ratio = max(fa, fb) / min(fa, fb)
        close, far = float(ratio <= 3), float(ratio > 6)
    aa, ab = a.get("actors", frozenset()), b.get("actors", frozenset())
    return np.array([
        1.0, float(a.get("type") == b.get("type")), agree, precise, missing,
        min(3, len(aa & ab)) / 3, _jaccard(frozenset(aa), frozenset(ab)),
        float(bool(la and lb and la == lb)), float(bool(la and lb and la != lb)), close, far,
        cos, max(0.0, cos - 0.5), doc_cos, max(0.0, doc_cos - 0.6),
        _jaccard(frozenset(a.get("words", ())), frozenset(b.get("words", ()))),
    ], np.float32)


DOC_FEATURES = ("bias", "doc_cos", "doc_cos_high", "same_language", "stance_opposed", "corroborates_max",
                "corroborates_second", "corroborates_top3", "contradicts_max", "contradicts_second", "contradicts_top3",
                "same_event_max", "same_event_second", "same_event_top3")
LINK_KINDS = ("same_event", "corroborates", "contradicts")


def _top(values: list[float]) -> tuple[float, float, float]:
    top = sorted(values, reverse=True)[:3] + [0.0, 0.0, 0.0]
    return top[0], top[1], sum(top[:3])


def doc_pair_features(doc_cos: float, same_language: bool, opposed: float, corroborates: list[float],
                      contradicts: list[float], same_event: list[float]) -> np.ndarray:
    """Return the feature row (DOC_FEATURES order) of two documents from their item pairs' probabilities."""
    return np.array([1.0, doc_cos, max(0.0, doc_cos - 0.6), float(same_language), opposed,
                     *_top(corroborates), *_top(contradicts), *_top(same_event)], np.float32)


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """Return row-wise softmax of logits."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class LinkModels:
    """The trained pair models: claim pairs (unrelated / corroborates / contradicts) and event pairs (same or not)."""

    claim_weights: np.ndarray  # (len(CLAIM_FEATURES), 3)
    claim_mean: np.ndarray
    claim_scale: np.ndarray
    event_weights: np.ndarray  # (len(EVENT_FEATURES),)
    event_mean: np.ndarray
    event_scale: np.ndarray
    documents: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # kind -> (weights, mean, scale)
    thresholds: dict[str, float]
    meta: dict

    def document_probabilities(self, kind: str, rows: np.ndarray) -> np.ndarray:
        """Return (n,) probabilities that two documents hold a link of `kind`, from their DOC_FEATURES rows."""
        w, mean, scale = self.documents[kind]
        x = (rows - mean) / scale
        x[:, 0] = 1.0
        return 1.0 / (1.0 + np.exp(-(x @ w)))

    def claim_probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Return (n, 3) probabilities: unrelated, corroborates, contradicts."""
        x = (rows - self.claim_mean) / self.claim_scale
        x[:, 0] = 1.0
        return softmax_rows(x @ self.claim_weights)

    def event_probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Return (n,) probabilities that two tellings are one happening."""
        x = (rows - self.event_mean) / self.event_scale
        x[:, 0] = 1.0
        return 1.0 / (1.0 + np.exp(-(x @ self.event_weights)))


def models_from_dict(data: dict) -> LinkModels:
    """Return LinkModels from their JSON form, checking the feature lists match this code."""
    if (tuple(data["claim"]["features"]) != CLAIM_FEATURES or tuple(data["event"]["features"]) != EVENT_FEATURES
            or tuple(data["documents"]["features"]) != DOC_FEATURES):
        raise ModelError("models/links/links.json was trained on other features; retrain with training/links/train.py")
    c, e = data["claim"], data["event"]
    return LinkModels(np.array(c["weights"], np.float32), np.array(c["mean"], np.float32), np.array(c["scale"], np.float32),
                      np.array(e["weights"], np.float32), np.array(e["mean"], np.float32), np.array(e["scale"], np.float32),
                      {k: tuple(np.array(data["documents"][k][f], np.float32) for f in ("weights", "mean", "scale"))
                       for k in LINK_KINDS},
                      dict(data["thresholds"]), dict(data.get("meta", {})))


@lru_cache(maxsize=1)
def load_link_models() -> LinkModels:
    """Return the packaged cross-source pair models."""
    try:
        text = resources.files("influence_atlas").joinpath(MODEL_FILE).read_text(encoding="utf-8")
        return models_from_dict(json.loads(text))
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(f"{MODEL_FILE} cannot be read ({exc}); reinstall influence-atlas or retrain with "
                         "training/links/train.py") from exc
