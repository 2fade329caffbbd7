from influence_atlas.text.sentences import sentence_bounds


def test_sentences_end_after_their_closing_quote_and_at_line_breaks():
    text = '  He said "Go home." Then he left!\nA heading\n\n(It ended.) Last words'
    spans = sentence_bounds(text)
    assert [text[s:e].strip() for s, e in spans] == ['He said "Go home."', "Then he left!", "A heading", "(It ended.)", "Last words"]


def test_a_text_without_a_sentence_is_one_span():
    assert sentence_bounds("   ") == [(0, 3)]
    assert sentence_bounds("no full stop") == [(0, 12)]


def test_rough_sentences_leave_the_closing_quote_out_and_cut_at_line_breaks():
    from influence_atlas.text.sentences import rough_sentences

    text = 'He said: "It is over." Then he left!\nNew line here  \n\n  '
    spans = rough_sentences(text)
    assert [text[s:e].strip() for s, e in spans] == ['He said: "It is over.', 'Then he left!', 'New line here']
    assert rough_sentences("   \n ") == []
