"""Who is speaking in each stretch of a sentence: the author, or someone the text quotes, cites or debunks.

Stance and narrative detection count only the author's own voice as the author's view.
A sentence is cut into clauses at concessions ("While critics ..., X") and contrasts ("..., but
X"); inside a clause, what follows a claim verb ("the Kremlin professes ..."), a claim noun
("posts accusing ..."), a passive attribution ("has been criticised for ...") or a holder of
views ("critics argue ...") is reported, and so is a sentence framed by "according to" and
everything inside quotation marks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..ontology.lexicons import VoiceCues, load_voice_cues

AUTHOR = "author"
REPORTED = "reported"
# A conceded clause ("While critics focus on X, ...") counts for little; the main clause for all.
CONCEDED_WEIGHT = 0.3
BEFORE_CONTRAST_WEIGHT = 0.5
HEDGED_WEIGHT = 0.6
_QUOTES = (("“", "”"), ("«", "»"), ("„", "“"), ("‘", "’"))
_WORD = re.compile(r"\w+", re.U)


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of one sentence (absolute offsets) with its voice, weight, and whether the sentence debunks."""

    start: int
    end: int
    voice: str
    weight: float
    debunked: bool


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) spans of text inside quotation marks, paired within a paragraph."""
    spans: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+", text):
        p0, body = para.start(), para.group(0)
        for opening, closing in _QUOTES:
            if opening == "‘":
                # Apostrophes double as closing single quotes: pair only ‘ with a ’ that ends a word run.
                for m in re.finditer(r"‘([^‘’\n]{2,300})’(?!\w)", body):
                    spans.append((p0 + m.start(), p0 + m.end()))
                continue
            depth_start = None
            for i, ch in enumerate(body):
                if ch == opening and depth_start is None:
                    depth_start = i
                elif ch == closing and depth_start is not None:
                    spans.append((p0 + depth_start, p0 + i + 1))
                    depth_start = None
        # Straight double quotes alternate open/close.
        marks = [m.start() for m in re.finditer(r'"', body)]
        for a, b in zip(marks[::2], marks[1::2]):
            spans.append((p0 + a, p0 + b + 1))
    return sorted(spans)


def _clause_break(sentence: str, start: int) -> int | None:
    """Return the position of the comma (or dash, colon, semicolon) that ends a clause opened at `start`.

    Commas inside a list ("of Malian, French, and UN forces,") do not end the clause.
    """
    for m in re.finditer(r"[,;:—–]", sentence[start:]):
        pos = start + m.start()
        after = sentence[pos + 1 :]
        if m.group(0) == "," and (re.match(r"\s*(?:and|or|et|ou)\s", after) or re.match(r"\s*[\w'’-]+(?:\s+[\w'’-]+)?\s*,", after)):
            continue
        return pos
    return None


def _clauses(sentence: str, language: str | None, cues: VoiceCues) -> list[tuple[int, int, float]]:
    """Cut a sentence at a leading concession and at contrasts; return (start, end, weight) relative spans."""
    n = len(sentence)
    cuts: list[tuple[int, float, float]] = []  # (position, weight before, weight after)
    concessive = cues.get("concessive", language)
    lead = re.match(r"\s*(?:and\s+|but\s+|yet\s+|et\s+|mais\s+)?", sentence, re.I)
    m = concessive.match(sentence, lead.end() if lead else 0) if concessive else None
    if m:
        comma = _clause_break(sentence, m.end())
        if comma is not None and comma < n - 3:
            cuts.append((comma + 1, CONCEDED_WEIGHT, 1.0))
    contrast = cues.get("contrast", language)
    if contrast:
        for c in contrast.finditer(sentence):
            before = sentence[max(0, c.start() - 3) : c.start()]
            # A mid-sentence contrast after a clause break: ", but", "; yet", "— however".
            if c.start() > 0 and re.search(r"[,;:—–]\s*$", before) and c.start() < n - 3:
                cuts.append((c.start(), BEFORE_CONTRAST_WEIGHT, 1.0))
    for semi in re.finditer(r";", sentence):
        cuts.append((semi.end(), 1.0, 1.0))
    cuts.sort()
    spans: list[tuple[int, int, float]] = []
    start = 0
    for pos, before_w, _ in cuts:
        if pos <= start:
            continue
        spans.append((start, pos, before_w))
        start = pos
    spans.append((start, n, 1.0))
    # A weight given to an earlier clause (before a contrast) also lowers everything before it.
    return spans


def _reported_from(clause: str, language: str | None, cues: VoiceCues) -> int | None:
    """Return where, inside a clause, reported words begin (relative), or None when the clause is all the author's."""
    starts: list[int] = []
    first_person = cues.get("first_person", language)
    verbs = cues.get("claim_verbs", language)
    if verbs:
        for m in verbs.finditer(clause):
            before = clause[max(0, m.start() - 25) : m.start()]
            if first_person and re.search(r"(?:" + first_person.pattern + r")\s+(?:\w+\s+)?$", before, re.I):
                continue
            starts.append(m.start())
            break
    passive = cues.get("passive_attribution", language)
    m = passive.search(clause) if passive else None
    if m:
        starts.append(m.start())
    # "posts accusing ...", "une propagande qui présente ...": the claim starts at the connective, the noun is the author's.
    nouns = cues.get("claim_nouns", language)
    m = nouns.search(clause) if nouns else None
    if m:
        starts.append(m.start() + re.search(r"\S+$", m.group(0)).start())
    spread, connectives = cues.get("spread_verbs", language), cues.get("connectives", language)
    if spread and connectives:
        for m in spread.finditer(clause):
            c = connectives.search(clause, m.end())
            if c:
                starts.append(c.start())
                break
    holders, holder_verbs = cues.get("holders", language), cues.get("holder_verbs", language)
    if holders and holder_verbs:
        for m in holders.finditer(clause):
            if re.match(r"\s+(?:\w+\s+){0,3}?(?:" + holder_verbs.pattern + r")", clause[m.end() :], re.I):
                starts.append(m.start())
                break
    return min(starts) if starts else None


def sentence_segments(text: str, start: int, end: int, language: str | None, quotes: list[tuple[int, int]],
                      cues: VoiceCues | None = None) -> list[Segment]:
    """Return the segments of one sentence in order: who speaks in each and how much it weighs."""
    cues = cues or load_voice_cues()
    sentence = text[start:end]
    debunk = cues.get("debunk", language)
    debunked = bool(debunk and debunk.search(sentence))
    hedges = cues.get("hedges", language)
    according = cues.get("according_to", language)
    attributed_all = bool(according and according.search(sentence))
    verbs = cues.get("claim_verbs", language)
    if verbs and not attributed_all:
        # "..., said the minister." / "..., disent les opposants.": a trailing frame hands back the whole sentence.
        tail = re.search(r",\s*(?:(?!while|whilst|as|and|but|who|which|tout|en|alors|et|mais|qui)[\w’'-]+\s+){0,3}?(?:" + verbs.pattern
                         + r")(?:\s+[\w’'-]+){0,4}\W*$", sentence, re.I)
        attributed_all = bool(tail and tail.start() > 10)
    pieces: list[tuple[int, int, str, float]] = []
    for c0, c1, weight in _clauses(sentence, language, cues):
        clause = sentence[c0:c1]
        if hedges and hedges.search(clause):
            weight *= HEDGED_WEIGHT
        if attributed_all:
            pieces.append((c0, c1, REPORTED, weight))
            continue
        r = _reported_from(clause, language, cues)
        if r is None:
            pieces.append((c0, c1, AUTHOR, weight))
        else:
            if r > 0:
                pieces.append((c0, c0 + r, AUTHOR, weight))
            pieces.append((c0 + r, c1, REPORTED, weight))
    # Quoted words are someone else's, whatever the clause around them.
    out: list[Segment] = []
    for p0, p1, voice, weight in pieces:
        cuts = sorted({p0, p1} | {max(p0, min(p1, q - start)) for q0, q1 in quotes if q0 < end and q1 > start for q in (q0, q1)})
        for a, b in zip(cuts, cuts[1:]):
            if b <= a:
                continue
            inside = any(q0 <= start + a and start + b <= q1 for q0, q1 in quotes)
            out.append(Segment(start + a, start + b, REPORTED if inside else voice, weight, debunked))
    return out


def segment_at(segments: list[Segment], offset: int) -> Segment | None:
    """Return the segment holding an absolute offset."""
    for s in segments:
        if s.start <= offset < s.end:
            return s
    return None


def is_negated(text: str, segment: Segment, offset: int, language: str | None, cues: VoiceCues | None = None, window: int = 4) -> bool:
    """Return whether a negator stands within `window` words before `offset`, inside the same segment."""
    cues = cues or load_voice_cues()
    negation = cues.get("negation", language)
    if negation is None:
        return False
    before = text[segment.start : offset]
    words = list(_WORD.finditer(before))
    if not words:
        return False
    tail = before[words[-window].start() if len(words) >= window else words[0].start() :]
    return bool(negation.search(tail))
