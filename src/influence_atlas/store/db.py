"""The Store: every read and write of the database, in transactions, on SQLite or PostgreSQL."""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, func, insert, select, text, update, delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from ..errors import StoreError
from ..records import (
    Actor, Analysis, Claim, Document, Event, EventActor, Link, Mention, NarrativeHit, Quantity, Stance, TechniqueHit, TtpHit,
)
from .schema import (
    MIGRATIONS, actors, claims, documents, events, links, mentions, narratives, schema_migrations, stances, techniques, ttps,
)

# Tables holding one document's extracted records, replaced together by each analysis.
PER_DOCUMENT = (mentions, events, claims, stances, narratives, techniques, ttps)

DEFAULT_DB = "atlas.db"


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

    # -- lifecycle -------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply pending migrations in order; return the versions applied."""
        applied = []
        with self.transaction() as conn:
            schema_migrations.create(conn, checkfirst=True)
        with self.engine.connect() as conn:
            done = {row[0] for row in conn.execute(select(schema_migrations.c.version))}
        for version, name, fn in MIGRATIONS:
            if version in done:
                continue
            with self.transaction() as conn:
                fn(conn, self.dialect)
                conn.execute(insert(schema_migrations).values(version=version, name=name, applied_at=_now()))
            applied.append(version)
        return applied

    def schema_version(self) -> int:
        """Return the highest applied migration version."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(schema_migrations.c.version))).scalar() or 0

    @contextmanager
    def transaction(self):
        """Yield a connection inside one transaction; commit on success, roll back on any error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            if "locked" in str(exc).lower():
                raise StoreError(
                    "the database is locked by another writer and stayed locked; wait for it to finish and retry"
                ) from exc
            raise StoreError(f"database error: {exc.orig}") from exc

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # -- documents -------------------------------------------------------------------------
    def has_document(self, doc_id: str) -> bool:
        """Return True when a document with this id is stored."""
        with self.engine.connect() as conn:
            return conn.execute(select(documents.c.id).where(documents.c.id == doc_id)).first() is not None

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
        return True

    def documents(self, ids: list[str] | None = None) -> list[Document]:
        """Return stored documents (all, or those with the given ids), sorted by name then id."""
        query = select(documents).order_by(documents.c.name, documents.c.id)
        if ids is not None:
            query = query.where(documents.c.id.in_(ids))
        with self.engine.connect() as conn:
            return [_row_document(r) for r in conn.execute(query).mappings()]

    def document_ids_to_analyze(self, version: str, redo_all: bool = False) -> list[str]:
        """Return ids of documents not yet analysed by this analysis version (or all of them), in name order."""
        query = select(documents.c.id).order_by(documents.c.name, documents.c.id)
        if not redo_all:
            query = query.where(documents.c.analysis_version.is_(None) | (documents.c.analysis_version != version))
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(query)]

    def count_documents(self) -> int:
        """Return the number of stored documents."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(documents)).scalar() or 0

    # -- analysis --------------------------------------------------------------------------
    def replace_analysis(self, analysis: Analysis, version: str) -> None:
        """Replace a document's extracted records in one transaction and mark it analysed."""
        doc_id = analysis.doc
        with self.transaction() as conn:
            for table in PER_DOCUMENT:
                conn.execute(delete(table).where(table.c.doc == doc_id))
            for actor in analysis.actors:
                self._upsert_actor(conn, actor)
            if analysis.mentions:
                conn.execute(insert(mentions), [
                    dict(doc=m.doc, start=m.start, end=m.end, text=m.text, label=m.label, actor=m.actor,
                         extractor=m.extractor, confidence=m.confidence)
                    for m in analysis.mentions
                ])
            if analysis.events:
                conn.execute(insert(events), [_event_row(e) for e in analysis.events])
            if analysis.claims:
                conn.execute(insert(claims), [_claim_row(c) for c in analysis.claims])
            if analysis.stances:
                conn.execute(insert(stances), [
                    dict(doc=x.doc, actor=x.actor, score=x.score, evidence=json.dumps([list(e) for e in x.evidence]),
                         extractor=x.extractor, confidence=x.confidence) for x in analysis.stances])
            if analysis.narratives:
                conn.execute(insert(narratives), [
                    dict(doc=x.doc, narrative=x.narrative, mode=x.mode, score=x.score,
                         evidence=json.dumps([list(e) for e in x.evidence]), extractor=x.extractor) for x in analysis.narratives])
            if analysis.techniques:
                conn.execute(insert(techniques), [
                    dict(doc=x.doc, technique=x.technique, start=x.start, end=x.end, text=x.text, score=x.score,
                         extractor=x.extractor) for x in analysis.techniques])
            if analysis.ttps:
                conn.execute(insert(ttps), [
                    dict(doc=x.doc, disarm_id=x.disarm_id, name=x.name, start=x.start, end=x.end, evidence=x.evidence,
                         confidence=x.confidence, extractor=x.extractor) for x in analysis.ttps])
            conn.execute(update(documents).where(documents.c.id == doc_id).values(analysis_version=version, analyzed_at=_now()))

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

    def claims(self, doc_id: str | None = None) -> list[Claim]:
        """Return stored claims (of one document or all), sorted by document and offset."""
        return [_row_claim(r) for r in self._select(claims, doc_id, claims.c.doc, claims.c.start, claims.c.id)]

    def stances(self, doc_id: str | None = None) -> list[Stance]:
        """Return stored stances, sorted by document and actor."""
        return [Stance(r["doc"], r["actor"], r["score"], tuple(tuple(e) for e in json.loads(r["evidence"])), r["extractor"], r["confidence"])
                for r in self._select(stances, doc_id, stances.c.doc, stances.c.actor)]

    def narratives(self, doc_id: str | None = None) -> list[NarrativeHit]:
        """Return stored narrative hits, sorted by document, narrative and mode."""
        return [NarrativeHit(r["doc"], r["narrative"], r["mode"], r["score"], tuple(tuple(e) for e in json.loads(r["evidence"])), r["extractor"])
                for r in self._select(narratives, doc_id, narratives.c.doc, narratives.c.narrative, narratives.c.mode)]

    def techniques(self, doc_id: str | None = None) -> list[TechniqueHit]:
        """Return stored persuasion-technique spans, sorted by document and offset."""
        return [TechniqueHit(r["doc"], r["technique"], r["start"], r["end"], r["text"], r["score"], r["extractor"])
                for r in self._select(techniques, doc_id, techniques.c.doc, techniques.c.start, techniques.c.end, techniques.c.technique)]

    def ttps(self, doc_id: str | None = None) -> list[TtpHit]:
        """Return stored DISARM technique hits, sorted by document and offset."""
        return [TtpHit(r["doc"], r["disarm_id"], r["name"], r["start"], r["end"], r["evidence"], r["confidence"], r["extractor"])
                for r in self._select(ttps, doc_id, ttps.c.doc, ttps.c.start, ttps.c.disarm_id)]

    def links(self) -> list[Link]:
        """Return stored cross-document links, sorted by id."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(links).order_by(links.c.id)).mappings()
            return [Link(r["id"], r["kind"], tuple(json.loads(r["items"])), r["detail"], r["score"]) for r in rows]

    def replace_links(self, found: list[Link], kinds: tuple[str, ...] | None = None) -> None:
        """Replace the stored links (all, or those of the given kinds) in one transaction."""
        with self.transaction() as conn:
            query = delete(links)
            if kinds is not None:
                query = query.where(links.c.kind.in_(kinds))
            conn.execute(query)
            if found:
                conn.execute(insert(links), [dict(id=x.id, kind=x.kind, items=json.dumps(list(x.items)), detail=x.detail, score=x.score) for x in found])

    def _upsert_actor(self, conn, actor: Actor) -> None:
        row = conn.execute(select(actors.c.known).where(actors.c.name == actor.name)).first()
        values = dict(kind=actor.kind, aliases=json.dumps(list(actor.aliases), ensure_ascii=False), country=actor.country, known=actor.known)
        if row is None:
            conn.execute(insert(actors).values(name=actor.name, **values))
        elif actor.known or not row[0]:
            conn.execute(update(actors).where(actors.c.name == actor.name).values(**values))

    def mentions(self, doc_id: str | None = None) -> list[Mention]:
        """Return stored mentions (of one document or all), sorted by document and offset."""
        query = select(mentions).order_by(mentions.c.doc, mentions.c.start, mentions.c.end, mentions.c.label)
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

    # -- search ----------------------------------------------------------------------------
    def search(self, query: str, limit: int = 20) -> list[dict]:
        """Return documents matching a full-text query, best first, with a snippet whose hits sit between \\x02 and \\x03."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                rows = conn.execute(text(
                    "SELECT d.id, d.name, d.title, snippet(documents_fts, 2, char(2), char(3), ' … ', 16) AS snippet "
                    "FROM documents_fts JOIN documents d ON d.id = documents_fts.doc_id "
                    "WHERE documents_fts MATCH :q ORDER BY bm25(documents_fts) LIMIT :n"),
                    {"q": _fts5_query(query), "n": limit}).mappings()
            else:
                rows = conn.execute(text(
                    "SELECT id, name, title, ts_headline('simple', text, plainto_tsquery('simple', :q), "
                    "'StartSel=\x02, StopSel=\x03, MaxWords=30, MinWords=10') AS snippet FROM documents "
                    "WHERE to_tsvector('simple', coalesce(title, '') || ' ' || text) @@ plainto_tsquery('simple', :q) "
                    "ORDER BY ts_rank(to_tsvector('simple', coalesce(title, '') || ' ' || text), plainto_tsquery('simple', :q)) DESC "
                    "LIMIT :n"), {"q": query, "n": limit}).mappings()
            return [dict(r) for r in rows]


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
        actors=json.dumps([[a.name, a.role] for a in e.actors], ensure_ascii=False), location=e.location,
        latitude=e.latitude, longitude=e.longitude, fatalities=e.fatalities, fatalities_qualifier=e.fatalities_qualifier,
        modality=e.modality, start=e.start, end=e.end, evidence=e.evidence, trigger=e.trigger,
        extractor=e.extractor, confidence=e.confidence,
    )


def _claim_row(c: Claim) -> dict:
    return dict(
        id=c.id, doc=c.doc, start=c.start, end=c.end, text=c.text, checkworthiness=c.checkworthiness,
        quantities=json.dumps([[q.text, q.value, q.unit, q.qualifier, q.start, q.end] for q in c.quantities], ensure_ascii=False),
        attributed_to=c.attributed_to, attribution_text=c.attribution_text, reporting_verb=c.reporting_verb, hedged=c.hedged,
        hedges=json.dumps(list(c.hedges), ensure_ascii=False), extractor=c.extractor, confidence=c.confidence,
    )


def _row_claim(r) -> Claim:
    return Claim(
        id=r["id"], doc=r["doc"], start=r["start"], end=r["end"], text=r["text"], checkworthiness=r["checkworthiness"],
        quantities=tuple(Quantity(*q) for q in json.loads(r["quantities"])), attributed_to=r["attributed_to"],
        attribution_text=r["attribution_text"], reporting_verb=r["reporting_verb"], hedged=bool(r["hedged"]),
        hedges=tuple(json.loads(r["hedges"])), extractor=r["extractor"], confidence=r["confidence"],
    )


def _row_event(r) -> Event:
    return Event(
        id=r["id"], doc=r["doc"], type=r["type"], date=r["date"], date_precision=r["date_precision"],
        actors=tuple(EventActor(n, role) for n, role in json.loads(r["actors"])), location=r["location"],
        latitude=r["latitude"], longitude=r["longitude"], fatalities=r["fatalities"],
        fatalities_qualifier=r["fatalities_qualifier"], modality=r["modality"], start=r["start"], end=r["end"],
        evidence=r["evidence"], trigger=r["trigger"], extractor=r["extractor"], confidence=r["confidence"],
    )


def _row_document(r) -> Document:
    return Document(
        id=r["id"], name=r["name"], path=r["path"], text=r["text"], title=r["title"], language=r["language"],
        published=r["published"], published_estimated=bool(r["published_estimated"]),
        authors=tuple(json.loads(r["authors"] or "[]")), genre=r["genre"], url=r["url"], outlet=r["outlet"], words=r["words"],
    )


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
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
