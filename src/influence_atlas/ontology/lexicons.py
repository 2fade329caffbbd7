"""Word lists behind claims, stance and narratives: voice cues (who is speaking) and the stance lexicon, validated on load."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from .events import load_event_types
from .files import alternation, compile_words, languages_of, read_yaml

HERE = Path(__file__).resolve().parent
VOICE_FILE = HERE / "voice.yaml"
STANCE_FILE = HERE / "stance.yaml"
VOICE_KEYS = ("claim_verbs", "spread_verbs", "connectives", "passive_attribution", "claim_nouns", "according_to", "holders", "holder_verbs", "debunk",
              "first_person", "concessive", "contrast", "negation", "hedges", "reporting_verbs", "source_nouns", "pronouns",
              "reporting_participles", "passive_agents", "unnamed_reports", "distancing")


@dataclass(frozen=True, slots=True)
class VoiceCues:
    """Compiled cue patterns per language that tell the author's own voice from reported, debunked or hedged words."""

    patterns: dict[str, dict[str, re.Pattern]]  # key -> language -> pattern

    def get(self, key: str, language: str | None) -> re.Pattern | None:
        """Return the pattern for a cue kind in a language (both languages' cues when the language is unknown)."""
        by_lang = self.patterns.get(key, {})
        if language in by_lang:
            return by_lang[language]
        return by_lang.get("*")


@dataclass(frozen=True, slots=True)
class StanceGrammar:
    """Patterns, built from the stance file's `grammar` lists, that tell which actor an evaluative word is said of."""

    preposition_before: re.Pattern  # a preposition (article, one word) ends the window before an actor
    head_of: re.Pattern  # "the government of" ends the window before an actor
    of_after: re.Pattern  # "of" opens the gap after a word
    of_name: re.Pattern  # the gap between a coordinated member and the name completing it is "of (the)"
    agent_after: re.Pattern  # "by", "linked to" ... fill the gap between a word and the actor doing it
    coordinated: re.Pattern  # the gap between two coordinated actors
    latter: tuple[str, ...]  # anaphora that point at the last actor named


GRAMMAR_LISTS = ("prepositions", "articles", "definite_articles", "elided_articles", "elided_prepositions", "head_nouns", "of",
                 "agent_links", "coordinators", "coordinated_determiners", "coordinated_nouns", "latter")


def _grammar(p: Path, value: object) -> StanceGrammar:
    """Return the compiled `grammar` section; OntologyError naming the file and the list otherwise."""
    if not isinstance(value, dict):
        raise OntologyError(f"{p}: grammar: expected a mapping of list name to a list of patterns ({', '.join(GRAMMAR_LISTS)})")
    missing = [k for k in GRAMMAR_LISTS if k not in value]
    unknown = sorted(set(value) - set(GRAMMAR_LISTS))
    if missing or unknown:
        raise OntologyError(f"{p}: grammar: " + "; ".join(([f"missing {', '.join(missing)}"] if missing else [])
                                                        + ([f"unknown {', '.join(unknown)}"] if unknown else [])))
    alt = {k: alternation(f"{p}: grammar.{k}", value[k]) for k in GRAMMAR_LISTS}
    article = r"(?:" + r"|".join(rf"(?:{a})\s+" for a in value["articles"]) + r"|" + alt["elided_articles"] + r")"
    definite = r"(?:" + r"|".join(rf"(?:{a})\s+" for a in value["definite_articles"]) + r"|" + alt["elided_articles"] + r")"
    elided = r"(?:" + alt["elided_prepositions"] + r"|" + alt["elided_articles"] + r")"
    return StanceGrammar(
        preposition_before=re.compile(rf"(?:\b{alt['prepositions']}\s+{article}?(?:[\w-]+\s+)?|\b{elided})$", re.I),
        head_of=re.compile(rf"\b{alt['head_nouns']}\s+{alt['of']}\s*{definite}?$", re.I),
        of_after=re.compile(rf"^\s+{alt['of']}\s*", re.I),
        of_name=re.compile(rf"^\s*{alt['of']}\s*(?:the\s+)?$", re.I),
        agent_after=re.compile(rf"^\s+(?:(?:[\w-]+\s+){{0,3}}?{alt['agent_links']}\s+)+{definite}?(?:[\w-]+\s+){{0,3}}?$", re.I),
        coordinated=re.compile(rf"^\s*(?:,|,?\s*{alt['coordinators']})\s*(?:{alt['coordinated_determiners']}\s+|"
                               rf"{alt['coordinated_nouns']}\s+){{0,4}}$", re.I),
        latter=tuple(str(w).lower() for w in value["latter"]),
    )


@dataclass(frozen=True, slots=True)
class StanceLexicon:
    """Evaluative words with a polarity in [-2, 2], words that point at an actor, and words that make an actor a victim."""

    polarity: dict[str, tuple[tuple[re.Pattern, float], ...]]  # language -> ((pattern, score), ...)
    adjectives: dict[str, dict[str, re.Pattern]]  # actor -> language -> pattern
    victim: dict[str, re.Pattern]
    source_after: dict[str, re.Pattern]
    source_before: dict[str, re.Pattern]
    anaphora: dict[str, re.Pattern]
    against: dict[str, re.Pattern]
    opposing: dict[str, re.Pattern]  # verbs whose object is what the subject fights or investigates
    source: str
    grammar: StanceGrammar
    # Event types (event_types.yaml) whose agent, told in the author's voice, is blamed without evaluative words.
    blame_events: frozenset[str] = frozenset()


@lru_cache(maxsize=4)
def load_voice_cues(path: str | None = None) -> VoiceCues:
    """Return the validated voice cues (packaged `voice.yaml` unless `path` names another file)."""
    p = Path(path) if path else VOICE_FILE
    data = read_yaml(p, "voice cues")
    compiled: dict[str, dict[str, re.Pattern]] = {}
    for key in VOICE_KEYS:
        if key not in data:
            raise OntologyError(f"{p}: '{key}' is missing; every one of {', '.join(VOICE_KEYS)} is needed")
        by_lang = languages_of(f"{p}: {key}", data[key])
        compiled[key] = {lang: compile_words(f"{p}: {key}.{lang}", pats) for lang, pats in by_lang.items()}
        compiled[key]["*"] = compile_words(f"{p}: {key}", [x for pats in by_lang.values() for x in pats])
    unknown = set(data) - set(VOICE_KEYS) - {"version"}
    if unknown:
        raise OntologyError(f"{p}: unknown section(s) {', '.join(sorted(unknown))}")
    return VoiceCues(compiled)


@lru_cache(maxsize=4)
def load_stance_lexicon(path: str | None = None) -> StanceLexicon:
    """Return the validated stance lexicon (packaged `stance.yaml` unless `path` names another file)."""
    p = Path(path) if path else STANCE_FILE
    data = read_yaml(p, "stance lexicon")
    polarity: dict[str, tuple[tuple[re.Pattern, float], ...]] = {}
    for lang, entries in languages_of(f"{p}: polarity", data.get("polarity")).items():
        if not isinstance(entries, dict):
            raise OntologyError(f"{p}: polarity.{lang}: expected a mapping of pattern to score")
        rows = []
        for pat, score in entries.items():
            where = f"{p}: polarity.{lang} entry {pat!r}"
            if not isinstance(score, (int, float)) or isinstance(score, bool) or not -2 <= score <= 2 or score == 0:
                raise OntologyError(f"{where}: score must be a non-zero number between -2 and 2, got {score!r}")
            try:
                rows.append((re.compile(r"(?<!\w)(?:" + str(pat) + r")(?!\w)", re.I), float(score)))
            except re.error as exc:
                raise OntologyError(f"{where}: bad pattern ({exc})") from None
        polarity[lang] = tuple(rows)
    adjectives: dict[str, dict[str, re.Pattern]] = {}
    for actor, by_lang in (data.get("adjectives") or {}).items():
        adjectives[str(actor)] = {lang: compile_words(f"{p}: adjectives.{actor}.{lang}", pats)
                                  for lang, pats in languages_of(f"{p}: adjectives.{actor}", by_lang).items()}
    lists = {}
    for key in _LIST_SECTIONS:
        lists[key] = {lang: compile_words(f"{p}: {key}.{lang}", pats) for lang, pats in languages_of(f"{p}: {key}", data.get(key)).items()}
    unknown = set(data) - {"version", "polarity", "adjectives", "blame_events", "grammar", *_LIST_SECTIONS}
    if unknown:
        raise OntologyError(f"{p}: unknown section(s) {', '.join(sorted(unknown))}")
    blame_events = _blame_events(p, data.get("blame_events"))
    return StanceLexicon(polarity, adjectives, source=str(p), grammar=_grammar(p, data.get("grammar")), blame_events=blame_events,
                         **lists)


def _blame_events(p: Path, value: object) -> frozenset[str]:
    """Return the validated `blame_events` section: a list of event type names the event ontology defines."""
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise OntologyError(f"{p}: blame_events: expected a list of event type names")
    known = {t.id for t in load_event_types()}
    unknown = sorted(set(value) - known)
    if unknown:
        raise OntologyError(f"{p}: blame_events: unknown event type(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return frozenset(value)


_LIST_SECTIONS = ("victim", "source_after", "source_before", "anaphora", "against", "opposing")
