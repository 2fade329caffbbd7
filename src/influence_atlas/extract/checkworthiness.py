"""Check-worthiness: how likely a sentence is a factual, verifiable claim worth checking.

A small head on the shared encoder pass: the sentence's MiniLM vector (`extract/encoder.py`, the
one pass claims, narratives, events and links already share) beside cheap features of the sentence
(figures, dates, length, the voice cues of `ontology/voice.yaml`), read by an ensemble of one-layer
networks trained on CLEF CheckThat! 2024 English (task 1) by `training/checkworthiness/head.py`.
Its weights (`models/checkworthiness/head.npz`) are numpy arrays; no model of its own is run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import InputError, ModelError
from ..text.readers import read_utf8_file
from .encoder import DIM, encode_sentences, loaded_once

MODEL_DIR = "models/checkworthiness"
LABELS = ("Yes", "No")


def _read_meta() -> dict:
    path = resources.files("influence_atlas").joinpath(MODEL_DIR, "meta.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"check-worthiness model metadata {path} cannot be read ({exc}); "
                         "reinstall influence-atlas (pip install -e .)") from exc


_META = _read_meta()
#: Scores at or above this are "Yes" (chosen for F1 of the positive class on CheckThat! 2024 dev, never on dev-test).
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


class CheckworthinessHead:
    """The trained head: layers of one or more small networks over [sentence vector, scaled cheap features]."""

    def __init__(self, members: list[list[tuple]], mean, scale, feature_weight: float):
        self.members, self.mean, self.scale, self.feature_weight = members, mean, scale, feature_weight

    @classmethod
    def load(cls) -> "CheckworthinessHead":
        """Return the packaged head; ModelError says how to rebuild it if it is missing, damaged or stale."""
        import numpy as np

        folder = resources.files("influence_atlas").joinpath(MODEL_DIR)
        try:
            with folder.joinpath("head.npz").open("rb") as fh, np.load(fh, allow_pickle=False) as z:
                arrays = {k: z[k].astype(np.float32) for k in z.files}
            members = []
            for m in range(int(_META["members"])):
                depth = sum(1 for k in arrays if k.startswith(f"m{m}_w"))
                members.append([(arrays[f"m{m}_w{j}"], arrays[f"m{m}_b{j}"]) for j in range(depth)])
            head = cls(members, arrays["mean"], arrays["scale"], float(_META["feature_weight"]))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"the check-worthiness head in {MODEL_DIR} cannot be read ({exc}); rebuild it with "
                             "`python training/checkworthiness/head.py` or reinstall influence-atlas") from exc
        if _META.get("features") != list(CHEAP_FEATURES) or any(not m or m[0][0].shape[0] != DIM + len(CHEAP_FEATURES)
                                                               for m in members):
            raise ModelError(f"the check-worthiness head in {MODEL_DIR} was trained on other features; "
                             "retrain it with `python training/checkworthiness/head.py`")
        return head

    def inputs(self, vectors, features):
        """Return the head's input rows: the sentence vectors beside the standardised, weighted cheap features."""
        import numpy as np

        return np.hstack([vectors, self.feature_weight * (features - self.mean) / self.scale]).astype(np.float32)

    def probabilities(self, rows) -> list[float]:
        """Return the mean probability of "Yes" over the members, per input row."""
        import numpy as np

        total = np.zeros(len(rows), np.float64)
        for layers in self.members:
            h = rows
            for j, (w, b) in enumerate(layers):
                h = h @ w + b
                if j < len(layers) - 1:
                    h = np.maximum(h, 0.0)
            total += 1 / (1 + np.exp(-h[:, 0].astype(np.float64)))
        return (total / len(self.members)).tolist()


_get_head = loaded_once(CheckworthinessHead.load)


def score_sentences(texts: list[str], language: str | None = None) -> list[float]:
    """Return a check-worthiness score in [0, 1] per sentence (probability-like; >= THRESHOLD means "Yes")."""
    if not texts:
        return []
    head = _get_head()
    return head.probabilities(head.inputs(encode_sentences(list(texts)), cheap_features(list(texts), language)))


def is_checkworthy(score: float, threshold: float | None = None) -> bool:
    """Return whether a score counts as check-worthy at `threshold` (default THRESHOLD)."""
    return score >= (THRESHOLD if threshold is None else threshold)
# --------------------------------------------------------------------------- the head on the shared encoder pass

#: Cheap features the head reads beside the shared sentence vector, all computed from the sentence alone.
CHEAP_FEATURES = ("log_words", "figure", "digit", "date", "reporting_verb", "according_to", "first_person", "hedged",
                  "negation", "question", "capitalised_share", "quotation", "figure_with_unit")


def cheap_features(texts: list[str], language: str | None = None):
    """Return one row of CHEAP_FEATURES per text (float64): length, figures, dates and voice cues of `ontology/voice.yaml`."""
    import math
    import re

    import numpy as np

    from ..ontology.lexicons import load_voice_cues
    from .dates import find_dates
    from .quantities import find_quantities

    cues = load_voice_cues()
    patterns = [cues.get(key, language) for key in ("reporting_verbs", "according_to", "first_person", "hedges", "negation")]
    rows = np.zeros((len(texts), len(CHEAP_FEATURES)), np.float64)
    for k, text in enumerate(texts):
        words = text.split()
        figures = [q for q in find_quantities(text) if not (q.unit is None and q.value < 2 and q.value == int(q.value))]
        rows[k] = [
            math.log(1 + len(words)), float(bool(figures)), float(bool(re.search(r"\d", text))), float(bool(find_dates(text))),
            *(float(bool(p and p.search(text))) for p in patterns),
            float(text.rstrip(" \"'”»’").endswith("?")),
            sum(w[:1].isupper() for w in words) / max(1, len(words)),
            float(bool(re.search(r"[\"“”«»]", text))),
            float(any(q.unit for q in figures)),
        ]
    return rows
