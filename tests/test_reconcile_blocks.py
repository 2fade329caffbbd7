"""Blocked reconciliation (reconcile.blocks) against the whole-corpus pass, on the development set."""

from __future__ import annotations

from collections import Counter

import pytest

from influence_atlas.reconcile import link_across
from influence_atlas.reconcile.blocks import link_blocks
from influence_atlas.store import open_store


def _rows(links):
    return [(l.id, l.kind, l.items, l.detail, l.score) for l in links]


def test_blocked_linking_gives_the_whole_corpus_pass_links_in_small_batches_and_units(dev_run):
    store = open_store(dev_run["db"], migrate=False)
    whole = link_across(store.documents(), store.events(), store.claims(), store.stances())
    # Batches of three documents and units of four: many blocks of work, each reading only its documents.
    blocked = link_blocks(store, batch=3, unit_documents=4)
    store.close()
    assert whole, "the development set has cross-source links"
    assert _rows(blocked) == _rows(whole)


def test_links_implied_through_a_shared_claim_do_not_depend_on_how_pairs_are_cut_into_units(cross_run):
    """A link implied by two claim links (`claims.implied_links`) may rest on pairs scored in two different units: the
    blocked pass draws them from every unit's links at once, so units of two documents give the whole pass's links."""
    store = open_store(cross_run["db"], migrate=False)
    whole = link_across(store.documents(), store.events(), store.claims(), store.stances())
    blocked = link_blocks(store, batch=3, unit_documents=2)
    store.close()
    assert any("through a third source" in l.detail for l in whole), "the cross-source set has implied links"
    assert _rows(blocked) == _rows(whole)


def test_an_english_corpus_links_without_the_multilingual_encoder_alike_blocked_and_whole(dev_run, monkeypatch):
    """The development set's English documents alone: every pair compares on MiniLM rows (no document needs the
    multilingual encoder, which must not run), and the blocked pass gives the whole-corpus pass's links."""
    from influence_atlas.reconcile import blocks, claims as claim_pairs

    def never(texts):
        raise AssertionError("an English corpus must not need the multilingual encoder")

    monkeypatch.setattr(blocks, "encode_multilingual", never)
    monkeypatch.setattr(claim_pairs, "encode_multilingual", never)
    store = open_store(dev_run["db"], migrate=False)
    every = store.documents()
    english = [d for d in every if d.language == "en"]
    ids = {d.id for d in english}
    assert len(english) < len(every), "the development set has French documents, left out here"

    class English:  # the store's calls reconcile.blocks makes, over its English documents
        def documents(self, wanted=None):
            return [d for d in store.documents(wanted) if d.id in ids] if wanted is not None else english

        def document_batches(self, size=500):
            for docs in store.document_batches(size):
                yield [d for d in docs if d.id in ids]

        def document_records(self, wanted):
            return store.document_records([i for i in wanted if i in ids])

    whole = link_across(english, [e for e in store.events() if e.doc in ids], [c for c in store.claims() if c.doc in ids],
                        [s for s in store.stances() if s.doc in ids])
    blocked = link_blocks(English(), batch=3, unit_documents=4)
    store.close()
    assert whole, "the English documents of the development set link among themselves"
    assert _rows(blocked) == _rows(whole)


def test_claim_links_are_capped_per_claim_keeping_the_strongest(dev_run):
    store = open_store(dev_run["db"], migrate=False)
    full = link_blocks(store, claim_links=100)
    capped = link_blocks(store, claim_links=1)
    store.close()
    claim_kinds = ("corroborates", "contradicts")
    per_claim = Counter((l.kind, i) for l in capped if l.kind in claim_kinds for i in l.items)
    assert per_claim and max(per_claim.values()) == 1
    assert {l.id for l in capped} <= {l.id for l in full}
    # Each claim's strongest link survives unless its other claim holds a stronger one.
    best: dict[tuple[str, str], tuple] = {}
    for l in full:
        if l.kind in claim_kinds:
            for i in l.items:
                key = (l.kind, i)
                best[key] = min(best.get(key, (2.0, "")), (-l.score, l.id))
    kept = {l.id for l in capped}
    for l in full:
        if l.kind in claim_kinds and all(best[(l.kind, i)][1] == l.id for i in l.items):
            assert l.id in kept
    assert [l for l in capped if l.kind == "same_event"] == [l for l in full if l.kind == "same_event"]


def test_language_means_summed_a_document_at_a_time_centre_exactly_as_the_whole_corpus():
    """The blocked pass centres multilingual rows on running sums; they must give centred's own means bit for bit,
    including a language with too few documents (centred on the overall mean) and documents without rows."""
    import numpy as np

    from influence_atlas.reconcile.links import STORY_CENTRE_MIN, LanguageMeans, centred

    rng = np.random.default_rng(7)
    for _ in range(20):
        vectors, language = {}, {}
        for i in range(int(rng.integers(1, 30))):
            rows = rng.normal(size=(int(rng.integers(0, 8)), 16)).astype(np.float32)
            vectors[f"d{i:03d}"] = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-6)
            language[f"d{i:03d}"] = str(rng.choice(["en", "fr", "de"])) if i % 7 else None
        sums = LanguageMeans()
        for d in sorted(vectors):
            sums.add(language[d], vectors[d])
        whole, blocked = centred(vectors, language), centred(vectors, language, sums.means())
        assert all(np.array_equal(whole[d], blocked[d]) for d in vectors)
    few = LanguageMeans()
    for k in range(STORY_CENTRE_MIN - 1):
        few.add("fr", np.ones((1, 4), np.float32) * k)
    few.add("en", np.full((2, 4), 5.0, np.float32))
    by_lang, overall = few.means()
    assert np.array_equal(by_lang["fr"], overall) and np.array_equal(by_lang["en"], overall)
    assert LanguageMeans().means() == ({}, None)



def test_centred_rows_are_centred_rows_encoded_only_when_asked_for():
    """Claims and event sentences get their multilingual rows one text at a time, when a decision reads them: each row
    must be `centred`'s row of that text on the same means, whatever was asked before, and only asked texts encoded."""
    import numpy as np

    from influence_atlas.reconcile.features import shared_anchor
    from influence_atlas.reconcile.links import CentredRows, centred, corpus_means

    rng = np.random.default_rng(3)
    table = {t: v / np.linalg.norm(v) for t, v in zip("abcdefgh", rng.normal(size=(8, 16)).astype(np.float32))}
    asked = []

    def encode(texts):
        asked.extend(texts)
        return np.stack([table[t] for t in texts])

    vectors = {"d1": encode(["a", "b", "c"]), "d2": encode(["d", "e"]), "d3": encode(["f"]), "d4": encode(["g", "h"])}
    language = {"d1": "en", "d2": "fr", "d3": "en", "d4": "en"}
    means = corpus_means(vectors, language)
    whole = centred(vectors, language, means)
    asked.clear()
    rows = CentredRows(encode, language, means)
    assert np.array_equal(rows("d2", ["e"])[0], whole["d2"][1])
    assert np.array_equal(rows("d1", ["c", "a"]), whole["d1"][[2, 0]])
    assert rows.similarity(("d4", "h"), ("d2", "e")) == float(whole["d4"][1] @ whole["d2"][1])
    assert asked == ["e", "c", "a", "h"]  # each text once, and only those asked for
    assert CentredRows(encode, language, ({}, None))("d1", ["b"]).tolist() == [table["b"].tolist()]

    class _Said:  # what shared_anchor reads of a statement
        figures, places, months = (), set(), set()

        def __init__(self, names):
            self.names = set(names)

    calls = []
    cross = lambda: calls.append(1) or 0.9  # noqa: E731
    assert shared_anchor(_Said(["kossi"]), _Said(["bangui"]), frozenset({"kossi"}), 0.1, cross) is None
    assert calls == []  # no shared rare name: the multilingual similarity is never asked for
    assert "multilingual similarity 0.90" in shared_anchor(_Said(["kossi"]), _Said(["kossi"]), frozenset({"kossi"}),
                                                           0.1, cross)
    assert calls == [1]

class _Source:
    """The three calls reconcile.blocks makes on a store, over documents and claims held in memory."""

    def __init__(self, documents, claims):
        self.docs, self.claims = {d.id: d for d in documents}, claims

    def documents(self, ids=None):
        return sorted((d for d in self.docs.values() if ids is None or d.id in ids), key=lambda d: (d.name, d.id))

    def document_batches(self, size=500):
        ids = sorted(self.docs)
        for k in range(0, len(ids), size):
            yield [self.docs[i] for i in ids[k:k + size]]

    def document_records(self, ids):
        return [], [c for c in self.claims if c.doc in set(ids)], []


def test_only_documents_that_share_a_block_with_another_are_encoded(tmp_path, monkeypatch):
    """A document alone in all its blocks is never compared: step 1b encodes nothing of it, and the means it would
    have entered are those of the documents that have a partner. Step 2b gives multilingual rows only to the documents
    that need them: not English, or with a candidate partner of another language; two English documents compare on
    MiniLM rows."""
    import numpy as np

    from influence_atlas.reconcile import blocks
    from influence_atlas.reconcile.links import STORY_SENTENCES, LanguageMeans, sentences
    from influence_atlas.records import Claim, Document

    db = blocks._scratch(tmp_path)
    texts = {"d1": "Wagner fighters arrived in Bangui on Monday according to officials in the capital.",
             "d2": "Officials said Wagner fighters reached Bangui this week to guard the presidential palace.",
             "d3": "A new bridge across the river was opened by the mayor after three years of works.",
             "d4": "Des combattants de Wagner sont arrivés lundi à Bangui selon des responsables de la capitale."}
    language = {"d1": "en", "d2": "en", "d3": "en", "d4": "fr"}
    docs = [Document(i, i, i, t, language=language[i]) for i, t in texts.items()]
    claims = [Claim(f"c{i}", i, 0, len(t), t, 0.8, (), None, None, None, False, (), "test", 0.8) for i, t in texts.items()]
    db.executemany("INSERT INTO docs (id, lang) VALUES (?, ?)", list(language.items()))
    db.executemany("INSERT INTO keys VALUES (?, ?)", [("Wagner", "d1"), ("Wagner", "d2"), ("some mayor", "d3"),
                                                       ("Wagner", "d4")])
    seen, seen_x = [], []
    real, real_x = blocks.encode_sentences, blocks.encode_multilingual
    monkeypatch.setattr(blocks, "encode_sentences", lambda t: seen.extend(t) or real(t))
    monkeypatch.setattr(blocks, "encode_multilingual", lambda t: seen_x.extend(t) or real_x(t))
    source = _Source(docs, claims)
    means = blocks._encode_partnered(source, db, batch=1)
    assert texts["d3"] not in seen and texts["d1"] in seen and seen_x == []
    stored = dict(db.execute("SELECT id, mclaims IS NOT NULL FROM docs").fetchall())
    assert stored == {"d1": 1, "d2": 1, "d3": 0, "d4": 1}
    expected = LanguageMeans()
    for d in ("d1", "d2", "d4"):
        expected.add(language[d], real(sentences(texts[d], STORY_SENTENCES)))
    assert np.array_equal(means["minilm"][1], expected.means()[1])
    assert len(sentences(texts["d3"])) == 1  # d3 had something to encode: it was left out for having no partner
    # Candidates: d1 meets d4 (another language), d1 and d2 meet each other (both English).
    db.executemany("INSERT INTO pairs (a, b, block) VALUES (?, ?, 'Wagner')", [("d1", "d2"), ("d1", "d4")])
    means = blocks._encode_multilingual(source, db, 1, means)
    assert sorted(seen_x) == sorted([texts["d1"], texts["d4"]])
    stored = dict(db.execute("SELECT id, story IS NOT NULL FROM docs").fetchall())
    assert stored == {"d1": 1, "d2": 0, "d3": 0, "d4": 1}
    expected = LanguageMeans()
    for d in ("d1", "d4"):
        expected.add(language[d], real_x([texts[d]]))
    assert np.array_equal(means["claims"][1], expected.means()[1]) and "minilm" in means


def test_two_english_documents_compare_on_minilm_rows_put_on_e5s_scale():
    """Only documents not in English or with a partner of another language need multilingual rows; a pair one of whose
    documents has none reads its story, assertion and claim similarities from centred MiniLM rows through the packaged
    increasing lines, and never asks the multilingual encoder."""
    import numpy as np

    from influence_atlas.reconcile.links import (CentredRows, StoryScale, centred, corpus_means, load_story_scale,
                                                 multilingual_documents, story_similarities)

    language = {"e1": "en", "e2": "en", "e3": "en", "f1": "fr", "x": None}
    assert multilingual_documents(language, [("e1", "e2"), ("e2", "f1")]) == {"e2", "f1", "x"}
    scale = load_story_scale()
    assert scale.centred(0.6) > scale.centred(0.2) and scale.raw(0.9) > scale.raw(0.5)
    with pytest.raises(ValueError):
        StoryScale({"centred": {"slope": -1.0, "intercept": 0.0}, "raw": {"slope": 1.0, "intercept": 0.0}})
    rng = np.random.default_rng(11)
    table = {t: v / np.linalg.norm(v) for t, v in zip("abcdefgh", rng.normal(size=(8, 16)).astype(np.float32))}
    minilm = lambda texts: np.stack([table[t] for t in texts])  # noqa: E731
    leads = {"e1": minilm(["a", "b"]), "e2": minilm(["c", "d"]), "e3": minilm(["e"]), "f1": minilm(["f", "g"])}
    lang = {d: language[d] for d in leads}
    flat = centred(leads, lang)
    xrows = {"f1": minilm(["g", "h"]), "e2": minilm(["h", "a"])}  # stand-ins for multilingual rows
    sims = story_similarities(xrows, lang, [("e1", "e2"), ("e2", "f1")], english=(leads, flat))
    top = np.sort((flat["e1"] @ flat["e2"].T).ravel())[::-1][:3].mean()
    raw = np.sort((leads["e1"] @ leads["e2"].T).ravel())[::-1][:3].mean()
    assert sims[("e1", "e2")] == pytest.approx((scale.centred(top), scale.raw(raw)))
    assert sims[("e2", "f1")] == story_similarities(xrows, lang, [("e2", "f1")])[("e2", "f1")]

    def never(texts):
        raise AssertionError("two English documents must not ask the multilingual encoder")

    rows = CentredRows(never, lang, ({}, None), english=(minilm, corpus_means(leads, lang), {"e2", "f1"}))
    english = CentredRows(minilm, lang, corpus_means(leads, lang))
    expected = scale.centred(float(english("e1", ["b"])[0] @ english("e3", ["h"])[0]))
    assert rows.similarity(("e1", "b"), ("e3", "h")) == pytest.approx(expected)
    assert rows.assertion("e1", ["a", "b"], "e3", ["h"]) == pytest.approx(
        max(scale.centred(float(english("e1", [t])[0] @ english("e3", ["h"])[0])) for t in "ab"))
    assert rows.assertion("e1", [], "e3", ["h"]) == 0.0


def test_known_vectors_serve_stored_rows_and_encode_only_the_others():
    import numpy as np

    from influence_atlas.reconcile.links import known_vectors

    ran = []

    def encode(texts):
        ran.append(list(texts))
        return np.ones((len(texts), 3), np.float32) * 2

    known = {"a": np.zeros(3, np.float32)}
    rows = known_vectors(encode, known)(["a", "b", "a", "b"])
    assert ran == [["b"]] and rows.shape == (4, 3) and rows.dtype == np.float32
    assert rows[0].sum() == 0 and rows[1].sum() == 6 and np.array_equal(rows[1], rows[3])
    assert known_vectors(encode, known)([]).shape == (0, 3)


def test_large_blocks_are_searched_in_cells_of_near_documents(monkeypatch):
    """Past EXACT_BLOCK documents a block is cut into cells: every document at home in exactly one, none too large,
    and most nearest partners still found; up to EXACT_BLOCK the block is one cell (an exact search)."""
    import numpy as np

    from influence_atlas.reconcile import links

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(12, 32))
    labels = rng.integers(0, 12, size=900)
    mat = centres[labels] + 0.05 * rng.normal(size=(900, 32))
    mat = (mat / np.linalg.norm(mat, axis=1, keepdims=True)).astype(np.float32)
    whole = links.meaning_cells(mat)
    assert len(whole) == 1 and all(np.array_equal(c, np.arange(900)) for c in whole[0])
    monkeypatch.setattr(links, "EXACT_BLOCK", 200)
    monkeypatch.setattr(links, "CELL", 100)
    cells = links.meaning_cells(mat)
    assert np.array_equal(np.sort(np.concatenate([home for home, _ in cells])), np.arange(900)) and len(cells) > 1
    assert all(np.isin(home, space).all() for home, space in cells)
    assert max(len(home) for home, _ in cells) <= 200
    vectors = {f"d{i:03d}": v for i, v in enumerate(mat)}
    keys = {d: {"k"} for d in vectors}
    cut = links.candidate_documents(vectors, keys, neighbours=5)
    monkeypatch.setattr(links, "EXACT_BLOCK", 4096)
    exact = links.candidate_documents(vectors, keys, neighbours=5)
    assert len(cut & exact) >= 0.8 * len(exact)  # most nearest partners are found within the cells
    assert sum(labels[int(a[1:])] == labels[int(b[1:])] for a, b in cut) >= 0.95 * len(cut)


def test_kept_encoder_rows_come_back_bit_for_bit_and_are_encoded_once(store):
    """A row kept in the store is exactly the row the encoder gave; a text is encoded once, whatever the run, and rows
    of another encoder (or version) are never taken for this one's."""
    import numpy as np

    from influence_atlas.reconcile.blocks import _kept_rows

    rng = np.random.default_rng(5)
    ran = []

    def encode(texts):
        ran.append(list(texts))
        return rng.normal(size=(len(texts), 8)).astype(np.float32)

    texts = ["Wagner fighters reached Bangui.", "Zoé a dit « non ».", "  ", "Wagner fighters reached Bangui."]
    first = _kept_rows(store, "test-encoder v1", encode, texts)
    assert ran == [sorted(set(texts) - {"  "})] and set(first) == set(ran[0])
    again = _kept_rows(store, "test-encoder v1", encode, texts)
    assert len(ran) == 1 and all(np.array_equal(first[t], again[t]) and again[t].dtype == np.float32 for t in first)
    other = _kept_rows(store, "test-encoder v2", encode, texts[:1])
    assert len(ran) == 2 and not np.array_equal(other[texts[0]], first[texts[0]])


def test_a_second_reconciliation_encodes_nothing_and_gives_the_same_links(dev_run, monkeypatch):
    """The analysis's reconciliation kept every row it encoded: linking the corpus again reads them (no encoder runs)
    and gives the links the analysis stored."""
    from influence_atlas.reconcile import blocks

    store = open_store(dev_run["db"], migrate=False)
    ran = []
    for name in ("encode_sentences", "encode_multilingual"):
        real = getattr(blocks, name)
        monkeypatch.setattr(blocks, name, lambda texts, real=real: ran.extend(texts) or real(texts))
    again = link_blocks(store)
    stored = store.links()
    store.close()
    assert again and ran == []
    assert _rows(again) == _rows(stored)


def test_meaning_order_seats_near_documents_together():
    """Rows of a few tight groups, shuffled: `meaning_order` is a permutation that keeps each group in a few runs (the
    seats steps 3 and 4 walk a block's pairs by), where the shuffled order breaks them at nearly every row."""
    import numpy as np

    from influence_atlas.reconcile.blocks import ORDER_LEAF, meaning_order

    rng = np.random.default_rng(5)
    centres = rng.normal(size=(8, 24))
    group = rng.permutation(np.repeat(np.arange(8), 5 * ORDER_LEAF // 4))
    rows = centres[group] + 0.05 * rng.normal(size=(len(group), 24))
    rows = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    order = meaning_order(rows)
    assert sorted(order.tolist()) == list(range(len(rows)))
    runs = lambda g: 1 + int(np.count_nonzero(g[1:] != g[:-1]))  # noqa: E731
    assert runs(group[order]) <= 2 * 8 < runs(group) // 4
    assert meaning_order(rows[:3]).tolist() == [0, 1, 2] and len(meaning_order(rows[:0])) == 0
