"""Tables and versioned migrations; each migration runs once, in a transaction, on every dialect."""

from __future__ import annotations

from typing import Callable

from sqlalchemy import (
    Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text, text,
)

metadata = MetaData()

documents = Table(
    "documents", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("title", Text),
    Column("language", String(8)),
    Column("published", String(32)),
    Column("published_estimated", Boolean, nullable=False, default=False),
    Column("authors", Text, nullable=False, default="[]"),
    Column("genre", String(32)),
    Column("url", Text),
    Column("outlet", Text),
    Column("words", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("ingested_at", String(32), nullable=False),
    Column("analysis_version", String(64)),
    Column("analyzed_at", String(32)),
)

actors = Table(
    "actors", metadata,
    Column("name", Text, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("aliases", Text, nullable=False, default="[]"),
    Column("country", Text),
    Column("known", Boolean, nullable=False, default=True),
)

mentions = Table(
    "mentions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("doc", String(64), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("label", String(16), nullable=False),
    Column("actor", Text),
    Column("extractor", String(32), nullable=False),
    Column("confidence", Float, nullable=False),
    Index("ix_mentions_doc", "doc"),
    Index("ix_mentions_actor", "actor"),
)

events = Table(
    "events", metadata,
    Column("id", String(40), primary_key=True),
    Column("doc", String(64), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("date", String(10)),
    Column("date_precision", String(8)),
    Column("actors", Text, nullable=False, default="[]"),
    Column("location", Text),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("fatalities", Integer),
    Column("fatalities_qualifier", String(16)),
    Column("modality", String(16), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("trigger", Text, nullable=False),
    Column("extractor", String(32), nullable=False),
    Column("confidence", Float, nullable=False),
    Index("ix_events_doc", "doc"),
    Index("ix_events_type_date", "type", "date"),
)

claims = Table(
    "claims", metadata,
    Column("id", String(40), primary_key=True),
    Column("doc", String(64), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("checkworthiness", Float, nullable=False),
    Column("quantities", Text, nullable=False, default="[]"),
    Column("attributed_to", Text),
    Column("attribution_text", Text),
    Column("reporting_verb", Text),
    Column("hedged", Boolean, nullable=False, default=False),
    Column("hedges", Text, nullable=False, default="[]"),
    Column("extractor", String(32), nullable=False),
    Column("confidence", Float, nullable=False),
    Index("ix_claims_doc", "doc"),
)

stances = Table(
    "stances", metadata,
    Column("doc", String(64), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("actor", Text, primary_key=True),
    Column("score", Float, nullable=False),
    Column("evidence", Text, nullable=False, default="[]"),
    Column("extractor", String(32), nullable=False),
    Column("confidence", Float, nullable=False),
)

narratives = Table(
    "narratives", metadata,
    Column("doc", String(64), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("narrative", String(64), primary_key=True),
    Column("mode", String(16), primary_key=True),
    Column("score", Float, nullable=False),
    Column("evidence", Text, nullable=False, default="[]"),
    Column("extractor", String(32), nullable=False),
)

techniques = Table(
    "techniques", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("doc", String(64), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("technique", String(64), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("extractor", String(32), nullable=False),
    Index("ix_techniques_doc", "doc"),
)

ttps = Table(
    "ttps", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("doc", String(64), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("disarm_id", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("extractor", String(32), nullable=False),
    Index("ix_ttps_doc", "doc"),
)

links = Table(
    "links", metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("items", Text, nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("score", Float, nullable=False),
)

schema_migrations = Table(
    "schema_migrations", metadata,
    Column("version", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("applied_at", String(32), nullable=False),
)


def _m1_core(conn, dialect: str) -> None:
    """Documents, actors, mentions."""
    for table in (documents, actors, mentions):
        table.create(conn, checkfirst=True)


def _m2_fulltext(conn, dialect: str) -> None:
    """Full-text index of documents: FTS5 on SQLite, a tsvector GIN index on PostgreSQL."""
    if dialect == "sqlite":
        conn.execute(text(
            "CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5("
            "doc_id UNINDEXED, title, body, tokenize='unicode61 remove_diacritics 2')"
        ))
    elif dialect == "postgresql":
        conn.execute(text(
            "CREATE INDEX IF NOT EXISTS ix_documents_fts ON documents USING GIN "
            "(to_tsvector('simple', coalesce(title, '') || ' ' || text))"
        ))


def _m3_events(conn, dialect: str) -> None:
    """Events extracted from documents."""
    events.create(conn, checkfirst=True)


def _m4_records(conn, dialect: str) -> None:
    """Claims, stances, narratives, techniques, DISARM techniques and cross-document links."""
    for table in (claims, stances, narratives, techniques, ttps, links):
        table.create(conn, checkfirst=True)


# (version, name, function); append only, never edit an applied migration.
MIGRATIONS: list[tuple[int, str, Callable]] = [
    (1, "core tables", _m1_core),
    (2, "full-text search", _m2_fulltext),
    (3, "events", _m3_events),
    (4, "claims, stances, narratives, techniques, ttps, links", _m4_records),
]
