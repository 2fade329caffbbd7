"""`atlas analyze --engine ray`: per-document analysis as Ray Data batches, on this machine or a Ray cluster.

The driver lists the documents to analyse; Ray tasks read them from the store (or build them from the records
of Parquet/JSONL files); a pool of Ray actors analyses them with `pipeline.analyze_document`, each actor
loading the models once; the driver writes each batch's records in one transaction, in the order the default
engine would, then reconciles across documents, each unit of reconciliation work (reconcile.blocks) a Ray task. On a cluster every node needs influence-atlas installed and
the store must be reachable from every node: a PostgreSQL URL (a SQLite file serves one machine only).
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

from .errors import ExtraError, InputError
from .corrections import replay_corrections
from .pipeline import (AnalyzeReport, Progress, analysis_version, analyze_document, analyze_safely, build_document_safely,
                       check_skip, needs_reconciliation, one_blas_thread, reconcile, unexpected)
from .records import Document
from .store import Store, open_store
from .text.readers import ReadOptions, record_source

RAY_EXTRA = "pip install 'influence-atlas[ray]'"
# Documents per analysis batch: large enough to keep actors busy, small enough to write in one short transaction.
BATCH_SIZE = 16
INPUT_SUFFIXES = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".ndjson": "json"}


def import_ray():
    """Return the ray module, or raise ExtraError with the install command when the extra is missing."""
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data ships in the extra's ray[data])
    except ImportError as exc:
        raise ExtraError(f"the ray engine needs Ray, an optional extra: {RAY_EXTRA}") from exc
    return ray


class DocumentAnalyzer:
    """Ray Data callable class: loads the models once per worker, then analyses batches of pickled Documents."""

    def __init__(self, actor_files: tuple[str, ...] = (), keep_documents: bool = False, skip: tuple[str, ...] = ()):
        self.actor_files = tuple(actor_files)
        self.keep_documents = keep_documents
        self.skip = tuple(skip)
        for language, text in (("en", "Russia's Wagner Group deployed to Mali in December 2021, officials said."),
                               ("fr", "Le groupe Wagner s'est déployé au Mali en décembre 2021, selon des officiels.")):
            analyze_document(Document(id="warm-up", name="warm-up", path="", text=text, language=language), self.actor_files,
                             self.skip)

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        analyses, languages, errors = [], [], []
        with one_blas_thread():
            for payload, error in zip(batch["document"], batch["error"]):
                doc = None if error else pickle.loads(payload)
                analysis = None if doc is None else analyze_safely(doc, self.actor_files, self.skip)
                if isinstance(analysis, str):  # this document failed; the batch goes on
                    error, analysis = analysis, None
                analyses.append(b"" if analysis is None else pickle.dumps(analysis))
                languages.append((doc.language if doc else None) or "")
                errors.append(error)
        out = {"id": batch["id"], "error": np.array(errors, dtype=object), "analysis": np.array(analyses, dtype=object),
               "language": np.array(languages, dtype=object)}
        if self.keep_documents:
            out["document"] = batch["document"]
        return out


@lru_cache(maxsize=4)
def _worker_store(url: str) -> Store:
    return open_store(url, migrate=False)


def fetch_documents(batch: dict, url: str) -> dict:
    """Ray task: read a batch of documents by id from the store, pickled, in the batch's order."""
    import numpy as np

    ids = [str(i) for i in batch["id"]]
    found = {d.id: d for d in _worker_store(url).documents(ids)}
    return {"id": batch["id"], "error": np.array([""] * len(ids), dtype=object),
            "document": np.array([pickle.dumps(found[i]) for i in ids], dtype=object)}


def score_unit_task(url: str, unit: dict, df: dict) -> tuple:
    """Ray task: score one unit of reconciliation work (reconcile.blocks.score_unit) against the store at `url`."""
    from .reconcile.blocks import score_unit

    with one_blas_thread():
        return score_unit(_worker_store(url), unit, df)


def unit_mapper(ray, url: str, in_flight: int):
    """Return a `map_units` for reconcile: each unit of work a Ray task, at most `in_flight` pending at once (the
    driver never holds every unit), results as they finish."""
    task = ray.remote(num_cpus=1)(score_unit_task)

    def run(units, df):
        df_ref = ray.put(dict(df))
        pending = []
        for unit in units:
            pending.append(task.remote(url, unit, df_ref))
            if len(pending) >= in_flight:
                done, pending = ray.wait(pending, num_returns=1)
                yield ray.get(done[0])
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])

    return run


def documents_from_records(batch: dict, options: ReadOptions) -> dict:
    """Ray task: turn input records (a batch of columns, their file in `path`) into pickled Documents; bad ones carry an error."""
    import numpy as np

    rows = []  # (id, error, pickled document)
    columns = list(batch)
    for i in range(len(batch[columns[0]]) if columns else 0):
        record = {k: batch[k][i] for k in columns}
        path = Path(str(record.pop("path", "")))
        record = {k: v for k, v in record.items() if not _missing(v)}
        rid = record.get(options.id_field)
        try:
            source = record_source(path, f"record {rid}" if rid is not None else "a record", 0, record, options)
        except InputError as exc:
            rows.append(("", str(exc), b""))
            continue
        except Exception as exc:  # a hostile record fails alone
            rows.append(("", str(InputError(f"{path.name}: record {rid}", unexpected(exc))), b""))
            continue
        doc = build_document_safely(source)
        if isinstance(doc, InputError):
            rows.append(("", str(doc), b""))
            continue
        if rid is None:  # files are read in parallel pieces: no line number, so the text's hash names the record
            doc = replace(doc, name=f"{path.name}#{doc.id[:12]}")
        rows.append((doc.id, "", pickle.dumps(doc)))
    return {key: np.array([r[k] for r in rows], dtype=object) for k, key in enumerate(("id", "error", "document"))}


def _missing(value) -> bool:
    try:
        return value is None or bool(value != value)  # NaN where a column has gaps
    except (TypeError, ValueError):
        return False


def input_files(inputs: Sequence[str | Path]) -> dict[str, list[str]]:
    """Return the Parquet and JSONL files under inputs (files or folders), by Ray reader; raise InputError for others."""
    found: dict[str, list[str]] = {"parquet": [], "json": []}
    for item in inputs:
        path = Path(item)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        if not path.exists():
            raise InputError(str(path), "no such file or folder")
        for f in files:
            kind = INPUT_SUFFIXES.get(f.suffix.lower())
            if kind:
                found[kind].append(str(f.resolve()))
            elif not path.is_dir():
                raise InputError(str(f), "the ray engine reads .parquet and .jsonl inputs")
    if not any(found.values()):
        raise InputError(", ".join(map(str, inputs)), "no .parquet or .jsonl files")
    return found


def analyze_with_ray(store: Store, redo_all: bool = False, actor_files: tuple[str, ...] = (), address: str | None = None,
                     workers: int | None = None, inputs: Sequence[str | Path] = (), options: ReadOptions = ReadOptions(),
                     progress: Progress | None = None, on_total: Callable[[int], None] | None = None,
                     batch_size: int = BATCH_SIZE, skip: Sequence[str] = ()) -> AnalyzeReport:
    """Analyse with Ray the stored documents not yet analysed (or all), or the records of Parquet/JSONL `inputs`
    (stored as they come), writing each batch in one transaction; then reconcile. Return what was done.
    `skip` names optional stages to leave out, as for `pipeline.analyze`."""
    skip = tuple(sorted(check_skip(skip)))
    ray = import_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 logging_level=logging.WARNING, configure_logging=True)
    try:
        return _run(ray, store, redo_all, actor_files, workers, inputs, options, progress, on_total, batch_size, skip)
    finally:
        if started:
            ray.shutdown()


def _run(ray, store, redo_all, actor_files, workers, inputs, options, progress, on_total, batch_size, skip) -> AnalyzeReport:
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # write in the default engine's order: same actors, same export
    context.enable_progress_bars = False  # the CLI draws its own
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    report = AnalyzeReport()
    version = analysis_version(tuple(actor_files), skip)
    size = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    if inputs:
        files = input_files(inputs)
        # Records become documents per reader, before the union: Parquet and JSON blocks must not share a batch.
        parts = [getattr(ray.data, f"read_{kind}")(paths, include_paths=True, **({"lines": True} if kind == "json" else {}))
                 .map_batches(documents_from_records, fn_kwargs={"options": options}, batch_format="numpy", batch_size=batch_size)
                 for kind, paths in files.items() if paths]
        data = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    else:
        if redo_all:
            store.mark_stale()
        ids = store.document_ids_to_analyze(version)
        if on_total:
            on_total(len(ids))
        if not ids:
            if redo_all or needs_reconciliation(store):
                report.links = len(reconcile(store, report=report, map_units=unit_mapper(ray, store.url, 2 * size)))
            return report
        data = ray.data.from_items([{"id": i} for i in ids]).map_batches(
            fetch_documents, fn_kwargs={"url": store.url}, batch_format="numpy", batch_size=batch_size)
    analysed = data.map_batches(
        DocumentAnalyzer, fn_constructor_kwargs={"actor_files": tuple(actor_files), "keep_documents": bool(inputs), "skip": skip},
        compute=ray.data.ActorPoolStrategy(size=size), batch_format="numpy", batch_size=batch_size, num_cpus=1)
    seen: set[str] = set()
    skipped = frozenset(skip)
    for batch in analysed.iter_batches(batch_format="numpy", batch_size=batch_size):
        todo = []
        for i, (doc_id, error, payload) in enumerate(zip(batch["id"], batch["error"], batch["analysis"])):
            if error:
                report.failed.append(str(error))
                continue
            if doc_id in seen:
                continue
            seen.add(doc_id)
            report.note_language(str(batch["language"][i]) or None, skipped)
            if inputs:
                doc = pickle.loads(batch["document"][i])
                store.add_document(doc)
                if progress:
                    progress(doc.name)
            elif progress:
                progress(str(doc_id)[:16])
            todo.append(pickle.loads(payload))
        store.replace_analyses(todo, version)
        for analysis in todo:
            report.count(analysis)
    # -- analyst corrections (issue 23): replayed onto the new records before reconciliation sees them
    if seen:
        report.note_corrections(replay_corrections(store, None if redo_all and not inputs else seen))
    if report.documents or redo_all or needs_reconciliation(store):
        report.links = len(reconcile(store, report=report, map_units=unit_mapper(ray, store.url, 2 * size)))
    return report
