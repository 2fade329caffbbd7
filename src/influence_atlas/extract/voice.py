"""Who is speaking in each stretch of a sentence: the author, or someone the text quotes, cites or debunks.

Stance and narrative detection count only the author's own voice as the author's view.
A sentence is cut into clauses at concessions ("While critics ..., X") and contrasts ("..., but
X"); inside a clause, what follows a claim verb ("the Kremlin professes ..."), a claim noun
("posts accusing ..."), a passive attribution ("has been criticised for ...") or a holder of
views ("critics argue ...") is reported, and so is a sentence framed by "according to" and
everything inside quotation marks.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Protocol

from ..errors import ModelError
from ..ontology.lexicons import VoiceCues, load_voice_cues

AUTHOR = "author"
REPORTED = "reported"
# A conceded clause ("While critics focus on X, ...") counts for little; the main clause for all.
CONCEDED_WEIGHT = 0.3
BEFORE_CONTRAST_WEIGHT = 0.5
HEDGED_WEIGHT = 0.6
_QUOTES = (("“", "”"), ("«", "»"), ("„", "“"), ("‘", "’"))
_WORD = re.compile(r"\w+", re.U)
# A quotation left open at the end of its paragraph may close in one of this many paragraphs after it (a statement quoted
# over several paragraphs); never closed there, it is no quotation.
QUOTE_PARAGRAPHS = 3


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of one sentence (absolute offsets) with its voice, weight, and whether the sentence debunks."""

    start: int
    end: int
    voice: str
    weight: float
    debunked: bool


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) spans of text inside quotation marks, paired within a paragraph; a quotation its paragraph
    leaves open runs on to the first closing mark of the next `QUOTE_PARAGRAPHS` paragraphs that opens nothing."""
    return list(_quoted_spans(text))


@lru_cache(maxsize=64)
def _quoted_spans(text: str) -> tuple[tuple[int, int], ...]:
    # Memoised by text: claims, stance and narratives each ask for a document's quotations (five calls a document).
    spans: list[tuple[int, int]] = []
    # A quotation left open at the end of its paragraph (absolute start, paragraphs it has run over), per opening mark.
    running: dict[str, tuple[int, int]] = {}
    for para in re.finditer(r"[^\n]+", text):
        p0, body = para.start(), para.group(0)
        for opening, closing in _QUOTES:
            if opening == "‘":
                # Apostrophes double as closing single quotes: pair only ‘ with a ’ that ends a word run.
                for m in re.finditer(r"‘([^‘’\n]{2,300})’(?!\w)", body):
                    spans.append((p0 + m.start(), p0 + m.end()))
                continue
            carried = running.pop(opening, None)
            depth_start = None
            for i, ch in enumerate(body):
                if carried is not None and ch == opening and not body[:i].strip():
                    continue  # a paragraph the quotation goes on into may open with the mark again
                if carried is not None and ch in (opening, closing):
                    if ch == closing:
                        # A quotation over several paragraphs closes at the first closing mark that opens nothing.
                        spans.append((carried[0], p0 + i + 1))
                        carried = None
                        continue
                    carried = None
                if ch == opening and depth_start is None:
                    depth_start = i
                elif ch == closing and depth_start is not None:
                    spans.append((p0 + depth_start, p0 + i + 1))
                    depth_start = None
            if depth_start is not None:
                running[opening] = (p0 + depth_start, 1)
            elif carried is not None and carried[1] < QUOTE_PARAGRAPHS:
                running[opening] = (carried[0], carried[1] + 1)
        # Straight double quotes alternate open/close.
        marks = [m.start() for m in re.finditer(r'"', body)]
        for a, b in zip(marks[::2], marks[1::2]):
            spans.append((p0 + a, p0 + b + 1))
    return tuple(sorted(spans))


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
    return list(_segments(text, start, end, language, tuple(quotes), _Same(cues or load_voice_cues())))


class _Same:
    """A memo key standing for one object (the voice cues, whose mappings do not hash): equal only to itself."""

    __slots__ = ("value",)

    def __init__(self, value: object):
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.value is self.value


@lru_cache(maxsize=4096)
def _segments(text: str, start: int, end: int, language: str | None, quotes: tuple[tuple[int, int], ...],
              same: _Same) -> tuple[Segment, ...]:
    # Memoised: stance (twice) and narratives each cut the same sentences; the segments are frozen, so sharing them
    # changes nothing.
    cues = same.value
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
    return tuple(out)


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


# A quoted stretch of at most this many words inside the author's sentence is a scare quote ("so-called"), not a quotation.
SCARE_QUOTE_WORDS = 3
RELAY_FILE = "models/stance/relay.json"


class _Named(Protocol):
    actor: str | None
    start: int
    end: int


def speaker_of(text: str, seg: Segment, segments: list[Segment], named: Sequence[_Named], target: str = "",
               according: re.Pattern | None = None) -> str:
    """Return the actor a reported stretch is given to: the actor named right after "according to", else the
    nearest actor named in the author's words of the sentence ("" when none; `target`, the actor the words are
    about, is never its own speaker)."""
    if according is not None:
        for cue in according.finditer(text, seg.start, seg.end):
            for m in named:
                if m.actor and m.actor != target and 0 <= m.start - cue.end() <= 12:
                    return m.actor
    best, gap = "", None
    for m in named:
        if not m.actor or m.actor == target:
            continue
        own = segment_at(segments, m.start)
        if own is None or own.voice != AUTHOR:
            continue
        d = seg.start - m.end if m.end <= seg.start else m.start - seg.end
        if d >= 0 and (gap is None or d < gap):
            best, gap = m.actor, d
    return best


def segment_speakers(text: str, sentences: list[tuple[int, int]], segments: list[list[Segment]], mentions: Sequence[_Named],
                     language: str | None, quotes: list[tuple[int, int]], cues: VoiceCues | None = None) -> list[dict[int, str]]:
    """Return, per sentence, the speaker of each quoted or attributed (not debunked) segment, keyed by its start: the
    actor `speaker_of` finds among `mentions` (linked mentions in text order), else the actor named outside the
    quotation marks of a sentence that quotes (its frame, "“...,” said X."); a sentence wholly in others' words with
    no speaker named continues the previous sentence's quotation; "" when no speaker is known."""
    cues = cues or load_voice_cues()
    according = cues.get("according_to", language)
    linked = sorted((m for m in mentions if m.actor), key=lambda m: m.start)
    starts = [m.start for m in linked]
    out: list[dict[int, str]] = []
    last = ""
    for (s, e), segs in zip(sentences, segments):
        named = linked[bisect_left(starts, s) : bisect_left(starts, e)]
        found: dict[int, str] = {}
        inside = [(q0, q1) for q0, q1 in quotes if q0 < e and q1 > s]
        # A quotation framed in the same sentence ("“...,” said X.") is X's, though the frame itself is reported.
        framing = [m for m in named if inside and not any(q0 <= m.start < q1 for q0, q1 in inside)]
        for g in segs:
            if g.voice != AUTHOR and not g.debunked:
                who = speaker_of(text, g, segs, named, "", according)
                if not who and framing:
                    who = min(framing, key=lambda m: min(abs(m.start - q1) for _, q1 in inside)).actor
                if not who and all(x.voice != AUTHOR for x in segs):
                    who = last  # wholly others' words, no speaker of its own: the quotation goes on
                found[g.start] = who
        if found:
            last = next((w for w in reversed(found.values()) if w), last)
        elif any(g.voice == AUTHOR for g in segs):
            last = ""
        out.append(found)
    return out


def _outside_quotes(text: str, start: int, end: int, quotes: list[tuple[int, int]]) -> str:
    """Return a sentence's text with its quoted stretches blanked out."""
    chars = list(text[start:end])
    for q0, q1 in quotes:
        for i in range(max(q0, start), min(q1, end)):
            chars[i - start] = " "
    return "".join(chars)


@dataclass(frozen=True, slots=True)
class VoiceProfile:
    """How a whole document uses other voices: how much of it others speak, who, and how the author keeps them at a
    distance. Rates are per sentence, shares per character of the document's sentences."""

    sentences: int
    reported_share: float   # characters in quoted or attributed words (debunked ones excluded)
    quoted_share: float     # characters inside quotation marks
    distancing: float       # distancing words ("claimed", "so-called", "without evidence") and scare quotes per sentence
    debunking: float        # share of sentences with a debunking word
    hedging: float          # share of sentences with a hedge
    reporting: int = 0      # sentences with quoted or attributed words
    framed: frozenset[str] = frozenset()  # speakers a distancing word frames in the author's words of their sentence
    speakers: tuple[tuple[str, int], ...] = ()  # characters of quoted or attributed words per speaker ("" unnamed), most first

    @property
    def concentration(self) -> float:
        """Return the share of the quoted and attributed words the most-quoted speaker has (0 when nobody is quoted);
        other speakers are counter-sources, words with no speaker named count as one more speaker."""
        total = sum(n for _, n in self.speakers)
        return self.speakers[0][1] / total if total else 0.0

    @property
    def distance(self) -> float:
        """Return how far the author holds what others say: distancing words and scare quotes per sentence, plus the
        share of sentences that debunk."""
        return self.distancing + self.debunking

    @property
    def distanced(self) -> bool:
        """Return whether the author's own words frame the most-quoted speaker with a distancing word ("X claims")."""
        return bool(self.framed)

    @property
    def relayed_speaker(self) -> str:
        """Return the named speaker the document quotes most, or ""."""
        return next((name for name, _ in self.speakers if name), "")


def voice_profile(text: str, sentences: list[tuple[int, int]], segments: list[list[Segment]], language: str | None,
                  quotes: list[tuple[int, int]], speakers: list[dict[int, str]] | None = None,
                  cues: VoiceCues | None = None) -> VoiceProfile:
    """Return the document's voice profile from its sentences, their segments (`sentence_segments`, one list per
    sentence, in the same order) and their speakers (`segment_speakers`; none: nobody named)."""
    cues = cues or load_voice_cues()
    distancing, debunk, hedges = cues.get("distancing", language), cues.get("debunk", language), cues.get("hedges", language)
    total = reported = quoted = 0
    far = debunked = hedged = 0
    by: dict[str, int] = {}
    framed: set[str] = set()
    reporting = 0
    for index, ((s, e), segs) in enumerate(zip(sentences, segments)):
        sentence = text[s:e]
        total += e - s
        reporting += int(any(g.voice != AUTHOR for g in segs))
        # A distancing word outside the quoted words ("X claims that ...", "..., X alleged") frames the sentence's speakers.
        own = _outside_quotes(text, s, e, quotes)
        frames = bool(distancing and distancing.search(own))
        for g in segs:
            if g.voice != AUTHOR and not g.debunked:
                reported += g.end - g.start
                who = speakers[index].get(g.start, "") if speakers else ""
                by[who] = by.get(who, 0) + g.end - g.start
                if frames:
                    framed.add(who)
        inside = [(max(s, q0), min(e, q1)) for q0, q1 in quotes if q0 < e and q1 > s]
        quoted += sum(b - a for a, b in inside)
        far += len(distancing.findall(sentence)) if distancing else 0
        # A short quotation inside a sentence the author speaks holds the quoted words at arm's length.
        far += sum(1 for a, b in inside if len(_WORD.findall(text[a:b])) <= SCARE_QUOTE_WORDS and b - a < e - s - 20)
        debunked += int(bool(debunk and debunk.search(sentence)))
        hedged += int(bool(hedges and hedges.search(sentence)))
    n = max(len(sentences), 1)
    chars = max(total, 1)
    ranked = tuple(sorted(by.items(), key=lambda kv: (-kv[1], kv[0])))
    return VoiceProfile(len(sentences), reported / chars, min(1.0, quoted / chars), far / n, debunked / n, hedged / n, reporting,
                        frozenset(framed), ranked)


@dataclass(frozen=True, slots=True)
class RelayRule:
    """Whether a document relays a speaker without distance, so that the speaker's stance and narratives count as
    its own: one voice carries most of what it quotes (`concentration` at least `min_concentration`: no counter-source
    of weight) and the author keeps no distance (`distance` at most `max_distance`, and no distancing word frames that
    speaker in the author's words: `VoiceProfile.distanced`). Both thresholds are chosen by
    leave-one-document-out cross-validation on the development set (`training/stance/relay.py`)."""

    min_concentration: float
    max_distance: float

    def holds(self, profile: VoiceProfile) -> bool:
        """Return whether the document relays a speaker without distance (never one the author frames with a
        distancing word)."""
        return (profile.concentration >= self.min_concentration and profile.distance <= self.max_distance
                and not profile.distanced)


@lru_cache(maxsize=1)
def load_relay_rule() -> RelayRule:
    """Return the packaged relay thresholds (`models/stance/relay.json`)."""
    where = resources.files("influence_atlas").joinpath(RELAY_FILE)
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
        return RelayRule(float(data["min_concentration"]), float(data["max_distance"]))
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"the relay thresholds {where} cannot be read ({exc}); reinstall influence-atlas "
                         "(pip install -e .) or rerun training/stance/relay.py") from exc
