"""Versioned migrations; each runs once, in a transaction, on every dialect.

Each migration is self-contained: it states the tables and columns as they were when it was written, never the
live definitions in schema.py, so that a later change to a table cannot change what an old migration does. A
change to a table in schema.py therefore needs a new migration here; tests/test_migrations.py checks that the
migrations, applied one by one, build the tables schema.py defines.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text, inspect, text

# Which migrations a database has had (read and written by Store.migrate).
schema_migrations = Table(
    "schema_migrations", MetaData(),
    Column("version", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("applied_at", String(32), nullable=False),
)


def _documents_key(md: MetaData) -> None:
    """Name documents.id in `md` so that a table created there can refer to it (the table itself is not created)."""
    Table("documents", md, Column("id", String(64), primary_key=True))


def _add_columns(conn, table: str, columns: tuple[tuple[str, str], ...]) -> None:
    """Add each (name, SQL type) column the table lacks."""
    present = {c["name"] for c in inspect(conn).get_columns(table)}
    for name, kind in columns:
        if name not in present:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {kind}"))


def _pg_code_point_text(conn, tables: tuple[str, ...], only: tuple[str, ...] = ()) -> None:
    """Make the string columns of `tables` (or only the columns named in `only`) unbounded `text` compared by code
    point (COLLATE "C"), as on SQLite, which ignores VARCHAR lengths and sorts by code point. PostgreSQL only.

    The columns are read from the database, so the migration converts the columns there were when it ran."""
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    for table in tables:
        if table not in existing:
            continue
        columns = [c["name"] for c in inspector.get_columns(table)
                   if isinstance(c["type"], String) and (not only or c["name"] in only)]
        if columns:
            clauses = ", ".join(f'ALTER COLUMN "{c}" TYPE text COLLATE "C"' for c in columns)
            conn.execute(text(f'ALTER TABLE "{table}" {clauses}'))


def _m1_core(conn, dialect: str) -> None:
    """Documents, actors, mentions."""
    md = MetaData()
    Table(
        "documents", md,
        Column("id", String(64), primary_key=True),
        Column("name", Text, nullable=False),
        Column("path", Text, nullable=False),
        Column("title", Text),
        Column("language", String(8)),
        Column("published", String(32)),
        Column("published_estimated", Boolean, nullable=False),
        Column("authors", Text, nullable=False),
        Column("genre", String(32)),
        Column("url", Text),
        Column("outlet", Text),
        Column("words", Integer, nullable=False),
        Column("text", Text, nullable=False),
        Column("ingested_at", String(32), nullable=False),
        Column("analysis_version", String(64)),
        Column("analyzed_at", String(32)),
    )
    Table(
        "actors", md,
        Column("name", Text, primary_key=True),
        Column("kind", String(32), nullable=False),
        Column("aliases", Text, nullable=False),
        Column("country", Text),
        Column("known", Boolean, nullable=False),
    )
    Table(
        "mentions", md,
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
    md.create_all(conn, checkfirst=True)


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
    md = MetaData()
    _documents_key(md)
    Table(
        "events", md,
        Column("id", String(40), primary_key=True),
        Column("doc", String(64), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        Column("type", String(32), nullable=False),
        Column("date", String(10)),
        Column("date_precision", String(8)),
        Column("actors", Text, nullable=False),
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
    ).create(conn, checkfirst=True)


def _m4_records(conn, dialect: str) -> None:
    """Claims, stances, narratives, techniques, DISARM techniques and cross-document links."""
    md = MetaData()
    _documents_key(md)

    def doc(primary_key: bool = False) -> Column:
        if primary_key:
            return Column("doc", String(64), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
        return Column("doc", String(64), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False)

    tables = [
        Table(
            "claims", md,
            Column("id", String(40), primary_key=True), doc(),
            Column("start", Integer, nullable=False),
            Column("end", Integer, nullable=False),
            Column("text", Text, nullable=False),
            Column("checkworthiness", Float, nullable=False),
            Column("quantities", Text, nullable=False),
            Column("attributed_to", Text),
            Column("attribution_text", Text),
            Column("reporting_verb", Text),
            Column("hedged", Boolean, nullable=False),
            Column("hedges", Text, nullable=False),
            Column("extractor", String(32), nullable=False),
            Column("confidence", Float, nullable=False),
            Index("ix_claims_doc", "doc"),
        ),
        Table(
            "stances", md,
            doc(primary_key=True),
            Column("actor", Text, primary_key=True),
            Column("score", Float, nullable=False),
            Column("evidence", Text, nullable=False),
            Column("extractor", String(32), nullable=False),
            Column("confidence", Float, nullable=False),
        ),
        Table(
            "narratives", md,
            doc(primary_key=True),
            Column("narrative", String(64), primary_key=True),
            Column("mode", String(16), primary_key=True),
            Column("score", Float, nullable=False),
            Column("evidence", Text, nullable=False),
            Column("extractor", String(32), nullable=False),
        ),
        Table(
            "techniques", md,
            Column("id", Integer, primary_key=True, autoincrement=True), doc(),
            Column("technique", String(64), nullable=False),
            Column("start", Integer, nullable=False),
            Column("end", Integer, nullable=False),
            Column("text", Text, nullable=False),
            Column("score", Float, nullable=False),
            Column("extractor", String(32), nullable=False),
            Index("ix_techniques_doc", "doc"),
        ),
        Table(
            "ttps", md,
            Column("id", Integer, primary_key=True, autoincrement=True), doc(),
            Column("disarm_id", String(16), nullable=False),
            Column("name", Text, nullable=False),
            Column("start", Integer, nullable=False),
            Column("end", Integer, nullable=False),
            Column("evidence", Text, nullable=False),
            Column("confidence", Float, nullable=False),
            Column("extractor", String(32), nullable=False),
            Index("ix_ttps_doc", "doc"),
        ),
        Table(
            "links", md,
            Column("id", String(40), primary_key=True),
            Column("kind", String(16), nullable=False),
            Column("items", Text, nullable=False),
            Column("detail", Text, nullable=False),
            Column("score", Float, nullable=False),
        ),
    ]
    for table in tables:
        table.create(conn, checkfirst=True)


def _m10_coordination(conn, dialect: str) -> None:
    """Coordination runs over social-media posts: their clusters, cluster members and account edges."""
    md = MetaData()
    Table(
        "coord_runs", md,
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
        Column("details", Text, nullable=False),
        Column("created_at", String(32), nullable=False),
    )
    run = lambda: Column("run", String(40), ForeignKey("coord_runs.id", ondelete="CASCADE"), primary_key=True)  # noqa: E731
    Table(
        "coord_clusters", md,
        run(),
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
        Column("objects", Text, nullable=False),
        Column("first", String(32)),
        Column("last", String(32)),
    )
    Table(
        "coord_members", md,
        run(),
        Column("account", Text, primary_key=True),
        Column("cluster", String(32), nullable=False),
        Column("component", Integer, nullable=False),
        Index("ix_coord_members_cluster", "run", "cluster"),
    )
    Table(
        "coord_edges", md,
        run(),
        Column("account_a", Text, primary_key=True),
        Column("account_b", Text, primary_key=True),
        Column("weight", Integer, nullable=False),
    )
    md.create_all(conn, checkfirst=True)


def _m20_web_indexes(conn, dialect: str) -> None:
    """Indexes the web app's change check reads: the newest analysis and ingest times without a scan past each text."""
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_documents_analyzed_at ON documents (analyzed_at)"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_documents_ingested_at ON documents (ingested_at)"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_links_kind ON links (kind)"))


# Every table there was at migration 30.
_TABLES_AT_30 = ("documents", "actors", "mentions", "events", "claims", "stances", "narratives", "techniques", "ttps", "links",
                 "coord_runs", "coord_clusters", "coord_members", "coord_edges", "schema_migrations")


def _m30_scale_out(conn, dialect: str) -> None:
    """Work claims for concurrent workers; on PostgreSQL also code-point text and language-aware full-text search."""
    _add_columns(conn, "documents", (("claimed_by", "TEXT"), ("claimed_at", "VARCHAR(32)")))
    # Workers walk the documents in (name, id) order, the order of every listing.
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_documents_name_id ON documents (name, id)"))
    if dialect != "postgresql":
        return
    _pg_code_point_text(conn, _TABLES_AT_30)
    conn.execute(text(
        "CREATE TABLE IF NOT EXISTS documents_fts ("
        'doc_id text COLLATE "C" PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE, '
        "config regconfig NOT NULL, tsv tsvector NOT NULL)"
    ))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_documents_fts_tsv ON documents_fts USING GIN (tsv)"))
    # Index every document stored so far, each in its language's configuration (the title weighs above the body;
    # the body is cut at a million characters, which keeps the tsvector under PostgreSQL's 1 MB limit).
    conn.execute(text(
        "INSERT INTO documents_fts (doc_id, config, tsv) "
        "SELECT d.id, c.config, setweight(to_tsvector(c.config, coalesce(d.title, '')), 'A') || "
        "setweight(to_tsvector(c.config, left(d.text, 1000000)), 'B') FROM documents d, "
        "LATERAL (SELECT CAST(CASE lower(coalesce(d.language, '')) WHEN 'en' THEN 'english' WHEN 'fr' THEN 'french' "
        "WHEN 'de' THEN 'german' WHEN 'es' THEN 'spanish' WHEN 'it' THEN 'italian' WHEN 'pt' THEN 'portuguese' "
        "WHEN 'nl' THEN 'dutch' WHEN 'ru' THEN 'russian' ELSE 'simple' END AS regconfig) AS config) c "
        "WHERE TRUE ON CONFLICT (doc_id) DO NOTHING"
    ))
    # Migration 2's index ('simple' configuration over documents) is superseded by documents_fts.
    conn.execute(text("DROP INDEX IF EXISTS ix_documents_fts"))


def _m40_reconciliation_state(conn, dialect: str) -> None:
    """Which analysed documents a completed reconciliation has seen, so an interrupted one is redone by the next run."""
    _add_columns(conn, "documents", (("reconciled", "BOOLEAN"),))
    conn.execute(text("UPDATE documents SET reconciled = (analysis_version IS NOT NULL)"))


def _m45_claim_relays(conn, dialect: str) -> None:
    """Claims keep who relays them (A in "A reports that B says")."""
    _add_columns(conn, "claims", (("relayed_by", "TEXT"),))


def _m46_event_coding(conn, dialect: str) -> None:
    """ACLED event and sub-event type of each event, and its geo and time precision (tables made by migration 3 lack them)."""
    _add_columns(conn, "events", (("acled_event_type", "VARCHAR(64)"), ("acled_sub_event_type", "VARCHAR(64)"),
                                  ("geo_precision", "INTEGER"), ("time_precision", "INTEGER")))


def _m47_held_stances(conn, dialect: str) -> None:
    """Stances held by the speakers a document quotes or cites."""
    md = MetaData()
    _documents_key(md)
    Table(
        "held_stances", md,
        Column("doc", String(64), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
        Column("holder", Text, primary_key=True),
        Column("actor", Text, primary_key=True),
        Column("score", Float, nullable=False),
        Column("evidence", Text, nullable=False),
        Column("extractor", String(32), nullable=False),
        Column("confidence", Float, nullable=False),
    ).create(conn, checkfirst=True)
    if dialect == "postgresql":
        _pg_code_point_text(conn, ("held_stances",))


def _m50_corrections(conn, dialect: str) -> None:
    """Analyst corrections, replayed onto the records after each analysis and reconciliation."""
    md = MetaData()
    Table(
        "corrections", md,
        Column("id", String(40), primary_key=True),
        Column("who", Text, nullable=False),
        Column("created_at", String(32), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("key", Text, nullable=False),
        Column("doc", String(64)),
        Column("target", Text, nullable=False),
        Column("operation", String(16), nullable=False),
        Column("fields", Text, nullable=False),
        Column("reason", Text, nullable=False),
        Column("state", String(16), nullable=False),
        Column("affected", Text, nullable=False),
        Column("applied_at", String(32)),
        Index("ix_corrections_doc", "doc"),
        Index("ix_corrections_created", "created_at", "id"),
    ).create(conn, checkfirst=True)
    if dialect == "postgresql":
        _pg_code_point_text(conn, ("corrections",))


def _m51_pg_text_of_added_columns(conn, dialect: str) -> None:
    """PostgreSQL: code-point text for the string columns migrations 45 and 46 added after migration 30 converted the rest."""
    if dialect == "postgresql":
        _pg_code_point_text(conn, ("claims",), only=("relayed_by",))
        _pg_code_point_text(conn, ("events",), only=("acled_event_type", "acled_sub_event_type"))


# (version, name, function); append only, never edit an applied migration.
MIGRATIONS: list[tuple[int, str, Callable]] = [
    (1, "core tables", _m1_core),
    (2, "full-text search", _m2_fulltext),
    (3, "events", _m3_events),
    (4, "claims, stances, narratives, techniques, ttps, links", _m4_records),
    (10, "coordination runs, clusters, members, edges", _m10_coordination),
    (20, "indexes for the web app", _m20_web_indexes),
    (30, "work claims; PostgreSQL code-point text and language-aware full-text search", _m30_scale_out),
    (40, "reconciliation state per document", _m40_reconciliation_state),
    (45, "claim relays", _m45_claim_relays),
    (46, "ACLED coding, geo and time precision of events", _m46_event_coding),
    (47, "stances held by quoted speakers", _m47_held_stances),
    (50, "analyst corrections", _m50_corrections),
    (51, "PostgreSQL code-point text for the columns of migrations 45 and 46", _m51_pg_text_of_added_columns),
]
