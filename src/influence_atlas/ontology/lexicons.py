"""Word lists behind claims, stance and narratives: voice cues (who is speaking) and the stance lexicon, validated on load."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from .events import load_event_types
from .files import PACKAGE_DIR, alternation, compile_words, languages_of, read_yaml, user_files
from .voice import VOICE_FILE, VOICE_KEYS, VoiceCues, load_voice_cues

__all__ = ["STANCE_FILE", "StanceGrammar", "StanceLexicon", "VOICE_FILE", "VOICE_KEYS", "VoiceCues", "load_stance_lexicon",
           "load_voice_cues", "stance_files"]

STANCE_FILE = PACKAGE_DIR / "stance.yaml"


@dataclass(frozen=True, slots=True)
class StanceGrammar:
    """Patterns, built from the stance file's `grammar` lists, that tell which actor an evaluative word is said of."""

    preposition_before: re.Pattern  # a preposition (article, one word) ends the window before an actor
    head_of: re.Pattern  # "the government of" ends the window before an actor
    of_after: re.Pattern  # "of" opens the gap after a word
    of_name: re.Pattern  # the gap between a coordinated member and the name completing it is "of (the)"
    agent_after: re.Pattern  # "by", "linked to" ... fill the gap between a word and the actor doing it
    reason_after: re.Pattern  # "for", "involved in" ... fill the gap between an act's target and the fault it is blamed for
    coordinated: re.Pattern  # the gap between two coordinated actors
    latter: tuple[str, ...]  # anaphora that point at the last actor named


GRAMMAR_LISTS = ("prepositions", "articles", "definite_articles", "elided_articles", "elided_prepositions", "head_nouns", "of",
                 "agent_links", "reason_links", "coordinators", "coordinated_determiners", "coordinated_nouns", "latter")


def _grammar_lists(p: Path, value: object, whole: bool) -> dict[str, list]:
    """Return a file's checked `grammar` lists (all of them when `whole`, as the packaged file must give); OntologyError
    naming the file and the list otherwise."""
    if not isinstance(value, dict):
        raise OntologyError(f"{p}: grammar: expected a mapping of list name to a list of patterns ({', '.join(GRAMMAR_LISTS)})")
    missing = [k for k in GRAMMAR_LISTS if k not in value] if whole else []
    unknown = sorted(set(value) - set(GRAMMAR_LISTS))
    if missing or unknown:
        raise OntologyError(f"{p}: grammar: " + "; ".join(([f"missing {', '.join(missing)}"] if missing else [])
                                                        + ([f"unknown {', '.join(unknown)}"] if unknown else [])))
    for k in value:
        alternation(f"{p}: grammar.{k}", value[k])
    return value


def _grammar(where: str, value: dict[str, list]) -> StanceGrammar:
    """Return the patterns built from the merged `grammar` lists."""
    alt = {k: alternation(f"{where}: grammar.{k}", value[k]) for k in GRAMMAR_LISTS}
    article = r"(?:" + r"|".join(rf"(?:{a})\s+" for a in value["articles"]) + r"|" + alt["elided_articles"] + r")"
    definite = r"(?:" + r"|".join(rf"(?:{a})\s+" for a in value["definite_articles"]) + r"|" + alt["elided_articles"] + r")"
    elided = r"(?:" + alt["elided_prepositions"] + r"|" + alt["elided_articles"] + r")"
    return StanceGrammar(
        preposition_before=re.compile(rf"(?:\b{alt['prepositions']}\s+{article}?(?:[\w-]+\s+)?|\b{elided})$", re.I),
        head_of=re.compile(rf"\b{alt['head_nouns']}\s+{alt['of']}\s*{definite}?$", re.I),
        of_after=re.compile(rf"^\s+{alt['of']}\s*", re.I),
        of_name=re.compile(rf"^\s*{alt['of']}\s*(?:the\s+)?$", re.I),
        agent_after=re.compile(rf"^\s+(?:(?:[\w-]+\s+){{0,3}}?{alt['agent_links']}\s+)+{definite}?(?:[\w-]+\s+){{0,3}}?$", re.I),
        reason_after=re.compile(rf"^\s*,?\s*(?:[\w-]+\s+){{0,3}}?{alt['reason_links']}\s+(?:[\w'’-]+\s+){{0,4}}?$", re.I),
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


def stance_files(path: str | None = None) -> tuple[Path, ...]:
    """Return the packaged stance file (or `path`, a whole file of the same sections) followed by the user's files
    ($ATLAS_STANCE_WORDS)."""
    return (Path(path) if path else STANCE_FILE,) + user_files(STANCE_FILE, "ATLAS_STANCE_WORDS")[1:]


def load_stance_lexicon(path: str | None = None) -> StanceLexicon:
    """Return the validated stance lexicon of the packaged `stance.yaml` (or `path`) and the user's stance files: a
    user's polarity entry adds a word or gives a packaged one a new score; its lists and event types are added."""
    return _stance_lexicon(tuple(str(p) for p in stance_files(path)))


@lru_cache(maxsize=4)
def _stance_lexicon(paths: tuple[str, ...]) -> StanceLexicon:
    polarity: dict[str, dict[str, tuple[re.Pattern, float]]] = {}
    adjectives: dict[str, dict[str, list[str]]] = {}
    lists: dict[str, dict[str, list[str]]] = {key: {} for key in _LIST_SECTIONS}
    blame: dict[str, None] = {}
    grammar: dict[str, list] = {}
    for i, p in enumerate(Path(x) for x in paths):
        data = read_yaml(p, "stance lexicon")
        if i == 0 or "polarity" in data:
            for lang, rows in _polarity(p, data.get("polarity")).items():
                polarity.setdefault(lang, {}).update(rows)
        for actor, by_lang in (data.get("adjectives") or {}).items():
            for lang, pats in languages_of(f"{p}: adjectives.{actor}", by_lang).items():
                alternation(f"{p}: adjectives.{actor}.{lang}", pats)
                adjectives.setdefault(str(actor), {}).setdefault(lang, []).extend(pats)
        for key in _LIST_SECTIONS:
            if i == 0 or key in data:
                for lang, pats in languages_of(f"{p}: {key}", data.get(key)).items():
                    alternation(f"{p}: {key}.{lang}", pats)
                    lists[key].setdefault(lang, []).extend(pats)
        unknown = set(data) - {"version", "polarity", "adjectives", "blame_events", "grammar", *_LIST_SECTIONS}
        if unknown:
            raise OntologyError(f"{p}: unknown section(s) {', '.join(sorted(unknown))}")
        blame.update(dict.fromkeys(_blame_events(p, data.get("blame_events"))))
        if i == 0 or "grammar" in data:
            for key, items in _grammar_lists(p, data.get("grammar"), whole=i == 0).items():
                grammar.setdefault(key, []).extend(items)
    where = paths[0]
    return StanceLexicon(
        {lang: tuple(rows.values()) for lang, rows in polarity.items()},
        {actor: {lang: compile_words(f"{where}: adjectives.{actor}.{lang}", pats) for lang, pats in by_lang.items()}
         for actor, by_lang in adjectives.items()},
        source=where, grammar=_grammar(where, grammar), blame_events=frozenset(blame),
        **{key: {lang: compile_words(f"{where}: {key}.{lang}", pats) for lang, pats in by_lang.items()} for key, by_lang in lists.items()})


def _polarity(p: Path, value: object) -> dict[str, dict[str, tuple[re.Pattern, float]]]:
    """Return a file's `polarity` section: language → pattern → (compiled pattern, score); OntologyError naming the
    file and the entry otherwise."""
    out: dict[str, dict[str, tuple[re.Pattern, float]]] = {}
    for lang, entries in languages_of(f"{p}: polarity", value).items():
        if not isinstance(entries, dict):
            raise OntologyError(f"{p}: polarity.{lang}: expected a mapping of pattern to score")
        rows = out[lang] = {}
        for pat, score in entries.items():
            where = f"{p}: polarity.{lang} entry {pat!r}"
            if not isinstance(score, (int, float)) or isinstance(score, bool) or not -2 <= score <= 2 or score == 0:
                raise OntologyError(f"{where}: score must be a non-zero number between -2 and 2, got {score!r}")
            try:
                rows[str(pat)] = (re.compile(r"(?<!\w)(?:" + str(pat) + r")(?!\w)", re.I), float(score))
            except re.error as exc:
                raise OntologyError(f"{where}: bad pattern ({exc})") from None
    return out


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
