import re
import sys
import unicodedata

from hypothesis import given, settings, strategies as st

from influence_atlas.text.normalise import count_words, document_id, fold, fold_with_offsets, normalise_text


def _fold_whole(s: str) -> str:
    """Fold the whole string at once: the definition fold's character-by-character folding must agree with."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.replace("’", "'").replace("‘", "'")
    return re.sub(r"\s+", " ", s).strip().casefold()


def test_unicode_and_spaces_are_normalised():
    raw = "Cafe\u0301 in\u00a0Bamako,\u202fMali\u200b."
    assert normalise_text(raw) == "Café in Bamako, Mali."


def test_hard_breaks_inside_a_sentence_are_joined_and_paragraphs_kept():
    raw = "A Heading\n\nThe junta signed a deal with\nthe company, and\nlater more.\nA new sentence.\n\nNext paragraph."
    assert normalise_text(raw) == "A Heading\n\nThe junta signed a deal with the company, and later more.\nA new sentence.\n\nNext paragraph."


def test_heading_followed_by_paragraph_on_next_line_stays_apart():
    raw = "Gains in the Field\nIn the Sahel the approach worked."
    assert normalise_text(raw) == "Gains in the Field\nIn the Sahel the approach worked."


def test_web_boilerplate_lines_are_dropped_by_general_rules():
    raw = (
        "gtm Jump to navigation\n\nSkip to content\n\nReal headline here\n\n"
        "We use cookies to improve your experience.\n\nShare on Twitter\n\nFacebook | Twitter | Email\n\n"
        "The body of the article mentions cookies in a longer sentence that is not boilerplate at all, clearly.\n\n"
        "Subscribe to our newsletter"
    )
    out = normalise_text(raw)
    assert out.split("\n\n") == [
        "Real headline here",
        "The body of the article mentions cookies in a longer sentence that is not boilerplate at all, clearly.",
    ]


def test_id_is_sha256_of_normalised_text():
    a = normalise_text("Same  text\u00a0here.")
    b = normalise_text("Same text here.")
    assert a == b and document_id(a) == document_id(b) and len(document_id(a)) == 64


def test_count_words():
    assert count_words("Mali's junta, since 2021 — 3 coups.") == 6


def test_fold_agrees_with_folding_the_whole_string_for_every_character():
    # Each assigned code point after a letter, followed by a combining accent and an accented letter.
    for cp in range(sys.maxunicode + 1):
        c = chr(cp)
        if unicodedata.category(c) not in ("Cn", "Cs", "Co"):
            s = f"a{c}\u0301É"
            assert fold(s) == _fold_whole(s), (hex(cp), s)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_fold_is_fold_with_offsets_with_white_space_collapsed(s):
    folded, where = fold_with_offsets(s)
    assert fold(s) == _fold_whole(s) == re.sub(r"\s+", " ", folded).strip()
    # Every folded character points at the character it comes from, in order.
    assert len(where) == len(folded) and where == sorted(where) and all(0 <= i < len(s) for i in where)
    assert all(folded[k] in fold_with_offsets(s[i])[0] for k, i in enumerate(where))


def test_fold_with_offsets_keeps_white_space_and_points_into_the_text():
    folded, where = fold_with_offsets("Ça  va\u00a0Éric")
    assert folded == "ca  va eric"
    assert [where[k] for k in range(len(folded)) if folded[k] == "e"] == [7]
