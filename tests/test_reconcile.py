"""Across sources: same-event groups with disagreements, claims compared by proposition, blocking, incremental updates."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from influence_atlas.pipeline import analyze, ingest
from influence_atlas.reconcile import link_across
from influence_atlas.reconcile.claims import PairFindings, one_proposition, reason
from influence_atlas.reconcile.events import disagreements, link_same_events, pair_score
from influence_atlas.reconcile.features import (CLAIM_FEATURES, claim_pair_features, describe, load_link_models,
                                                shared_anchor)
from influence_atlas.reconcile.links import candidate_documents
from influence_atlas.records import Claim, Document, Event, EventActor, Link


def _event(id_, doc, etype="violence_against_civilians", date=None, actors=("Mali",), location=None, deaths=None, text="x"):
    return Event(id_, doc, etype, date, None, tuple(EventActor(a, "agent") for a in actors), location, None, None, deaths,
                 None, "asserted", 0, 1, text, "t", "test", 0.5)


def _claim(id_, doc, text):
    return Claim(id_, doc, 0, len(text), text, 0.9, (), None, None, None, False, (), "test", 0.9)


def test_tellings_of_one_massacre_score_above_unrelated_and_incompatible_dates_never_link():
    a = _event("e1", "d1", date="2022-03", actors=("Mali", "Wagner Group"), location="Moura", deaths=500,
               text="Malian soldiers and Wagner mercenaries executed hundreds of villagers in Moura in March 2022.")
    b = _event("e2", "d2", actors=("Mali", "Wagner Group"), location="Moura", deaths=300,
               text="In Moura, the Malian army and Russian mercenaries killed some 300 civilians.")
    c = _event("e3", "d3", date="2019", actors=("Mali",), deaths=300, text="Another killing in 2019.")
    d = _event("e4", "d4", "election", date="2022-03", actors=("Senegal",), text="Senegal held a peaceful presidential vote.")
    assert pair_score(a, b) > pair_score(a, d)
    assert pair_score(a, c) == 0.0, "incompatible dates never link"
    assert pair_score(a, _event("e5", "d1", date="2022-03")) == 0.0, "one document never links to itself"
    assert "fatalities: 300 vs 500" in "; ".join(disagreements([a, b]))
    assert "date: 2022-03 vs undated" in "; ".join(disagreements([a, b]))
    assert disagreements([a, a]) == []


def test_a_group_needs_every_two_documents_to_be_a_confident_pair_and_agreeing_dates():
    """Chains of look-alikes do not make one happening; dates that disagree (more than the date window apart, whatever
    their precision) never share a group."""
    month = _event("e1", "d1", date="2022-03")
    day = _event("e2", "d2", date="2022-03-27")
    other_day = _event("e3", "d3", date="2022-02-05")
    conf = lambda c: {"same_event": c, "corroborates": 0.0, "contradicts": 0.0}  # noqa: E731
    found = {("d1", "d2"): PairFindings(conf(0.95), [], [(0.9, "e1", "e2")]),
             ("d1", "d3"): PairFindings(conf(0.95), [], [(0.9, "e1", "e3")]),
             ("d2", "d3"): PairFindings(conf(0.95), [], [(0.9, "e2", "e3")])}
    links = link_same_events([month, day, other_day], threshold=0.5, found=found)
    for link in links:
        assert not {"e2", "e3"} <= set(link.items), "5 February and 27 March are two days"
    # Without a confident d2-d3 pair, d3 cannot join a group holding d2 even if its date fitted.
    same_day = _event("e3", "d3", date="2022-03-27")
    found[("d2", "d3")] = PairFindings(conf(0.1), [], [(0.9, "e2", "e3")])
    links = link_same_events([month, day, same_day], threshold=0.5, found=found)
    assert all(len(l.items) == 2 for l in links)
    assert all(l.score >= 0.5 for l in links)


def test_a_third_telling_joins_a_group_whose_documents_are_all_at_least_plausible_partners():
    """Each join is a confident pair; a document joins a group only when every member's document is at least a
    plausible partner of its own (the packaged same_event_join cut-off), never an unlikely one."""
    join = load_link_models().thresholds["same_event_join"]
    cut = load_link_models().thresholds["same_event"]
    assert join < cut
    evs = [_event("e1", "d1", date="2022-03"), _event("e2", "d2", date="2022-03"), _event("e3", "d3", date="2022-03")]
    conf = lambda c: {"same_event": c, "corroborates": 0.0, "contradicts": 0.0}  # noqa: E731
    found = {("d1", "d2"): PairFindings(conf(0.95), [], [(0.9, "e1", "e2")]),
             ("d2", "d3"): PairFindings(conf(0.9), [], [(0.8, "e2", "e3")]),
             ("d1", "d3"): PairFindings(conf((join + cut) / 2), [], [])}
    assert [sorted(l.items) for l in link_same_events(evs, found=found)] == [["e1", "e2", "e3"]]
    found[("d1", "d3")] = PairFindings(conf(join / 2), [], [])
    assert all(len(l.items) == 2 for l in link_same_events(evs, found=found))


def test_events_read_from_one_sentence_are_one_telling_so_a_group_stays_whole():
    """A document may read one sentence as two events (a statement condemning a deployment): when one partner matches
    one reading and another partner the other, the three documents form one group with one item per document; two
    events of different sentences of one document still never share a group."""
    from dataclasses import replace

    conf = lambda c: {"same_event": c, "corroborates": 0.0, "contradicts": 0.0}  # noqa: E731
    said = _event("a1", "d1", "other", date="2021-12")
    statement = replace(_event("b1", "d2", "other", date="2021-12"), start=100, end=180)
    deployment = replace(_event("b2", "d2", "deployment", date="2021-12"), start=100, end=180)
    told = _event("c1", "d3", "deployment", date="2021-12")
    found = {("d1", "d2"): PairFindings(conf(0.95), [], [(0.9, "a1", "b1")]),
             ("d2", "d3"): PairFindings(conf(0.9), [], [(0.9, "b2", "c1")],
                                        {("b2", "c1"): "same deployment", ("c1", "b2"): "same deployment"}),
             ("d1", "d3"): PairFindings(conf(0.6), [], [])}
    links = link_same_events([said, statement, deployment, told], found=found)
    assert [sorted(l.items) for l in links] == [["a1", "b1", "c1"]]
    assert "same deployment" in links[0].detail, "the reason of the join made through the other reading is kept"
    elsewhere = replace(deployment, start=300, end=360)
    links = link_same_events([said, statement, elsewhere, told], found=found)
    assert sorted(sorted(l.items) for l in links) == [["a1", "b1"], ["b2", "c1"]]


def test_figures_are_compared_numerically_and_denials_are_seen():
    low = describe("c1", "d1", "The attack killed 300 civilians in the village.", "en")
    high = describe("c2", "d2", "The attack killed 500 civilians in the village.", "en")
    same = describe("c3", "d3", "Some 300 civilians died in the attack on the village.", "en")
    row_hi = claim_pair_features(low, high, 0.9, 0.8, 0.0)
    row_same = claim_pair_features(low, same, 0.9, 0.8, 0.0)
    col = CLAIM_FEATURES.index
    assert row_hi[col("figure_conflict")] > 0 and row_hi[col("figure_same")] == 0
    assert row_same[col("figure_same")] == 1 and row_same[col("figure_conflict")] == 0
    assert "300 vs 500" in reason("contradicts", low, high, 0.9)
    denial = describe("c4", "d4", "There are no Wagner forces in Mali.", "en")
    assertion = describe("c5", "d5", "Wagner forces are deployed in Mali.", "en")
    assert denial.negated and not assertion.negated
    assert {"Wagner Group", "Mali"} <= denial.actors & assertion.actors
    assert "denies" in reason("contradicts", denial, assertion, 0.8)
    french = describe("c6", "d6", "Il n'y a pas de mercenaires de Wagner au Mali.", "fr")
    assert french.negated and "Wagner Group" in french.actors


def test_a_month_or_weekday_is_no_town_a_statement_names():
    # The gazetteer holds towns named like months (March, England): a date is no place two statements share.
    a = describe("c1", "d1", "The convoy reached Kidal in March, the army said.", "en")
    b = describe("c2", "d2", "Elections were postponed in March after the protests.", "en")
    assert "Kidal" in a.places and not a.places & b.places
    assert shared_anchor(a, b) is None


def test_the_claim_model_prefers_a_denial_of_the_same_proposition_to_an_unrelated_pair():
    models = load_link_models()
    denial = describe("c1", "d1", "There are no Wagner forces in Mali, the Malian government said.", "en")
    assertion = describe("c2", "d2", "Wagner forces are deployed in Mali, Western governments said.", "en")
    unrelated = describe("c3", "d3", "Senegal's economy grew by 5 percent last year.", "en")
    rows = np.stack([claim_pair_features(denial, assertion, 0.8, 0.8, 1.0), claim_pair_features(denial, unrelated, 0.1, 0.2, 0.0)])
    p = models.claim_probabilities(rows)
    assert p[0, 2] > p[1, 2] and p[1, 0] > 0.5


def test_blocking_bounds_the_pairs_per_document():
    rng = np.random.default_rng(3)
    vecs = {f"d{i:03d}": v / np.linalg.norm(v) for i, v in enumerate(rng.normal(size=(200, 16)).astype(np.float32))}
    keys = {d: {"Russia"} for d in vecs}
    pairs = candidate_documents(vecs, keys, neighbours=5)
    assert len(pairs) <= 200 * 5
    assert all(a < b for a, b in pairs)
    only = candidate_documents(vecs, keys, focus={"d007"}, neighbours=5)
    assert len(only) == 5 and all("d007" in p for p in only)
    assert candidate_documents(vecs, {d: {d} for d in vecs}) == set(), "documents with no shared key are never compared"


def test_unrelated_documents_get_no_links():
    docs = [Document("d1", "a", "a", "Senegal held a peaceful presidential election. Turnout was high in Dakar."),
            Document("d2", "b", "b", "Wagner mercenaries killed 300 civilians in Moura, Mali. The army denied it.")]
    claims = [_claim("c1", "d1", "Senegal held a peaceful presidential election."),
              _claim("c2", "d2", "Wagner mercenaries killed 300 civilians in Moura, Mali.")]
    assert link_across(docs, [], claims) == []


def store_docs(store, items):
    records = {e.id: e.doc for e in store.events()} | {c.id: c.doc for c in store.claims()}
    return {records[i] for i in items}


def test_incremental_linking_equals_a_full_pass(tmp_path, seeds):
    from influence_atlas.store import open_store

    full = open_store(str(tmp_path / "full.db"))
    ingest(full, [seeds])
    analyze(full)
    step = open_store(str(tmp_path / "step.db"))
    for i, path in enumerate(sorted(seeds.glob("*.txt"))):
        one = tmp_path / f"in{i}"
        one.mkdir()
        shutil.copy(path, one / path.name)
        ingest(step, [one])
        analyze(step)
    kinds = lambda store: sorted((l.kind, tuple(sorted(store_docs(store, l.items)))) for l in store.links())  # noqa: E731
    assert set(kinds(step)) == set(kinds(full))
    assert any(k[0] in ("contradicts", "corroborates") for k in kinds(step))


def test_a_link_needs_a_specific_anchor_not_a_shared_country():
    """Two statements are one proposition only when they share a figure, a town, a month or (meaning the same) a rare
    name; naming Russia and Mali is not enough, and a French month meets its English telling."""
    from influence_atlas.reconcile.features import broad_names, conflicting_figures, shared_anchor

    a = describe("c1", "d1", "Russia is expanding its influence in Mali and across Africa.", "en")
    b = describe("c2", "d2", "Mali and Russia signed new deals as Moscow courts African states.", "en")
    assert {"Russia", "Mali"} <= a.actors & b.actors
    assert shared_anchor(a, b, rare_names=a.names | b.names) is None
    en = describe("c3", "d3", "Russia sent 450 military trainers to Burkina Faso in March 2022.", "en")
    fr = describe("c4", "d4", "La Russie a envoyé 450 formateurs militaires au Burkina Faso le 14 mars 2022.", "fr")
    assert shared_anchor(en, fr).startswith("figure 450")
    undated = describe("c5", "d5", "Les formateurs russes sont arrivés au Burkina Faso le 14 mars 2022.", "fr")
    assert shared_anchor(en, undated) == "month 2022-03"
    one = describe("c6", "d6", "Observers in Bangui said Touadéra asked Moscow for help.", "en")
    two = describe("c7", "d7", "In the capital, Touadera thanked the instructors.", "en")
    assert "touade" in one.names & two.names and "touade" not in broad_names()
    assert shared_anchor(one, two, {"touade"}, similarity=0.8) == "name touade…"
    assert shared_anchor(one, two, {"touade"}, similarity=0.2) is None, "a name alone does not make one proposition"
    assert shared_anchor(one, two, frozenset(), similarity=0.8) is None, "a name most documents use is no anchor"
    low = describe("c8", "d8", "The attack killed 300 civilians.", "en")
    high = describe("c9", "d9", "The attack killed 500 civilians.", "en")
    assert conflicting_figures(low, high) == "figures 300 vs 500 (civi…)"


def test_tellings_need_the_same_type_and_a_specific_anchor_to_be_one_happening():
    from influence_atlas.reconcile.claims import event_anchor

    a = _event("e1", "d1", "coup", date="2020-08-18", location="Mali", text="Soldiers seized power in Bamako.")
    b = _event("e2", "d2", "coup", date="2020-08", location="Mali", text="La junte a pris le pouvoir en août 2020.")
    c = _event("e3", "d3", "coup", location="Mali", text="A coup took place.")
    d = _event("e4", "d4", "election", date="2020-08", location="Mali", text="An election.")
    st = {e.id: describe(e.id, e.doc, e.evidence, "en") for e in (a, b, c, d)}
    assert event_anchor(a, b, st["e1"], st["e2"], frozenset()) == "same coup, dated 2020-08"
    assert event_anchor(a, c, st["e1"], st["e3"], frozenset()) is None, "one country is not one happening"
    assert event_anchor(b, d, st["e2"], st["e4"], frozenset()) is None, "another kind of happening"
    town = _event("e5", "d5", "coup", location="Kati", text="x")
    assert event_anchor(town, _event("e6", "d6", "coup", location="Kati", text="y"), st["e1"], st["e3"], frozenset())


def test_documents_are_ranked_among_partners_of_their_own_language():
    """A French telling is judged by how it ranks among French documents, not against English ones on an English encoder."""
    from influence_atlas.reconcile.features import corpus_context, reciprocal_ranks

    language = {"en1": "en", "en2": "en", "fr1": "fr", "fr2": "fr"}
    scores = {("en1", "en2"): 0.8, ("en1", "fr1"): 0.45, ("en1", "fr2"): 0.3, ("en2", "fr1"): 0.35, ("en2", "fr2"): 0.3,
              ("fr1", "fr2"): 0.6}
    ranks = reciprocal_ranks(scores, language)
    assert ranks[("en1", "fr1")] == (1.0, 1.0), "each is the other's nearest of its language"
    assert ranks[("en2", "fr2")][1] < 1.0
    names = {"en1": frozenset({"gossi", "barkha"}), "en2": frozenset({"touade"}), "fr1": frozenset({"gossi"}),
             "fr2": frozenset({"touade", "bangui"})}
    figures = {"en1": frozenset({300.0}), "en2": frozenset(), "fr1": frozenset({300.0}), "fr2": frozenset()}
    ctx = corpus_context(sorted(scores), scores, names, figures, language)
    assert ctx[("en1", "fr1")][2] > 0 and ctx[("en1", "fr1")][5] > 0 and ctx[("en1", "fr2")][2] == 0


def test_partners_of_near_equal_meaning_share_a_smooth_rank_and_a_small_move_moves_it_a_little():
    """By meaning a partner's rank is smooth (DOC_COS_TOLERANCE): two partners of near-equal cosine rank alike, and a
    move of a cosine by less than the tolerance (the int8 shared pass's spread) cannot swap a rank 2 for a rank 3."""
    from influence_atlas.reconcile.features import DOC_COS_TOLERANCE, reciprocal_ranks

    language = dict.fromkeys(("x", "y", "z", "w"), "en")
    near = {("x", "y"): 0.446, ("x", "z"): 0.445, ("w", "x"): 0.6, ("y", "z"): 0.1, ("w", "y"): 0.1, ("w", "z"): 0.1}
    smooth = reciprocal_ranks(near, language, DOC_COS_TOLERANCE)
    exact = reciprocal_ranks(near, language)
    assert exact[("x", "y")][1] == 0.5 and exact[("x", "z")][1] == 1 / 3, "without a tolerance the id breaks the tie"
    assert abs(smooth[("x", "y")][1] - smooth[("x", "z")][1]) < 0.05
    moved = reciprocal_ranks({**near, ("x", "y"): 0.440}, language, DOC_COS_TOLERANCE)
    assert 0 < smooth[("x", "y")][1] - moved[("x", "y")][1] < 0.1
    far = reciprocal_ranks({**near, ("x", "z"): 0.3}, language, DOC_COS_TOLERANCE)
    assert far[("x", "y")] == exact[("x", "y")] and far[("w", "x")] == (1.0, 1.0), "apart by more: the plain ranks"


def test_blocked_pass_ranks_pairs_as_the_whole_corpus_pass():
    """reconcile.blocks computes the ranks in SQL: the same values as features.reciprocal_ranks, to the bit, ties,
    near-ties and documents of no known language included."""
    import sqlite3

    from influence_atlas.reconcile.blocks import _ranks
    from influence_atlas.reconcile.features import DOC_COS_TOLERANCE, reciprocal_ranks, smooth_rank

    rng = np.random.default_rng(3)
    docs = [f"d{i:02d}" for i in range(40)]
    language = {d: ("en", "fr", None)[i % 3] for i, d in enumerate(docs)}
    pairs = [(a, b) for i, a in enumerate(docs) for b in docs[i + 1:] if rng.random() < 0.6]
    cos = {p: float(np.round(rng.uniform(0.2, 0.5), 3)) for p in pairs}  # rounded: ties and gaps of 0.001
    ns = {p: float(rng.choice([0.0, 0.1, 0.3])) for p in pairs}
    db = sqlite3.connect(":memory:")
    db.executescript("CREATE TABLE docs (id TEXT PRIMARY KEY, lang TEXT); "
                     "CREATE TABLE pairs (a TEXT, b TEXT, cos REAL, ns REAL, sr REAL)")
    db.executemany("INSERT INTO docs VALUES (?, ?)", language.items())
    db.executemany("INSERT INTO pairs VALUES (?, ?, ?, ?, 0.0)", [(a, b, cos[(a, b)], ns[(a, b)]) for a, b in pairs])
    _ranks(db)
    got = {(x, y): (rc, rn) for x, y, rc, rn in db.execute("SELECT x, y, rc, rn FROM ranks")}
    by_cos, by_names = reciprocal_ranks(cos, language, DOC_COS_TOLERANCE), reciprocal_ranks(ns, language)
    for a, b in pairs:
        ca, cb = smooth_rank(got[(a, b)][0]), smooth_rank(got[(b, a)][0])
        assert by_cos[(a, b)] == (max(ca, cb), min(ca, cb))
        na, nb = 1.0 / got[(a, b)][1], 1.0 / got[(b, a)][1]
        assert by_names[(a, b)] == (max(na, nb), min(na, nb))


def test_sources_opposed_on_several_actors_contradict_and_one_actor_is_not_enough():
    """Two documents that take opposite sides on two or more actors (summed strength >= 2.5) contradict as wholes: the
    link joins their claims about the most disputed actor nearest in meaning; one disputed actor, or weak sides, do not."""
    from influence_atlas.reconcile.claims import opposed_sides, same_assertion

    xs = [describe("a1", "d1", "Russia brought security to Mali.", "en"),
          describe("a2", "d1", "France failed the Sahel for a decade.", "en")]
    ys = [describe("b1", "d2", "Russia's mercenaries killed civilians in Mali.", "en"),
          describe("b2", "d2", "France trained Malian soldiers.", "en")]
    rng = np.random.default_rng(0)
    vec = {s.id: v / np.linalg.norm(v) for s, v in zip(xs + ys, rng.normal(size=(4, 8)))}
    pro, critic = {"Russia": 1.5, "France": -1.2}, {"Russia": -2.0, "France": 1.0}
    strength, actor, x, y = opposed_sides(pro, critic, xs, ys, vec)
    assert actor == "Russia" and abs(strength - 2.5) < 1e-9 and (x.id, y.id) == ("a1", "b1")
    assert opposed_sides({"Russia": 1.5}, {"Russia": -2.0}, xs, ys, vec) is None, "one disputed actor is not enough"
    assert opposed_sides({"Russia": 1.5, "France": -0.4}, critic, xs, ys, vec) is None, "a weak side takes no side"
    assert opposed_sides(pro, {"Russia": -2.0, "France": -1.0}, xs, ys, vec) is None, "agreeing on France"
    assert same_assertion(0.9).startswith("one assertion") and same_assertion(0.3) is None


def test_centring_each_language_lets_two_tellings_of_one_story_meet():
    """Multilingual rows carry their language: after each language's mean is taken off, a story told in English and in
    French is nearer to itself than to another story told in the same language."""
    from influence_atlas.reconcile.links import assertion_similarity, centred, story_similarities

    rng = np.random.default_rng(1)
    stories = rng.normal(size=(3, 16))
    accent = {"en": rng.normal(size=16) * 3, "fr": rng.normal(size=16) * 3}
    docs, language = {}, {}
    for lang in ("en", "fr"):
        for k in range(3):
            v = stories[k] + accent[lang] + rng.normal(size=16) * 0.1
            docs[f"{lang}{k}"] = (v / np.linalg.norm(v))[None, :].astype(np.float32)
            language[f"{lang}{k}"] = lang
    raw = float(docs["en0"][0] @ docs["fr0"][0])
    assert raw < float(docs["en0"][0] @ docs["en1"][0]), "before centring, the language dominates"
    flat = centred(docs, language)
    assert assertion_similarity(flat["en0"], flat["fr0"]) > assertion_similarity(flat["en0"], flat["en1"])
    sims = story_similarities(docs, language, [("en0", "fr0"), ("en0", "en1")])
    assert sims[("en0", "fr0")][0] > sims[("en0", "en1")][0] and sims[("en0", "fr0")][1] == pytest.approx(raw, abs=1e-5)
    assert assertion_similarity(np.zeros((0, 16)), flat["en0"]) == 0.0


def test_a_rare_name_anchors_across_languages_only_when_the_multilingual_meaning_is_near():
    from influence_atlas.reconcile.features import CROSS_NAME_SIMILARITY, shared_anchor

    a = describe("x", "d1", "The boss of the group, Prigozhin, was on the plane that crashed.", "en")
    b = describe("y", "d2", "Le patron du groupe, Prigozhin, figurait parmi les passagers de l'avion.", "fr")
    rare = frozenset(a.names & b.names)
    assert rare
    assert shared_anchor(a, b, rare, similarity=0.3) is None
    assert shared_anchor(a, b, rare, similarity=0.3, cross_similarity=CROSS_NAME_SIMILARITY)
    assert shared_anchor(a, b, rare, similarity=0.3, cross_similarity=CROSS_NAME_SIMILARITY - 0.1) is None


def test_dates_near_is_a_window_on_the_periods_two_dates_cover():
    from influence_atlas.reconcile.events import DATE_WINDOW_DAYS, dates_near

    assert dates_near("2021-12-23", "2022-01-07")  # an announcement and a report two weeks later
    assert dates_near("2022-03", "2022-03-27") and dates_near(None, "2022-03-27")
    assert not dates_near("2021-12-23", "2022-03-07")
    assert not dates_near("2020-08", "2021-05")
    assert DATE_WINDOW_DAYS < 62


def test_a_claim_that_contradicts_one_of_two_corroborating_claims_contradicts_the_other_one_step_only():
    said = {s.id: s for s in (
        describe("c1", "d1", "Sixteen Western countries condemned the deployment of Wagner in Mali.", "en"),
        describe("c2", "d2", "15 Western countries condemned the deployment of Wagner in Mali.", "en"),
        describe("c3", "d3", "Quinze pays ont dénoncé la présence de Wagner au Mali.", "fr"),
        describe("c4", "d4", "The Wagner Group trains soldiers in Mali.", "en"),
        describe("c5", "d5", "Senegal's economy grew by 5 percent last year.", "en"))}
    links = [Link("l1", "contradicts", ("c1", "c2"), "contradicts: figures differ", 0.8),
             Link("l2", "corroborates", ("c2", "c3"), "corroborates: same figure", 0.9),
             Link("l3", "corroborates", ("c3", "c4"), "corroborates: same assertion", 0.7),
             Link("l4", "corroborates", ("c2", "c5"), "corroborates: same assertion", 0.9)]
    implied = {(l.kind, l.items): l for l in one_proposition(links, said)}
    # c1 contradicts c2, which c3 asserts alike: c1 contradicts c3, with the product of the two confidences.
    assert implied[("contradicts", ("c1", "c3"))].score == pytest.approx(0.72)
    assert "third source" in implied[("contradicts", ("c1", "c3"))].detail
    # c2 and c4 both corroborate c3 (one step); nothing follows from an implied link (c1 - c4 would need two steps).
    assert ("corroborates", ("c2", "c4")) in implied
    assert not any("c1" in items and "c4" in items for _, items in implied)
    # Ends that name no actor in common are not one matter (c5 names none of c3's actors).
    assert not any("c5" in items for _, items in implied)
    # Documents already linked by a kind get no implied link of it; a link from opposite sides implies nothing.
    assert not [l for l in one_proposition(links + [Link("l5", "contradicts", ("c1", "c3"), "x", 0.5)], said)
                if l.kind == "contradicts" and l.items == ("c1", "c3")]
    sides = [Link("l1", "contradicts", ("c1", "c2"), "contradicts: the two sources take opposite sides on Mali", 0.8),
             links[1]]
    assert not [l for l in one_proposition(sides, said) if l.kind == "contradicts"]
