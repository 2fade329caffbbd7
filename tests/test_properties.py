"""Property tests: normalisation and document building hold for any input text, not only for the cases we thought of."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings, strategies as st

from influence_atlas.errors import InputError
from influence_atlas.pipeline import build_document
from influence_atlas.text.normalise import normalise_text
from influence_atlas.text.readers import Source

# Pieces that stress the rules: line and paragraph separators, controls, invisible and combining characters,
# boilerplate, words that continue a sentence, headings and list markers.
PIECES = st.sampled_from(list("ab. ,\n\t-#*•:;)(\"'") + [
    "\u00a0", "\u200b", "\u0301", "\u0345", "\u2028", "\u2029", "\r", "\u0085", "\x1b", "\ufeff", "\u2000", "\ud800",
    "\u1100", "\u1161", "and", "the", "Share", "fbpx", "É", "skip to content", "x" * 30, "A", "Wagner", "Mali",
])
TEXTS = st.one_of(st.text(), st.lists(PIECES, max_size=50).map("".join))
SETTINGS = settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@SETTINGS
@given(TEXTS)
def test_normalisation_is_idempotent_nfc_and_total(raw):
    once = normalise_text(raw.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
    assert normalise_text(once) == once
    assert unicodedata.normalize("NFC", once) == once
    assert all(c == "\n" or unicodedata.category(c) != "Cc" for c in once)


@SETTINGS
@given(TEXTS, st.dictionaries(st.sampled_from(["title", "authors", "published", "outlet", "url"]), TEXTS, max_size=4))
def test_build_document_gives_a_document_or_an_input_error(text, meta):
    try:
        doc = build_document(Source(name="n.txt", path="/tmp/n.txt", text=text, meta=meta, kind="structured"))
    except InputError:
        return
    doc.text.encode("utf-8")
    assert doc.title is None or (doc.title.isprintable() and doc.title.strip() == doc.title)
    assert len(doc.id) == 64
