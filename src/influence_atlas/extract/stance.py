"""Stance: how a document leans toward each actor it discusses, from -2 (hostile) to +2 (favourable).

Evaluative words of the stance lexicon (`ontology/stance.yaml`) count toward the actor they are
said of, in the author's own voice only (`voice.py`): quoted, attributed and conceded words do
not count, hedged ones count less, negated ones flip and weaken. An actor attacked or invaded
by another gets a little sympathy; an actor the author tells doing a blamed kind of event
(`blame_events`: violence against civilians, influence operations) is blamed as by a hostile word.
Per actor the weighted sum is squashed into [-2, 2], so a few strong words give a clear lean and
scattered neutral mentions keep it near zero. Where that leaves an actor neutral, the
target-sentiment model's reading of the author's sentences naming it may decide a hostile sign
(`Aggregation.implied`). Which actor a word is said of is read from word order (`_holders`); where that would take
the first actor of the sentence however far off a hostile word, spaCy's dependency parse of that sentence (made only
then) gives the subject of the word's own clause, and tells a word coordinated with what an opposing verb takes.
"""

from __future__ import annotations

import json
import logging
import math
import re
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..ontology import PLACE_KIND, ActorCatalog, load_actor_catalog
from ..ontology.files import screen_of
from ..ontology.lexicons import StanceLexicon, VoiceCues, load_stance_lexicon, load_voice_cues
from ..records import Event, Mention, Stance
from ..text.metadata import ANALYSED_LANGUAGES
from .target_sentiment import TargetItem, load_target_model
from .voice import (AUTHOR, Segment, VoiceProfile, is_negated, load_relay_rule, quoted_spans, segment_at, segment_speakers,
                    sentence_segments, speaker_of, voice_profile)

log = logging.getLogger(__name__)

EXTRACTOR = "stance-model"
LEXICON_EXTRACTOR = "stance-lexicon"
AGGREGATION = "models/stance/aggregation.json"
# The sum of evidence at which the score reaches about ±1.5 (2·tanh(1) ≈ 1.52).
SCALE = 2.0
# Each sentence that names the actor without judging it pulls the score toward zero a little.
NEUTRAL_DAMPING = 0.1
NEGATED_FACTOR = -0.5
VICTIM_WEIGHT = 0.75
# An asserted event of a blamed type told in the author's voice weighs as a hostile word of this strength on its agent.
BLAME_WEIGHT = 1.0
MIN_MENTIONS = 2
MAX_EVIDENCE = 8
# The target model reads at most this many author-voice sentences per actor whose words leave it silent.
MAX_READ = 4
# The sign's dead zone: a score nearer zero than this reads as neutral.
SILENT = 0.5
LATER_WORDS = 10
_WORDS = re.compile(r"\w+")


@dataclass(slots=True)
class _Target:
    actor: str
    start: int
    end: int
    source: bool = False  # "a UN report found ...": the actor vouches for the words, they are not about it


_ADJACENT = re.compile(r"^\s*(?:[\w-]+\s+)?$")
_OBJECT_GAP = re.compile(r"^\s+(?:[\w'’-]+\s+){0,2}$")  # a verb's object: at most an article and one word between


def _pick(lexicon_part: dict[str, re.Pattern], language: str | None) -> list[re.Pattern]:
    return [p for lang, p in lexicon_part.items() if language not in ANALYSED_LANGUAGES or lang == language]


def _targets(text: str, start: int, end: int, mentions: list[Mention], lexicon: StanceLexicon, language: str | None) -> list[_Target]:
    """Return the actor references of a sentence: linked mentions plus attributive words ("Western")."""
    found = [_Target(m.actor, m.start, m.end) for m in mentions if m.actor and start <= m.start and m.end <= end]
    sentence = text[start:end]
    for actor, by_lang in lexicon.adjectives.items():
        for pattern in _pick(by_lang, language):
            for m in pattern.finditer(sentence):
                a, b = start + m.start(), start + m.end()
                if not any(t.start < b and a < t.end for t in found):
                    found.append(_Target(actor, a, b))
    found.sort(key=lambda t: t.start)
    merged: list[_Target] = []
    for t in found:
        # "Ukraine 🇺🇦", "Russia (Moscow)": one reference, not two.
        if merged and merged[-1].actor == t.actor and re.fullmatch(r"[\s()]*", text[merged[-1].end : t.start]):
            merged[-1].end = t.end
        else:
            merged.append(t)
    found = merged
    after_pats = _pick(lexicon.source_after, language)
    before_pats = [re.compile(r"(?:" + p.pattern + r")\s*$", re.I) for p in _pick(lexicon.source_before, language)]
    for t in found:
        after = text[t.end : min(end, t.end + 40)]
        before = text[max(start, t.start - 40) : t.start]
        t.source = any(p.match(after.lstrip(" ’'s")) for p in after_pats) or any(p.search(before) for p in before_pats)
    return sorted(found, key=lambda t: t.start)


def _cues(sentence: str, lexicon: StanceLexicon, language: str | None) -> list[tuple[int, int, float]]:
    """Return (start, end, polarity) of evaluative words in a sentence, longest match first where they overlap."""
    langs = [language] if language in lexicon.polarity else list(lexicon.polarity)
    hits = []
    for lang in langs:
        rows = lexicon.polarity[lang]
        screen = screen_of(lexicon, lang, lambda: (pattern for pattern, _ in rows))
        if screen is not None and not screen.search(sentence):
            continue  # most sentences hold none of the words: one scan instead of one per word
        for pattern, score in rows:
            hits.extend((m.start(), m.end(), score) for m in pattern.finditer(sentence))
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    kept: list[tuple[int, int, float]] = []
    for h in hits:
        if not any(h[0] < k[1] and k[0] < h[1] for k in kept) and not _in_name(sentence, h[0], h[1]):
            kept.append(h)
    return kept


_CAPITALISED = re.compile(r"[A-ZÀ-Ý][\w'’-]*")


def _in_name(sentence: str, start: int, end: int) -> bool:
    """Return whether a capitalised match inside a sentence sits in a run of capitalised words (a name such as a ship,
    a party or a front): the word names something there, it does not judge."""
    if not sentence[start:start + 1].isupper() or not sentence[:start].strip():
        return False
    before = sentence[:start].rstrip()
    prev = re.search(r"([\w'’-]+)\W*$", before)
    nxt = re.match(r"[\s-]+([\w'’-]+)", sentence[end:])
    return bool((nxt and _CAPITALISED.fullmatch(nxt.group(1))) or (prev and not re.search(r"[.:;!?]\s*$", before)
                                                                     and _CAPITALISED.fullmatch(prev.group(1))))


_SUBJECT = ("nsubj", "csubj")
_PASSIVE = ("nsubjpass", "nsubj:pass", "csubjpass", "csubj:pass")
_AGENT = ("agent", "obl:agent")
_RELATIVE = ("relcl", "acl:relcl")


class _Parses:
    """The dependency parse of a document's sentences, made on first need (the analysis itself runs no parser)."""

    def __init__(self, text: str, language: str | None):
        self.text, self.language, self.done = text, language, {}

    def __call__(self, start: int, end: int):
        if (start, end) not in self.done:
            from ..nlp import load_pipeline

            try:
                sdoc = load_pipeline(self.language, ("parser",))(self.text[start:end])
                self.done[start, end] = sdoc if sdoc.has_annotation("DEP") else None
            except Exception as exc:  # no parser for this language: the word-order reading stays
                log.debug("no dependency parse (%s)", exc)
                self.done[start, end] = None
        return self.done[start, end]


def _span(token, offset: int) -> tuple[int, int]:
    """Return the text offsets of a token's subtree."""
    return offset + token.left_edge.idx, offset + token.right_edge.idx + len(token.right_edge)


def _depth(sdoc, offset: int, target: _Target, top) -> int:
    """Return how many steps up the parse the actor's first word stands below the token `top` (its subtree holds it)."""
    token = next((t for t in sdoc if offset + t.idx >= target.start), top)
    steps = 0
    while token.i != top.i and token.head.i != token.i:
        token, steps = token.head, steps + 1
    return steps


def _clause_subject(sdoc, offset: int, cue_start: int, cue_end: int, candidates: list[_Target]):
    """Return the actor among `candidates` that the parse makes the subject of the clause an evaluative word sits in
    (the doer, for a passive verb that is the word itself), or None when that subject is no actor or there is none."""
    tokens = [t for t in sdoc if cue_start <= offset + t.idx < cue_end]
    if not tokens:
        return None
    node = next((t for t in tokens if t.head.i == t.i or not cue_start <= offset + t.head.idx < cue_end), tokens[0])
    first = node
    for _ in range(len(sdoc)):
        if node.pos_ in ("VERB", "AUX") or node.head.i == node.i:
            deps = _SUBJECT + (() if node.i == first.i else _PASSIVE)
            subjects = [c for c in node.children if c.dep_ in deps]
            if node.i == first.i and any(c.dep_ in _PASSIVE for c in node.children):
                subjects = [c for c in node.children if c.dep_ in _AGENT]  # "villages were looted by X": X did it
                if not subjects:
                    return None  # the passive's subject suffers the act
            if subjects:
                spans = [(c, *_span(c, offset)) for c in subjects]
                found = [(_depth(sdoc, offset, t, c), t) for t in candidates for c, a, b in spans if a <= t.start and t.end <= b]
                if found:
                    return min(found, key=lambda f: (f[0], f[1].start))[1]  # the actor nearest the subject's head
                relative = any(w.tag_ in ("WP", "WDT", "WP$") or "Rel" in w.morph.get("PronType")
                               for c in subjects for w in c.subtree)
                if node.dep_ in _RELATIVE and relative:
                    a, b = _span(node.head, offset)
                    head = [t for t in candidates if a <= t.start and t.end <= b and t.end <= offset + node.left_edge.idx]
                    return head[-1] if head else None  # "X, whose forces looted ...": the antecedent
                return None  # the clause's subject is no actor ("the army's brutal campaign continued")
        if node.head.i == node.i:
            break
        node = node.head
    return None


def _opposed_object(sdoc, offset: int, cue_start: int, cue_end: int, text: str, opposing: list[re.Pattern],
                    inside: list[_Target]) -> bool:
    """Return whether the parse makes an evaluative word part of the object of an opposing verb (through the nouns and
    coordinated members it belongs to), with no actor between the verb and the word."""
    tokens = [t for t in sdoc if cue_start <= offset + t.idx < cue_end]
    if not tokens:
        return False
    node = tokens[-1]
    for _ in range(6):
        if node.dep_ in ("conj", "amod", "compound", "appos") and node.head.i != node.i:
            node = node.head
            continue
        if node.dep_ in ("dobj", "obj") and node.head.i != node.i:
            verb = node.head
            a = offset + verb.idx
            return (any(p.match(text, a) for p in opposing)
                    and not any(a <= t.start and t.end <= cue_start for t in inside))
        return False
    return False


def _holders(text: str, cue_start: int, cue_end: int, polarity: float, seg: Segment, targets: list[_Target],
             lexicon: StanceLexicon, language: str | None, carried: _Target | None,
             parsed: Callable[[], tuple] | None = None) -> list[_Target]:
    """Return the actors an evaluative word is said of (one, or several coordinated ones), or none. `parsed` gives the
    sentence's dependency parse and its offset, asked for where word order alone would give a hostile word an actor
    farther off (favourable words keep the word-order reading: see training/stance/README.md)."""
    inside = [t for t in targets if seg.start <= t.start and t.end <= seg.end and not t.source]
    against = [re.compile(r"(?:" + p.pattern + r")\s+(?:[\w'’-]+\s+|(?:and|&|et|,)\s+){0,5}$", re.I)
               for p in _pick(lexicon.against, language)]

    def victim(t: _Target) -> bool:
        # A hostile word does not blame the actor it is aimed at ("campaigns against France", "massacres of soldiers").
        if polarity >= 0:
            return False
        gap = text[max(seg.start, t.start - 30) : t.start]
        return any(p.search(gap) for p in against) or (t.start >= cue_end and bool(lexicon.grammar.of_after.match(text[cue_end : t.start])))

    # An opposing verb and at most two words, ending where a word or an actor starts ("fight", "condemned the").
    opposing_before = [re.compile(r"(?:" + p.pattern + r")\s+(?:[\w'’-]+\s+){0,2}$", re.I)
                       for p in _pick(lexicon.opposing, language)] if polarity < 0 else []
    opposing_anywhere = [re.compile(r"\b(?:" + p.pattern + r")\b", re.I)
                         for p in _pick(lexicon.opposing, language)] if polarity < 0 else []

    def opposed(t: _Target) -> bool:
        # The actor is the target of an act against it: "sanctions against X", "condemned X".
        return victim(t) or any(p.search(text[max(seg.start, t.start - 40) : t.start]) for p in opposing_before)

    if polarity < 0:
        window = max(seg.start, cue_start - 40)
        for p in opposing_before:
            m = p.search(text[window:cue_start])
            # "forces to fight terrorists", "mandated to investigate war crimes": the word is what they oppose;
            # "to investigate Wagner's abuses" still blames the actor named in between.
            if m and not any(window + m.start() <= t.start and t.end <= cue_start for t in inside):
                return []
        if parsed is not None and any(p.search(text, seg.start, cue_start) for p in opposing_anywhere):
            sdoc, offset = parsed()
            if sdoc is not None and _opposed_object(sdoc, offset, cue_start, cue_end, text, opposing_anywhere, inside):
                return []  # "to investigate torture and other serious abuses": a member of what is opposed
    prefix = re.search(r"(\w+)-$", text[max(seg.start, cue_start - 30) : cue_start])
    if prefix and text[cue_start:cue_end].endswith("ed") and not any(
            t.start < cue_start and cue_start - len(prefix.group(0)) < t.end for t in inside):
        return []  # "army-dominated", "donor-funded": the participle's doer is the word before the hyphen, no actor
    chosen: _Target | None = None
    overlapping = [t for t in inside if t.start < cue_end and cue_start < t.end]
    before = [t for t in inside if t.end <= cue_start]
    after = [t for t in inside if t.start >= cue_end]
    # A hostile word that is itself an act against someone ("sanctioned") is said of what it acts on, never of its agent.
    act = polarity < 0 and any(p.fullmatch(text[cue_start:cue_end]) for p in _pick(lexicon.opposing, language))
    if act and after and lexicon.grammar.agent_after.match(text[cue_end : after[0].start]):
        after = []  # "sanctioned by the United States": what is sanctioned comes before
    if overlapping:
        chosen = overlapping[0]  # the word is part of the name ("Russian mercenaries")
    elif after and re.fullmatch(r"\s*", text[cue_end : after[0].start]) and not victim(after[0]) and not (
            before and re.search(r"['’]s\s*$", text[before[-1].end : cue_start])):
        chosen = after[0]  # "advancing Ruritanian troops", "the Freedonian contractor Blackhill Group"
    elif act and after and _OBJECT_GAP.match(text[cue_end : after[0].start]):
        chosen = after[0]  # "France sanctioned the group": a word that is itself an act against someone is said of its object
    elif before and _ADJACENT.match(text[before[-1].end : cue_start].replace("’s", "").replace("'s", "")):
        chosen = before[-1]  # "Western dominance", "Russia's brutal war"
    elif after and _ADJACENT.match(text[cue_end : after[0].start]) and not victim(after[0]) and not (
            lexicon.grammar.preposition_before.search(text[cue_end : after[0].start])):
        chosen = after[0]  # "retreating French forces" (not "massacres in X": the word is not X's)
    elif after and lexicon.grammar.agent_after.match(text[cue_end : after[0].start]):
        chosen = after[0]  # "atrocities by Wagner", "abandoned by Western forces"
    elif polarity < 0 and before and lexicon.grammar.reason_after.match(text[before[-1].end : cue_start]) and opposed(before[-1]):
        chosen = before[-1]  # "sanctions against Wagner for torture": the fault the act answers is its target's
    else:
        subjects = [t for t in before if not victim(t) and (not lexicon.grammar.preposition_before.search(text[max(seg.start, t.start - 25) : t.start])
                                                            or lexicon.grammar.head_of.search(text[max(seg.start, t.start - 40) : t.start]))]
        candidates = [t for t in before if not victim(t)]
        by_parse = None
        if carried is None and candidates and parsed is not None and polarity < 0:
            sdoc, offset = parsed()
            if sdoc is not None:
                doers = [t for t in inside if not victim(t) and not _is_victim(text, seg, t, lexicon, language)]
                by_parse = _clause_subject(sdoc, offset, cue_start, cue_end, doers)  # "the invasion of X by Y": Y
        if carried is not None:
            chosen = carried  # the clause opens with "It", "The latter", "Ce dernier": that is its subject
        elif by_parse is not None:
            chosen = by_parse  # the actor that is the subject of the word's clause, however far before the word
        elif subjects:
            chosen = subjects[0]
        elif candidates:
            chosen = candidates[-1]
        else:
            # A word before any actor judges the first one after it only within a few words ("Brutal and corrupt, the
            # junta ..."); farther on, the actor stands in another phrase ("The failure ... backed by France").
            later = [t for t in after if not victim(t) and len(_WORDS.findall(text[cue_end : t.start])) <= LATER_WORDS]
            chosen = later[0] if later else None
    if chosen is None:
        return []
    group = [chosen]
    # "Malian and Wagner forces executed ...": coordinated actors share the word.
    for t in sorted(inside, key=lambda x: -x.start):
        if t.end <= group[0].start and lexicon.grammar.coordinated.match(text[t.end : group[0].start]):
            group.insert(0, t)
    for t in inside:
        gap = text[group[-1].end : t.start]
        if t.start >= group[-1].end and (lexicon.grammar.coordinated.match(gap) or (len(group) > 1 and lexicon.grammar.of_name.match(gap))):
            group.append(t)  # "... et leurs alliés russes du groupe Wagner": the name completes the coordinated member
    return list({t.actor: t for t in group}.values())


def _carried(text: str, seg: Segment, previous: list[_Target], lexicon: StanceLexicon, language: str | None) -> _Target | None:
    """Return the actor a clause opening with "It ...", "The latter ..." or "Ce dernier ..." points back to."""
    if not previous:
        return None
    opening = text[seg.start : seg.start + 40].lstrip(" ,;:—–-")
    for p in _pick(lexicon.anaphora, language):
        m = p.match(opening)
        if m:
            word = m.group(0).lower()
            if word.startswith(lexicon.grammar.latter):
                return previous[-1]
            subjects = [t for t in previous if not lexicon.grammar.preposition_before.search(text[max(0, t.start - 25) : t.start])]
            return subjects[0] if subjects else previous[0]
    return None


@dataclass(slots=True)
class _ActorTally:
    """What the author's words do to one actor across a document (see `_tally_lexicon`)."""

    named: set[int]                                # sentences that name it
    judged: set[int]                               # sentences whose evaluative words are said of it
    total: float = 0.0                             # evaluative words said of it, weighted
    evidence: dict[tuple[int, int], float] | None = None
    around_neg: float = 0.0                        # hostile words anywhere in its sentences, in the author's voice
    around_pos: float = 0.0                        # favourable ones
    reported: int = 0                              # its mentions inside quoted, attributed or debunked stretches
    mentions: int = 0
    relayed: float = 0.0                           # evaluative words said of it in quoted or attributed (not debunked) words
    relayed_evidence: dict[tuple[int, int], float] | None = None
    relayed_by: dict[str, float] | None = None     # the same per speaker ("" when the text names none)


@dataclass(slots=True)
class _Tally:
    """The stance lexicon's reading of a whole document: per actor, and the author's overall tone."""

    actors: dict[str, _ActorTally]
    n_sentences: int
    neg: float = 0.0        # hostile words in the author's voice, weighted, whole document
    pos: float = 0.0
    debunk: int = 0         # sentences that debunk something
    profile: VoiceProfile | None = None  # how the document uses other voices (`voice.voice_profile`)


def _tally_lexicon(text: str, sentences: list[tuple[int, int]], mentions: list[Mention], language: str | None,
                   lexicon_path: str | None = None, events: Iterable[Event] = ()) -> _Tally:
    """Return, per actor, the evaluative words of the author's voice said of it and around it, and the document's tone.
    `mentions` are the mentions of actors that can hold a stance (`actor_mentions`); `events` the document's events,
    whose agents of blamed event types (the lexicon's `blame_events`) count as blamed where the author tells them."""
    lexicon = load_stance_lexicon(lexicon_path)
    cues = load_voice_cues()
    quotes = quoted_spans(text)
    lang = language if language in ANALYSED_LANGUAGES else None
    tally = _Tally({}, len(sentences))
    debunk = cues.get("debunk", lang)
    previous: list[_Target] = []
    parses = _Parses(text, lang)
    all_segments = [sentence_segments(text, s, e, lang, quotes, cues) for s, e in sentences]
    all_speakers = segment_speakers(text, sentences, all_segments, mentions, lang, quotes, cues)

    def of(actor: str) -> _ActorTally:
        return tally.actors.setdefault(actor, _ActorTally(set(), set(), evidence={}, relayed_evidence={}, relayed_by={}))

    def add(actor: str, value: float, index: int, speaker: str | None = None) -> None:
        """Count a word (or blamed event) said of an actor: the author's (speaker None) or a quoted speaker's."""
        span = sentences[index]
        t = of(actor)
        if speaker is not None:
            t.relayed += value
            t.relayed_evidence[span] = t.relayed_evidence.get(span, 0.0) + value
            t.relayed_by[speaker] = t.relayed_by.get(speaker, 0.0) + value
            return
        t.total += value
        t.evidence[span] = t.evidence.get(span, 0.0) + value
        t.judged.add(index)

    for index, (s, e) in enumerate(sentences):
        targets = _targets(text, s, e, mentions, lexicon, lang)
        segments = all_segments[index]
        speakers = all_speakers[index]
        for t in targets:
            at = of(t.actor)
            at.named.add(index)
            at.mentions += 1
            seg = segment_at(segments, t.start)
            if seg is not None and (seg.voice != AUTHOR or seg.debunked):
                at.reported += 1
        sentence = text[s:e]
        # Words after "fake", "falsely", "debunked" describe the false claim, not the author's view.
        first_debunk = debunk.search(sentence) if debunk else None
        tally.debunk += int(first_debunk is not None)
        around_neg = around_pos = 0.0
        for c0, c1, polarity in _cues(sentence, lexicon, lang):
            seg = segment_at(segments, s + c0)
            if seg is None or (first_debunk and c0 >= first_debunk.end()):
                continue
            value = polarity * seg.weight
            if is_negated(text, seg, s + c0, lang, cues):
                value *= NEGATED_FACTOR
            if seg.voice != AUTHOR:
                # Quoted or attributed words count for their speaker; kept apart for a relay without distance.
                if seg.start in speakers:
                    for h in _holders(text, s + c0, s + c1, polarity, seg, targets, lexicon, lang, None, lambda s=s, e=e: (parses(s, e), s)):
                        add(h.actor, value, index, speakers[seg.start])
                continue
            if value < 0:
                around_neg -= value
            else:
                around_pos += value
            carried = _carried(text, seg, previous, lexicon, lang)
            candidates = targets
            if first_debunk and c0 >= first_debunk.start():
                # "Fake photos showing French soldiers ...": the fake is not France's; blame only its maker.
                candidates = [t for t in targets if t.end <= s + c0 or (t.start >= s + c1 and lexicon.grammar.agent_after.match(text[s + c1 : t.start]))]
            holders = _holders(text, s + c0, s + c1, polarity, seg, candidates, lexicon, lang, carried, lambda s=s, e=e: (parses(s, e), s))
            for h in holders:
                add(h.actor, value, index)
        tally.neg += around_neg
        tally.pos += around_pos
        for actor in {t.actor for t in targets}:
            of(actor).around_neg += around_neg
            of(actor).around_pos += around_pos
        for t in targets:
            seg = segment_at(segments, t.start)
            if seg is not None and seg.voice == AUTHOR and _is_victim(text, seg, t, lexicon, lang):
                add(t.actor, VICTIM_WEIGHT * seg.weight, index)
        if targets:
            previous = [t for t in targets if not t.source] or previous
    _blame_agents(text, sentences, mentions, events, lexicon, lang, all_segments, all_speakers, cues, tally, add)
    tally.profile = voice_profile(text, sentences, all_segments, lang, quotes, all_speakers, cues)
    return tally


def _blame_agents(text: str, sentences: list[tuple[int, int]], mentions: list[Mention], events: Iterable[Event],
                  lexicon: StanceLexicon, language: str | None, segments: list[list[Segment]], speakers: list[dict[int, str]],
                  cues: VoiceCues, tally: _Tally, add) -> None:
    """Count, once per sentence, the agents of asserted events of a blamed type that the author tells in their own
    voice (not quoted, attributed, conceded or debunked) as a hostile word said of them: a report of killings or of an
    influence operation blames its doer without evaluative words. An agent named before a verb of opposing
    ("X targets disinformation") is what the event is aimed against by, not its doer."""
    starts = [s for s, _ in sentences]
    done: set[tuple[str, int, bool]] = set()
    opposing = [re.compile(r"(?:" + p.pattern + r")\b", re.I) for p in _pick(lexicon.opposing, language)]
    debunk = cues.get("debunk", language)
    for ev in events:
        if ev.type not in lexicon.blame_events or ev.modality != "asserted":
            continue
        at = text.find(ev.trigger, ev.start, ev.end) if ev.trigger else -1
        at = at if at >= 0 else ev.start
        index = bisect_right(starts, at) - 1
        if index < 0 or at >= sentences[index][1]:
            continue
        s, e = sentences[index]
        seg = segment_at(segments[index], at)
        if seg is None or (seg.voice != AUTHOR and seg.debunked):
            continue
        # Told in quoted or attributed words, the blame is the speaker's (kept apart for a relay without distance).
        speaker = None if seg.voice == AUTHOR else speakers[index].get(seg.start, "")
        # As for words: what follows "fake", "falsely" describes the false claim (the trigger may be the cue itself,
        # "disinformation").
        first_debunk = debunk.search(text, s, e) if debunk else None
        if first_debunk and at >= first_debunk.end():
            continue
        for party in ev.actors:
            key = (party.name, index, speaker is None)
            if party.role != "agent" or party.name not in tally.actors or key in done:
                continue
            named = [m for m in mentions if m.actor == party.name and s <= m.start and m.end <= at]
            if named and any(p.search(text, named[-1].end, at) for p in opposing):
                continue
            done.add(key)
            add(party.name, -BLAME_WEIGHT * seg.weight, index, speaker)


def _lexicon_score(t: _ActorTally) -> float:
    """Return the lexicon's stance in [-2, 2]: the squashed sum of words said of the actor, damped by neutral mentions."""
    neutral = len(t.named - t.judged)
    return max(-2.0, min(2.0, 2.0 * math.tanh(t.total / (SCALE * (1.0 + NEUTRAL_DAMPING * neutral)))))


def lexicon_stances(doc_id: str, text: str, sentences: list[tuple[int, int]], mentions: list[Mention], language: str | None,
                    lexicon_path: str | None = None, catalog: ActorCatalog | None = None,
                    events: Iterable[Event] = ()) -> list[Stance]:
    """Return the stance lexicon's view of the document toward each actor it discusses (evaluative words in the
    author's voice said of the actor, and the blamed events it tells them doing), with the sentences that show it."""
    tally = _tally_lexicon(text, sentences, actor_mentions(mentions, catalog), language, lexicon_path, events)
    return _lexicon_records(doc_id, tally, sentences)


def _lexicon_records(doc_id: str, tally: _Tally, sentences: list[tuple[int, int]]) -> list[Stance]:
    out: list[Stance] = []
    for actor, t in tally.actors.items():
        if not t.named or (len(t.named) < MIN_MENTIONS and abs(t.total) < 0.5):
            continue
        score = _lexicon_score(t)
        spans = t.evidence or {}
        if spans:
            strongest = sorted(spans, key=lambda sp: (-abs(spans[sp]), sp))[:MAX_EVIDENCE]
            ev = tuple(sorted(strongest))
        else:
            ev = tuple(sorted(sentences[i] for i in sorted(t.named)[:3]))
        confidence = round(min(0.95, 0.35 + 0.1 * len(spans) + 0.1 * abs(score)), 3)
        out.append(Stance(doc=doc_id, actor=actor, score=round(score, 2), evidence=ev,
                          extractor=LEXICON_EXTRACTOR, confidence=confidence))
    return sorted(out, key=lambda st: st.actor)


def _is_victim(text: str, seg: Segment, target: _Target, lexicon: StanceLexicon, language: str | None) -> bool:
    """Return whether the actor stands right after an act of aggression ("invasion of Ukraine", "war against X")."""
    before = text[max(seg.start, target.start - 60) : target.start]
    for lang, pattern in lexicon.victim.items():
        if language in ANALYSED_LANGUAGES and lang != language:
            continue
        for m in pattern.finditer(before):
            if re.fullmatch(r"\s*(?:the\s+|la\s+|le\s+|les\s+|l['’]|its\s+|their\s+|\w+\s+)?", before[m.end() :], re.I):
                return True
    return False


def actor_mentions(mentions: list[Mention], catalog: ActorCatalog | None = None) -> list[Mention]:
    """Return the mentions linked to an actor that can hold a stance (places cannot), by the catalog the mentions were
    linked with (the packaged one by default)."""
    kinds = {e.name: e.kind for e in (catalog or load_actor_catalog()).entries}
    return [m for m in mentions if m.actor and kinds.get(m.actor) != PLACE_KIND]


@dataclass(slots=True)
class _Reading:
    """The target model's reading of one mention of an actor in one sentence (neutral zeros until the model reads it)."""

    actor: str
    sentence: int
    voice: str
    weight: float
    probs: np.ndarray  # P(-1), P(0), P(+1); all zero while unread
    holder: str = ""   # for reported words: the actor the sentence gives them to, when it names one
    item: TargetItem | None = None  # what the model reads: the sentence and the mention's characters in it

    @property
    def value(self) -> float:
        return float(self.probs[2] - self.probs[0])


def _speaker(text: str, seg: Segment, segments: list[Segment], named: list[Mention], target: str,
             according: re.Pattern | None = None) -> str:
    """Return the actor a reported stretch is given to (`voice.speaker_of`)."""
    return speaker_of(text, seg, segments, named, target, according)


def mention_readings(text: str, sentences: list[tuple[int, int]], mentions: list[Mention],
                     language: str | None) -> list[_Reading]:
    """Return one unread reading per actor and sentence naming it (its first mention there), with who speaks at the
    mention and, for reported words, the actor they are given to. `mentions` are `actor_mentions`, in text order."""
    lang = language if language in ANALYSED_LANGUAGES else None
    cues = load_voice_cues()
    quotes = quoted_spans(text)
    according = cues.get("according_to", lang)
    debunk = cues.get("debunk", lang)
    readings: list[_Reading] = []
    k = 0
    for index, (s, e) in enumerate(sentences):
        while k < len(mentions) and mentions[k].start < s:
            k += 1
        named = []
        j = k
        while j < len(mentions) and mentions[j].end <= e:
            named.append(mentions[j])
            j += 1
        if not named:
            continue
        segments = sentence_segments(text, s, e, lang, quotes, cues)
        first_debunk = debunk.search(text, s, e) if debunk else None
        seen: set[str] = set()
        for m in named:
            if m.actor in seen:
                continue
            seen.add(m.actor)
            seg = segment_at(segments, m.start)
            voice = seg.voice if seg is not None else AUTHOR
            if voice == AUTHOR and first_debunk and m.start >= first_debunk.end():
                # As for the lexicon's words: an actor named after "fake", "purportedly showing" is what the false
                # material shows, not the author's reading of it.
                continue
            weight = seg.weight if seg is not None else 1.0
            holder = _speaker(text, seg, segments, named, m.actor, according) if seg is not None and voice != AUTHOR else ""
            readings.append(_Reading(m.actor, index, voice, weight, np.zeros(3), holder,
                                     TargetItem(text[s:e], m.start - s, m.end - s)))
    return readings


def _read(readings: list[_Reading], states: dict | None = None) -> None:
    """Give the chosen readings the target model's probabilities, in one batched call. `states` keeps the encoder's
    word-piece states of the sentences already read (a sentence naming several actors is encoded once)."""
    todo = [r for r in readings if r.item is not None and not r.probs.any()]
    if todo:
        for r, p in zip(todo, load_target_model().probabilities([r.item for r in todo], states)):
            r.probs = p


def _held(readings: list[_Reading]) -> list[_Reading]:
    """Return the readings the stances of quoted speakers need: reported words given to a named actor."""
    return [r for r in readings if r.voice != AUTHOR and r.holder]


def _authored(readings: list[_Reading], actors: Collection[str]) -> dict[str, list[_Reading]]:
    """Return per actor of `actors` the readings of the author's sentences naming it, at most MAX_READ, in text order."""
    out: dict[str, list[_Reading]] = {}
    for r in readings:
        if r.voice == AUTHOR and r.actor in actors and len(out.setdefault(r.actor, [])) < MAX_READ:
            out[r.actor].append(r)
    return out


def read_mentions(text: str, sentences: list[tuple[int, int]], mentions: list[Mention], language: str | None,
                  author_voice: bool | Collection[str] = True) -> list[_Reading]:
    """Return the target model's reading of each mention of an actor that can hold a stance (`mentions`, as
    `actor_mentions` returns them), with who speaks at the mention.

    The model reads the quoted and attributed mentions given to a named speaker (the held stances need them) and, in
    the author's voice, every mention (`author_voice` True), none (False) or those of the actors named in
    `author_voice`, at most MAX_READ sentences per actor; the mentions it does not read keep zero readings."""
    readings = mention_readings(text, sentences, mentions, language)
    actors = {r.actor for r in readings} if author_voice is True else set(author_voice or ())
    chosen = _held(readings) + [r for rs in _authored(readings, actors).values() for r in rs]
    _read(chosen)
    return readings


def _read_silent(readings: list[_Reading], silent: Collection[str], implied: float, states: dict) -> None:
    """Read the author's sentences of the silent actors (at most MAX_READ each) only as far as their mean reading can
    still reach `implied`: every reading is at least -1, so once the readings so far plus -1 for each unread one stay
    above implied x n, the rule cannot fire and the rest are left unread. The rule's outcome is the same as reading
    all n; rounds are batched across actors."""
    pending = _authored(readings, silent)
    while pending:
        batch: list[_Reading] = []
        for actor, rs in pending.items():
            done = [r for r in rs if r.probs.any()]
            # Each unread reading can lower the sum by at most 2 below a neutral guess of 0 ... read as many as the
            # slack needs at a neutral guess (at least one).
            slack = sum(r.value for r in done) + len(done) - (1.0 + implied) * len(rs)
            need = max(1, math.ceil(-slack + 1e-9)) if slack <= 0 else 0
            batch.extend([r for r in rs if not r.probs.any()][:need])
        _read(batch, states)
        still = {}
        for actor, rs in pending.items():
            done = [r for r in rs if r.probs.any()]
            lowest = sum(r.value for r in done) - (len(rs) - len(done))
            if len(done) < len(rs) and lowest <= implied * len(rs):
                still[actor] = rs
        pending = still


@dataclass(frozen=True, slots=True)
class Aggregation:
    """How a document's lexicon tally becomes its stance toward an actor: a linear map of FEATURES, clipped to
    [-2, 2], fitted by `training/stance/calibrate.py` with cross-validation by document. Where that leaves the actor
    inside the sign's dead zone (|score| < SILENT) and the target model's mean reading of the author's sentences naming
    it is at or below `implied` (a hostility the lexicon has no word for), the reading is the score; None: never."""

    weights: dict[str, float]
    bias: float
    implied: float | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> "Aggregation":
        """Read the packaged calibration (or another file written by the calibration script)."""
        where = Path(path) if path is not None else resources.files("influence_atlas").joinpath(AGGREGATION)
        try:
            data = json.loads(where.read_text(encoding="utf-8"))
            weights = {k: float(data["weights"][k]) for k in FEATURES}
            implied = data.get("implied")
            return cls(weights, float(data["bias"]), None if implied is None else float(implied))
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"the stance calibration {where} cannot be read ({exc}); reinstall influence-atlas "
                             "(pip install -e .) or rerun training/stance/calibrate.py") from exc

    def score(self, features: dict[str, float]) -> float:
        """Return the stance in [-2, 2] for one actor's features."""
        raw = self.bias + sum(w * features[k] for k, w in self.weights.items())
        if self.implied is not None and abs(raw) < SILENT and features.get("model", 0.0) <= self.implied:
            raw = features["model"]
        return max(-2.0, min(2.0, raw))

    def silent(self, features: dict[str, float]) -> bool:
        """Return whether the linear map leaves the actor inside the sign's dead zone, where the target model's
        reading may decide (only then is it worth reading the author's sentences with the model)."""
        raw = self.bias + sum(w * features[k] for k, w in self.weights.items())
        return self.implied is not None and abs(raw) < SILENT


def stance_features(tally: _Tally, readings: Iterable[_Reading] = ()) -> dict[str, dict[str, float]]:
    """Return per actor the document names the features the aggregation may weigh: counts of the stance lexicon's words
    (language-independent: the lexicon has English and French) and `model`, the target model's mean reading
    (P(+) - P(-)) of the author-voice sentences naming the actor among `readings` (0 when none was read)."""
    read: dict[str, list[float]] = {}
    for r in readings:
        if r.voice == AUTHOR and r.probs.any():
            read.setdefault(r.actor, []).append(r.value)
    n = max(tally.n_sentences, 1)
    tone = math.tanh((tally.pos - tally.neg) / n)
    top = max((len(t.named) for t in tally.actors.values()), default=1) or 1
    out: dict[str, dict[str, float]] = {}
    for actor, t in sorted(tally.actors.items()):
        if not t.named:
            continue
        prominence = len(t.named) / top
        out[actor] = {
            "lexicon": _lexicon_score(t),
            "tone": tone,
            "around": math.tanh((t.around_pos - t.around_neg) / (2.0 + len(t.named))),
            "prominence": prominence,
            "tone_prominence": tone * prominence,
            "reported_share": t.reported / max(t.mentions, 1),
            "debunking": tally.debunk / n,
            "model": float(np.mean(read[actor])) if actor in read else 0.0,
        }
    return out


# The features the shipped aggregation weighs (stance_features computes more; calibrate.py reports subsets).
FEATURES = ("lexicon", "tone")

RELAY_EXTRACTOR = "stance-relay"
UNNAMED_SPEAKER = "unnamed quoted source"
# A speaker's words count for an actor from this weight of evaluative words on (as one clear word).
RELAYED_MIN = 0.5


def relay_features(tally: _Tally) -> dict[str, float]:
    """Return the document-level features of a relay without distance: `concentration` and `distance` (the two the
    rule weighs, `voice.VoiceProfile`) and, reported for training, how much of the document others speak, hedged
    sentences, the share of actors the quoted speakers judge with opposite signs (`conflict`), whether the author's
    own evaluative words agree with the quoted ones where both judge an actor (`agreement`, -1..1) and the author's
    own evaluative words."""
    p = tally.profile or VoiceProfile(tally.n_sentences, 0.0, 0.0, 0.0, 0.0, 0.0)
    judged = conflicts = agree = disagree = 0
    for t in tally.actors.values():
        by = [v for v in (t.relayed_by or {}).values() if abs(v) >= RELAYED_MIN]
        if by:
            judged += 1
            conflicts += int(min(by) < 0 < max(by))
        if abs(t.relayed) >= RELAYED_MIN and abs(t.total) >= RELAYED_MIN:
            agree += int((t.relayed > 0) == (t.total > 0))
            disagree += int((t.relayed > 0) != (t.total > 0))
    n = max(tally.n_sentences, 1)
    return {
        "concentration": p.concentration,
        "distance": p.distance,
        "distanced": float(p.distanced),
        "reported_share": p.reported_share,
        "hedging": p.hedging,
        "conflict": conflicts / max(judged, 1),
        "agreement": (agree - disagree) / max(agree + disagree, 1),
        "author_words": math.tanh((tally.pos + tally.neg) / n),
    }


def _relayed_from(t: _ActorTally, most_quoted: str) -> str:
    """Return the speaker whose words judge the actor most (else the document's most-quoted speaker, else a
    placeholder for an unnamed quoted source)."""
    named = {k: abs(v) for k, v in (t.relayed_by or {}).items() if k}
    return max(sorted(named), key=lambda k: named[k]) if named else (most_quoted or UNNAMED_SPEAKER)


def relayed_score(t: _ActorTally) -> float:
    """Return the quoted speakers' reading of an actor in [-2, 2] (squashed as the author's words are), 0 when they
    judge it too little."""
    if abs(t.relayed) < RELAYED_MIN:
        return 0.0
    return max(-2.0, min(2.0, 2.0 * math.tanh(t.relayed / SCALE)))


def find_stances(doc_id: str, text: str, sentences: list[tuple[int, int]], mentions: list[Mention], language: str | None,
                 lexicon_path: str | None = None, catalog: ActorCatalog | None = None,
                 events: Iterable[Event] = (), relay: bool = True) -> list[Stance]:
    """Return the document's stance toward each actor it names (the author's, `holder` empty) and the stances of the
    actors it quotes (`holder` the speaker), each with the sentences that show it. `catalog` is the actor catalog the
    mentions were linked with (the user's `--actors` files included; the packaged one by default); `events` are the
    document's events (an actor the author tells doing a blamed kind of event counts as blamed).

    A document that relays a speaker without distance (`voice.RelayRule`; `relay` False: never) takes the quoted
    speakers' reading of an actor its own words leave silent: that stance's evidence is their sentences and
    `relayed_from` names the speaker (the one whose words judge the actor most, else the one quoted most)."""
    # The catalog's actor kinds are read once per document: both readings below take the same mentions.
    mentions = actor_mentions(mentions, catalog)
    tally = _tally_lexicon(text, sentences, mentions, language, lexicon_path, events)
    out: list[Stance] = []
    try:
        aggregation = Aggregation.load()
    except ModelError as exc:  # one document's failure must not stop a batch: keep the lexicon's reading
        log.warning("stance calibration unavailable for document %s (%s); using the stance lexicon alone", doc_id, exc)
        return _lexicon_records(doc_id, tally, sentences)
    features = stance_features(tally)
    silent = {actor for actor, f in features.items() if aggregation.silent(f)}
    try:
        readings = mention_readings(text, sentences, mentions, language)
        states: dict = {}
        _read(_held(readings), states)
        if silent:
            _read_silent(readings, silent, aggregation.implied, states)
    except Exception as exc:  # one document's failure must not stop a batch: keep the lexicon's reading
        log.warning("stance model failed on document %s (%s); lexicon only, no stances of quoted speakers", doc_id, exc)
        readings = []
    if silent and readings:
        features = stance_features(tally, readings)
    relayed_from = None
    if relay:
        try:
            if tally.profile is not None and load_relay_rule().holds(tally.profile):
                relayed_from = tally.profile.relayed_speaker
        except ModelError as exc:  # one document's failure must not stop a batch: the author's words alone
            log.warning("stance relay thresholds unavailable for document %s (%s); author's words alone", doc_id, exc)
    for actor, f in features.items():
        t = tally.actors[actor]
        score = aggregation.score(f)
        if relayed_from is not None and abs(score) < SILENT and abs(relayed_score(t)) >= SILENT:
            score = relayed_score(t)
            ev = tuple(sorted(sorted(t.relayed_evidence, key=lambda sp: (-abs(t.relayed_evidence[sp]), sp))[:MAX_EVIDENCE]))
            out.append(Stance(doc=doc_id, actor=actor, score=round(score, 2), evidence=ev, extractor=RELAY_EXTRACTOR,
                              confidence=round(min(0.9, 0.3 + 0.1 * len(ev) + 0.1 * abs(score)), 3),
                              relayed_from=_relayed_from(t, relayed_from)))
            continue
        implied = actor in silent and abs(score) >= SILENT  # the target model's reading decided
        if implied:
            mine = [r for r in readings if r.actor == actor and r.voice == AUTHOR and r.probs.any()]
            ev = _evidence(mine, score, sentences) or tuple(sorted(sentences[i] for i in sorted(t.named)[:3]))
        elif t.evidence and t.judged:
            ev = tuple(sorted(sorted(t.evidence, key=lambda sp: (-abs(t.evidence[sp]), sp))[:MAX_EVIDENCE]))
        else:
            ev = tuple(sorted(sentences[i] for i in sorted(t.named)[:3]))
        confidence = round(min(0.95, 0.35 + 0.1 * len(t.judged) + 0.15 * abs(score)), 3)
        out.append(Stance(doc=doc_id, actor=actor, score=round(score, 2), evidence=ev, extractor=EXTRACTOR,
                          confidence=confidence))
    held: dict[tuple[str, str], list[_Reading]] = {}
    for r in readings:
        if r.voice != AUTHOR and r.holder:
            held.setdefault((r.holder, r.actor), []).append(r)
    for (holder, actor), rs in sorted(held.items()):
        score = max(-2.0, min(2.0, 2.0 * float(np.mean([r.value for r in rs]))))
        ev = _evidence(rs, score, sentences) or tuple(sorted({sentences[r.sentence] for r in rs}))[:3]
        out.append(Stance(doc=doc_id, actor=actor, score=round(score, 2), evidence=ev, extractor=EXTRACTOR,
                          confidence=round(min(0.9, 0.3 + 0.05 * len(rs)), 3), holder=holder))
    return sorted(out, key=lambda st: (st.holder, st.actor))


def _evidence(readings: list[_Reading], score: float, sentences: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Return the sentences whose readings lean the way the score does, strongest first, in text order."""
    sign = 1.0 if score >= 0 else -1.0
    leaning = [r for r in readings if sign * r.value > 0.3]
    leaning.sort(key=lambda r: -sign * r.value)
    return tuple(sorted({sentences[r.sentence] for r in leaning[:MAX_EVIDENCE]}))
