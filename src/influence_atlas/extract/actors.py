"""Find actor mentions: gazetteer matches and named entities, linked to canonical actors."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable

from ..nlp import common_words
from ..ontology import PLACE_KIND, ActorCatalog, ActorEntry
from ..ontology.events import load_event_cues
from ..ontology.words import OFFICE_SECTIONS, load_name_words
from ..records import Actor, Mention
from ..text.metadata import byline_names, dateline_sources
from ..text.normalise import fold_with_offsets

EXTRACTOR_GAZETTEER = "gazetteer"
EXTRACTOR_NER = "ner"
EXTRACTOR_SHORT_FORM = "short-form"
EXTRACTOR_OFFICE = "office"
EXTRACTOR_CREDIT = "credit"
EXTRACTOR_CHANNEL = "channel"
EXTRACTOR_DATELINE = "dateline"

_TOKEN = re.compile(r"\w+|[^\w\s]")
_FIND_BLOCK = 100_000
_FLAG = re.compile(r"[\U0001F1E6-\U0001F1FF]{2}")
_WORDS = load_name_words()
_THE = re.compile(rf"^{_WORDS.any('catalogue_articles')}\s+", re.I)
_LEADING = re.compile(rf"^{_WORDS.any('leading_articles')}\s+", re.I)
_TRAILING = re.compile(r"(?:['’]s|['’])$|[\s,.;:!?()\[\]\"“”«»-]+$")
_NAME_GLUE = _WORDS.words("name_glue") | {"-", "'", "&", "’"}
_DESCRIPTORS = _WORDS.words("organisation_descriptors")
_FACILITY = re.compile(rf"\b({_WORDS.any('facility_heads')})$", re.I)
_NON_ACTOR_HEAD = re.compile(rf"^({_WORDS.any('non_actor_heads')})\b", re.I)
_NON_NAME_PREFIX = re.compile(_WORDS.any("non_name_prefixes"), re.I)
_NER_LABELS = {"PERSON": "PERSON", "PER": "PERSON", "ORG": "ORG", "GPE": "GPE", "LOC": "LOC", "NORP": "NORP"}
# Collective actors (the West, jihadist groups, ethnic and religious communities) are groups
# of people, not named organisations: spaCy's NORP.
_KIND_LABEL = {"person": "PERSON", "state": "GPE", "collective": "NORP"}
_COORDINATION = _WORDS.words("coordinators") | {"&", "-", "/", "–"}
_ACRONYM_EXCEPTIONS = _WORDS.words("acronym_word_exceptions")
# What joins an office to the state after it, folded: "Ministry of Defence of Russia", "ministère de la Défense du Mali".
_OFFICE_LINKS = (("of",), ("of", "the"), ("du",), ("de",), ("des",), ("de", "la"), ("de", "l", "'"), ("d", "'"))
_OFFICE_LINK_AFTER = re.compile(r"\s+(?:of(?:\s+the)?|du|des|de\s+la|de\s+l['’]|de|d['’])\s*", re.I)
_OFFICE_STATE_BEFORE = re.compile(r"\s*(?:['’]s?)?\s*")
_ONE_WORD = re.compile(r"[A-ZÀ-ÖØ-Þ][^\W\d_A-ZÀ-ÖØ-Þ]+")
_LOWER_WORD = re.compile(r"(?<![\w-])[^\W\d_A-ZÀ-ÖØ-Þ][\w-]*")
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")
# What stands right before a name that is not a clause's subject: a preposition (perhaps with an article), or the bracket
# of an acronym that repeats the name before it.
_GOVERNED = re.compile(rf"(?:(?<!\w)(?:{_WORDS.any('name_prepositions')})(?:\s+|(?<=['’]))(?:{_WORDS.any('leading_articles')})?\s*"
                       r"|\(\s*)$", re.I)
# A person's name in a picture's credit: two to four capitalised words, in capitals or not.
_CREDITED_NAME = r"[A-ZÀ-ÖØ-Þ][\w'’.-]*(?:[ \t]+[A-ZÀ-ÖØ-Þ][\w'’.-]*){1,3}"
# "the city of X", "la région de X": the name after a place's head noun is a place whatever the tagger took it for (the
# event stage's own words for such heads).
_PLACE_HEAD = re.compile(rf"(?<!\w)(?:{load_event_cues().cues['place_noun']})\s+(?:{load_event_cues().cues['place_of']})\s*$", re.I)
_CHANNEL_WORD = rf"(?i:{_WORDS.any('channel_words')})"
_CHANNEL_WORD_END = re.compile(rf"(?<!\w){_CHANNEL_WORD}$")
_CHANNEL_WORD_BEFORE = re.compile(rf"(?<!\w){_CHANNEL_WORD}[ \t]+$")
# A channel's name after its platform: quoted, or one to four capitalised words.
_CHANNEL_NAME = re.compile(rf"(?P<word>[ \t]+{_CHANNEL_WORD})?[ \t]*,?[ \t]*(?:[“\"«][ \t]*(?P<quoted>[A-ZÀ-ÖØ-Þ][^“”\"«»\n]{{0,40}}?)"
                           rf"[ \t]*[”\"»]|(?P<name>[A-ZÀ-ÖØ-Þ][\w'’.-]*(?:[ \t]+[A-ZÀ-ÖØ-Þ][\w'’.-]*){{0,3}}))")
_CREDITS = (
    # "(Jane Doe/AP)", "© 2020 JANE DOE/AFP via Getty Images": the name before an agency's slash (a dateline's
    # "(Outlet News / Agency" spaces its slash).
    re.compile(rf"(?:\(|©[ \t]*\d{{4}}[ \t]+)[ \t]*(?P<name>{_CREDITED_NAME})/(?:via[ \t]+)?[A-ZÀ-ÖØ-Þ]"),
    # "(Photo: Jane Doe)", "Crédit photo : Jean Dupont" on a line of its own.
    re.compile(rf"(?:^|\()[ \t]*(?i:{_WORDS.any('credit_labels')})[ \t]*[:,][ \t]*(?P<name>{_CREDITED_NAME})[ \t]*(?:\)|$)", re.M),
)


def label_for_kind(kind: str) -> str:
    """Return the mention label (PERSON, GPE or ORG) that fits an actor kind."""
    return _KIND_LABEL.get(kind, "ORG")


def _tokens(s: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(s))


_DETERMINERS = _WORDS.words("name_articles")


def _case_sensitive(form: str, canonical: bool) -> bool:
    """Forms that must match with their case.

    Acronyms and stylised names (CAR, US, FAMa, DFRLab); one-word capitalised aliases, which are
    often ordinary words in lower case ("West", "Chad", "Kremlin" is safe either way); and names
    that start with a French article ("Le Monde" is a newspaper, "le monde" the world).
    """
    letters = [c for c in form if c.isalpha()]
    if not letters:
        return True
    upper = sum(c.isupper() for c in letters)
    toks = _tokens(form)
    if upper == len(letters) or (len(toks) == 1 and upper >= 2):
        return True
    if toks[0].lower() in _DETERMINERS and len(toks) > 1 and any(c.isupper() for c in form):
        return True
    return len(toks) == 1 and not canonical and form[0].isupper()


def _acronym_variants(form: str) -> tuple[str, ...]:
    """Return the other spellings of a one-word acronym of four letters or more: in capitals and written as a word.

    French house style (and some English) writes acronyms read as words with one capital ("Minusma", "Otan"); others
    write a stylised one in capitals ("FAMA" for FAMa). Forms with at most one lower-case letter count as acronyms;
    `acronym_word_exceptions` in ontology/names.yaml lists those whose word form is a common name or word.
    """
    letters = [c for c in form if c.isalpha()]
    if len(_tokens(form)) != 1 or len(letters) < 4 or sum(c.islower() for c in letters) > 1 or not form[0].isupper():
        return ()
    word = form[0] + form[1:].lower()
    return tuple(v for v in (form.upper(), word) if v != form and not (v == word and word.lower() in _ACRONYM_EXCEPTIONS))


def _exact_key(form: str) -> tuple[str, ...]:
    toks = list(_tokens(form))
    if toks and toks[0].lower() in _DETERMINERS:
        toks[0] = toks[0].lower()
    return tuple(toks)


@dataclass(frozen=True, slots=True)
class _Form:
    entry: ActorEntry
    demonym: bool


class Gazetteer:
    """Token-trie lookup of every actor name, alias, demonym and flag in an ActorCatalog."""

    def __init__(self, catalog: ActorCatalog):
        self.catalog = catalog
        self.folded: dict[tuple[str, ...], _Form] = {}
        self.exact: dict[tuple[str, ...], _Form] = {}
        self.flags: dict[str, ActorEntry] = {}
        self.max_len = 1
        variants: list[tuple[tuple[str, ...], _Form]] = []
        for entry in catalog.entries:
            if entry.flag:
                self.flags[entry.flag] = entry
            forms = [(entry.name, False, True)] + [(a, False, False) for a in entry.aliases] + [(d, True, True) for d in entry.demonyms]
            for form, demonym, canonical in forms:
                stripped = _THE.sub("", form.strip())
                # "The West" stripped to "West" is a capitalised common word like any alias.
                canonical = canonical and stripped == form.strip()
                form = stripped
                if not form:
                    continue
                if _case_sensitive(form, canonical):
                    key = _exact_key(form)
                    table = self.exact
                else:
                    key = _tokens(fold_with_offsets(form)[0])
                    table = self.folded
                if key and key not in table:
                    table[key] = _Form(entry, demonym)
                    self.max_len = max(self.max_len, len(key))
                if table is self.exact:
                    variants.extend((_exact_key(v), _Form(entry, demonym)) for v in _acronym_variants(form))
        # Another spelling of an acronym never takes a key a form of the catalogue holds.
        for key, form in variants:
            self.exact.setdefault(key, form)
        self.by_name = catalog.by_name()
        self.states = {e.name for e in catalog.entries if e.kind == "state"}
        phrases = _office_phrases()
        self.office_of, self.office_bodies = _offices(catalog, self.by_name, phrases)
        self.office_phrase = {" ".join(p): sec for sec, phr in phrases.items() for p in phr}
        for key, entry in _composed_offices(self.by_name, self.office_bodies, phrases):
            if key not in self.folded:
                self.folded[key] = _Form(entry, False)
                self.max_len = max(self.max_len, len(key))
        self.bare_office = _bare_office_pattern(phrases)
        # A UN mission says it is one in its name or an alias, not merely in a phrase for peacekeepers at large.
        mission = re.compile(_WORDS.any("un_mission_names"), re.I)
        self.peacekeepers = re.compile(rf"(?:{_WORDS.any('peacekeeping_phrases')})", re.I)
        self.un_missions = {e.name for e in catalog.entries if e.kind == "igo" and any(
            mission.search(a) and not self.peacekeepers.fullmatch(a) for a in (e.name, *e.aliases))}
        self.first_tokens = {k[0] for k in self.folded} | {k[0].lower() for k in self.exact}

    def find(self, text: str) -> list[tuple[int, int, ActorEntry, bool]]:
        """Return non-overlapping (start, end, entry, is_demonym) matches in text, longest first, left to right."""
        found = []
        # Names never cross a line break, so long texts are matched line block by line block (flat memory).
        offset = 0
        while offset < len(text):
            end = len(text) if len(text) - offset <= _FIND_BLOCK else text.find("\n", offset + _FIND_BLOCK)
            end = len(text) if end < 0 else end
            found += [(s + offset, e + offset, entry, dem) for s, e, entry, dem in self._find_block(text[offset:end])]
            offset = end
        return found

    def _find_block(self, text: str) -> list[tuple[int, int, ActorEntry, bool]]:
        folded, where = fold_with_offsets(text)
        toks = [(m.start(), m.end()) for m in _TOKEN.finditer(folded)]
        words = [folded[s:e] for s, e in toks]
        found = []
        i = 0
        n = len(toks)
        while i < n:
            if words[i] not in self.first_tokens:
                i += 1
                continue
            hit = None
            for length in range(min(self.max_len, n - i), 0, -1):
                key = tuple(words[i : i + length])
                form = self.folded.get(key)
                if form is None:
                    start, end = where[toks[i][0]], where[toks[i + length - 1][1] - 1] + 1
                    form = self.exact.get(_exact_key(text[start:end]))
                if form is not None:
                    hit = (length, form)
                    break
            if hit is None:
                i += 1
                continue
            length, form = hit
            start, end = where[toks[i][0]], where[toks[i + length - 1][1] - 1] + 1
            found.append((start, end, form.entry, form.demonym))
            i += length
        for m in _FLAG.finditer(text):
            entry = self.flags.get(m.group(0))
            if entry:
                found.append((m.start(), m.end(), entry, False))
        return sorted(found, key=lambda f: f[0])


def _folded_tokens(form: str) -> tuple[str, ...]:
    return _tokens(fold_with_offsets(form)[0])


def _office_phrases() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Return each office section's phrases as folded tokens, longest first."""
    return {sec: tuple(sorted({_folded_tokens(p) for pats in _WORDS.patterns[sec].values() for p in pats}, key=len, reverse=True))
            for sec in OFFICE_SECTIONS}


def _offices(catalog: ActorCatalog, by_name: dict[str, ActorEntry], phrases: dict[str, tuple[tuple[str, ...], ...]]
             ) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Return each catalogue ministry's office (a body of a state, `ActorCatalog.states_of_bodies`, whose name or an
    alias holds one of the office's `phrases`) and, per (state, office), the ministry (the first the catalogue lists)."""
    office_of: dict[str, str] = {}
    bodies: dict[tuple[str, str], str] = {}
    for name in catalog.states_of_bodies():
        entry = by_name[name]
        forms = [_folded_tokens(f) for f in (entry.name, *entry.aliases)]
        office = next((sec for sec, phr in phrases.items() if any(_holds(f, p) for f in forms for p in phr)), None)
        if office:
            office_of[entry.name] = office
            bodies.setdefault((entry.country, office), entry.name)
    return office_of, bodies


def _holds(tokens: tuple[str, ...], part: tuple[str, ...]) -> bool:
    n = len(part)
    return any(tokens[i:i + n] == part for i in range(len(tokens) - n + 1))


def _composed_offices(by_name: dict[str, ActorEntry], bodies: dict[tuple[str, str], str],
                      phrases: dict[str, tuple[tuple[str, ...], ...]]) -> list[tuple[tuple[str, ...], ActorEntry]]:
    """Return the folded keys of each catalogue ministry named by its office and its state, in English and French word
    orders ("Russia's Ministry of Defense", "the Russian defence ministry", "Ministry of Defence of Russia", "ministère
    russe de la Défense", "ministère de la Défense russe", "ministère de la Défense du Mali")."""
    out = []
    for (state, office), body in bodies.items():
        s = by_name[state]
        names = {_folded_tokens(f) for f in (s.name, *s.demonyms, *(a for a in s.aliases if len(_tokens(a)) <= 2))}
        for o in phrases[office]:
            for n in sorted(names):
                keys = [n + o, n + ("'", "s") + o, o[:1] + n + o[1:], o + n] + [o + link + n for link in _OFFICE_LINKS]
                out += [(k, by_name[body]) for k in keys]
    return out


def _bare_office_pattern(phrases: dict[str, tuple[tuple[str, ...], ...]]) -> re.Pattern:
    """Return the pattern of an office named alone in folded text, with the possessive before it if any."""
    written = [" ".join(p).replace(" ' ", "'") for phr in phrases.values() for p in phr]
    offices = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted(written, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:(?P<pos>{_WORDS.any('office_possessives')})\s+)?(?P<office>{offices})(?!\w)", re.I)


@lru_cache(maxsize=4)
def gazetteer_for(catalog: ActorCatalog) -> Gazetteer:
    """Return the Gazetteer of a catalog, built once."""
    return Gazetteer(catalog)


@dataclass(slots=True)
class _Entity:
    start: int
    end: int
    label: str


# Titles and ranks are not part of a person's name: "Colonel Jean Dupont" is Jean Dupont.
_TITLE = re.compile(
    rf"^(?:{_WORDS.any('title_articles')}\s+)?(?:{_WORDS.any('title_modifiers')}\s*)*{_WORDS.any('titles')}\s+", re.I)


_TITLE_WORD = re.compile(_WORDS.any("titles"), re.I)


def _clean_entity(text: str, start: int, end: int, label: str | None = None) -> tuple[int, int] | None:
    """Trim determiners, titles, possessives and punctuation from an entity span; None when it crosses a paragraph."""
    span = text[start:end]
    if "\n" in span:
        return None
    lead = _LEADING.match(span)
    if lead:
        start += lead.end()
    if label == "PERSON":
        while (title := _TITLE.match(text[start:end])) and title.end() < end - start:
            start += title.end()
    if label == "ORG" and len(toks := _tokens(span)) > 1 and toks[-1].lower() in _DESCRIPTORS:
        end = start + text[start:end].rstrip().rfind(toks[-1])
    while True:
        span = text[start:end]
        m = _TRAILING.search(span)
        if not m or m.start() == 0:
            break
        end = start + m.start()
    return (start, end) if end > start else None


def _looks_like_name(span: str, label: str) -> bool:
    toks = _tokens(span)
    if not toks or not any(c.isupper() for c in span) or len(toks) > 10:
        return False
    if span.count("(") != span.count(")") or span.count("“") != span.count("”"):
        return False
    if any(t.isdigit() for t in toks) or _NON_NAME_PREFIX.match(span):
        return False
    if toks[-1].lower() in _NAME_GLUE:
        return False  # a name cut short ("Ministère de la Pêche et de la")
    if label == "PERSON":
        words = [t for t in toks if t not in _NAME_GLUE]
        return len(words) >= 2 and all(w[0].isupper() for w in words)
    return not _NON_ACTOR_HEAD.match(span) and not _FACILITY.search(span) and not _TITLE_WORD.fullmatch(span)


def _one_capitalised_word(span: str) -> bool:
    """Whether a span is one word written with a capital and lower-case letters ("Media"; not "MINUSMA", "FAMa")."""
    return bool(_ONE_WORD.fullmatch(span))


def _known_place(span: str) -> bool:
    """True for a place the packaged place supplement knows (taggers call such towns ORG or PERSON)."""
    from .places import _supplement

    return fold_with_offsets(span)[0] in _supplement()


def _glue_only(text: str, outer: tuple[int, int], inner: tuple[int, int]) -> bool:
    """True when the parts of outer outside inner are capitalised words or name glue (a longer proper name)."""
    rest = _tokens(text[outer[0] : inner[0]]) + _tokens(text[inner[1] : outer[1]])
    return bool(rest) and all(t in _NAME_GLUE or t.lower() in _NAME_GLUE or t[0].isupper() for t in rest)


def _headline_spans(text: str) -> list[tuple[int, int]]:
    """Return spans of paragraphs written in title case (headlines), where capitals prove nothing."""
    spans = []
    for m in re.finditer(r"[^\n]+", text):
        para = m.group(0)
        if len(para) > 200 or re.search(r"[.;:]$", para.strip()):
            continue
        words = [w for w in re.findall(r"[^\W\d_]{4,}", para)]
        if len(words) >= 2 and sum(w[0].isupper() for w in words) / len(words) >= 0.7:
            spans.append((m.start(), m.end()))
    return spans


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= position < e for s, e in spans)


def _longer_name(text: str, ent: _Entity, match: tuple[int, int, ActorEntry, bool]) -> bool:
    """True when a named entity is a longer proper name that merely contains one gazetteer word.

    "Lucian French" is a person, "Union des Jeunes du Sahel" an organisation; but
    "Burkina Faso-Russia" or "European & North American" are lists, not names.
    """
    start, end, entry, _ = match
    if ent.label not in ("PERSON", "ORG") or entry.kind == "person":
        return False
    if not (ent.start <= start and end <= ent.end) or (ent.start, ent.end) == (start, end):
        return False
    if ent.label == "PERSON" and (len(_tokens(text[start:end])) > 1 or (not match[3] and entry.kind != "state")):
        # A surname is one word, and a demonym or a country's name at most ("Lucian French"):
        # "Burkina Faso Next" is a headline, "Selon RFI" a phrase, not people.
        return False
    rest = _tokens(text[ent.start : start]) + _tokens(text[end : ent.end])
    if any(t.lower() in _COORDINATION for t in rest):
        return False
    return _glue_only(text, (ent.start, ent.end), (start, end)) and _looks_like_name(text[ent.start : ent.end], ent.label)


def link_actors(doc_id: str, text: str, entities: list[tuple[int, int, str]], catalog: ActorCatalog) -> tuple[list[Mention], list[Actor]]:
    """Return the document's actor mentions and the actors they link to.

    `entities` are named-entity spans (start, end, label) from the NER model. Gazetteer matches
    win over entities they overlap, except when a person's or organisation's longer name merely
    contains a gazetteer word ("Lucian French" is a person, not France). Short forms of a person's
    name ("Goïta") resolve to the full name used elsewhere in the document.
    """
    gaz = gazetteer_for(catalog)
    lower_words = _lower_words(text)
    matches = _outside_capitals(text, gaz.find(text), lower_words)
    entities = _joined_persons(text, entities)
    free_entities, dropped_matches = _free_entities(text, entities, matches)
    mentions, actors = _gazetteer_mentions(doc_id, text, matches, dropped_matches)
    persons = _full_name_persons(text, mentions, free_entities)
    for ent in free_entities:
        if ent.label != "PERSON" and _one_capitalised_word(text[ent.start:ent.end]):
            # A word the document also writes in lower case is a common word a capital opened ("Media", "Commission"),
            # and so is an organisation's one word that the language's dictionary lists ("Police", "Central").
            word = text[ent.start:ent.end].lower()
            if (word in lower_words() or (ent.label == "ORG" and word in common_words())) and not _known_place(word):
                continue
        if ent.label in ("PERSON", "ORG") and _PLACE_HEAD.search(text, max(0, ent.start - 30), ent.start):
            ent = _Entity(ent.start, ent.end, "LOC")
        mention = _entity_mention(doc_id, text, ent, persons)
        if mention is None:
            continue
        mentions.append(mention)
        if mention.extractor == EXTRACTOR_NER and mention.actor and mention.actor not in actors:
            actors[mention.actor] = Actor(name=mention.actor, kind="unknown", known=False)

    for mention in _credited_persons(doc_id, text, mentions):
        mentions.append(mention)
        actors.setdefault(mention.actor, Actor(name=mention.actor, kind="unknown", known=False))
        persons.append((mention.start, mention.text.split()[-1], mention.actor))
    sources = _dateline_sources(doc_id, text, mentions)
    if sources:
        # An outlet the dateline credits replaces the places read inside its name ("Africa Times").
        mentions = [m for m in mentions if m.actor or not any(o.start <= m.start and m.end <= o.end for o in sources)]
    for mention in sources + _channel_names(doc_id, text, mentions, gaz):
        mentions.append(mention)
        actors.setdefault(mention.actor, Actor(name=mention.actor, kind="unknown", known=False))
    mentions += _short_forms_missed(doc_id, text, mentions, sorted(persons))
    mentions.sort(key=lambda m: (m.start, m.end))
    offices = _office_mentions(doc_id, text, mentions, gaz)
    if offices:
        # An office read as a ministry replaces the tagger's span of the same words.
        mentions = [m for m in mentions if not any(o.start < m.end and m.start < o.end for o in offices)]
        for m in offices:
            actors.setdefault(m.actor, gaz.by_name[m.actor].to_actor())
        kept = {m.actor for m in mentions if m.actor} | {m.actor for m in offices}
        actors = {name: a for name, a in actors.items() if name in kept}
        mentions = sorted(mentions + offices, key=lambda m: (m.start, m.end))
    mentions, actors = _peacekeepers(mentions, actors, gaz)
    return mentions, sorted(actors.values(), key=lambda a: a.name)


def _peacekeepers(mentions: list[Mention], actors: dict[str, Actor], gaz: Gazetteer) -> tuple[list[Mention], dict[str, Actor]]:
    """Return the mentions and actors with UN peacekeepers named without their mission ("UN peacekeepers", "les casques
    bleus", linked to the United Nations by the catalogue) read as the one UN mission the document names, if it names
    exactly one: the peacekeepers in a text about one country are that country's mission's, not another's."""
    generic = gaz.peacekeepers
    named = {m.actor for m in mentions if m.actor in gaz.un_missions and not generic.fullmatch(m.text)}
    if len(named) != 1:
        return mentions, actors
    mission = named.pop()
    mentions = [replace(m, actor=mission) if m.actor and generic.fullmatch(m.text) else m for m in mentions]
    kept = {m.actor for m in mentions if m.actor}
    return mentions, {name: a for name, a in actors.items() if name in kept}


_CAPITAL_WORD = r"[^\W\d_a-zß-öø-ÿ]{2,}"
_CAPITALS_BEFORE = re.compile(rf"{_CAPITAL_WORD}[ \t]+$")
_CAPITALS_AFTER = re.compile(rf"[ \t]+{_CAPITAL_WORD}(?!\w)")


def _lower_words(text: str) -> Callable[[], set[str]]:
    """Return a function giving the set of words the document writes in lower case, read from the text on first use
    (most documents never need it) and then kept."""
    held: list[set[str]] = []

    def words() -> set[str]:
        if not held:
            held.append(set(_LOWER_WORD.findall(text)))
        return held[0]

    return words


def _outside_capitals(text: str, matches: list, lower_words: Callable[[], set[str]]) -> list:
    """Drop the acronyms read inside a run of words in capitals that the document also writes as a common word in
    lower case ("LES MERCENAIRES AU NIGER" holds the preposition "au", not the African Union; `lower_words` as
    `_lower_words` gives them)."""
    kept = []
    for match in matches:
        start, end = match[0], match[1]
        form = text[start:end]
        if form.isupper() and " " not in form and _CAPITALS_BEFORE.search(text, max(0, start - 40), start) \
                and _CAPITALS_AFTER.match(text, end):
            if form.lower() in lower_words():
                continue
        kept.append(match)
    return kept


def _joined_persons(text: str, entities: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Return the entities with two people's names one space apart joined into one: the tagger cuts long names in two
    ("Jean Okito" "Ngoy Mbala"), while two people named in a row are always separated by more than a space."""
    out: list[tuple[int, int, str]] = []
    for start, end, label in sorted(entities):
        if out and _NER_LABELS.get(label) == "PERSON" and _NER_LABELS.get(out[-1][2]) == "PERSON" and text[out[-1][1]:start] == " ":
            out[-1] = (out[-1][0], end, out[-1][2])
            continue
        out.append((start, end, label))
    return out


def _credited_persons(doc_id: str, text: str, mentions: list[Mention]) -> list[Mention]:
    """Return the people a byline ("By Jane Doe and John Roe") or a picture's credit ("(Jane Doe/AP)") names, where no
    other mention stands."""
    taken = [(m.start, m.end) for m in mentions]
    found: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return not any(s < end and start < e for s, e in taken + found)

    for start, end in byline_names(text):
        if free(start, end) and _looks_like_name(text[start:end], "PERSON"):
            found.append((start, end))
    for pattern in _CREDITS:
        for hit in pattern.finditer(text):
            start, end = hit.span("name")
            if free(start, end) and _looks_like_name(hit.group("name"), "PERSON"):
                found.append((start, end))
    return [Mention(doc_id, s, e, text[s:e], "PERSON", re.sub(r"\s+", " ", text[s:e]), EXTRACTOR_CREDIT, 0.7)
            for s, e in sorted(found)]


def _dateline_sources(doc_id: str, text: str, mentions: list[Mention]) -> list[Mention]:
    """Return the outlets and agencies a news dateline credits ("CITY (Outlet News / Agency - 3rd March, 2021)")
    as organisations, where no linked mention stands."""
    return [Mention(doc_id, s, e, text[s:e], "ORG", re.sub(r"\s+", " ", text[s:e]), EXTRACTOR_DATELINE, 0.7)
            for s, e in dateline_sources(text) if not any(m.actor and m.start < e and s < m.end for m in mentions)]


def _channel_names(doc_id: str, text: str, mentions: list[Mention], gaz: Gazetteer) -> list[Mention]:
    """Return the channels, accounts and pages a platform's name introduces ("the Telegram channel “Nord Vektor”", "la
    chaîne Telegram Nord Info") as organisations, where no other mention stands."""
    out = []
    for m in mentions:
        entry = gaz.by_name.get(m.actor) if m.extractor == EXTRACTOR_GAZETTEER else None
        if entry is None or entry.kind != "company":
            continue
        hit = _CHANNEL_NAME.match(text, m.end)
        if not hit or not (hit.group("word") or _CHANNEL_WORD_END.search(m.text)
                           or _CHANNEL_WORD_BEFORE.search(text, max(0, m.start - 20), m.start)):
            continue
        group = "quoted" if hit.group("quoted") else "name"
        start, end = hit.span(group)
        name = re.sub(r"\s+", " ", hit.group(group)).strip()
        if not any(o.start < end and start < o.end for o in mentions) and _looks_like_name(name, "ORG"):
            out.append(Mention(doc_id, start, start + len(hit.group(group).rstrip()), name, "ORG", name, EXTRACTOR_CHANNEL, 0.7))
    return out


def _free_entities(text: str, entities: list[tuple[int, int, str]], matches: list) -> tuple[list[_Entity], set[int]]:
    """Return the cleaned named entities no gazetteer match covers (or that win over the one they contain), and the
    indexes of the gazetteer matches they win over."""
    cleaned: list[_Entity] = []
    for start, end, label in entities:
        label = _NER_LABELS.get(label)
        span = _clean_entity(text, start, end, label) if label else None
        if span:
            cleaned.append(_Entity(span[0], span[1], label))

    headlines = _headline_spans(text)
    body_names = {fold_with_offsets(text[e.start : e.end])[0] for e in cleaned if not _inside(e.start, headlines)}
    dropped_matches: set[int] = set()
    free_entities: list[_Entity] = []
    for ent in cleaned:
        in_headline = _inside(ent.start, headlines)
        if in_headline and ent.label != "PERSON" and fold_with_offsets(text[ent.start : ent.end])[0] not in body_names:
            # Title case makes every headline word look like an organisation; trust only names the body
            # confirms. People's names survive: "Illustrations by Lucian French".
            continue
        overlapping = [i for i, m in enumerate(matches) if m[0] < ent.end and ent.start < m[1]]
        if not overlapping:
            free_entities.append(ent)
            continue
        if len(overlapping) == 1 and (not in_headline or ent.label == "PERSON") and _longer_name(text, ent, matches[overlapping[0]]):
            dropped_matches.update(overlapping)
            free_entities.append(ent)
    return free_entities, dropped_matches


def _gazetteer_mentions(doc_id: str, text: str, matches: list, dropped: set[int]) -> tuple[list[Mention], dict[str, Actor]]:
    """Return the mentions of the gazetteer matches kept and the catalogue actors they name."""
    mentions: list[Mention] = []
    actors: dict[str, Actor] = {}
    for i, (start, end, entry, demonym) in enumerate(matches):
        if i in dropped:
            continue
        if entry.kind == PLACE_KIND:
            mentions.append(Mention(doc_id, start, end, text[start:end], "LOC", None, EXTRACTOR_GAZETTEER, 0.9))
            continue
        label = "NORP" if demonym else label_for_kind(entry.kind)
        conf = 0.8 if demonym else 0.9
        mentions.append(Mention(doc_id, start, end, text[start:end], label, entry.name, EXTRACTOR_GAZETTEER, conf))
        actors[entry.name] = entry.to_actor()
    return mentions, actors


def _entity_mention(doc_id: str, text: str, ent: _Entity, persons: list[tuple[int, str, str]]) -> Mention | None:
    """Return the mention of a named entity the gazetteer does not know: a place, a short form of a person named in
    full, or an unknown actor; None when it does not look like a name."""
    span = text[ent.start : ent.end]
    resolved = _resolve_short_form(span, ent.start, persons)
    if ent.label in ("GPE", "LOC", "NORP") and not (resolved and ent.label != "NORP" and not _known_place(span)):
        # (A surname the document gives a person named in full is that person, whatever the tagger took it for.)
        return Mention(doc_id, ent.start, ent.end, span, ent.label, None, EXTRACTOR_NER, 0.6)
    if resolved:
        return Mention(doc_id, ent.start, ent.end, span, "PERSON", resolved, EXTRACTOR_SHORT_FORM, 0.75)
    # A single name marked with an asterisk is a person the press names under a changed name ("Amina*").
    pseudonym = ent.label == "PERSON" and text[ent.end:ent.end + 1] == "*" and span[:1].isupper() and not re.search(r"\s", span)
    if not (pseudonym or _looks_like_name(span, ent.label)) or _known_place(span):
        if _known_place(span):
            return Mention(doc_id, ent.start, ent.end, span, "LOC", None, EXTRACTOR_NER, 0.6)
        return None
    return Mention(doc_id, ent.start, ent.end, span, ent.label, re.sub(r"\s+", " ", span), EXTRACTOR_NER, 0.6)


def _full_name_persons(text: str, mentions: list[Mention], free: list[_Entity]) -> list[tuple[int, str, str]]:
    """Return (position, surname, canonical name) for every person named in full in the document."""
    out = []
    for m in mentions:
        if m.label == "PERSON" and len(m.text.split()) >= 2:
            out.append((m.start, m.text.split()[-1], m.actor))
            canon_last = m.actor.split()[-1]
            if canon_last != m.text.split()[-1]:
                out.append((m.start, canon_last, m.actor))
    for ent in free:
        span = text[ent.start : ent.end]
        if ent.label == "PERSON" and _looks_like_name(span, "PERSON"):
            out.append((ent.start, span.split()[-1], re.sub(r"\s+", " ", span)))
    return sorted(out)


def _resolve_short_form(span: str, position: int, persons: list[tuple[int, str, str]]) -> str | None:
    """Return the person a one-word name refers to: same surname, accents exact first, nearest before."""
    if len(span.split()) != 1:
        return None
    for exact in (True, False):
        # Exact spelling first, then in any case and without accents ("Bozize" for "Bozizé" in English wire copy).
        same = [p for p in persons if (p[1] == span if exact else fold_with_offsets(p[1])[0] == fold_with_offsets(span)[0])]
        if len({p[2] for p in same}) == 0:
            continue
        before = [p for p in same if p[0] < position]
        return (before[-1] if before else same[0])[2]
    return None


def _short_forms_missed(doc_id: str, text: str, mentions: list[Mention], persons) -> list[Mention]:
    """Find surname-only references the NER model did not tag, outside existing mentions."""
    if not persons:
        return []
    surnames = {p[1] for p in persons if len(p[1]) > 2}
    covered = sorted((m.start, m.end) for m in mentions)
    out = []
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(s) for s in sorted(surnames, key=len, reverse=True)) + r")(?!\w)")
    for m in pattern.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in covered):
            continue
        actor = _resolve_short_form(m.group(1), m.start(), persons)
        if actor:
            out.append(Mention(doc_id, m.start(), m.end(), m.group(1), "PERSON", actor, EXTRACTOR_SHORT_FORM, 0.7))
    return out


def _office_mentions(doc_id: str, text: str, mentions: list[Mention], gaz: Gazetteer) -> list[Mention]:
    """Find ministries named by their office alone ("the defence ministry", "son ministère de la Défense").

    After a possessive the office is that of the state named last before it in the sentence (or of the state a person or
    body named there serves); otherwise it is the one ministry of that office the document names with its state. An
    office whose state stands next to it ("Niger's defence ministry", "the defence ministry of Chad") is that state's,
    whose mention is already there; an office the text leaves open stays unlinked.
    """
    if not gaz.office_bodies:
        return []
    folded, where = fold_with_offsets(text)
    named = [m for m in mentions if m.actor]
    offices_named: dict[str, set[str]] = {}
    for m in named:
        if m.actor in gaz.office_of:
            offices_named.setdefault(gaz.office_of[m.actor], set()).add(m.actor)
    out = []
    for hit in gaz.bare_office.finditer(folded):
        start, end = where[hit.start("office")], where[hit.end("office") - 1] + 1
        if any(m.start < end and start < m.end for m in mentions if m.extractor != EXTRACTOR_NER):
            continue
        before = [m for m in named if m.end <= start]
        link = _OFFICE_LINK_AFTER.match(text, end)
        if (before and _OFFICE_STATE_BEFORE.fullmatch(text, before[-1].end, start)) or \
                (link and any(m.start == link.end() for m in named)):
            continue  # its state stands next to it
        office = gaz.office_phrase[" ".join(_tokens(hit.group("office")))]
        actor = None
        if hit.group("pos"):
            lo = max(0, start - 300)
            stop = [b.end() for b in _SENTENCE_END.finditer(text, lo, start)]
            served = []
            for m in [m for m in before if m.start >= (stop[-1] if stop else lo)]:
                entry = gaz.by_name.get(m.actor)
                state = m.actor if entry and entry.kind == "state" else (entry.country if entry else None)
                if state in gaz.states:
                    served.append((m, state))
            # The possessive points to the subject ("La Russie a envoyé ... en Centrafrique pour ... son ministère"): the
            # last state named that no preposition governs (nor a bracket repeats), else the last state named.
            free = [(m, state) for m, state in served if not _GOVERNED.search(text, max(0, m.start - 30), m.start)]
            if served:
                state = (free or served)[-1][1]
                actor = gaz.office_bodies.get((state, office), state)
        elif len(offices_named.get(office, ())) == 1:
            actor = next(iter(offices_named[office]))
        if actor:
            out.append(Mention(doc_id, start, end, text[start:end], label_for_kind(gaz.by_name[actor].kind), actor,
                               EXTRACTOR_OFFICE, 0.7))
    return out
