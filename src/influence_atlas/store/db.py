"""The Store: every read and write of the database, in transactions, on SQLite or PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Sequence

from sqlalchemy import create_engine, delete, event, func, insert, inspect, select, text, tuple_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from ..errors import StoreError
from ..records import (
    Actor, Analysis, Claim, Document, Event, EventActor, Link, Mention, NarrativeHit, Quantity, Stance, TechniqueHit, TtpHit,
)
from .migrations import MIGRATIONS, schema_migrations
from .schema import (
    PG_TEXT_SEARCH, PG_TEXT_SEARCH_FALLBACK, actors, claims, corrections, documents, encodings, events, held_stances,
    links, mentions, narratives, pg_fts_insert_sql, stances, techniques, ttps,
)

# Tables holding one document's extracted records, replaced together by each analysis.
PER_DOCUMENT = (mentions, events, claims, stances, held_stances, narratives, techniques, ttps)

# Record kinds analyst corrections act on: their table and the columns that name one row (never an autoincrement id).
RECORD_TABLES = {"event": events, "claim": claims, "mention": mentions, "stance": stances, "narrative": narratives,
                 "technique": techniques, "ttp": ttps, "link": links}
NATURAL_KEYS = {
    "event": ("id",), "claim": ("id",), "link": ("id",), "mention": ("doc", "start", "end", "label"),
    "stance": ("doc", "actor"), "narrative": ("doc", "narrative", "mode"), "technique": ("doc", "technique", "start", "end"),
    "ttp": ("doc", "disarm_id", "start", "end"),
}


@dataclass(slots=True)
class RecordChanges:
    """Records to delete (natural keys, by kind), records to write (by kind) and actors to overwrite or delete."""

    delete: dict[str, list[tuple]] = field(default_factory=dict)
    put: dict[str, list] = field(default_factory=dict)
    actors: list[Actor] = field(default_factory=list)
    delete_actors: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(any(self.delete.values()) or any(self.put.values()) or self.actors or self.delete_actors)

DEFAULT_DB = "atlas.db"

log = logging.getLogger("influence_atlas.store")

# A worker's claim on a document lapses after this long, so a crashed worker's documents are picked up again.
CLAIM_SECONDS = 30 * 60
# SQLite takes one writer at a time: a write waits this long in silence, then says it is waiting, up to WRITER_WAIT_SECONDS.
QUIET_WAIT_MS = 2000
WRITER_WAIT_SECONDS = 600
SQLITE_BUSY_TIMEOUT_MS = 60000


def database_url(db: str | None = None) -> str:
    """Return the SQLAlchemy URL for a --db value, else $ATLAS_DB, else ./atlas.db."""
    value = db or os.environ.get("ATLAS_DB") or DEFAULT_DB
    if "://" in value:
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://") :]
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        return value
    return "sqlite:///" + str(Path(value).expanduser().resolve())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store:
    """A database of documents and the records extracted from them."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name
        self.writer_wait = WRITER_WAIT_SECONDS
        self._watch = None
        self._watch_lock = threading.Lock()

    @property
    def url(self) -> str:
        """Return the database URL, password included, for workers in other processes to open the same store."""
        return self.engine.url.render_as_string(hide_password=False)

    @property
    def sqlite_path(self) -> Path | None:
        """Return the SQLite file, or None on a server database."""
        return Path(self.engine.url.database) if self.dialect == "sqlite" and self.engine.url.database else None

    # -- lifecycle -------------------------------------------------------------------------
    def migrate(self, until: int | None = None) -> list[int]:
        """Apply pending migrations in order (those up to version `until` when given); return the versions applied.

        An up-to-date database is only read (a read-only SQLite file opens); processes that open a new database
        at the same moment apply each migration once (PostgreSQL: under an advisory lock; SQLite: one writer).
        """
        if not [v for v in self._pending_migrations() if until is None or v <= until]:
            return []
        applied = []
        with self.exclusive("migrate") if self.dialect == "postgresql" else nullcontext():
            with self.transaction() as conn:
                schema_migrations.create(conn, checkfirst=True)
            for version, name, fn in MIGRATIONS:
                if until is not None and version > until:
                    break
                with self.transaction() as conn:
                    if conn.execute(select(schema_migrations.c.version).where(schema_migrations.c.version == version)).first():
                        continue
                    fn(conn, self.dialect)
                    conn.execute(insert(schema_migrations).values(version=version, name=name, applied_at=_now()))
                applied.append(version)
        return applied

    def _pending_migrations(self) -> list[int]:
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("schema_migrations"):
                return [m[0] for m in MIGRATIONS]
            done = {row[0] for row in conn.execute(select(schema_migrations.c.version))}
        return [m[0] for m in MIGRATIONS if m[0] not in done]

    def schema_version(self) -> int:
        """Return the highest applied migration version."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(schema_migrations.c.version))).scalar() or 0

    @contextmanager
    def transaction(self):
        """Yield a connection inside one transaction; commit on success, roll back on any error.

        On SQLite the transaction takes the write lock before its first statement (BEGIN IMMEDIATE): a second
        writer waits for it there, saying so, and never fails halfway through its writes.
        """
        try:
            with self.engine.connect() as conn:
                if self.dialect == "sqlite":
                    self._begin_immediate(conn.connection.dbapi_connection)
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            if "locked" in str(exc).lower():
                raise StoreError(
                    "the database is locked by another writer and stayed locked; wait for it to finish and retry"
                ) from exc
            raise StoreError(f"database error: {exc.orig}") from exc

    def _begin_immediate(self, raw: sqlite3.Connection) -> None:
        raw.execute(f"PRAGMA busy_timeout={QUIET_WAIT_MS}")
        try:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
            self._say_waiting()
            raw.execute(f"PRAGMA busy_timeout={int(self.writer_wait * 1000)}")
            try:
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
                raise StoreError(
                    f"{self.sqlite_path} stayed locked by another writer for {self.writer_wait:.0f} s, so nothing was "
                    "written; retry once the other process is done, or share a PostgreSQL database "
                    "(ATLAS_DB=postgresql://...) between concurrent writers"
                ) from exc
        finally:
            raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

    def _say_waiting(self) -> None:
        log.warning(
            "waiting: another process is writing to %s (SQLite takes one writer at a time); "
            "this one goes on as soon as it is free (giving up after %.0f s)", self.sqlite_path, self.writer_wait)

    @contextmanager
    def exclusive(self, name: str):
        """Hold the lock called `name` for every process on this database (one holder at a time) while the block runs.

        For read-then-replace work such as reconciliation: PostgreSQL advisory locks, a lock file beside SQLite.
        """
        if self.dialect == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            with self.engine.connect() as conn:
                conn.execute(select(func.pg_advisory_lock(key)))
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(select(func.pg_advisory_unlock(key)))
                    conn.commit()
        elif self.sqlite_path is not None:
            import fcntl

            with open(str(self.sqlite_path) + f".{name}.lock", "a") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    self._say_waiting()
                    fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        else:
            yield

    def close(self) -> None:
        """Release the database connections."""
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
        self.engine.dispose()

    def change_marker(self) -> tuple:
        """Return a cheap summary of the database that changes whenever documents, records, links or corrections do.

        On SQLite, `PRAGMA data_version` read on a connection kept for the purpose changes whenever any other
        connection commits. Elsewhere, counts and the newest analysis time (each read from an index) stand in.
        """
        if self.dialect == "sqlite":
            with self._watch_lock:
                if self._watch is None:
                    self._watch = self.engine.raw_connection()
                cur = self._watch.cursor()
                try:
                    cur.execute("PRAGMA data_version")
                    return ("data_version", cur.fetchone()[0])
                finally:
                    cur.close()
        with self.engine.connect() as conn:
            parts = [conn.execute(select(func.count()).select_from(t)).scalar() for t in (documents, events, claims, narratives, stances, links)]
            parts += [conn.execute(select(func.max(c))).scalar() for c in (documents.c.analyzed_at, documents.c.ingested_at, links.c.id,
                                                                          corrections.c.applied_at)]
        return tuple(parts)

    # -- documents -------------------------------------------------------------------------
    def add_document(self, doc: Document) -> bool:
        """Store a document and its full-text entry in one transaction; False when it was already there."""
        with self.transaction() as conn:
            if conn.execute(select(documents.c.id).where(documents.c.id == doc.id)).first():
                return False
            conn.execute(insert(documents).values(
                id=doc.id, name=doc.name, path=doc.path, title=doc.title, language=doc.language,
                published=doc.published, published_estimated=doc.published_estimated,
                authors=json.dumps(list(doc.authors), ensure_ascii=False), genre=doc.genre, url=doc.url,
                outlet=doc.outlet, words=doc.words, text=doc.text, ingested_at=_now(),
            ))
            if self.dialect == "sqlite":
                conn.execute(text("INSERT INTO documents_fts(doc_id, title, body) VALUES (:i, :t, :b)"),
                             {"i": doc.id, "t": doc.title or "", "b": doc.text})
            elif self.dialect == "postgresql":
                conn.execute(text(pg_fts_insert_sql("d.id = :i")), {"i": doc.id})
        return True

    def ingestion_times(self) -> dict[str, str]:
        """Return when each stored document was ingested, as the ISO timestamps the store recorded, by document id."""
        with self.engine.connect() as conn:
            return dict(conn.execute(select(documents.c.id, documents.c.ingested_at).order_by(documents.c.id)).all())

    def documents(self, ids: list[str] | None = None) -> list[Document]:
        """Return stored documents (all, or those with the given ids), sorted by name then id."""
        query = select(documents).order_by(documents.c.name, documents.c.id)
        if ids is not None:
            query = query.where(documents.c.id.in_(ids))
        with self.engine.connect() as conn:
            return [_row_document(r) for r in conn.execute(query).mappings()]

    def document_batches(self, size: int = 500) -> Iterable[list[Document]]:
        """Yield every stored document, `size` at a time, in id order (a keyset cursor: memory holds one batch)."""
        after = None
        while True:
            query = select(documents).order_by(documents.c.id).limit(size)
            if after is not None:
                query = query.where(documents.c.id > after)
            with self.engine.connect() as conn:
                batch = [_row_document(r) for r in conn.execute(query).mappings()]
            if not batch:
                return
            yield batch
            after = batch[-1].id

    def document_records(self, ids: Iterable[str]) -> tuple[list[Event], list[Claim], list[Stance]]:
        """Return the events, claims and stances of the given documents, each sorted as `events()`, `claims()` and
        `stances()` sort them."""
        wanted = sorted(set(ids))
        found: tuple[list, list, list] = ([], [], [])
        with self.engine.connect() as conn:
            for k in range(0, len(wanted), 500):
                part = wanted[k:k + 500]
                found[0].extend(_row_event(r) for r in conn.execute(select(events).where(events.c.doc.in_(part))).mappings())
                found[1].extend(_row_claim(r) for r in conn.execute(select(claims).where(claims.c.doc.in_(part))).mappings())
                found[2].extend(_row_stance(r) for r in conn.execute(select(stances).where(stances.c.doc.in_(part))).mappings())
        found[0].sort(key=lambda e: (e.doc, e.start, e.id))
        found[1].sort(key=lambda c: (c.doc, c.start, c.id))
        found[2].sort(key=lambda s: (s.doc, s.actor))
        return found

    def document_ids_to_analyze(self, version: str, redo_all: bool = False) -> list[str]:
        """Return ids of documents not yet analysed by this analysis version (or all of them), in name order."""
        query = select(documents.c.id).order_by(documents.c.name, documents.c.id)
        if not redo_all:
            query = query.where(_stale(version))
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(query)]

    def document_metadata(self, ids: list[str] | None = None) -> list[dict]:
        """Return documents' metadata without their text (id, name, path, title, language, genre, published,
        published_estimated, words, outlet, url, authors, analysis_version; all documents or those with the given ids),
        sorted by name then id."""
        columns = ("id", "name", "path", "title", "language", "genre", "published", "published_estimated", "words", "outlet",
                   "url", "authors", "analysis_version")
        query = select(*[documents.c[c] for c in columns]).order_by(documents.c.name, documents.c.id)
        if ids is not None:
            query = query.where(documents.c.id.in_(ids))
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        for r in rows:
            r["authors"] = json.loads(r["authors"] or "[]")
            r["published_estimated"] = bool(r["published_estimated"])
        return rows

    def document_texts(self, ids: Iterable[str]) -> dict[str, str]:
        """Return the stored text of the documents with the given ids, by id."""
        wanted = list(ids)
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            return dict(conn.execute(select(documents.c.id, documents.c.text).where(documents.c.id.in_(wanted))).all())

    def find_documents(self, ref: str) -> list[dict]:
        """Return the metadata (as document_metadata) of the documents a reference names: an id or its first characters,
        or an exact file name; failing those, names that start with it."""
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(select(documents.c.id).where(
                documents.c.id.startswith(ref, autoescape=True) | (documents.c.name == ref)))]
            if not ids:
                ids = [r[0] for r in conn.execute(select(documents.c.id).where(documents.c.name.startswith(ref, autoescape=True)))]
        return self.document_metadata(ids) if ids else []

    def document_names(self) -> dict[str, str]:
        """Return every stored document's name, by id."""
        with self.engine.connect() as conn:
            return dict(conn.execute(select(documents.c.id, documents.c.name)).all())

    def count_to_analyze(self, version: str) -> int:
        """Return how many stored documents this analysis version has not analysed yet."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(documents).where(_stale(version))).scalar() or 0

    def mark_stale(self) -> None:
        """Mark every document as not analysed, so that the next analysis (by any worker) redoes it; records stay until then."""
        with self.transaction() as conn:
            conn.execute(update(documents).values(analysis_version=None))

    def claim_documents(self, version: str, worker: str, after: tuple[str, str] | None = None, limit: int = 1,
                        lease: float = CLAIM_SECONDS) -> list[Document]:
        """Claim for `worker` up to `limit` documents this version has not analysed, that no live claim holds,
        after the (name, id) cursor; return them in (name, id) order.

        Concurrent workers never get the same document: PostgreSQL skips rows another claim is locking
        (FOR NO KEY UPDATE SKIP LOCKED) and re-checks the claim on rows it locks; SQLite runs one writer at a time.
        A claim ends with the document's analysis (replace_analyses), with release_claims, or after `lease` seconds.
        """
        cutoff = (datetime.now(timezone.utc) - timedelta(seconds=lease)).isoformat(timespec="seconds")
        query = (select(documents.c.id)
                 .where(_stale(version), documents.c.claimed_at.is_(None) | (documents.c.claimed_at < cutoff))
                 .order_by(documents.c.name, documents.c.id).limit(limit)
                 .with_for_update(skip_locked=True, key_share=True))
        if after is not None:
            query = query.where(tuple_(documents.c.name, documents.c.id) > tuple_(*after))
        with self.transaction() as conn:
            ids = list(conn.execute(query).scalars())
            if ids:
                conn.execute(update(documents).where(documents.c.id.in_(ids)).values(claimed_by=worker, claimed_at=_now()))
        return self.documents(ids) if ids else []

    def release_claims(self, worker: str) -> None:
        """Drop the claims a worker still holds (on documents it did not finish)."""
        with self.transaction() as conn:
            conn.execute(update(documents).where(documents.c.claimed_by == worker).values(claimed_by=None, claimed_at=None))

    # -- analysis --------------------------------------------------------------------------
    def replace_analysis(self, analysis: Analysis, version: str) -> None:
        """Replace a document's extracted records in one transaction and mark it analysed."""
        self.replace_analyses([analysis], version)

    def replace_analyses(self, analyses: Sequence[Analysis], version: str) -> None:
        """Replace the extracted records of several documents in one transaction, mark them analysed and end their claims.

        The result is the same as replacing them one by one in this order.
        """
        if not analyses:
            return
        ids = [a.doc for a in analyses]
        with self.transaction() as conn:
            for table in PER_DOCUMENT:
                conn.execute(delete(table).where(table.c.doc.in_(ids)))
            self._upsert_actors(conn, [actor for a in analyses for actor in a.actors])
            rows = {
                mentions: [_mention_row(m) for a in analyses for m in a.mentions],
                events: [_event_row(e) for a in analyses for e in a.events],
                claims: [_claim_row(c) for a in analyses for c in a.claims],
                stances: [_stance_row(x) for a in analyses for x in a.stances if not x.holder],
                held_stances: [dict(doc=x.doc, holder=x.holder, actor=x.actor, score=x.score,
                                    evidence=json.dumps([list(e) for e in x.evidence]), extractor=x.extractor,
                                    confidence=x.confidence) for a in analyses for x in a.stances if x.holder],
                narratives: [_narrative_row(x) for a in analyses for x in a.narratives],
                techniques: [_technique_row(x) for a in analyses for x in a.techniques],
                ttps: [_ttp_row(x) for a in analyses for x in a.ttps],
            }
            for table, values in rows.items():
                if values:
                    conn.execute(insert(table), values)
            conn.execute(update(documents).where(documents.c.id.in_(ids))
                         .values(analysis_version=version, analyzed_at=_now(), claimed_by=None, claimed_at=None,
                                 reconciled=False))

    def events(self, doc_id: str | None = None) -> list[Event]:
        """Return stored events (of one document or all), sorted by document and offset."""
        query = select(events).order_by(events.c.doc, events.c.start, events.c.id)
        if doc_id is not None:
            query = query.where(events.c.doc == doc_id)
        with self.engine.connect() as conn:
            return [_row_event(r) for r in conn.execute(query).mappings()]

    def _select(self, table, doc_id: str | None, *order):
        query = select(table).order_by(*order)
        if doc_id is not None:
            query = query.where(table.c.doc == doc_id)
        with self.engine.connect() as conn:
            return list(conn.execute(query).mappings())

    def claims(self, doc_id: str | None = None, ids: Iterable[str] | None = None) -> list[Claim]:
        """Return stored claims (of one document, those with the given ids, or all), sorted by document and offset."""
        if ids is None:
            return [_row_claim(r) for r in self._select(claims, doc_id, claims.c.doc, claims.c.start, claims.c.id)]
        wanted = list(ids)
        if not wanted:
            return []
        query = select(claims).where(claims.c.id.in_(wanted)).order_by(claims.c.doc, claims.c.start, claims.c.id)
        if doc_id is not None:
            query = query.where(claims.c.doc == doc_id)
        with self.engine.connect() as conn:
            return [_row_claim(r) for r in conn.execute(query).mappings()]

    def find_events(self, ref: str) -> list[Event]:
        """Return the stored events whose id starts with `ref` (with or without its `ev_` prefix), sorted by id."""
        query = select(events).where(events.c.id.startswith(ref, autoescape=True)
                                     | events.c.id.startswith(f"ev_{ref}", autoescape=True)).order_by(events.c.id)
        with self.engine.connect() as conn:
            return [_row_event(r) for r in conn.execute(query).mappings()]

    def mention_counts(self) -> dict[str, int]:
        """Return how many mentions each document has, by document id (documents without any left out)."""
        with self.engine.connect() as conn:
            return {d: int(n) for d, n in conn.execute(select(mentions.c.doc, func.count()).group_by(mentions.c.doc))}

    def stances(self, doc_id: str | None = None) -> list[Stance]:
        """Return stored stances, sorted by document and actor."""
        return [_row_stance(r) for r in self._select(stances, doc_id, stances.c.doc, stances.c.actor)]

    def held_stances(self, doc_id: str | None = None) -> list[Stance]:
        """Return the stored stances of quoted or cited speakers (`holder` set), sorted by document, holder and actor."""
        return [Stance(r["doc"], r["actor"], r["score"], tuple(tuple(e) for e in json.loads(r["evidence"])), r["extractor"],
                       r["confidence"], r["holder"])
                for r in self._select(held_stances, doc_id, held_stances.c.doc, held_stances.c.holder, held_stances.c.actor)]

    def narratives(self, doc_id: str | None = None) -> list[NarrativeHit]:
        """Return stored narrative hits, sorted by document, narrative and mode."""
        return [_row_narrative(r) for r in self._select(narratives, doc_id, narratives.c.doc, narratives.c.narrative, narratives.c.mode)]

    def techniques(self, doc_id: str | None = None) -> list[TechniqueHit]:
        """Return stored persuasion-technique spans, sorted by document and offset."""
        return [TechniqueHit(r["doc"], r["technique"], r["start"], r["end"], r["text"], r["score"], r["extractor"])
                for r in self._select(techniques, doc_id, techniques.c.doc, techniques.c.start, techniques.c.end, techniques.c.technique,
                                     techniques.c.id)]

    def technique_counts(self) -> list[tuple[str, str, int]]:
        """Return (document id, persuasion technique, spans) for every technique a document uses, sorted."""
        query = select(techniques.c.doc, techniques.c.technique, func.count()).group_by(techniques.c.doc, techniques.c.technique)
        with self.engine.connect() as conn:  # sorted here: a server's collation would order the names differently
            return sorted((d, t, int(n)) for d, t, n in conn.execute(query))

    def ttp_counts(self) -> list[tuple[str, str, str, int]]:
        """Return (document id, DISARM id, technique name, hits) for every DISARM technique a document describes, sorted."""
        query = select(ttps.c.doc, ttps.c.disarm_id, func.min(ttps.c.name), func.count()).group_by(ttps.c.doc, ttps.c.disarm_id)
        with self.engine.connect() as conn:
            return sorted((d, i, name, int(n)) for d, i, name, n in conn.execute(query))

    def ttps(self, doc_id: str | None = None) -> list[TtpHit]:
        """Return stored DISARM technique hits, sorted by document and offset."""
        return [TtpHit(r["doc"], r["disarm_id"], r["name"], r["start"], r["end"], r["evidence"], r["confidence"], r["extractor"])
                for r in self._select(ttps, doc_id, ttps.c.doc, ttps.c.start, ttps.c.disarm_id, ttps.c.id)]

    def links(self) -> list[Link]:
        """Return stored cross-document links, sorted by id."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(links).order_by(links.c.id)).mappings()
            return [_row_link(r) for r in rows]

    def replace_links(self, found: list[Link], kinds: tuple[str, ...] | None = None, reconciled: Iterable[str] = ()) -> None:
        """Replace the stored links (all, or those of the given kinds) in one transaction, and mark the documents
        `reconciled` names as seen by a completed reconciliation."""
        with self.transaction() as conn:
            query = delete(links)
            if kinds is not None:
                query = query.where(links.c.kind.in_(kinds))
            conn.execute(query)
            if found:
                conn.execute(insert(links), [_link_row(x) for x in found])
            done = sorted(set(reconciled))
            for k in range(0, len(done), 500):
                conn.execute(update(documents).where(documents.c.id.in_(done[k:k + 500])).values(reconciled=True))

    def unreconciled_documents(self) -> set[str]:
        """Return the ids of analysed documents no completed reconciliation has seen yet (by any worker)."""
        with self.engine.connect() as conn:
            query = select(documents.c.id).where(documents.c.analysis_version.is_not(None),
                                                 documents.c.reconciled.is_not(True))
            return set(conn.execute(query).scalars())

    def kept_encodings(self, encoder: str, digests: Iterable[str]) -> dict[str, bytes]:
        """Return the encoder rows an earlier reconciliation kept (`keep_encodings`) for these text digests, by digest."""
        wanted = sorted(set(digests))
        out: dict[str, bytes] = {}
        with self.engine.connect() as conn:
            for k in range(0, len(wanted), 500):
                query = select(encodings.c.digest, encodings.c.vector).where(
                    encodings.c.encoder == encoder, encodings.c.digest.in_(wanted[k:k + 500]))
                out.update((d, bytes(v)) for d, v in conn.execute(query))
        return out

    def keep_encodings(self, encoder: str, rows: dict[str, bytes]) -> None:
        """Keep encoder rows (text digest -> row bytes) for later reconciliations; a digest already kept stays as it is."""
        if not rows:
            return
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert
        with self.transaction() as conn:
            conn.execute(upsert(encodings).on_conflict_do_nothing(),
                         [dict(encoder=encoder, digest=d, vector=v) for d, v in sorted(rows.items())])

    def claim_holders(self) -> dict[str, int]:
        """Return how many documents each worker holds a claim on."""
        with self.engine.connect() as conn:
            query = (select(documents.c.claimed_by, func.count()).where(documents.c.claimed_by.is_not(None))
                     .group_by(documents.c.claimed_by))
            return {worker: n for worker, n in conn.execute(query)}

    def _upsert_actors(self, conn, found: Iterable[Actor]) -> None:
        """Insert new actors; update a stored one unless only an unknown-kind guess would replace a gazetteer entry."""
        latest: dict[str, Actor] = {}
        for actor in found:  # fold repeats in order with the rule the database applies below
            held = latest.get(actor.name)
            if held is None or actor.known or not held.known:
                latest[actor.name] = actor
        if not latest:
            return
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert
        stmt = upsert(actors)
        stmt = stmt.on_conflict_do_update(
            index_elements=[actors.c.name],
            set_={c: stmt.excluded[c] for c in ("kind", "aliases", "country", "known")},
            where=(stmt.excluded.known == True) | (actors.c.known == False),  # noqa: E712 (SQL, not Python)
        )
        # One statement, rows in name order: concurrent workers lock shared actors in the same order, never deadlock.
        conn.execute(stmt, [
            dict(name=a.name, kind=a.kind, aliases=json.dumps(list(a.aliases), ensure_ascii=False), country=a.country, known=a.known)
            for _, a in sorted(latest.items())
        ])

    def mentions(self, doc_id: str | None = None) -> list[Mention]:
        """Return stored mentions (of one document or all), sorted by document and offset."""
        # Ties keep insertion order (the id), as SQLite happens to and PostgreSQL does not.
        query = select(mentions).order_by(mentions.c.doc, mentions.c.start, mentions.c.end, mentions.c.label, mentions.c.id)
        if doc_id is not None:
            query = query.where(mentions.c.doc == doc_id)
        with self.engine.connect() as conn:
            return [Mention(r.doc, r.start, r.end, r.text, r.label, r.actor, r.extractor, r.confidence) for r in conn.execute(query)]

    def actors(self, mentioned_only: bool = True) -> list[Actor]:
        """Return actors (by default only those some stored mention links to), sorted by name."""
        query = select(actors).order_by(actors.c.name)
        if mentioned_only:
            query = query.where(actors.c.name.in_(select(mentions.c.actor).where(mentions.c.actor.is_not(None))))
        with self.engine.connect() as conn:
            return [Actor(r.name, r.kind, tuple(json.loads(r.aliases)), r.country, bool(r.known)) for r in conn.execute(query)]

    # -- analyst corrections -------------------------------------------------------------------
    def find_records(self, kind: str, **equals) -> list:
        """Return the stored records of a kind (event, claim, mention, stance, narrative, technique, ttp, link) whose
        columns equal the given values, in table order."""
        table = RECORD_TABLES[kind]
        query = select(table).where(*[table.c[k] == v for k, v in equals.items()])
        with self.engine.connect() as conn:
            return [_ROW_READERS[kind](r) for r in conn.execute(query).mappings()]

    def corrections(self, ids: Iterable[str] | None = None, states: Iterable[str] | None = None) -> list[dict]:
        """Return stored corrections (all, or those with the given ids or states) in the order they were made,
        their JSON columns decoded."""
        query = select(corrections).order_by(corrections.c.created_at, corrections.c.id)
        if ids is not None:
            query = query.where(corrections.c.id.in_(list(ids)))
        if states is not None:
            query = query.where(corrections.c.state.in_(list(states)))
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        for r in rows:
            for name in ("target", "fields", "affected"):
                r[name] = json.loads(r[name])
        return rows

    def corrections_changed_at(self) -> str | None:
        """Return when a correction was last written or replayed (None when there is none)."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(corrections.c.applied_at))).scalar()

    def write_corrections(self, rows: Sequence[dict], changes: RecordChanges | None = None, stale: Iterable[str] = ()) -> None:
        """In one transaction: insert or replace correction rows (by id), apply record changes, and mark the
        documents in `stale` for re-analysis."""
        with self.transaction() as conn:
            if rows:
                ids = [r["id"] for r in rows]
                conn.execute(delete(corrections).where(corrections.c.id.in_(ids)))
                conn.execute(insert(corrections), [
                    {**r, **{n: json.dumps(r[n], ensure_ascii=False, sort_keys=True) for n in ("target", "fields", "affected")},
                     "applied_at": _now_precise()} for r in rows])
            if changes:
                self._apply_changes(conn, changes)
            stale = sorted(set(stale))
            for k in range(0, len(stale), 500):
                conn.execute(update(documents).where(documents.c.id.in_(stale[k:k + 500])).values(analysis_version=None))

    def _apply_changes(self, conn, changes: RecordChanges) -> None:
        for kind, keys in changes.delete.items():
            table, columns = RECORD_TABLES[kind], NATURAL_KEYS[kind]
            for key in keys:
                conn.execute(delete(table).where(*[table.c[c] == v for c, v in zip(columns, key)]))
        for kind, found in changes.put.items():
            if found:
                conn.execute(insert(RECORD_TABLES[kind]), [_ROW_WRITERS[kind](x) for x in found])
        if changes.delete_actors:
            conn.execute(delete(actors).where(actors.c.name.in_(changes.delete_actors)))
        for a in changes.actors:
            conn.execute(delete(actors).where(actors.c.name == a.name))
            conn.execute(insert(actors).values(name=a.name, kind=a.kind, aliases=json.dumps(list(a.aliases), ensure_ascii=False),
                                               country=a.country, known=a.known))

    # -- search ----------------------------------------------------------------------------
    def search(self, query: str, limit: int = 20) -> list[dict]:
        """Return documents matching a full-text query, best first, with a snippet whose hits sit between \\x02 and \\x03."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                # Rank first, then cut snippets from the `limit` kept only: asking FTS5 for a snippet of every match
                # before ranking costs ten times more when most documents match.
                q = _fts5_query(query)
                rowids = [int(r[0]) for r in conn.execute(text(
                    "SELECT rowid FROM documents_fts WHERE documents_fts MATCH :q ORDER BY rank LIMIT :n"), {"q": q, "n": limit})]
                if not rowids:
                    return []
                # The list holds integers read back from the index, so it is safe to inline (FTS5 plans IN (...) on rowid well).
                found = {r["rowid"]: r for r in conn.execute(text(
                    "SELECT documents_fts.rowid AS rowid, d.id, d.name, d.title, "
                    "snippet(documents_fts, 2, char(2), char(3), ' … ', 16) AS snippet "
                    "FROM documents_fts JOIN documents d ON d.id = documents_fts.doc_id "
                    f"WHERE documents_fts MATCH :q AND documents_fts.rowid IN ({','.join(map(str, rowids))})"), {"q": q}).mappings()}
                return [{k: v for k, v in found[r].items() if k != "rowid"} for r in rowids if r in found]
            else:
                tsquery = _tsquery(query)
                if not tsquery:
                    return []
                configs = ", ".join(f"('{c}'::regconfig)" for c in sorted({*PG_TEXT_SEARCH.values(), PG_TEXT_SEARCH_FALLBACK}))
                # Each document is matched with its own language's configuration (stemming, stop words).
                rows = conn.execute(text(
                    "SELECT d.id, d.name, d.title, ts_headline(h.config, d.text, h.query, :options) AS snippet FROM ("
                    " SELECT f.doc_id, f.config, q.query, ts_rank(f.tsv, q.query) AS rank FROM documents_fts f"
                    f" JOIN (SELECT c.config, to_tsquery(c.config, :q) AS query FROM (VALUES {configs}) AS c(config)) q"
                    " ON q.config = f.config WHERE f.tsv @@ q.query ORDER BY rank DESC, f.doc_id LIMIT :n"
                    ") h JOIN documents d ON d.id = h.doc_id ORDER BY h.rank DESC, h.doc_id"),
                    {"q": tsquery, "n": limit, "options": PG_HEADLINE}).mappings()
            return [dict(r) for r in rows]


# ts_headline settings close to the FTS5 snippet: hits between \x02 and \x03, a few short fragments.
PG_HEADLINE = "StartSel=\x02, StopSel=\x03, MaxWords=24, MinWords=8, ShortWord=2, MaxFragments=2, FragmentDelimiter=\" … \""


def _tsquery(query: str) -> str:
    """Return a to_tsquery string requiring every word (a trailing * searches by prefix); user text cannot inject operators."""
    terms = []
    for word in query.split():
        tokens = [f"'{t}'" for t in re.findall(r"\w+", word)]
        if not tokens:
            continue
        if word.endswith("*"):
            tokens[-1] += ":*"
        terms.append(tokens[0] if len(tokens) == 1 else "(" + " <-> ".join(tokens) + ")")
    return " & ".join(terms)


def _stale(version: str):
    """Return the condition of documents this analysis version has not analysed."""
    return documents.c.analysis_version.is_(None) | (documents.c.analysis_version != version)


def _locked(exc: Exception) -> bool:
    return "locked" in str(exc).lower() or "busy" in str(exc).lower()


def _fts5_query(query: str) -> str:
    """Quote each word so user text cannot inject FTS5 syntax; keeps a trailing * as a prefix search."""
    terms = []
    for word in query.split():
        prefix = word.endswith("*")
        word = word.rstrip("*").replace('"', '""')
        if word:
            terms.append(f'"{word}"' + ("*" if prefix else ""))
    return " ".join(terms) or '""'


def _event_row(e: Event) -> dict:
    return dict(
        id=e.id, doc=e.doc, type=e.type, date=e.date, date_precision=e.date_precision,
        actors=json.dumps([[a.name, a.role] + ([a.actor_type] if a.actor_type else []) for a in e.actors], ensure_ascii=False), location=e.location,
        latitude=e.latitude, longitude=e.longitude, fatalities=e.fatalities, fatalities_qualifier=e.fatalities_qualifier,
        modality=e.modality, start=e.start, end=e.end, evidence=e.evidence, trigger=e.trigger,
        extractor=e.extractor, confidence=e.confidence,
        acled_event_type=e.acled_event_type, acled_sub_event_type=e.acled_sub_event_type,
        geo_precision=e.geo_precision, time_precision=e.time_precision,
    )


def _mention_row(m: Mention) -> dict:
    return dict(doc=m.doc, start=m.start, end=m.end, text=m.text, label=m.label, actor=m.actor, extractor=m.extractor,
                confidence=m.confidence)


def _stance_row(x: Stance) -> dict:
    return dict(doc=x.doc, actor=x.actor, score=x.score, evidence=json.dumps([list(e) for e in x.evidence]),
                extractor=x.extractor, confidence=x.confidence, relayed_from=x.relayed_from or None)


def _narrative_row(x: NarrativeHit) -> dict:
    return dict(doc=x.doc, narrative=x.narrative, mode=x.mode, score=x.score, evidence=json.dumps([list(e) for e in x.evidence]),
                extractor=x.extractor)


def _technique_row(x: TechniqueHit) -> dict:
    return dict(doc=x.doc, technique=x.technique, start=x.start, end=x.end, text=x.text, score=x.score, extractor=x.extractor)


def _ttp_row(x: TtpHit) -> dict:
    return dict(doc=x.doc, disarm_id=x.disarm_id, name=x.name, start=x.start, end=x.end, evidence=x.evidence,
                confidence=x.confidence, extractor=x.extractor)


def _link_row(x: Link) -> dict:
    return dict(id=x.id, kind=x.kind, items=json.dumps(list(x.items)), detail=x.detail, score=x.score)


def _row_stance(r) -> Stance:
    return Stance(r["doc"], r["actor"], r["score"], tuple(tuple(e) for e in json.loads(r["evidence"])), r["extractor"], r["confidence"],
                  relayed_from=r.get("relayed_from") or "")


def _row_narrative(r) -> NarrativeHit:
    return NarrativeHit(r["doc"], r["narrative"], r["mode"], r["score"], tuple(tuple(e) for e in json.loads(r["evidence"])), r["extractor"])


def _row_link(r) -> Link:
    return Link(r["id"], r["kind"], tuple(json.loads(r["items"])), r["detail"], r["score"])


def _now_precise() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _claim_row(c: Claim) -> dict:
    return dict(
        id=c.id, doc=c.doc, start=c.start, end=c.end, text=c.text, checkworthiness=c.checkworthiness,
        quantities=json.dumps([[q.text, q.value, q.unit, q.qualifier, q.start, q.end] + ([q.upper] if q.upper is not None else [])
                               for q in c.quantities], ensure_ascii=False),
        attributed_to=c.attributed_to, attribution_text=c.attribution_text, reporting_verb=c.reporting_verb, hedged=c.hedged,
        hedges=json.dumps(list(c.hedges), ensure_ascii=False), extractor=c.extractor, confidence=c.confidence,
        relayed_by=c.relayed_by,
    )


def _row_claim(r) -> Claim:
    return Claim(
        id=r["id"], doc=r["doc"], start=r["start"], end=r["end"], text=r["text"], checkworthiness=r["checkworthiness"],
        quantities=tuple(Quantity(*q) for q in json.loads(r["quantities"])), attributed_to=r["attributed_to"],
        attribution_text=r["attribution_text"], reporting_verb=r["reporting_verb"], hedged=bool(r["hedged"]),
        hedges=tuple(json.loads(r["hedges"])), extractor=r["extractor"], confidence=r["confidence"],
        relayed_by=r["relayed_by"],
    )


def _row_event(r) -> Event:
    return Event(
        id=r["id"], doc=r["doc"], type=r["type"], date=r["date"], date_precision=r["date_precision"],
        actors=tuple(EventActor(*a) for a in json.loads(r["actors"])), location=r["location"],
        latitude=r["latitude"], longitude=r["longitude"], fatalities=r["fatalities"],
        fatalities_qualifier=r["fatalities_qualifier"], modality=r["modality"], start=r["start"], end=r["end"],
        evidence=r["evidence"], trigger=r["trigger"], extractor=r["extractor"], confidence=r["confidence"],
        acled_event_type=r["acled_event_type"], acled_sub_event_type=r["acled_sub_event_type"],
        geo_precision=r["geo_precision"], time_precision=r["time_precision"],
    )


def _row_document(r) -> Document:
    return Document(
        id=r["id"], name=r["name"], path=r["path"], text=r["text"], title=r["title"], language=r["language"],
        published=r["published"], published_estimated=bool(r["published_estimated"]),
        authors=tuple(json.loads(r["authors"] or "[]")), genre=r["genre"], url=r["url"], outlet=r["outlet"], words=r["words"],
    )


_ROW_WRITERS = {"event": _event_row, "claim": _claim_row, "mention": _mention_row, "stance": _stance_row,
                "narrative": _narrative_row, "technique": _technique_row, "ttp": _ttp_row, "link": _link_row}
_ROW_READERS = {
    "event": _row_event, "claim": _row_claim, "stance": _row_stance, "narrative": _row_narrative, "link": _row_link,
    "mention": lambda r: Mention(r["doc"], r["start"], r["end"], r["text"], r["label"], r["actor"], r["extractor"], r["confidence"]),
    "technique": lambda r: TechniqueHit(r["doc"], r["technique"], r["start"], r["end"], r["text"], r["score"], r["extractor"]),
    "ttp": lambda r: TtpHit(r["doc"], r["disarm_id"], r["name"], r["start"], r["end"], r["evidence"], r["confidence"], r["extractor"]),
}


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.close()


def open_store(db: str | None = None, migrate: bool = True) -> Store:
    """Open (creating and migrating when needed) the database named by --db, $ATLAS_DB or ./atlas.db."""
    url = database_url(db)
    if url.startswith("sqlite:///"):
        parent = Path(url[len("sqlite:///") :]).parent
        if not parent.exists():
            parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, future=True)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot open database {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    store = Store(engine)
    if migrate:
        try:
            store.migrate()
        except OperationalError as exc:
            raise StoreError(f"cannot open database {url!r}: {exc.orig}") from exc
    return store
