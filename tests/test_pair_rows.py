"""The pair features computed many pairs at a time give, bit for bit, what the one-pair functions give."""

from __future__ import annotations

import numpy as np

from influence_atlas.reconcile.features import (DOC_FEATURES, StatementTable, claim_pair_features, describe,
                                                load_link_models)

SENTENCES = [
    ("en", "The attack killed 300 civilians near Moura in March 2022, Wagner Group fighters said."),
    ("en", "Malian soldiers and Russian mercenaries killed some 500 civilians in Moura."),
    ("en", "There are no Wagner forces in Mali, the Malian government said."),
    ("en", "Wagner forces are deployed in Mali, Western governments said."),
    ("fr", "Il n'y a pas de mercenaires de Wagner au Mali, selon Bamako."),
    ("fr", "L'armée malienne a tué 300 civils à Moura en mars 2022."),
    ("en", "Senegal's economy grew last year."),
    ("en", "Reports calling the massacre fake news were relayed by 12 accounts and 12 pages."),
]


def test_statement_table_rows_equal_the_one_pair_rows():
    statements = [describe(f"s{i}", f"d{i % 3}", text, lang) for i, (lang, text) in enumerate(SENTENCES)]
    table = StatementTable(statements)
    rng = np.random.default_rng(5)
    left, right = (np.array(v, np.int64) for v in zip(*[(i, j) for i in range(len(statements))
                                                         for j in range(len(statements))]))
    cos = rng.uniform(-0.2, 1.0, len(left)).astype(np.float32)
    doc_cos = rng.uniform(0.0, 1.0, len(left))
    opposed = rng.choice([0.0, 0.5, 1.0], len(left))
    rows = table.pair_rows(left, right, cos, doc_cos, opposed)
    expected = np.stack([claim_pair_features(statements[i], statements[j], float(c), float(d), float(o))
                         for i, j, c, d, o in zip(left, right, cos, doc_cos, opposed)])
    assert rows.dtype == np.float32 and np.array_equal(rows, expected)
    assert rows[:, 6].max() > 0 and rows[:, 8].max() > 0 and rows[:, 9].max() > 0 and rows[:, 14].max() > 0


def test_grouped_probabilities_equal_the_group_by_group_ones():
    models = load_link_models()
    rng = np.random.default_rng(7)
    sizes = [1, 3, 0, 5, 2, 8, 1]
    off = np.concatenate([[0], np.cumsum(sizes)])
    claim_rows = rng.normal(size=(off[-1], len(models.claim_mean))).astype(np.float32)
    event_rows = rng.normal(size=(off[-1], len(models.event_mean))).astype(np.float32)
    together = models.claim_probabilities_of(claim_rows, off), models.event_probabilities_of(event_rows, off)
    for k in range(len(sizes)):
        part = slice(off[k], off[k + 1])
        if sizes[k]:
            assert np.array_equal(together[0][part], models.claim_probabilities(claim_rows[part].copy()))
            assert np.array_equal(together[1][part], models.event_probabilities(event_rows[part].copy()))
    doc_rows = rng.normal(size=(9, len(DOC_FEATURES))).astype(np.float32)
    for kind in models.documents:
        assert np.array_equal(models.document_probabilities_of(kind, doc_rows),
                              np.concatenate([models.document_probabilities(kind, r[None, :].copy()) for r in doc_rows]))


def test_event_table_rows_equal_the_one_pair_rows():
    from influence_atlas.reconcile.features import EventTable, event_pair_features
    from influence_atlas.reconcile.links import event_view

    views = [event_view("attack", "2022-03", {"Mali", "Wagner Group"}, "Moura", 300, "Soldiers killed 300 in Moura."),
             event_view("attack", "2022-03-27", {"Mali"}, "Moura", 500, "An attack killed 500 people in Moura."),
             event_view("attack", "2022", set(), None, None, "An attack happened in 2022."),
             event_view("protest", None, {"Russia"}, "Bamako", 2, "People protested in Bamako."),
             event_view("attack", "2019-05", {"Mali", "Wagner Group"}, "Gao", 40, "Forty died near Gao.")]
    pairs = [(i, j) for i in range(len(views)) for j in range(len(views))]
    left, right = (np.array(v, np.int64) for v in zip(*pairs))
    cos = np.random.default_rng(3).uniform(0.0, 1.0, len(pairs)).astype(np.float32)
    rows = EventTable(views).pair_rows(left, right, cos, cos[::-1].copy())
    expected = np.stack([event_pair_features(views[i], views[j], float(c), float(d))
                         for (i, j), c, d in zip(pairs, cos, cos[::-1])])
    assert rows.dtype == np.float32 and np.array_equal(rows, expected)
    assert rows[:, 2].max() == 1 and rows[:, 9].max() == 1 and rows[:, 10].max() == 1 and rows[:, 8].max() == 1
