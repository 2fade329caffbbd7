"""Link events from different documents that tell one real happening, and record where the tellings differ.

Candidates come from blocking: an event is filed under (type, actor) for each of its actors, so
only events that share a type and a party are ever compared — cost grows with the number of
events times the (bounded) size of a block, not with its square across the corpus.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass

from ..extract.dates import dates_compatible
from ..records import Event, Link

# Actors so common that sharing them says little ("Russia" in a corpus about Russia); a pair
# needs another shared party, or a shared place, a compatible date and similar words.
_WINDOW = 60
_WORD = re.compile(r"[^\W\d_]{4,}", re.U)
_STOP = {"that", "with", "from", "have", "been", "were", "their", "they", "this", "which", "when", "also", "after", "before",
         "into", "over", "more", "than", "about", "while", "since", "where", "would", "could", "dans", "avec", "pour", "sont", "leur"}


@dataclass(frozen=True, slots=True)
class _Candidate:
    a: Event
    b: Event
    score: float


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOP


_WORDS_CACHE: dict[str, frozenset[str]] = {}


def _words_of(e: Event) -> frozenset[str]:
    words = _WORDS_CACHE.get(e.id)
    if words is None:
        if len(_WORDS_CACHE) > 500_000:
            _WORDS_CACHE.clear()
        words = _WORDS_CACHE[e.id] = frozenset(_words(e.evidence))
    return words


def link_id(kind: str, items: list[str]) -> str:
    """Return the stable id of a link: a hash of its kind and its sorted items."""
    return "ln_" + hashlib.sha1(f"{kind}:{','.join(sorted(items))}".encode()).hexdigest()[:16]


def pair_score(a: Event, b: Event) -> float:
    """Return how likely two tellings (same type, different documents) are one happening, in [0, 1].

    Evidence for: a shared party in the same role (above all the agent), more shared parties,
    similar words, dates that agree at a precision both give, the same place, death tolls of the
    same order. Evidence against: different places, incompatible dates (then 0).
    """
    if a.type != b.type or a.doc == b.doc or not dates_compatible(a.date, b.date):
        return 0.0
    ra, rb = {x.name: x.role for x in a.actors}, {x.name: x.role for x in b.actors}
    shared = ra.keys() & rb.keys()
    if not shared:
        return 0.0
    same_role = any(ra[n] == rb[n] for n in shared)
    score = 0.3 if same_role else 0.15
    score += 0.15 * len(shared) / len(ra.keys() | rb.keys())
    wa, wb = _words_of(a), _words_of(b)
    score += 0.3 * len(wa & wb) / max(1, min(len(wa), len(wb)))
    if a.date and b.date:
        score += 0.2 + (0.1 if len(a.date) >= 7 and len(b.date) >= 7 else 0.0)
    if a.location and b.location:
        if a.location != b.location:
            score -= 0.3
        else:
            # The same town says much; the same country little.
            score += 0.05 if _country_level(a.location) else 0.25
    if a.fatalities and b.fatalities:
        ratio = max(a.fatalities, b.fatalities) / min(a.fatalities, b.fatalities)
        if ratio <= 3:
            # Tolls of the same order; a mass killing of hundreds is rare enough to be telling.
            score += 0.3 if min(a.fatalities, b.fatalities) >= 100 else 0.15
        elif ratio > 6:
            score -= 0.3
    return max(0.0, min(1.0, score))


def _country_level(location: str) -> bool:
    try:
        from ..extract.places import geocode

        place = geocode(location)
    except Exception:  # the place index is optional here: without it, treat the place as precise
        return False
    return place is not None and place.precision == "country"


def disagreements(events: list[Event]) -> list[str]:
    """Return how the tellings of one happening differ: date, fatalities, actors, place."""
    out = []
    dates = sorted({e.date or "undated" for e in events})
    if len(dates) > 1:
        out.append("date: " + " vs ".join(dates))
    tolls = sorted({(f"{e.fatalities_qualifier} " if e.fatalities_qualifier else "") + str(e.fatalities) for e in events if e.fatalities is not None})
    if len(tolls) > 1 or (tolls and any(e.fatalities is None for e in events)):
        out.append("fatalities: " + " vs ".join(tolls + (["not given"] if any(e.fatalities is None for e in events) else [])))
    places = sorted({e.location for e in events if e.location})
    if len(places) > 1:
        out.append("place: " + " vs ".join(places))
    sets = [{x.name for x in e.actors} for e in events]
    only = sorted(set.union(*sets) - set.intersection(*sets)) if sets else []
    if only:
        out.append("actors named by only some: " + ", ".join(only))
    return out


def _more_precise(a: str | None, b: str | None) -> str | None:
    """Return the more precise of two agreeing ISO dates (the longer one; a missing date gives way)."""
    return a if a and (not b or len(a) > len(b)) else b


def link_same_events(events: list[Event], threshold: float = 0.55, focus: set[str] | None = None,
                     existing: list[Link] = ()) -> list[Link]:
    """Return same_event links over events of different documents, each with its disagreements.

    Incremental use: with `focus` (the documents just analysed) only pairs that involve one of them
    are scored, and the `existing` same_event links among the other documents are kept and joined
    with the new pairs — adding a document does not redo the whole corpus.
    """
    blocks: dict[tuple[str, str], list[Event]] = defaultdict(list)
    for ev in events:
        for actor in {x.name for x in ev.actors}:
            blocks[(ev.type, actor)].append(ev)
    best: dict[tuple[str, str], float] = {}

    def compare(a: Event, b: Event) -> None:
        if a.doc == b.doc or (focus is not None and a.doc not in focus and b.doc not in focus):
            return
        key = (a.id, b.id) if a.id < b.id else (b.id, a.id)
        if key not in best:
            best[key] = pair_score(a, b)

    for members in blocks.values():
        if len(members) < 2:
            continue
        dated = sorted((e for e in members if e.date), key=lambda e: (e.date, e.id))
        undated = [e for e in members if not e.date]
        # Sorted neighbourhood: a dated telling meets only the tellings nearest to it in time.
        for i, a in enumerate(dated):
            for b in dated[i + 1 : i + 1 + _WINDOW]:
                if b.date[:4] > a.date[:4] and len(a.date) >= 4 and b.date[: len(a.date)] != a.date:
                    break
                compare(a, b)
        # An undated telling may be any of them: it meets those that share its place, else those
        # with a death toll of the same order, else the block's latest — a bounded number either way.
        by_place: dict[str, list[Event]] = defaultdict(list)
        with_toll: list[Event] = []
        for e in members:
            if e.location:
                by_place[e.location].append(e)
            if e.fatalities:
                with_toll.append(e)
        with_toll.sort(key=lambda e: e.fatalities)
        tolls = [e.fatalities for e in with_toll]
        for a in undated:
            if a.location and len(by_place[a.location]) > 1:
                pool = by_place[a.location][:_WINDOW]
            elif a.fatalities:
                lo = bisect.bisect_left(tolls, a.fatalities / 3)
                hi = bisect.bisect_right(tolls, a.fatalities * 3)
                pool = with_toll[lo:hi][:_WINDOW]
            else:
                pool = dated[-_WINDOW:] + undated[:_WINDOW]
            for b in pool:
                if b is not a:
                    compare(a, b)
    # Keep each event's strongest partner per other document, then join pairs into groups.
    by_id = {e.id: e for e in events}
    chosen: dict[tuple[str, str], tuple[str, float]] = {}
    for (x, y), score in best.items():
        if score < threshold:
            continue
        for me, other in ((x, y), (y, x)):
            k = (me, by_id[other].doc)
            if k not in chosen or score > chosen[k][1]:
                chosen[k] = (other, score)
    parent = {}

    def find(n):
        while parent.setdefault(n, n) != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    scores: dict[str, float] = {}
    if focus is not None:
        for link in existing:
            kept = [i for i in link.items if i in by_id and by_id[i].doc not in focus]
            for a, b in zip(kept, kept[1:]):
                parent[find(a)] = find(b)
            for i in kept:
                scores[i] = max(scores.get(i, 0), link.score)
    # Per group (by its root): the most precise date among its tellings and the documents they come from. Dates
    # that agree pairwise at their common precision are all prefixes of the most precise one, so two groups may join
    # when their most precise dates agree and they share no document: one check per join, not one per member pair.
    groups_info: dict[str, tuple[str | None, set[str]]] = {}

    def note(n: str) -> None:
        root = find(n)
        date, docs = groups_info.get(root, (None, set()))
        docs.add(by_id[n].doc)
        groups_info[root] = (_more_precise(by_id[n].date, date), docs)

    for n in list(parent):
        note(n)

    def info(n: str) -> tuple[str, str | None, set[str]]:
        root = find(n)
        if root not in groups_info:
            note(n)
        return (root, *groups_info[root])

    mutual = sorted(
        {(score, min(me, other), max(me, other)) for (me, _), (other, score) in chosen.items()
         if chosen.get((other, by_id[me].doc), (None,))[0] == me},
        reverse=True,
    )
    for score, me, other in mutual:  # strongest pairs first
        ra, date_a, docs_a = info(me)
        rb, date_b, docs_b = info(other)
        if ra == rb:
            continue
        # Joining must not make one happening of tellings whose dates disagree (or two from one document).
        if not dates_compatible(date_a, date_b) or not docs_a.isdisjoint(docs_b):
            continue
        parent[ra] = rb
        small, large = (docs_a, docs_b) if len(docs_a) < len(docs_b) else (docs_b, docs_a)
        large.update(small)
        groups_info[rb] = (_more_precise(date_a, date_b), large)
        del groups_info[ra]
        scores[me] = max(scores.get(me, 0), score)
        scores[other] = max(scores.get(other, 0), score)
    groups: dict[str, list[str]] = defaultdict(list)
    for n in list(parent):
        groups[find(n)].append(n)
    links = []
    for members in groups.values():
        if len(members) < 2:
            continue
        items = sorted(members)
        evs = [by_id[i] for i in items]
        detail = "; ".join(disagreements(evs)) or "tellings agree"
        links.append(Link(link_id("same_event", items), "same_event", tuple(items), detail, round(max(scores[i] for i in items), 3)))
    return sorted(links, key=lambda l: l.id)
