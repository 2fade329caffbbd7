"""Figures that conflict across sources: counted kinds, figures given as a most or a least, and the contradiction two
documents of one story make by counting one kind of thing differently (invented sentences)."""

from __future__ import annotations

import numpy as np

from influence_atlas.extract.quantities import counted_kind, find_quantities, stated_bound
from influence_atlas.records import Link
from influence_atlas.reconcile.claims import PairFindings, direct_claim_links, one_proposition
from influence_atlas.reconcile.features import (CLAIM_FEATURES, conflicting_figures, describe, figures_in_conflict,
                                                load_link_models)


def _kinds(text: str) -> list[tuple[float, str | None, str | None]]:
    return [(q.value, counted_kind(text, q), stated_bound(text, q)) for q in find_quantities(text)]


def test_one_kind_of_people_is_read_through_the_nouns_and_adjectives_that_tell_it():
    assert _kinds("Moscow flew 250 Russian military trainers to the capital.") == [(250.0, "personnel", None)]
    assert _kinds("Le ministre parle de plusieurs centaines de soldats étrangers.") == [(300.0, "personnel", None)]
    assert _kinds("There were only seven employees of the embassy in the town.") == [(7.0, "personnel", "most")]
    assert _kinds("Au moins quatre pays ont protesté.") == [(4.0, None, "least")]
    assert _kinds("The army bought two military transport planes.") == [(2.0, None, None)]


def test_figures_of_one_kind_told_with_other_nouns_conflict_by_their_bounds():
    many = describe("c1", "d1", "The spokesman said 250 Russian soldiers had landed in the capital.", "en")
    few = describe("c2", "d2", "The ambassador said only seven employees of the defence ministry were there.", "en")
    same = describe("c3", "d3", "Le porte-parole affirme que 250 instructeurs russes sont arrivés.", "fr")
    # "only seven" against 250 of the same kind: however far apart, both cannot hold.
    assert conflicting_figures(many, few) and conflicting_figures(few, many)
    assert figures_in_conflict(few, many) == {7.0}
    # 250 soldiers and 250 instructors are one figure of one kind: no conflict.
    assert conflicting_figures(many, same) is None
    # Without "only", figures more than ten times apart count different things.
    plain = describe("c4", "d4", "The ambassador said seven employees of the defence ministry were there.", "en")
    assert conflicting_figures(many, plain) is None
    # A least holds with any larger figure; a most with any smaller one.
    least = describe("c5", "d5", "Wagner has fighters in at least five towns of the north.", "en")
    more = describe("c6", "d6", "Wagner has fighters in 15 towns of the north.", "en")
    assert conflicting_figures(least, more) is None
    assert conflicting_figures(describe("c7", "d7", "Wagner has fighters in five towns of the north.", "en"), more)


def _row(cos: float) -> np.ndarray:
    row = np.zeros(len(CLAIM_FEATURES), np.float32)
    row[1] = cos
    return row


def test_two_tellings_of_one_story_that_count_one_kind_differently_contradict_whatever_the_document_step_reads():
    models = load_link_models()
    # The same_event confidence from which two documents read as one story contradict on figures of one kind.
    cut = models.thresholds["contradicts_figures"]
    assert cut <= models.thresholds["same_event"]
    many = describe("c1", "d1", "The spokesman said Russia had flown 250 soldiers to the capital.", "en")
    few = describe("c2", "d2", "The ambassador said only seven employees of Russia's defence ministry were there.", "en")
    assert many.actors & few.actors

    def found(same_event: float, a=many, b=few) -> dict:
        confidence = {"same_event": same_event, "corroborates": 0.2, "contradicts": 0.1}
        return {("d1", "d2"): PairFindings(confidence, [(0.1, 0.1, a, b, _row(0.3), "figures 250 vs 7 (personnel…)")],
                                           [])}

    links, _ = direct_claim_links(found(cut + 0.05))
    assert [(l.kind, l.items, l.score) for l in links] == [("contradicts", ("c1", "c2"), round(cut + 0.05, 3))]
    assert "figures differ: 250 vs 7" in links[0].detail
    # Two documents not read as telling one story: the document step decides, and it reads no contradiction.
    assert direct_claim_links(found(cut - 0.05))[0] == []
    # Figures of things the ontology does not name as one kind (tolls, towns) are left to the document step.
    tolls = describe("c3", "d1", "The attack killed 40 civilians in the village.", "en")
    other = describe("c4", "d2", "The attack killed 25 civilians in the village.", "en")
    assert direct_claim_links(found(cut + 0.05, tolls, other))[0] == []
    # Counts that name no actor in common may count two parties' people.
    mali = describe("c5", "d2", "The ambassador said only seven employees of Mali's defence ministry were there.", "en")
    assert not many.actors & mali.actors
    assert direct_claim_links(found(cut + 0.05, many, mali))[0] == []


def test_a_contradiction_on_a_count_passes_only_to_a_claim_that_repeats_the_count():
    texts = ["Only seven employees of the Russian defence ministry are in Bangui.",
             "Russia sent 250 military instructors to Bangui.",
             "Moscou a envoyé 250 instructeurs militaires à Bangui.",
             "Russian instructors first arrived in Bangui in 2018."]
    said = {f"c{k}": describe(f"c{k}", f"d{k}", text, "fr" if "Moscou" in text else "en")
            for k, text in enumerate(texts, 1)}
    # c1 contradicts c2 on the count; c3 repeats c2's count, c4 corroborates c2 without giving it.
    links = [Link(f"l{k}", kind, ("c1" if kind == "contradicts" else "c2", end), kind, 0.9)
             for k, (kind, end) in enumerate((("contradicts", "c2"), ("corroborates", "c3"), ("corroborates", "c4")), 1)]
    implied = {(l.kind, l.items) for l in one_proposition(links, said)}
    assert ("contradicts", ("c1", "c3")) in implied
    assert ("contradicts", ("c1", "c4")) not in implied


def test_the_day_of_a_date_is_no_figure_to_share_or_dispute():
    dated = describe("c1", "d1", "Russian advisers reached the town after the French left on December 14, officers said.", "en")
    counted = describe("c2", "d2", "The ambassador said 14 officers of the defence ministry were in the town.", "en")
    assert dated.figures == () and counted.figures == ((14.0, "personnel"),)
    # A count right after a month name stays a count.
    assert describe("c3", "d3", "In March 30 soldiers were killed.", "en").figures == ((30.0, "personnel"),)
