"""Claims of different documents that pull opposite ways on one topic (contradicts) or agree (corroborates).

Candidates are pairs of claims from different documents that name a common actor and touch a
common topic field (blocking by actor × topic keeps the comparison near-linear). The decision is
rule-based and explainable: the balance of evaluative cues (positive vs negative) of each claim,
negation flipping a cue, and figures compared when both give one with the same unit.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import OntologyError
from ..records import Claim, Link, Mention
from .events import link_id

POLARITY_FILE = Path(__file__).resolve().parent.parent / "ontology" / "polarity.yaml"
_NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|without|less|fewer|ne|pas|jamais|sans)\b", re.I)
# Per pair of documents, the strongest few only: an analyst reads these, they are not a dump.
MAX_LINKS = {"contradicts": 3, "corroborates": 1}
# In a block (an actor and a topic), a claim meets the next _WINDOW - 1 claims in store order: every pair of a
# block up to that size, a bounded number per claim beyond it — and no claim is left out once a block is large.
_WINDOW = 300


@lru_cache(maxsize=2)
def _lexicon(path: str = str(POLARITY_FILE)):
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        pos = re.compile(r"\b(?:" + "|".join(data["positive"]) + r")\w*", re.I)
        neg = re.compile(r"\b(?:" + "|".join(data["negative"]) + r")\w*", re.I)
        topics = {name: re.compile(r"\b(?:" + "|".join(words) + r")", re.I) for name, words in data["topics"].items()}
    except (OSError, KeyError, TypeError, yaml.YAMLError, re.error) as exc:
        raise OntologyError(f"{path}: polarity lexicon cannot be loaded: {exc}") from exc
    return pos, neg, topics


def polarity(text: str) -> float:
    """Return the balance of evaluative cues in a claim, in [-1, 1]; a negation just before a cue flips it."""
    pos, neg, _ = _lexicon()
    score = 0
    for pattern, sign in ((pos, 1), (neg, -1)):
        for m in pattern.finditer(text):
            flipped = bool(_NEGATION.search(text[max(0, m.start() - 25) : m.start()]))
            score += -sign if flipped else sign
    total = len(pos.findall(text)) + len(neg.findall(text))
    return score / total if total else 0.0


def topics(text: str) -> set[str]:
    """Return the topic fields a claim touches."""
    _, _, fields = _lexicon()
    return {name for name, pattern in fields.items() if pattern.search(text)}


def _main_actors(mentions: list[Mention], top: int = 3) -> set[str]:
    """Return the actors a document names most (at least three times)."""
    counts: dict[str, int] = defaultdict(int)
    for m in mentions:
        counts[m.actor] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {name for name, n in ranked[:top] if n >= 3}


def link_claims(claims: list[Claim], mentions: list[Mention], min_gap: float = 0.6, focus: set[str] | None = None,
                existing: list[Link] = ()) -> list[Link]:
    """Return contradicts / corroborates links between claims of different documents.

    Two claims are compared when they touch a common topic field and are about common actors —
    named in the claims themselves, or the main actors of both documents (a report on Mali need
    not name Mali in every sentence). Contradicts: polarities of opposite sign at least `min_gap`
    apart. Corroborates: the same clear sign, from independent sources (different documents and
    different named sources). Per pair of documents only the strongest few are kept.

    Incremental use: with `focus` (the documents just analysed) only pairs involving them are
    scored; `existing` links between other documents are kept as they are.
    """
    actors_in: dict[str, set[str]] = defaultdict(set)
    by_doc: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        if m.actor and m.label != "LOC":
            by_doc[m.doc].append(m)
    main = {doc: _main_actors(ms) for doc, ms in by_doc.items()}
    for c in claims:
        actors_in[c.id] = {m.actor for m in by_doc[c.doc] if c.start <= m.start and m.end <= c.end}
    pol = {c.id: polarity(c.text) for c in claims}
    top = {c.id: topics(c.text) for c in claims}
    blocks: dict[tuple[str, str], list[Claim]] = defaultdict(list)
    for c in claims:
        for actor in actors_in[c.id] | main.get(c.doc, set()):
            for topic in top[c.id]:
                blocks[(actor, topic)].append(c)
    scored: dict[tuple[str, str], tuple[str, float, str]] = {}
    for (actor, topic), members in blocks.items():
        for i, a in enumerate(members):
            for b in members[i + 1 : i + _WINDOW]:
                if a.doc == b.doc or (focus is not None and a.doc not in focus and b.doc not in focus):
                    continue
                key = (a.id, b.id) if a.id < b.id else (b.id, a.id)
                pa, pb = pol[a.id], pol[b.id]
                if pa * pb < 0 and abs(pa - pb) >= min_gap:
                    kind, strength = "contradicts", abs(pa - pb) / 2
                elif pa * pb > 0 and min(abs(pa), abs(pb)) >= 0.5 and (a.attributed_to or "author:" + a.doc) != (b.attributed_to or "author:" + b.doc):
                    kind, strength = "corroborates", min(abs(pa), abs(pb)) * 0.8
                else:
                    continue
                shared_topics = top[a.id] & top[b.id]
                strength += 0.1 * len(actors_in[a.id] & actors_in[b.id]) + 0.1 * len(shared_topics) + 0.1 * bool(a.quantities or b.quantities)
                if key not in scored or strength > scored[key][1]:
                    scored[key] = (kind, strength)
    per_pair: dict[tuple[str, str, str], list] = defaultdict(list)
    by_id = {c.id: c for c in claims}
    for (x, y), (kind, strength) in scored.items():
        per_pair[(kind, *sorted((by_id[x].doc, by_id[y].doc)))].append((strength, x, y))
    del scored  # on a large corpus the candidate pairs are the biggest thing held; the links are far fewer

    def detail(kind: str, a: Claim, b: Claim) -> str:  # written for kept links only (memory)
        about = (actors_in[a.id] | main.get(a.doc, set())) & (actors_in[b.id] | main.get(b.doc, set()))
        return f"{kind} on {', '.join(sorted(top[a.id] & top[b.id]))} about {', '.join(sorted(about))}"

    links = []
    for (kind, _, _), items in per_pair.items():
        used: set[str] = set()
        for strength, x, y in sorted(items, key=lambda t: (-t[0], t[1], t[2])):
            if len(used) >= 2 * MAX_LINKS[kind] or x in used or y in used:
                continue
            used.update((x, y))
            links.append(Link(link_id(kind, [x, y]), kind, tuple(sorted((x, y))), detail(kind, by_id[x], by_id[y]),
                              round(min(1.0, strength), 3)))
    if focus is not None:
        known = {c.id: c.doc for c in claims}
        links += [l for l in existing if l.kind in ("contradicts", "corroborates")
                  and all(i in known and known[i] not in focus for i in l.items)]
    return sorted(links, key=lambda l: l.id)
