"""Claims of different documents that assert the same fact (corroborates) or cannot both be true (contradicts).

Claims are compared by what they assert, not by a topic label: two documents are candidates when
they share a main actor and are near each other in meaning (blocking: a bounded number of
neighbours per document); their claims are then compared pair by pair by a learned model
(`models/links/links.json`, trained by `training/links/train.py` on gold sentences, cross-validated
by story) over relation features: meaning similarity, shared actors, places and figures, figures
of one thing that differ (300 vs 500 dead), a denial on one side only, sources that lean opposite
ways. A second learned step decides, per document pair, whether a link of each kind is there at
all, and gives the link its calibrated confidence; only links at or above the cut-off are kept.
An item pair becomes a link only with an anchor (`features.shared_anchor`, `event_anchor`): a figure,
town, month or rare name the two sentences share, or a meaning so near (`SAME_ASSERTION`) that the two read
as one assertion, so that a shared topic or country never makes one proposition. Two sources that take
opposite sides on several actors (`opposed_sides`, from the stance stage) contradict as wholes: one link
shows what each asserts about the most disputed actor. Two documents that corroborate each other tell one story
(`one_story`); in a one-story pair the claims holding two tellings of one happening corroborate, a contradiction
needs less document-level confidence (`contradicts_story`), and two claims that count one kind of thing with figures
that cannot both hold contradict (`contradicts_figures`). Each link names its reason (which figure, which proposition, which anchor) in `detail`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Iterator

import numpy as np

from ..extract.dates import dates_compatible
from ..extract.encoder import encode_sentences
from ..extract.multilingual import encode_multilingual
from ..extract.places import country_code, geocode
from ..ontology.events import different_kinds
from ..records import Claim, Document, Event, Link, Mention, Stance
from .events import dates_near, link_id
from .links import STORY_SENTENCES, centred, multilingual_documents, sentences
from .features import (DOC_FEATURES, LINK_KINDS, NAME_ANCHOR_SIMILARITY, EventTable, Statement, StatementTable,
                       conflicting_figures, corpus_context, describe, doc_pair_features, document_figures,
                       document_names, figures_in_conflict, load_link_models, rare_names_of, shared_anchor,
                       specific_place, stance_disagreement, stance_opposition)
from .links import (CentredRows, candidate_documents, corpus_means, document_sentences,
                    event_view, lead_claims, story_similarities, story_vectors, strongest_partners)

# Per document pair and kind, the strongest few claim pairs: an analyst reads these, they are not a dump.
MAX_LINKS = 2
# Per claim and kind, the strongest few links across the corpus (`capped_per_claim`): a story retold by hundreds of
# sources links each claim to its closest tellings, not to every one.
CLAIM_LINKS = 3
# How the reason of an `opposed_sides` contradiction opens: `one_proposition` tells those links by it.
OPPOSED_SIDES = "contradicts: the two sources take opposite sides"
# Encoder cosine from which two sentences of different sources are read as one assertion (an anchor by itself): the
# middle of 0.6-0.65, which give the same links on the cross-source and development sets with the int8 pass and in
# float32 (0.7 none of the new ones; see training/links/README.md and bench/README.md).
SAME_ASSERTION = 0.625
# Documents that take opposite sides (stance) on at least this many actors, with at least this summed strength
# (each actor counts the weaker side's score, 0.5 to 2), contradict each other as wholes.
OPPOSED_ACTORS = 2
OPPOSED_STRENGTH = 2.5
# ... and the claim-pair model must read the two claims it shows as contradicting with at least this probability
# (two claims about one actor that assert unrelated things are no contradiction, however opposed their sources).
OPPOSED_PROPOSITION = 0.25
# In two documents that tell one story (same_event confidence at or above its cut-off), tellings of one type whose places
# do not differ are one happening when the learned event-pair model gives them at least this probability, or when both
# are dated within events.DATE_WINDOW_DAYS of each other.
SURE_TELLING = 0.5
# Blocking: a document is filed under its most named actors.
MAIN_ACTORS = 4


@dataclass
class PairFindings:
    """What the pair models found between two documents: per kind, the document-level confidence and the item pairs."""

    confidence: dict[str, float]
    # Only pairs with an anchor (shared_anchor / conflicting_figures) are kept as linkable items.
    claim_pairs: list[tuple[float, float, Statement, Statement, np.ndarray, str]]  # (p corroborates, p contradicts, a, b, row, anchor)
    event_pairs: list[tuple[float, str, str]]  # (p same, event id, event id)
    event_anchors: dict[tuple[str, str], str] = None  # (event id, event id) -> what the two tellings share
    opposed: tuple[float, str, Statement, Statement] | None = None  # opposed_sides: strength, actor, claim, claim
    row: np.ndarray | None = None  # the document pair's DOC_FEATURES row (kept for training/links diagnostics)


def _main_actors(statements: list[Statement], top: int = MAIN_ACTORS) -> set[str]:
    counts: dict[str, int] = defaultdict(int)
    for s in statements:
        for a in s.actors:
            counts[a] += 1
    return {name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]}


def compare_documents(documents: list[Document], claims: list[Claim], events: list[Event] = (),
                      stances: list[Stance] = (), focus: set[str] | None = None,
                      candidates: dict[tuple[str, str], tuple] | None = None,
                      rare: frozenset[str] | None = None, means: dict | None = None,
                      encoders: tuple | None = None) -> dict[tuple[str, str], PairFindings]:
    """Return, for each candidate pair of documents (involving `focus` when given), what the pair models found.

    `candidates` (document pair -> its `corpus_context`), `rare` (the corpus's rare names) and `means` (the corpus's
    per-language means that centre multilingual claim and event rows, "claims" and "events" -> `LanguageMeans.means()`
    of the documents' lead rows) come from
    a caller that blocks a corpus too large to hold (reconcile.blocks); without them all are computed over `documents`.
    `encoders` (MiniLM, multilingual) replace `encode_sentences` and `encode_multilingual` (with the rows the caller
    encoded already: `links.known_vectors`).

    The parts: the records as the pair models read them (`_Records`), the candidate pairs with their corpus context
    (`_pairs_in_context`), then, a batch of pairs at a time (`_batches`), the claim- and sentence-pair feature rows of
    every pair at once (`_ItemRows`), the pair models' probabilities (`_Scores`) and, pair by pair, the anchored items
    (`_pair_findings`).
    """
    rec = _Records(documents, claims, events, stances, encoders or (encode_sentences, encode_multilingual), means,
                   leads=candidates is None or not means)
    pairs, context, rare = _pairs_in_context(rec, candidates, focus, rare)
    models = load_link_models()
    found = {}
    for batch in _batches(rec, pairs):
        items = _ItemRows(rec, batch)
        scores = _Scores(rec, items, context, models)
        found.update({(a, b): _pair_findings(rec, items, scores, k, rare, models) for k, (a, b) in enumerate(batch)})
    return found


# Item-pair rows (claim pairs and opening-sentence pairs) scored at a time: two long documents (40 opening sentences
# each) make 1,600 rows, a unit of work thousands of such pairs; batches of pairs keep the rows and their temporaries
# to a few MB (a second pass over 1,000 synthetic documents peaks as main's did: 133 MB against 126; 250,000 rows: 174).
PAIR_ROWS = 20_000


def _batches(rec: _Records, pairs: list[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    """Yield the pairs, in order, in batches of at most about PAIR_ROWS item-pair rows (a pair's values do not depend
    on its batch)."""
    batch, rows = [], 0
    for a, b in pairs:
        n = len(rec.told[a][1]) * len(rec.told[b][1]) + len(rec.by_doc.get(a, ())) * len(rec.by_doc.get(b, ()))
        if batch and rows + n > PAIR_ROWS:
            yield batch
            batch, rows = [], 0
        batch.append((a, b))
        rows += n
    if batch:
        yield batch


class _Records:
    """The documents' statements, events, stances and encoder rows, as the pair models read them."""

    def __init__(self, documents: list[Document], claims: list[Claim], events: list[Event], stances: list[Stance],
                 encoders: tuple, means: dict | None, leads: bool = True):
        encode, encode_x = encoders
        self.texts = {d.id: d.text for d in documents}
        self.language = language = {d.id: d.language for d in documents}
        self.by_doc: dict[str, list[Statement]] = defaultdict(list)
        for c in claims:
            if c.doc in self.texts:
                self.by_doc[c.doc].append(describe(c.id, c.doc, c.text, language.get(c.doc)))
        self.ev_by_doc: dict[str, list[Event]] = defaultdict(list)
        for e in events:
            if e.doc in self.texts and not e.generic:
                self.ev_by_doc[e.doc].append(e)
        self.stance: dict[str, dict[str, float]] = defaultdict(dict)
        self.shows: dict[str, set[str]] = defaultdict(set)  # actor -> claims inside a sentence that shows a lean toward it
        spans: dict[str, list[Claim]] = defaultdict(list)
        for c in claims:
            spans[c.doc].append(c)
        for s in stances:
            if s.holder:  # a quoted speaker's lean is not the source's
                continue
            self.stance[s.doc][s.actor] = s.score
            for start, end in s.evidence:
                self.shows[s.actor].update(c.id for c in spans.get(s.doc, ()) if c.start < end and start < c.end)
        self.docs = docs = sorted(d for d in self.texts if self.by_doc.get(d) or self.ev_by_doc.get(d))
        self.told = document_sentences({d: self.texts[d] for d in docs}, language, encode)
        self.vectors = {d: v[0] for d, v in self.told.items()}
        all_claims = [s for d in docs for s in self.by_doc.get(d, [])]
        self.claim_vec = dict(zip([s.id for s in all_claims], encode([s.text for s in all_claims])))
        all_events = [e for d in docs for e in self.ev_by_doc.get(d, [])]
        self.event_by_id = {e.id: e for e in all_events}
        self.event_vec = dict(zip([e.id for e in all_events], encode([e.evidence for e in all_events])))
        self.views = {e.id: event_view(e.type, e.date, {x.name for x in e.actors}, e.location, e.fatalities, e.evidence)
                      for e in all_events}
        # Claims and event sentences in multilingual meaning, each language centred on its lead rows' mean, so an
        # English and a French telling can meet; encoded only where a decision reads them (links.CentredRows). The
        # lead rows (`leads`: `encode_leads`, once the pairs are known) are needed unless a blocking caller gives the
        # means and the pairs' context. Two English documents compare on MiniLM rows (links.multilingual_documents).
        self.encode, self.encode_x, self.lead_rows, self.english_rows = encode, encode_x, {}, {}
        self.xrow = None
        if not leads:
            english = (encode, means["minilm"], means["multilingual"]) if "minilm" in means else None
            self.xrow = CentredRows(encode_x, language, means["claims"], english=english)
        self.ev_statement = {e.id: describe(e.id, e.doc, e.evidence, language.get(e.doc)) for e in all_events}
        self.overlapping = {e.id: {c.id for c in spans.get(e.doc, ()) if c.start < e.end and e.start < c.end}
                            for e in all_events}
        # Every claim and opening sentence in one table, every event in another (a document's items are consecutive).
        statements, self.claim_at, self.sentence_at = [], {}, {}
        for d in docs:
            self.claim_at[d] = len(statements)
            statements += self.by_doc.get(d, [])
            self.sentence_at[d] = len(statements)
            statements += self.told[d][1]
        self.statements = StatementTable(statements)
        self.events = all_events
        self.event_at, at = {}, 0
        for d in docs:
            self.event_at[d] = at
            at += len(self.ev_by_doc.get(d, []))
        self.event_table = EventTable([self.views[e.id] for e in all_events])

    def encode_leads(self, pairs: list[tuple[str, str]]) -> None:
        """Encode the lead rows the `pairs` compare on: MiniLM's of every document, multilingual ones of the documents
        that need them (`multilingual_documents`), and centre claims and events on their means (`xrow`)."""
        docs, language = self.docs, self.language
        self.english_rows = {d: self.encode(sentences(self.texts[d], STORY_SENTENCES)) for d in docs}
        needed = multilingual_documents({d: language.get(d) for d in docs}, pairs)
        self.lead_rows = story_vectors({d: self.texts[d] for d in docs if d in needed}, self.encode_x)
        self.xrow = CentredRows(self.encode_x, language, corpus_means(self.lead_rows, language),
                                english=(self.encode, corpus_means(self.english_rows, language), set(self.lead_rows)))

    def opposed(self, a: str, b: str) -> float:
        """Return how far documents a and b lean opposite ways on an actor (`stance_opposition`)."""
        return stance_opposition(self.stance.get(a, {}), self.stance.get(b, {}))


def _pairs_in_context(rec: _Records, candidates: dict | None, focus: set[str] | None,
                      rare: frozenset[str] | None) -> tuple[list[tuple[str, str]], dict, frozenset[str] | None]:
    """Return the document pairs to compare (sorted), their corpus context and the rare names: the caller's when it
    blocked a larger corpus (`candidates`, `rare`), else found and computed over these documents."""
    if candidates is not None:
        if rec.xrow is None:
            rec.encode_leads(sorted(candidates))
        return sorted(candidates), candidates, rare
    docs, texts, told = rec.docs, rec.texts, rec.told
    keys = {d: _main_actors(told[d][1]) for d in docs}
    found = candidate_documents(rec.vectors, keys, focus=focus)
    pairs = sorted(strongest_partners({p: float(rec.vectors[p[0]] @ rec.vectors[p[1]]) for p in found}))
    names = {d: document_names(texts[d]) for d in docs}
    rec.encode_leads(pairs)
    english = (rec.english_rows, centred(rec.english_rows, rec.language))
    story = story_similarities(rec.lead_rows, rec.language, pairs, english=english)
    told_claims = {d: lead_claims(texts[d], [s.text for s in rec.by_doc.get(d, [])]) for d in docs}
    assertion = {(a, b): rec.xrow.assertion(a, told_claims[a], b, told_claims[b]) for a, b in pairs}
    doc_cos = {p: float(rec.vectors[p[0]] @ rec.vectors[p[1]]) for p in pairs}
    context = corpus_context(pairs, doc_cos, names, {d: document_figures(told[d][1]) for d in docs}, rec.language,
                             story, assertion)
    return pairs, context, rare_names_of(names)


class _ItemRows:
    """The CLAIM_FEATURES rows of every claim pair and every opening-sentence pair of the document pairs, computed for
    all pairs at once (`features.StatementTable`), with each pair's slice: `claims(k)`, `sentences(k)`.

    The encoder cosines are taken as before, pair by pair (a claim pair's two rows, the two documents' sentence
    matrices), because BLAS gives other last bits for other matrix shapes and the rows must not change."""

    def __init__(self, rec: _Records, pairs: list[tuple[str, str]]):
        self.pairs = pairs
        self.doc_cos = np.array([float(rec.vectors[a] @ rec.vectors[b]) for a, b in pairs], np.float64)
        self.opposed = np.array([rec.opposed(a, b) for a, b in pairs], np.float64)
        table, claim_at, sentence_at = rec.statements, rec.claim_at, rec.sentence_at
        self.claim_sides = [(x, y) for a, b in pairs for x in rec.by_doc.get(a, []) for y in rec.by_doc.get(b, [])]
        cos = [float(rec.claim_vec[x.id] @ rec.claim_vec[y.id]) for x, y in self.claim_sides]
        left, right, self.claim_off, pair = _cross_rows(pairs, claim_at, {d: len(rec.by_doc.get(d, [])) for d in rec.docs})
        self.claim_rows = table.pair_rows(left, right, np.array(cos, np.float64), self.doc_cos[pair], self.opposed[pair])
        self.claim_may_anchor = table.may_anchor(left, right)
        told = rec.told
        cos = [(told[a][2] @ told[b][2].T).ravel() for a, b in pairs if told[a][1] and told[b][1]]
        left, right, self.sentence_off, pair = _cross_rows(pairs, sentence_at, {d: len(told[d][1]) for d in rec.docs})
        self.sentence_rows = table.pair_rows(left, right, np.concatenate(cos) if cos else np.zeros(0, np.float32),
                                             self.doc_cos[pair], self.opposed[pair])

    def claims(self, k: int) -> tuple[np.ndarray, list[tuple[Statement, Statement]], list[bool]]:
        """Return the k-th pair's claim pairs: feature rows, (claim, claim), whether a specific anchor is possible."""
        lo, hi = int(self.claim_off[k]), int(self.claim_off[k + 1])
        return self.claim_rows[lo:hi], self.claim_sides[lo:hi], self.claim_may_anchor[lo:hi].tolist()

    def sentences(self, k: int) -> np.ndarray:
        return self.sentence_rows[int(self.sentence_off[k]):int(self.sentence_off[k + 1])]


def _cross_rows(pairs: list[tuple[str, str]], at: dict[str, int],
                count: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (left, right, offsets, pair) for every item of a by every item of b (a's items outer), pair after pair:
    a document's items are rows at[d] .. at[d] + count[d] of a table; pair k's rows are offsets[k]:offsets[k + 1]."""
    start_a = np.array([at[a] for a, _ in pairs], np.int64)
    start_b = np.array([at[b] for _, b in pairs], np.int64)
    n_a = np.array([count[a] for a, _ in pairs], np.int64)
    n_b = np.array([count[b] for _, b in pairs], np.int64)
    per = n_a * n_b
    off = np.concatenate([[0], np.cumsum(per)]).astype(np.int64)
    pair = np.repeat(np.arange(len(pairs)), per)
    t = np.arange(int(off[-1])) - off[pair]
    return start_a[pair] + t // n_b[pair], start_b[pair] + t % n_b[pair], off, pair


class _Scores:
    """The pair models' probabilities for every document pair at once: claim pairs, opening-sentence pairs and event
    pairs (each pair's slice by `_ItemRows`' offsets and `event_off`), then each document pair's DOC_FEATURES row and
    confidence of each kind (`confidence(k)`)."""

    def __init__(self, rec: _Records, items: _ItemRows, context: dict, models):
        self.claims = models.claim_probabilities_of(items.claim_rows, items.claim_off)
        sentences = models.claim_probabilities_of(items.sentence_rows, items.sentence_off)
        events = rec.events
        left, right, self.event_off, pair = _cross_rows(items.pairs, rec.event_at,
                                                        {d: len(rec.ev_by_doc.get(d, [])) for d in rec.docs})
        self.event_ids = [(events[i].id, events[j].id) for i, j in zip(left.tolist(), right.tolist())]
        self.event_cos = [float(rec.event_vec[x] @ rec.event_vec[y]) for x, y in self.event_ids]
        erows = rec.event_table.pair_rows(left, right, np.array(self.event_cos, np.float64), items.doc_cos[pair])
        self.events = models.event_probabilities_of(erows, self.event_off) if len(erows) else np.zeros(0, np.float32)
        so = items.sentence_off
        self.rows = np.stack([doc_pair_features(
            float(items.doc_cos[k]), rec.language.get(a) == rec.language.get(b), float(items.opposed[k]),
            sentences[so[k]:so[k + 1], 1].tolist(), sentences[so[k]:so[k + 1], 2].tolist(),
            self.events[self.event_off[k]:self.event_off[k + 1]].tolist(), context[(a, b)])
            for k, (a, b) in enumerate(items.pairs)]) if items.pairs else np.zeros((0, len(DOC_FEATURES)), np.float32)
        self.documents = {kind: models.document_probabilities_of(kind, self.rows) for kind in LINK_KINDS}

    def confidence(self, k: int) -> dict[str, float]:
        return one_story({kind: float(self.documents[kind][k]) for kind in LINK_KINDS})

    def event_pairs(self, k: int) -> tuple[np.ndarray, list[tuple[str, str]], list[float]]:
        """Return the k-th pair's event pairs: probabilities, (id, id), MiniLM cosines."""
        lo, hi = int(self.event_off[k]), int(self.event_off[k + 1])
        return self.events[lo:hi], self.event_ids[lo:hi], self.event_cos[lo:hi]


def _pair_findings(rec: _Records, items: _ItemRows, scores: _Scores, k: int, rare: frozenset[str] | None,
                   models) -> PairFindings:
    """Return what the pair models found between the k-th pair's two documents: the document-level confidence of each
    kind, the anchored event and claim pairs, and the opposed sides."""
    a, b = items.pairs[k]
    rows, sides, specific = items.claims(k)
    probs = scores.claims[int(items.claim_off[k]):int(items.claim_off[k + 1])]
    confidence = scores.confidence(k)
    event_items, anchors = _event_items(rec, *scores.event_pairs(k), confidence, rare, models)
    claim_items = _claim_items(rec, probs, sides, rows, specific, event_items, anchors, rare)
    opposed_of = {(x.id, y.id): p for p, (x, y) in zip(probs[:, 2].tolist(), sides)}
    sides = opposed_sides(rec.stance.get(a, {}), rec.stance.get(b, {}), rec.by_doc.get(a, []), rec.by_doc.get(b, []),
                          rec.claim_vec, rec.shows)
    # Opposite sides make a contradiction only where the two claims shown oppose each other as propositions.
    if sides is not None and opposed_of.get((sides[2].id, sides[3].id), 0.0) < OPPOSED_PROPOSITION:
        sides = None
    return PairFindings(confidence, claim_items, event_items, anchors, sides, scores.rows[k].copy())


def _event_items(rec: _Records, eprobs: np.ndarray, eids: list[tuple[str, str]], ecos: list[float],
                 confidence: dict[str, float],
                 rare: frozenset[str] | None, models) -> tuple[list[tuple[float, str, str]], dict]:
    """Return the event pairs with an anchor (p same, id, id) and what each pair's two tellings share."""
    event_items, anchors = [], {}
    # Two documents the model is very sure tell one story may share only the country of a happening's telling.
    country_ok = confidence["same_event"] >= models.thresholds.get("same_event_country", 2.0)
    story_ok = confidence["same_event"] >= models.thresholds["same_event"]
    for p, (x, y), cos in zip(eprobs.tolist(), eids, ecos):
        anchor = event_anchor(rec.event_by_id[x], rec.event_by_id[y], rec.ev_statement[x], rec.ev_statement[y], rare,
                              cos, country_ok, lambda: rec.xrow.similarity(
                                  (rec.event_by_id[x].doc, rec.event_by_id[x].evidence),
                                  (rec.event_by_id[y].doc, rec.event_by_id[y].evidence)), float(p), story_ok)
        if anchor:
            event_items.append((float(p), x, y))
            anchors[(x, y)] = anchors[(y, x)] = anchor
    return event_items, anchors


def _claim_items(rec: _Records, probs: np.ndarray, sides: list[tuple[Statement, Statement]], rows: np.ndarray,
                 specific: list[bool], event_items: list[tuple[float, str, str]], anchors: dict,
                 rare: frozenset[str] | None) -> list[tuple]:
    """Return the claim pairs with an anchor: (p corroborates, p contradicts, claim, claim, feature row, anchor).
    `specific` (`StatementTable.may_anchor`) says which pairs share something `shared_anchor` or `conflicting_figures`
    could name; the others are not asked."""
    # Claims that tell tellings of one happening (their spans hold the two events' evidence) are about one thing.
    told_by: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for p, x, y in event_items:
        if p >= SURE_TELLING:
            for c in rec.overlapping.get(x, set()) | rec.overlapping.get(y, set()):
                told_by[c].add((x, y))
    claim_items, nothing = [], set()
    for i, ((x, y), cos, maybe) in enumerate(zip(sides, rows[:, 1].tolist(), specific)):
        anchor = None
        if maybe:
            # shared_anchor reads the multilingual similarity only when the decision needs it.
            xcos = lambda: rec.xrow.similarity((x.doc, x.text), (y.doc, y.text))  # noqa: E731 - read only when needed
            anchor = shared_anchor(x, y, rare, cos, xcos)
        # Figures that differ come last: two claims that tell one happening may also count it differently, and are
        # then candidates for both kinds (a contradiction reads the figures from the claims themselves).
        anchor = (anchor or same_assertion(cos)
                  or one_happening(told_by.get(x.id, nothing) & told_by.get(y.id, nothing), anchors)
                  or (conflicting_figures(x, y) if maybe else None))
        if anchor:
            claim_items.append((float(probs[i, 1]), float(probs[i, 2]), x, y, rows[i].copy(), anchor))
    return claim_items


def one_story(confidence: dict[str, float]) -> dict[str, float]:
    """Return the document-level confidences with same_event raised to corroborates where that is higher: two sources
    that assert the same facts tell one story at least as surely as the document model reads it from their tellings
    (the same_event model sees only the opening sentences and the best event pair; a corroboration sees every claim)."""
    out = dict(confidence)
    out["same_event"] = max(out["same_event"], out["corroborates"])
    return out


def one_happening(shared: set[tuple[str, str]], anchors: dict[tuple[str, str], str]) -> str | None:
    """Return an anchor for two claims that tell two tellings of one happening (`shared`: the matched event pairs both
    claims overlap), or None."""
    if not shared:
        return None
    x, y = min(shared)
    return f"one happening ({anchors.get((x, y), 'same event')})"


def same_assertion(similarity: float) -> str | None:
    """Return an anchor for two sentences the encoder reads as one assertion (cosine >= SAME_ASSERTION), or None."""
    if similarity >= SAME_ASSERTION:
        return f"one assertion (meaning similarity {similarity:.2f})"
    return None


def opposed_sides(stance_a: dict[str, float], stance_b: dict[str, float], claims_a: list[Statement],
                  claims_b: list[Statement], vec: dict[str, np.ndarray],
                  shows: dict[str, set[str]] | None = None) -> tuple[float, str, Statement, Statement] | None:
    """Return (strength, actor, claim, claim) when two documents take opposite sides on several actors, or None.

    Two sources that praise what the other condemns on at least OPPOSED_ACTORS actors, with a summed strength of at
    least OPPOSED_STRENGTH, disagree as wholes; the link shows, for the most disputed actor, the two claims nearest in
    meaning among those naming it, preferring the claims that show each side's lean (`shows`: actor -> claim ids
    inside the stance's evidence sentences, both documents' ids in one set).
    """
    sides = stance_disagreement(stance_a, stance_b)
    strength = sum(s for s, _ in sides)
    if len(sides) < OPPOSED_ACTORS or strength < OPPOSED_STRENGTH:
        return None
    for _, actor in sides:
        xs = [x for x in claims_a if actor in x.actors]
        ys = [y for y in claims_b if actor in y.actors]
        shown = (shows or {}).get(actor, set())
        xs = [x for x in xs if x.id in shown] or xs
        ys = [y for y in ys if y.id in shown] or ys
        if xs and ys:
            cos, x, y = max(((float(vec[x.id] @ vec[y.id]), x, y) for x in xs for y in ys),
                            key=lambda t: (t[0], t[1].id, t[2].id))
            return strength, actor, x, y
    return None


def event_anchor(a: Event, b: Event, sa: Statement, sb: Statement, rare: frozenset[str],
                 similarity: float = 0.0, country_ok: bool = False,
                 cross_similarity: float | Callable[[], float] = 0.0, pair_probability: float = 0.0, story_ok: bool = False) -> str | None:
    """Return what makes two tellings of one type the same happening, or None: a month both date it to, the same
    place, tolls within a factor of three, a figure, town or rare name their sentences share (a name when the two
    sentences are near in meaning in either encoder), or sentences that read as one assertion (`same_assertion`).
    `similarity` is the two sentences' MiniLM cosine, `cross_similarity` their centred multilingual one (or a function
    giving it, called only when the decision reads it). Two kinds of act of one type (a denial, a condemnation:
    `different_kinds`) are two happenings. In two documents telling one story, a country and a town in it are one
    place (`one_place`)."""
    if a.type != b.type or different_kinds(a, b):
        return None
    if a.date and b.date and len(a.date) >= 7 and len(b.date) >= 7 and dates_compatible(a.date, b.date):
        return f"same {a.type}, dated {min(a.date, b.date, key=len)}"
    if a.location and a.location == b.location and specific_place(a.location):
        return f"same {a.type} at {a.location}"
    if a.date and b.date and dates_compatible(a.date, b.date) and a.location and a.location == b.location:
        return f"same {a.type} in {a.location}, {min(a.date, b.date, key=len)}"
    if a.fatalities and b.fatalities and max(a.fatalities, b.fatalities) <= 3 * min(a.fatalities, b.fatalities):
        return f"same {a.type}, tolls {a.fatalities} and {b.fatalities}"
    shared = shared_anchor(sa, sb, rare, similarity, cross_similarity) or same_assertion(similarity)
    if shared:
        return f"same {a.type}; {shared}"
    if country_ok and a.location and b.location and one_place(a, b):
        country = b.location if specific_place(a.location) else a.location
        return f"same {a.type} in {country}, in two documents telling one story"
    places_agree = not a.location or not b.location or one_place(a, b)
    # Participants: beyond the place, the two tellings share an actor or neither names one (France leaving a
    # country is not the United States leaving it).
    who_a = {x.name for x in a.actors} - {a.location, b.location}
    who_b = {x.name for x in b.actors} - {a.location, b.location}
    same_people = bool(who_a & who_b) or not (who_a or who_b)
    # A telling dated and one undated give the model nothing to compare in time: the rule reads two undated ones.
    if story_ok and pair_probability >= SURE_TELLING and places_agree and same_people and not (a.date or b.date):
        return f"same {a.type} in two documents telling one story (event-pair model {pair_probability:.2f})"
    if story_ok and places_agree and a.date and b.date and dates_near(a.date, b.date):
        return f"same {a.type} in two documents telling one story, dated {a.date} and {b.date}"
    return None


def one_place(a: Event, b: Event) -> bool:
    """Whether two tellings' places can be one: the same name, or a country and a place in it (at the coordinates the
    telling gives: a town of the same name elsewhere lends no country)."""
    if a.location == b.location:
        return True
    for wide, narrow in ((a, b), (b, a)):
        code = country_code(wide.location) if wide.location else None
        place = geocode(narrow.location) if code and narrow.location and narrow.latitude is not None else None
        if (place is not None and place.country == code and abs(place.latitude - narrow.latitude) <= 0.01
                and abs(place.longitude - narrow.longitude) <= 0.01):
            return True
    return False


def reason(kind: str, a: Statement, b: Statement, cos: float, anchor: str | None = None) -> str:
    """Return why two claims are linked, in an analyst's words: the figure or the proposition at stake."""
    shared = sorted(a.actors & b.actors)
    about = f" about {', '.join(shared)}" if shared else ""
    parts = []
    if kind == "contradicts":
        differ = conflicting_figures(a, b)
        if differ:
            parts.append(differ.replace("figures ", "figures differ: ", 1))
        if a.negated != b.negated:
            parts.append("one side denies what the other asserts")
        if a.debunks or b.debunks:
            parts.append("one side calls the other's account false")
        if not parts:
            parts.append("opposite accounts of one matter")
    else:
        same = sorted({v for v, _ in a.figures} & {v for v, _ in b.figures})
        if same:
            parts.append(f"same figure: {same[0]:g}")
        parts.append("same assertion")
    if anchor and not any(anchor in p or anchor.replace("figures ", "figures differ: ", 1) in p for p in parts):
        if not anchor.startswith("one assertion"):  # the meaning similarity closes every reason
            parts.append(f"both give {anchor}")
    return f"{kind}{about}: " + "; ".join(parts) + f" (meaning similarity {cos:.2f})"


def capped_per_claim(links: list[Link], cap: int = CLAIM_LINKS) -> list[Link]:
    """Return the claim links (corroborates, contradicts) each of whose two claims counts it among its `cap` strongest
    of that kind (by score, then id), and every other link as it is; `reconcile.blocks` applies the same rule in SQL."""
    ends: dict[tuple[str, str], list[tuple[float, str]]] = defaultdict(list)
    for l in links:
        if l.kind in ("corroborates", "contradicts"):
            for claim in {l.items[0], l.items[-1]}:
                ends[(l.kind, claim)].append((-l.score, l.id))
    dropped = {i for ranked in ends.values() for _, i in sorted(ranked)[cap:]}
    return [l for l in links if l.id not in dropped]


def link_claims_from(found: dict[tuple[str, str], PairFindings], min_confidence: float | None = None) -> list[Link]:
    """Return corroborates / contradicts links for the document pairs whose confidence reaches the cut-off, and the
    links they imply (`implied_links`)."""
    links, said = direct_claim_links(found, min_confidence)
    return links + implied_links(links, said, min_confidence)


def implied_links(links: list[Link], said: dict[str, Statement], min_confidence: float | None = None) -> list[Link]:
    """Return `one_proposition`'s links implied by `links` (whose claims `said` describes), down to `min_confidence`.

    They depend on every claim link of the corpus at once, so the blocked pass (`reconcile.blocks`) draws them after
    its last unit of work, from all the units' links, not unit by unit: the links do not depend on how the pairs were
    cut into units."""
    return [l for l in one_proposition(links, said) if min_confidence is None or l.score >= min_confidence]


def implied_basis(said: dict[str, Statement]) -> dict[str, Statement]:
    """Return the Statements of `said` cut to what `implied_links` reads of a claim (its document, text, actors and
    figures), for a driver that keeps one per linked claim of a whole corpus."""
    return {i: replace(s, places=frozenset(), words=frozenset(), names=frozenset(), months=frozenset())
            for i, s in said.items()}


def direct_claim_links(found: dict[tuple[str, str], PairFindings],
                       min_confidence: float | None = None) -> tuple[list[Link], dict[str, Statement]]:
    """Return the corroborates / contradicts links of the document pairs whose confidence reaches the cut-off, pair by
    pair, and the Statements of their claims (claim id -> Statement, what `implied_links` reads)."""
    models = load_link_models()
    links = []
    said: dict[str, Statement] = {}  # the claims of the links found pair by pair, for `one_proposition`
    for (a, b), whole in sorted(found.items()):
        before = len(links)
        for kind, col in (("corroborates", 0), ("contradicts", 1)):
            f = whole  # each kind reads every anchored claim pair (a kind's rule may keep only some of them below)
            conf = f.confidence[kind]
            cut = models.thresholds[kind] if min_confidence is None else min_confidence
            # A corroboration whose two claims give the same figure or name the same rare person or place needs
            # less document-level confidence (`corroborates_specific`, below the cut-off by the same margin when
            # the user lowers it): what they share is specific, not a topic.
            specific = cut - models.thresholds[kind] + models.thresholds.get("corroborates_specific",
                                                                             models.thresholds[kind])
            story = f.confidence["same_event"] >= models.thresholds["same_event"] + (cut - models.thresholds[kind])
            if kind == "corroborates" and story and conf < cut:
                # Two documents that tell one happening corroborate each other on it: the claims holding the two
                # tellings (`one_happening`) are linked with the same_event confidence.
                happening = [t for t in f.claim_pairs if t[5].startswith("one happening")]
                if happening:
                    f = PairFindings(f.confidence, happening, f.event_pairs, f.event_anchors, f.opposed)
                    conf = f.confidence["same_event"]
            elif kind == "corroborates" and specific <= conf < cut:
                strong = [t for t in f.claim_pairs if t[5].startswith(("figure ", "name "))]
                if strong:
                    f = PairFindings(f.confidence, strong, f.event_pairs, f.event_anchors, f.opposed)
                    cut = specific
            # In two documents that tell one story, a contradiction needs less document-level confidence, with or
            # without a cue (`contradicts_story`): the pair is about one matter, and the model weighs whether the
            # sources' accounts of it differ.
            story_cut = models.thresholds.get("contradicts_story", 2.0) + (cut - models.thresholds[kind])
            story_contradiction = kind == "contradicts" and story and conf >= story_cut
            if story_contradiction:
                cut = min(cut, story_cut)
            elif kind == "contradicts" and conf < cut and f.confidence["same_event"] >= models.thresholds.get(
                    "contradicts_figures", models.thresholds["same_event"]) + (cut - models.thresholds[kind]):
                # Two documents that tell one story (same_event confidence from `contradicts_figures`, below the
                # same_event cut-off: counting one thing is itself a sign of one story) and count one kind of thing
                # (ontology/quantities.yaml) with figures that cannot both hold (300 instructors against "only five
                # employees") contradict each other on it, however the document-level contradicts step reads the
                # pair: those claims, which must name an actor in common (whose troops they count), are linked with
                # the same_event confidence.
                differing = [t for t in f.claim_pairs if t[2].actors & t[3].actors
                             and conflicting_figures(t[2], t[3], kinds_only=True)]
                if differing:
                    f = PairFindings(f.confidence, differing, f.event_pairs, f.event_anchors, f.opposed)
                    conf = f.confidence["same_event"]
                    cut = models.thresholds.get("contradicts_figures", models.thresholds["same_event"]) + (
                        cut - models.thresholds[kind])
                    story_contradiction = True
            if conf < cut or not f.claim_pairs:
                continue
            if kind == "contradicts":
                # Below the stricter cut-off a contradiction must show its cue: figures that differ, one side calling
                # the other's account false, or a denial of a sentence that means nearly the same (a negation
                # anywhere in a long sentence about something else is no denial of it).
                strict = models.thresholds.get("contradicts_uncued", models.thresholds[kind])
                uncued_ok = story_contradiction or conf >= strict + (cut - models.thresholds[kind])
                pairs = [t for t in f.claim_pairs if uncued_ok or conflicting_figures(t[2], t[3]) or t[2].debunks
                         or t[3].debunks or (t[2].negated != t[3].negated and t[4][1] >= NAME_ANCHOR_SIMILARITY)]
            else:
                # Below the stricter cut-off a corroboration needs something specific both sides give (a figure, place,
                # month or rare name): two general statements that merely read alike (one assertion) are not enough.
                strict = models.thresholds.get("corroborates_uncued", models.thresholds[kind])
                uncued_ok = conf >= strict + (cut - models.thresholds[kind])
                pairs = [t for t in f.claim_pairs if not t[5].startswith("figures ")
                         and (uncued_ok or not t[5].startswith("one assertion"))]
            if not pairs:
                continue
            ranked = sorted(pairs, key=lambda t: (-t[col], t[2].id, t[3].id))
            best = ranked[0][col]
            used: set[str] = set()
            for item in ranked:
                p, x, y, row, anchor = item[col], item[2], item[3], item[4], item[5]
                if len(used) >= 2 * MAX_LINKS or p < 0.8 * best:
                    break
                if x.id in used or y.id in used:
                    continue
                used.update((x.id, y.id))
                said[x.id], said[y.id] = x, y
                score = round(conf * (p / best if best else 1.0), 3)
                links.append(Link(link_id(kind, [x.id, y.id]), kind, tuple(sorted((x.id, y.id))),
                                  reason(kind, x, y, float(row[1]), anchor), score))
        if whole.opposed is not None and not any(l.kind == "contradicts" for l in links[before:]):
            strength, actor, x, y = whole.opposed
            # Not calibrated (two document pairs of the development set reach it): the strength read as a share of 4.
            score = round(min(1.0, strength / 4.0), 3)
            if min_confidence is None or score >= min_confidence:
                said[x.id], said[y.id] = x, y
                links.append(Link(link_id("contradicts", [x.id, y.id]), "contradicts", tuple(sorted((x.id, y.id))),
                                  f"{OPPOSED_SIDES} on {actor} and on other actors; "
                                  f"what each asserts about {actor} (side strength {strength:.2f})", score))
    return links, said


def one_proposition(links: list[Link], said: dict[str, Statement]) -> list[Link]:
    """Return the links two claim links imply through the claim they share (one step, never chained further).

    A claim that corroborates another asserts the same proposition, so what contradicts one contradicts the other and
    what corroborates one corroborates the other: x contradicts y and x corroborates z give y contradicts z; x
    corroborates y and z give y corroborates z. A link from opposite sides (`opposed_sides`: the documents disagree as
    wholes, not on one proposition) implies nothing. The two ends must be claims of two other documents that name an
    actor in common (they are about one thing; a chain of look-alikes drifts from one matter to another) and whose
    documents hold no link of that kind yet. The link's confidence is the product of the two it rests on, its reason
    names the claim in between; at most MAX_LINKS per document pair, strongest first. `said`: claim id -> Statement
    for the claims of `links`."""
    linked = {(l.kind, *sorted({said[i].doc for i in l.items})) for l in links if all(i in said for i in l.items)}
    by_claim: dict[str, list[Link]] = defaultdict(list)
    for l in links:
        if l.kind in ("corroborates", "contradicts") and all(i in said for i in l.items) and \
                not l.detail.startswith(OPPOSED_SIDES):
            for i in l.items:
                by_claim[i].append(l)
    implied: dict[tuple[str, str, str], list[tuple[float, str, str, str]]] = defaultdict(list)
    for hub, through in sorted(by_claim.items()):
        for i, first in enumerate(through):
            for second in through[i + 1:]:
                if first.kind == second.kind == "contradicts":
                    continue
                kind = "contradicts" if "contradicts" in (first.kind, second.kind) else "corroborates"
                y = next(c for c in first.items if c != hub)
                z = next(c for c in second.items if c != hub)
                x_, y_, z_ = said[hub], said[y], said[z]
                if len({x_.doc, y_.doc, z_.doc}) < 3 or not y_.actors & z_.actors:
                    continue
                # A contradiction on figures passes only to a claim that repeats the figure of the shared claim that
                # is in conflict: what corroborates a claim does not always give its count.
                if kind == "contradicts":
                    against, alike = (first, second) if first.kind == "contradicts" else (second, first)
                    disputed = figures_in_conflict(x_, said[next(c for c in against.items if c != hub)])
                    repeats = said[next(c for c in alike.items if c != hub)]
                    if disputed and not disputed & {v for v, _ in repeats.figures}:
                        continue
                docs = tuple(sorted((y_.doc, z_.doc)))
                if (kind, *docs) in linked:
                    continue
                implied[(kind, *docs)].append((round(first.score * second.score, 3), *sorted((y, z)), hub))
    out, seen = [], set()
    for (kind, _, _), options in sorted(implied.items()):
        for score, y, z, hub in sorted(options, key=lambda t: (-t[0], t[1], t[2]))[:MAX_LINKS]:
            if (kind, y, z) in seen:
                continue
            seen.add((kind, y, z))
            a, b = said[y], said[z]
            shared = sorted(a.actors & b.actors)
            how = ("one side contradicts a claim the other asserts alike" if kind == "contradicts"
                   else "both assert what a third source asserts")
            out.append(Link(link_id(kind, [y, z]), kind, (y, z),
                            f"{kind} about {', '.join(shared)}: {how} (through a third source's claim: "
                            f"{said[hub].text[:100]!r})",
                            score))
    return out


def link_claims(claims: list[Claim], mentions: list[Mention] = (), focus: set[str] | None = None,
                existing: list[Link] = (), documents: list[Document] = (), events: list[Event] = (),
                stances: list[Stance] = (), min_confidence: float | None = None) -> list[Link]:
    """Return contradicts / corroborates links between claims of different documents (see the module doc).

    Incremental use: with `focus` (the documents just analysed) only pairs involving them are
    scored; `existing` links between other documents are kept as they are. `mentions` is accepted
    for callers of the former interface; the linker reads actors from the claims' own words.
    """
    if not documents:
        # Without the documents, each claim's own words stand for its document.
        by_doc: dict[str, list[str]] = defaultdict(list)
        for c in claims:
            by_doc[c.doc].append(c.text)
        documents = [Document(d, d, d, "\n".join(t)) for d, t in by_doc.items()]
    found = compare_documents(documents, claims, events, stances, focus)
    links = link_claims_from(found, min_confidence)
    if focus is not None:
        known = {c.id: c.doc for c in claims}
        links += [l for l in existing if l.kind in ("contradicts", "corroborates")
                  and all(i in known and known[i] not in focus for i in l.items)]
    return sorted(links, key=lambda l: l.id)
