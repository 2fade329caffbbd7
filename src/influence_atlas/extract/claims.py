"""Claims: checkable statements, their figures, who the text says they come from (and who relays them), and hedges.

Every statement of a document is scored by a small learned head (the CheckThat!-trained
check-worthiness score, the shared MiniLM sentence vector and cheap features: figures, dates,
named actors, a named source, form of the sentence); a statement scoring at or above one
threshold, chosen by cross-validation by document on the development corpus, is a claim.
Questions and headlines that repeat a body sentence are never claims. Sources are read with
the reporting verbs, source frames and source nouns of `ontology/voice.yaml`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Callable

from ..errors import AtlasError, ModelError
from ..ontology import ActorCatalog
from ..ontology.claim_cues import load_claim_cues
from ..ontology.lexicons import VoiceCues, load_voice_cues
from ..records import Claim, Mention
from .dates import find_dates
from .quantities import find_quantities

EXTRACTOR = "claims"
HEAD_FILE = "models/checkworthiness/claim_head.json"
# Mentions that can name a source: people and organisations, with or without a catalogue entry.
_SOURCE_LABELS = {"PERSON", "PER", "ORG"}
# Catalogue kinds that speak for themselves; a state named inside a described source ("two
# Mozambique army sources") only qualifies the words.
_BODY_KINDS = {"media", "research", "ngo", "igo", "government_body", "company", "party", "armed_group", "alliance", "bloc",
               "person", "civil_society"}
_SPEAKER_KINDS = _BODY_KINDS | {"state", "unknown"}
_NOISE = re.compile(r"https?:|www\.|@\w|pic\.twitter|\||©", re.I)


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who the text says a statement comes from: source (canonical actor or the text's own words), the
    words that say so, the reporting verb, and the relay that passes it on (A in "A reports that B says")."""

    source: str | None
    words: str | None
    verb: str | None
    relay: str | None = None
    pronoun: bool = False  # the source is "he" / "il": the one named last
    trailing: bool = False  # read from a frame after the words it reports (", said X", ", rapporte l'AFP")


_NONE = Attribution(None, None, None)


class _Words:
    """The claim cues of `ontology/claim_cues.yaml` (`w[name]`: one alternation per section) and the patterns built on them."""

    def __init__(self, w: dict[str, str]):
        self.w = w
        self.determiner = w["determiners"]
        # A determiner and what parts it from its noun: a space, or nothing after an elided article ("l’armée").
        self.opener = rf"(?:{w['determiners']})(?:\s+|(?<=['’]))"
        # Words that may stand between a subject and its reporting verb ("Reuters has also reported").
        self.between = re.compile(rf"(?:\s*(?:\b{w['subject_verb_gap']}\b|[,]))*\s*$", re.I)
        self.continues = re.compile(rf"^\W*{w['continuation']}", re.I)
        self.finding = re.compile(w["finding_verbs"], re.I)
        self.first_person = re.compile(rf"(?<!\w){w['first_person']}(?!\w)")  # with case: "I", not "i"
        # Words of the clause before a source phrase ("up with local media reports" -> "local media reports").
        self.leading = re.compile(rf"^(?:.*?\b{w['clause_openers']}\s+)(?=\S)", re.I)


@lru_cache(maxsize=1)
def _words() -> _Words:
    return _Words(load_claim_cues())
# The source of a statement the text hands to reports it does not name ("has reportedly sent").
UNNAMED_REPORTS = "reports"


def _claim_id(doc: str, start: int) -> str:
    return "cl_" + hashlib.sha1(f"{doc}:{start}".encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- sources

class _Sentence:
    """One sentence with the mentions that can name a source, offsets relative to the sentence."""

    def __init__(self, sentence: str, offset: int, mentions: list[Mention], kinds: dict[str, str]):
        self.text = sentence
        self.spans = []  # (start, end, name, kind)
        for m in mentions:
            if not (offset <= m.start and m.end <= offset + len(sentence)):
                continue
            kind = kinds.get(m.actor, "unknown") if m.actor else None
            if kind == "unknown" and m.label in ("PERSON", "PER"):
                kind = "named"  # a person the catalogue lacks
            if m.actor and (m.label != "NORP" or kind == "collective") and kind in _SPEAKER_KINDS | {"named", "collective"}:
                # (A group named as such speaks, "Western countries accused ..."; a state's demonym does not.)
                self.spans.append((m.start - offset, m.end - offset, m.actor, kind))
            elif not m.actor and m.label in _SOURCE_LABELS:
                self.spans.append((m.start - offset, m.end - offset, m.text, "named"))
        self.spans.sort()

    def inside(self, a: int, b: int) -> list[tuple[int, int, str, str]]:
        return [s for s in self.spans if a <= s[0] and s[1] <= b]


def _np_source(phrase: str, base: int, sent: _Sentence, cues: VoiceCues, language: str | None) -> tuple[str, str] | None:
    """Return (source, words) for a noun phrase that names a source: an actor it starts with, or a described source."""
    stripped = phrase.strip(" ,;:\"'“”«»")
    if not stripped:
        return None
    lead = len(phrase) - len(phrase.lstrip(" ,;:\"'“”«»"))
    a, b = base + lead, base + lead + len(stripped)
    pronouns = cues.get("pronouns", language)
    if pronouns and pronouns.fullmatch(stripped):
        return "", stripped
    wd = _words()
    w = wd.w
    det = re.match(wd.opener, stripped, re.I)
    head_at = a + (det.end() if det else 0)
    nouns = cues.get("source_nouns", language)
    # "two army sources", "un responsable local": a source noun, perhaps followed by an adjective or two.
    core = re.sub(rf"\s+{w['relative_person']}\s+.*$", "", stripped, flags=re.I)
    described = bool(nouns and re.search(rf"(?:{nouns.pattern})(?:\s+(?!{w['noun_complements']}\b)[a-zà-ÿ’'-]+){{0,2}}\W*$",
                                         core, re.I))
    actors = sent.inside(a, b)
    if actors and not described:
        first = actors[0]
        if first[0] <= head_at + 1:
            return first[2], sent.text[a:b]
        # "the head of Ruritanian diplomacy, Ana Varga": a named person closes the description.
        person = [s for s in actors if s[3] in ("person", "named")]
        if person:
            return person[-1][2], sent.text[a:b]
        # "nos confrères de RFI", "analysts of the UN": the body the described source belongs to.
        if re.search(rf"\b{w['belonging']}\s*(?:{w['articles']}\s*)?$", sent.text[a:first[0]], re.I) and first[3] in _BODY_KINDS:
            return first[2], sent.text[a:b]
        return None
    if described and re.match(rf"(?:{wd.determiner}\s+{w['belonging']}\s+)?(?:{w['possessives']})\s", stripped, re.I):
        return "", stripped  # "l'une de ses enquêtes": its owner, the one named last
    if described:
        bodies = [s for s in actors if s[3] in _BODY_KINDS and s[3] != "person"]
        if bodies and not re.search(w["person_stems"], stripped, re.I):
            return bodies[0][2], sent.text[a:b]
        return _description(stripped), sent.text[a:b]
    return None


def _description(words: str) -> str:
    """Return a described source in its own words, lower-cased, without what says nothing of who it is: a vague
    quantifier ("some Sudanese sources" -> "sudanese sources") or a word telling it from another source of its kind
    ("a separate police source" -> "a police source", "the third source" -> "the source")."""
    wd = _words()
    words = re.sub(rf"^{wd.w['vague_quantifiers']}\s+", "", words.strip(), flags=re.I)
    return re.sub(rf"^((?:{wd.determiner})\s+)(?:{wd.w['distinguishers']})\s+", r"\1", words, flags=re.I).lower()


def _trim_np(words: str) -> str:
    """Return a source phrase without the words of the clause before it ("up with local media reports" -> "local media reports")."""
    wd = _words()
    while True:
        m = wd.leading.match(words)
        if not m or len(words) - m.end() < 3 or re.fullmatch(rf"{wd.w['partitives']}\s+", words[:m.end()], re.I):
            return words  # (a leading "des" / "du" is the phrase's own determiner: "Des habitants ont nié ...")
        words = words[m.end():]


def _subject_before(sent: _Sentence, end: int, cues: VoiceCues, language: str | None) -> tuple[str, str, int, bool] | None:
    """Return (source, words, start, weak) for the subject that ends right before `end` (a reporting verb), if any.

    `weak` marks the subject of a relative clause ("a blogger whom the ministry charged with ..."): it is the source of
    the sentence only when nothing else in the sentence names one."""
    text = sent.text
    wd = _words()
    w = wd.w
    gap = wd.between.search(text[:end])
    stop = gap.start() if gap else end
    clause = re.split(rf"[;:“”«»\"\[\]—–]|,\s*(?={w['clause_joints']}\b)", text[:stop])[-1]
    c0 = stop - len(clause)
    # (Not a relative clause closed by a comma before the verb: "a pilot, who asked not to be named, said".)
    rel = bool(re.search(rf"\b{w['relatives']}\s+\S+(?:\s+\S+){{0,1}}$", clause, re.I)) and "," not in text[stop:end]
    if re.search(rf"\b{w['passive_auxiliaries']}\s*$", clause, re.I):
        return None  # passive: "sanctions were announced"
    found, stop = _named_subject(sent, c0, stop, end, rel, cues, language)
    if found or rel:
        return found
    nouns, pronouns = cues.get("source_nouns", language), cues.get("pronouns", language)
    if pronouns:
        m = re.search(rf"(?<!\w)(?:{pronouns.pattern})\s*$", text[c0:stop], re.I)
        lead = text[c0:stop][:m.start()] if m else ""
        if m and (re.fullmatch(rf"(?:{w['pronoun_leads']})?", lead.strip(" ,")) or re.search(r"[,]\s*$", lead)):
            return "", m.group(0), c0 + m.start(), False
        if m and re.search(rf"\b(?:{w['coordinators']}|{w['clause_joints']}|{w['subordinators']})\s*$", lead, re.I):
            # "while she warned that", "et il a déclaré": a pronoun after a conjunction opens a clause of its own, the
            # sentence's source when nothing else in it names one.
            return "", m.group(0), c0 + m.start(), True
    if nouns:
        found = _described_subject(sent, c0, stop, end, cues, language)
        if found is None and "," in text[stop:end]:
            # "A Ruritanian navy captain, who asked not to be named, said": the described source before the apposition.
            appos = re.search(r",[^,]{2,90}$", text[c0:stop])
            if appos:
                found = _described_subject(sent, c0, c0 + appos.start(), end, cues, language)
        return found
    return None


def _named_subject(sent: _Sentence, c0: int, stop: int, end: int, rel: bool, cues: VoiceCues,
                   language: str | None) -> tuple[tuple[str, str, int, bool] | None, int]:
    """Return (subject, stop): the named subject of the clause from `c0` that ends right before the verb at `end` (as
    _subject_before gives it) or None, and where the words before the verb end once an apposition is set aside."""
    text = sent.text
    wd = _words()
    w = wd.w
    # A named subject right before the verb, possibly with an apposition: "X, spokesperson for Y, said".
    # "X, spokesperson for Y, said": the subject stands before the apposition.
    appos = re.search(r",[^,]{2,90},\s*$", text[c0:stop] + ("," if text[stop:end].lstrip().startswith(",") else ""))
    candidates = [s for s in reversed(sent.spans) if s[1] <= stop and s[0] >= c0]
    named = [s for s in candidates if s[3] in ("person", "named") and text[c0 + appos.start():stop].strip(" ,") == text[s[0]:s[1]]] if appos else []
    if named:
        # "Freedonian Ambassador to Chad, Ivo Marek, said": the name in the apposition is the speaker (the first
        # of coordinated speakers: "X, minister of Y, and his counterpart, Z, said": X).
        first = _first_conjunct(sent, named[0], c0)
        return (first[2], text[first[0]:end], first[0], False), stop
    if appos and any(s[1] <= c0 + appos.start() and re.fullmatch(r"[\s’'s]*", text[s[1]:c0 + appos.start()]) for s in candidates):
        candidates = [s for s in candidates if s[1] <= c0 + appos.start()]
        stop = c0 + appos.start()
    if len(candidates) > 1 and candidates[1][3] in ("person", "named") and re.fullmatch(
            rf"\s+{w['prepositions']}\s+(?:{w['articles']}\s*)?", text[candidates[1][1]:candidates[0][0]], re.I):
        # "Ambassador Ivo Marek to Chad said": the person speaks, not the place the phrase names.
        if not text[candidates[0][1]:stop].strip(" ’'s"):
            stop = candidates[1][1]
            candidates = candidates[1:]
    for s in candidates:
        if re.search(rf"\b(?:{w['recipient_prepositions']})\s+(?:{w['articles']}\s*)?$", text[c0:s[0]], re.I):
            break  # "documents supplied to the news agency show": the name is not the subject
        nouns = cues.get("source_nouns", language)
        if s[3] in ("named", "unknown") and nouns and re.search(rf"(?:{nouns.pattern})\s+{w['place_prepositions']}\s+(?:{w['articles']}\s*)?$",
                                                   text[c0:s[0]], re.I):
            break  # "a senior official in X said": an unknown name after a described source only says where it is
        if nouns and re.search(rf"(?:{nouns.pattern})\s+{w['topic_prepositions']}\s+(?:{w['articles']}\s*)?$", text[c0:s[0]], re.I):
            break  # "two surveys about X found": a name after a described source is what it tells of
        between = text[s[1]:stop]
        if between.strip(" ’'s") == "" or re.fullmatch(r"\s*\([^)]{1,40}\)\s*", between) or (
                s[0] > 0 and text[s[0] - 1] == "(" and re.fullmatch(r"\)\s*", between)):
            weak = rel and not between.strip()
            # "A and B denied", "A, minister of X, and B, his counterpart, said": the first named speaker leads.
            s = _first_conjunct(sent, s, c0)
            start = s[0]
            nouns = cues.get("source_nouns", language)
            if s[3] == "state" and nouns and nouns.search(text[s[0]:s[1]]):
                # The linker read the whole phrase as the state ("U.S. authorities", "le gouvernement malien").
                return (s[2], text[start:end], start, weak), stop
            # "two Zambian army sources", "Kremlin spokesman Dmitry Peskov": the phrase up to the verb decides.
            phrase_m = re.search(rf"(?:{wd.determiner}\s+)?(?:[\w’'.-]+\s+){{0,5}}$", text[c0:s[0]], re.I)
            phrase_start = c0 + phrase_m.start() if phrase_m and s[3] == "state" else start
            found = _np_source(text[phrase_start:s[1]] if s[3] != "state" else text[phrase_start:stop], phrase_start, sent, cues, language)
            if found and found[0]:
                return (found[0], text[phrase_start:end], phrase_start, weak), stop
            return (s[2], text[start:end], start, weak), stop
        break
    return None, stop


def _described_subject(sent: _Sentence, c0: int, stop: int, end: int, cues: VoiceCues, language: str | None) -> tuple[str, str, int, bool] | None:
    """Return (source, words, start, weak) for a described source ending at `stop` ("two army sources", "a soldier who
    witnessed the attack", "un responsable malien", "diplomats at the foreign ministry"), if the words end with one."""
    text = sent.text
    wd = _words()
    w = wd.w
    nouns = cues.get("source_nouns", language)
    # "two army sources", "a soldier who witnessed the attack": the described source, with its relative clause.
    ending = re.compile(rf"((?:{wd.opener})?(?:[\w’'.-]+\s+(?:{w['coordinators']}\s+)?){{0,4}}(?:{nouns.pattern}))"
                        rf"(\s+{w['relative_person']}\s+[^,;]{{3,50}}?)?\s*$", re.I)
    # A clause (or the words after a comma) that opens with the described source, up to two words after the noun that qualify it ("un responsable
    # local", "cet officier tchadien") and where or with whom it is ("the ambassador in Bangui", "sources close to X").
    after = rf"(?:\s+(?!{w['noun_complements']}\b|{w['relative_person']}\b)(?-i:[a-zà-ÿ’'-]+)){{0,2}}" if language != "en" else ""
    verbs = cues.get("reporting_verbs", language)
    not_in_phrase = w["source_qualifiers"] + (rf"|{verbs.pattern}" if verbs else "")
    opening = re.compile(rf"(?:^|,)\s*((?:{wd.opener})?(?:(?!(?:{not_in_phrase})\s)[\w’'.-]+\s+(?:{w['coordinators']}\s+)?){{0,4}}"
                         rf"(?:{nouns.pattern}){after})"
                         rf"(\s+{w['source_qualifiers']}\s*[^,;:]{{1,60}}?)?\s*$", re.I)
    for pattern in (ending, opening):
        m = pattern.search(text[c0:stop])
        if not m:
            continue
        # Trim words that belong to the clause before the source ("Since 2020 officials said").
        head = _trim_np(m.group(1))
        words = head + (m.group(2) or "")
        at = c0 + m.end(1) - len(head)
        if re.search(rf"\b{w['governing']}\s*$", text[c0:at], re.I):
            continue  # "claims by X, suggests ...": X is not the verb's subject
        found = _np_source(words, at, sent, cues, language)
        if (found is None or not found[0]) and m.group(2) and pattern is opening:
            # "the ambassador in Bangui": a described source, where it is (a place) only qualifies the words.
            found = _np_source(head, at, sent, cues, language)
            if found and found[0] == found[0].lower():
                found = (_description(words), words)
        if found and found[0]:
            return found[0], text[at:end], at, False
    return None


def _clause_subject(sent: _Sentence, end: int) -> tuple[int, int, str] | None:
    """Return (start, end, source) of the named subject of the clause that ends at `end`: the first person or body named
    in it that no preposition governs ("Ayant été vu au Mali, X a fait ..." -> X)."""
    text = sent.text
    wd = _words()
    w = wd.w
    c0 = max([m.end() for m in re.finditer(r"[;:“”«»\"—–]", text[:end])] + [0])
    # What may open the subject's phrase: an article, a determiner or a figure ("the 9 member states", "trois pays voisins").
    opening = rf"(?:(?:{w['articles']}|{wd.determiner}|\d[\d.,]*)(?:\s+|(?<=['’])))*"
    for s in sent.spans:
        if s[0] < c0 or s[1] > end:
            continue
        if "," in text[s[1]:end]:
            continue  # the subject governs the clause the participle ends, with no other clause between them
        if re.search(r"\w", text[c0:s[0]]) and not re.search(rf"(?:,\s*|^\s*){opening}$", text[c0:s[0]], re.I):
            continue  # it opens the clause (perhaps after an article or a figure), or follows an introductory phrase
        if re.search(rf"\b{w['prepositions']}\s+(?:{w['articles']}\s*)?$", text[c0:s[0]], re.I):
            continue
        if re.search(rf"\b{w['relatives_or_that']}\s+$", text[c0:s[0]], re.I):
            continue
        return s[0], s[1], s[2]
    return None


def _first_conjunct(sent: _Sentence, span: tuple[int, int, str, str], c0: int) -> tuple[int, int, str, str]:
    """Return the first of coordinated speakers ending at `span` ("Diop, ..., and his counterpart Lavrov" -> Diop)."""
    text = sent.text
    c0 = min(c0, max([m.end() for m in re.finditer(r"[;:“”«»\"\[\]—–]", text[:span[0]])] + [0]))
    while True:
        m = re.search(rf"(?:,\s*)?\b{_words().w['coordinators']}\s+(?:[\w’'-]+,?\s+){{0,3}}$", text[c0:span[0]], re.I)
        if not m:
            return span
        joint = c0 + m.start()
        before = [s for s in sent.spans if c0 <= s[0] and s[1] <= joint]
        if not before or any(joint < s[0] < span[0] for s in sent.spans):
            return span
        prev = before[-1]
        gap = text[prev[1]:joint]
        # Nothing, or an apposition ("X, minister of Y,") stands between the first speaker and "and".
        if not (gap.strip() == "" or re.fullmatch(r",[^,.;:]{2,80},?\s*", gap)):
            return span
        span = prev


def _subject_after(sent: _Sentence, start: int, cues: VoiceCues, language: str | None) -> tuple[str, str] | None:
    """Return (source, words) for an inverted subject after a trailing reporting verb ("..., said the minister")."""
    text = sent.text
    tail = text[start:]
    w = _words().w
    m = re.match(rf"\s*(?:{w['day_leads']}\s+{w['days']}\s+)?"
                 r"([^,.;:!?()\"“”«»]{2,90}?)(?:\s*[,.;:!?()]|\s*$)", tail)
    if not m:
        # A long phrase before the next punctuation: its first words ("a déclaré Marek dans une vidéo publiée ...").
        m = re.match(r"\s*([^,.;:!?()\"“”«»]{2,90})", tail)
        if not m or not any(start + m.start(1) <= s[0] <= start + m.start(1) + 3 and s[3] in ("person", "named") for s in sent.spans):
            return None
    phrase = m.group(1)
    a = start + m.start(1)
    found = _np_source(phrase, a, sent, cues, language)
    if found is None:
        # "a déclaré un responsable local à la presse": the speaker before whom they spoke to.
        cut = re.search(rf"\s{w['listener_prepositions']}\s", phrase)
        if cut:
            phrase = phrase[:cut.start()]
            found = _np_source(phrase, a, sent, cues, language)
    if found is None:
        # "said Lena Ortiz, senior fellow at ...", "said the head of Ruritanian diplomacy, Ana Varga".
        named = [s for s in sent.spans if a <= s[0] <= a + 3 or (a + len(phrase) <= s[0] <= a + len(phrase) + 3 and s[3] in ("person", "named"))]
        if named:
            return named[0][2], text[a:named[0][1]]
        return None
    if found[0] == "":
        return found
    follow = [s for s in sent.spans if a + len(phrase) <= s[0] <= a + len(phrase) + 3 and s[3] in ("person", "named")]
    if follow and not sent.inside(a, a + len(phrase)):
        # "said the head of Ruritanian diplomacy, Ana Varga": the name after the description.
        return follow[0][2], text[a:follow[0][1]]
    return found


def attribute(sentence: str, offset: int, mentions: list[Mention], kinds: dict[str, str], language: str | None = None,
              cues: VoiceCues | None = None) -> Attribution:
    """Return who the sentence says its statement comes from (Attribution; all None when the author asserts it).

    The source is a canonical actor when the words name one ("ACLED reported", "selon RFI"), a named
    person the catalogue lacks ("said Samuel Ramani"), else the text's own words for it, lower-cased
    ("two army sources", "diplomats in bamako"). A pronoun source ("he said") has `pronoun` set and is
    resolved by the caller from the sources named before. In "A reported that B said", B is the source and
    A the relay.
    """
    cues = cues or load_voice_cues()
    sent = _Sentence(sentence, offset, mentions, kinds)
    by_verb, weak = _verb_sources(sent, cues, language)
    found = _frame_sources(sent, cues, language) + by_verb + _participle_sources(sent, cues, language, weak) + _agent_sources(sent, cues, language)
    unnamed = cues.get("unnamed_reports", language)
    m = unnamed.search(sentence) if unnamed else None
    if m:
        weak.append((m.start(), Attribution(UNNAMED_REPORTS, m.group(0), m.group(0).lower())))
    found = _outside_quotation(sentence, found or weak)  # the weak sources count only when nothing else names one
    if not found:
        return _NONE
    found.sort(key=lambda x: (x[0], -len(x[1].source or "")))
    chosen = _with_relay(sentence, found)
    return _named_before(sent, chosen, next((at for at, att in found if att is chosen), 0), kinds)


def _named_before(sent: _Sentence, att: Attribution, at: int, kinds: dict[str, str]) -> Attribution:
    """Return a pronoun source ("she warned that") read as the person the sentence names before it, outside a quotation
    ("Beside X, who ..., while she warned that ..."), when it names one and only one; else the attribution as it is (the
    caller resolves the pronoun from the sentences before)."""
    if not att.pronoun or at <= 0:
        return att
    from .voice import quoted_spans

    quotes = quoted_spans(sent.text)
    w = _words().w
    # (Not one a preposition governs, "Unlike X, she said", unless a relative clause makes them its subject: "beside X, who ...".)
    people = [s for s in sent.spans if s[1] <= at and s[3] in ("person", "named") and not any(q0 <= s[0] < q1 for q0, q1 in quotes)
              and (not re.search(rf"\b{w['prepositions']}\s+(?:{w['articles']}\s*)?$", sent.text[:s[0]], re.I)
                   or re.match(rf",?\s*{w['relatives']}\b", sent.text[s[1]:], re.I))]
    if len({s[2] for s in people}) != 1 or not _agrees(att.words or "", people[-1][2], kinds):
        return att  # (two people named before it: which one the pronoun stands for is not told by the order alone)
    return replace(att, source=people[-1][2], pronoun=False)


def _outside_quotation(sentence: str, found: list[tuple[int, Attribution]]) -> list[tuple[int, Attribution]]:
    """Return the sources found without those inside a quotation whose speaker a frame right after it names ("“X added
    ...,” said Y", "“...,” the minister added", "« ... », a-t-il déclaré"): the quotation's words are the speaker's,
    whoever they name."""
    for at, _ in found:
        close = re.search(r"[\"”»]\s*,?\s*$", sentence[:at])
        if not close or (close.group(0)[0] == '"' and sentence[:at].count('"') % 2):
            continue  # (a straight quotation mark that opens a quotation, 'quoted "senior officials" as saying')
        # (No opening mark before it: the quotation opened in a sentence before and runs from this one's start.)
        opening = max(0, *(sentence.rfind(mark, 0, close.start()) for mark in "“«\""))
        return [(a, x) for a, x in found if not opening <= a < close.start()]
    return found


def _frame_sources(sent: _Sentence, cues: VoiceCues, language: str | None) -> list[tuple[int, Attribution]]:
    """Return (position, attribution) for each source frame ("according to X", "selon X") that names or describes a source."""
    sentence, w = sent.text, _words().w
    found: list[tuple[int, Attribution]] = []
    # Source frames are read in every language: a French quotation in an English text keeps its "selon".
    according = cues.get("according_to", None)
    if not according:
        return found
    for m in according.finditer(sentence):
        src = re.match(r"\s*((?:[^,.;:!?()“”«»\"]|\.(?=\S)|(?<=[A-Z])\.(?=\s+[a-z]))+)", sentence[m.end():])
        if not src:
            continue
        phrase = re.split(rf"\s+{w['source_phrase_end']}\b", src.group(1))[0]
        got = _np_source(phrase, m.end() + src.start(1), sent, cues, language)
        if got is None and not re.match(w["naming_frames"], m.group(0), re.I):
            continue  # "citing their failure ...", "as described in": only a named or described source counts
        if got is None:
            # "according to diplomats in Bamako": the phrase itself, before where it is.
            words = re.split(rf"\s+{w['place_prepositions']}\s+", phrase.strip())[0] if not sent.inside(
                m.end(), m.end() + len(phrase)) else phrase.strip()
            got = (_description(phrase), phrase) if words else None
        if got:
            verb = m.group(0).lower()
            found.append((m.start(), Attribution(got[0] or None, sentence[m.start():m.end() + src.end(1)], verb, pronoun=got[0] == "")))
    return found


def _verb_sources(sent: _Sentence, cues: VoiceCues, language: str | None) -> tuple[list[tuple[int, Attribution]], list[tuple[int, Attribution]]]:
    """Return (found, weak): (position, attribution) for the subject of each reporting verb, after it in a trailing frame
    (", said X") or before it; weak ones are subjects of a relative clause."""
    sentence, w = sent.text, _words().w
    found: list[tuple[int, Attribution]] = []
    weak: list[tuple[int, Attribution]] = []
    verbs = cues.get("reporting_verbs", language)
    if not verbs:
        return found, weak
    for v in verbs.finditer(sentence):
        before = sentence[:v.start()]
        # A trailing frame: ', said X' / '» a déclaré X' / ', a-t-il déclaré'.
        # (Not when an object or "that" follows the verb: "X, which ..., blamed the raid on Y", "X, minister of Y, said that".)
        # ("..., poursuit cet officier tchadien": a demonstrative before a source noun opens the speaker, not an object.)
        nouns = cues.get("source_nouns", language)
        # (Not a complementizer that is also a demonstrative: "X, in a statement, said that the soldiers ...".)
        speaker = nouns and re.match(rf"\s+(?!(?:{w['complementizers']})\s)(?:{w['verb_objects']})\s+(?:[\w’']+[\s-]+)?(?:{nouns.pattern})",
                                     sentence[v.end():], re.I)
        # (Not after a relative clause set off by commas: "a diplomat, who asked not to be named, said X had ..." has its subject
        # before the clause, and X opens what was said.)
        appositive = re.search(rf",\s*{w['relatives']}\s[^,;:“”«»\"]*,\s*$", before, re.I)
        if re.search(r"[,\"”»’]\s*$", before) and not appositive and not re.search(rf"\b{w['coordinators']}\s*,?\s*$", before) and (speaker or not re.match(
                rf"\s+(?:{w['verb_objects']}|{w['complementizers']})\b", sentence[v.end():], re.I)):
            if re.match(w["inverted_verbs"], v.group(0), re.I):
                found.append((v.start(), Attribution(None, v.group(0), v.group(0).lower(), pronoun=True)))
                continue
            got = _subject_after(sent, v.end(), cues, language)
            if got:
                found.append((v.start(), Attribution(got[0] or None, sentence[v.start():v.end()] + " " + got[1], v.group(0).lower(),
                                                     pronoun=got[0] == "", trailing=True)))
                continue
        got = _subject_before(sent, v.start(), cues, language)
        joint = None if got else re.search(rf"\s\b{w['coordinators']}\s+(?:(?:{w['subject_verb_gap']})\s+)*$", before, re.I)
        if joint:
            # "X condemned the raid and accused Y of ...": the second verb's subject is the first's, when nothing else in
            # the sentence names a source.
            subject = _clause_subject(sent, joint.start())
            if subject:
                weak.append((subject[0], Attribution(subject[2], sentence[subject[0]:v.end()], v.group(0).lower())))
            continue
        if got:
            # "sources told CNN": the outlet they spoke to passes the claim on.
            heard = [s for s in sent.spans if v.end() < s[0] <= v.end() + 6 and s[3] == "media"] if re.match(
                w["listener_verbs"], v.group(0), re.I) else []
            (weak if got[3] else found).append((got[2], Attribution(got[0] or None, got[1], v.group(0).lower(),
                                                                    relay=heard[0][2] if heard else None, pronoun=got[0] == "")))
    return found, weak


def _participle_sources(sent: _Sentence, cues: VoiceCues, language: str | None, weak: list[tuple[int, Attribution]]) -> list[tuple[int, Attribution]]:
    """Return (position, attribution) for each described source a reporting participle follows ("local media reports
    saying ..."); add to `weak` the subject of the clause before the first participle after a comma."""
    sentence, wd = sent.text, _words()
    w = wd.w
    found: list[tuple[int, Attribution]] = []
    nouns, participles = cues.get("source_nouns", language), cues.get("reporting_participles", language)
    claim_nouns, claim_verbs = cues.get("claim_nouns", language), cues.get("claim_verbs", language)
    if not participles or not (participles.search(sentence) or (claim_nouns and claim_verbs and claim_nouns.search(sentence))):
        return found  # the readings below end on a reporting participle or a claim noun (most sentences have none)
    if nouns:
        # "local media reports saying ...", "other reports of sightings, also indicating ...": a described source, then what it says.
        for m in re.finditer(rf"((?:{wd.determiner}\s+)?(?:[\w’'.-]+\s+){{0,3}}(?:{nouns.pattern})(?:\s+(?:{nouns.pattern}))?)"
                             rf"(?:\s+[^,.;]{{0,40}}?\s+|\s+[^.;]{{0,90}}?,\s*(?:{w['participle_adverbs']}\s+)?|\s+)(?:{participles.pattern})\b",
                             sentence, re.I):
            phrase = _trim_np(m.group(1))
            at = m.end(1) - len(phrase)
            got = _np_source(phrase, at, sent, cues, language)
            if got:  # (a source with no words of its own here is a possessive one: "l'une de ses enquêtes ..., indiquant")
                found.append((at, Attribution(got[0] or None, sentence[at:m.end()], re.search(r"\S+$", m.group(0)).group(0).lower(),
                                              pronoun=got[0] == "")))
    # "X visited Chad, saying it was his second visit", "X issued a statement accusing Y of ...": the subject of the clause
    # before the participle.
    statement = rf"|\s(?:{claim_nouns.pattern})(?<=\w)" if claim_nouns and claim_verbs else ""
    for m in re.finditer(rf"(?:,\s*(?:{w['participle_adverbs']}\s+)?(?:{participles.pattern})\b{statement})", sentence, re.I):
        if not m.group(0).startswith(",") and not re.search(rf"\b(?:{claim_verbs.pattern})$", m.group(0), re.I):
            continue  # a claim noun followed by a relative or a preposition ("posts that ...", "a statement about ...")
        subject = _clause_subject(sent, m.start())
        if subject:
            weak.append((subject[0], Attribution(subject[2], sentence[subject[0]:subject[1]] + " … " + m.group(0).strip(", "),
                                                 re.search(r"\S+$", m.group(0)).group(0).lower())))
        break
    return found


def _agent_sources(sent: _Sentence, cues: VoiceCues, language: str | None) -> list[tuple[int, Attribution]]:
    """Return (position, attribution) for each named agent of a passive reporting participle ("images analysed by X")."""
    sentence, wd = sent.text, _words()
    w = wd.w
    found: list[tuple[int, Attribution]] = []
    agents = cues.get("passive_agents", language)
    if agents:
        # "accused of abuses by witnesses, NGOs and UN experts", "images analysed by CNN": the agent is the source.
        for m in re.finditer(rf"\b(?:{agents.pattern})(?:\s+[^,.;:()]{{0,60}}?)?\s+{w['agent_prepositions']}\s+([^,.;:!?()“”«»\"]{{2,80}})",
                             sentence, re.I):
            if not re.search(r"\w", sentence[:m.start()]):
                continue  # a participle opening the sentence ("Criticised by X, the junta ...") qualifies the subject
            phrase = re.split(rf"\s+{w['agent_phrase_end']}\s+", m.group(1))[0]
            if re.fullmatch(wd.determiner, phrase.strip(), re.I):
                continue
            got = _np_source(phrase, m.start(1), sent, cues, language)
            if got and got[0]:
                found.append((m.start(1), Attribution(got[0], sentence[m.start():m.start(1) + len(phrase)], m.group(0).split()[0].lower())))
    return found


def _with_relay(sentence: str, found: list[tuple[int, Attribution]]) -> Attribution:
    """Return the first source found, or, in "A reported that B said ..." (found in order), B with A as its relay."""
    wd = _words()
    w = wd.w
    outer = found[0][1]
    # "A reported that B said ...", "Reuters quoted sources saying": B is the source, A relays it.
    first = found[0][0]
    for at, inner in found[1:]:
        between = sentence[first:at]
        if not re.search(rf"\b{w['relay_links']}\b", between, re.I) or re.search(
                rf"[;]|\b{w['relay_breaks']}\b", between, re.I):
            break
        if (inner.source and inner.source != outer.source and not inner.pronoun and inner.trailing and outer.source and not outer.pronoun
                and not re.search(r"[\"“”«»]", between)):
            # "X a déclaré que ..., rapporte l'AFP": the frame after the words passes on what X said (a quotation's words
            # are the speaker's, whoever they name).
            return replace(outer, relay=inner.source)
        if inner.source and inner.source != outer.source and not inner.pronoun:
            bare = re.fullmatch(rf"(?:{wd.determiner}\s+)?{w['bare_sources']}", inner.source or "", re.I)
            if outer.source and not bare:
                return replace(inner, relay=outer.source)
            break
    return outer


def _resolve(att: Attribution, thread: list[Attribution], kinds: dict[str, str] | None = None) -> Attribution:
    """Return the attribution with a pronoun source ("he said") or a definite description of one named before
    ("the sources said", "ajoute le responsable malien") replaced by the source named last before it."""
    named = [t for t in thread if t.source and not t.pronoun]
    if att.pronoun:
        # "he added" refers back to the last person (or source described as one) named, "it said" to the last body.
        named = [t for t in named if _agrees(att.words or "", t.source, kinds or {})]
        if not named:
            return _NONE
        return replace(att, source=named[-1].source, relay=att.relay or named[-1].relay, pronoun=False)
    if att.source and named and re.match(rf"{_words().w['definite']}\s", att.source) and att.source != named[-1].source:
        desc = _core(att.source).split()
        head = _head(att.source)
        # The same kind of source again: "the sources said" after "diplomatic sources told ...", "the source" after
        # "a separate police source" (the last source of that kind named).
        for t in reversed(named):
            # (Or a noun of the words that named an actor: "the diplomat said" after "according to a Kenyan diplomat",
            # read as France.)
            heads = {_head(t.source)} | (_nouns(t.words) if t.words and t.source[:1].isupper() else set())
            if len(head) > 2 and t.source != att.source and head in heads:
                return replace(att, source=t.source)
        # A singular definite description after a named person ("the official", "le responsable malien") is that person;
        # not one of a thing or a body ("the statement", "the bulletin").
        people = [t.source for t in named
                  if (kinds or {}).get(t.source, "person" if t.source[:1].isupper() and " " in t.source else None) == "person"]
        first = desc[1] if len(desc) > 1 else ""
        thing = re.fullmatch(_words().w["thing_nouns"], head, re.I)
        if people and not first.endswith(("s", "x")) and len(desc) <= 4 and not thing:
            return replace(att, source=people[-1])
    elif att.source and named and re.match(rf"(?:{_words().w['another']})\s", att.words or att.source, re.I):
        # One more source of a kind named before ("another officer" after "a Malian army officer"): not that person,
        # but one of the same state or body.
        head = _head(att.source)
        for t in reversed(named):
            if len(head) > 2 and t.source[:1].isupper() and (kinds or {}).get(t.source) not in (None, "person") and \
                    t.words and head in _nouns(t.words):
                return replace(att, source=t.source)
    return att


def _core(source: str) -> str:
    """Return a described source without its relative clause or the phrase that says where it is ("the ambassador in
    Bangui" -> "the ambassador"); a name as it is."""
    w = _words().w
    return re.split(rf"\s+(?:{w['relative_person']}|{w['source_qualifiers']}|{w['governing']})\s", source)[0] or source


def _head(words: str) -> str:
    """Return the head noun of a described source (its last word before any qualifier, singular), lower-cased."""
    return (re.findall(r"[\w’'-]+", _core(words).lower()) or [""])[-1].rstrip("s")


def _nouns(words: str) -> set[str]:
    """Return the words (singular, lower-cased) of the phrase that named a source, before any relative clause."""
    phrase = re.split(rf"\s(?:{_words().w['relative_person']})\s", words.lower())[0]
    return {x.rstrip("s") for x in re.findall(r"[\w’'-]+", phrase)}


def _agrees(words: str, source: str, kinds: dict[str, str]) -> bool:
    """Whether a pronoun source ("he", "elle", "it"; any other pronoun agrees with any source) can refer to `source`."""
    w = _words().w
    kind = kinds.get(source)
    if kind is None and source[:1].isupper():
        kind = "named"  # a name the catalogue lacks: most often a person's
    one = re.search(rf"(?<!\w){w['personal_pronouns']}(?!\w)", words, re.I)
    if one:
        if kind is None:  # a described source: one person ("the source", "un responsable"), not several nor a thing
            head = (_core(source).split() or [""])[-1]
            if re.fullmatch(w["thing_nouns"], head, re.I):
                return False
            return not head.endswith(("s", "x")) or head.endswith("ss")  # "a witness", not "witnesses"
        return kind in ("person", "named")
    if re.search(rf"(?<!\w)(?:{w['thing_pronouns']}|{w['plural_pronouns']})(?!\w)", words, re.I):
        return kind not in ("person", "named")  # ("it" / "they" said: a body, a state, sources; not one person)
    return True


def _quoted_sentences(text: str, sentences: list[tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """Return, for each sentence wholly inside a quotation (quotation marks aside), the quotation's (start, end)."""
    from .voice import quoted_spans

    quotes = quoted_spans(text)
    out: dict[int, tuple[int, int]] = {}
    for i, (s, e) in enumerate(sentences):
        body = text[s:e]
        a = s + len(body) - len(body.lstrip(" \"'“”«»‘’"))
        b = s + len(body.rstrip(" \"'“”«»‘’"))
        inside = [q for q in quotes if q[0] <= a and b <= q[1] and b > a]
        if inside:
            out[i] = max(inside, key=lambda q: q[1] - q[0])
    return out


def _introduced(text: str, sentences: list[tuple[int, int]], quote: tuple[int, int], done: list[Attribution]) -> Attribution | None:
    """Return the attribution of the sentence that introduces a quotation with a colon right before it ("X said:")."""
    for j in range(len(done) - 1, -1, -1):
        s, e = sentences[j]
        if e > quote[0]:
            continue
        if text[s:e].rstrip().endswith(":") and not text[e:quote[0]].strip() and done[j].source:
            return done[j]
        return None
    return None


def _quote_goes_on(text: str, sentences: list[tuple[int, int]], i: int, quote: tuple[int, int],
                   done: list[Attribution]) -> Attribution | None:
    """Return the speaker of a quotation that follows, in the same paragraph, a sentence quoting a speaker the text names
    ("“...,” the ministry said. “...”"): the quotation goes on with the same speaker's words."""
    from .voice import quoted_spans

    if i == 0 or not done[i - 1].source:
        return None
    s, e = sentences[i - 1]
    if "\n" in text[e:quote[0]] or text[e:quote[0]].strip():
        return None
    return done[i - 1] if any(s <= q0 < e for q0, _ in quoted_spans(text)) else None


def _named_above(text: str, quote: tuple[int, int], mentions: list[Mention], kinds: dict[str, str]) -> Attribution | None:
    """Return the speaker of a quotation that opens its paragraph under a line naming only one person or body (a caption
    such as "RT (Russia Today)" above the words it said)."""
    line_start = text.rfind("\n", 0, quote[0]) + 1
    if text[line_start:quote[0]].strip():
        return None
    above = [m for m in re.finditer(r"[^\n]*\S[^\n]*", text[:line_start])]
    if not above:
        return None
    a, b = above[-1].start(), above[-1].end()
    named = [m for m in mentions if a <= m.start and m.end <= b and m.actor]
    if not named or len({m.actor for m in named}) > 1 or kinds.get(named[0].actor) not in _BODY_KINDS:
        return None
    rest = text[a:b]
    for m in sorted(named, key=lambda m: -m.start):
        rest = rest[:m.start - a] + rest[m.end - a:]
    if re.sub(r"\([^)]*\)", "", rest).strip(" \t()[]-–—:,.") or len(text[a:b]) > 80:
        return None
    return Attribution(named[0].actor, text[a:b].strip(), "quoted")


def _testimony(text: str, quote: tuple[int, int], mentions: list[Mention], kinds: dict[str, str]) -> Attribution | None:
    """Return the speaker of a first-person quotation no verb gives to anyone, inside a paragraph that tells of one person
    only before it (a witness's account: the person the paragraph is about speaks in the first person)."""
    if not _words().first_person.search(text[quote[0]:quote[1]]):
        return None
    start = text.rfind("\n", 0, quote[0]) + 1
    named = [m for m in mentions if start <= m.start and m.end <= quote[0] and m.actor]
    people = [m for m in named if kinds.get(m.actor) == "person" or (m.actor not in kinds and m.label in ("PERSON", "PER"))]
    others = [m for m in named if m not in people and kinds.get(m.actor, "unknown") in _SPEAKER_KINDS - {"state"}]
    if len({m.actor for m in people}) != 1 or others:
        return None  # (one who could speak besides: the account stays unattributed)
    return Attribution(people[0].actor, people[-1].text, "quoted")


def _quote_runs(text: str, sentences: list[tuple[int, int]]) -> dict[int, int]:
    """Return, for sentences inside a quotation that runs on over several sentences, the index of the sentence closing it."""
    from .voice import quoted_spans

    out: dict[int, int] = {}
    for q0, q1 in quoted_spans(text):
        inside = [i for i, (s, e) in enumerate(sentences) if s < q1 and e > q0]
        if len(inside) < 2:
            continue
        for i in inside:
            out[i] = inside[-1]
    return out


# --------------------------------------------------------------------------- the claim head

@lru_cache(maxsize=1)
def load_claim_head() -> dict:
    """Return the claim head (feature names, scaling, weights, threshold) shipped in models/checkworthiness."""
    path = resources.files("influence_atlas").joinpath(HEAD_FILE)
    try:
        head = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"claim head {path} cannot be read ({exc}); reinstall influence-atlas (pip install -e .) "
                         "or rebuild it: python training/checkworthiness/claim_head.py") from exc
    if head.get("features") != list(FEATURES):
        raise ModelError(f"claim head {path} was trained on other features; rebuild it: python training/checkworthiness/claim_head.py")
    return head


FEATURES = ("checkworthiness_logit", "log_words", "has_figure", "has_date", "actors", "mentions", "terminal_punctuation",
            "starts_lower", "repeats_other_sentence", "position", "first_person", "hedged", "noise", "capitalised_share",
            "short", "sourced", "french")


def statement_features(text: str, sentences: list[tuple[int, int]], mentions: list[Mention], model_scores: list[float],
                       attributions: list[Attribution], language: str | None, cues: VoiceCues | None = None) -> list[list[float]]:
    """Return one row of FEATURES per sentence (the head's cheap features; the sentence vector is added by the head)."""
    cues = cues or load_voice_cues()
    hedges = cues.get("hedges", language)
    first_person = _words().first_person
    token_sets = [set(re.findall(r"\w+", text[s:e].casefold())) for s, e in sentences]
    rows = []
    for i, ((s, e), score, att) in enumerate(zip(sentences, model_scores, attributions)):
        sentence = text[s:e]
        words = sentence.split() or [""]
        inside = [m for m in mentions if s <= m.start and m.end <= e]
        toks = token_sets[i]
        repeat = max((len(toks & t) / len(toks) for j, t in enumerate(token_sets) if j != i and toks), default=0.0)
        p = min(max(score, 1e-4), 1 - 1e-4)
        rows.append([
            math.log(p / (1 - p)), math.log(len(words)), float(bool(_figures(sentence))), float(bool(find_dates(sentence))),
            float(min(3, len({m.actor for m in inside if m.actor}))), float(min(3, len(inside))),
            float(bool(re.search(r"[.!»”\")]\s*$", sentence))), float(sentence[:1].islower()), float(repeat >= 0.8),
            i / max(1, len(sentences)), float(bool(first_person.search(sentence))), float(bool(hedges and hedges.search(sentence))),
            float(bool(_NOISE.search(sentence))), sum(w[:1].isupper() for w in words) / len(words), float(len(words) < 6),
            float(bool(att.source)), float(language == "fr"),
        ])
    return rows


def head_scores(features: list[list[float]], vectors, head: dict) -> list[float]:
    """Return the claim head's probability per sentence from its features and sentence vectors."""
    import numpy as np

    x = (np.asarray(features, np.float64) - np.asarray(head["mean"])) / np.asarray(head["scale"])
    z = np.hstack([x, head["vector_weight"] * np.asarray(vectors, np.float64)])
    logits = z @ np.asarray(head["coef"]) + head["intercept"]
    return (1 / (1 + np.exp(-logits))).tolist()


def _figures(sentence: str):
    # "one", "1" alone are not figures worth keeping.
    return tuple(q for q in find_quantities(sentence) if not (q.value < 2 and q.unit is None and q.value == int(q.value)))


def _is_question(sentence: str) -> bool:
    return sentence.rstrip(" \"'”»’").endswith("?")


def _repeats_later(i: int, text: str, sentences: list[tuple[int, int]]) -> bool:
    """Whether sentence i is a headline (no closing punctuation) whose words a later sentence repeats."""
    s, e = sentences[i]
    if re.search(r"[.!»”\"]\s*$", text[s:e]):
        return False
    toks = set(re.findall(r"\w+", text[s:e].casefold()))
    return bool(toks) and any(len(toks & set(re.findall(r"\w+", text[a:b].casefold()))) / len(toks) >= 0.8
                              for a, b in sentences[i + 1:])


def statement_scores(doc_id: str, text: str, sentences: list[tuple[int, int]], mentions: list[Mention], catalog: ActorCatalog,
                     scorer: Callable[[list[str]], list[float]] | None = None, language: str | None = None,
                     cues: VoiceCues | None = None) -> list[tuple[tuple[int, int], float, float, Attribution]]:
    """Return (span, check-worthiness score, claim-head score, attribution) for every sentence that may be a claim."""
    cues = cues or load_voice_cues()
    kinds = {e.name: e.kind for e in catalog.entries}
    keep = [i for i, (s, e) in enumerate(sentences) if text[s:e].strip() and not _is_question(text[s:e])
            and not _repeats_later(i, text, sentences)]
    spans = [sentences[i] for i in keep]
    if not spans:
        return []
    if scorer is None:
        from .checkworthiness import score_sentences

        def scorer(texts: list[str]) -> list[float]:
            return score_sentences(texts, language)
    model_scores = scorer([text[s:e] for s, e in spans])
    attributions = _attributions(text, spans, mentions, kinds, language, cues)
    head = load_claim_head()
    from .encoder import encode_sentences

    features = statement_features(text, spans, mentions, model_scores, attributions, language, cues)
    probabilities = head_scores(features, encode_sentences([text[s:e] for s, e in spans]), head)
    return list(zip(spans, model_scores, probabilities, attributions))


def _attributions(text: str, spans: list[tuple[int, int]], mentions: list[Mention], kinds: dict[str, str], language: str | None,
                  cues: VoiceCues) -> list[Attribution]:
    """Return each sentence's attribution, with pronouns resolved, quotations carried and findings continued."""
    wd = _words()
    own = [attribute(text[s:e], s, mentions, kinds, language, cues) for s, e in spans]
    runs = _quote_runs(text, spans)
    quoted = _quoted_sentences(text, spans)
    out: list[Attribution] = []
    for i, (s, e) in enumerate(spans):
        att = _resolve(own[i], out[-6:], kinds)
        if i in runs and att.source is None:
            # A quotation that runs over several sentences: its speaker is named where it closes (or opens; the sentence
            # that closes it, naming no one, is the opener's too).
            closing = _resolve(own[runs[i]], out[-6:], kinds)
            opening = [o for j, o in enumerate(out) if runs.get(j) == runs[i] and o.source]
            att = closing if closing.source else (opening[0] if opening else att)
        elif i in runs and runs[i] != i and i in quoted and runs[i] not in quoted:
            # What a sentence inside the quotation cites is still the speaker's words.
            closing = _resolve(own[runs[i]], out[-6:], kinds)
            att = closing if closing.source else att
        if i in quoted:
            # A sentence wholly inside a quotation is its speaker's, whatever it cites: the speaker introduced before it
            # ("RT said on Twitter: “...”") or named on the line above it.
            speaker = _introduced(text, spans, quoted[i], out) or _named_above(text, quoted[i], mentions, kinds)
            if speaker is None and att.source is None:
                speaker = _testimony(text, quoted[i], mentions, kinds) or _quote_goes_on(text, spans, i, quoted[i], out)
            att = speaker if speaker else att
        owner = _channel_owner(att, text, s, e, mentions, kinds)
        if owner:
            # "according to the channel's profile", "a post shared on the channel": the channel's owner speaks.
            att = replace(att, source=owner)
        # (Not a description that refers back to a person named before; one that names its state again is read in its own
        # words: "the Kenyan diplomat" after "the diplomat".)
        state = _served_state(own[i] if att.words == own[i].words else att, text, s, e, mentions, kinds) if (
            att.source and att.source == att.source.lower()) else None
        if state:
            # "a Chadian army officer", "un haut gradé de l'armée tchadienne": one who serves a state speaks for it.
            att = replace(att, source=state)
        if att.source is None and wd.continues.search(text[s:e]):
            # "In addition, ...", "A third of those ...": the sentence goes on with the finding cited just before.
            findings = [t for t in out[-2:] if t.source and t.verb and wd.finding.match(t.verb)]
            if findings:
                att = findings[-1]
        out.append(att)
    return out


def _channel_owner(att: Attribution, text: str, s: int, e: int, mentions: list[Mention], kinds: dict[str, str]) -> str | None:
    """Return the owner of the channel a sentence's source is or posts on, when the words name the channel again ("the
    Telegram channel") after the text named it with its owner ("the 'Example News' Telegram channel")."""
    if not att.source or not att.words:
        return None
    w = _words().w
    at = text.find(att.words, s, e)
    channel = rf"(?:{w['channel_nouns']})$"
    again = [m for m in mentions if at >= 0 and at <= m.start and m.end <= at + len(att.words) and m.actor
             and kinds.get(m.actor) == "company" and re.search(channel, m.text, re.I)
             and re.search(rf"\b(?:{w['definite']})\s*$", text[s:m.start], re.I)]
    if not again or (att.source != again[0].actor and att.source != att.source.lower()):
        return None
    before = sorted((m for m in mentions if m.end <= s), key=lambda m: m.start)
    for prev, m in reversed(list(zip(before, before[1:]))):
        if m.actor == again[0].actor and re.search(channel, m.text, re.I) and prev.actor and prev.actor != m.actor and \
                kinds.get(prev.actor) in _BODY_KINDS and re.fullmatch(r"[\s'’‘\"“”«»]*(?:s\s+)?", text[prev.end:m.start]):
            return prev.actor
    return None


def _served_state(att: Attribution, text: str, s: int, e: int, mentions: list[Mention], kinds: dict[str, str]) -> str | None:
    """Return the state a described source of this sentence serves, when its words name one member of a state's apparatus
    and that state alone ("a Chadian army officer", "cet officier tchadien"; not "two army sources", not "a UN official")."""
    if not att.source or att.source != att.source.lower() or att.source == UNNAMED_REPORTS:
        return None
    w = _words().w
    # The member and the state are named before the phrase that says where the source is, or in one it belongs to ("un
    # haut gradé de l'armée française", "one of the Chadian army officers"; not "the ambassador in Bangui").
    served = re.split(rf"\s+(?:{w['relative_person']}|(?!(?:{w['belonging']})\s)(?:{w['governing']}|{w['source_qualifiers']}))\s",
                      att.source)[0]
    if not re.search(rf"(?<!\w)(?:{w['state_members']})(?!\w)", served, re.I):
        return None
    at = text[s:e].lower().find(served)
    if at < 0:
        return None  # a description named in an earlier sentence
    inside = [m for m in mentions if s + at <= m.start and m.end <= s + at + len(served)]
    states = {m.actor for m in inside if m.actor and kinds.get(m.actor) == "state"}
    others = [m for m in inside if (kinds.get(m.actor) != "state" if m.actor else m.label in _SOURCE_LABELS)]
    return states.pop() if len(states) == 1 and not others else None


def find_claims(
    doc_id: str,
    text: str,
    sentences: list[tuple[int, int]],
    mentions: list[Mention],
    catalog: ActorCatalog,
    scorer: Callable[[list[str]], list[float]] | None = None,
    language: str | None = None,
    threshold: float | None = None,
) -> list[Claim]:
    """Return the document's claims in text order: every statement whose claim-head score reaches `threshold`
    (default: the head's calibrated threshold), with its figures, source, relay, reporting verb and hedges.

    A document the stage cannot read (an unexpected error on odd text) yields no claims and a warning, so one
    document never stops a batch; a missing or damaged model (ModelError) is raised, since every document needs it.
    """
    try:
        return _find_claims(doc_id, text, sentences, mentions, catalog, scorer, language, threshold)
    except AtlasError:
        raise
    except Exception as exc:  # one odd document must not abort the analysis of the others
        warnings.warn(f"claims: document {doc_id} skipped ({type(exc).__name__}: {exc})", RuntimeWarning, stacklevel=2)
        return []


def _find_claims(doc_id: str, text: str, sentences: list[tuple[int, int]], mentions: list[Mention], catalog: ActorCatalog,
                 scorer: Callable[[list[str]], list[float]] | None, language: str | None, threshold: float | None) -> list[Claim]:
    cues = load_voice_cues()
    hedges = cues.get("hedges", language)
    cut = load_claim_head()["threshold"] if threshold is None else threshold
    kinds = {e.name: e.kind for e in catalog.entries}
    claims: list[Claim] = []
    for (s0, e0), model_score, score, sentence_att in statement_scores(doc_id, text, sentences, mentions, catalog, scorer, language, cues):
        if score < cut:
            continue
        for s, e, att in source_parts(text, s0, e0, sentence_att, mentions, kinds, language, cues):
            sentence = text[s:e]
            found = tuple(sorted({h.group(0).lower() for h in hedges.finditer(sentence)})) if hedges else ()
            claims.append(Claim(
                id=_claim_id(doc_id, s), doc=doc_id, start=s, end=e, text=sentence, checkworthiness=round(model_score, 4),
                quantities=tuple(replace(q, start=q.start + s, end=q.end + s) for q in _figures(sentence)),
                attributed_to=att.source, attribution_text=att.words, reporting_verb=att.verb, hedged=bool(found), hedges=found,
                extractor=EXTRACTOR, confidence=round(score, 3), relayed_by=att.relay,
            ))
    return _cited_paragraphs(claims, text, mentions, kinds)


def source_parts(text: str, start: int, end: int, att: Attribution, mentions: list[Mention], kinds: dict[str, str],
                 language: str | None, cues: VoiceCues) -> list[tuple[int, int, Attribution]]:
    """Return the (start, end, attribution) claims of one sentence: the whole sentence, or two claims when a contrast or
    concession joins two statements each with a source of its own ("X denies A, though Y call it B")."""
    sentence = text[start:end]
    contrast, concessive = cues.get("contrast", language), cues.get("concessive", language)
    joints = "|".join(p.pattern for p in (contrast, concessive) if p)
    if not joints:
        return [(start, end, att)]
    for m in re.finditer(rf"[,;]\s*(?:{_words().w['coordinators']}\s+)?(?:{joints})", sentence, re.I):
        cut = m.start()
        if cut < 15 or len(sentence) - m.end() < 15:
            continue
        first = attribute(sentence[:cut], start, mentions, kinds, language, cues)
        second = attribute(sentence[m.start() + 1:], start + m.start() + 1, mentions, kinds, language, cues)
        if (first.source and second.source and first.source != second.source and not first.pronoun and not second.pronoun
                and not re.search(r"[\"“”«»]", sentence)):
            lead = len(sentence[m.start() + 1:]) - len(sentence[m.start() + 1:].lstrip())
            return [(start, start + cut, first), (start + m.start() + 1 + lead, end, second)]
    return [(start, end, att)]


def _cited_paragraphs(claims: list[Claim], text: str, mentions: list[Mention], kinds: dict[str, str]) -> list[Claim]:
    """A line that only names a source ("The Africa Report", "Source: Reuters") cites the paragraph above it."""
    citing = {"media", "research", "ngo", "igo", "government_body"}
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    cites: dict[int, tuple[str, str]] = {}  # paragraph end offset -> (source, line)
    for i, (a, b) in enumerate(lines[1:], 1):
        named = [m for m in mentions if a <= m.start and m.end <= b and m.actor and kinds.get(m.actor) in citing]
        if len(named) != 1:
            continue
        rest = (text[a : named[0].start] + text[named[0].end : b]).strip().lower()
        if re.fullmatch(rf"(?:{_words().w['citation_words']}\s*:?\s*)?(?:the\b\s*)?[\W_]*", rest):
            cites[lines[i - 1][1]] = (named[0].actor, text[a:b])
    out = []
    for c in claims:
        para_end = text.find("\n", c.end)
        para_end = len(text) if para_end < 0 else para_end
        cite = cites.get(para_end)
        if (c.attributed_to is None or c.attributed_to == UNNAMED_REPORTS) and cite:
            c = replace(c, attributed_to=cite[0], attribution_text=cite[1], reporting_verb="cited")
        out.append(c)
    return out


def sourcing_profile(claims: list[Claim]) -> dict:
    """Return a document's sourcing profile: claims, share with a named source, distinct sources, relays, hedged share.

    A named source is a canonical actor or a described one ("diplomats"); claims with no source are
    asserted by the author.
    """
    total = len(claims)
    sourced = [c for c in claims if c.attributed_to]
    return {
        "claims": total,
        "sourced": len(sourced),
        "sourced_share": round(len(sourced) / total, 3) if total else 0.0,
        "unsourced": total - len(sourced),
        "sources": sorted({c.attributed_to for c in sourced}),
        "distinct_sources": len({c.attributed_to for c in sourced}),
        "relays": sorted({c.relayed_by for c in claims if c.relayed_by}),
        "hedged": sum(c.hedged for c in claims),
        "hedged_share": round(sum(c.hedged for c in claims) / total, 3) if total else 0.0,
        "with_figures": sum(bool(c.quantities) for c in claims),
    }
