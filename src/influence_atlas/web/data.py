"""What each view shows, computed from the store and shared by the web app and the one-file report.

Every function returns plain JSON-ready dicts. Corpus-wide aggregates (events grouped into
happenings, the actor network, per-document counts) are computed once per state of the
database by `Corpus` and reused until the database changes, so that a page on a database of
10,000 documents costs a filter over lists in memory, not a scan of every table.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..corrections import record_key, review_states
from ..errors import AtlasError
from ..extract.claims import sourcing_profile as claims_profile
from ..ontology.narratives import load_taxonomy
from ..records import Claim, Event, Link, Mention, NarrativeHit, Stance, TechniqueHit, TtpHit
from ..store import Store
from ..technique_summary import source_of
from ..versions import TECHNIQUE_STATUS_TEXT, technique_status
from ..text.normalise import name_key
from ..timeline import actor_index, day_bounds, disagreements as told_differently, fatalities_text, group_events, place_keys
from ..timeline import overlaps, period, resolve_actor as resolve_name

UNDATED = "undated"
# Evidence sentences on the timeline are clipped to this many characters (the document view shows them whole).
EVIDENCE_CHARS = 400
# Most view results a snapshot keeps before it starts over.
MEMO_CAP = 20_000
# Most full-text matches a filtered search ranks.
SEARCH_CAP = 1000
# Fields of a document a list shows; the text stays in the database until a document is opened.
_DOC_FIELDS = ("id", "name", "path", "title", "language", "genre", "published", "published_estimated", "words", "outlet", "url", "authors")
# Main sources a document's sourcing profile names, most claims first.
PROFILE_SOURCES = 3
# Actors the sources view shows stances toward: those most sources take a stance on.
STANCE_ACTORS = 30


class NotFound(AtlasError):
    """A record the client asked for does not exist."""


# -- the cached corpus ---------------------------------------------------------------------

class Happening:
    """One thing that happened: a single event, or the tellings of it that `same_event` links join."""

    __slots__ = ("key", "events", "first", "last", "date", "actors", "countries", "links")

    def __init__(self, key: str, events: list[Event], links: list[Link], country_of: dict[str, str | None]):
        self.key = key
        self.events = events
        self.links = links
        dated = [e for e in events if day_bounds(e.date)[0]]
        # The most precise telling dates the happening; the others are shown beside it.
        best = max(dated, key=lambda e: (len(e.date), e.date)) if dated else None
        self.date = best.date if best else None
        self.first, self.last = day_bounds(self.date)
        self.actors = frozenset(a.name for e in events for a in e.actors)
        self.countries = frozenset().union(*(place_keys(e, country_of) for e in events))


@dataclass(slots=True)
class Snapshot:
    """Corpus-wide aggregates for one state of the database."""

    docs: dict[str, dict]
    doc_order: list[str]
    actors: dict[str, dict]
    happenings: list[Happening]
    undated: list[Happening]
    dated_firsts: list[str]
    event_index: dict[str, Event]
    group_of: dict[str, Happening]
    mentions_per_doc: Counter
    events_per_doc: Counter
    claims_per_doc: dict[str, dict]
    narratives: list[NarrativeHit]
    stances: list[Stance]
    contradicts: list[Link]
    links_by_kind: Counter
    actor_options: list[dict]
    country_options: list[dict]
    network: dict
    places: list[dict]
    conflicting: list[Happening] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    years: list[str] = field(default_factory=list)
    alias_index: dict[str, str] = field(default_factory=dict)
    # Positions in happenings + undated of the happenings each actor, and each country key, takes part in.
    by_actor: dict[str, list[int]] = field(default_factory=dict)
    by_country: dict[str, list[int]] = field(default_factory=dict)
    memo: dict = field(default_factory=dict)
    totals: dict = field(default_factory=dict)
    # Review state of the records analyst corrections touched, by stable key (corrections.record_key).
    reviews: dict[str, str] = field(default_factory=dict)


class Corpus:
    """The store plus aggregates cached until the database changes (checked on every read)."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._marker: tuple | None = None

    def snapshot(self) -> Snapshot:
        """Return the aggregates for the database as it is now, rebuilding them when it changed."""
        marker = self.store.change_marker()
        with self._lock:
            if self._snapshot is None or marker != self._marker:
                self._snapshot = build_snapshot(self.store)
                self._marker = marker
            return self._snapshot


def _documents(store: Store) -> dict[str, dict]:
    """Return every document's listed fields (no text), by id in name order."""
    return {m["id"]: {k: m[k] for k in _DOC_FIELDS} for m in store.document_metadata()}


def _profiles(claims: list[Claim]) -> dict[str, dict]:
    """Return each document's sourcing profile as the views show it: claims, attributed, unsourced, hedged, main sources."""
    by_doc: dict[str, list[Claim]] = defaultdict(list)
    for c in claims:
        by_doc[c.doc].append(c)
    out = {}
    for doc, found in by_doc.items():
        p = claims_profile(found)
        counts = Counter(c.attributed_to for c in found if c.attributed_to)
        main = [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:PROFILE_SOURCES]]
        out[doc] = {"claims": p["claims"], "attributed": p["sourced"], "unsourced": p["unsourced"], "hedged": p["hedged"],
                    "sources": main}
    return out


def _happenings(events: list[Event], links: list[Link], country_of: dict, names: dict[str, str]):
    """Return the dated happenings in date order, the undated ones in source order, and each event's happening."""
    happenings, undated, group_of = [], [], {}
    for evs, joined in group_events(events, links):
        evs.sort(key=lambda e: (names.get(e.doc, e.doc), e.start))
        h = Happening(min(e.id for e in evs), evs, joined, country_of)
        for e in evs:
            group_of[e.id] = h
        (happenings if h.date else undated).append(h)
    happenings.sort(key=lambda h: (h.first, h.last, names.get(h.events[0].doc, ""), h.events[0].start))
    undated.sort(key=lambda h: (names.get(h.events[0].doc, ""), h.events[0].start))
    return happenings, undated, group_of


def _filter_options(events: list[Event], actors: dict[str, dict]) -> tuple[Counter, list[dict], list[dict]]:
    """Return each actor's event count, and the actor and country choices of the timeline filters (events in
    timeline order: the first spelling of a country met names it)."""
    activity = Counter(a.name for e in events for a in {x.name: x for x in e.actors}.values())
    actor_options = [{"name": n, "count": c} for n, c in sorted(activity.items(), key=lambda kv: (-kv[1], kv[0]))]
    countries: dict[str, str] = {}
    for e in events:
        for a in e.actors:
            c = (actors.get(a.name) or {}).get("country")
            if c:
                countries.setdefault(name_key(c), c)
    country_options = [{"key": k, "name": v} for k, v in sorted(countries.items(), key=lambda kv: kv[1])]
    return activity, actor_options, country_options


def build_snapshot(store: Store) -> Snapshot:
    """Read documents, actors, events, links and per-document counts; group events into happenings."""
    docs = _documents(store)
    found_actors = store.actors(mentioned_only=False)
    actors = {a.name: {"name": a.name, "kind": a.kind, "country": a.country, "aliases": list(a.aliases)} for a in found_actors}
    events, links = store.events(), store.links()
    claims_per_doc = _profiles(store.claims())
    narratives, stances = store.narratives(), store.stances()
    mentions_per_doc = Counter(store.mention_counts())
    names = {d: docs[d]["name"] if d in docs else d for d in {e.doc for e in events}}
    happenings, undated, group_of = _happenings(events, links, {a.name: a.country for a in found_actors}, names)
    activity, actor_options, country_options = _filter_options([e for h in happenings + undated for e in h.events], actors)
    snap = Snapshot(
        docs=docs, doc_order=list(docs), actors=actors, happenings=happenings, undated=undated,
        dated_firsts=[h.first for h in happenings], event_index={e.id: e for e in events}, group_of=group_of,
        mentions_per_doc=mentions_per_doc, events_per_doc=Counter(e.doc for e in events), claims_per_doc=claims_per_doc,
        narratives=narratives, stances=stances, contradicts=sorted((x for x in links if x.kind == "contradicts"), key=lambda x: (-x.score, x.id)),
        links_by_kind=Counter(x.kind for x in links), actor_options=actor_options, country_options=country_options,
        network={}, places=[],
    )
    snap.reviews = review_states(store)
    snap.types = sorted({e.type for e in events})
    snap.years = sorted({h.first[:4] for h in happenings})
    snap.alias_index = actor_index(found_actors)
    for i, h in enumerate(happenings + undated):
        for name in h.actors:
            snap.by_actor.setdefault(name, []).append(i)
        for key in h.countries:
            snap.by_country.setdefault(key, []).append(i)
    snap.conflicting = [h for h in happenings + undated if len({e.doc for e in h.events}) > 1 and disagreements(snap, h.events)]
    snap.network = _network(events, actors)
    snap.places = _places(events, names)
    snap.totals = {
        "documents": len(docs), "events": len(events), "happenings": len(happenings) + len(undated),
        "told_by_several": sum(1 for h in happenings + undated if len({e.doc for e in h.events}) > 1),
        "mentions": sum(mentions_per_doc.values()), "actors": len(activity) or len(actors),
        "claims": sum(p["claims"] for p in claims_per_doc.values()), "narratives": len(narratives), "stances": len(stances),
        "links": dict(sorted(snap.links_by_kind.items())), "located_events": sum(p["count"] for p in snap.places),
    }
    return snap


# -- shared pieces -------------------------------------------------------------------------

def _doc_ref(snap: Snapshot, doc_id: str) -> dict:
    d = snap.docs.get(doc_id)
    return {"doc": doc_id, "name": d["name"] if d else doc_id, "title": d["title"] if d else None}


def event_json(snap: Snapshot, e: Event) -> dict:
    """Return an event as the views show it, with the name of the document that tells it."""
    return {
        "id": e.id, **_doc_ref(snap, e.doc), "type": e.type, "date": e.date, "date_precision": e.date_precision,
        "actors": [{"name": a.name, "role": a.role} for a in e.actors], "location": e.location,
        "latitude": e.latitude, "longitude": e.longitude, "fatalities": e.fatalities, "fatalities_text": fatalities_text(e),
        "modality": e.modality, "evidence": e.evidence, "confidence": round(e.confidence, 3), "extractor": e.extractor,
        "review": snap.reviews.get(record_key("event", e), "unreviewed"),
    }


def disagreements(snap: Snapshot, events: list[Event]) -> list[dict]:
    """Return the fields on which tellings of one happening differ, each value with the documents that give it."""
    return told_differently(events, lambda doc: _doc_ref(snap, doc)["name"])


def happening_json(snap: Snapshot, h: Happening) -> dict:
    """Return a happening with its tellings, sources and disagreements."""
    sources, seen = [], set()
    for e in h.events:
        if e.doc not in seen:
            seen.add(e.doc)
            sources.append(_doc_ref(snap, e.doc))
    types = Counter(e.type for e in h.events)
    tolls = [e for e in h.events if e.fatalities is not None]
    located = next((e for e in h.events if e.latitude is not None), None)
    notes = []
    if h.date and any(not e.date for e in h.events):
        notes.append("undated in " + ", ".join(sorted({_doc_ref(snap, e.doc)["name"] for e in h.events if not e.date})))
    return {
        "key": h.key, "date": h.date, "first": h.first, "last": h.last,
        "type": sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))[0][0],
        "location": next((e.location for e in h.events if e.location), None),
        "latitude": located.latitude if located else None, "longitude": located.longitude if located else None,
        "fatalities_text": " / ".join(dict.fromkeys(fatalities_text(e) for e in tolls)) or None,
        "actors": sorted(h.actors), "countries": sorted(h.countries), "sources": sources,
        "events": [dict(event_json(snap, e), evidence=_clip(e.evidence, EVIDENCE_CHARS)) for e in h.events],
        "disagreements": disagreements(snap, h.events), "notes": notes,
        "links": [{"id": x.id, "detail": x.detail, "score": x.score,
                   "review": snap.reviews.get(record_key("link", x, {e.id: record_key("event", e) for e in h.events}), "unreviewed")}
                  for x in h.links],
    }


def _happening_cached(snap: Snapshot, h: Happening) -> dict:
    """Return happening_json, kept with the snapshot (it cannot change until the database does)."""
    key = ("happening", h.key)
    if key not in snap.memo:
        if len(snap.memo) > MEMO_CAP:
            snap.memo.clear()
        snap.memo[key] = happening_json(snap, h)
    return snap.memo[key]


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def resolve_actor(snap: Snapshot, name: str) -> str:
    """Return the canonical actor a name or alias refers to (the name itself when none does)."""
    return resolve_name(snap.alias_index, name)


# -- views ---------------------------------------------------------------------------------

def summary_view(corpus: Corpus) -> dict:
    """Return corpus totals: documents, events, happenings told by several sources, claims, links by kind."""
    snap = corpus.snapshot()
    languages = Counter(d["language"] or "?" for d in snap.docs.values())
    return {"totals": snap.totals, "languages": dict(sorted(languages.items()))}


def sourcing_profile(snap: Snapshot, doc_id: str) -> dict:
    """Return a document's sourcing profile: claims, how many are attributed, unsourced or hedged, and the main sources."""
    p = snap.claims_per_doc.get(doc_id)
    if not p:
        return {"claims": 0, "attributed": 0, "unsourced": 0, "hedged": 0, "sources": []}
    return dict(p)


def documents_view(corpus: Corpus, q: str | None = None, language: str | None = None, genre: str | None = None,
                   offset: int = 0, limit: int = 50) -> dict:
    """Return one page of documents (all, or full-text matches of `q`) with language, genre, counts and sourcing profile."""
    snap = corpus.snapshot()
    snippets: dict[str, list] = {}
    offset, limit = max(0, offset), max(1, limit)
    more = False
    if q and q.strip():
        # Ranking every match (and cutting a snippet from each) costs time: ask for this page and one more,
        # unless a language or genre filter is to thin the matches out.
        wanted = SEARCH_CAP if (language or genre) else offset + limit + 1
        hits = corpus.store.search(q, wanted)
        more = len(hits) >= wanted and wanted < SEARCH_CAP
        hits = hits[: offset + limit] if more else hits
        order = [h["id"] for h in hits if h["id"] in snap.docs]
        for h in hits[offset:]:
            snippets[h["id"]] = _snippet_parts(h.get("snippet") or "")
    else:
        order = snap.doc_order
    if language:
        order = [i for i in order if (snap.docs[i]["language"] or "") == language]
    if genre:
        order = [i for i in order if (snap.docs[i]["genre"] or "") == genre]
    rows = []
    for doc_id in order[offset:offset + limit]:
        d = snap.docs[doc_id]
        rows.append({
            "id": d["id"], "name": d["name"], "title": d["title"], "language": d["language"], "genre": d["genre"],
            "published": d["published"], "published_estimated": d["published_estimated"], "authors": d["authors"],
            "outlet": d["outlet"], "words": d["words"], "mentions": snap.mentions_per_doc.get(doc_id, 0),
            "events": snap.events_per_doc.get(doc_id, 0), "profile": sourcing_profile(snap, doc_id),
            "snippet": snippets.get(doc_id),
        })
    languages = Counter(d["language"] or "?" for d in snap.docs.values())
    genres = Counter(d["genre"] or "unknown" for d in snap.docs.values())
    return {
        "query": q or "", "language": language or "", "genre": genre or "", "offset": offset, "limit": limit,
        "total": len(order), "more": more, "documents": rows,
        "languages": dict(sorted(languages.items())), "genres": dict(sorted(genres.items())),
    }


def _snippet_parts(snippet: str) -> list[dict]:
    """Split a search snippet into plain and matched parts (the store marks matches with \\x02 ... \\x03)."""
    parts, hit, buf = [], False, ""
    for ch in snippet:
        if ch in "\x02\x03":
            if buf:
                parts.append({"t": buf, "hit": hit})
            buf, hit = "", ch == "\x02"
        else:
            buf += ch
    if buf:
        parts.append({"t": buf, "hit": hit})
    return parts


def timeline_view(corpus: Corpus, actor: str | None = None, country: str | None = None, date_from: str | None = None,
                  date_to: str | None = None, undated: bool = True, limit: int = 300) -> dict:
    """Return happenings in date order (tellings by several sources grouped, disagreements marked), filtered.

    The filters mean what they mean for `atlas timeline`: `actor` is a canonical name or alias; `country`
    keeps happenings located in, or involving actors of, that country; the period keeps those whose date
    overlaps it. Undated happenings come in their own list, and only when no period is set.
    """
    snap = corpus.snapshot()
    wanted = resolve_actor(snap, actor) if actor else None
    ckey = name_key(country) if country else None
    low, high = period(date_from, date_to)
    dated_count = len(snap.happenings)
    cut = bisect_right(snap.dated_firsts, high) if high else dated_count
    # Candidates from the per-actor and per-country indexes (positions keep date order), else every happening.
    candidates = None
    if wanted:
        candidates = snap.by_actor.get(wanted, [])
    if ckey:
        in_country = snap.by_country.get(ckey, [])
        candidates = in_country if candidates is None else sorted(set(candidates).intersection(in_country))
    if candidates is None:
        matched = [h for h in snap.happenings[:cut] if overlaps(h.first, h.last, low, high)]
        undated_matched = snap.undated
    else:
        matched = [snap.happenings[i] for i in candidates if i < cut and overlaps(snap.happenings[i].first, snap.happenings[i].last, low, high)]
        undated_matched = [snap.undated[i - dated_count] for i in candidates if i >= dated_count]
    if not undated or low or high:
        undated_matched = []
    limit = max(1, limit)
    return {
        "filters": {"actor": wanted or "", "country": country or "", "from": date_from or "", "to": date_to or "", "undated": undated},
        "actors": snap.actor_options, "countries": snap.country_options, "types": snap.types, "years": snap.years,
        "total": len(matched), "truncated": len(matched) > limit,
        "items": [_happening_cached(snap, h) for h in matched[:limit]],
        "undated_total": len(undated_matched),
        "undated": [_happening_cached(snap, h) for h in undated_matched[:limit]],
    }


def _network(events: list[Event], actors: dict[str, dict], top: int = 60) -> dict:
    """Return the actor network: who acts on whom (agent → target) or with whom (agent — other), per year, laid out."""
    activity: dict[str, Counter] = defaultdict(Counter)
    edges: dict[tuple[str, str, str], Counter] = defaultdict(Counter)
    for e in events:
        year = e.date[:4] if e.date else UNDATED
        roles = {a.name: a.role for a in e.actors}
        for name in roles:
            activity[name][year] += 1
        agents = [n for n, r in roles.items() if r == "agent"]
        for a in agents:
            for b, r in roles.items():
                if b != a and r in ("target", "other"):
                    edges[(a, b, "acts_on" if r == "target" else "with")][year] += 1
    ranked = sorted(activity, key=lambda n: (-sum(activity[n].values()), n))[:top]
    keep = set(ranked)
    kept_edges = {k: v for k, v in edges.items() if k[0] in keep and k[1] in keep}
    positions = _layout(ranked, kept_edges)
    years = sorted({y for c in activity.values() for y in c if y != UNDATED})
    return {
        "years": years,
        "nodes": [{"name": n, "kind": (actors.get(n) or {}).get("kind", "unknown"), "country": (actors.get(n) or {}).get("country"),
                   "x": positions[n][0], "y": positions[n][1], "activity": sum(activity[n].values()),
                   "by_year": dict(sorted(activity[n].items()))} for n in ranked],
        "edges": [{"source": a, "target": b, "kind": kind, "count": sum(c.values()), "by_year": dict(sorted(c.items()))}
                  for (a, b, kind), c in sorted(kept_edges.items())],
        "actors_total": len(activity),
    }


def _layout(nodes: list[str], edges: dict) -> dict[str, tuple[float, float]]:
    """Return deterministic positions: each connected group laid out by networkx's spring layout (fixed seed), the
    groups packed side by side, biggest first, so that a few isolated actors do not squeeze the main cluster."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from((a, b) for (a, b, _kind) in edges)
    components = sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: (-len(c), c[0]))
    out: dict[str, tuple[float, float]] = {}
    x_cursor, row_y, row_height = 0.0, 0.0, 0.0
    for comp in components:
        size = max(1.0, len(comp) ** 0.5)
        if len(comp) == 1:
            local = {comp[0]: (0.0, 0.0)}
        else:
            sub = graph.subgraph(comp)
            local = {n: (float(p[0]), float(p[1])) for n, p in nx.spring_layout(sub, seed=7, k=1.0 / size, iterations=300).items()}
        width = 2.2 * size
        if x_cursor and x_cursor + width > 16:
            x_cursor, row_y, row_height = 0.0, row_y - row_height - 1.0, 0.0
        for n, (x, y) in local.items():
            out[n] = (round(x_cursor + size * (x + 1.1), 4), round(row_y - size * (1.1 - y), 4))
        x_cursor += width
        row_height = max(row_height, 2.2 * size)
    return out


def network_view(corpus: Corpus) -> dict:
    """Return the actor network with per-year counts on nodes and edges, so a period filter needs no new request."""
    snap = corpus.snapshot()
    return snap.network


def _places(events: list[Event], names: dict[str, str]) -> list[dict]:
    places: dict[tuple, dict] = {}
    for e in events:
        if e.latitude is None or e.longitude is None:
            continue
        key = (e.location or "", round(e.latitude, 4), round(e.longitude, 4))
        p = places.setdefault(key, {"location": key[0], "latitude": key[1], "longitude": key[2], "count": 0,
                                    "types": Counter(), "sources": set(), "dates": [], "fatalities": 0, "examples": []})
        p["count"] += 1
        p["types"][e.type] += 1
        p["sources"].add(names.get(e.doc, e.doc))
        if e.date:
            p["dates"].append(e.date)
        p["fatalities"] += e.fatalities or 0
        if len(p["examples"]) < 5:
            p["examples"].append({"id": e.id, "doc": e.doc, "type": e.type, "date": e.date, "source": names.get(e.doc, e.doc)})
    out = []
    for p in sorted(places.values(), key=lambda p: (-p["count"], p["location"])):
        out.append({
            "location": p["location"], "latitude": p["latitude"], "longitude": p["longitude"], "count": p["count"],
            "type": sorted(p["types"].items(), key=lambda kv: (-kv[1], kv[0]))[0][0], "types": dict(sorted(p["types"].items())),
            "sources": len(p["sources"]), "first": min(p["dates"]) if p["dates"] else None, "last": max(p["dates"]) if p["dates"] else None,
            "fatalities": p["fatalities"], "examples": p["examples"],
        })
    return out


def map_view(corpus: Corpus) -> dict:
    """Return located events aggregated by place: coordinates, count, types, sources, dates and tolls."""
    snap = corpus.snapshot()
    return {"places": snap.places, "located_events": snap.totals["located_events"], "events": snap.totals["events"]}


def narrative_names() -> dict[str, str]:
    """Return narrative id → name from the taxonomy in use ($ATLAS_NARRATIVES, else the packaged one); {} if it cannot be read."""
    try:
        return {n.id: n.name for n in load_taxonomy().narratives}
    except AtlasError:
        return {}


def _evidence(text: str, spans: tuple[tuple[int, int], ...]) -> list[str]:
    return [text[a:b] for a, b in spans][:5]


SOURCE_SORTS = ("hits", "name", "outlet")


def _sources_index(snap: Snapshot) -> tuple:
    """Return what the sources view pages through: hits per narrative and mode, the sources ranked by how much they
    carry, the STANCE_ACTORS actors most stances are about, each source's narrative hits and stances, and each source's outlet."""
    per_narrative: dict[str, Counter] = defaultdict(Counter)
    weight = Counter()
    by_doc: dict[str, list] = defaultdict(list)
    for hit in snap.narratives:
        per_narrative[hit.narrative][hit.mode] += 1
        weight[hit.doc] += 1
        by_doc[hit.doc].append(hit)
    stance_actor_docs = Counter()
    for st in snap.stances:
        weight[st.doc] += 1
        stance_actor_docs[st.actor] += 1
        by_doc[st.doc].append(st)
    ranked = [d for d, _ in sorted(weight.items(), key=lambda kv: (-kv[1], snap.docs.get(kv[0], {}).get("name", kv[0])))]
    actors = [a for a, _ in sorted(stance_actor_docs.items(), key=lambda kv: (-kv[1], kv[0]))[:STANCE_ACTORS]]
    outlets = {d: source_of(snap.docs.get(d) or {"id": d}) for d in ranked}
    return per_narrative, ranked, actors, by_doc, outlets


def sources_view(corpus: Corpus, limit: int = 40, offset: int = 0, q: str | None = None, narrative: str | None = None,
                 sort: str = "outlet") -> dict:
    """Return one page of the narratives × sources matrix (endorsed vs reported) and each source's stance toward the main
    actors, with the sources' outlets so that hundreds of sources stay readable.

    Sources can be filtered by a word of their name, title or outlet (`q`) and to those carrying one `narrative`, sorted
    by `hits` (most narrative hits and stances first), `name`, or `outlet` (grouped by outlet, the busiest first), and
    paged (`offset`, `limit`). Totals per narrative and the outlet list cover every source.
    """
    if sort not in SOURCE_SORTS:
        raise AtlasError(f"unknown sort '{sort}'; choose one of: {', '.join(SOURCE_SORTS)}")
    snap = corpus.snapshot()
    names = narrative_names()
    if "sources" not in snap.memo:
        snap.memo["sources"] = _sources_index(snap)
    per_narrative, ranked, actors, by_doc, outlets = snap.memo["sources"]
    outlet_docs = Counter(outlets[d] for d in ranked)
    chosen = ranked
    if narrative:
        chosen = [d for d in chosen if any(isinstance(r, NarrativeHit) and r.narrative == narrative for r in by_doc[d])]
    if q and q.strip():
        needle = q.strip().lower()
        chosen = [d for d in chosen if needle in " ".join(str(x or "") for x in (
            snap.docs.get(d, {}).get("name"), snap.docs.get(d, {}).get("title"), outlets[d])).lower()]
    doc_name = lambda d: snap.docs.get(d, {}).get("name", d)  # noqa: E731
    if sort == "name":
        chosen = sorted(chosen, key=doc_name)
    elif sort == "outlet":
        chosen = sorted(chosen, key=lambda d: (-outlet_docs[outlets[d]], outlets[d], doc_name(d)))
    offset, limit = max(0, offset), max(1, limit)
    shown = chosen[offset:offset + limit]
    texts = corpus.store.document_texts(shown)
    wanted = set(actors)
    cells, stances = [], []
    for d in shown:
        for r in by_doc[d]:
            if isinstance(r, NarrativeHit):
                cells.append({"narrative": r.narrative, "doc": d, "mode": r.mode, "score": round(r.score, 3),
                              "evidence": _evidence(texts.get(d, ""), r.evidence)})
            elif r.actor in wanted:
                stances.append({"doc": d, "actor": r.actor, "score": round(r.score, 3), "confidence": round(r.confidence, 3),
                                "relayed_from": r.relayed_from, "evidence": _evidence(texts.get(d, ""), r.evidence)})
    order = {n: k for k, n in enumerate(names)}
    narrative_ids = sorted(per_narrative, key=lambda n: (order.get(n, len(order)), n))
    return {
        "narratives": [{"id": n, "name": names.get(n, n), "endorsed": per_narrative[n]["endorsed"],
                        "reported": per_narrative[n]["reported"]} for n in narrative_ids],
        "sources": [{**_doc_ref(snap, d), "outlet": outlets[d]} for d in shown],
        "sources_total": len(ranked), "sources_matching": len(chosen), "offset": offset, "limit": limit, "sort": sort,
        "outlets": [{"outlet": o, "documents": c} for o, c in sorted(outlet_docs.items(), key=lambda kv: (-kv[1], kv[0]))],
        "cells": cells, "stance_actors": actors, "stances": stances,
    }


def contradictions_view(corpus: Corpus, offset: int = 0, limit: int = 50) -> dict:
    """Return contradicting claims (links of kind `contradicts`, most confident first, each with its reason and
    confidence) and happenings whose sources disagree."""
    snap = corpus.snapshot()
    offset, limit = max(0, offset), max(1, limit)
    page = snap.contradicts[offset:offset + limit]
    wanted = sorted({i for x in page for i in x.items if i not in snap.event_index})
    found: dict[str, dict] = {}
    item_keys = {i: record_key("event", snap.event_index[i]) for x in page for i in x.items if i in snap.event_index}
    for c in corpus.store.claims(ids=wanted):
        item_keys[c.id] = record_key("claim", c)
        found[c.id] = {"kind": "claim", "id": c.id, **_doc_ref(snap, c.doc), "text": c.text, "attributed_to": c.attributed_to,
                       "attribution_text": c.attribution_text, "hedged": c.hedged, "confidence": round(c.confidence, 3)}
    items = []
    for link in page:
        parts = []
        for i in link.items:
            if i in snap.event_index:
                e = snap.event_index[i]
                parts.append({"kind": "event", **event_json(snap, e), "text": e.evidence})
            else:
                parts.append(found.get(i, {"kind": "missing", "id": i, "text": None}))
        items.append({"id": link.id, "detail": link.detail, "reason": link.detail, "score": round(link.score, 3),
                      "confidence": round(link.score, 3), "items": parts,
                      "review": snap.reviews.get(record_key("link", link, item_keys), "unreviewed")})
    return {"total": len(snap.contradicts), "offset": offset, "limit": limit, "contradictions": items,
            "conflicting_total": len(snap.conflicting),
            "conflicting_events": [happening_json(snap, h) for h in snap.conflicting[offset:offset + limit]]}


# -- one document --------------------------------------------------------------------------

class _Highlights:
    """The records of one document as the document view highlights them, each with its span, label and fields."""

    def __init__(self, snap: Snapshot, text: str):
        self.snap, self.text = snap, text
        self.records: list[dict] = []

    def add(self, kind: str, cls: str, start: int, end: int, label: str, fields: list, record=None, ref: str = "",
            values: dict | None = None) -> None:
        """Add one highlight; a span outside the text is dropped."""
        if 0 <= start < end <= len(self.text):
            # ref names the record for a correction (POST /api/corrections); review is its review state.
            review = self.snap.reviews.get(record_key(kind, record), "unreviewed") if record is not None else "unreviewed"
            self.records.append({"kind": kind, "class": cls, "start": start, "end": end, "label": label,
                                 "fields": [[k, "" if v is None else str(v)] for k, v in fields] + ([["review", review]] if review != "unreviewed" else []),
                                 "ref": ref, "review": review, **({"values": values} if values else {})})


def _highlight_mentions(h: _Highlights, mentions: list[Mention], doc_id: str) -> None:
    for m in mentions:
        kind = (h.snap.actors.get(m.actor) or {}).get("kind", "unknown") if m.actor else "unlinked"
        h.add("mention", "actor-" + kind, m.start, m.end, m.text,
              [("actor", m.actor or "(not linked)"), ("actor kind", kind), ("label", m.label), ("extractor", m.extractor),
               ("confidence", round(m.confidence, 3))], m, f"{doc_id}/{m.start}-{m.end}")


def _highlight_claims(h: _Highlights, claims: list[Claim]) -> None:
    for c in claims:
        figures = ", ".join((f"{q.qualifier} " if q.qualifier else "") + q.text for q in c.quantities)
        h.add("claim", "claim", c.start, c.end, c.text,
              [("attributed to", c.attributed_to or "unsourced (the author's own voice)"), ("attribution", c.attribution_text),
               ("reporting verb", c.reporting_verb), ("hedged", ", ".join(c.hedges) if c.hedged else "no"), ("figures", figures or None),
               ("check-worthiness", round(c.checkworthiness, 3)), ("confidence", round(c.confidence, 3)), ("extractor", c.extractor)],
              c, c.id, {"attributed_to": c.attributed_to or ""})


def _highlight_events(h: _Highlights, events: list[Event], doc_id: str) -> None:
    for e in events:
        group = h.snap.group_of.get(e.id)
        others = sorted({_doc_ref(h.snap, x.doc)["name"] for x in group.events if x.doc != doc_id}) if group else []
        h.add("event", "event", e.start, e.end, f"{e.type} {e.date or '(undated)'}",
              [("type", e.type), ("date", f"{e.date} ({e.date_precision})" if e.date else "not given"), ("modality", e.modality),
               ("actors", "; ".join(f"{a.name} ({a.role})" for a in e.actors)), ("location", e.location),
               ("fatalities", fatalities_text(e)), ("also told by", ", ".join(others) or None),
               ("confidence", round(e.confidence, 3)), ("extractor", e.extractor)],
              e, e.id, {"type": e.type, "date": e.date or "", "location": e.location or "",
                        "fatalities": "" if e.fatalities is None else str(e.fatalities)})


def _highlight_techniques(h: _Highlights, techniques: list[TechniqueHit], doc_id: str) -> None:
    for t in techniques:
        h.add("technique", "technique", t.start, t.end, t.technique.replace("_", " "),
              [("persuasion technique", t.technique), ("score", round(t.score, 3)), ("extractor", t.extractor)],
              t, f"{doc_id}/{t.start}-{t.end}/{t.technique}")


def _highlight_narratives(h: _Highlights, hits: list[NarrativeHit], doc_id: str) -> None:
    names = narrative_names()
    for n in hits:
        for a, b in n.evidence:
            h.add("narrative", "narrative-" + n.mode, a, b, names.get(n.narrative, n.narrative),
                  [("narrative", f"{n.narrative} {names.get(n.narrative, '')}".strip()), ("mode", n.mode),
                   ("score", round(n.score, 3)), ("extractor", n.extractor)], n, f"{doc_id}/{n.narrative}/{n.mode}", {"mode": n.mode})


def _highlight_stances(h: _Highlights, stances: list[Stance], doc_id: str) -> None:
    for s in stances:
        for a, b in s.evidence:
            h.add("stance", "stance", a, b, f"stance toward {s.actor}",
                  [("toward", s.actor), ("score", f"{s.score:+.2f} (−2 hostile … +2 favourable)"),
                   ("confidence", round(s.confidence, 3)), ("extractor", s.extractor)]
                  + ([("relayed from", f"{s.relayed_from} (quoted at length without distance)")] if s.relayed_from else []),
                  s, f"{doc_id}/{s.actor}", {"score": str(s.score)})


def _highlight_ttps(h: _Highlights, ttps: list[TtpHit], doc_id: str) -> None:
    for x in ttps:
        h.add("ttp", "ttp", x.start, x.end, f"{x.disarm_id} {x.name}",
              [("DISARM", f"{x.disarm_id} {x.name}"), ("confidence", round(x.confidence, 3)), ("extractor", x.extractor)],
              x, f"{doc_id}/{x.start}-{x.end}/{x.disarm_id}")


def _document_records(snap: Snapshot, store: Store, doc_id: str, text: str) -> tuple[list[dict], list[TechniqueHit], list[TtpHit]]:
    """Return the records of one document as the document view highlights them (mentions, claims, events, persuasion
    techniques, narratives, stances, DISARM techniques), with the document's technique and DISARM hits."""
    h = _Highlights(snap, text)
    _highlight_mentions(h, store.mentions(doc_id), doc_id)
    _highlight_claims(h, store.claims(doc_id))
    _highlight_events(h, store.events(doc_id), doc_id)
    found_techniques = store.techniques(doc_id)
    _highlight_techniques(h, found_techniques, doc_id)
    _highlight_narratives(h, store.narratives(doc_id), doc_id)
    _highlight_stances(h, store.stances(doc_id), doc_id)
    found_ttps = store.ttps(doc_id)
    _highlight_ttps(h, found_ttps, doc_id)
    return h.records, found_techniques, found_ttps


def document_view(corpus: Corpus, doc_id: str) -> dict:
    """Return a document's metadata, its text cut into segments, and the records (evidence) each segment carries."""
    snap = corpus.snapshot()
    store = corpus.store
    found = store.documents([doc_id])
    if not found:
        raise NotFound(f"no document with id {doc_id!r}; list them at /api/documents")
    doc = found[0]
    text = doc.text
    records, found_techniques, found_ttps = _document_records(snap, store, doc_id, text)
    records.sort(key=lambda r: (r["start"], -r["end"], r["kind"]))
    # Where each technique and DISARM hit sits among the records, so that its list entry can select its highlight.
    index = {(r["kind"], r["start"], r["end"], r["label"]): i for i, r in reversed(list(enumerate(records)))}
    version = (store.document_metadata([doc_id]) or [{}])[0].get("analysis_version")
    status = technique_status(doc.language, version)
    counts = Counter(r["kind"] for r in records)
    actor_kinds = Counter(r["class"][len("actor-"):] for r in records if r["kind"] == "mention")
    meta = dict(snap.docs.get(doc_id) or {"id": doc.id, "name": doc.name, "title": doc.title, "language": doc.language,
                                           "genre": doc.genre, "published": doc.published, "words": doc.words})
    return {
        "document": meta, "segments": segments(text, records), "records": records,
        "counts": dict(sorted(counts.items())), "actor_kinds": dict(sorted(actor_kinds.items())),
        "profile": sourcing_profile(snap, doc_id), "text_length": len(text),
        "techniques_status": {"status": status, "text": TECHNIQUE_STATUS_TEXT[status]},
        "techniques": [
            {"technique": t.technique, "start": t.start, "end": t.end, "text": t.text, "score": round(t.score, 4),
             "extractor": t.extractor, "record": index.get(("technique", t.start, t.end, t.technique.replace("_", " ")))}
            for t in sorted(found_techniques, key=lambda t: (t.start, t.end, t.technique))
        ],
        "ttps": [
            {"disarm_id": x.disarm_id, "name": x.name, "start": x.start, "end": x.end, "evidence": x.evidence,
             "confidence": round(x.confidence, 4), "extractor": x.extractor,
             "record": index.get(("ttp", x.start, x.end, f"{x.disarm_id} {x.name}"))}
            for x in sorted(found_ttps, key=lambda x: (x.start, x.end, x.disarm_id))
        ],
    }


def segments(text: str, records: list[dict]) -> list[dict]:
    """Cut the text at every record boundary; each piece carries its text and the indexes of the records covering it.

    Pieces carry their text (not offsets) because offsets count code points and a browser counts UTF-16 units.
    """
    cuts = sorted({0, len(text), *(r["start"] for r in records), *(r["end"] for r in records)})
    starts: dict[int, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        starts[r["start"]].append(i)
    active: set[int] = set()
    out: list[dict] = []
    for a, b in zip(cuts, cuts[1:]):
        active = {i for i in active if records[i]["end"] > a}
        active.update(starts.get(a, ()))
        covering = sorted(active, key=lambda i: (records[i]["end"] - records[i]["start"], i))
        if not covering and out and not out[-1]["r"]:
            out[-1]["t"] += text[a:b]
        else:
            out.append({"t": text[a:b], "r": covering})
    return out
