"""Cross-source linking in bounded memory: the corpus is read from the store block by block, never whole.

`link_across` holds every document's opening sentences, vectors, events and claims at once, which a large corpus
cannot afford. `link_blocks` gives the same links while holding one batch of documents, one block or one unit of
pairs at a time; what has to outlive a step goes to a scratch SQLite file:

1. **Documents**, a batch at a time (`source.document_batches`): each linkable document's vector, blocking keys
   (its main actors), proper names and figures are written to the scratch file; the names' document counts stay in
   memory (one count per distinct name, not per document).
2. **Blocks**: per blocking key, the member documents' vectors are read and `candidate_documents` keeps each
   document's nearest partners, as it does for the whole corpus. Memory is bounded by the largest block.
3. **Context**: each candidate pair's meaning and name similarities, then (in SQL, window functions) each partner's
   rank among a document's partners of its language: `corpus_context`'s features without holding the pairs.
4. **Units of work**: the pairs, in block order, cut into units of a few hundred documents. A unit reads its
   documents and their records from the store and runs `compare_documents` on its pairs, with the corpus context
   and rare names passed in. Units are independent: `map_units` may run them elsewhere (the Ray engine does).
5. **Links**: claim links go to the scratch file and are capped per claim (each claim keeps its strongest
   `CLAIM_LINKS` links of a kind); `link_same_events` groups the tellings of the confident document pairs.

`source` is the store (`document_batches`, `document_records`, `documents`); this layer does not import it.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ..records import Event, Link
from ..text.normalise import fold
from .claims import PairFindings, _main_actors, compare_documents, link_claims_from
from .events import link_same_events
from .features import document_figures, document_names, load_link_models, names_similarity
from .links import candidate_documents, document_sentences

# Documents read per batch in step 1, and documents per unit of work in step 4.
BATCH = 500
UNIT_DOCUMENTS = 300
# Each claim keeps at most this many links of each kind (corroborates, contradicts), its strongest.
CLAIM_LINKS = 3
# A proper name counts as rare when at most this share of the documents use it (as features.rare_names_of).
RARE_SHARE = 0.25
_NAME_TOKEN = re.compile(r"[A-ZÀ-Ý][\w’'-]{3,}", re.U)

Unit = dict  # {"pairs": [(a, b, corpus_context tuple)], "most": documents a rare name may be used by}


def _scratch(folder: Path) -> sqlite3.Connection:
    db = sqlite3.connect(folder / "reconcile.db")
    db.executescript("""
        PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE;
        CREATE TABLE docs (id TEXT PRIMARY KEY, lang TEXT, vec BLOB, names TEXT, figures TEXT);
        CREATE TABLE keys (key TEXT, doc TEXT);
        CREATE TABLE pairs (a TEXT, b TEXT, block TEXT, cos REAL, ns REAL, fig REAL, PRIMARY KEY (a, b));
        CREATE TABLE claim_links (id TEXT PRIMARY KEY, kind TEXT, x TEXT, y TEXT, detail TEXT, score REAL);
    """)
    return db


def _chunks(items: list, size: int) -> Iterator[list]:
    for k in range(0, len(items), size):
        yield items[k:k + size]


def _rows(db: sqlite3.Connection, sql: str, ids: Iterable[str]) -> list[tuple]:
    out = []
    for part in _chunks(sorted(set(ids)), 900):
        out += db.execute(sql.format(",".join("?" * len(part))), part).fetchall()
    return out


def _describe_documents(source, db: sqlite3.Connection, batch: int) -> dict[str, int]:
    """Step 1: write each linkable document's summary; return how many documents use each proper name."""
    df: dict[str, int] = defaultdict(int)
    for docs in source.document_batches(batch):
        events, claims, _ = source.document_records([d.id for d in docs])
        linkable = {c.doc for c in claims} | {e.doc for e in events if not e.generic}
        docs = [d for d in docs if d.id in linkable]
        told = document_sentences({d.id: d.text for d in docs}, {d.id: d.language for d in docs})
        rows, keys = [], []
        for d in docs:
            vec, statements, _ = told[d.id]
            names = document_names(d.text)
            for x in names:
                df[x] += 1
            rows.append((d.id, d.language, np.asarray(vec, np.float32).tobytes(), json.dumps(sorted(names)),
                         json.dumps(sorted(document_figures(statements)))))
            keys += [(k, d.id) for k in _main_actors(statements)]
        db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO keys VALUES (?, ?)", keys)
    db.execute("CREATE INDEX ix_keys ON keys (key, doc)")
    db.commit()
    return df


def _vectors(db: sqlite3.Connection, ids: Iterable[str]) -> dict[str, np.ndarray]:
    return {d: np.frombuffer(v, np.float32) for d, v in _rows(db, "SELECT id, vec FROM docs WHERE id IN ({})", ids)}


def _find_candidates(db: sqlite3.Connection) -> None:
    """Step 2: per blocking key, each member's nearest partners (a pair found in several blocks is filed under the first)."""
    for (key,) in db.execute("SELECT DISTINCT key FROM keys ORDER BY key").fetchall():
        members = [d for (d,) in db.execute("SELECT doc FROM keys WHERE key = ? ORDER BY doc", (key,))]
        if len(members) < 2:
            continue
        pairs = candidate_documents(_vectors(db, members), {d: {key} for d in members})
        db.executemany("INSERT OR IGNORE INTO pairs (a, b, block) VALUES (?, ?, ?)", [(a, b, key) for a, b in sorted(pairs)])
    db.commit()


def _pair_context(db: sqlite3.Connection, df: dict[str, int], n: int, chunk: int = 20000) -> None:
    """Step 3: each pair's meaning similarity, names' cosine and shared figures, then both directions' ranks."""
    last = ("", "")
    while True:
        pairs = db.execute("SELECT a, b FROM pairs WHERE (a, b) > (?, ?) ORDER BY a, b LIMIT ?", (*last, chunk)).fetchall()
        if not pairs:
            break
        ids = {x for p in pairs for x in p}
        vec = _vectors(db, ids)
        info = {d: (frozenset(json.loads(ns)), frozenset(json.loads(fs)))
                for d, ns, fs in _rows(db, "SELECT id, names, figures FROM docs WHERE id IN ({})", ids)}
        db.executemany("UPDATE pairs SET cos = ?, ns = ?, fig = ? WHERE a = ? AND b = ?", [
            (float(vec[a] @ vec[b]), names_similarity(info[a][0], info[b][0], df, n),
             min(3, len(info[a][1] & info[b][1])) / 3, a, b) for a, b in pairs])
        last = pairs[-1]
    # Ranks as features.reciprocal_ranks gives them: among a document's partners of one language, by value then id.
    db.executescript("""
        CREATE TABLE ranks AS
        WITH dir AS (SELECT a AS x, b AS y, cos, ns FROM pairs UNION ALL SELECT b, a, cos, ns FROM pairs)
        SELECT x, y, ROW_NUMBER() OVER (PARTITION BY x, docs.lang ORDER BY cos DESC, y) AS rc,
                     ROW_NUMBER() OVER (PARTITION BY x, docs.lang ORDER BY ns DESC, y) AS rn
        FROM dir JOIN docs ON docs.id = dir.y;
        CREATE UNIQUE INDEX ix_ranks ON ranks (x, y);
        CREATE INDEX ix_pairs_block ON pairs (block, a, b);
    """)
    db.commit()


def _units(db: sqlite3.Connection, n: int, size: int) -> Iterator[Unit]:
    """Step 4: the pairs in block order, cut into units of about `size` documents, each with its context and rare names."""
    most = max(2, int(RARE_SHARE * n))
    rows = db.execute("""
        SELECT p.a, p.b, p.cos, p.ns, p.fig, r1.rc, r2.rc, r1.rn, r2.rn FROM pairs p
        JOIN ranks r1 ON r1.x = p.a AND r1.y = p.b JOIN ranks r2 ON r2.x = p.b AND r2.y = p.a
        ORDER BY p.block, p.a, p.b""")
    pending: list[tuple] = []
    docs: set[str] = set()
    for a, b, cos, ns, fig, rc_ab, rc_ba, rn_ab, rn_ba in rows:
        ca, cb, na, nb = 1.0 / rc_ab, 1.0 / rc_ba, 1.0 / rn_ab, 1.0 / rn_ba
        pending.append((a, b, (max(ca, cb), min(ca, cb), ns, max(na, nb), min(na, nb), fig)))
        docs.update((a, b))
        if len(docs) >= size:
            yield {"pairs": pending, "most": most}
            pending, docs = [], set()
    if pending:
        yield {"pairs": pending, "most": most}


def score_unit(source, unit: Unit, df: dict[str, int]) -> tuple[list[Link], dict, list[Event]]:
    """Return one unit's claim links, its confident same-event findings (by document pair) and the events they name.

    `df` gives how many documents use each proper name; a name is rare when at most `unit["most"]` do.
    """
    pairs = unit["pairs"]
    ids = sorted({x for a, b, _ in pairs for x in (a, b)})
    documents = source.documents(ids)
    events, claims, stances = source.document_records(ids)
    # Only the names these documents' words could use: shared_anchor copies the rare names at every call.
    words = {fold(w)[:6] for d in documents for w in _NAME_TOKEN.findall(d.text)}
    rare = frozenset(x for x in words if 0 < df.get(x, 0) <= unit["most"])
    found = compare_documents(documents, claims, events, stances,
                              candidates={(a, b): ctx for a, b, ctx in pairs}, rare=rare)
    cut = load_link_models().thresholds["same_event"]
    confident = {p: PairFindings(f.confidence, [], f.event_pairs, f.event_anchors, None) for p, f in found.items()
                 if f.confidence["same_event"] >= cut and f.event_pairs}
    named = {x for f in confident.values() for _, a, b in f.event_pairs for x in (a, b)}
    return link_claims_from(found), confident, [e for e in events if e.id in named]


def link_blocks(source, map_units: Callable[[Iterator[Unit], dict], Iterable[tuple]] | None = None,
                batch: int = BATCH, unit_documents: int = UNIT_DOCUMENTS, claim_links: int = CLAIM_LINKS,
                work_dir: str | Path | None = None) -> list[Link]:
    """Return every cross-source link of the corpus in `source`, reading it block by block (see the module doc).

    `map_units(units, df)` runs the units of work (`score_unit` with the names' document counts `df`), returning
    their results in any order; by default they run here, one after the other.
    """
    folder = Path(tempfile.mkdtemp(prefix="atlas-reconcile-", dir=work_dir))
    try:
        db = _scratch(folder)
        df = _describe_documents(source, db, batch)
        n = db.execute("SELECT COUNT(*) FROM docs").fetchone()[0]
        _find_candidates(db)
        _pair_context(db, df, n)
        units = _units(db, n, unit_documents)
        results = map_units(units, df) if map_units else (score_unit(source, u, df) for u in units)
        confident: dict[tuple[str, str], PairFindings] = {}
        events: dict[str, Event] = {}
        for claim_found, same_found, named in results:
            db.executemany("INSERT OR REPLACE INTO claim_links VALUES (?, ?, ?, ?, ?, ?)",
                           [(l.id, l.kind, l.items[0], l.items[-1], l.detail, l.score) for l in claim_found])
            confident.update(same_found)
            events.update((e.id, e) for e in named)
        links = link_same_events(list(events.values()), found=confident) if confident else []
        links += _capped_claim_links(db, claim_links)
        db.close()
        return sorted(links, key=lambda l: l.id)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _capped_claim_links(db: sqlite3.Connection, cap: int) -> list[Link]:
    """Return the claim links each of whose two claims counts it among its `cap` strongest of that kind."""
    db.commit()
    rows = db.execute("""
        WITH ends AS (SELECT id, kind, x AS claim, score FROM claim_links UNION ALL SELECT id, kind, y, score FROM claim_links),
        ranked AS (SELECT id, ROW_NUMBER() OVER (PARTITION BY kind, claim ORDER BY score DESC, id) AS r FROM ends)
        SELECT id, kind, x, y, detail, score FROM claim_links
        WHERE id NOT IN (SELECT id FROM ranked WHERE r > ?) ORDER BY id""", (cap,))
    return [Link(i, kind, (x, y), detail, score) for i, kind, x, y, detail, score in rows]
