from influence_atlas.text.normalise import count_words, document_id, normalise_text


def test_unicode_and_spaces_are_normalised():
    raw = "Cafe\u0301 in\u00a0Bamako,\u202fMali\u200b."
    assert normalise_text(raw) == "Café in Bamako, Mali."


def test_hard_breaks_inside_a_sentence_are_joined_and_paragraphs_kept():
    raw = "A Heading\n\nThe junta signed a deal with\nthe company, and\nlater more.\nA new sentence.\n\nNext paragraph."
    assert normalise_text(raw) == "A Heading\n\nThe junta signed a deal with the company, and later more.\nA new sentence.\n\nNext paragraph."


def test_heading_followed_by_paragraph_on_next_line_stays_apart():
    raw = "Successes on the Ground\nIn West Africa the strategy worked."
    assert normalise_text(raw) == "Successes on the Ground\nIn West Africa the strategy worked."


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
