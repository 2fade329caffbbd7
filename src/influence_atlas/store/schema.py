"""The tables as the code reads and writes them today; migrations.py builds them in a database, step by step."""

from __future__ import annotations

from sqlalchemy import (
    Boolean, Column, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, Text,
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
    # Which `atlas analyze` worker is analysing the document, and since when (migration 30).
    Column("claimed_by", Text),
    Column("claimed_at", String(32)),
    # False from a document's analysis until a reconciliation that saw it has stored its links (migration 40).
    Column("reconciled", Boolean),
    Index("ix_documents_name_id", "name", "id"),
    # The web app's change check reads the newest analysis and ingest times (migration 20).
    Index("ix_documents_analyzed_at", "analyzed_at"),
    Index("ix_documents_ingested_at", "ingested_at"),
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
    Column("acled_event_type", String(64)),
    Column("acled_sub_event_type", String(64)),
    # ACLED's geo_precision (1 town, 2 near it, 3 region or country) and time_precision (1 day, 2 span, 3 month+).
    Column("geo_precision", Integer),
    Column("time_precision", Integer),
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
    Column("relayed_by", Text),
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
    Column("relayed_from", Text),  # the speaker the author's stance is taken from (a relay without distance)
)

# Stances the document quotes or attributes: `holder` is the speaker the words are given to, not the author.
held_stances = Table(
    "held_stances", metadata,
    Column("doc", String(64), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("holder", Text, primary_key=True),
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
    Index("ix_links_kind", "kind"),
)

coord_runs = Table(
    "coord_runs", metadata,
    Column("id", String(40), primary_key=True),
    Column("source", Text, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("directed", Boolean, nullable=False),
    Column("window", Float, nullable=False),
    Column("window_estimated", Boolean, nullable=False),
    Column("min_repeat", Integer, nullable=False),
    Column("similarity", Float),
    Column("method", String(16), nullable=False),
    Column("posts", Integer, nullable=False),
    Column("accounts", Integer, nullable=False),
    Column("edges", Integer, nullable=False),
    Column("clusters", Integer, nullable=False),
    Column("modularity", Float),
    Column("details", Text, nullable=False),  # JSON: settings, columns, input report, window estimate
    Column("created_at", String(32), nullable=False),
)

coord_clusters = Table(
    "coord_clusters", metadata,
    Column("run", String(40), ForeignKey("coord_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("rank", Integer, nullable=False),
    Column("component", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("edges", Integer, nullable=False),
    Column("weight_total", Integer, nullable=False),
    Column("weight_mean", Float, nullable=False),
    Column("weight_median", Float, nullable=False),
    Column("weight_max", Integer, nullable=False),
    Column("density", Float, nullable=False),
    Column("objects_total", Integer, nullable=False),
    Column("objects", Text, nullable=False),  # JSON list of the most shared objects
    Column("first", String(32)),
    Column("last", String(32)),
)

coord_members = Table(
    "coord_members", metadata,
    Column("run", String(40), ForeignKey("coord_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("account", Text, primary_key=True),
    Column("cluster", String(32), nullable=False),
    Column("component", Integer, nullable=False),
    Index("ix_coord_members_cluster", "run", "cluster"),
)

coord_edges = Table(
    "coord_edges", metadata,
    Column("run", String(40), ForeignKey("coord_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("account_a", Text, primary_key=True),
    Column("account_b", Text, primary_key=True),
    Column("weight", Integer, nullable=False),
)


corrections = Table(
    "corrections", metadata,
    Column("id", String(40), primary_key=True),
    Column("who", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    # What the correction targets: a record kind and a stable key built from the document, the evidence span and
    # the record's content (never a row id), so that it finds its record again after re-extraction.
    Column("kind", String(16), nullable=False),
    Column("key", Text, nullable=False),
    Column("doc", String(64)),
    Column("target", Text, nullable=False),  # JSON: the fields the key is built from, and the evidence text
    Column("operation", String(16), nullable=False),
    Column("fields", Text, nullable=False, default="{}"),  # JSON: new values, merge target, added link items...
    Column("reason", Text, nullable=False, default=""),
    Column("state", String(16), nullable=False),  # applied | orphaned | undone
    Column("affected", Text, nullable=False, default="[]"),  # JSON: keys of the records the last replay touched
    Column("applied_at", String(32)),
    Index("ix_corrections_doc", "doc"),
    Index("ix_corrections_created", "created_at", "id"),
)


# Languages PostgreSQL ships a text-search configuration for; any other gets 'simple' (no stemming, no stop words).
PG_TEXT_SEARCH = {
    "en": "english", "fr": "french", "de": "german", "es": "spanish", "it": "italian", "pt": "portuguese",
    "nl": "dutch", "ru": "russian",
}
PG_TEXT_SEARCH_FALLBACK = "simple"


def pg_fts_insert_sql(where: str) -> str:
    """Return the SQL that indexes the documents matching `where` (over `documents d`) into documents_fts on PostgreSQL.

    Each document gets its language's configuration; the title weighs above the body. The body is cut at a
    million characters, which keeps the tsvector under PostgreSQL's 1 MB limit.
    """
    cases = " ".join(f"WHEN '{code}' THEN '{cfg}'" for code, cfg in PG_TEXT_SEARCH.items())
    return (
        "INSERT INTO documents_fts (doc_id, config, tsv) "
        "SELECT d.id, c.config, setweight(to_tsvector(c.config, coalesce(d.title, '')), 'A') || "
        "setweight(to_tsvector(c.config, left(d.text, 1000000)), 'B') FROM documents d, "
        f"LATERAL (SELECT CAST(CASE lower(coalesce(d.language, '')) {cases} ELSE '{PG_TEXT_SEARCH_FALLBACK}' END "
        f"AS regconfig) AS config) c WHERE {where} ON CONFLICT (doc_id) DO NOTHING"
    )


# Encoder rows of the texts reconciliation compares (migration 53), by encoder (model and version) and the text's
# sha1, so that a later reconciliation reads them instead of running the encoder again: float32 bytes, exactly the
# encoder's row for the text.
encodings = Table(
    "encodings", metadata,
    Column("encoder", String(64), primary_key=True),
    Column("digest", String(40), primary_key=True),
    Column("vector", LargeBinary, nullable=False),
)
