"""The small words the claim stage reads sources with (determiners, prepositions, relatives, auxiliaries), loaded
from `claim_cues.yaml` and validated."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from .files import language_alternation, read_yaml

CLAIM_CUES_FILE = Path(__file__).resolve().parent / "claim_cues.yaml"
CLAIM_CUE_NAMES = (
    "determiners", "vague_quantifiers", "distinguishers", "subject_verb_gap", "continuation", "finding_verbs", "first_person",
    "relative_person", "relatives", "relatives_or_that", "source_phrase_end", "noun_complements", "belonging", "articles", "person_stems",
    "clause_openers", "partitives", "clause_joints", "passive_auxiliaries", "pronoun_leads", "coordinators", "governing",
    "prepositions", "day_leads", "days", "listener_prepositions", "naming_frames", "place_prepositions", "verb_objects",
    "inverted_verbs", "listener_verbs", "participle_adverbs", "agent_prepositions", "agent_phrase_end", "relay_links",
    "relay_breaks", "bare_sources", "definite", "citation_words", "personal_pronouns", "thing_pronouns",
    "source_qualifiers", "complementizers", "state_members", "recipient_prepositions",
    "channel_nouns", "possessives",
)


@lru_cache(maxsize=4)
def load_claim_cues(path: str | None = None) -> dict[str, str]:
    """Return each section of the claim cues file as one alternation of its languages' patterns (no boundaries of its
    own), from the packaged file unless `path` names another; OntologyError naming the file and section otherwise."""
    p = Path(path) if path else CLAIM_CUES_FILE
    data = read_yaml(p, "claim cues")
    missing = [n for n in CLAIM_CUE_NAMES if n not in data]
    if missing:
        raise OntologyError(f"{p}: missing section(s) {', '.join(missing)}")
    unknown = set(data) - set(CLAIM_CUE_NAMES) - {"version"}
    if unknown:
        raise OntologyError(f"{p}: unknown section(s) {', '.join(sorted(map(str, unknown)))}")
    return {name: language_alternation(f"{p}: {name}", data[name]) for name in CLAIM_CUE_NAMES}
