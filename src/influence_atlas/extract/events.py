"""Events from sentences: who did what to whom, when and where, with the words that say so."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..ontology import ActorCatalog
from ..ontology.acled import load_acled_taxonomy
from ..ontology.events import (ActorTypes, EventCues, EventType, different_kinds, load_actor_types, load_event_cues,
                              load_event_types)
from ..ontology.files import screen_of
from ..records import Event, EventActor, Mention
from ..text.metadata import ANALYSED_LANGUAGES, latest_explicit_year
from .encoder import encode_sentences
from .event_detector import EventDetector, load_detector
from .acled import code_events, confident_events
from .dates import MONTHS, WEEKDAYS, DateContext, DateMention, ResolvedDate, dates_compatible, find_dates, published_context
from .places import country_code, geocode, is_continent
from .quantities import word_number

EXTRACTOR = "event-rules"
PACKAGED = object()


class _Cues:
    """The event stage's cue patterns, built from the word lists in ontology/event_types.yaml (`cues`)."""

    def __init__(self, cues: EventCues):
        c = cues.cues
        self._frames(c, cues.hedges)
        self._tolls(c)
        self._parties(c)
        self._places(c)

    def _frames(self, c: dict[str, str], hedges: tuple[tuple[str, str], ...]) -> None:
        """How the text holds a trigger: reporting frames, hedges, negations, demands, plans, references, time anchors."""
        # Reporting frames split a sentence into who says it and what is said.
        self.reporting = re.compile(rf"(?<!\w){c['reporting']}(?:\s+{c['speech_opening']})?(?!\w)", re.I)
        self.hedges = [(name, re.compile(rf"\b({pattern})\b", re.I)) for name, pattern in hedges]
        # "can provide", "must be the departure": a capability or a demand, not a happening.
        self.possible = re.compile(rf"\b{c['possible']}\s+(?:\w+\s+){{0,3}}$", re.I)
        self.onset = re.compile(rf"\b{c['onset']}\s+$", re.I)
        self.by_agent = re.compile(rf"\b{c['by_agent']}\b(?:\s+[\w’'-]+){{0,5}}\s*$", re.I)
        # A negation shortly before a trigger: the event did not happen.
        self.negation = re.compile(rf"\b({c['negation']})\s+(?:\w+\s+){{0,2}}$", re.I)
        # "calling for the mission to withdraw", "asked the force to leave": a demand, not a happening.
        self.demand = re.compile(rf"\b{c['demand']}\b[^.;]{{0,60}}$", re.I)
        # "photos purporting to show soldiers trained by ...": what a picture is said to show, not a happening told.
        self.depiction = re.compile(rf"\b{c['depiction']}\b[^.;]{{0,60}}$", re.I)
        # "the coup", "the second coup", "this agreement": a reference to a happening already told.
        self.reference = re.compile(rf"(?:\b{c['reference_determiner']}\s+(?:\w+\s+){{0,2}}|\b{c['elided_article']}|\w['’]s\s+(?:\w+\s+)?)$", re.I)
        self.introduces_parties = re.compile(rf"\s+{c['introduces_parties']}\b", re.I)
        # "the president announced the army would end its mission": an announced plan, kept apart from what happened.
        self.announced = re.compile(rf"\b{c['announced']}\b", re.I)
        # "After the border war of March 2019, ...": the intro clause dates another happening.
        self.intro_clause = re.compile(rf"^(?P<word>{c['intro_clause']})\b[^,;]{{3,120}},", re.I)
        self.intro_after = re.compile(c["intro_after"], re.I)
        self.speech_opening = re.compile(rf"(?:\b{c['speech_opening']}|:)(?:\s+[\w’'-]+){{0,2}}\s*$", re.I)
        self.self_reference = re.compile(rf"\s*{c['self_reference']}\b", re.I)
        self.self_possessive = re.compile(rf"\b{c['self_possessive']}\b", re.I)
        self.denied_existence = re.compile(rf"\b{c['denied_existence']}\s+$", re.I)
        self.habitual = re.compile(rf"\b{c['habitual']}\b", re.I)
        self.time_anchor = re.compile(rf"\b{c['time_anchor']}\s+(?:{c['definite_article']}\s+)?$", re.I)
        self.time_anchor_word = re.compile(rf"\b{c['time_anchor']}\b", re.I)
        self.purpose = re.compile(rf"\b{c['purpose']}\s+$", re.I)
        self.according_to = re.compile(c["according_to"], re.I)
        self.determined = re.compile(rf"\b{c['singular_determiner']}\s+(?:\w+[\s-]+){{0,2}}$", re.I)
        self.definite_noun = re.compile(rf"\s*{c['definite_article']}\s+(\w+(?:\s+\w+)?)", re.I)

    def _tolls(self, c: dict[str, str]) -> None:
        """Death tolls and who was hit."""
        num = rf"\d{{1,3}}(?:,\d{{3}})+|\d+|{c['number_words']}(?:[- ]{c['number_words']})?"
        self.civilian_target = re.compile(rf"\b({c['civilian_target']})\b", re.I)
        # A death toll: a count before a victim word, or a killing/toll word before a count.
        self.killed = re.compile(
            rf"(?:(?P<q1>{c['toll_qualifier']})\s+)?"
            rf"(?<![\w,.])(?P<n>{num})\s+(?:\w+\s+){{0,3}}?{c['toll_victim']}\b"
            rf"|{c['toll_verb']}\s+(?:(?P<q2>{c['toll_verb_qualifier']})\s+)?"
            rf"(?P<n2>{num})(?!\w)",
            re.I,
        )
        # "wounding twelve people", "abducted eight civilians": a count of the hurt or taken, not of the dead.
        self.not_killed_before = re.compile(rf"\b{c['harm_not_death']}\s+(?:\w+\s+){{0,2}}$", re.I)
        # "dozens were killed": a toll given as a vague quantity.
        self.many_killed = re.compile(rf"\b(?P<q>{c['toll_many']})\b(?:\s+\w+){{0,3}}?\s+(?:{c['passive_perfect']}\s)?"
                                      rf"{c['death_word']}\b", re.I)
        # A trigger naming a weapon used from afar: its victims may be anyone, not a chosen target.
        self.remote = re.compile(c["remote_weapon"], re.I)
        # "the plane crashed, killing everyone": an accident, not a party, killed.
        self.accident = re.compile(rf"\b{c['accident']}\b", re.I)
        self.aboard = re.compile(rf"\b{c['aboard']}\b", re.I)
        # "no casualties reported", "sans faire de victimes": the toll is known to be nil.
        self.no_deaths = re.compile(rf"\b{c['no_deaths']}\b", re.I)
        # "killing a student and injuring another": one victim counted by its article.
        self.one_killed = re.compile(rf"\b{c['one_killed']}\s+{c['one']}\s+(?!\w+\s+{c['partitive']}\b)[\w-]+", re.I)

    def _parties(self, c: dict[str, str]) -> None:
        """Who acted and who suffered: passives, objects, heads of one party, targets and agents."""
        self.passive = re.compile(rf"\b{c['passive']}\s+(?:\w+\s+)?$", re.I)
        # "fighters killed in Mali": a killing verb followed straight by a preposition has no object, so its noun is the victim.
        self.no_object = re.compile(rf"\s+{c['no_object']}\b", re.I)
        # "soldiers from the Mozambican army": the gap between two heads of one party.
        self.of_gap = re.compile(rf"^\s+{c['of_gap']}\s+(?:{c['article']}\s+|{c['elided_article']})?(?:[\w-]+\s+){{0,2}}$", re.I)
        self.target = re.compile(rf"\b{c['target']}\s+(?:{c['article']}\s+)?(?:[\w-]+\s+){{0,4}}$", re.I)
        self.agent = re.compile(rf"^(?:\s+{c['conjunction']}\s+[\w’'-]+)?\s+{c['agent_head']}\s+(?:{c['perfect_auxiliary']}\s+)?\w+{c['past_ending']}\b", re.I)

    def _places(self, c: dict[str, str]) -> None:
        """Where the event happened."""
        # A place named right after a locative preposition or a "town of" head is where the event was.
        self.place_prep = re.compile(rf"(?:\b{c['place_preposition']}\s+(?:{c['place_article']}\s+)?(?:\w+(?:[’']s)?\s+){{0,3}}"
                                     rf"|\b{c['place_noun']} {c['place_of']}\s*)$", re.I)
        # "on its way from Moscow to": the route's first place (up to three words) and the word that leads on.
        self.route = re.compile(rf"\b{c['route']}(?:(?:\s+[\w.’'-]+){{1,3}}\s+{c['route_onward']})?\s+$", re.I)
        self.near = re.compile(rf"\b{c['near']}\s+(?:{c['definite_article']}\s+)?(?:\w+\s+){{0,2}}$", re.I)
        # A capitalised name after a preposition (case matters): a place the parser may not have tagged.
        self.untagged_place = re.compile(
            rf"\b(?:(?P<near>{c['untagged_place_near']})|{c['untagged_place_preposition']})\s+(?:{c['untagged_place_head']}\s+)?"
            r"(?P<name>[A-Z][\w’'-]+(?:[ -][A-Z][\w’'-]+){0,2})"
        )
        # A capitalised name after a locative preposition: where a sentence says something happened.
        self.place_after_locative = re.compile(rf"\b{c['locative']}\s+(?:{c['locative_head']}\s+)?([A-ZÀ-Ý][\w'’-]+)")

@lru_cache(maxsize=1)
def _cues() -> _Cues:
    return _Cues(load_event_cues())


_SUPPRESS_WINDOW = 60
# How many characters around a trigger (or a date, a quotation, a place) its cues are looked for in: most cues sit in
# the few words before it (a target, a determiner, a modal, a reference, a place preposition, a harm word).
_CUE_WINDOW = 40
_NEGATION_WINDOW = 30  # "did not attack": a negation within two words or so
_PLAN_WINDOW = 60  # "plans to deploy": the plan may open a longer clause
_AGENT_WINDOW = 60  # after a trigger: "... and Wagner forces attacked"
_SPEECH_WINDOW = 30  # before a quotation: "said that"
_TIME_ANCHOR_WINDOW = 30  # "after the", "before"
_ONSET_WINDOW = 12  # before a date: "since"
_PURPOSE_WINDOW = 16  # before a trigger: "in order to"
_PASSIVE_WINDOW = 14  # before a bare "killed": "were", "have been"
_ACCIDENT_WINDOW = 60  # before a bare "killing": "the plane crashed on its way to ...,"
_VIOLENT = ("violence_against_civilians", "attack", "armed_clash")
_SHORT_QUOTE = re.compile(r"“[^“”]{1,60}”|\"[^\"]{1,60}\"|«[^«»]{1,60}»|‘[^‘’]{1,60}’(?!\w)")
_CLAUSE_BREAK = re.compile(r"[,;:()“”\"]")
_NEEDS_TWO = {"armed_clash", "agreement", "vote"}
_PUBLISHER_KINDS = {"media", "research", "ngo", "igo", "government_body", "state", "person", "civil_society", "unknown", "company"}
_TARGETED = {"attack", "violence_against_civilians", "armed_clash", "sanction", "coup", "media_restriction", "withdrawal"}


@dataclass(slots=True)
class _Trigger:
    etype: EventType
    start: int
    end: int
    weak: bool = False
    learned: bool = False


@dataclass(slots=True)
class _Party:
    """An unnamed party of a sentence ("gunmen", "Malian soldiers"): offsets in the sentence, its candidate types, its country."""

    start: int
    end: int
    types: tuple[str, ...]
    country: str | None
    named: str | None = None


# Types of event whose parties ACLED codes whoever they are, named or not.
_ANY_ACTOR_TYPES = {"armed_clash", "attack", "violence_against_civilians", "protest"}
_DEMONYM_GAP = re.compile(r"^\s*$|^['’]s\s+$")


def _find_parties(sentence: str, language: str | None, mentions: list[Mention], s_start: int,
                  kinds: dict[str, str], actor_types: ActorTypes) -> list[_Party]:
    """Return the unnamed parties a sentence names by a generic head, with the country a demonym next to them gives.

    A head inside a gazetteer name ("Malian army") is not a party of its own: it types the named actor.
    """
    langs = [language] if language in ANALYSED_LANGUAGES else list(ANALYSED_LANGUAGES)
    spans: dict[tuple[int, int], list[str]] = {}
    for at in actor_types.types:
        for lang in langs:
            pattern = at.heads.get(lang)
            if pattern is None:
                continue
            for m in pattern.finditer(sentence):
                ids = spans.setdefault((m.start(), m.end()), [])
                if at.id not in ids:
                    ids.append(at.id)
    taken: list[_Party] = []
    for (a, b), ids in sorted(spans.items(), key=lambda x: (x[0][0], -(x[0][1] - x[0][0]))):
        if any(p.start < b and a < p.end for p in taken):
            continue
        taken.append(_Party(a, b, tuple(ids), None))
    local = [(m.start - s_start, m.end - s_start, m) for m in mentions]
    for party in taken:
        for a, b, m in local:
            if a < party.end and party.start < b and m.label != "NORP":
                party.named = m.actor
            elif b <= party.start and not sentence[b : party.start].strip() and m.label != "NORP" and kinds.get(m.actor) != "state":
                # "JNIM militants", "Wagner mercenaries": the head describes the named group.
                party.named = m.actor
            elif kinds.get(m.actor) == "state" and (
                (b <= party.start and _DEMONYM_GAP.match(sentence[b : party.start]))
                or (a >= party.end and not sentence[party.end : a].strip())
            ):
                party.country = m.actor
    for party, nxt in zip(taken, taken[1:]):
        # "soldiers from the Mozambican army", "des soldats de l'armée malienne": one party, its country said once.
        if party.country is None and nxt.country and set(party.types) & set(nxt.types) and _cues().of_gap.match(sentence[party.end : nxt.start]):
            party.country = nxt.country
    return taken


@lru_cache(maxsize=4096)
def _names_a_party(name: str) -> bool:
    """True when a state's name holds the head of a party ("Malian soldiers", "armée malienne"): a party, not a place."""
    return any(p.search(name) for at in load_actor_types().types for p in at.heads.values())


def _party_type(party: _Party, etype: str) -> str:
    """Pick the party's actor type for this kind of event ("students" protest, or are harmed)."""
    if etype == "protest":
        for t in ("protesters", "rioters"):
            if t in party.types:
                return t
    return next((t for t in party.types if t not in ("protesters", "rioters")), party.types[0])


def _party_name(type_id: str, country: str | None, actor_types: ActorTypes) -> str:
    """Return an unnamed party's name: state forces by their country's canonical name, others by ACLED-style label."""
    if type_id == "state_forces" and country:
        return country
    label = actor_types.by_id()[type_id].label
    return f"{label} ({country})" if country else label


_NAMED_TYPES = {"state": "state_forces", "government_body": "state_forces"}


def _sentence_segments(sentence: str) -> list[tuple[int, int, bool]]:
    """Split a sentence into (start, end, is_reported_content) around its first reporting frame.

    "X reported that ...": the frame comes first. "According to X, ...": the frame runs from the
    phrase to the next comma, and what is said stands around it.
    """
    # "(as reported)", "(selon RFI)": an aside hedges the sentence, it does not frame it.
    asides = [(a.start(), a.end()) for a in re.finditer(r"\([^()]*\)", sentence)]
    m = next((r for r in _cues().reporting.finditer(sentence) if not any(a <= r.start() < b for a, b in asides)), None)
    if not m:
        return [(0, len(sentence), False)]
    if _cues().according_to.match(m.group(0)):
        comma = sentence.find(",", m.end())
        stop = comma + 1 if comma > 0 else len(sentence)
        parts = [(0, m.start(), True), (m.start(), stop, False), (stop, len(sentence), True)]
        return [p for p in parts if p[1] > p[0]]
    return [(0, m.end(), False), (m.end(), len(sentence), True)]


def _event_id(doc: str, etype: str, start: int) -> str:
    return "ev_" + hashlib.sha1(f"{doc}:{etype}:{start}".encode()).hexdigest()[:16]


def _find_triggers(sentence: str, types: tuple[EventType, ...], language: str | None) -> list[_Trigger]:
    langs = [language] if language in ANALYSED_LANGUAGES else list(ANALYSED_LANGUAGES)
    found = []
    # Most sentences hold no trigger at all: one scan for every type's (`any_of`) before one per type.
    screen = screen_of(types, language, lambda: (p for et in types for lang in langs for p in [et.triggers.get(lang)]
                                                 if p is not None))
    for et in types if screen is None or screen.search(sentence) else ():
        for lang in langs:
            pattern = et.triggers.get(lang)
            if pattern is None:
                continue
            m = pattern.search(sentence)
            if m:
                found.append(_Trigger(et, m.start(), m.end()))
                break
    # A trigger of a stronger type overrides a weaker one only when they sit in the same stretch of words, and not
    # from a purpose clause after it ("were sent ... to train the army" is a deployment).
    found = [
        t for t in found
        if not any(t.etype.id in o.etype.suppresses and abs(o.start - t.start) <= _SUPPRESS_WINDOW
                   and not (o.start > t.start and _cues().purpose.search(sentence[max(0, o.start - _PURPOSE_WINDOW) : o.start]))
                   for o in found if o is not t)
    ]
    if not any(t.etype.id in _VIOLENT for t in found):
        for et in types:
            for lang in langs:
                pattern = et.weak_triggers.get(lang)
                m = pattern.search(sentence) if pattern is not None else None
                if m:
                    found.append(_Trigger(et, m.start(), m.end(), weak=True))
                    break
    return found


# A lexicon trigger stands unless the detector finds its type unlikely in the sentence; the detector alone
# asserts a type the lexicons missed only when it is confident. Cross-validated by document on the
# development set (training/events/README.md), neither a veto nor additions raised the set as a whole
# yet, so both are off by default (a veto of 0 keeps every trigger; an addition above 1 never fires).
DETECTOR_VETO = 0.0
DETECTOR_ADD = 1.01


def _weigh_triggers(triggers: list[_Trigger], probs, detector: EventDetector, by_id: dict[str, EventType], sentence: str,
                    actor_mentions: list[Mention], s_start: int, s_end: int) -> list[_Trigger]:
    """Return the lexicon triggers the detector does not veto, plus the types it alone is sure of."""
    p = dict(zip(detector.types, (float(x) for x in probs)))
    kept = [t for t in triggers if p.get(t.etype.id, 1.0) >= DETECTOR_VETO]
    have = {t.etype.id for t in kept}
    first = next((m for m in actor_mentions if s_start <= m.start and m.end <= s_end), None)
    at = first.end - s_start if first else 0
    for tid, prob in sorted(p.items(), key=lambda x: -x[1]):
        if prob >= max(DETECTOR_ADD, detector.threshold(tid)) and tid not in have and tid in by_id:
            kept.append(_Trigger(by_id[tid], at, at))
            have.add(tid)
    return kept




def _role(sentence: str, start: int, end: int, trig: _Trigger) -> str:
    """Return an actor's role in an event: agent, target or other, from the words around it."""
    if _cues().target.search(sentence[max(0, start - _CUE_WINDOW) : start]):
        return "target"
    if _cues().agent.match(sentence[end : end + _AGENT_WINDOW]):
        return "agent"
    if start < trig.start:
        return "agent"
    word = (sentence[trig.start : trig.end].split() or [""])[0].lower()
    verb_like = word.endswith(("ed", "ing"))
    return "target" if trig.etype.id in _TARGETED and verb_like else "other"


def _modality(sentence: str, trigger_start: int, trigger_end: int | None = None) -> str:
    """Return how the text holds the event: asserted, negated, denied, suspected, alleged or planned.

    A hedge that is the trigger itself ("the government denied ...": the denial is the event) does not hedge it.
    """
    if _cues().negation.search(sentence[max(0, trigger_start - _NEGATION_WINDOW) : trigger_start]):
        return "negated"
    before = sentence[max(0, trigger_start - _PLAN_WINDOW) : trigger_start]
    end = trigger_start if trigger_end is None else trigger_end
    for name, pattern in _cues().hedges:
        if name == "planned":
            if pattern.search(before):
                return name
        elif any(not (trigger_start <= m.start() < end) for m in pattern.finditer(sentence)):
            return name
    return "asserted"


def _fatalities(sentence: str) -> tuple[int | None, str | None]:
    """Return the last death toll the sentence gives and its qualifier ("more than", ...).

    A toll said to be nil is 0; a victim counted by its article ("killing a student") is 1; "dozens" is a
    qualifier without a number.
    """
    best = None
    for m in _cues().killed.finditer(sentence):
        n = m.group("n") or m.group("n2")
        q = m.group("q1") or m.group("q2")
        value = int(n.replace(",", "")) if n[0].isdigit() else word_number(n)
        if value is None or (1900 <= value <= 2100 and not q):
            continue
        if m.group("n") and _cues().not_killed_before.search(sentence[max(0, m.start() - _CUE_WINDOW) : m.start()]):
            continue
        best = (value, q.lower() if q else None)
    if best:
        return best
    if _cues().one_killed.search(sentence):
        return 1, None
    many = _cues().many_killed.search(sentence)
    if many:
        return None, many.group("q").lower()
    if _cues().no_deaths.search(sentence):
        return 0, None
    return None, None


@dataclass(slots=True)
class _Sentence:
    """One sentence as the event stage reads it: its offsets, resolved dates, triggers, reporting segments and actors."""

    text: str
    start: int
    end: int
    dated: list[tuple[DateMention, ResolvedDate]]
    triggers: list[_Trigger]
    segments: list[tuple[int, int, bool]]
    asides: list[tuple[int, int]]
    mentions: list[Mention]
    intro: re.Match | None
    quoted: list[tuple[int, int]]
    parties: list[_Party] | None = None


@dataclass(slots=True)
class _Stage:
    """What the event stage knows of the document while it reads its sentences."""

    doc_id: str
    text: str
    sentences: list[tuple[int, int]]
    catalog: ActorCatalog
    language: str | None
    published: str | None
    types: tuple[EventType, ...]
    actor_types: ActorTypes
    kinds: dict[str, str]
    actor_mentions: list[Mention]
    place_mentions: list[Mention]


def extract_events(
    doc_id: str,
    text: str,
    sentences: list[tuple[int, int]],
    mentions: list[Mention],
    catalog: ActorCatalog,
    language: str | None = None,
    published: str | None = None,
    detector: EventDetector | None | object = PACKAGED,
) -> list[Event]:
    """Return the document's events, one per real happening, in text order.

    `published` is the document's stated publication date (an ISO day or month), which anchors "on Sunday" or
    "in February" before the text gives any date of its own. `detector` scores each sentence's
    event types (the packaged model by default; None leaves the decision to the trigger lexicons).
    """
    types = load_event_types()
    if detector is PACKAGED:
        detector = load_detector() if (DETECTOR_VETO > 0 or DETECTOR_ADD <= 1) else None
    kinds = {e.name: e.kind for e in catalog.entries}
    stage = _Stage(
        doc_id, text, sentences, catalog, language, published, types, load_actor_types(), kinds,
        actor_mentions=[m for m in mentions if m.actor],
        place_mentions=[m for m in mentions if m.label in ("GPE", "LOC") and (m.actor is None or (
            kinds.get(m.actor) == "state" and not _names_a_party(m.text)))],
    )
    ctx = published_context(published)
    if published is None:
        # Without a stated publication date, the latest year the text states bounds its narrative.
        latest = latest_explicit_year(text)
        ctx.latest_year = int(latest) if latest else None
    events: list[Event] = []
    scores = detector.scores([text[a:b] for a, b in sentences]) if detector is not None else None
    by_id = {t.id: t for t in types}
    learned = _learned_triggers(text, sentences, by_id)
    for si, (s_start, s_end) in enumerate(sentences):
        sentence = text[s_start:s_end]
        dated = _sentence_dates(stage, si, ctx, events)
        triggers = _find_triggers(sentence, types, language)
        if scores is not None:
            triggers = _weigh_triggers(triggers, scores[si], detector, by_id, sentence, stage.actor_mentions, s_start, s_end)
        if not triggers and learned[si] is None:
            continue
        snt = _read_sentence(stage, s_start, s_end, dated, triggers)
        for trig in _with_fallback(triggers, learned[si], events, len(events)):
            event = _event_of_trigger(stage, snt, trig, events)
            if event is not None:
                events.append(event)
    events = _aboard(_later_tolls(events, text, sentences, types, language), stage)
    return code_events(merge_duplicate_events(events))


def _sentence_dates(stage: _Stage, si: int, ctx: DateContext, events: list[Event]) -> list[tuple[DateMention, ResolvedDate]]:
    """Return the dates of sentence `si` resolved in the running context (a bare month by the next sentence's year)."""
    s_start, s_end = stage.sentences[si]
    sentence = stage.text[s_start:s_end]
    dated: list[tuple[DateMention, ResolvedDate]] = []
    for dm in find_dates(sentence):
        anchor = _anchor_event(sentence[dm.end :], events, stage.types) if dm.kind == "shift" else None
        resolved = ctx.resolve(dm, anchor)
        if resolved is None and dm.kind in ("md", "dm", "month") and si + 1 < len(stage.sentences):
            nxt = stage.sentences[si + 1]
            resolved = _year_from_next(dm, stage.text[nxt[0] : nxt[1]], ctx)
        if resolved is not None and resolved.precision != "decade":
            dated.append((dm, resolved))
    return dated


def _read_sentence(stage: _Stage, s_start: int, s_end: int, dated, triggers: list[_Trigger]) -> _Sentence:
    """Return the sentence with its reporting segments, asides, quoted phrases, intro clause and actors outside asides."""
    sentence = stage.text[s_start:s_end]
    asides = [(m.start(), m.end()) for m in re.finditer(r"\([^()]*\)", sentence)]
    s_mentions = [
        m for m in stage.actor_mentions
        if s_start <= m.start and m.end <= s_end and not any(a <= m.start - s_start < b for a, b in asides)
    ]
    return _Sentence(sentence, s_start, s_end, dated, triggers, _sentence_segments(sentence), asides, s_mentions,
                     _cues().intro_clause.match(sentence), [(m.start(), m.end()) for m in _SHORT_QUOTE.finditer(sentence)])


def _tells_no_happening(snt: _Sentence, trig: _Trigger, events: list[Event]) -> bool:
    """True when the words around the trigger name no happening of their own: a quoted label, a demand, what a picture
    is said to show, a capability, a date shifted from it, or a reference to a happening already told."""
    sentence, before = snt.text, snt.text[: trig.start]
    if any(a < trig.start and trig.end < b and not _cues().speech_opening.search(sentence[max(0, a - _SPEECH_WINDOW) : a]) for a, b in snt.quoted):
        # A trigger inside a short quoted phrase is a label someone gave, not a happening the sentence tells; a quotation
        # opened as speech ("said that it “deplores ...”") tells what the speaker did.
        return True
    if _cues().demand.search(before) or _cues().depiction.search(before):
        return True
    if _cues().denied_existence.search(before[-_CUE_WINDOW:]):
        # "denied any contract": the speakers say there is none.
        return True
    if _cues().possible.search(before[-_CUE_WINDOW:]):
        return True
    if not snt.dated and _cues().time_anchor.search(before[-_TIME_ANCHOR_WINDOW:]):
        # "after the attack on the convoy, ...", "before talks broke down": an undated happening named to place
        # another in time, not told.
        return True
    if any(dm.kind == "shift" and 0 <= trig.start - dm.end <= 12 for dm, _ in snt.dated):
        # "a month before the coup" dates another happening by this one.
        return True
    # "the agreement", "Mali's coup": a happening already told, unless the words name its parties.
    return bool(
        _cues().reference.search(before[-_CUE_WINDOW:]) and not trig.etype.requires_source and not snt.dated
        and not _cues().introduces_parties.match(sentence[trig.end :])
        and any(e.type in (trig.etype.id, *(("armed_clash",) if trig.etype.id == "attack" else ())) and ({a.name for a in e.actors} & {m.actor for m in snt.mentions} or snt.start - e.end < 600) for e in events)
    )


# How far around an undated trigger a habitual adverb makes it a kind of repeated happening.
_HABITUAL_WINDOW = 50
# How far into what a reporter says its own verb may lie ("that it had swiftly removed").
_SELF_REFERENCE_SPAN = 30
# How far after a trigger a possessive still names the owner of what it tells ("the withdrawal of its troops").
_POSSESSIVE_AFTER = 16


def _speaks_of_itself(snt: _Sentence, trig: _Trigger, seg) -> bool:
    """True when what a reporter says opens on a pronoun of its own, or holds a possessive by the trigger before any
    other party is named ("X announced its withdrawal", "a annoncé la réduction de sa présence")."""
    sentence = snt.text
    if _cues().self_reference.match(sentence[seg[0] : seg[1]]):
        return True
    owner = _cues().self_possessive.search(sentence, seg[0], min(seg[1], trig.end + _POSSESSIVE_AFTER))
    return bool(owner) and not any(seg[0] <= m.start - snt.start < owner.start() for m in snt.mentions)


def _named_in_segment(stage: _Stage, snt: _Sentence, trig: _Trigger, seg) -> list[Mention] | None:
    """Return the named actors of the trigger's segment (a reporter is not a party of what it reports); None when an
    event that needs a publisher has none."""
    sentence, s_start = snt.text, snt.start
    reporter = None
    frames = [sg for sg in snt.segments if not sg[2]]
    if len(snt.segments) > 1 and frames:
        frame = [m for m in snt.mentions if frames[0][0] <= m.start - s_start < frames[0][1]]
        reporter = frame[-1].actor if frame else None
    # Names in a clause that places the happening in time by another ("... before the new tariffs were announced")
    # are that other happening's parties.
    anchor = _cues().time_anchor_word.search(sentence, trig.end)
    stop = anchor.start() if anchor else len(sentence)
    mentions = [m for m in snt.mentions if m.start - s_start < stop]
    in_seg = [m for m in mentions if seg[0] <= m.start - s_start < seg[1]]
    if trig.etype.requires_source:
        kinds = stage.kinds
        before = [m for m in snt.mentions if 0 <= trig.start - (m.end - s_start) <= 60 and kinds.get(m.actor, "unknown") in _PUBLISHER_KINDS]
        # "a report released on 14 March by RFI", "révélé par RFI": the publisher follows "by".
        before += [m for m in snt.mentions if 0 <= (m.start - s_start) - trig.end <= 60 and kinds.get(m.actor, "unknown") in _PUBLISHER_KINDS
                   and _cues().by_agent.search(sentence[trig.start : m.start - s_start])]
        if not before:
            return None
        in_seg = snt.mentions
    if seg[2] and reporter and not trig.weak and trig.start - seg[0] <= _SELF_REFERENCE_SPAN and _speaks_of_itself(snt, trig, seg):
        # What a reporter says is about others, unless it tells what it did itself ("X announced that it had removed").
        # A bare killing verb is left out: its doer must be named in the clause, not claimed by a speaker. When what it
        # says names no one else, the other names of the sentence are its parties as they are of any clause naming none.
        others = [m for m in in_seg if m.actor != reporter] or [m for m in mentions if m.actor != reporter]
        in_seg = [frame[-1]] + others
        reporter = None
    elif not trig.etype.requires_source and seg[2] and reporter:
        in_seg = [m for m in in_seg if m.actor != reporter]
    if not in_seg:
        in_seg = [m for m in mentions if not (seg[2] and m.actor == reporter)]
    return in_seg


def _event_date(stage: _Stage, snt: _Sentence, trig: _Trigger, seg) -> tuple[ResolvedDate | None, list]:
    """Return the trigger's date and the segment's dates it was chosen from.

    The nearest date of the trigger's segment, skipping dates of a later trigger and an intro clause's date
    ("After the invasion in 2022, ...") which belongs to another happening.
    """
    sentence, intro = snt.text, snt.intro
    seg_dates = [(dm, r) for dm, r in snt.dated if seg[0] <= dm.start < seg[1]]
    onset = [(dm, r) for dm, r in seg_dates if _cues().onset.search(sentence[max(0, dm.start - _ONSET_WINDOW) : dm.start])]
    if onset:
        # "since 2017" dates the start of a state of affairs: the happening's own date when the words run on
        # from its trigger ("have executed civilians since December"), not across a clause or beside another date.
        others = [x for x in seg_dates if x not in onset]
        seg_dates = others or [(dm, r) for dm, r in onset if not _CLAUSE_BREAK.search(
            sentence[min(trig.end, dm.start) : max(trig.start, dm.end)])]
    # A date after a later trigger is that one's: "X revealed that soldiers raided the village on 4 September"
    # dates the raid, not the revealing.
    # A trigger in an aside ("(as reported)") hedges the sentence and owns no date.
    told = [t for t in snt.triggers if not any(a <= t.start < b for a, b in snt.asides)]
    seg_dates = [(dm, r) for dm, r in seg_dates if not _beyond_trigger(dm, trig, told)]
    date = None
    if intro and trig.start >= intro.end():
        own = [(dm, r) for dm, r in seg_dates if dm.start >= intro.end()]
        clause = [(dm, r) for dm, r in seg_dates if dm.start < intro.end()]
        if own:
            date = min(own, key=lambda x: abs(x[0].start - trig.start))[1]
        elif clause and _cues().intro_after.fullmatch(intro.group("word")):
            date = ResolvedDate(clause[-1][1].value[:4], "year")
    elif seg_dates:
        pool = [(dm, r) for dm, r in seg_dates if not intro or dm.start < intro.end()] if intro else seg_dates
        date = min(pool or seg_dates, key=lambda x: abs(x[0].start - trig.start))[1]
    if date is None and trig.etype.id == "publication" and stage.published and not intro:
        date = ResolvedDate(stage.published[:7], "month")
    return date, seg_dates


def _event_type(snt: _Sentence, trig: _Trigger, harmed: list[str], actor_types: ActorTypes) -> str:
    """Return the trigger's type as ACLED would code it from who is harmed."""
    etype = trig.etype.id
    if trig.weak and harmed and harmed[0] in actor_types.agent_types:
        # "killed two soldiers": the victims bear arms, so it is a battle.
        etype = "armed_clash"
    if etype == "attack" and not _cues().civilian_target.search(snt.text) and "civilians" not in harmed and not _cues().remote.search(snt.text[trig.start:trig.end]):
        # An attack on an army or a territory is a battle in ACLED's terms; shelling, bombs and
        # strikes stay remote violence whoever they hit.
        etype = "armed_clash"
    return etype


def _event_actors(stage: _Stage, snt: _Sentence, trig: _Trigger, etype: str, in_seg: list[Mention], parties: list[_Party],
                  unnamed: list[_Party], location: str | None, point) -> dict[str, list]:
    """Return the event's actors, name to [role, actor type]: the named ones, then the unnamed parties by type."""
    sentence, s_start, kinds = snt.text, snt.start, stage.kinds
    typed = {p.named: _party_type(p, etype) for p in parties if p.named}
    actors: dict[str, list] = {}
    for m in in_seg:
        if m.actor not in actors:
            kind_type = _NAMED_TYPES.get(kinds.get(m.actor, "")) if etype in _VIOLENT else None
            actors[m.actor] = [_role(sentence, m.start - s_start, m.end - s_start, trig), typed.get(m.actor, kind_type)]
    if unnamed:
        # The place says the country of unnamed parties in a bare incident report; beside named actors it is too loose a tie.
        place_country = None if in_seg else _place_country(location, point, kinds, stage.catalog)
        by_type = stage.actor_types.by_id()
        for p in unnamed:
            type_id = _party_type(p, etype)
            country = p.country or (place_country if by_type[type_id].country_from_place else None)
            name = _party_name(type_id, country, stage.actor_types)
            role = ("target" if type_id == "civilians" else "agent" if p.start < trig.end and trig.start < p.end
                    else _role(sentence, p.start, p.end, trig))
            if name in actors:
                actors[name][1] = actors[name][1] or type_id
            else:
                actors[name] = [role, type_id]
    return actors


def _acting_parties(stage: _Stage, snt: _Sentence, trig: _Trigger, seg, in_seg: list[Mention]):
    """Return (parties, unnamed parties, whether no party acts) of the trigger's segment; None when the event has no
    party that acts (victims alone tell a toll, not who did it) or a bare killing verb no doer in the active voice (an
    accident just before it is what killed)."""
    sentence, s_start, actor_types = snt.text, snt.start, stage.actor_types
    any_actor = trig.etype.id in _ANY_ACTOR_TYPES or trig.learned
    parties = []
    if any_actor:
        if snt.parties is None:
            snt.parties = _find_parties(sentence, stage.language, snt.mentions, s_start, stage.kinds, actor_types)
        parties = [p for p in snt.parties if seg[0] <= p.start < seg[1]]
    unnamed = [p for p in parties if p.named is None]
    if in_seg:
        # Beside named actors, an unnamed party counts when it has a country of its own ("Malian soldiers")
        # or takes part close to the trigger ("JNIM clashed with soldiers").
        unnamed = [p for p in unnamed if p.country or (
            _party_type(p, trig.etype.id) != "civilians" and min(abs(p.start - trig.end), abs(trig.start - p.end)) <= 60)]
    if trig.weak:
        # A bare "killed" tells an event only with a party that does the killing, before the verb in the active voice.
        doers = [m for m in in_seg if m.end - s_start <= trig.start] + [p for p in unnamed if p.end <= trig.start]
        if not doers or _cues().accident.search(sentence[max(0, trig.start - _ACCIDENT_WINDOW) : trig.start]) or _cues().passive.search(sentence[max(0, trig.start - _PASSIVE_WINDOW) : trig.start]) or _cues().no_object.match(sentence[trig.end :]):
            return None
    # The detector's event may have no party the text names ("a landmine killed eight passengers").
    unknown_agent = trig.learned and not in_seg and not any(
        _party_type(p, trig.etype.id) in actor_types.agent_types for p in unnamed)
    if not unknown_agent and not in_seg:
        # An event needs a party that acts: victims alone ("civilians") tell a toll, not who did it.
        if not unnamed or not any(_party_type(p, trig.etype.id) in actor_types.agent_types for p in unnamed):
            return None
    return parties, unnamed, unknown_agent


def _event_point(stage: _Stage, snt: _Sentence, location: str, in_seg: list[Mention]):
    """Return the coordinates of the event's place, placed by the other places and states the text names nearby."""
    s_start, s_end, kinds = snt.start, snt.end, stage.kinds
    context = [p.actor or p.text for p in stage.place_mentions if s_start <= p.start < s_end and (p.actor or p.text) != location]
    context += [m.group("name") for m in _cues().untagged_place.finditer(snt.text) if m.group("name") != location]
    context += [m.actor for m in reversed(stage.actor_mentions) if m.start < s_end and kinds.get(m.actor) == "state"][:3]
    return _locate(location, [m.actor for m in in_seg], kinds, context)


def _event_of_trigger(stage: _Stage, snt: _Sentence, trig: _Trigger, events: list[Event]) -> Event | None:
    """Return the event a trigger tells, with its parties, date, place and toll; None when it tells none."""
    sentence, s_start, s_end = snt.text, snt.start, snt.end
    actor_types = stage.actor_types
    if _tells_no_happening(snt, trig, events):
        return None
    seg = next(seg for seg in snt.segments if seg[0] <= trig.start < seg[1])
    in_seg = _named_in_segment(stage, snt, trig, seg)
    if in_seg is None:
        return None
    found = _acting_parties(stage, snt, trig, seg, in_seg)
    if found is None:
        return None
    parties, unnamed, unknown_agent = found
    date, seg_dates = _event_date(stage, snt, trig, seg)
    found_place = _location(stage.text, s_start, seg, trig, stage.place_mentions, s_end,
                            [m for m in snt.mentions if m.label == "PERSON" or stage.kinds.get(m.actor, "state") != "state"])
    location, geo_precision = found_place if found_place else (None, None)
    date_at = next((dm.start for dm, r in seg_dates if r is date), 0)
    if trig.learned and (date is None or date.precision != "day" or (unknown_agent and not location)
                         or load_acled_taxonomy().dates_a_publication(sentence[:date_at])):
        # The detector reads any wording, so its event must be an incident as ACLED codes one: told with
        # its day (and its place when no party is named), not an ongoing war or a background fact.
        return None
    point = _event_point(stage, snt, location, in_seg) if location else None
    harmed = [_party_type(p, trig.etype.id) for p in unnamed if p.start >= trig.start]
    etype = _event_type(snt, trig, harmed, actor_types)
    actors = _event_actors(stage, snt, trig, etype, in_seg, parties, unnamed, location, point)
    if not trig.learned and (trig.etype.id in _NEEDS_TWO or (etype in _NEEDS_TWO and not in_seg)) and len(actors) < 2:
        return None
    modality = _modality(sentence, trig.start, trig.end)
    if modality == "planned" and not _cues().announced.search(sentence[: trig.start]):
        return None
    if date is None and _cues().habitual.search(sentence[max(0, trig.start - _HABITUAL_WINDOW) : trig.end + _HABITUAL_WINDOW]):
        # "are regularly accused of abuses", "the coups of recent years": a kind of repeated happening, not one.
        return None
    deaths, qualifier = _fatalities(sentence) if etype in (*_VIOLENT, "protest") else (None, None)
    confidence = round(min(0.95, 0.5 + 0.15 * bool(date) + 0.1 * min(len(actors), 2) + 0.05 * bool(location)), 2)
    # A body of a state (a ministry, a named military operation) acts for its state, which is a party too; added after
    # the checks above, so one body alone never counts as two parties.
    bodies = stage.catalog.states_of_bodies()
    for name in [n for n in actors if n in bodies and bodies[n] not in actors]:
        actors[bodies[name]] = [actors[name][0], _NAMED_TYPES["state"] if etype in _VIOLENT else None]
    generic = date is None and _is_generic(sentence, trig)
    return Event(
        id=_event_id(stage.doc_id, etype, s_start + trig.start), doc=stage.doc_id, type=etype,
        date=date.value if date else None, date_precision=date.precision if date else None,
        actors=tuple(EventActor(n, r, t) for n, (r, t) in actors.items()),
        location=location, latitude=point.latitude if point else None, longitude=point.longitude if point else None, fatalities=deaths, fatalities_qualifier=qualifier,
        modality=modality, start=s_start, end=s_end, evidence=sentence,
        trigger=sentence[trig.start : trig.end], extractor=EXTRACTOR,
        confidence=round(confidence - 0.2, 2) if generic else confidence, generic=generic,
        geo_precision=geo_precision, time_precision=_time_precision(date),
    )


def _learned_triggers(text: str, sentences: list[tuple[int, int]], by_id: dict[str, EventType]) -> list[_Trigger | None]:
    """Per sentence, the trigger the ACLED detector is sure of (its sub-type's project type, at its cue), else None."""
    found = confident_events([text[a:b] for a, b in sentences])
    return [_Trigger(by_id[f[0]], f[1], f[2], learned=True) if f and f[0] in by_id else None for f in found]


def _with_fallback(triggers: list[_Trigger], fallback: _Trigger | None, events: list[Event], before: int):
    """Yield the lexicon triggers, then the detector's trigger when they gave the sentence no event.

    Lexicons enumerate wording; the learned detector reads any wording of an ACLED event, and any party
    ("gunmen", "a mob", "police") may act in it.
    """
    yield from triggers
    if fallback is not None and len(events) == before:
        yield fallback




def _later_tolls(events: list[Event], text: str, sentences: list[tuple[int, int]], types=(), language=None) -> list[Event]:
    """Give a violent event the final death toll its paragraph goes on to report ("later, more than 500").

    The paragraph's next sentences count until one dates another incident, or tells a violent one (a trigger of its
    own) somewhere else: a sentence that retells the same killing ("more than 500 were executed") keeps counting.
    """
    out = []
    for ev in events:
        if ev.type in _VIOLENT:
            after = [sp for sp in sentences if sp[0] >= ev.end and "\n" not in text[ev.end : sp[0]]][:4]
            here = (ev.location or "").split(",")[0].strip()
            for sp in after:
                follow = text[sp[0] : sp[1]]
                if any(d.kind not in ("shift",) for d in find_dates(follow)):
                    break
                if any(t.etype.id in _VIOLENT and not t.weak for t in _find_triggers(follow, types, language)):
                    elsewhere = [p for p in _cues().place_after_locative.findall(follow) if p != here]
                    if elsewhere or not here:
                        break
                deaths, qualifier = _fatalities(follow)
                if deaths is not None or (qualifier and ev.fatalities is None):
                    ev = replace(ev, fatalities=deaths, fatalities_qualifier=qualifier)
        out.append(ev)
    return out




def _aboard(events: list[Event], stage: _Stage) -> list[Event]:
    """Give an accident whose sentence names no person the persons the next sentence of its paragraph names, when that
    sentence says who was aboard (`cues.aboard`: "X was listed as a passenger") and dates nothing of its own (it goes
    on about the same happening): they are its victims."""
    out = []
    for ev in events:
        if _cues().accident.search(ev.trigger) and not any(stage.kinds.get(a.name) == "person" for a in ev.actors):
            after = next(((a, b) for a, b in stage.sentences if a >= ev.end), None)
            follow = stage.text[after[0] : after[1]] if after else ""
            if (after and "\n" not in stage.text[ev.end : after[0]] and _cues().aboard.search(follow)
                    and all(d.kind == "shift" for d in find_dates(follow))):
                names = {a.name for a in ev.actors}
                aboard = [m.actor for m in stage.actor_mentions
                          if after[0] <= m.start < after[1] and stage.kinds.get(m.actor) == "person" and m.actor not in names]
                if aboard:
                    ev = replace(ev, actors=ev.actors + tuple(EventActor(n, "other") for n in dict.fromkeys(aboard)))
        out.append(ev)
    return out


def _year_from_next(dm: DateMention, following: str, ctx) -> ResolvedDate | None:
    """Date a bare month or day the context cannot place by the next sentence's full date.

    "In September, X revealed ... On 11 November 2021, ...": a story told in order gives the earlier
    month the same year (the year before when the month comes later in the calendar).
    """
    full = next((d for d in find_dates(following) if d.kind in ("iso", "mdy", "dmy", "month_year")), None)
    if full is None:
        return None
    ahead = DateContext().resolve(full, update=False)
    if ahead is None:
        return None
    year, month = ahead.key[0], ahead.key[1]
    probe = DateContext(year=year - (1 if _month_of(dm) > month else 0))
    return probe.resolve(dm)


def _month_of(dm: DateMention) -> int:
    return MONTHS[(dm.groups[1] if dm.kind == "dm" else dm.groups[0]).lower().rstrip(".")]


def _beyond_trigger(dm: DateMention, trig: _Trigger, triggers: list[_Trigger]) -> bool:
    """True when the date follows another trigger that follows this one (the date is that one's).

    Only forward: a date opening the sentence ("On 23 December, sixteen states published a statement
    condemning the deployment") stays the date of what the sentence tells, whichever trigger it names first.
    """
    if dm.start < trig.end:
        return False
    return any(trig.end <= t.start and t.end <= dm.start for t in triggers)


def _is_generic(sentence: str, trig: _Trigger) -> bool:
    """True for an undated bare noun ("military coups", "foreign influence campaigns"): a kind of happening, not one."""
    word = (sentence[trig.start : trig.end].split() or [""])[0].lower()
    if word.endswith(("ed", "é", "ée", "és")) or (word.endswith("ing") and trig.etype.id != "training"):
        return False
    return not _cues().determined.search(sentence[max(0, trig.start - _CUE_WINDOW) : trig.start])


def _anchor_event(after: str, events: list[Event], types: tuple[EventType, ...]) -> ResolvedDate | None:
    """For "a month before the coup", return the date of the latest dated event of the type named."""
    m = _cues().definite_noun.match(after)
    if not m:
        return None
    noun = m.group(1)
    for et in types:
        if any(p.match(noun) for p in et.triggers.values()):
            for ev in reversed(events):
                if ev.type == et.id and ev.date:
                    return ResolvedDate(ev.date, ev.date_precision or "year")
    return None


def _location(text: str, s_start: int, seg, trig, places: list[Mention], s_end: int,
              named: list[Mention] = ()) -> tuple[str, int] | None:
    """Return the place the clause says it happened in (a named place after a locative preposition) and ACLED's geo-precision.

    Towns come before countries (the most specific place); a place the parser did not tag is taken when a
    capitalised name after "in", "near", "à" is a known town and no name of an actor (`named`: the sentence's
    mentions of people and of the catalogue's actors other than states). A continent, or a place a route names, is not
    where it happened.
    Precision: 1 the town itself, 2 near it, 3 a country.
    """
    in_sentence = [p for p in places if s_start <= p.start and p.end <= s_end and not _elsewhere(text, s_start, p.start, p.text)]
    preferred = [p for p in in_sentence if _cues().place_prep.search(text[max(s_start, p.start - _CUE_WINDOW) : p.start])]
    if preferred:
        preferred.sort(key=lambda p: (p.actor is not None, abs(p.start - (s_start + trig.start))))
        p = preferred[0]
        near = _cues().near.search(text[max(s_start, p.start - _CUE_WINDOW) : p.start])
        return p.actor or p.text, 3 if p.actor else (2 if near else 1)
    taken = [(p.start - s_start, p.end - s_start) for p in (*in_sentence, *named)]
    for m in _cues().untagged_place.finditer(text[s_start:s_end]):
        name = m.group("name")
        if (name.lower() in MONTHS or name.lower() in WEEKDAYS or any(a < m.end() and m.start("name") < b for a, b in taken)
                or _elsewhere(text, s_start, s_start + m.start("name"), name)):
            continue
        if _known_town(name):
            return name, 2 if m.group("near") else 1
    for p in sorted(in_sentence, key=lambda p: p.start):
        # A known town the sentence names without a locative preposition ("took control of" a town). A state named
        # so is mostly a party of the event, not its place, and a tagged word the gazetteer does not know is not
        # taken for a place.
        if p.actor is None and _known_town(p.text):
            return p.text, 1
    return None


def _elsewhere(text: str, s_start: int, start: int, name: str) -> bool:
    """True when a place named at `start` is not where a happening took place: a continent, or a place its route names."""
    return is_continent(name) or bool(_cues().route.search(text[max(s_start, start - _CUE_WINDOW) : start]))


def _known_town(name: str) -> bool:
    """Whether the gazetteer knows a town by this name."""
    try:
        point = geocode(name)
    except (OSError, sqlite3.Error):
        return False
    return point is not None and point.precision == "town"


def _time_precision(date: ResolvedDate | None) -> int | None:
    """Return ACLED's time precision of a resolved date: 1 a day, 2 a span of days, 3 a month or a year."""
    if date is None:
        return None
    if date.precision == "day":
        return 2 if date.qualifier == "span" else 1
    return 3


def _place_country(location: str | None, point, kinds: dict[str, str], catalog: ActorCatalog) -> str | None:
    """Return the canonical name of the country an event's place lies in (the place itself when it is a state)."""
    if not location:
        return None
    if kinds.get(location) == "state":
        return location
    if point is None or not point.country:
        return None
    return _states_by_code(catalog).get(point.country)


_STATES_BY_CODE: dict[str, dict[str, str]] = {}


def _states_by_code(catalog: ActorCatalog) -> dict[str, str]:
    """Return the catalog's states keyed by ISO country code (built once per catalog)."""
    table = _STATES_BY_CODE.get(catalog.fingerprint)
    if table is None:
        table = {}
        for e in catalog.entries:
            if e.kind == "state":
                try:
                    code = country_code(e.country or e.name) or country_code(e.name)
                except (OSError, sqlite3.Error):
                    code = None
                if code:
                    table.setdefault(code, e.name)
        _STATES_BY_CODE[catalog.fingerprint] = table
    return table


def _locate(location: str, actors: list[str], kinds: dict[str, str], context: list[str] = ()):
    """Return the coordinates of an event's place, preferring a town in a country the event, the sentence or the text names.

    `context` lists other place names and states, nearest first: a town that several countries share is the
    one in the country the text is about ("Kossa near Bambari" is the Central African Kossa).
    """
    try:
        if kinds.get(location) == "state":
            code = country_code(location)
            return geocode(location, code) if code else None
        hints = []
        for name in [a for a in actors if kinds.get(a) == "state"] + list(context):
            if name == location:
                continue
            code = country_code(name) if kinds.get(name) == "state" else getattr(geocode(name), "country", None)
            if code and code not in hints:
                hints.append(code)
        for code in hints:
            point = geocode(location, code)
            if point is not None and point.country == code:
                return point
        return geocode(location)
    except (OSError, sqlite3.Error):
        return None



def _absorb(keep: Event, ev: Event) -> Event:
    """Return keep with ev's extra actors, fatalities and confidence folded in."""
    names = {a.name for a in keep.actors}
    extra = tuple(a for a in ev.actors if a.name not in names)
    deaths = ev.fatalities if ev.fatalities is not None else keep.fatalities
    qualifier = ev.fatalities_qualifier if ev.fatalities is not None else keep.fatalities_qualifier
    return replace(keep, actors=keep.actors + extra, confidence=max(keep.confidence, ev.confidence),
                   fatalities=deaths, fatalities_qualifier=qualifier)


def merge_duplicate_events(events: list[Event]) -> list[Event]:
    """Merge events of one document that tell the same happening; return them in text order.

    Dated tellings merge when type, date (at the shared precision) and at least one party agree;
    the more precise date and its sentence are kept. A generic undated mention ("military coups")
    folds into the nearest dated telling of its type that shares a party, later ones first (texts
    announce a happening before they date it); a specific undated telling folds only into one that
    names the same parties; otherwise it stands on its own. Two undated tellings of a type with a `merge_similarity`
    (one that gathers unlike acts: a denial and a condemnation are both `other`) also need one kind of act, when their
    triggers name kinds, and sentences that read alike.
    """
    same_footing = _Footing(events)
    dated: list[Event] = []
    for ev in (e for e in events if e.date):
        for i, other in enumerate(dated):
            if other.type == ev.type and dates_compatible(other.date, ev.date) and same_footing(ev, other) and {a.name for a in ev.actors} & {a.name for a in other.actors}:
                keep = other
                if len(ev.date) > len(other.date):
                    keep = replace(other, date=ev.date, date_precision=ev.date_precision, start=ev.start, end=ev.end,
                                   evidence=ev.evidence, trigger=ev.trigger, id=ev.id)
                dated[i] = _absorb(keep, ev)
                break
        else:
            dated.append(ev)
    undated: list[Event] = []
    for ev in (e for e in events if not e.date):
        names = {a.name for a in ev.actors}
        same = [(i, d) for i, d in enumerate(dated) if d.type == ev.type and names & {a.name for a in d.actors} and same_footing(ev, d)]
        if not ev.generic:
            same = [(i, d) for i, d in same if _same_parties(names, {a.name for a in d.actors})]
        later = [x for x in same if x[1].start > ev.start]
        earlier = [x for x in same if x[1].start <= ev.start]
        target = min(later, key=lambda x: x[1].start) if later else (max(earlier, key=lambda x: x[1].start) if earlier else None)
        if target is not None:
            if not ev.generic:
                dated[target[0]] = _absorb(target[1], ev)
            continue
        for i, other in enumerate(undated):
            if other.type == ev.type and same_footing(ev, other) and (ev.generic or _same_parties(names, {a.name for a in other.actors})) and names & {a.name for a in other.actors}:
                undated[i] = other if ev.generic else _absorb(other, ev)
                break
        else:
            undated.append(ev)
    return sorted(dated + undated, key=lambda e: (e.start, e.id))


class _Footing:
    """Whether two tellings of one document can be one happening: a plan and a happening are two things; so are two
    undated tellings of a type that gathers unlike acts whose triggers name two kinds (`different_kinds`) or whose
    sentences read apart (the type's `merge_similarity`; shared encoder, the document's sentences of such types encoded
    once, when first asked). A date shared at its precision is evidence enough of one happening."""

    def __init__(self, events: list[Event]):
        self.limits = {t.id: t.merge_similarity for t in load_event_types() if t.merge_similarity is not None}
        self.vectors: dict[str, np.ndarray] = {}
        self.events = events

    def __call__(self, a: Event, b: Event) -> bool:
        if (a.modality == "planned") != (b.modality == "planned"):
            return False
        limit = self.limits.get(a.type) if a.type == b.type else None
        if limit is None or a.evidence == b.evidence or a.date or b.date:
            return True
        if different_kinds(a, b):
            return False
        if a.evidence not in self.vectors or b.evidence not in self.vectors:
            texts = sorted({e.evidence for e in self.events if e.type in self.limits} | {a.evidence, b.evidence})
            self.vectors.update(zip(texts, encode_sentences(texts)))
        return float(self.vectors[a.evidence] @ self.vectors[b.evidence]) >= limit


def _same_parties(a: set[str], b: set[str]) -> bool:
    return len(a & b) >= 2 or (bool(a & b) and (a <= b or b <= a))
