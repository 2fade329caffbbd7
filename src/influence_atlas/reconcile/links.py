"""Shared pieces of cross-source linking: document vectors, event views, candidate documents (blocking)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Iterable
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import ModelError
from ..extract.encoder import DIM, encode_sentences
from ..text.sentences import rough_sentences

_WORD = re.compile(r"[^\W_]{3,}", re.U)
# A document is told by its opening: the first sentences carry the story (and bound the cost on long texts).
DOC_SENTENCES = 40
# Each document meets at most this many others (its nearest by vector within a shared actor): near-linear.
NEIGHBOURS = 40
# A document filed under several actors meets up to NEIGHBOURS per actor (up to four); across them it keeps its
# PARTNERS strongest partners (by the same vector similarity), and a pair stays when either of its documents keeps it,
# so a corpus has fewer than PARTNERS pairs per document however many large blocks its documents fall in
# (`strongest_partners`). It never binds where no document has more than PARTNERS candidates, so never on a corpus of
# at most PARTNERS + 1 documents (the development, cross-source and seed sets); on 1,000 synthetic documents of one
# subject (bench_reconcile) it drops 2.4% of the pairs and 3 of 217 links differ.
PARTNERS = 80
# A document's story, for the multilingual encoder, is told by its lead: this many opening sentences (the encoder costs
# about three times MiniLM, so it reads the lead, not the whole text).
STORY_SENTENCES = 10
# Languages with fewer documents than this are centred on the whole corpus's mean, not their own.
STORY_CENTRE_MIN = 3
# MiniLM's language: two documents of it compare on MiniLM rows (`StoryScale`), the others on multilingual ones.
ENGLISH = "en"
STORY_SCALE_FILE = "models/multilingual/story_calibration.json"


def sentences(text: str, limit: int = DOC_SENTENCES) -> list[str]:
    """Return the first `limit` sentences of a text (at least four words each)."""
    out = []
    for start, end in rough_sentences(text):
        part = text[start:end].strip()
        if len(part.split()) >= 4:
            out.append(part[:600])
            if len(out) >= limit:
                break
    return out


def document_sentences(texts: dict[str, str], language: dict[str, str | None] | None = None,
                       encode=encode_sentences) -> dict[str, tuple]:
    """Return per document (vector, statements, statement vectors) over its opening sentences.

    The document vector is the normalised mean of its sentences' encoder vectors. Comparing every
    opening sentence (not only the extracted claims) makes the document-level decision independent
    of how a claim extractor cuts or how many claims it keeps. `encode` gives the MiniLM rows (by default the
    shared encoder; `known_vectors` serves rows encoded earlier).
    """
    from .features import describe

    out = {}
    for doc, text in texts.items():
        sents = sentences(text)
        if not sents:
            out[doc] = (np.zeros(DIM, np.float32), [], np.zeros((0, DIM), np.float32))
            continue
        vecs = encode(sents)
        lang = (language or {}).get(doc)
        out[doc] = (_mean_row(vecs), [describe(f"{doc}:s{i}", doc, t, lang) for i, t in enumerate(sents)], vecs)
    return out


def document_vector(rows: np.ndarray) -> np.ndarray:
    """Return a document's vector from its opening sentences' MiniLM rows, as `document_sentences` gives it."""
    return _mean_row(rows) if len(rows) else np.zeros(DIM, np.float32)


def known_vectors(encode, known: dict[str, np.ndarray]):
    """Return an encoder like `encode` that gives the row stored in `known` for a text it holds (rows `encode` gave
    earlier, so the result is the same) and runs `encode` on the others."""
    def run(texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, encode(missing)))
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False) if texts else encode(texts)
    return run


def _mean_row(vecs: np.ndarray) -> np.ndarray:
    v = vecs.mean(axis=0)
    n = float(np.linalg.norm(v))
    return v / n if n else v


def story_vectors(texts: dict[str, str], encode=None) -> dict[str, np.ndarray]:
    """Return per document the multilingual (e5) vectors of its lead sentences (STORY_SENTENCES); `encode` gives the
    rows (by default `encode_multilingual`; `known_vectors` serves rows encoded earlier)."""
    from ..extract.multilingual import DIM as XDIM, encode_multilingual

    encode = encode or encode_multilingual
    out = {}
    for doc, text in texts.items():
        sents = sentences(text, STORY_SENTENCES)
        out[doc] = encode(sents) if sents else np.zeros((0, XDIM), np.float32)
    return out


def _top_mean(sims: np.ndarray, k: int = 3) -> float:
    flat = np.sort(sims.ravel())[::-1]
    return float(flat[:k].mean()) if flat.size else 0.0


def centred(vectors: dict[str, np.ndarray], language: dict[str, str | None],
            means: tuple[dict, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Return each document's multilingual rows with its language's mean row taken off, re-normalised.

    multilingual-e5 puts two texts of one language closer than a story told in two, and every text of a corpus on
    one topic close to every other: what remains after centring is what the texts say. A language with fewer than
    STORY_CENTRE_MIN documents is centred on the whole corpus's mean. `means` ((per-language means, overall mean),
    `LanguageMeans.means()`) gives a larger corpus's means, read a batch at a time; by default they are `vectors`'.
    """
    lang_means, overall = corpus_means(vectors, language) if means is None else means
    if overall is None:
        return dict(vectors)
    return {d: _centre(v, lang_means.get(language.get(d), overall)) if len(v) else v for d, v in vectors.items()}


def corpus_means(vectors: dict[str, np.ndarray], language: dict[str, str | None]) -> tuple[dict, np.ndarray | None]:
    """Return (per-language means, overall mean) of documents' multilingual rows, as `centred` takes them (overall
    None when no document has a row); a language with fewer than STORY_CENTRE_MIN documents gets the overall mean."""
    rows = [v for v in vectors.values() if len(v)]
    if not rows:
        return {}, None
    overall = np.concatenate(rows).mean(axis=0)
    by_lang: dict[str | None, list[np.ndarray]] = defaultdict(list)
    for d, v in vectors.items():
        if len(v):
            by_lang[language.get(d)].append(v)
    return ({lang: (np.concatenate(vs).mean(axis=0) if len(vs) >= STORY_CENTRE_MIN else overall)
             for lang, vs in by_lang.items()}, overall)


def _centre(rows: np.ndarray, mean: np.ndarray) -> np.ndarray:
    w = rows - mean
    n = np.linalg.norm(w, axis=1, keepdims=True)
    return (w / np.where(n > 0, n, 1.0)).astype(np.float32)


class CentredRows:
    """Centred multilingual rows of single texts, encoded only when first asked for.

    Claims and events are centred on the means of the documents' LEAD rows (`corpus_means` of `story_vectors`, or
    the blocked pass's `LanguageMeans` of them), not on means of their own rows: the lead rows are encoded for every
    compared document anyway, so a claim or an event sentence needs the multilingual encoder only when a decision
    reads its similarity (a rare name shared by two sentences that MiniLM finds apart), a small share of them. A row's
    value depends on its text, its document's language and the means only, never on which rows were asked before.
    """

    def __init__(self, encode, language: dict[str, str | None], means: tuple[dict, np.ndarray | None],
                 english: tuple | None = None):
        """`english` (MiniLM encoder, the MiniLM lead rows' means, the documents that have multilingual lead rows):
        two texts one of whose documents is not among those compare on centred MiniLM rows (two English documents,
        `multilingual_documents`), their cosine put on e5's scale (`StoryScale`)."""
        self.encode, self.language, self.means = encode, language, means
        self.rows: dict[tuple[str | None, str], np.ndarray] = {}
        self.english = CentredRows(english[0], language, english[1]) if english else None
        self.multilingual = english[2] if english else None

    def in_english(self, a: str, b: str) -> bool:
        """True when documents a and b compare on MiniLM rows (one has no multilingual lead rows)."""
        return self.english is not None and (a not in self.multilingual or b not in self.multilingual)

    def __call__(self, doc: str, texts: list[str]) -> np.ndarray:
        """Return the centred rows of `texts` of document `doc` (len(texts) x DIM; uncentred when no means)."""
        lang = self.language.get(doc)
        missing = [t for t in dict.fromkeys(texts) if (lang, t) not in self.rows]
        if missing:
            raw = np.asarray(self.encode(missing), np.float32)
            lang_means, overall = self.means
            if overall is not None:
                raw = _centre(raw, lang_means.get(lang, overall))
            self.rows.update(((lang, t), r) for t, r in zip(missing, raw))
        return np.stack([self.rows[(lang, t)] for t in texts]) if texts else np.zeros((0, 0), np.float32)

    def similarity(self, a: tuple[str, str], b: tuple[str, str]) -> float:
        """Return the cosine of two (document, text) rows, centred (on e5's scale)."""
        if self.in_english(a[0], b[0]):
            return load_story_scale().centred(float(self.english(a[0], [a[1]])[0] @ self.english(b[0], [b[1]])[0]))
        return float(self(a[0], [a[1]])[0] @ self(b[0], [b[1]])[0])

    def assertion(self, a: str, told_a: list[str], b: str, told_b: list[str]) -> float:
        """Return `assertion_similarity` of two documents' lead claims (texts), on the rows their pair compares on."""
        if self.in_english(a, b):
            return assertion_similarity(self.english(a, told_a), self.english(b, told_b), english=True)
        return assertion_similarity(self(a, told_a), self(b, told_b))


def lead_claims(text: str, claim_texts: list[str]) -> list[str]:
    """Return the claims (texts, in order) that are sentences of the document's lead (`STORY_SENTENCES`): the claims
    whose multilingual rows the lead's encoding gives, which `assertion_similarity` compares."""
    lead = set(sentences(text, STORY_SENTENCES))
    return [t for t in claim_texts if t in lead]


class LanguageMeans:
    """Running sums of documents' multilingual rows per language, added a document at a time, for `centred`.

    Rows are summed one by one in the order documents are added, as numpy sums a stacked array along its rows, so
    documents added in `centred`'s order give its means bit for bit (float32 sums, as `mean` keeps them).
    """

    def __init__(self):
        self.sums: dict[str | None, np.ndarray] = {}
        self.rows: dict[str | None, int] = defaultdict(int)
        self.docs: dict[str | None, int] = defaultdict(int)
        self.total: np.ndarray | None = None
        self.total_rows = 0

    def add(self, language: str | None, rows: np.ndarray) -> None:
        """Count one document's rows (a document without rows counts nowhere, as in `centred`)."""
        if not len(rows):
            return
        self.sums[language] = _add_rows(self.sums.get(language), rows)
        self.total = _add_rows(self.total, rows)
        self.rows[language] += len(rows)
        self.docs[language] += 1
        self.total_rows += len(rows)

    def means(self) -> tuple[dict, np.ndarray | None]:
        """Return (per-language means, overall mean) as `centred` takes them (overall None when nothing was added)."""
        if self.total is None:
            return {}, None
        overall = _divide(self.total, self.total_rows)
        return ({lang: (_divide(s, self.rows[lang]) if self.docs[lang] >= STORY_CENTRE_MIN else overall)
                 for lang, s in self.sums.items()}, overall)


def _add_rows(total: np.ndarray | None, rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows)
    return rows.sum(axis=0) if total is None else np.concatenate([total[None, :], rows]).sum(axis=0)


def _divide(total: np.ndarray, count: int) -> np.ndarray:
    # As numpy's mean divides its sum: in the sum's precision, in place.
    out = total.copy()
    np.true_divide(out, count, out=out, casting="unsafe")
    return out


def story_similarities(vectors: dict[str, np.ndarray], language: dict[str, str | None],
                       pairs: list[tuple[str, str]],
                       means: tuple[dict, np.ndarray] | None = None,
                       flat: dict[str, np.ndarray] | None = None,
                       english: tuple[dict, dict] | None = None) -> dict[tuple[str, str], tuple[float, float]]:
    """Return, per document pair, (centred, raw) story similarity: the mean of the three closest lead-sentence pairs.

    Raw: multilingual-e5 cosines, which sit higher for two texts of one language than for a story told in two;
    centred: the same on `centred` rows (on `means` when given, else on `vectors`' own; `flat`: those rows, centred
    already by the caller). `english` (MiniLM lead rows, the same centred on the MiniLM means) serves the pairs one of
    whose documents has no multilingual rows in `vectors` (two English documents, `multilingual_documents`): their
    MiniLM similarities put on e5's scale (`StoryScale`).
    """
    flat = centred(vectors, language, means) if flat is None else flat
    out = {}
    for a, b in pairs:
        if english is not None and (a not in vectors or b not in vectors):
            rows, flat_m = english
            va, vb = rows.get(a), rows.get(b)
            if va is None or vb is None or not len(va) or not len(vb):
                out[(a, b)] = (0.0, 0.0)
            else:
                scale = load_story_scale()
                out[(a, b)] = (scale.centred(_top_mean(flat_m[a] @ flat_m[b].T)), scale.raw(_top_mean(va @ vb.T)))
            continue
        va, vb = vectors.get(a), vectors.get(b)
        if va is None or vb is None or not len(va) or not len(vb):
            out[(a, b)] = (0.0, 0.0)
            continue
        out[(a, b)] = (_top_mean(flat[a] @ flat[b].T), _top_mean(va @ vb.T))
    return out


def assertion_similarity(a: np.ndarray, b: np.ndarray, english: bool = False) -> float:
    """Return the highest cosine between two documents' centred multilingual claim rows (0 when one has none);
    `english`: the rows are centred MiniLM ones (two English documents), the cosine put on e5's scale."""
    if not len(a) or not len(b):
        return 0.0
    top = float((a @ b.T).max())
    return load_story_scale().centred(top) if english else top


def multilingual_documents(language: dict[str, str | None], pairs: Iterable[tuple[str, str]]) -> set[str]:
    """Return the documents whose comparisons need the multilingual encoder: those not in MiniLM's language and
    those with a candidate partner of another language. Two English documents compare on MiniLM rows, which the
    analysis has already (`StoryScale` puts them on e5's scale); e5 costs about three times MiniLM a sentence."""
    out = {d for d, lang in language.items() if lang != ENGLISH}
    for a, b in pairs:
        if language.get(a) != language.get(b):
            out.update((a, b))
    return out


class StoryScale:
    """Increasing lines from MiniLM's lead-sentence similarities of two English documents to multilingual-e5's, so
    the doc-pair model reads them on the scale it was trained on (fitted by training/multilingual/calibrate_story.py
    on English pairs of reference corpora; an increasing line commutes with the top-three mean and the maximum)."""

    def __init__(self, data: dict):
        self.lines = {}
        for what in ("centred", "raw"):
            line = data[what]
            slope, intercept = float(line["slope"]), float(line["intercept"])
            if not slope > 0 or not np.isfinite(intercept):
                raise ValueError(f"{what}: the line must increase (slope {slope}, intercept {intercept})")
            self.lines[what] = (slope, intercept)

    def _on(self, what: str, value: float) -> float:
        slope, intercept = self.lines[what]
        return slope * value + intercept

    def centred(self, value: float) -> float:
        return self._on("centred", value)

    def raw(self, value: float) -> float:
        return self._on("raw", value)


@lru_cache(maxsize=1)
def load_story_scale() -> StoryScale:
    """Return the packaged `StoryScale`."""
    try:
        text = resources.files("influence_atlas").joinpath(STORY_SCALE_FILE).read_text(encoding="utf-8")
        return StoryScale(json.loads(text))
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{STORY_SCALE_FILE} cannot be read ({exc}); reinstall influence-atlas or fit it again with "
                         "training/multilingual/calibrate_story.py --write") from exc


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
    document keeping its `neighbours` most similar partners, so the pairs kept grow linearly with the number of
    documents. A block of more than EXACT_BLOCK documents (one actor in a large share of a large corpus) is first cut
    into cells of documents near in meaning (`meaning_cells`) and each document meets its nearest within its cell:
    the search then costs the block's size times a cell's, not the block's size squared.
    """
    blocks: dict[str, list[str]] = defaultdict(list)
    for doc in sorted(vectors):
        for key in keys.get(doc, ()):
            blocks[key].append(doc)
    pairs: set[tuple[str, str]] = set()
    for block in blocks.values():
        if len(block) < 2:
            continue
        block_mat = np.stack([vectors[d] for d in block])
        for home, space in meaning_cells(block_mat):
            members = [block[i] for i in space]
            mat = block_mat[space]
            at = {int(i): r for r, i in enumerate(space)}
            rows = [at[int(i)] for i in home if focus is None or block[i] in focus]
            for lo in range(0, len(rows), 256):
                chunk = rows[lo:lo + 256]
                sims = mat[chunk] @ mat.T
                for r, i in enumerate(chunk):
                    sims[r, i] = -2.0
                    k = min(neighbours, len(members) - 1)
                    if k < 1:
                        continue
                    for j in np.argpartition(-sims[r], k - 1)[:k]:
                        a, b = members[i], members[int(j)]
                        pairs.add((a, b) if a < b else (b, a))
    return pairs


def strongest_partners(similarity: dict[tuple[str, str], float], keep: int = PARTNERS) -> set[tuple[str, str]]:
    """Return the pairs (a < b) that one of their two documents counts among its `keep` strongest partners, by
    `similarity` (the documents' vector cosine) then the partner's id; `reconcile.blocks` applies the same rule in SQL."""
    ranked: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for (a, b), sim in similarity.items():
        ranked[a].append((-sim, b))
        ranked[b].append((-sim, a))
    kept = set()
    for x, partners in ranked.items():
        for _, y in sorted(partners)[:keep]:
            kept.add((x, y) if x < y else (y, x))
    return kept


# Blocks up to this many documents are searched whole (exact nearest neighbours); larger ones in cells of about CELL.
EXACT_BLOCK = 4096
CELL = 2048


def meaning_cells(mat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return (home rows, searched rows) cells of `mat` (unit vectors): one cell of every row when there are at most
    EXACT_BLOCK rows; else each row's home is the nearest of about rows / CELL centres (k-means, two rounds from
    evenly spaced rows) and a cell searches the rows whose nearest or second-nearest centre is its own, so a document
    near the border of two cells still meets its nearest partners. A home cell larger than EXACT_BLOCK (rows alike)
    is cut in order."""
    if len(mat) <= EXACT_BLOCK:
        every = np.arange(len(mat))
        return [(every, every)]
    seeds = mat[np.linspace(0, len(mat) - 1, -(-len(mat) // CELL)).astype(int)].copy()
    for round_ in range(3):
        sims = np.concatenate([mat[lo:lo + 4096] @ seeds.T for lo in range(0, len(mat), 4096)])
        top2 = np.argsort(-sims, axis=1)[:, :2]
        if round_ == 2:
            break
        for c in range(len(seeds)):
            members = mat[top2[:, 0] == c]
            if len(members):
                centre = members.sum(axis=0)
                seeds[c] = centre / max(float(np.linalg.norm(centre)), 1e-12)
    out = []
    for c in range(len(seeds)):
        home = np.flatnonzero(top2[:, 0] == c)
        space = np.flatnonzero((top2[:, 0] == c) | (top2[:, 1] == c))
        if len(home) > EXACT_BLOCK:
            out += [(home[lo:lo + CELL], home) for lo in range(0, len(home), CELL)]
        elif len(home):
            out.append((home, space))
    return out
