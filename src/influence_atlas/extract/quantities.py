"""Figures in text — digits and words, English and French, single figures and ranges — with value, unit and qualifier."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from ..records import Quantity
from .dates import find_dates

_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
    "onze": 11, "douze": 12, "quinze": 15, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "cent": 100,
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, "trillion": 1e12,
           "mille": 1_000, "millions": 1_000_000, "milliard": 1_000_000_000, "milliards": 1_000_000_000,
           "bn": 1_000_000_000, "m": 1_000_000, "k": 1_000}
_FRACTIONS = {"a third": 1 / 3, "one third": 1 / 3, "two thirds": 2 / 3, "two-thirds": 2 / 3, "a quarter": 0.25,
              "three quarters": 0.75, "half": 0.5, "a half": 0.5, "one half": 0.5, "a fifth": 0.2, "a tenth": 0.1,
              "un tiers": 1 / 3, "deux tiers": 2 / 3, "un quart": 0.25, "la moitié": 0.5, "moitié": 0.5}
_VAGUE = {"several dozen": 36, "dozens": 24, "dozens of": 24, "a dozen": 12, "hundreds": 200, "hundreds of": 200,
          "thousands": 2000, "thousands of": 2000, "millions of": 2_000_000, "several hundred": 300, "several thousand": 3000,
          "des dizaines": 24, "des centaines": 200, "des milliers": 2000, "plusieurs dizaines": 36, "plusieurs centaines": 300}
_QUALIFIERS = (
    r"more than|over|at least|up to|nearly|almost|about|around|approximately|roughly|some|fewer than|less than|"
    r"as many as|an estimated|estimated|close to|plus de|au moins|près de|environ|quelque|moins de|jusqu'à|jusqu’à"
)
_CURRENCY = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "usd": "USD", "eur": "EUR", "dollars": "USD", "euros": "EUR",
             "fcfa": "XOF", "cfa francs": "XOF", "francs cfa": "XOF", "rubles": "RUB", "roubles": "RUB"}
_NUMBER_WORD = "|".join(sorted(_UNITS, key=len, reverse=True))
_SCALE_WORD = r"hundred|thousand|million|billion|trillion|mille|millions|milliards?|bn|m|k"
_PATTERN = re.compile(
    rf"(?P<qual>(?:{_QUALIFIERS})\s+)?"
    rf"(?:(?P<fraction>{'|'.join(sorted(map(re.escape, _FRACTIONS), key=len, reverse=True))})"
    rf"|(?P<vague>{'|'.join(sorted(map(re.escape, _VAGUE), key=len, reverse=True))})"
    rf"|(?:(?P<cur>\$|US\$|€|£)\s?)?(?P<num>\d{{1,3}}(?:[,\u202f ]\d{{3}})+(?:\.\d+)?(?!\d)|\d+(?:[.,]\d+)?(?![\d.,]\d|\d))(?:\s?(?P<scale>{_SCALE_WORD})\b)?"
    rf"|(?P<word>\b(?:{_NUMBER_WORD})(?:[- ](?:{_NUMBER_WORD}))?\b)(?:\s(?P<wscale>{_SCALE_WORD})\b)?)"
    rf"(?!st\b|nd\b|rd\b|th\b|e\b|er\b|ème\b|-\w)"
    rf"(?P<pct>\s?(?:%|per ?cent|pour ?cent))?"
    rf"(?:\s(?:(?:de|d['’])\s?)?(?P<unit>(?:(?:a|per|par)\s(?:month|year|day|week|mois|an|jour))|(?:[a-zA-Zàâçéèêëîïôûùüÿœ’'-]+)(?:\s(?:a|per|par)\s(?:month|year|day|week|mois|an|jour))?))?",
    re.I,
)
# "between 20 and 30", "from 100 to 200", "20-30", "entre 20 et 30", "de 100 à 200".
_RANGE_OPEN = re.compile(r"(?:between|from|entre|de)\s+$", re.I)
_RANGE_JOIN = re.compile(r"\s*(?:and|to|-|–|et|à)\s*", re.I)
_STOP_UNITS = {"of", "the", "and", "or", "in", "to", "a", "an", "were", "was", "had", "have", "has", "de", "des", "et", "à", "au", "ou"}


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
        if word in ("one", "un", "une") and not (m.group("wscale") or m.group("qual")):
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
    per = re.search(r"(?:^|\s)(?:a|per|par)\s(\w+)$", unit)
    if currency:
        return currency + (f"/{per.group(1)}" if per else "")
    if per and low.startswith(("a ", "per ", "par ")):
        return None
    if not unit or low.split()[0] in _STOP_UNITS:
        return None
    return unit.split()[0].lower().rstrip(".,;:")


def word_number(text: str) -> int | None:
    """Return the whole number a phrase writes in words ("twenty-five", "trois"), or None when it is not one."""
    parts = [p for p in re.split(r"[- ]", text.lower()) if p and p != "et"]
    if not parts or not all(p in _UNITS for p in parts):
        return None
    return int(sum(_UNITS[p] for p in parts))
