"""Ingest and analyse: the public functions behind `atlas ingest` and `atlas analyze`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from . import __version__
from .errors import InputError
from .extract.actors import link_actors
from .extract.claims import find_claims
from .extract.events import extract_events
from .extract.narratives import find_narratives
from .extract.stance import find_stances
from .nlp import parse
from .ontology import load_actor_catalog
from .reconcile import link_claims, link_same_events
from .records import Analysis, Document
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
    return Analysis(doc=doc.id, mentions=mentions, actors=actors, events=events, claims=claims, stances=stances,
                    narratives=narratives)


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
    """Analyse every stored document not yet analysed (or all), replacing each one's records in one transaction."""
    report = AnalyzeReport()
    version = analysis_version(actor_files)
    ids = store.document_ids_to_analyze(version, redo_all)
    if on_total:
        on_total(len(ids))
    for doc_id in ids:
        (doc,) = store.documents([doc_id])
        if progress:
            progress(doc.name)
        analysis = analyze_document(doc, actor_files)
        store.replace_analysis(analysis, version)
        report.documents += 1
        report.mentions += len(analysis.mentions)
        report.actors += len(analysis.actors)
        report.events += len(analysis.events)
    if ids or redo_all:
        report.links = len(reconcile(store))
    return report


def reconcile(store: Store) -> list:
    """Recompute the cross-document links and store them: the same happening told by several sources,
    and claims that contradict or corroborate each other across documents."""
    links = link_same_events(store.events()) + link_claims(store.claims(), store.mentions())
    store.replace_links(links)
    return links
