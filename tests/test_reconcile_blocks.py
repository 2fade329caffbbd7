"""Blocked reconciliation (reconcile.blocks) against the whole-corpus pass, on the development set."""

from __future__ import annotations

from collections import Counter

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
