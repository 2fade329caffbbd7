"""The actor network for Gephi: actors as nodes, who acted on or alongside whom as weighted, dated edges (GEXF, GraphML).

Nodes are actors (id `actor:<slug>`, label, kind, country, mention and document counts); an edge
u → v gathers every event in which u acted on v (`acts_on`: agent → target) or took part
alongside v (`co_participation`), weighted by the number of events. Nodes and edges carry `start`
and `end` — the first day of their earliest dated event and the last day of their latest — so that
Gephi plays the GEXF as a dynamic graph (timeformat "date"); elements with no dated event are always
present.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import networkx as nx
from networkx.readwrite.gexf import GEXFWriter

from ..errors import AtlasError
from ..records import Actor
from ..store import Store
from .common import ACTS_ON, actor_pairs, date_span, exported_events, ingestion_times, participants

GRAPH_FORMATS = ("gexf", "graphml")


def actor_graph(store: Store) -> nx.DiGraph:
    """Return the actor network as a networkx DiGraph: nodes and edges added in sorted order, attributes as in the module doc."""
    known = {a.name: a for a in store.actors(mentioned_only=False)}
    mentions = Counter()
    documents: dict[str, set[str]] = defaultdict(set)
    for m in store.mentions():
        if m.actor:
            mentions[m.actor] += 1
            documents[m.actor].add(m.doc)
    events = exported_events(store)
    node_events: dict[str, list] = defaultdict(list)
    edge_events: dict[tuple[str, str], list] = defaultdict(list)
    for e in events:
        for name, _ in participants(e):
            node_events[name].append(e)
        for source, target, relation in actor_pairs(e):
            edge_events[(source, target)].append((e, relation))

    graph = nx.DiGraph(name="Influence Atlas actor network")
    ids = {}
    for name in sorted(set(mentions) | set(node_events)):
        actor = known.get(name) or Actor(name=name, kind="unknown", known=False)
        ids[name] = actor.id
        attrs = dict(label=actor.name, kind=actor.kind, known=actor.known, mentions=mentions[name],
                     documents=len(documents[name] | {e.doc for e in node_events[name]}), events=len(node_events[name]))
        if actor.country:
            attrs["country"] = actor.country
        attrs.update(_lifetime(node_events[name]))
        graph.add_node(actor.id, **attrs)
    for (source, target), told in sorted(edge_events.items(), key=lambda item: (ids[item[0][0]], ids[item[0][1]])):
        acts_on = sum(1 for _, relation in told if relation == ACTS_ON)
        attrs = dict(
            weight=len(told), relation="acts-on" if acts_on else "co-participation", acts_on=acts_on,
            co_participation=len(told) - acts_on, event_types="; ".join(sorted({e.type for e, _ in told})),
            documents=len({e.doc for e, _ in told}))
        attrs.update(_lifetime([e for e, _ in told]))
        graph.add_edge(ids[source], ids[target], **attrs)
    return graph


def _lifetime(events) -> dict:
    """Return start/end (ISO days) covering the dated events, or nothing when none is dated."""
    spans = [s for s in (date_span(e.date) for e in events) if s]
    if not spans:
        return {}
    return {"start": min(s[0] for s in spans).isoformat(), "end": max(s[1] for s in spans).isoformat()}


def write_actor_graph(store: Store, fmt: str, path: str | Path) -> Path:
    """Write the actor network as GEXF 1.2 (dynamic, for Gephi) or GraphML; return the path written."""
    if fmt not in GRAPH_FORMATS:
        raise AtlasError(f"unknown graph format '{fmt}'; choose one of: {', '.join(GRAPH_FORMATS)}")
    graph = actor_graph(store)
    path = Path(path)
    if fmt == "graphml":
        nx.write_graphml(graph, path, encoding="utf-8", prettyprint=True)
        return path
    writer = GEXFWriter(encoding="utf-8", prettyprint=True, version="1.2draft")
    writer.add_graph(graph)
    # networkx stamps today's date and its own version; the store's last ingestion keeps two exports identical.
    meta = writer.xml.find("meta")
    times = sorted(ingestion_times(store).values())
    meta.set("lastmodifieddate", times[-1].date().isoformat() if times else "1970-01-01")
    meta.find("creator").text = "Influence Atlas"
    with path.open("wb") as fh:
        writer.write(fh)
    return path
