"""Labelled event sentences from public data sets in ../shared/data, mapped to the project's event types.

CASE 2021 Task 2 snippets carry an ACLED sub-type; PLOVER gold-standard records a PLOVER event type.
Verbal categories (demands, threats, disapproval, ...) and types outside ACLED (disasters, crime) are
left out: the development gold neither asks for nor forbids events there.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

CASE_TO_TYPE = {
    "ARMED_CLASH": "armed_clash", "GOV_REGAINS_TERIT": "armed_clash", "NON_STATE_ACTOR_OVERTAKES_TER": "armed_clash",
    "AIR_STRIKE": "attack", "ART_MISS_ATTACK": "attack", "SUIC_BOMB": "attack", "REM_EXPLOS": "attack",
    "GRENADE": "attack", "CHEM_WEAP": "attack",
    "ATTACK": "violence_against_civilians", "ABDUCT_DISSAP": "violence_against_civilians",
    "SEX_VIOL": "violence_against_civilians",
    "PEACE_PROTEST": "protest", "PROTEST_WITH_INTER": "protest", "FORCE_AGAINST_PROTEST": "protest",
    "VIOL_DEMONSTR": "protest", "MOB_VIOL": "protest",
    "AGREEMENT": "agreement", "DIPLO": "diplomatic_meeting", "HQ_ESTABLISHED": "deployment",
    "NON_VIOL_TERRIT_TRANSFER": "withdrawal", "ARREST": "other", "CHANGE_TO_GROUP_ACT": "other",
    "DISR_WEAP": "other", "PROPERTY_DISTRUCT": "other",
}
PLOVER_TO_TYPE = {
    "AGREE": "agreement", "PROTEST": "protest", "FIGHT": "armed_clash", "ASSAULT": "violence_against_civilians",
    "RETREAT": "withdrawal", "SANCTION": "sanction", "CONSULT": "diplomatic_meeting", "MOBILIZE": "deployment",
    "COERCE": "other", "AID": "other",
}


def case_examples() -> list[tuple[str, str]]:
    """Return (snippet, project type) pairs from CASE 2021 Task 2's labelled half."""
    path = DATA / "case2021-task2" / "dev.tsv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [(r["EventSnippet"], CASE_TO_TYPE[r["SubType"]]) for r in rows if r.get("SubType") in CASE_TO_TYPE]


def plover_examples() -> list[tuple[str, str]]:
    """Return (sentence, project type) pairs from the PLOVER gold-standard records."""
    path = DATA / "plover-gsr" / "plover_gsr.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if r.get("event") in PLOVER_TO_TYPE:
            out.append((r["text"], PLOVER_TO_TYPE[r["event"]]))
    return out
