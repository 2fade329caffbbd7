"""Versioned migrations; each runs once, in a transaction, on every dialect.

Each migration is self-contained: it states the tables and columns as they were when it was written, as SQL that
runs on SQLite and PostgreSQL alike, never through the live definitions in schema.py (nor through SQLAlchemy's
rendering of them), so that a later change to a table cannot change what an old migration does. A change to a
table in schema.py therefore needs a new migration here; tests/test_migrations.py checks that the migrations,
applied one by one, build the tables schema.py defines.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, inspect, text

# Which migrations a database has had (read and written by Store.migrate).
schema_migrations = Table(
    "schema_migrations", MetaData(),
    Column("version", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("applied_at", String(32), nullable=False),
)


def _run_ddl(conn, dialect: str, ddl: str) -> None:
    """Execute `;`-separated DDL written for both dialects; `{serial}` is an autoincrementing integer key's type."""
    for statement in ddl.split(";"):
        if statement.strip():
            conn.execute(text(statement.replace("{serial}", "SERIAL" if dialect == "postgresql" else "INTEGER")))


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
    _run_ddl(conn, dialect, """
CREATE TABLE IF NOT EXISTS documents (
    id VARCHAR(64) NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    title TEXT,
    language VARCHAR(8),
    published VARCHAR(32),
    published_estimated BOOLEAN NOT NULL,
    authors TEXT NOT NULL,
    genre VARCHAR(32),
    url TEXT,
    outlet TEXT,
    words INTEGER NOT NULL,
    text TEXT NOT NULL,
    ingested_at VARCHAR(32) NOT NULL,
    analysis_version VARCHAR(64),
    analyzed_at VARCHAR(32),
    PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS actors (
    name TEXT NOT NULL,
    kind VARCHAR(32) NOT NULL,
    aliases TEXT NOT NULL,
    country TEXT,
    known BOOLEAN NOT NULL,
    PRIMARY KEY (name)
);
CREATE TABLE IF NOT EXISTS mentions (
    id {serial} NOT NULL,
    doc VARCHAR(64) NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    label VARCHAR(16) NOT NULL,
    actor TEXT,
    extractor VARCHAR(32) NOT NULL,
    confidence FLOAT NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(doc) REFERENCES documents (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS ix_mentions_actor ON mentions (actor);
CREATE INDEX IF NOT EXISTS ix_mentions_doc ON mentions (doc)
""")



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
    _run_ddl(conn, dialect, """
CREATE TABLE IF NOT EXISTS events (
    id VARCHAR(40) NOT NULL,
    doc VARCHAR(64) NOT NULL,
    type VARCHAR(32) NOT NULL,
    date VARCHAR(10),
    date_precision VARCHAR(8),
    actors TEXT NOT NULL,
    location TEXT,
    latitude FLOAT,
    longitude FLOAT,
    fatalities INTEGER,
    fatalities_qualifier VARCHAR(16),
    modality VARCHAR(16) NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    evidence TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    extractor VARCHAR(32) NOT NULL,
    confidence FLOAT NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(doc) REFERENCES documents (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS ix_events_type_date ON events (type, date);
CREATE INDEX IF NOT EXISTS ix_events_doc ON events (doc)
""")



def _m4_records(conn, dialect: str) -> None:
    """Claims, stances, narratives, techniques, DISARM techniques and cross-document links."""
    _run_ddl(conn, dialect, """
CREATE TABLE IF NOT EXISTS claims (
    id VARCHAR(40) NOT NULL,
    doc VARCHAR(64) NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    checkworthiness FLOAT NOT NULL,
    quantities TEXT NOT NULL,
    attributed_to TEXT,
    attribution_text TEXT,
    reporting_verb TEXT,
    hedged BOOLEAN NOT NULL,
    hedges TEXT NOT NULL,
    extractor VARCHAR(32) NOT NULL,
    confidence FLOAT NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(doc) REFERENCES documents (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS ix_claims_doc ON claims (doc);
CREATE TABLE IF NOT EXISTS stances (
    doc VARCHAR(64) NOT NULL,
    actor TEXT NOT NULL,
    score FLOAT NOT NULL,
    evidence TEXT NOT NULL,
    extractor VARCHAR(32) NOT NULL,
    confidence FLOAT NOT NULL,
    PRIMARY KEY (doc, actor),
    FOREIGN KEY(doc) REFERENCES documents (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS narratives (
    doc VARCHAR(64) NOT NULL,
    narrative VARCHAR(64) NOT NULL,
    mode VARCHAR(16) NOT NULL,
    score FLOAT NOT NULL,
    evidence TEXT NOT NULL,
    extractor VARCHAR(32) NOT NULL,
    PRIMARY KEY (doc, narrative, mode),
    FOREIGN KEY(doc) REFERENCES documents (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS techniques (
    id {serial} NOT NULL,
    doc VARCHAR(64) NOT NULL,
    technique VARCHAR(64) NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    score FLOAT NOT NULL,
    extractor VARCHAR(32) NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(doc) REFERENCES documents (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS ix_techniques_doc ON techniques (doc);
CREATE TABLE IF NOT EXISTS ttps (
    id {serial} NOT NULL,
    doc VARCHAR(64) NOT NULL,
    disarm_id VARCHAR(16) NOT NULL,
    name TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    evidence TEXT NOT NULL,
    confidence FLOAT NOT NULL,
    extractor VARCHAR(32) NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(doc) REFERENCES documents (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS ix_ttps_doc ON ttps (doc);
CREATE TABLE IF NOT EXISTS links (
    id VARCHAR(40) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    items TEXT NOT NULL,
    detail TEXT NOT NULL,
    score FLOAT NOT NULL,
    PRIMARY KEY (id)
)
""")



def _m10_coordination(conn, dialect: str) -> None:
    """Coordination runs over social-media posts: their clusters, cluster members and account edges."""
    _run_ddl(conn, dialect, """
CREATE TABLE IF NOT EXISTS coord_runs (
    id VARCHAR(40) NOT NULL,
    source TEXT NOT NULL,
    mode VARCHAR(16) NOT NULL,
    directed BOOLEAN NOT NULL,
    "window" FLOAT NOT NULL,
    window_estimated BOOLEAN NOT NULL,
    min_repeat INTEGER NOT NULL,
    similarity FLOAT,
    method VARCHAR(16) NOT NULL,
    posts INTEGER NOT NULL,
    accounts INTEGER NOT NULL,
    edges INTEGER NOT NULL,
    clusters INTEGER NOT NULL,
    modularity FLOAT,
    details TEXT NOT NULL,
    created_at VARCHAR(32) NOT NULL,
    PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS coord_clusters (
    run VARCHAR(40) NOT NULL,
    id VARCHAR(32) NOT NULL,
    rank INTEGER NOT NULL,
    component INTEGER NOT NULL,
    size INTEGER NOT NULL,
    edges INTEGER NOT NULL,
    weight_total INTEGER NOT NULL,
    weight_mean FLOAT NOT NULL,
    weight_median FLOAT NOT NULL,
    weight_max INTEGER NOT NULL,
    density FLOAT NOT NULL,
    objects_total INTEGER NOT NULL,
    objects TEXT NOT NULL,
    first VARCHAR(32),
    last VARCHAR(32),
    PRIMARY KEY (run, id),
    FOREIGN KEY(run) REFERENCES coord_runs (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS coord_members (
    run VARCHAR(40) NOT NULL,
    account TEXT NOT NULL,
    cluster VARCHAR(32) NOT NULL,
    component INTEGER NOT NULL,
    PRIMARY KEY (run, account),
    FOREIGN KEY(run) REFERENCES coord_runs (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS ix_coord_members_cluster ON coord_members (run, cluster);
CREATE TABLE IF NOT EXISTS coord_edges (
    run VARCHAR(40) NOT NULL,
    account_a TEXT NOT NULL,
    account_b TEXT NOT NULL,
    weight INTEGER NOT NULL,
    PRIMARY KEY (run, account_a, account_b),
    FOREIGN KEY(run) REFERENCES coord_runs (id) ON DELETE CASCADE
)
""")



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
    _run_ddl(conn, dialect, """
CREATE TABLE IF NOT EXISTS held_stances (
    doc VARCHAR(64) NOT NULL,
    holder TEXT NOT NULL,
    actor TEXT NOT NULL,
    score FLOAT NOT NULL,
    evidence TEXT NOT NULL,
    extractor VARCHAR(32) NOT NULL,
    confidence FLOAT NOT NULL,
    PRIMARY KEY (doc, holder, actor),
    FOREIGN KEY(doc) REFERENCES documents (id) ON DELETE CASCADE
)
""")
    if dialect == "postgresql":
        _pg_code_point_text(conn, ("held_stances",))



def _m50_corrections(conn, dialect: str) -> None:
    """Analyst corrections, replayed onto the records after each analysis and reconciliation."""
    _run_ddl(conn, dialect, """
CREATE TABLE IF NOT EXISTS corrections (
    id VARCHAR(40) NOT NULL,
    who TEXT NOT NULL,
    created_at VARCHAR(32) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    "key" TEXT NOT NULL,
    doc VARCHAR(64),
    target TEXT NOT NULL,
    operation VARCHAR(16) NOT NULL,
    fields TEXT NOT NULL,
    reason TEXT NOT NULL,
    state VARCHAR(16) NOT NULL,
    affected TEXT NOT NULL,
    applied_at VARCHAR(32),
    PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_corrections_created ON corrections (created_at, id);
CREATE INDEX IF NOT EXISTS ix_corrections_doc ON corrections (doc)
""")
    if dialect == "postgresql":
        _pg_code_point_text(conn, ("corrections",))



def _m51_pg_text_of_added_columns(conn, dialect: str) -> None:
    """PostgreSQL: code-point text for the string columns migrations 45 and 46 added after migration 30 converted the rest."""
    if dialect == "postgresql":
        _pg_code_point_text(conn, ("claims",), only=("relayed_by",))
        _pg_code_point_text(conn, ("events",), only=("acled_event_type", "acled_sub_event_type"))


def _m52_relayed_stances(conn, dialect: str) -> None:
    """Stances the author takes from a speaker relayed without distance keep that speaker's name."""
    _add_columns(conn, "stances", (("relayed_from", "TEXT"),))
    if dialect == "postgresql":
        _pg_code_point_text(conn, ("stances",), only=("relayed_from",))


def _m53_encodings(conn, dialect: str) -> None:
    """Encoder rows of the texts reconciliation compares, kept for the next reconciliation."""
    _run_ddl(conn, dialect, """
CREATE TABLE IF NOT EXISTS encodings (
    encoder VARCHAR(64) NOT NULL,
    digest VARCHAR(40) NOT NULL,
    vector {blob} NOT NULL,
    PRIMARY KEY (encoder, digest)
)
""".replace("{blob}", "BYTEA" if dialect == "postgresql" else "BLOB"))
    if dialect == "postgresql":
        _pg_code_point_text(conn, ("encodings",))


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
    (52, "speakers relayed without distance in stances", _m52_relayed_stances),
    (53, "encoder rows kept between reconciliations", _m53_encodings),
]
