"""Link events from different documents that tell one real happening, and record where the tellings differ.

Candidates come from blocking at the document level (reconcile.links.candidate_documents: a
bounded number of neighbours per document within a shared main actor), so cost grows with the
number of documents, not with its square; the tellings of two candidate documents are compared
by the learned event-pair model.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from ..extract.dates import date_span, dates_compatible
from ..records import Event, Link


# Two groups (or a telling and a group) join when more than this share of their document pairs are plausible partners
# (same_event confidence >= `same_event_join`): one pair the document model misses does not split a happening that
# the other pairs agree on, and a chain of look-alikes (a third document plausible to one of two) does not make one.
JOIN_SHARE = 0.5


def link_id(kind: str, items: list[str]) -> str:
    """Return the stable id of a link: a hash of its kind and its sorted items."""
    return "ln_" + hashlib.sha1(f"{kind}:{','.join(sorted(items))}".encode()).hexdigest()[:16]


def pair_score(a: Event, b: Event) -> float:
    """Return the learned probability that two tellings from different documents are one happening, in [0, 1].

    Compared: type, date window (precise agreement counts more; a vague or missing date is not
    held against it), shared participants, place, toll and meaning. Without their documents, the
    tellings' own sentences stand for them. Incompatible dates or one document give 0.
    """
    from ..extract.encoder import encode_sentences
    from .features import event_pair_features, load_link_models
    from .links import event_view

    if a.doc == b.doc or not dates_compatible(a.date, b.date):
        return 0.0
    va, vb = encode_sentences([a.evidence, b.evidence])
    cos = float(va @ vb)
    views = [event_view(e.type, e.date, {x.name for x in e.actors}, e.location, e.fatalities, e.evidence) for e in (a, b)]
    row = event_pair_features(views[0], views[1], cos, cos)[None, :]
    return round(float(load_link_models().event_probabilities(row)[0]), 3)


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


# Tellings of one happening dated this many days apart still agree: one outlet dates a deployment by its announcement,
# another by the day it wrote, and a date read from a report's own day is no disagreement.
DATE_WINDOW_DAYS = 31


def dates_near(a: str | None, b: str | None, days: int = DATE_WINDOW_DAYS) -> bool:
    """True when two ISO dates agree at the precision both give or the periods they cover lie within `days` days."""
    if dates_compatible(a, b):
        return True
    sa, sb = date_span(a), date_span(b)
    if sa is None or sb is None:
        return False
    gap = max((sb[0] - sa[1]).days, (sa[0] - sb[1]).days)
    return gap <= days


def _more_precise(a: str | None, b: str | None) -> str | None:
    """Return the more precise of two agreeing ISO dates (the longer one; a missing date gives way)."""
    return a if a and (not b or len(a) > len(b)) else b


def _tellings(events: list[Event]) -> dict[str, tuple[str, int]]:
    """Return per event id its telling: (document, index of the run of overlapping evidence spans it falls in)."""
    out: dict[str, tuple[str, int]] = {}
    by_doc: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_doc[e.doc].append(e)
    for doc, evs in by_doc.items():
        run, end = -1, -1
        for e in sorted(evs, key=lambda e: (e.start, e.end, e.id)):
            if e.start >= end:
                run += 1
            end = max(end, e.end)
            out[e.id] = (doc, run)
    return out


def link_same_events(events: list[Event], threshold: float | None = None, focus: set[str] | None = None,
                     existing: list[Link] = (), found: dict | None = None, documents: list = ()) -> list[Link]:
    """Return same_event links over events of different documents, one group per happening, with its disagreements.

    The pair models (`compare_documents` in reconcile.claims, or `found` when the caller already
    has them) say which documents tell a common happening (document-level confidence, kept at or
    above the `threshold` cut-off, the calibrated one by default) and which of their tellings match
    (type, date window, participants, place, toll and meaning compared by a learned model). A group
    never holds two tellings from one document or dates more than DATE_WINDOW_DAYS apart; each join is a confident
    pair, and more than half (JOIN_SHARE) of the document pairs it makes must be plausible pairs (same_event
    confidence >= the `same_event_join` cut-off), so a chain of look-alikes does not make one happening; a pair
    refused is tried once more after all others. The events a document reads from one stretch of words are one
    telling: a join through any of them goes through the one already grouped, so one document matched to a third by
    one reading of a sentence and to a fourth by another joins both in one group.

    Incremental use: with `focus` (the documents just analysed) only pairs that involve one of them
    are scored, and the `existing` same_event links among the other documents are kept and joined
    with the new pairs — adding a document does not redo the whole corpus.
    """
    from .features import load_link_models

    if found is None:
        found = _pair_models(events, documents, focus)
    models = load_link_models()
    cut = models.thresholds["same_event"] if threshold is None else threshold
    join_cut = models.thresholds.get("same_event_join", cut) if threshold is None else threshold
    pairs = _candidate_pairs(found, cut, join_cut)
    grouping = _Grouping(events, pairs)
    if focus is not None:
        grouping.keep(existing, focus)
    grouping.index_kept()
    # Strongest pairs first; a pair refused once is tried again after the others, when its groups may have grown.
    refused = [e for e in sorted(pairs.edges, key=lambda t: (-t[0], t[1], t[2])) if not grouping.join(*e)]
    for e in refused:
        grouping.join(*e)
    return _group_links(grouping, pairs)


def _pair_models(events: list[Event], documents: list, focus: set[str] | None) -> dict:
    """Return the document-pair models over `documents` (or, without them, documents made of the events' evidence)."""
    from .claims import compare_documents

    docs = list(documents)
    if not docs:
        from ..records import Document

        texts: dict[str, list[str]] = defaultdict(list)
        for e in events:
            texts[e.doc].append(e.evidence)
        docs = [Document(d, d, d, "\n".join(t)) for d, t in texts.items()]
    return compare_documents(docs, [], events, focus=focus)


@dataclass
class _Pairs:
    """What the pair models say, for grouping: the confident document pairs, the plausible ones (for the join share),
    the event pairs to try as (score, event, event), and the reason (anchor) of each event pair."""

    anchors: dict[tuple[str, str], str] = field(default_factory=dict)
    confident: dict[tuple[str, str], float] = field(default_factory=dict)
    edges: list[tuple[float, str, str]] = field(default_factory=list)
    plausible: set[tuple[str, str]] = field(default_factory=set)


def _candidate_pairs(found: dict, cut: float, join_cut: float) -> _Pairs:
    """Return the pairs of `found` at or above the cut-offs: per confident document pair its best event pair, and the
    other event pairs that are each other's best match with probability 0.5 or more."""
    pairs = _Pairs()
    for (da, db), f in found.items():
        conf = f.confidence["same_event"]
        if conf >= join_cut:
            pairs.plausible.add((da, db) if da < db else (db, da))
        if conf < cut or not f.event_pairs:
            continue
        pairs.confident[(da, db)] = conf
        pairs.anchors.update(f.event_anchors or {})
        ranked = sorted(f.event_pairs, key=lambda t: (-t[0], t[1], t[2]))
        best_of: dict[str, tuple[float, str]] = {}
        for p, x, y in ranked:
            best_of.setdefault(x, (p, y))
            best_of.setdefault(y, (p, x))
        top = ranked[0]
        pairs.edges.append((conf * 1.0, top[1], top[2]))
        for p, x, y in ranked[1:]:
            if p >= 0.5 and best_of[x][1] == y and best_of[y][1] == x:
                pairs.edges.append((conf * p / top[0], x, y))
    return pairs


class _Grouping:
    """Union-find over events: groups of tellings of one happening, with each group's most precise date and documents.

    One telling: the events a document reads from one stretch of words (a statement condemning a deployment is read
    as both). Each pair model compares events one by one, so two documents may match one event of a telling and a
    third document the other: a join goes through the telling's first grouped event; a group holds one per telling.
    """

    def __init__(self, events: list[Event], pairs: _Pairs):
        self.by_id = {e.id: e for e in events}
        self.pairs = pairs
        self.parent: dict[str, str] = {}
        self.telling = _tellings(events)
        self.chosen: dict[tuple[str, int], str] = {}
        self.scores: dict[str, float] = {}
        self.kept_pairs: set[tuple[str, str]] = set()
        # Per group (by its root): the most precise date among its tellings and the documents they come from.
        self.groups_info: dict[str, tuple[str | None, set[str]]] = {}
        # The groups the kept links made, listed once (a root met later without an entry is a single telling).
        self.kept_groups: dict[str, list[str]] = defaultdict(list)

    def find(self, n: str) -> str:
        parent = self.parent
        while parent.setdefault(n, n) != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    def keep(self, existing: list[Link], focus: set[str]) -> None:
        """Keep the `existing` same_event links among documents outside `focus` (incremental use)."""
        for link in existing:
            if link.kind != "same_event":
                continue
            kept = [i for i in link.items if i in self.by_id and self.by_id[i].doc not in focus]
            for a, b in zip(kept, kept[1:]):
                self.parent[self.find(a)] = self.find(b)
            for i in kept:
                self.scores[i] = max(self.scores.get(i, 0), link.score)
                self.chosen.setdefault(self.telling.get(i), i)
            ds = sorted({self.by_id[i].doc for i in kept})
            self.kept_pairs |= {(x, y) for k, x in enumerate(ds) for y in ds[k + 1:]}

    def index_kept(self) -> None:
        """List the members of the groups made so far (by the kept links), once, before any join."""
        for k in list(self.parent):
            self.kept_groups[self.find(k)].append(k)

    def _resolve(self, n: str) -> str:
        return self.chosen.get(self.telling.get(n), n)

    def _info(self, n: str) -> tuple[str, str | None, set[str]]:
        root = self.find(n)
        if root not in self.groups_info:
            date, docs = None, set()
            for m in self.kept_groups.get(root) or [n]:
                date = _more_precise(self.by_id[m].date, date)
                docs.add(self.by_id[m].doc)
            self.groups_info[root] = (date, docs)
        return (root, *self.groups_info[root])

    def _agreed(self, x: str, y: str) -> bool:
        key = (x, y) if x < y else (y, x)
        return key in self.pairs.confident or key in self.kept_pairs or key in self.pairs.plausible

    def join(self, score: float, me: str, other: str) -> bool:
        """Join the groups of two events when their dates are near, their documents disjoint and more than JOIN_SHARE
        of the document pairs the join makes are plausible; return whether they are (now) one group."""
        anchors = self.pairs.anchors
        told = anchors.get((me, other))
        me, other = self._resolve(me), self._resolve(other)
        ra, date_a, docs_a = self._info(me)
        rb, date_b, docs_b = self._info(other)
        if ra == rb:
            return True
        if not dates_near(date_a, date_b) or not docs_a.isdisjoint(docs_b):
            return False
        if sum(self._agreed(x, y) for x in docs_a for y in docs_b) <= JOIN_SHARE * len(docs_a) * len(docs_b):
            return False
        self.parent[ra] = rb
        self.groups_info[rb] = (_more_precise(date_a, date_b), docs_a | docs_b)
        self.groups_info.pop(ra, None)
        self.scores[me] = max(self.scores.get(me, 0), score)
        self.scores[other] = max(self.scores.get(other, 0), score)
        self.chosen.setdefault(self.telling.get(me), me)
        self.chosen.setdefault(self.telling.get(other), other)
        if told and (me, other) not in anchors:  # the reason goes with the tellings the group keeps
            anchors[(me, other)] = anchors[(other, me)] = told
        return True

    def groups(self) -> list[list[str]]:
        """Return the members of every group, singletons included."""
        groups: dict[str, list[str]] = defaultdict(list)
        for n in list(self.parent):
            groups[self.find(n)].append(n)
        return list(groups.values())


def _group_links(grouping: _Grouping, pairs: _Pairs) -> list[Link]:
    """Return one same_event link per group of two or more tellings, with its disagreements, reasons and confidence
    (the least confident of its document pairs)."""
    links = []
    for members in grouping.groups():
        if len(members) < 2:
            continue
        items = sorted(members)
        evs = [grouping.by_id[i] for i in items]
        detail = "; ".join(disagreements(evs)) or "tellings agree"
        why = sorted({pairs.anchors[(x, y)] for x in items for y in items if (x, y) in pairs.anchors})
        if why:
            detail += " (one happening: " + "; ".join(why) + ")"
        ds = sorted({e.doc for e in evs})
        conf = min((pairs.confident.get((x, y), grouping.scores.get(items[0], 0.0)) for k, x in enumerate(ds) for y in ds[k + 1:]),
                   default=0.0)
        links.append(Link(link_id("same_event", items), "same_event", tuple(items), detail, round(conf, 3)))
    return sorted(links, key=lambda l: l.id)
