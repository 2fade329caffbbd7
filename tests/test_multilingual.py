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
