"""Rule-based sentence spans, for texts and tasks that do not go through spaCy.

Analysis splits a document with spaCy's parser, also cutting at line breaks (pipeline.document_sentences); the
records whose evidence is "the sentence" point at those spans. The persuasion-technique tagger, the DISARM cues
and the STIX export instead need the sentences of any text fast and the same way on every run, without a
parser: sentence_bounds gives them. The two are kept apart on purpose: on the 31 development documents they
agree on 584 of 615 sentences, and the tagger was trained and cross-validated on sentence_bounds' spans
(changing either would change the exported records).

rough_sentences serves the narrative detector and the cross-document linker: it leaves a closing quote or bracket
out of the sentence, where sentence_bounds keeps it (18 of 615 development sentences differ), and the narrative
heads and link models were trained on its spans.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? (and a closing quote or bracket) before white space, or at a line break.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n+")


# rough_sentences: a cut after . ! ? (past any closing quote or bracket) and white space, or at a line break.
_ROUGH_CUT = re.compile(r"(?<=[.!?…])[\"”’»)]*\s+|\n+")


def rough_sentences(text: str) -> list[tuple[int, int]]:
    """Return rough (start, end) sentence spans: cut after . ! ? and at line breaks, closing quotes left out."""
    spans, start = [], 0
    for m in _ROUGH_CUT.finditer(text):
        if text[start:m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Return (start, end) character offsets of the sentences of `text`, white space trimmed."""
    out: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end()
        _add_sentence(text, start, end, out)
        start = end
    _add_sentence(text, start, len(text), out)
    return out or [(0, len(text))]


def _add_sentence(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append((start, end))
