"""Ingest and analyse: the public functions behind `atlas ingest` and `atlas analyze`."""

from __future__ import annotations

import os
import re
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import __version__
from .errors import InputError
from .extract.actors import link_actors
from .extract.claims import find_claims
from .extract.disarm import find_ttps
from .extract.events import extract_events
from .extract.narratives import find_narratives
from .extract.stance import find_stances
from .nlp import parse
from .ontology import load_actor_catalog
from .reconcile import link_claims, link_same_events
from .records import Analysis, Document, TtpHit
from .store import Store
from .text.metadata import detect_language, find_authors, guess_title, latest_explicit_year, parse_date, stated_date
from .text.normalise import count_words, document_id, normalise_text
from .text.readers import ReadOptions, Source, iter_files, read_sources

Progress = Callable[[str], None]


@dataclass(slots=True)
class IngestReport:
    """What an ingest run did: documents added, already present, and inputs that failed."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[InputError] = field(default_factory=list)


@dataclass(slots=True)
class AnalyzeReport:
    """What an analyse run did: documents analysed and mentions found."""

    documents: int = 0
    mentions: int = 0
    actors: int = 0
    events: int = 0
    links: int = 0
    failed: list[str] = field(default_factory=list)

    def count(self, analysis: Analysis) -> None:
        """Add one document's analysis to the figures."""
        self.documents += 1
        self.mentions += len(analysis.mentions)
        self.actors += len(analysis.actors)
        self.events += len(analysis.events)


def build_document(source: Source) -> Document:
    """Return the normalised Document for a raw source, with its metadata; raises InputError when no text is left."""
    text = normalise_text(source.text)
    if not text.strip():
        raise InputError(source.name if "#" in source.name else source.path, "no text left after normalisation (only white space or boilerplate)")
    meta = source.meta
    title = meta.get("title") or (guess_title(text) if source.kind == "plain" else None)
    authors = tuple(meta.get("authors") or find_authors(text))
    published = parse_date(meta["published"]) if meta.get("published") else None
    estimated = False
    if published is None:
        published = stated_date(text)
    if published is None:
        published = latest_explicit_year(text)
        estimated = published is not None
    return Document(
        id=document_id(text), name=source.name, path=source.path, text=text, title=title,
        language=meta.get("language") or detect_language(text), published=published, published_estimated=estimated,
        authors=authors, genre=meta.get("genre"), url=meta.get("url"), outlet=meta.get("outlet"), words=count_words(text),
    )


def ingest(store: Store, paths: Iterable[str | Path], options: ReadOptions = ReadOptions(), progress: Progress | None = None) -> IngestReport:
    """Read, normalise and store every document under paths; one transaction per document, errors collected."""
    report = IngestReport()
    for item in iter_files(list(paths)):
        if isinstance(item, InputError):
            report.failed.append(item)
            continue
        if progress:
            progress(item.name)
        for source in read_sources(item, options):
            if isinstance(source, InputError):
                report.failed.append(source)
                continue
            try:
                doc = build_document(source)
            except InputError as exc:
                report.failed.append(exc)
                continue
            (report.added if store.add_document(doc) else report.unchanged).append(doc.name)
    return report


def analysis_version(actor_files: tuple[str, ...] = ()) -> str:
    """Return the tag stored with each analysis: package version plus ontology fingerprint."""
    return f"{__version__}+{load_actor_catalog(actor_files).fingerprint}"


ANALYSIS_NEEDS = ("ner", "senter")


def analyze_document(doc: Document, actor_files: tuple[str, ...] = ()) -> Analysis:
    """Return everything extracted from one document: mentions, actors, events, claims, stances, narratives."""
    catalog = load_actor_catalog(actor_files)
    entities = []
    sentences = []
    for offset, sdoc in parse(doc.text, doc.language, ANALYSIS_NEEDS):
        # Entities made only of stop words ("Les", "This") are tagging noise.
        entities.extend((offset + e.start_char, offset + e.end_char, e.label_) for e in sdoc.ents if not all(t.is_stop or t.is_punct for t in e))
        sentences.extend(_sentence_spans(doc.text, offset, sdoc))
    mentions, actors = link_actors(doc.id, doc.text, entities, catalog)
    published = doc.published if doc.published and not doc.published_estimated else None
    events = extract_events(doc.id, doc.text, sentences, mentions, catalog, doc.language, published)
    claims = find_claims(doc.id, doc.text, sentences, mentions, catalog)
    stances = find_stances(doc.id, doc.text, sentences, mentions, doc.language)
    narratives = find_narratives(doc.id, doc.text, sentences, mentions, doc.language)
    ttps = [TtpHit(doc.id, disarm_id, name, start, end, doc.text[start:end], confidence, "disarm-cues")
            for start, end, disarm_id, name, confidence in find_ttps(doc.text, doc.language)]
    return Analysis(doc=doc.id, mentions=mentions, actors=actors, events=events, claims=claims, stances=stances,
                    narratives=narratives, ttps=ttps)


def document_sentences(doc: Document) -> list[tuple[int, int]]:
    """Return the (start, end) sentence spans of a document, as analysis splits them."""
    return [span for offset, sdoc in parse(doc.text, doc.language, ANALYSIS_NEEDS) for span in _sentence_spans(doc.text, offset, sdoc)]


def _sentence_spans(text: str, offset: int, sdoc) -> list[tuple[int, int]]:
    """Return sentence spans, also cut at line breaks (a heading never runs into its paragraph)."""
    spans = []
    for sent in sdoc.sents:
        start, end = offset + sent.start_char, offset + sent.end_char
        for piece in re.finditer(r"[^\n]+", text[start:end]):
            if piece.group(0).strip():
                s = start + piece.start()
                e = start + piece.end()
                while e > s and text[e - 1].isspace():
                    e -= 1
                spans.append((s, e))
    return spans


def analyze(store: Store, redo_all: bool = False, actor_files: tuple[str, ...] = (), progress: Progress | None = None,
            on_total: Callable[[int], None] | None = None) -> AnalyzeReport:
    """Analyse every stored document not yet analysed (or all), replacing each one's records in one transaction.

    Documents stream one at a time, each claimed first, so several `atlas analyze` processes on one database
    share the work and never analyse a document twice. `redo_all` marks every document stale first.
    """
    report = AnalyzeReport()
    version = analysis_version(actor_files)
    if redo_all:
        store.mark_stale()
    if on_total:
        on_total(store.count_to_analyze(version))
    worker = worker_name()
    changed: set[str] = set()
    try:
        for doc in claim_each(store, version, worker):
            if progress:
                progress(doc.name)
            analysis = analyze_document(doc, actor_files)
            store.replace_analysis(analysis, version)
            report.count(analysis)
            changed.add(doc.id)
    finally:
        store.release_claims(worker)
    if report.documents or redo_all:
        report.links = len(reconcile(store, None if redo_all else changed))
    return report


def worker_name() -> str:
    """Return a name for this analysis worker that no other process shares: host, process id and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_each(store: Store, version: str, worker: str) -> Iterator[Document]:
    """Yield, one by one and in (name, id) order, the documents this worker claims; then sweep again from the start
    for claims that lapsed, until a sweep finds nothing."""
    after = None
    while True:
        found = store.claim_documents(version, worker, after=after)
        if not found:
            if after is None:
                return
            after = None
            continue
        yield from found
        after = (found[-1].name, found[-1].id)


def reconcile(store: Store, changed: set[str] | None = None) -> list:
    """Update the cross-document links and store them: the same happening told by several sources,
    and claims that contradict or corroborate each other across documents.

    With `changed` (the documents just analysed) only pairs involving them are scored and the other
    links are kept; without it every pair is considered again.
    """
    # Under a lock from reading to writing: the last worker to finish reconciles last, over every document.
    with store.exclusive("reconcile"):
        existing = store.links() if changed is not None else []
        focus = changed if existing else None
        links = link_same_events(store.events(), focus=focus, existing=existing) + link_claims(
            store.claims(), store.mentions(), focus=focus, existing=existing)
        store.replace_links(links)
    return links
