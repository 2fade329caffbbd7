"""Shared pieces of cross-source linking: document vectors, event views, candidate documents (blocking)."""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from ..extract.encoder import DIM, encode_sentences

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”»’)]*\s+|\n+")
_WORD = re.compile(r"[^\W_]{3,}", re.U)
# A document is told by its opening: the first sentences carry the story (and bound the cost on long texts).
DOC_SENTENCES = 40
# Each document meets at most this many others (its nearest by vector within a shared actor): near-linear.
NEIGHBOURS = 40


def sentences(text: str, limit: int = DOC_SENTENCES) -> list[str]:
    """Return the first `limit` sentences of a text (at least four words each)."""
    out = []
    for part in _SENTENCE_END.split(text):
        part = part.strip()
        if len(part.split()) >= 4:
            out.append(part[:600])
            if len(out) >= limit:
                break
    return out


def document_sentences(texts: dict[str, str], language: dict[str, str | None] | None = None) -> dict[str, tuple]:
    """Return per document (vector, statements, statement vectors) over its opening sentences.

    The document vector is the normalised mean of its sentences' encoder vectors. Comparing every
    opening sentence (not only the extracted claims) makes the document-level decision independent
    of how a claim extractor cuts or how many claims it keeps.
    """
    from .features import describe

    out = {}
    for doc, text in texts.items():
        sents = sentences(text)
        if not sents:
            out[doc] = (np.zeros(DIM, np.float32), [], np.zeros((0, DIM), np.float32))
            continue
        vecs = encode_sentences(sents)
        v = vecs.mean(axis=0)
        n = float(np.linalg.norm(v))
        lang = (language or {}).get(doc)
        out[doc] = (v / n if n else v, [describe(f"{doc}:s{i}", doc, t, lang) for i, t in enumerate(sents)], vecs)
    return out


def document_vectors(texts: dict[str, str]) -> dict[str, np.ndarray]:
    """Return each document's vector: the normalised mean of its opening sentences' encoder vectors."""
    return {doc: v[0] for doc, v in document_sentences(texts).items()}


def sentence_pair_rows(a: tuple, b: tuple, doc_cos: float, opposed: float) -> np.ndarray:
    """Return the claim-pair feature rows of every two opening sentences of two documents."""
    from .features import CLAIM_FEATURES, claim_pair_features

    _, sa, va = a
    _, sb, vb = b
    if not sa or not sb:
        return np.zeros((0, len(CLAIM_FEATURES)), np.float32)
    cos = va @ vb.T
    return np.stack([claim_pair_features(x, y, float(cos[i, j]), doc_cos, opposed)
                     for i, x in enumerate(sa) for j, y in enumerate(sb)])


def event_view(type_: str, date: str | None, actors: set[str], location: str | None, fatalities: int | None,
               sentence: str) -> dict:
    """Return the plain view of an event telling that event_pair_features compares."""
    return dict(type=type_, date=date, actors=frozenset(actors), location=location, fatalities=fatalities,
                words=frozenset(w.lower() for w in _WORD.findall(sentence)))


def candidate_documents(vectors: dict[str, np.ndarray], keys: dict[str, set[str]], focus: set[str] | None = None,
                        neighbours: int = NEIGHBOURS) -> set[tuple[str, str]]:
    """Return the document pairs worth comparing: within each blocking key, each document's nearest neighbours.

    `keys` gives each document's blocking keys (its main actors). A block is compared in chunks, each
    document keeping its `neighbours` most similar partners, so the cost per document is bounded by the
    block's size, and the pairs kept grow linearly with the number of documents.
    """
    blocks: dict[str, list[str]] = defaultdict(list)
    for doc in sorted(vectors):
        for key in keys.get(doc, ()):
            blocks[key].append(doc)
    pairs: set[tuple[str, str]] = set()
    for members in blocks.values():
        if len(members) < 2:
            continue
        mat = np.stack([vectors[d] for d in members])
        rows = [i for i, d in enumerate(members) if focus is None or d in focus]
        for lo in range(0, len(rows), 256):
            chunk = rows[lo:lo + 256]
            sims = mat[chunk] @ mat.T
            for r, i in enumerate(chunk):
                sims[r, i] = -2.0
                k = min(neighbours, len(members) - 1)
                for j in np.argpartition(-sims[r], k - 1)[:k]:
                    a, b = members[i], members[int(j)]
                    pairs.add((a, b) if a < b else (b, a))
    return pairs
