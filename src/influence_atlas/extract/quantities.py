"""Figures in text — digits and words, English and French, single figures and ranges — with value, unit and qualifier."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from ..records import Quantity
from ..ontology.words import load_quantity_words
from ..text.normalise import fold
from .dates import find_dates

_WORDS = load_quantity_words()
_UNITS = _WORDS.values["numbers"]
_SCALES = _WORDS.values["scales"]
_FRACTIONS = _WORDS.values["fractions"]
_VAGUE = _WORDS.values["vague"]
_CURRENCY = _WORDS.values["currencies"]
_JOINERS = _WORDS.words("number_joiners")
_KINDS = {fold(noun): kind for noun, kind in _WORDS.values["counted_kinds"].items()}
# The kinds of counted things (`counted_kind`'s answers).
COUNTED_KINDS = frozenset(_KINDS.values())
_RATE_WORDS = tuple(f"{w} " for pats in _WORDS.patterns["rate_words"].values() for w in pats)


def _longest_first(words) -> str:
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


_NUMBER_WORD = _longest_first(_UNITS)
_SCALE_WORD = _longest_first(_SCALES)
# Currency symbols may stand before the figure ("$5", "US$ 3").
_SYMBOLS = "|".join(re.escape(c) for c in _CURRENCY if not c.replace(" ", "").isalpha())
_RATE = rf"(?:{_WORDS.any('rate_words')})\s(?:{_WORDS.any('rate_periods')})"
_PATTERN = re.compile(
    rf"(?P<qual>(?:{_WORDS.any('qualifiers')})\s+)?"
    rf"(?:(?P<fraction>{_longest_first(_FRACTIONS)})"
    rf"|(?P<vague>{_longest_first(_VAGUE)})"
    rf"|(?:(?P<cur>{_SYMBOLS})\s?)?"
    rf"(?P<num>\d{{1,3}}(?:[,\u202f ]\d{{3}})+(?:\.\d+)?(?!\d)|\d+(?:[.,]\d+)?(?![\d.,]\d|\d))(?:\s?(?P<scale>{_SCALE_WORD})\b)?"
    rf"|(?P<word>\b(?:{_NUMBER_WORD})(?:[- ](?:{_NUMBER_WORD}))?\b)(?:\s(?P<wscale>{_SCALE_WORD})\b)?)"
    rf"(?!(?:{_WORDS.any('ordinal_endings')})\b|-\w)"
    rf"(?P<pct>\s?(?:%|{_WORDS.any('percent')}))?"
    rf"(?:\s(?:(?:{_WORDS.any('unit_links')})\s?)?(?P<unit>{_RATE}|(?:[a-zA-Zàâçéèêëîïôûùüÿœ’'-]+)(?:\s{_RATE})?))?",
    re.I,
)
# "between 20 and 30", "from 100 to 200", "20-30", "entre 20 et 30", "de 100 à 200".
_RANGE_OPEN = re.compile(rf"(?:{_WORDS.any('range_open')})\s+$", re.I)
_RANGE_JOIN = re.compile(rf"\s*(?:-|–|{_WORDS.any('range_join')})\s*", re.I)
_STOP_UNITS = _WORDS.words("not_units")
_AT_MOST = re.compile(rf"(?<!\w)(?:{_WORDS.any('at_most')})\s+$", re.I)
_AT_LEAST = re.compile(rf"(?<!\w)(?:{_WORDS.any('at_least')})\s+$", re.I)
# The words after a figure's unit word read for its kind: up to the next punctuation, at most two.
_FOLLOWING = re.compile(r"[^\W\d_][\w’'-]*")
_CLAUSE_END = re.compile(r"[.,;:!?()«»\"“”]")
_RATE_AT_END = re.compile(rf"(?:^|\s)(?:{_WORDS.any('rate_words')})\s(\w+)$")


def find_quantities(text: str) -> list[Quantity]:
    """Return the figures in text (years and dates excluded), each with value, unit and qualifier."""
    return list(_quantities_in(text))


@lru_cache(maxsize=4096)
def _quantities_in(text: str) -> tuple[Quantity, ...]:
    # Memoised by text: claims, check-worthiness and linking each ask for the same sentence's figures; the records
    # are frozen, so sharing them changes nothing.
    dates = [(d.start, d.end) for d in find_dates(text) if d.kind not in ("md", "dm")]
    out = []
    for m in _PATTERN.finditer(text):
        core_start = m.start("fraction") if m.group("fraction") else m.start("vague") if m.group("vague") else (
            m.start("cur") if m.group("cur") else m.start("num") if m.group("num") else m.start("word"))
        if any(s <= core_start < e for s, e in dates):
            continue
        if m.start() > 0 and (text[m.start() - 1].isalnum() or text[m.start() - 1] in "-/"):
            continue
        value = _value(m)
        if value is None:
            continue
        word = (m.group("word") or "").lower()
        if _UNITS.get(word) == 1 and not (m.group("wscale") or m.group("qual")):
            continue  # "one of the countries" is not a figure worth keeping
        unit = _unit(m)
        end = max(m.end(g) for g in ("fraction", "vague", "num", "scale", "word", "wscale", "pct") if m.group(g))
        if m.group("unit") and unit is not None and unit != "%":
            end = m.end("unit")
        start = m.start()
        qual = (m.group("qual") or "").strip().lower() or None
        if m.group("vague") and qual is None:
            qual = "approximately"
        out.append(Quantity(text[start:end].strip(), value, unit, qual, start, start + len(text[start:end].rstrip())))
    return tuple(_ranges(text, out))


def _ranges(text: str, found: list[Quantity]) -> list[Quantity]:
    """Join two figures that make a range ("between 20 and 30 soldiers") into one, value the bottom, upper the top."""
    out: list[Quantity] = []
    i = 0
    while i < len(found):
        low = found[i]
        high = found[i + 1] if i + 1 < len(found) else None
        opener = _RANGE_OPEN.search(text[max(0, low.start - 12):low.start])
        joined = high and _RANGE_JOIN.fullmatch(text[low.end:high.start]) and low.qualifier is None and high.qualifier is None
        dash = joined and text[low.end:high.start].strip() in ("-", "–") and high.start - low.end <= 1
        if joined and (opener or dash) and (low.unit is None or low.unit == high.unit or high.unit is None):
            bottom, top = low.value, high.value
            if top >= 1000 and bottom < top / 1000 and not re.search(r"[a-z]", low.text.lower().lstrip("0123456789.,")):
                bottom *= _scale_of(high.text)  # "between 1 and 2 million"
            start = low.start - (len(opener.group(0)) if opener else 0)
            out.append(replace(high, text=text[start:high.end], value=bottom, unit=high.unit or low.unit, qualifier="between",
                               start=start, upper=top))
            i += 2
            continue
        out.append(low)
        i += 1
    return out


def _scale_of(figure: str) -> float:
    words = re.findall(r"[a-zA-Z]+", figure.lower())
    return float(next((_SCALES[w] for w in words if w in _SCALES and w not in ("m", "k")), 1))


def _value(m: re.Match) -> float | None:
    if m.group("fraction"):
        return _FRACTIONS[m.group("fraction").lower()]
    if m.group("vague"):
        return float(_VAGUE[m.group("vague").lower()])
    if m.group("num"):
        raw = m.group("num").replace("\u202f", "").replace(" ", "")
        if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", raw):
            raw = raw.replace(",", "")
        elif re.fullmatch(r"\d+,\d+", raw):
            raw = raw.replace(",", ".")  # French decimal comma
        try:
            value = float(raw)
        except ValueError:
            return None
        scale = (m.group("scale") or "").lower()
        return value * _SCALES.get(scale, 1)
    if m.group("word"):
        parts = re.split(r"[- ]", m.group("word").lower())
        value = float(sum(_UNITS.get(p, 0) for p in parts))
        scale = (m.group("wscale") or "").lower()
        return value * _SCALES.get(scale, 1)
    return None


def _unit(m: re.Match) -> str | None:
    if m.group("pct"):
        return "%"
    currency = _CURRENCY.get((m.group("cur") or "").lower())
    unit = (m.group("unit") or "").strip()
    low = unit.lower()
    if low in _CURRENCY:
        currency = _CURRENCY[low]
        unit = ""
    per = _RATE_AT_END.search(unit)
    if currency:
        return currency + (f"/{per.group(1)}" if per else "")
    if per and low.startswith(_RATE_WORDS):
        return None
    if not unit or low.split()[0] in _STOP_UNITS:
        return None
    return unit.split()[0].lower().rstrip(".,;:")


def word_number(text: str) -> int | None:
    """Return the whole number a phrase writes in words ("twenty-five", "trois"), or None when it is not one."""
    parts = [p for p in re.split(r"[- ]", text.lower()) if p and p not in _JOINERS]
    if not parts or not all(p in _UNITS for p in parts):
        return None
    return int(sum(_UNITS[p] for p in parts))


def counted_kind(text: str, q: Quantity) -> str | None:
    """Return the kind of thing a figure of `text` counts (ontology/quantities.yaml `counted_kinds`: "200 foreign
    military trainers" and "plusieurs centaines de militaires" count personnel), or None: its unit word or one of the
    two words after it names the kind."""
    if not q.unit or not q.unit.isalpha() or q.unit.isupper():
        return None  # no unit, a percentage or a currency code
    rest = text[q.end:q.end + 60]
    cut = _CLAUSE_END.search(rest)
    words = [q.unit, *_FOLLOWING.findall(rest[:cut.start()] if cut else rest)[:2]]
    return next((_KINDS[fold(w)] for w in words if fold(w) in _KINDS), None)


def stated_bound(text: str, q: Quantity) -> str | None:
    """Return "most" when the words right before a figure of `text` give it as a most ("only five", "seulement cinq"),
    "least" when they give it as a least ("at least five", "au moins cinq", "more than 300"), else None."""
    before = text[max(0, q.start - 30):q.start]
    if q.qualifier and text[q.start:q.end].lower().startswith(q.qualifier):
        before += text[q.start:q.start + len(q.qualifier)] + " "  # the qualifier is read as part of the figure
    if _AT_MOST.search(before):
        return "most"
    if _AT_LEAST.search(before):
        return "least"
    return None
