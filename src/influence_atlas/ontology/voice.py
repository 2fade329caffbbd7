"""The who-is-speaking words (`voice.yaml`, extended by the user's files in $ATLAS_VOICE_WORDS): the cues that tell
the author's own voice from reported, debunked, hedged or negated words, and the kinds of hedge an event is told
with, validated on load."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from .files import PACKAGE_DIR, check_patterns, compile_words, languages_of, merge_sections, read_yaml, user_files

VOICE_FILE = PACKAGE_DIR / "voice.yaml"
VOICE_KEYS = ("claim_verbs", "spread_verbs", "connectives", "passive_attribution", "claim_nouns", "according_to", "holders", "holder_verbs", "debunk",
              "first_person", "concessive", "contrast", "negation", "hedges", "reporting_verbs", "source_nouns", "pronouns",
              "reporting_participles", "passive_agents", "unnamed_reports", "distancing")
# How a text holds a happening it tells (the event stage marks an event with the first kind it finds).
HEDGE_KINDS = ("denied", "suspected", "alleged", "planned")
HEDGE_SECTION = "hedge_kinds"


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


def voice_files(path: str | None = None) -> tuple[Path, ...]:
    """Return the packaged voice file (or `path`, a whole file of the same sections) followed by the user's files
    ($ATLAS_VOICE_WORDS)."""
    return (Path(path) if path else VOICE_FILE,) + user_files(VOICE_FILE, "ATLAS_VOICE_WORDS")[1:]


@lru_cache(maxsize=4)
def merged_voice_words(paths: tuple[str, ...]) -> dict[str, dict[str, list[str]]]:
    """Return section → language → patterns merged from the voice files `paths` (the first one whole)."""
    return merge_sections(tuple(Path(p) for p in paths), "voice cues", VOICE_KEYS, others=(HEDGE_SECTION,))


def load_voice_cues(path: str | None = None) -> VoiceCues:
    """Return the validated voice cues of the packaged `voice.yaml` (or `path`) and the user's voice files."""
    return _compiled(tuple(str(p) for p in voice_files(path)))


@lru_cache(maxsize=4)
def _compiled(paths: tuple[str, ...]) -> VoiceCues:
    where = paths[0]
    compiled: dict[str, dict[str, re.Pattern]] = {}
    for key, by_lang in merged_voice_words(paths).items():
        compiled[key] = {lang: compile_words(f"{where}: {key}.{lang}", pats) for lang, pats in by_lang.items()}
        compiled[key]["*"] = compile_words(f"{where}: {key}", [x for pats in by_lang.values() for x in pats])
    return VoiceCues(compiled)


@lru_cache(maxsize=4)
def merged_hedge_kinds(paths: tuple[str, ...]) -> dict[str, dict[str, list[str]]]:
    """Return hedge kind (denied, suspected, alleged, planned, in the first file's order) → language → patterns merged
    from the voice files `paths`' `hedge_kinds` sections: the first gives every kind, the others add patterns to any."""
    merged_voice_words(paths)  # the files' other sections are checked too
    merged: dict[str, dict[str, list[str]]] = {}
    for i, p in enumerate(Path(x) for x in paths):
        section = read_yaml(p, "voice cues").get(HEDGE_SECTION)
        if section is None and i:
            continue
        if not isinstance(section, dict):
            raise OntologyError(f"{p}: '{HEDGE_SECTION}' must map each of {', '.join(HEDGE_KINDS)} to its patterns by language")
        given = [str(k) for k in section]
        unknown = [k for k in given if k not in HEDGE_KINDS]
        if unknown or (i == 0 and sorted(given) != sorted(HEDGE_KINDS)):
            raise OntologyError(f"{p}: {HEDGE_SECTION} must give " + ("exactly " if i == 0 else "only ")
                                + f"{', '.join(HEDGE_KINDS)}" + (f" (not {', '.join(unknown)})" if unknown else ""))
        for kind, table in section.items():
            for lang, items in languages_of(f"{p}: {HEDGE_SECTION}.{kind}", table).items():
                merged.setdefault(kind, {}).setdefault(lang, []).extend(check_patterns(f"{p}: {HEDGE_SECTION}.{kind}.{lang}", items))
    return merged
