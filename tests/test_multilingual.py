"""The multilingual encoder puts a sentence and its translation together, and a row does not depend on its batch."""

import numpy as np

from influence_atlas.extract.multilingual import DIM, MultilingualEncoder, encode_multilingual

PAIRS = [
    ("Soldiers killed twelve civilians in a village near the border on Sunday.",
     "Des soldats ont tué douze civils dans un village près de la frontière dimanche."),
    ("The government expelled the ambassador after the protests.",
     "Le gouvernement a expulsé l'ambassadeur après les manifestations."),
    ("Grain prices rose sharply on the commodity markets last week.",
     "Les prix des céréales ont fortement augmenté sur les marchés la semaine dernière."),
]


def test_translations_are_nearer_than_other_sentences():
    english = encode_multilingual([en for en, _ in PAIRS])
    french = encode_multilingual([fr for _, fr in PAIRS])
    assert english.shape == (len(PAIRS), DIM)
    assert np.allclose(np.linalg.norm(english, axis=1), 1.0, atol=1e-5)
    sims = english @ french.T
    for k in range(len(PAIRS)):
        others = np.delete(sims[k], k)
        assert sims[k, k] > others.max() + 0.05, (k, sims[k])


def test_row_does_not_depend_on_batch_or_memo():
    texts = [en for en, _ in PAIRS] + ["Une phrase de plus, sans rapport."]
    batch = encode_multilingual(texts)
    fresh = MultilingualEncoder()  # its own memo: every row below is computed alone
    alone = np.stack([fresh.encode([t])[0] for t in texts])
    assert fresh.passes == len(texts)
    assert np.array_equal(batch, alone)
    empty = encode_multilingual(["", "  "])
    assert not empty.any()


def test_a_long_list_is_encoded_in_several_engine_calls_with_the_same_rows(monkeypatch):
    """The engine's memory grows with the texts of one call, so a long list goes in calls of a few texts; the rows are
    those of one call over the whole list."""
    from influence_atlas.extract import multilingual

    texts = [f"{en} ({k})" for k in range(7) for en, _ in PAIRS]
    fresh = MultilingualEncoder()
    calls = []
    real = fresh.model.passage
    monkeypatch.setattr(fresh.model, "passage", lambda batch: calls.append(len(batch)) or real(batch))
    cut = fresh._run(texts)
    assert len(calls) > 1 and max(calls) <= multilingual._CALL_TEXTS and sum(calls) == len(texts)
    whole = np.asarray(real(texts), np.float32)
    assert np.array_equal(cut, whole / np.linalg.norm(whole, axis=1, keepdims=True))
