"""Narratives: which ones a document advances in its own voice (endorsed) and which it only reports.

A sentence supports a narrative of the taxonomy (`ontology/narratives.yaml`) when one of the
narrative's cue patterns matches and the sentence, or the one before, is about the narrative's
actors; closeness to the narrative's example phrasings in the packaged embedding space adds
weight. Whose voice carries the cue (`voice.py`) decides the mode: the author's own words
endorse; quoted, attributed and debunked words report; words the author negates count for
neither. `discover_narratives` clusters the sentences the taxonomy does not cover.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..ontology.lexicons import VoiceCues, load_voice_cues
from ..ontology.narratives import Narrative, Taxonomy, load_taxonomy
from ..records import Mention, NarrativeHit
from .voice import AUTHOR, Segment, is_negated, quoted_spans, segment_at, sentence_segments

EXTRACTOR = "narrative-cues"
ENDORSED = "endorsed"
REPORTED = "reported"
# A sentence with one cue scores CUE_SCORE; each further distinct cue adds EXTRA_CUE.
CUE_SCORE = 0.5
EXTRA_CUE = 0.25
# Cosine similarity to the narrative's examples above SIMILARITY_FLOOR adds up to SIMILARITY_BONUS.
SIMILARITY_FLOOR = 0.45
SIMILARITY_BONUS = 0.5
# A document endorses a narrative from this much own-voice support (two cue sentences, or one with two cues),
# and reports it from this much attributed support (one is enough: reports are brief).
ENDORSE_MIN = 0.75
REPORT_MIN = 0.5
MAX_EVIDENCE = 6


@dataclass(slots=True)
class _SentenceHit:
    narrative: str
    mode: str
    score: float
    span: tuple[int, int]


def _taxonomy(taxonomy: Taxonomy | str | Path | None) -> Taxonomy:
    return taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)


def _languages(narrative: Narrative, language: str | None) -> list[str]:
    if language in narrative.cues:
        return [language]
    return list(narrative.cues)


def _about(n: Narrative, actors_near: set[str], context: str) -> bool:
    if not n.about_actors and n.about_words is None:
        return True
    if actors_near & set(n.about_actors):
        return True
    return bool(n.about_words is not None and n.about_words.search(context))


_example_cache: dict[tuple[str, str], np.ndarray] = {}


def _example_vectors(tax: Taxonomy, narrative: Narrative) -> np.ndarray | None:
    from .embeddings import embed_sentences

    key = (tax.fingerprint, narrative.id)
    if key not in _example_cache:
        texts = [t for ts in narrative.examples.values() for t in ts] + [f"{narrative.name}. {narrative.description}"]
        _example_cache[key] = embed_sentences(texts)
    return _example_cache[key]


def sentence_similarities(tax: Taxonomy, texts: list[str]) -> np.ndarray:
    """Return, per text and narrative, the cosine similarity to the narrative's closest example (texts x narratives)."""
    from .embeddings import embed_sentences

    if not texts:
        return np.zeros((0, len(tax.narratives)), dtype=np.float32)
    vecs = embed_sentences(texts)
    cols = [(vecs @ _example_vectors(tax, n).T).max(axis=1) for n in tax.narratives]
    return np.stack(cols, axis=1)


def _sentence_hits(text: str, index: int, sentences: list[tuple[int, int]], segments: list[Segment], actors_by_sentence: list[set[str]],
                   tax: Taxonomy, sims: np.ndarray | None, language: str | None, cues: VoiceCues) -> list[_SentenceHit]:
    s, e = sentences[index]
    sentence = text[s:e]
    prev = sentences[index - 1] if index > 0 else None
    context = sentence + " " + (text[prev[0] : prev[1]] if prev else "")
    near = actors_by_sentence[index] | (actors_by_sentence[index - 1] if index > 0 else set())
    debunk = cues.get("debunk", language)
    hits = []
    for k, n in enumerate(tax.narratives):
        matches = [m for lang in _languages(n, language) for p in n.cues.get(lang, ()) for m in p.finditer(sentence)]
        if not matches or not _about(n, near, context):
            continue
        own_spans = [(m.start(), m.end()) for m in matches]
        debunked = bool(debunk) and any(
            not any(a <= d.start() and d.end() <= b for a, b in own_spans) for d in debunk.finditer(sentence))
        endorsed: set[str] = set()
        reported: set[str] = set()
        weight = 0.0
        for m in matches:
            seg = segment_at(segments, s + m.start())
            if seg is None:
                continue
            cue = m.group(0).lower()
            if seg.voice == AUTHOR and not debunked:
                if is_negated(text, seg, s + m.start(), language, cues):
                    continue
                endorsed.add(cue)
                weight = max(weight, seg.weight)
            else:
                reported.add(cue)
        sim = float(sims[index, k]) if sims is not None else 0.0
        bonus = SIMILARITY_BONUS * max(0.0, sim - SIMILARITY_FLOOR) / (1 - SIMILARITY_FLOOR)
        if endorsed:
            score = (CUE_SCORE + EXTRA_CUE * (len(endorsed) - 1) + bonus) * weight
            hits.append(_SentenceHit(n.id, ENDORSED, min(1.0, score), (s, e)))
        if reported:
            score = CUE_SCORE + EXTRA_CUE * (len(reported) - 1) + bonus
            hits.append(_SentenceHit(n.id, REPORTED, min(1.0, score), (s, e)))
    return hits


def find_narratives(doc_id: str, text: str, sentences: list[tuple[int, int]], mentions: list[Mention], language: str | None,
                    taxonomy: Taxonomy | str | Path | None = None, use_embeddings: bool = True) -> list[NarrativeHit]:
    """Return the narratives the document endorses or reports, each with a score in [0, 1] and its evidence sentences."""
    tax = _taxonomy(taxonomy)
    cues = load_voice_cues()
    lang = language if language in ("en", "fr") else None
    quotes = quoted_spans(text)
    actors_by_sentence: list[set[str]] = []
    linked = sorted((m.start, m.actor) for m in mentions if m.actor)
    j = 0
    for s, e in sentences:
        found = set()
        while j < len(linked) and linked[j][0] < s:
            j += 1
        k = j
        while k < len(linked) and linked[k][0] < e:
            found.add(linked[k][1])
            k += 1
        actors_by_sentence.append(found)
    sims = sentence_similarities(tax, [text[s:e] for s, e in sentences]) if use_embeddings and sentences else None
    per: dict[tuple[str, str], list[_SentenceHit]] = {}
    for index, (s, e) in enumerate(sentences):
        segments = sentence_segments(text, s, e, lang, quotes, cues)
        for hit in _sentence_hits(text, index, sentences, segments, actors_by_sentence, tax, sims, lang, cues):
            per.setdefault((hit.narrative, hit.mode), []).append(hit)
    out: list[NarrativeHit] = []
    for n in tax.narratives:
        endorsed = per.get((n.id, ENDORSED), [])
        reported = per.get((n.id, REPORTED), [])
        e_sum = sum(h.score for h in endorsed)
        r_sum = sum(h.score for h in reported)
        if e_sum >= ENDORSE_MIN:
            mode, chosen, total = ENDORSED, endorsed, e_sum
        elif r_sum >= REPORT_MIN:
            mode, chosen, total = REPORTED, reported, r_sum
        else:
            continue
        best = sorted(chosen, key=lambda h: (-h.score, h.span))[:MAX_EVIDENCE]
        out.append(NarrativeHit(doc=doc_id, narrative=n.id, mode=mode, score=round(1 - math.exp(-total), 3),
                                evidence=tuple(sorted(h.span for h in best)), extractor=EXTRACTOR))
    return out


@dataclass(frozen=True, slots=True)
class CandidateNarrative:
    """A cluster of corpus sentences that the taxonomy does not cover: a candidate for a new narrative."""

    keywords: tuple[str, ...]
    count: int
    documents: int
    sentences: tuple[str, ...]
    nearest: str | None
    similarity: float

    @property
    def label(self) -> str:
        """Return a short name made of the cluster's most distinctive words."""
        return " / ".join(self.keywords[:4])


_STOP = set("""a an the and or but of to in on at by for with from as is are was were be been being this that these those it its
their they them he she his her we our you your i not no nor so than then there here which who whom whose what when where why how
all any both each few more most other some such only own same too very can will just should now also into over under again
further once about against between through during before after above below up down out off has have had having do does did
doing would could may might must shall le la les un une des du de d l et ou mais à au aux en dans par pour sur avec sans sous
ce cette ces qui que quoi dont où il elle ils elles on nous vous je ne pas plus est sont été être a ont avait fait se sa son ses
leur leurs y said says also new one two three""".split())
_TOKEN = re.compile(r"[^\W\d_][\w'’-]+", re.U)


def _keywords(cluster: list[str], background: Counter, total_bg: int, k: int = 6) -> tuple[str, ...]:
    """Return the words most over-represented in the cluster against the whole set (log-odds with smoothing)."""
    counts: Counter = Counter()
    for s in cluster:
        counts.update({w for w in (t.lower() for t in _TOKEN.findall(s)) if w not in _STOP and len(w) > 2})
    n = len(cluster)
    floor = 2 if n > 2 and any(c >= 2 for c in counts.values()) else 1
    scored = []
    for w, c in counts.items():
        if c < floor:
            continue
        p_in = (c + 0.5) / (n + 1)
        p_bg = (background[w] + 0.5) / (total_bg + 1)
        scored.append((c * math.log(p_in / p_bg), w))
    return tuple(w for _, w in sorted(scored, key=lambda x: (-x[0], x[1]))[:k])


def discover_narratives(sentences: list[str], taxonomy: Taxonomy | str | Path | None = None, *, sources: list[str] | None = None,
                        min_size: int = 3, max_clusters: int = 12, similarity: float = 0.55, covered_similarity: float = 0.7,
                        min_words: int = 6, representatives: int = 3) -> list[CandidateNarrative]:
    """Return candidate narratives: clusters of sentences the taxonomy does not cover, largest first.

    A sentence is covered when one of the taxonomy's cue patterns matches it or it lies within
    `covered_similarity` (cosine) of a narrative's examples. The rest are embedded and grouped by
    single-pass centroid clustering at `similarity`, in a fixed order, so results are stable.
    `sources` (one label per sentence, e.g. the document id) lets each cluster count its documents.
    """
    from .embeddings import embed_sentences

    tax = _taxonomy(taxonomy)
    if sources is not None and len(sources) != len(sentences):
        raise ValueError("sources must give one label per sentence")
    keep: list[int] = []
    for i, s in enumerate(sentences):
        if len(s.split()) < min_words:
            continue
        if any(p.search(s) for n in tax.narratives for ps in n.cues.values() for p in ps):
            continue
        keep.append(i)
    if not keep:
        return []
    texts = [sentences[i] for i in keep]
    sims = sentence_similarities(tax, texts)
    nearest_idx = sims.argmax(axis=1)
    nearest_sim = sims.max(axis=1)
    uncovered = [k for k in range(len(texts)) if nearest_sim[k] < covered_similarity]
    if not uncovered:
        return []
    vecs = embed_sentences([texts[k] for k in uncovered])
    centroids: list[np.ndarray] = []
    members: list[list[int]] = []
    # Longer sentences first: they carry more of a claim and make steadier seeds.
    order = sorted(range(len(uncovered)), key=lambda r: (-len(texts[uncovered[r]]), r))
    for r in order:
        v = vecs[r]
        if centroids:
            scores = np.array([float(c @ v) / (np.linalg.norm(c) or 1.0) for c in centroids])
            best = int(scores.argmax())
            if scores[best] >= similarity:
                members[best].append(r)
                centroids[best] = centroids[best] + v
                continue
        centroids.append(v.copy())
        members.append([r])
    background: Counter = Counter()
    for t in texts:
        background.update({w for w in (x.lower() for x in _TOKEN.findall(t)) if w not in _STOP and len(w) > 2})
    out: list[CandidateNarrative] = []
    for c, rows in zip(centroids, members):
        if len(rows) < min_size:
            continue
        unit = c / (np.linalg.norm(c) or 1.0)
        ranked = sorted(rows, key=lambda r: (-float(vecs[r] @ unit), r))
        texts_in = [texts[uncovered[r]] for r in rows]
        idx = [keep[uncovered[r]] for r in rows]
        docs = len({sources[i] for i in idx}) if sources is not None else 0
        near = Counter(int(nearest_idx[uncovered[r]]) for r in rows).most_common(1)[0][0]
        out.append(CandidateNarrative(
            keywords=_keywords(texts_in, background, len(texts)), count=len(rows), documents=docs,
            sentences=tuple(texts[uncovered[r]] for r in ranked[:representatives]),
            nearest=tax.narratives[near].id, similarity=round(float(np.mean([nearest_sim[uncovered[r]] for r in rows])), 3),
        ))
    out.sort(key=lambda cand: (-cand.count, -cand.documents, cand.keywords))
    return out[:max_clusters]
