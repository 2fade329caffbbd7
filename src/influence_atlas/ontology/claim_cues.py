"""The small words the claim stage reads sources with (determiners, prepositions, relatives, auxiliaries), loaded
from `claim_cues.yaml` and validated."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .files import PACKAGE_DIR, joined, merge_sections, user_files

CLAIM_CUES_FILE = PACKAGE_DIR / "claim_cues.yaml"
CLAIM_CUE_NAMES = (
    "determiners", "vague_quantifiers", "distinguishers", "subject_verb_gap", "continuation", "finding_verbs", "first_person",
    "relative_person", "relatives", "relatives_or_that", "source_phrase_end", "noun_complements", "belonging", "articles", "person_stems",
    "clause_openers", "partitives", "clause_joints", "passive_auxiliaries", "pronoun_leads", "coordinators", "governing",
    "prepositions", "day_leads", "days", "listener_prepositions", "naming_frames", "place_prepositions", "verb_objects",
    "inverted_verbs", "listener_verbs", "participle_adverbs", "agent_prepositions", "agent_phrase_end", "relay_links",
    "relay_breaks", "bare_sources", "definite", "citation_words", "personal_pronouns", "thing_pronouns",
    "source_qualifiers", "complementizers", "state_members", "recipient_prepositions",
    "channel_nouns", "possessives", "another", "topic_prepositions", "subordinators", "thing_nouns", "plural_pronouns",
)


def claim_cue_files(path: str | None = None) -> tuple[Path, ...]:
    """Return the packaged claim-cues file (or `path`, a whole file of the same sections) followed by the user's files
    ($ATLAS_CLAIM_CUES)."""
    return (Path(path) if path else CLAIM_CUES_FILE,) + user_files(CLAIM_CUES_FILE, "ATLAS_CLAIM_CUES")[1:]


def load_claim_cues(path: str | None = None) -> dict[str, str]:
    """Return each section of the claim-cues files (claim_cue_files; the user's patterns are added) as one alternation
    of its languages' patterns (no boundaries of its own); OntologyError naming the file and section otherwise."""
    return _load(tuple(str(p) for p in claim_cue_files(path)))


@lru_cache(maxsize=4)
def _load(paths: tuple[str, ...]) -> dict[str, str]:
    merged = merge_sections(tuple(Path(p) for p in paths), "claim cues", CLAIM_CUE_NAMES)
    return {name: joined(merged[name]) for name in CLAIM_CUE_NAMES}
