"""What the read-only commands show, as plain data: a document's profile, the conflicts across sources, every
account of one event, and the narratives each document carries."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from .errors import AtlasError
from .extract.claims import sourcing_profile
from .ontology.narratives import Taxonomy
from .records import Claim, Event, Link, NarrativeHit, TechniqueHit, TtpHit
from .store import Store
from .versions import technique_status

CONFLICT_KINDS = ("all", "claims", "events", "corroborations")
# What a same_event link says when its tellings agree (reconcile.events): nothing to show as a conflict.
AGREEING = "tellings agree"


def find_document(store: Store, ref: str) -> dict:
    """Return the metadata of the one document a reference names (id, id prefix or file name); AtlasError otherwise."""
    found = store.find_documents(ref)
    if len(found) != 1:
        raise AtlasError(f"{'no' if not found else len(found)} document(s) match '{ref}'; "
                         "give a longer id prefix or the exact name (see `atlas search` or the export)")
    return found[0]


@dataclass(frozen=True, slots=True)
class DocumentProfile:
    """One document's sourcing profile, its claims, persuasion techniques and DISARM techniques."""

    document: dict
    profile: dict
    claims: list[Claim]
    techniques: list[TechniqueHit]
    ttps: list[TtpHit]
    technique_status: str

    def technique_counts(self) -> list[tuple[str, int]]:
        """Return (technique, spans) for each persuasion technique used, most used first."""
        counts = Counter(h.technique for h in self.techniques)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def document_profile(store: Store, ref: str) -> DocumentProfile:
    """Return the profile of the document a reference names (see find_document)."""
    meta = find_document(store, ref)
    claims = store.claims(meta["id"])
    return DocumentProfile(meta, sourcing_profile(claims), claims, store.techniques(meta["id"]), store.ttps(meta["id"]),
                           technique_status(meta["language"], meta["analysis_version"]))


@dataclass(frozen=True, slots=True)
class Conflict:
    """A cross-source link to show: its kind in words, the link, and the records on each side with their documents."""

    what: str
    link: Link
    claims: list[Claim] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def conflicts(store: Store, kind: str = "all", min_confidence: float | None = None) -> tuple[list[Conflict], dict[str, str]]:
    """Return the conflicts across sources, most confident first, and the document names by id.

    `kind`: claims (contradicting claims), events (tellings of one event that differ), corroborations (claims that
    agree), or all (conflicts of both kinds). With `min_confidence` the links are computed again down to that
    confidence instead of read as the analysis stored them.
    """
    if kind not in CONFLICT_KINDS:
        raise AtlasError(f"--kind must be {', '.join(CONFLICT_KINDS[:-1])} or {CONFLICT_KINDS[-1]}")
    claims = {c.id: c for c in store.claims()}
    events = {e.id: e for e in store.events()}
    if min_confidence is None:
        links = store.links()
    else:
        from .reconcile import link_across

        links = link_across(store.documents(), list(events.values()), list(claims.values()), store.stances(),
                            min_confidence=min_confidence)
    out = []
    for link in sorted(links, key=lambda x: (-x.score, x.id)):
        if (link.kind == "contradicts" and kind in ("all", "claims")) or (link.kind == "corroborates" and kind == "corroborations"):
            what = "contradicting claims" if link.kind == "contradicts" else "corroborating claims"
            out.append(Conflict(what, link, claims=[claims[i] for i in link.items if i in claims]))
        elif link.kind == "same_event" and kind in ("all", "events") and not link.detail.startswith(AGREEING):
            out.append(Conflict("one event, told differently", link, events=[events[i] for i in link.items if i in events]))
    return out, store.document_names()


@dataclass(frozen=True, slots=True)
class EventAccounts:
    """Every account of one event: the tellings side by side, how they differ, and the documents' names."""

    events: list[Event]
    detail: str
    names: dict[str, str]


def event_accounts(store: Store, ref: str) -> EventAccounts:
    """Return every account of the event an id (or its first characters) names; AtlasError unless exactly one does."""
    found = store.find_events(ref)
    if len(found) != 1:
        raise AtlasError(f"{'no' if not found else len(found)} event(s) match '{ref}'; copy an id from `atlas timeline` or the export")
    event = found[0]
    group, detail = [event.id], "told by one source"
    for link in store.links():
        if link.kind == "same_event" and event.id in link.items:
            group, detail = list(link.items), link.detail
    by_id = {e.id: e for e in store.events()} if len(group) > 1 else {event.id: event}
    names = store.document_names()
    return EventAccounts([by_id[i] for i in group if i in by_id], detail, names)


@dataclass(frozen=True, slots=True)
class NarrativeRow:
    """One narrative hit with its document's name and the words of its first evidence sentence."""

    document: str
    hit: NarrativeHit
    quote: str


def narrative_rows(store: Store) -> list[NarrativeRow]:
    """Return every stored narrative hit, by document name, mode and narrative, each with its first evidence's words."""
    hits = store.narratives()
    names = store.document_names()
    texts = store.document_texts({h.doc for h in hits if h.evidence})
    rows = []
    for h in hits:
        first = h.evidence[0] if h.evidence else None
        rows.append(NarrativeRow(names.get(h.doc, h.doc), h, texts.get(h.doc, "")[first[0]:first[1]] if first else ""))
    return sorted(rows, key=lambda r: (r.document, r.hit.mode, r.hit.narrative))


def discover_in_store(store: Store, taxonomy: Taxonomy, min_size: int = 3, limit: int = 10,
                      progress: Callable[[str], None] | None = None) -> tuple[list, int]:
    """Return candidate narratives among the stored sentences the taxonomy does not cover, and how many sentences were
    read; AtlasError when nothing is stored."""
    from .extract.narratives import discover_narratives
    from .pipeline import document_sentences

    sentences, sources = [], []
    for doc in store.documents():
        if progress:
            progress(doc.name)
        for s, e in document_sentences(doc):
            sentences.append(doc.text[s:e])
            sources.append(doc.id)
    if not sentences:
        raise AtlasError("no stored documents: run `atlas ingest PATH` first")
    return discover_narratives(sentences, taxonomy, sources=sources, min_size=min_size, max_clusters=limit), len(sentences)
