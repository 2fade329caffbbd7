"""Narratives: which ones a document advances in its own voice (endorsed) and which it only reports.

A narrative of the taxonomy (`ontology/narratives.yaml`, or the user's file) is matched by meaning: the
document's sentences are compared, in the shared encoder's space, with the narrative's name, description
and examples (and its sub-narratives'); the taxonomy's cue patterns, when it has any, add their votes. A
small presence head, trained by cross-validation on the development set (`training/narratives/`), turns
these features into a probability. When the taxonomy names labelled documents, a classifier fitted on them
decides instead. Whose voice carries the matching sentences (`voice.py`), and whether the narrative sides
with the document's leading side, decide the mode through the mode head: the author's own words endorse;
quoted, attributed and debunked words report; an author whose own stance turns against what a narrative's side
favours reports it. `discover_narratives` clusters the sentences the taxonomy
does not cover.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import InputError, ModelError
from ..ontology.files import screen_of
from ..ontology.lexicons import VoiceCues, load_voice_cues
from ..ontology.narratives import Narrative, Taxonomy, load_taxonomy
from ..records import Mention, NarrativeHit, Stance
from ..text.metadata import ANALYSED_LANGUAGES
from ..text.sentences import rough_sentences
from .encoder import DIM, encode_sentences
from .voice import (AUTHOR, Segment, VoiceProfile, is_negated, load_relay_rule, quoted_spans, segment_at, segment_speakers,
                    sentence_segments, voice_profile)

EXTRACTOR = "narrative-meaning"
ENDORSED = "endorsed"
REPORTED = "reported"
NEGATED = "negated"  # a cue the author's own words deny: not a mode, it only cancels the sentence's similarity
HEADS_FILE = "models/narratives/heads.json"
# A sentence with one cue scores CUE_SCORE; each further distinct cue adds EXTRA_CUE.
CUE_SCORE = 0.5
EXTRA_CUE = 0.25
MAX_EVIDENCE = 6
MIN_WORDS = 4           # shorter lines (bylines, captions, menu items) are not compared with narratives
TOP_SENTENCES = 4       # the closest sentences whose mean similarity and voice the heads see (chosen by CV, training/narratives)
PRESENCE_FEATURES = ("cue_endorsed", "cue_reported", "sim_max", "sim_top", "sim_top_rel", "doc_sim_rel", "about", "bias")
MODE_FEATURES = ("cue_endorsed", "cue_reported", "author_share", "same_side", "bias")
# Classifiers fitted on a taxonomy's labelled documents: narratives with at least LABELLED_MIN_DOCS positives get
# one; LABELLED_MIN is the probability from which a narrative counts (calibrated by 5-fold cross-validation on
# SemEval-2025 Task 10, training/narratives/semeval_cv.py).
LABELLED_MIN_DOCS = 3
LABELLED_MIN = 0.8
LABELLED_L2 = 0.25
# The stance scale's neutral band: a stance under this in size leans neither way (as the gold's whole numbers round).
STANCE_LEAN = 0.5


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


def _prototypes(tax: Taxonomy, narrative: Narrative) -> np.ndarray:
    """Return the narrative's meaning vectors (shared encoder): name and description, each example, and its children's."""
    key = (tax.fingerprint, narrative.id)
    if key not in _example_cache:
        family = [narrative, *tax.children(narrative.id)]
        texts = [f"{n.name}. {n.description}".strip() for n in family]
        texts += [t for n in family for ts in n.examples.values() for t in ts]
        _example_cache[key] = encode_sentences(texts)
    return _example_cache[key]


def sentence_similarities(tax: Taxonomy, texts: list[str]) -> np.ndarray:
    """Return, per text and narrative, the cosine similarity to the narrative's closest example in the static
    embedding space (texts x narratives); cheap enough for whole corpora (`discover_narratives`)."""
    from .embeddings import embed_sentences

    if not texts:
        return np.zeros((0, len(tax.narratives)), dtype=np.float32)
    vecs = embed_sentences(texts)
    cols = []
    for n in tax.narratives:
        key = (tax.fingerprint, "static:" + n.id)
        if key not in _example_cache:
            examples = [t for ts in n.examples.values() for t in ts] + [f"{n.name}. {n.description}"]
            _example_cache[key] = embed_sentences(examples)
        cols.append((vecs @ _example_cache[key].T).max(axis=1))
    return np.stack(cols, axis=1)


def _cue_screen(tax: Taxonomy, language: str | None) -> re.Pattern | None:
    """Return `any_of` every narrative's cues read in a sentence of `language` (once per taxonomy and language)."""
    return screen_of(tax, language, lambda: (p for n in tax.narratives for lang in _languages(n, language)
                                             for p in n.cues.get(lang, ())))


def _sentence_hits(text: str, index: int, sentences: list[tuple[int, int]], segments: list[Segment], actors_by_sentence: list[set[str]],
                   tax: Taxonomy, language: str | None, cues: VoiceCues) -> list[_SentenceHit]:
    s, e = sentences[index]
    sentence = text[s:e]
    screen = _cue_screen(tax, language)
    if screen is not None and not screen.search(sentence):
        return []  # no narrative's cue in the sentence (most sentences): one scan instead of one per cue
    prev = sentences[index - 1] if index > 0 else None
    context = sentence + " " + (text[prev[0] : prev[1]] if prev else "")
    near = actors_by_sentence[index] | (actors_by_sentence[index - 1] if index > 0 else set())
    debunk = cues.get("debunk", language)
    found = [(n, [m for lang in _languages(n, language) for p in n.cues.get(lang, ()) for m in p.finditer(sentence)])
             for n in tax.narratives]
    # A debunking word inside any narrative's cue ("disinformation campaigns") names the topic, it does not deny a claim.
    topic = [(m.start(), m.end()) for _, matches in found for m in matches]
    hits = []
    for n, matches in found:
        if not matches or not _about(n, near, context):
            continue
        debunked = bool(debunk) and any(
            not any(a <= d.start() and d.end() <= b for a, b in topic) for d in debunk.finditer(sentence))
        endorsed: set[str] = set()
        reported: set[str] = set()
        weight = 0.0
        negated = False
        for m in matches:
            seg = segment_at(segments, s + m.start())
            if seg is None:
                continue
            cue = m.group(0).lower()
            if seg.voice == AUTHOR and not debunked:
                if is_negated(text, seg, s + m.start(), language, cues):
                    negated = True
                    continue
                endorsed.add(cue)
                weight = max(weight, seg.weight)
            else:
                reported.add(cue)
        if endorsed:
            score = (CUE_SCORE + EXTRA_CUE * (len(endorsed) - 1)) * weight
            hits.append(_SentenceHit(n.id, ENDORSED, min(1.0, score), (s, e)))
        if reported:
            score = CUE_SCORE + EXTRA_CUE * (len(reported) - 1)
            hits.append(_SentenceHit(n.id, REPORTED, min(1.0, score), (s, e)))
        if negated and not endorsed:
            hits.append(_SentenceHit(n.id, NEGATED, 0.0, (s, e)))
    return hits


@dataclass(slots=True)
class DocumentFeatures:
    """What the narrative heads see of one document: one feature row per narrative, and the evidence candidates."""

    narratives: tuple[str, ...]
    presence: np.ndarray          # narratives x len(PRESENCE_FEATURES)
    mode: np.ndarray              # narratives x len(MODE_FEATURES)
    evidence: list[list[tuple[int, int]]]
    doc_vector: np.ndarray
    relay: bool = False           # the document relays a speaker without distance (`voice.RelayRule`)
    debunked: np.ndarray | None = None  # per narrative: some of its cues sit in a sentence that debunks
    profile: VoiceProfile | None = None  # how the document uses other voices (`voice.voice_profile`)
    against: np.ndarray | None = None  # per narrative: the author's own stance turns against its side (`_against_side`)


def _actors_by_sentence(sentences: list[tuple[int, int]], mentions: list[Mention]) -> list[set[str]]:
    linked = sorted((m.start, m.actor) for m in mentions if m.actor)
    out: list[set[str]] = []
    j = 0
    for s, e in sentences:
        found = set()
        while j < len(linked) and linked[j][0] < s:
            j += 1
        k = j
        while k < len(linked) and linked[k][0] < e:
            found.add(linked[k][1])
            k += 1
        out.append(found)
    return out


def _against_side(tax: Taxonomy, stances: Iterable[Stance]) -> np.ndarray:
    """Return per narrative whether the author's own stance (`holder` empty) turns against its side: hostile (score at
    or under -STANCE_LEAN) to an actor the side favours or favourable (at or over STANCE_LEAN) to one it opposes, and the
    other way to none of them."""
    own = {s.actor: s.score for s in stances if not s.holder}
    verdict = {}
    for label, side in tax.sides.items():
        favoured = [own[a] for a in side.favours if a in own] + [-own[a] for a in side.opposes if a in own]
        verdict[label] = any(x <= -STANCE_LEAN for x in favoured) and not any(x >= STANCE_LEAN for x in favoured)
    return np.array([verdict.get(n.side, False) for n in tax.narratives], bool)


def narrative_features(text: str, sentences: list[tuple[int, int]], mentions: list[Mention], language: str | None,
                       taxonomy: Taxonomy | str | Path | None = None, stances: Iterable[Stance] = ()) -> DocumentFeatures:
    """Return the presence and mode features of every narrative of the taxonomy for one document (`stances`: the
    document's stances, whose author's readings say whether it turns against a narrative's side)."""
    tax = _taxonomy(taxonomy)
    cues = load_voice_cues()
    lang = language if language in ANALYSED_LANGUAGES else None
    quotes = quoted_spans(text)
    every = [sentence_segments(text, s, e, lang, quotes, cues) for s, e in sentences]
    speakers = segment_speakers(text, sentences, every, mentions, lang, quotes, cues)
    profile = voice_profile(text, sentences, every, lang, quotes, speakers, cues)
    relay = _relays(profile)
    keep = [i for i, (s, e) in enumerate(sentences) if len(text[s:e].split()) >= MIN_WORDS] or list(range(len(sentences)))
    sentences, segments = [sentences[i] for i in keep], [every[i] for i in keep]
    actors = _actors_by_sentence(sentences, mentions)
    author = np.array([sum(g.end - g.start for g in segs if g.voice == AUTHOR and not g.debunked) / max(1, e - s)
                       for segs, (s, e) in zip(segments, sentences)], dtype=np.float32)
    per: dict[tuple[str, str], list[_SentenceHit]] = {}
    for index in range(len(sentences)):
        for hit in _sentence_hits(text, index, sentences, segments[index], actors, tax, lang, cues):
            per.setdefault((hit.narrative, hit.mode), []).append(hit)
    vecs = encode_sentences([text[s:e] for s, e in sentences]) if sentences else np.zeros((0, DIM), np.float32)
    doc_vec = vecs.mean(axis=0) if len(vecs) else np.zeros(DIM, np.float32)
    doc_vec = doc_vec / (np.linalg.norm(doc_vec) or 1.0)
    names = tuple(n.id for n in tax.narratives)
    k = len(names)
    sims = np.zeros((len(sentences), k), np.float32)
    doc_sims = np.zeros(k, np.float32)
    about = np.zeros(k, np.float32)
    for j, n in enumerate(tax.narratives):
        protos = _prototypes(tax, n)
        if len(vecs):
            sims[:, j] = (vecs @ protos.T).max(axis=1)
            # A sentence whose cue the author negates says the opposite of the narrative, however close its words.
            denied = [sentences.index(h.span) for h in per.get((n.id, NEGATED), [])]
            if denied:
                sims[denied, j] = 0.0
                kept = np.delete(vecs, denied, axis=0)
                v = kept.mean(axis=0) if len(kept) else np.zeros(DIM, np.float32)
                doc_sims[j] = float((protos @ (v / (np.linalg.norm(v) or 1.0))).max())
                continue
        doc_sims[j] = float((protos @ doc_vec).max()) if len(protos) else 0.0
        if n.about_actors or n.about_words is not None:
            about[j] = np.mean([_about(n, actors[i], text[s:e]) for i, (s, e) in enumerate(sentences)]) if sentences else 0.0
        else:
            about[j] = 1.0
    presence = np.zeros((k, len(PRESENCE_FEATURES)), np.float32)
    mode = np.zeros((k, len(MODE_FEATURES)), np.float32)
    debunked = np.zeros(k, bool)
    evidence: list[list[tuple[int, int]]] = []
    sim_max = sims.max(axis=0) if len(sentences) else np.zeros(k, np.float32)
    top = min(TOP_SENTENCES, len(sentences))
    sim_top = np.sort(sims, axis=0)[-top:].mean(axis=0) if top else np.zeros(k, np.float32)
    for j, n in enumerate(tax.narratives):
        e_hits, r_hits = per.get((n.id, ENDORSED), []), per.get((n.id, REPORTED), [])
        e_sum, r_sum = sum(h.score for h in e_hits), sum(h.score for h in r_hits)
        debunked[j] = any(segments[sentences.index(h.span)][0].debunked for h in r_hits if segments[sentences.index(h.span)])
        order = np.argsort(-sims[:, j])[:top] if top else np.zeros(0, int)
        share = float(author[order].mean()) if len(order) else 0.0
        presence[j] = (min(e_sum, 3.0), min(r_sum, 3.0), sim_max[j], sim_top[j], sim_top[j] - float(np.median(sim_top)),
                       doc_sims[j] - float(np.median(doc_sims)), about[j], 1.0)
        mode[j] = (min(e_sum, 3.0), min(r_sum, 3.0), share, 0.0, 1.0)
        spans = [h.span for h in sorted(e_hits + r_hits, key=lambda h: (-h.score, h.span))]
        spans += [sentences[i] for i in order]
        evidence.append(list(dict.fromkeys(spans))[:MAX_EVIDENCE])
    # Whether a narrative sides with the document's leading side: critical outlets report the narratives of the other side.
    # The leading side is the one whose cues the document voices most (its own words count double).
    sides = [n.side for n in tax.narratives]
    if any(sides):
        weight: Counter = Counter()
        for j, side in enumerate(sides):
            if side:
                weight[side] += presence[j, 0] + 0.5 * presence[j, 1]
        lead = max(sorted(weight), key=lambda side: weight[side]) if weight and max(weight.values()) > 0 else None
        for j, side in enumerate(sides):
            mode[j, 3] = 0.0 if not side or not lead else (1.0 if side == lead else -1.0)
    return DocumentFeatures(names, presence, mode, evidence, doc_vec, relay, debunked, profile, _against_side(tax, stances))


def _relays(profile: VoiceProfile) -> bool:
    """Return whether the document relays a speaker it names as an actor without distance (`voice.RelayRule`; False
    when the packaged thresholds cannot be read)."""
    try:
        rule = load_relay_rule()
    except ModelError:
        return False
    # The narratives a relayed speaker advances are the document's when the text names that speaker as an actor.
    return rule.holds(profile) and bool(profile.speakers) and profile.speakers[0][0] != ""


@lru_cache(maxsize=1)
def load_heads() -> dict:
    """Return the packaged presence and mode heads (logistic weights over the narrative features, and thresholds)."""
    path = resources.files("influence_atlas").joinpath(HEADS_FILE)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        for part in ("presence", "mode"):
            data[part]["weights"] = np.asarray(data[part]["weights"], np.float32)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"narrative heads in {path} cannot be read ({exc}); reinstall influence-atlas or rebuild them "
                         "with training/narratives/train_heads.py") from exc
    if tuple(data["presence"]["features"]) != PRESENCE_FEATURES or tuple(data["mode"]["features"]) != MODE_FEATURES:
        raise ModelError(f"narrative heads in {path} were trained on other features; rebuild them with training/narratives/train_heads.py")
    return data


def narratives_fingerprint(taxonomy: Taxonomy | str | Path | None = None) -> str:
    """Return a short hash of the taxonomy in use (file and labelled documents) and the packaged heads: a change in
    either is a new analysis version."""
    digest = hashlib.sha256(_taxonomy(taxonomy).fingerprint.encode())
    digest.update(resources.files("influence_atlas").joinpath(HEADS_FILE).read_bytes())
    return digest.hexdigest()[:12]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def score_features(features: DocumentFeatures, heads: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return, per narrative, the probability that the document carries it and whether it endorses it (1) or reports it (0).

    A narrative on the document's leading side is endorsed and one on the other side reported (cross-validated on
    the development set, this beats the mode head); narratives without a side, or documents without a leading side,
    are left to the mode head. A narrative whose cues all sit in quoted, attributed or debunked words, with at least
    the mode head's `reported_cues_min` weight of them, is reported whatever its side: a critical news story relays
    the accusations it attributes to others ("has been accused of ...") without making them its own. Last, a
    narrative whose side the author's own stance turns against (the taxonomy's `sides`) is reported, whatever decided
    before: a story hostile to the actors a side favours tells that side's narratives without advancing them.
    """
    heads = heads or load_heads()
    present = _sigmoid(features.presence @ heads["presence"]["weights"])
    endorsed = _sigmoid(features.mode @ heads["mode"]["weights"])
    side = features.mode[:, MODE_FEATURES.index("same_side")]
    endorsed = np.where(side > 0, 1.0, np.where(side < 0, 0.0, endorsed))
    floor = heads["mode"].get("reported_cues_min")
    if floor is not None:
        own = features.mode[:, MODE_FEATURES.index("cue_endorsed")]
        others = features.mode[:, MODE_FEATURES.index("cue_reported")]
        endorsed = np.where((own <= 0) & (others >= floor), 0.0, endorsed)
    if features.relay:
        # A document that relays a speaker without distance advances what the speaker advances (product decision);
        # a narrative whose cues sit in a debunking sentence stays reported.
        kept = features.debunked if features.debunked is not None else np.zeros(len(endorsed), bool)
        endorsed = np.where(kept, endorsed, 1.0)
    if features.against is not None:
        # An author whose own stance turns against a narrative's side does not advance that side's narratives.
        endorsed = np.where(features.against, 0.0, endorsed)
    return present, endorsed


def find_narratives(doc_id: str, text: str, sentences: list[tuple[int, int]], mentions: list[Mention], language: str | None,
                    taxonomy: Taxonomy | str | Path | None = None, stances: Iterable[Stance] = ()) -> list[NarrativeHit]:
    """Return the narratives the document endorses or reports, each with a score in [0, 1] and its evidence sentences.

    A narrative is present when the presence head (or, for a taxonomy with labelled documents, the classifier fitted on
    them) says so; a sub-narrative only under a present parent. The mode head decides endorsed or reported.
    """
    tax = _taxonomy(taxonomy)
    if not sentences or not text.strip():
        return []
    feats = narrative_features(text, sentences, mentions, language, tax, stances)
    heads = load_heads()
    present, endorsed = score_features(feats, heads)
    threshold = heads["presence"]["threshold"]
    learned = labelled_scores(tax, feats.doc_vector)
    chosen = {}
    for j, n in enumerate(tax.narratives):
        if n.id in learned:
            p, t = learned[n.id], LABELLED_MIN
        else:
            p, t = float(present[j]), threshold
        if p >= t:
            chosen[n.id] = (j, p)
    out: list[NarrativeHit] = []
    for n in tax.narratives:
        if n.id not in chosen or (n.parent is not None and n.parent not in chosen):
            continue
        j, p = chosen[n.id]
        top = j if n.parent is None else chosen[n.parent][0]
        mode = ENDORSED if endorsed[top] >= 0.5 else REPORTED
        spans = tuple(sorted(feats.evidence[j]))
        if spans:
            out.append(NarrativeHit(doc=doc_id, narrative=n.id, mode=mode, score=round(p, 3), evidence=spans, extractor=EXTRACTOR))
    return out


_labelled_cache: dict[str, dict[str, tuple[np.ndarray, float]]] = {}


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 25) -> np.ndarray:
    """Return the weights (last one the bias) of a class-balanced L2 logistic regression, fitted by Newton steps."""
    xb = np.hstack([x, np.ones((len(x), 1), x.dtype)]).astype(np.float64)
    pos = max(1, int(y.sum()))
    neg = max(1, len(y) - pos)
    sample = np.where(y > 0, len(y) / (2 * pos), len(y) / (2 * neg))
    w = np.zeros(xb.shape[1])
    reg = np.full(xb.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (sample * (p - y)) + reg * w
        hess = (xb * (sample * p * (1 - p))[:, None]).T @ xb + np.diag(reg + 1e-6)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w


def document_vector(text: str) -> np.ndarray:
    """Return a document's meaning vector: the normalised mean of its sentences' shared-encoder vectors."""
    spans = [(s, e) for s, e in rough_sentences(text) if len(text[s:e].split()) >= MIN_WORDS] or rough_sentences(text)
    if not spans:
        return np.zeros(DIM, np.float32)
    v = encode_sentences([text[s:e] for s, e in spans]).mean(axis=0)
    return v / (np.linalg.norm(v) or 1.0)


def _labelled_models(tax: Taxonomy) -> dict[str, np.ndarray]:
    if tax.labelled is None:
        return {}
    if tax.fingerprint not in _labelled_cache:
        names = sorted(tax.labelled.labels)
        x = np.stack([document_vector((tax.labelled.documents / name).read_text(encoding="utf-8", errors="replace"))
                      for name in names])
        models = {}
        for n in tax.narratives:
            y = np.array([n.id in tax.labelled.labels[name] for name in names], dtype=np.float64)
            if y.sum() >= LABELLED_MIN_DOCS and y.sum() < len(y):
                models[n.id] = _fit_logistic(x, y, LABELLED_L2)
        _labelled_cache[tax.fingerprint] = models
    return _labelled_cache[tax.fingerprint]


def labelled_scores(tax: Taxonomy, doc_vector: np.ndarray) -> dict[str, float]:
    """Return, per narrative with enough labelled documents, the fitted classifier's probability for this document."""
    models = _labelled_models(tax)
    x = np.append(doc_vector, 1.0)
    return {nid: float(1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))) for nid, w in models.items()}


def classify_articles(folder: str | Path, taxonomy: Taxonomy | str | Path | None = None) -> list[tuple[str, list[str], list[str]]]:
    """Return, per text file of the folder (sorted by name), its narratives and sub-narratives (ids) in SemEval-2025
    Task 10 subtask-2 terms: the sentences are cut by punctuation and no actors are linked, so `about` conditions and
    voice cues weigh less than in `atlas analyze`."""
    tax = _taxonomy(taxonomy)
    root = Path(folder)
    if not root.is_dir():
        raise InputError(str(root), "not a folder of articles")
    files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in (".txt", ".md", ""))
    if not files:
        raise InputError(str(root), "no .txt articles in this folder")
    out = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(str(path), f"cannot read the article as UTF-8 text ({exc})") from None
        hits = find_narratives(path.name, text, rough_sentences(text), [], None, tax)
        ids = {h.narrative for h in hits}
        parents = [n.id for n in tax.narratives if n.parent is None and n.id in ids]
        children = [n.id for n in tax.narratives if n.parent is not None and n.id in ids]
        # A present narrative with sub-narratives but none above threshold gets its likeliest one.
        if any(tax.children(p) for p in parents):
            feats_needed = [p for p in parents if tax.children(p) and not any(c.id in ids for c in tax.children(p))]
            if feats_needed:
                learned = labelled_scores(tax, document_vector(text))
                for p in feats_needed:
                    kids = [c.id for c in tax.children(p)]
                    children.append(max(kids, key=lambda c: (learned.get(c, 0.0), c)))
        out.append((path.name, parents, sorted(children, key=[n.id for n in tax.narratives].index)))
    return out


def write_subtask2(rows: list[tuple[str, list[str], list[str]]], out: str | Path) -> Path:
    """Write SemEval-2025 Task 10 subtask-2 lines (article<TAB>narratives<TAB>sub-narratives, `;`-separated, Other when none)."""
    path = Path(out)
    lines = [f"{a}\t{';'.join(n) or 'Other'}\t{';'.join(s) or 'Other'}" for a, n, s in rows]
    try:
        path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), f"cannot write the predictions ({exc.strerror})") from None
    return path


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
