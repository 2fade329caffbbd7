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
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import ModelError
from ..extract.actors import gazetteer_for
from ..extract.dates import MONTHS, WEEKDAYS, DateMention, dates_compatible, find_dates
from ..extract.quantities import COUNTED_KINDS, counted_kind, find_quantities, stated_bound
from ..ontology import load_actor_catalog
from ..text.normalise import fold
from ..ontology.lexicons import load_voice_cues

MODEL_FILE = "models/links/links.json"
_WORD = re.compile(r"[^\W_]{3,}", re.U)
_CAPITALISED = re.compile(r"(?<![\w’'-])[A-ZÀ-Ý][a-zà-ÿ]{3,}(?:[ -][A-ZÀ-Ý][a-zà-ÿ]+)?")


@lru_cache(maxsize=20000)
def town_of(name: str) -> str | None:
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
    names: frozenset[str] = frozenset()  # proper names (as document_names folds them) used inside the sentence
    months: frozenset[str] = frozenset()  # the months (YYYY-MM) its dates fall in
    at_most: tuple[tuple[float, str], ...] = ()  # the figures given as a most ("only five employees"), as in `figures`
    at_least: tuple[tuple[float, str], ...] = ()  # the figures given as a least ("at least five countries")


@lru_cache(maxsize=1)
def _gazetteer():
    return gazetteer_for(load_actor_catalog())


def describe(id_: str, doc: str, text: str, language: str | None = None) -> Statement:
    """Return the Statement for a sentence: actors and places named (by the actor catalogue), figures, cues."""
    return replace(_described(text, language), id=id_, doc=doc)


# A blocked reconciliation meets a document once per block of work it falls in: the memo spares describing it again.
@lru_cache(maxsize=50000)
def _described(text: str, language: str | None) -> Statement:
    actors, places = set(), set()
    taken = []
    bodies = _gazetteer().catalog.states_of_bodies()
    for start, end, entry, _ in _gazetteer().find(text):
        actors.add(entry.name)
        if entry.name in bodies:
            actors.add(bodies[entry.name])  # a ministry or a named operation speaks and acts for its state
        taken.append((start, end))
    for m in _CAPITALISED.finditer(text):
        # A month or weekday is no town, whatever the gazetteer holds under its name.
        if m.start() == 0 or any(s <= m.start() < e for s, e in taken) or _calendar_word(m.group(0)):
            continue
        place = town_of(m.group(0))
        if place:
            places.add(place)
    # Units compared by the kind of thing they count ("instructors", "troops" and "soldats" count personnel), else by
    # their first letters, so "villages" and "villageois" count as one thing.
    # A figure wholly inside a day-and-month date ("on December 14, ...") is the date's day, not a count (the quantity
    # stage keeps such figures: "in March 3 people died" reads alike).
    dates = find_dates(text)
    days = [(d.start, d.end) for d in dates if d.kind in ("md", "dm")]
    counted = [q for q in find_quantities(text) if q.unit != "%" and q.value >= 2
               and not any(s <= q.start and q.end <= e for s, e in days)]
    unit = {id(q): counted_kind(text, q) or fold(q.unit or "")[:4] for q in counted}
    figures = tuple(sorted({(round(q.value, 3), unit[id(q)]) for q in counted}))
    bound = {id(q): stated_bound(text, q) for q in counted}
    at_most, at_least = (tuple(sorted({(round(q.value, 3), unit[id(q)]) for q in counted if bound[id(q)] == side}))
                         for side in ("most", "least"))
    cues = load_voice_cues()
    neg, deb = cues.get("negation", language), cues.get("debunk", language)
    words = frozenset(w.lower() for w in _WORD.findall(text) if not w.isdigit()) | frozenset(
        w for w in re.findall(r"\d{2,}", text))
    return Statement("", "", text, language, frozenset(actors), frozenset(places), figures,
                     bool(neg and neg.search(text)), bool(deb and deb.search(text)), words,
                     sentence_names(text), months_named(dates), at_most, at_least)


def sentence_names(text: str) -> frozenset[str]:
    """Return the proper names a sentence uses inside it (not as its first word), folded as document_names does."""
    return frozenset(fold(m.group(0))[:6] for m in _NAME.finditer(text) if m.start() > 0
                     and not _OPENING.search(text[max(0, m.start() - 3):m.start()]) and not _calendar_word(m.group(0)))


def _calendar_word(word: str) -> bool:
    w = fold(word)
    return w in MONTHS or w in WEEKDAYS


def months_named(dates: list[DateMention]) -> frozenset[str]:
    """Return the months (YYYY-MM) of the dates (`find_dates` of a text) that give at least a month and a year."""
    out = set()
    for d in dates:
        parts = [g for g in d.groups if g]
        year = next((g for g in parts if re.fullmatch(r"(?:1[89]|20)\d\d", g)), None)
        month = next((MONTHS[g.lower().rstrip(".")] for g in parts if g.lower().rstrip(".") in MONTHS), None)
        if d.kind == "iso":
            month = int(parts[1])
        if year and month:
            out.add(f"{year}-{month:02d}")
    return frozenset(out)


# A shared rare name anchors two statements only when they also mean nearly the same (encoder cosine): a person or a
# town named in two sentences about different things is not one proposition.
NAME_ANCHOR_SIMILARITY = 0.55
# The same check across languages (MiniLM is English-trained): the cosine of the two statements' multilingual vectors
# after centring each language on its mean (links.centred), where unrelated statements of one corpus sit near 0.
CROSS_NAME_SIMILARITY = 0.35


def shared_anchor(a: Statement, b: Statement, rare_names: frozenset[str] | set[str] = frozenset(),
                  similarity: float = 1.0, cross_similarity: float | Callable[[], float] = 0.0) -> str | None:
    """Return what specific two statements share, in an analyst's words, or None: the same figure of one thing, the
    same town or site, the same month, or (when they mean nearly the same) a proper name few documents of the corpus
    use (`rare_names`), never a country, platform or outlet.

    `cross_similarity` (the two statements' centred multilingual cosine) may be a function giving it: it is called
    only when the decision reads it, so the multilingual encoder runs only then.

    A link between statements of two sources needs such an anchor: sharing only a topic or a country
    (Russia, Mali, Wagner) does not make two sentences one proposition or one happening.
    """
    for va, ua in a.figures:
        for vb, ub in b.figures:
            if va == vb and (va >= 10 or va >= 2 and (ua == ub or not ua or not ub)):
                return f"figure {va:g}" + (f" ({ua or ub}…)" if ua or ub else "")
    places = a.places & b.places
    if places:
        return f"place {min(places)}"
    months = a.months & b.months
    if months:
        return f"month {min(months)}"
    names = a.names & b.names
    if names:
        broad = broad_names()
        names = sorted(x for x in names if x in rare_names and x not in broad)
    if names and similarity >= NAME_ANCHOR_SIMILARITY:
        return f"name {names[0]}…"
    if not names:
        return None
    cross = cross_similarity() if callable(cross_similarity) else cross_similarity
    if cross >= CROSS_NAME_SIMILARITY:
        return f"name {names[0]}… (multilingual similarity {cross:.2f})"
    return None


def specific_place(name: str | None) -> bool:
    """True when a place name is more precise than a country (a town, a site, a region)."""
    if not name:
        return False
    return fold(name) not in _country_names()


@lru_cache(maxsize=1)
def _country_names() -> frozenset[str]:
    return frozenset(fold(form) for e in load_actor_catalog().entries if e.kind == "state" for form in (e.name, *e.aliases))


# Actors of these kinds name a country, a platform, an outlet or a bloc: sharing one says little about the happening.
BROAD_KINDS = frozenset({"state", "company", "media", "igo", "bloc", "alliance"})


@lru_cache(maxsize=1)
def broad_names() -> frozenset[str]:
    """Return the words (folded as document_names folds them) of the catalogue's countries, platforms, outlets and blocs."""
    out = set()
    for entry in load_actor_catalog().entries:
        if entry.kind in BROAD_KINDS:
            for form in (entry.name, *entry.aliases):
                out |= {fold(w)[:6] for w in _NAME.findall(form)}
    return frozenset(out)


def conflicting_figures(a: Statement, b: Statement, kinds_only: bool = False) -> str | None:
    """Return the figures of one counted thing two statements give differently ("figures 300 vs 500 (dead…)"), or None:
    figures that cannot both hold (`_figures_conflict`). With `kinds_only`, only figures of a kind of counted thing
    the ontology names (`extract.quantities.COUNTED_KINDS`: personnel told as troops, instructors, employees...)."""
    for va, vb, unit in _conflicts(a, b, kinds_only):
        return f"figures {va:g} vs {vb:g} ({unit}…)"
    return None


def figures_in_conflict(a: Statement, b: Statement) -> frozenset[float]:
    """Return the values of a's figures that conflict with one of b's (`conflicting_figures`)."""
    return frozenset(va for va, _, _ in _conflicts(a, b))


def _conflicts(a: Statement, b: Statement, kinds_only: bool = False) -> Iterator[tuple[float, float, str]]:
    for va, ua in a.figures:
        for vb, ub in b.figures:
            if ua and ua == ub and (not kinds_only or ua in COUNTED_KINDS) and \
                    _figures_conflict(a, b, va, vb, ua) is not None:
                yield va, vb, ua


def _figures_conflict(a: Statement, b: Statement, va: float, vb: float, unit: str) -> float | None:
    """Return how far apart two different figures of one unit are (their ratio) when they cannot both hold, else None:
    a figure given as a least ("at least 5") holds with any larger one, a figure given as a most ("only 5") with any
    smaller one and conflicts with every larger one; other figures conflict within a factor of ten."""
    if va == vb:
        return None
    (lo, lo_s), (hi, hi_s) = sorted(((va, a), (vb, b)), key=lambda t: t[0])
    if (lo, unit) in lo_s.at_least or (hi, unit) in hi_s.at_most:
        return None
    ratio = hi / max(1e-9, lo)
    if (lo, unit) in lo_s.at_most:
        return min(ratio, 10.0)
    return ratio if ratio <= 10 else None


def rare_names_of(names: dict[str, frozenset[str]], share: float = 0.25) -> frozenset[str]:
    """Return the proper names at most `share` of the documents use (at least two may): the specific ones."""
    df: dict[str, int] = defaultdict(int)
    for v in names.values():
        for x in v:
            df[x] += 1
    most = max(2, int(share * len(names)))
    return frozenset(x for x, c in df.items() if c <= most)


def _figures_relation(a: Statement, b: Statement) -> tuple[float, float]:
    """Return (same figure, conflicting figure): a shared counted value, or values of one unit far apart."""
    same = conflict = 0.0
    for va, ua in a.figures:
        for vb, ub in b.figures:
            if ua and ua == ub or (not ua and not ub):
                if va == vb:
                    same = 1.0
                else:
                    ratio = _figures_conflict(a, b, va, vb, ua)
                    if ratio is not None:
                        conflict = max(conflict, min(1.0, math.log(ratio) / math.log(3)))
            elif va == vb and va >= 10:
                same = max(same, 0.5)
    return same, conflict


def _jaccard(x: frozenset, y: frozenset) -> float:
    return len(x & y) / len(x | y) if x or y else 0.0


# Stance scores run from -2 to 2; a side is taken from 0.5 on (as the stance stage's sign does).
SIDE_TAKEN = 0.5


def stance_disagreement(a: dict[str, float], b: dict[str, float]) -> list[tuple[float, str]]:
    """Return the actors two documents take opposite sides on (both at least SIDE_TAKEN), with the weaker side's
    strength, strongest first."""
    out = []
    for actor in a.keys() & b.keys():
        sa, sb = a[actor], b[actor]
        if sa * sb < 0 and min(abs(sa), abs(sb)) >= SIDE_TAKEN:
            out.append((min(abs(sa), abs(sb)), actor))
    return sorted(out, key=lambda t: (-t[0], t[1]))


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


class StatementTable:
    """Statements as arrays, so that the CLAIM_FEATURES rows of many statement pairs come out at once.

    `pair_rows` gives, row for row and bit for bit, what `claim_pair_features` gives one pair at a time: the set
    overlaps (actors, places, words) are counted by looking each left statement's items up among the right one's
    (`_ItemSets`), the figures compared once per distinct pair of figure lists, the rest is column arithmetic in
    float64 (as Python's floats), cast to float32 at the end as `claim_pair_features` casts its row.
    """

    CHUNK = 4096  # rows computed at a time (bounds the lookup arrays: about 40 items a row at most)

    def __init__(self, statements: list[Statement]):
        self.statements = list(statements)
        self.actors = _ItemSets([s.actors for s in self.statements])
        self.places = _ItemSets([s.places for s in self.statements])
        self.words = _ItemSets([s.words for s in self.statements])
        self.negated = np.array([s.negated for s in self.statements], bool)
        self.debunks = np.array([s.debunks for s in self.statements], bool)
        codes: dict[str, int] = {}
        self.language = np.array([codes.setdefault(s.language or "", len(codes)) for s in self.statements], np.int64)
        self.counted = np.array([bool(s.figures) for s in self.statements], bool)
        self._figures: dict[tuple, tuple[float, float]] = {}
        # What `shared_anchor` can name: a figure's value, a place (above), a month, a proper name.
        self.specifics = _ItemSets([frozenset(("figure", v) for v, _ in s.figures) | {("month", m) for m in s.months}
                                    | {("name", x) for x in s.names} | {("place", x) for x in s.places}
                                    for s in self.statements])

    def may_anchor(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Return, per r, whether statements left[r] and right[r] share a figure's value, a place, a month or a proper
        name: without one `shared_anchor` finds nothing, and without figures on both sides neither does
        `conflicting_figures`."""
        return (self.specifics.shared(left, right) > 0) | (self.counted[left] & self.counted[right])

    def pair_rows(self, left: np.ndarray, right: np.ndarray, cos: np.ndarray, doc_cos: np.ndarray,
                  opposed: np.ndarray) -> np.ndarray:
        """Return the (n, CLAIM_FEATURES) float32 rows of the statement pairs (left[r], right[r]) (indices into the
        table) whose encoder cosine is cos[r], in documents whose cosine and stance opposition are doc_cos[r] and
        opposed[r]."""
        out = np.empty((len(left), len(CLAIM_FEATURES)), np.float32)
        for lo in range(0, len(left), self.CHUNK):
            part = slice(lo, lo + self.CHUNK)
            out[part] = self._rows(left[part], right[part], np.asarray(cos[part], np.float64),
                                   np.asarray(doc_cos[part], np.float64), np.asarray(opposed[part], np.float64))
        return out

    def _rows(self, left, right, cos, doc_cos, opposed) -> np.ndarray:
        actors = self.actors.shared(left, right)
        actors_union = self.actors.sizes[left] + self.actors.sizes[right] - actors
        words = self.words.shared(left, right)
        words_union = self.words.sizes[left] + self.words.sizes[right] - words
        same, conflict = np.zeros(len(left)), np.zeros(len(left))
        for r in np.flatnonzero(self.counted[left] & self.counted[right]).tolist():
            same[r], conflict[r] = self._figures_of(int(left[r]), int(right[r]))
        neg_one = (self.negated[left] != self.negated[right]).astype(np.float64)
        rows = np.empty((len(left), len(CLAIM_FEATURES)), np.float64)
        rows[:, 0] = 1.0
        rows[:, 1] = cos
        rows[:, 2] = _positive(cos - 0.5)
        rows[:, 3] = doc_cos
        rows[:, 4] = _positive(doc_cos - 0.6)
        rows[:, 5] = np.minimum(actors, 3) / 3
        rows[:, 6] = np.divide(actors, actors_union, out=np.zeros(len(left)), where=actors_union > 0)
        rows[:, 7] = self.places.shared(left, right) > 0
        rows[:, 8] = same
        rows[:, 9] = conflict
        rows[:, 10] = neg_one
        rows[:, 11] = self.negated[left] & self.negated[right]
        rows[:, 12] = self.debunks[left] | self.debunks[right]
        rows[:, 13] = self.language[left] == self.language[right]
        rows[:, 14] = np.divide(words, words_union, out=np.zeros(len(left)), where=words_union > 0)
        rows[:, 15] = opposed
        rows[:, 16] = cos * neg_one
        rows[:, 17] = cos * conflict
        rows[:, 18] = doc_cos * opposed
        return rows.astype(np.float32)

    def _figures_of(self, i: int, j: int) -> tuple[float, float]:
        a, b = self.statements[i], self.statements[j]
        key = (a.figures, a.at_most, a.at_least, b.figures, b.at_most, b.at_least)
        if key not in self._figures:
            self._figures[key] = _figures_relation(a, b)
        return self._figures[key]


def _positive(x: np.ndarray) -> np.ndarray:
    """max(0.0, x) element by element, as Python gives it (0.0 unless x > 0)."""
    return np.where(x > 0.0, x, 0.0)


class _ItemSets:
    """One set of items per statement (actors, places or words), as sorted item numbers, for counting overlaps."""

    def __init__(self, sets: list[frozenset]):
        numbers: dict = {}
        items = [sorted(numbers.setdefault(x, len(numbers)) for x in s) for s in sets]
        self.sizes = np.array([len(v) for v in items], np.int64)
        self.start = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)
        self.items = np.fromiter((x for v in items for x in v), np.int64, count=int(self.start[-1]))
        self.width = max(1, len(numbers))
        # (statement, item) as one sorted number: statement-major, items ascending within a statement.
        self.keys = np.repeat(np.arange(len(items), dtype=np.int64), self.sizes) * self.width + self.items

    def shared(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Return, per r, how many items statements left[r] and right[r] have in common."""
        lens = self.sizes[left]
        total = int(lens.sum())
        if not total or not len(self.keys):
            return np.zeros(len(left), np.int64)
        row = np.repeat(np.arange(len(left)), lens)
        at = np.arange(total) + np.repeat(self.start[left] - (np.cumsum(lens) - lens), lens)
        wanted = right[row] * self.width + self.items[at]
        found = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        return np.bincount(row[self.keys[found] == wanted], minlength=len(left))


EVENT_FEATURES = ("bias", "same_type", "date_agree", "date_precise_agree", "date_missing", "actors_shared",
                  "actors_jaccard", "place_same", "place_differs", "toll_close", "toll_far", "cos", "cos_high", "doc_cos",
                  "doc_cos_high", "words_jaccard")


def event_pair_features(a: dict, b: dict, cos: float, doc_cos: float) -> np.ndarray:
    """Return the feature row (EVENT_FEATURES order) of two event tellings.

    `a` and `b` are plain dicts with type, date, actors (set of canonical names), location,
    fatalities and words (set), so gold events and extracted ones go through the same function.
    """
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


class EventTable:
    """Event views (`links.event_view`) as arrays, so that the EVENT_FEATURES rows of many event pairs come out at
    once: row for row and bit for bit what `event_pair_features` gives one pair at a time (the dates compared once per
    distinct pair of dates)."""

    def __init__(self, views: list[dict]):
        codes: dict = {}
        self.type = np.array([codes.setdefault(("type", v.get("type")), len(codes)) for v in views], np.int64)
        self.place = np.array([codes.setdefault(("place", v.get("location")), len(codes)) if v.get("location") else -1
                               for v in views], np.int64)
        self.dates = [v.get("date") or "" for v in views]
        self.fatalities = np.array([v.get("fatalities") or 0 for v in views], np.float64)
        self.actors = _ItemSets([frozenset(v.get("actors", frozenset())) for v in views])
        self.words = _ItemSets([frozenset(v.get("words", ())) for v in views])
        self._agree: dict[tuple[str, str], bool] = {}

    def pair_rows(self, left: np.ndarray, right: np.ndarray, cos: np.ndarray, doc_cos: np.ndarray) -> np.ndarray:
        """Return the (n, EVENT_FEATURES) float32 rows of the event pairs (left[r], right[r]) whose sentences' encoder
        cosine is cos[r], in documents whose cosine is doc_cos[r]."""
        n = len(left)
        cos, doc_cos = np.asarray(cos, np.float64), np.asarray(doc_cos, np.float64)
        agree, precise, missing = np.zeros(n), np.zeros(n), np.zeros(n)
        for r, (i, j) in enumerate(zip(left.tolist(), right.tolist())):
            da, db = self.dates[i], self.dates[j]
            if not da or not db:
                missing[r] = 1.0
            elif self._dates_agree(da, db):
                agree[r] = 1.0
                precise[r] = float(len(da) >= 7 and len(db) >= 7)
        fa, fb = self.fatalities[left], self.fatalities[right]
        tolls = (fa != 0) & (fb != 0)
        ratio = np.divide(np.maximum(fa, fb), np.minimum(fa, fb), out=np.ones(n), where=tolls)
        actors = self.actors.shared(left, right)
        actors_union = self.actors.sizes[left] + self.actors.sizes[right] - actors
        words = self.words.shared(left, right)
        words_union = self.words.sizes[left] + self.words.sizes[right] - words
        la, lb = self.place[left], self.place[right]
        placed = (la >= 0) & (lb >= 0)
        rows = np.empty((n, len(EVENT_FEATURES)), np.float64)
        rows[:, 0] = 1.0
        rows[:, 1] = self.type[left] == self.type[right]
        rows[:, 2] = agree
        rows[:, 3] = precise
        rows[:, 4] = missing
        rows[:, 5] = np.minimum(actors, 3) / 3
        rows[:, 6] = np.divide(actors, actors_union, out=np.zeros(n), where=actors_union > 0)
        rows[:, 7] = placed & (la == lb)
        rows[:, 8] = placed & (la != lb)
        rows[:, 9] = tolls & (ratio <= 3)
        rows[:, 10] = tolls & (ratio > 6)
        rows[:, 11] = cos
        rows[:, 12] = _positive(cos - 0.5)
        rows[:, 13] = doc_cos
        rows[:, 14] = _positive(doc_cos - 0.6)
        rows[:, 15] = np.divide(words, words_union, out=np.zeros(n), where=words_union > 0)
        return rows.astype(np.float32)

    def _dates_agree(self, da: str, db: str) -> bool:
        key = (da, db)
        if key not in self._agree:
            self._agree[key] = bool(dates_compatible(da, db))
        return self._agree[key]


_NAME = re.compile(r"(?<![\w’'-])[A-ZÀ-Ý][\w’'-]{3,}", re.U)
_LOWER_WORD = re.compile(r"(?<![\w’'-])[a-zà-ÿ][\w’'-]{3,}", re.U)
_OPENING = re.compile(r"(?:^|[.!?:;\n\"«“(—-])\s*$")


def document_names(text: str) -> frozenset[str]:
    """Return the proper names a text uses: capitalised words it never writes in lower case, seen at least once
    inside a sentence; folded and cut to six letters, so spellings and languages meet (Touadéra / Touadera)."""
    lower = {fold(w) for w in _LOWER_WORD.findall(text)}
    out = set()
    for m in _NAME.finditer(text):
        name = fold(m.group(0))
        if name in lower or _OPENING.search(text[max(0, m.start() - 3):m.start()]) or _calendar_word(name):
            continue
        out.add(name[:6])
    return frozenset(out)


def names_similarity(a: frozenset[str], b: frozenset[str], df: dict[str, int], n: int) -> float:
    """Return the rarity-weighted cosine of two documents' proper names (a name most documents use counts little)."""
    if not a or not b or n < 2:
        return 0.0

    def weight(name: str) -> float:
        return _name_weight(df.get(name, 1), n)

    # Summed in name order: a set's order varies with how it was built, and float sums with their order (the blocked
    # pass builds these sets otherwise than the whole-corpus one, and near-equal values decide partner ranks).
    shared = sum(weight(x) for x in sorted(a & b))
    return shared / math.sqrt(sum(weight(x) for x in sorted(a)) * sum(weight(x) for x in sorted(b))) if shared else 0.0


@lru_cache(maxsize=65536)
def _name_weight(count: int, n: int) -> float:
    """The rarity weight of a name `count` of `n` documents use (names_similarity)."""
    return (math.log(1 + n / max(1, count)) / math.log(1 + n)) ** 2


# Document cosines closer than this rank alike: `cos_rank_*` give each partner a smooth rank (`smooth_steps`). The int8
# shared pass moves the gap between two partners' cosines of one document by 0.0026 at the median, 0.0101 at the 99th
# percentile and 0.016 at most (development and cross-source documents, training/links/rank_spread.py).
DOC_COS_TOLERANCE = 0.01
# A partner's share of a smooth rank is counted in these steps, so that sums are exact in any order (SQL's too).
RANK_STEPS = 64


def smooth_steps(gap: float, tolerance: float) -> int:
    """Return how much (in RANK_STEPS) a partner `gap` above another counts toward the other's rank: all of it from
    `tolerance` above, none from `tolerance` below, half when equal, linear between. reconcile.blocks computes the same
    in SQL."""
    return min(RANK_STEPS, max(0, int((gap + tolerance) * (RANK_STEPS / 2) / tolerance + 0.5)))


def smooth_rank(steps: int) -> float:
    """Return the reciprocal rank of a partner `steps` (`smooth_steps` summed over its rivals) below the top."""
    return 1.0 / (1 + steps / RANK_STEPS)


def reciprocal_ranks(scores: dict[tuple[str, str], float], language: dict[str, str | None],
                     tolerance: float = 0.0) -> dict[tuple[str, str], tuple[float, float]]:
    """Return, per document pair, (best, mutual) reciprocal rank of each among the other's partners of its language.

    Ranking within the partner's language keeps a French telling of a story from losing to every English
    document on an English-trained similarity: what counts is being the nearest of its kind. `best` is the
    stronger of the two directions, `mutual` the weaker. With a `tolerance` the rank is smooth: each rival counts
    `smooth_steps` of its gap, so that two partners of near-equal value share a rank between theirs and a small
    move of the values moves the ranks a little (without: 1 + the rivals of higher value, ties by id).
    """
    partners: dict[tuple[str, str | None], list[tuple[float, str]]] = defaultdict(list)
    for (a, b), v in scores.items():
        partners[(a, language.get(b))].append((v, b))
        partners[(b, language.get(a))].append((v, a))
    rank: dict[tuple[str, str], float] = {}
    for (a, _), items in partners.items():
        if tolerance:
            # Rivals two tolerances or more above count all their steps, as far below none: only those in between are
            # read one by one (the partner itself among them, counting smooth_steps(0)).
            values, band = sorted(v for v, _ in items), 2 * tolerance
            for v, b in items:
                lo, hi = bisect_right(values, v - band), bisect_left(values, v + band)
                steps = RANK_STEPS * (len(values) - hi) + sum(smooth_steps(w - v, tolerance) for w in values[lo:hi])
                rank[(a, b)] = smooth_rank(steps - smooth_steps(0.0, tolerance))
            continue
        for r, (_, b) in enumerate(sorted(items, key=lambda t: (-t[0], t[1])), 1):
            rank[(a, b)] = 1.0 / r
    return {(a, b): (max(rank[(a, b)], rank[(b, a)]), min(rank[(a, b)], rank[(b, a)])) for a, b in scores}


def document_figures(statements: list[Statement]) -> frozenset[float]:
    """Return the figures of ten or more (counts, tolls, sums) a document's statements give."""
    return frozenset(v for s in statements for v, _ in s.figures if v >= 10)


def corpus_context(pairs: list[tuple[str, str]], doc_cos: dict[tuple[str, str], float], names: dict[str, frozenset[str]],
                   figures: dict[str, frozenset[float]], language: dict[str, str | None],
                   story: dict[tuple[str, str], tuple[float, float]] | None = None,
                   assertion: dict[tuple[str, str], float] | None = None) -> dict[tuple[str, str], tuple]:
    """Return, per document pair, the CONTEXT_FEATURES values: how each ranks among the other's partners by meaning
    (smoothly, within DOC_COS_TOLERANCE) and by shared rare names, the names' cosine, the figures both give, and the
    multilingual story similarity of their leads (`story`: (centred, raw) from links.story_similarities; zeros when
    not given) with the ranks of the raw one, and the nearest two claims in centred multilingual meaning (`assertion`,
    links.assertion_similarity).
    Pairs are the candidate pairs of one corpus."""
    df: dict[str, int] = defaultdict(int)
    for v in names.values():
        for x in v:
            df[x] += 1
    n = len(names)
    name_sim = {p: names_similarity(names.get(p[0], frozenset()), names.get(p[1], frozenset()), df, n) for p in pairs}
    cos_rank = reciprocal_ranks({p: doc_cos[p] for p in pairs}, language, DOC_COS_TOLERANCE)
    name_rank = reciprocal_ranks(name_sim, language)
    story = story or {}
    story_rank = reciprocal_ranks({p: story.get(p, (0.0, 0.0))[1] for p in pairs}, language)
    return {p: (*cos_rank[p], name_sim[p], *name_rank[p],
                min(3, len(figures.get(p[0], frozenset()) & figures.get(p[1], frozenset()))) / 3,
                story.get(p, (0.0, 0.0))[0], *(story_rank[p] if p in story else (0.0, 0.0)),
                (assertion or {}).get(p, 0.0)) for p in pairs}


CONTEXT_FEATURES = ("cos_rank_best", "cos_rank_mutual", "names_cos", "names_rank_best", "names_rank_mutual",
                    "figures_shared", "story_centred", "story_rank_best", "story_rank_mutual", "assertion_centred")
DOC_FEATURES = ("bias", "doc_cos", "doc_cos_high", "same_language", "stance_opposed", "corroborates_max",
                "corroborates_second", "corroborates_top3", "contradicts_max", "contradicts_second", "contradicts_top3",
                "same_event_max", "same_event_second", "same_event_top3", *CONTEXT_FEATURES)
LINK_KINDS = ("same_event", "corroborates", "contradicts")


def _top(values: list[float]) -> tuple[float, float, float]:
    top = sorted(values, reverse=True)[:3] + [0.0, 0.0, 0.0]
    return top[0], top[1], sum(top[:3])


def doc_pair_features(doc_cos: float, same_language: bool, opposed: float, corroborates: list[float],
                      contradicts: list[float], same_event: list[float], context: tuple = ()) -> np.ndarray:
    """Return the feature row (DOC_FEATURES order) of two documents from their item pairs' probabilities and their
    corpus context (`corpus_context`; zeros when not given)."""
    context = tuple(context) or (0.0,) * len(CONTEXT_FEATURES)
    return np.array([1.0, doc_cos, max(0.0, doc_cos - 0.6), float(same_language), opposed,
                     *_top(corroborates), *_top(contradicts), *_top(same_event), *context], np.float32)


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

    # The same probabilities for many groups of rows at once (`off`: group k is rows off[k]:off[k+1]), value for value
    # what the methods above give group by group: the element-wise steps run on all rows, the matrix product group by
    # group, because BLAS gives other last bits for other shapes.

    def claim_probabilities_of(self, rows: np.ndarray, off: np.ndarray) -> np.ndarray:
        """Return `claim_probabilities` of each group of rows, stacked."""
        x = (rows - self.claim_mean) / self.claim_scale
        x[:, 0] = 1.0
        return softmax_rows(_grouped_product(x, self.claim_weights, off))

    def event_probabilities_of(self, rows: np.ndarray, off: np.ndarray) -> np.ndarray:
        """Return `event_probabilities` of each group of rows, stacked."""
        x = (rows - self.event_mean) / self.event_scale
        x[:, 0] = 1.0
        return 1.0 / (1.0 + np.exp(-_grouped_product(x, self.event_weights, off)))

    def document_probabilities_of(self, kind: str, rows: np.ndarray) -> np.ndarray:
        """Return `document_probabilities` of each row as if given alone."""
        w, mean, scale = self.documents[kind]
        x = (rows - mean) / scale
        x[:, 0] = 1.0
        return 1.0 / (1.0 + np.exp(-_grouped_product(x, w, np.arange(len(rows) + 1))))


def _grouped_product(x: np.ndarray, w: np.ndarray, off: np.ndarray) -> np.ndarray:
    out = np.zeros((len(x), *w.shape[1:]), np.result_type(x, w))
    for lo, hi in zip(off[:-1].tolist(), off[1:].tolist()):
        if hi > lo:
            out[lo:hi] = x[lo:hi].copy() @ w
    return out


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
