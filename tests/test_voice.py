"""Quotation marks: which stretches of a text are someone else's words."""

from __future__ import annotations

from influence_atlas.extract.voice import QUOTE_PARAGRAPHS, quoted_spans


def _quoted(text: str) -> list[str]:
    return [text[a:b] for a, b in quoted_spans(text)]


def test_a_quotation_left_open_closes_in_a_paragraph_after_it():
    text = ("Le ministre a déclaré : « Les soldats sont partis.\n\nIls ne reviendront pas ». Puis : « Rien d'autre ».")
    assert _quoted(text) == ["« Les soldats sont partis.\n\nIls ne reviendront pas »", "« Rien d'autre »"]


def test_a_paragraph_the_quotation_goes_on_into_may_open_with_the_mark_again():
    text = "Il écrit : « Premier point.\n\n« Second point.\n\nTroisième point », conclut-il."
    assert _quoted(text) == ["« Premier point.\n\n« Second point.\n\nTroisième point »"]


def test_a_quotation_never_closed_nearby_is_no_quotation():
    paragraphs = ["She said: “The convoy left at dawn."] + ["Nothing follows here."] * QUOTE_PARAGRAPHS + ["It ended.”"]
    assert _quoted("\n\n".join(paragraphs)) == []
    # A closing mark in the next paragraph after a new opening pairs with that opening, not with the one left open.
    assert _quoted("“One.\n\nTwo “three” four.") == ["“three”"]
