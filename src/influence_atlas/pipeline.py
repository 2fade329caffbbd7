"""Ingest and analyse: the public functions behind `atlas ingest` and `atlas analyze`."""

from __future__ import annotations

import gc
import os
import re
import socket
import traceback
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .corrections import replay_corrections, replay_link_corrections
from .errors import AtlasError, InputError, printable
from .extract import techniques as technique_models
from .extract.actors import link_actors
from .extract.claims import find_claims
from .extract.disarm import find_ttps
from .extract.events import extract_events
from .extract.narratives import find_narratives
from .extract.stance import find_stances
from .nlp import parse
from .ontology import load_actor_catalog
from .reconcile.blocks import link_blocks
from .records import Analysis, Document, TechniqueHit, TtpHit
from .store import Store
from .text.metadata import detect_language, find_authors, guess_title, latest_explicit_year, parse_date, stated_date
from .text.normalise import count_words, document_id, normalise_text
from .text.readers import ReadOptions, Source, iter_files, read_sources
from .versions import analysis_version, check_skip, techniques_supported

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
    techniques: int = 0
    links: int = 0
    # Documents whose language the persuasion-technique models do not cover, by language ("?" when unknown).
    techniques_unsupported: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    # Documents left claimed by a stopped worker on this host and taken up again.
    retaken: int = 0
    # Analyst corrections replayed onto the new records, and those whose target is gone (ids; issue 23).
    corrections_applied: list[str] = field(default_factory=list)
    corrections_orphaned: list[str] = field(default_factory=list)

    def note_corrections(self, replay) -> None:
        """Add a corrections replay's outcome (corrections.ReplayReport) to the report."""
        self.corrections_applied.extend(replay.applied)
        self.corrections_orphaned.extend(replay.orphaned)

    def count(self, analysis: Analysis) -> None:
        """Add one document's analysis to the figures."""
        self.documents += 1
        self.mentions += len(analysis.mentions)
        self.actors += len(analysis.actors)
        self.events += len(analysis.events)
        self.techniques += len(analysis.techniques)

    def note_language(self, language: str | None, skip: frozenset[str] = frozenset()) -> None:
        """Count a document the persuasion-technique models could not read because of its language."""
        if "techniques" not in skip and not techniques_supported(language):
            key = language or "?"
            self.techniques_unsupported[key] = self.techniques_unsupported.get(key, 0) + 1


def _valid_unicode(value: str) -> str:
    """Return value with lone surrogates (broken escapes in JSON, undecodable bytes) replaced by U+FFFD."""
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _plain_field(value: str) -> str:
    """Return a metadata value (title, author, outlet) as one plain line: valid Unicode, no control characters
    (a title must not drive the user's terminal), white space collapsed."""
    value = "".join(c if c.isprintable() else " " for c in _valid_unicode(value))
    return " ".join(value.split())


def build_document(source: Source) -> Document:
    """Return the normalised Document for a raw source, with its metadata; raises InputError when no text is left."""
    text = normalise_text(_valid_unicode(source.text))
    if not text.strip():
        raise InputError(source.name if "#" in source.name else source.path, "no text left after normalisation (only white space or boilerplate)")
    meta = {k: _plain_field(v) if isinstance(v, str) else v for k, v in source.meta.items()}
    if isinstance(meta.get("authors"), (list, tuple)):
        meta["authors"] = [a for a in (_plain_field(str(a)) for a in meta["authors"]) if a]
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
        id=document_id(text), name=printable(source.name), path=printable(source.path), text=text, title=title,
        language=meta.get("language") or detect_language(text), published=published, published_estimated=estimated,
        authors=authors, genre=meta.get("genre"), url=meta.get("url"), outlet=meta.get("outlet"), words=count_words(text),
    )


def unexpected(exc: BaseException) -> str:
    """Return the reason to report for an unexpected error on one input: the exception type and message (with the
    traceback when $ATLAS_DEBUG is set, as `atlas --debug` does)."""
    line = f"unexpected {type(exc).__name__}: {exc}"
    if os.environ.get("ATLAS_DEBUG"):
        line += "\n" + "".join(traceback.format_exception(exc))
    return line


def build_document_safely(source: Source) -> Document | InputError:
    """Return the Document for a source, or an InputError naming it when anything goes wrong (never raises)."""
    try:
        return build_document(source)
    except InputError as exc:
        return exc
    except Exception as exc:  # one hostile record must not stop the batch: report it and go on
        where = source.name if "#" in source.name else source.path
        return InputError(where, unexpected(exc))


def _sources(item: Path, options: ReadOptions) -> Iterator[Source | InputError]:
    """Yield read_sources(item), turning an unexpected error while reading into one InputError for the file."""
    try:
        yield from read_sources(item, options)
    except Exception as exc:  # a reader bug or a hostile file: the file fails, the batch goes on
        yield InputError(str(item), unexpected(exc))


def ingest(store: Store, paths: Iterable[str | Path], options: ReadOptions = ReadOptions(), progress: Progress | None = None) -> IngestReport:
    """Read, normalise and store every document under paths; one transaction per document, errors collected.

    Nothing raised while reading or normalising one file or record stops the batch: it becomes one failure in
    the report, naming the input and why."""
    report = IngestReport()
    for item in iter_files(list(paths)):
        if isinstance(item, InputError):
            report.failed.append(item)
            continue
        if progress:
            progress(printable(str(item)))
        for source in _sources(item, options):
            if not isinstance(source, InputError) and len(source.text) > options.max_chars:
                source = InputError(source.name if "#" in source.name else source.path,
                                    f"text of {len(source.text):,} characters, over the {options.max_chars:,} limit "
                                    "for one document: split it")
            doc = source if isinstance(source, InputError) else build_document_safely(source)
            if isinstance(doc, InputError):
                report.failed.append(doc)
                continue
            try:
                added = store.add_document(doc)
            except AtlasError:
                raise
            except Exception as exc:  # e.g. text the database refuses; the transaction rolled back
                report.failed.append(InputError(doc.name, unexpected(exc)))
                continue
            (report.added if added else report.unchanged).append(doc.name)
    return report


ANALYSIS_NEEDS = ("ner", "senter")


def find_technique_hits(doc: Document) -> list[TechniqueHit]:
    """Return the persuasion-technique spans of a document (none outside the models' languages), offsets into its text."""
    if not techniques_supported(doc.language):
        return []
    hits = {}
    for start, end, technique, score in technique_models.find_techniques(doc.text):
        if 0 <= start < end <= len(doc.text) and doc.text[start:end].strip():
            hits[(start, end, technique)] = TechniqueHit(doc.id, technique, start, end, doc.text[start:end], float(score),
                                                         technique_models.EXTRACTOR)
    return [hits[k] for k in sorted(hits)]


def analyze_document(doc: Document, actor_files: tuple[str, ...] = (), skip: Iterable[str] = ()) -> Analysis:
    """Return everything extracted from one document: mentions, actors, events, claims, stances, narratives,
    persuasion techniques (unless skipped) and DISARM techniques."""
    skip = check_skip(skip)
    catalog = load_actor_catalog(actor_files)
    entities = []
    sentences = []
    for offset, sdoc in parse(doc.text, doc.language, ANALYSIS_NEEDS):
        # Entities made only of stop words ("Les", "This") are tagging noise.
        entities.extend((offset + e.start_char, offset + e.end_char, e.label_) for e in sdoc.ents if not all(t.is_stop or t.is_punct for t in e))
        sentences.extend(_sentence_spans(doc.text, offset, sdoc))
    mentions, actors = link_actors(doc.id, doc.text, entities, catalog)
    # Techniques first: their MiniLM pass reads every sentence and hands its sentence vectors to the shared encoder,
    # so the stages below find most of theirs already computed (the stages are otherwise independent).
    techniques = [] if "techniques" in skip else find_technique_hits(doc)
    published = doc.published if doc.published and not doc.published_estimated else None
    events = extract_events(doc.id, doc.text, sentences, mentions, catalog, doc.language, published)
    claims = find_claims(doc.id, doc.text, sentences, mentions, catalog, language=doc.language)
    stances = find_stances(doc.id, doc.text, sentences, mentions, doc.language, catalog=catalog, events=events)
    narratives = find_narratives(doc.id, doc.text, sentences, mentions, doc.language, stances=stances)
    ttps = [TtpHit(doc.id, disarm_id, name, start, end, doc.text[start:end], confidence, "disarm-cues")
            for start, end, disarm_id, name, confidence in find_ttps(doc.text, doc.language)]
    return Analysis(doc=doc.id, mentions=mentions, actors=actors, events=events, claims=claims, stances=stances,
                    narratives=narratives, techniques=techniques, ttps=ttps)


@contextmanager
def one_blas_thread():
    """Run the block with numpy's BLAS on one thread. The numpy heads (stance's fine-tuned layers) multiply small
    matrices, where a second BLAS thread spends more CPU waiting than it saves (stance cost three times as much CPU
    with it); a worker's results do not depend on the BLAS thread count, so several workers scale instead."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


@contextmanager
def fewer_collections(allocations: int = 10_000):
    """Run the block with Python's cyclic garbage collector looking at new objects every `allocations` allocations
    instead of every 700. Analysis makes many short-lived objects that reference counting frees anyway, and each pass
    also walks the loaded models' objects: on 30 news articles the collector's passes cost 0.35-0.42 CPU-s at 700,
    0.13 at 10,000. When it runs changes no result."""
    before = gc.get_threshold()
    gc.set_threshold(max(allocations, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def analyze_safely(doc: Document, actor_files: tuple[str, ...] = (), skip: Iterable[str] = ()) -> Analysis | str:
    """Return analyze_document(doc), or a one-line failure naming the document when any stage raises (never raises
    for a document's content; a missing model or ontology error still raises, as it would fail every document)."""
    try:
        return analyze_document(doc, actor_files, skip)
    except AtlasError as exc:
        if isinstance(exc, InputError):
            return printable(f"{doc.name}: {exc}")
        raise
    except Exception as exc:  # one document's content must not abort the batch: it is reported and retried next run
        return printable(f"{doc.name}: {unexpected(exc)}")


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
            on_total: Callable[[int], None] | None = None, skip: Iterable[str] = ()) -> AnalyzeReport:
    """Analyse every stored document not yet analysed (or all), replacing each one's records in one transaction.

    Documents stream one at a time, each claimed first, so several `atlas analyze` processes on one database
    share the work and never analyse a document twice. `redo_all` marks every document stale first. `skip` names
    optional stages to leave out (OPTIONAL_STAGES); the stage set is part of the analysis version, so changing it
    analyses every document again.
    """
    report = AnalyzeReport()
    skip = check_skip(skip)
    version = analysis_version(actor_files, skip)
    if redo_all:
        store.mark_stale()
    if on_total:
        on_total(store.count_to_analyze(version))
    report.retaken = release_stopped_workers(store)
    worker = worker_name()
    changed: set[str] = set()
    with one_blas_thread(), fewer_collections():
        try:
            for doc in claim_each(store, version, worker):
                if progress:
                    progress(doc.name)
                analysis = analyze_safely(doc, actor_files, skip)
                if isinstance(analysis, str):
                    report.failed.append(analysis)
                    continue
                store.replace_analysis(analysis, version)
                report.count(analysis)
                report.note_language(doc.language, skip)
                changed.add(doc.id)
        finally:
            store.release_claims(worker)
        # -- analyst corrections (issue 23): replayed onto the new records before reconciliation sees them
        if changed:
            report.note_corrections(replay_corrections(store, None if redo_all else changed))
        if report.documents or redo_all or needs_reconciliation(store):
            report.links = len(reconcile(store, None if redo_all else changed, report))
    return report


def worker_name() -> str:
    """Return a name for this analysis worker that no other process shares: host, process id and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _stopped_here(worker: str) -> bool:
    """Return True when `worker` (a worker_name) ran on this host and its process is gone."""
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # the process exists under another user
        return False
    return False


def release_stopped_workers(store: Store) -> int:
    """Release the claims of workers on this host whose process has stopped (killed mid-analysis), so their
    documents are analysed now rather than when the lease lapses; return how many documents were released."""
    released = 0
    for worker, count in store.claim_holders().items():
        if _stopped_here(worker):
            store.release_claims(worker)
            released += count
    return released


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


def reconcile(store: Store, changed: set[str] | None = None, report: AnalyzeReport | None = None,
              map_units=None) -> list:
    """Update the cross-document links and store them: the same happening told by several sources,
    and claims that contradict or corroborate each other across documents.

    Every reconciliation links the whole corpus again: the linker's incremental mode (`focus`, `existing`) gave
    links whose confidences differed from a full pass, and a full pass costs about as much (each pass reads every
    document's opening sentences), so the links never depend on the order documents were analysed in, by how many
    workers, or whether a run was interrupted. `changed` is kept for callers; it no longer narrows the work.
    The corpus is read block by block (`reconcile.blocks.link_blocks`: memory bounded by the largest block, not
    the corpus); `map_units` runs its units of work elsewhere (the Ray engine passes one).
    Analyst corrections of links are replayed on the result (their outcome added to `report` when given).
    """
    # Under a lock from reading to writing: the last worker to finish reconciles last, over every document.
    with store.exclusive("reconcile"):
        # Documents analysed since the last completed reconciliation, by any worker (an interrupted run's too).
        pending = store.unreconciled_documents()
        links = link_blocks(store, map_units)
        store.replace_links(links, reconciled=pending)
        # -- analyst corrections (issue 23): links rejected, added or confirmed by hand
        replayed = replay_link_corrections(store)
    if report is not None:
        report.note_corrections(replayed)
    return links


def needs_reconciliation(store: Store) -> bool:
    """Return True when some analysed document has not been seen by a completed reconciliation."""
    return bool(store.unreconciled_documents())
