"""Claims: check-worthy statements, their figures, who the text says they come from, and how hedged they are."""

from __future__ import annotations

import hashlib
import re
from typing import Callable

from ..ontology import ActorCatalog
from ..records import Claim, Mention
from .quantities import find_quantities

EXTRACTOR = "claims"
# A sentence becomes a Claim when its blended score (the CheckThat!-trained model's score, plus
# figures, a named source, named actors) reaches this floor and it ranks within the document's
# triage budget: fact-checkers work from a ranked list, and a document where every sentence is
# "a claim" helps nobody. Both were set on the demo corpus (a development set; see the README).
CLAIM_THRESHOLD = 0.55
CLAIM_BUDGET = 0.28

_VERBS = (
    r"reported|reports|report|said|says|say|stated|states|claimed|claims|claim|found|finds|find|announced|estimated|estimates|"
    r"noted|notes|told|tells|warned|warns|documented|documents|revealed|reveals|alleged|alleges|accused|accuses|argued|argues|"
    r"suggested|suggests|suggest|showed|shows|show|indicated|indicates|indicate|confirmed|confirms|denied|denies|concluded|"
    r"wrote|writes|insisted|insists|acknowledged|admitted|recorded|counted|"
    r"a déclaré|ont déclaré|déclare|affirme|a affirmé|ont affirmé|a annoncé|ont annoncé|a rapporté|ont rapporté|"
    r"rapporte|estime|a estimé|dénonce|a dénoncé|accuse|a accusé|révèle|a révélé|indique|a indiqué|assure|a assuré"
)
_SOURCE_VERB = re.compile(rf"(?<!\w)(?P<verb>{_VERBS})(?!\w)", re.I)
_ACCORDING = re.compile(r"(?<!\w)(?P<verb>according to|per|citing|selon|d['’]après|cité par)\s+(?P<src>[^,.;:]{2,80})", re.I)
_REPORT_BY = re.compile(r"(?<!\w)(?:a|an|the|one|un|une|le|la)?\s*(?:recent\s+|new\s+|latest\s+|\d{4}\s+)?(?:report|investigation|study|analysis|survey|rapport|enquête|étude)\s+(?:by|from|of|de|du|des)\s+", re.I)
_VAGUE_SOURCE = re.compile(
    r"(?P<src>(?:(?:local|western|african|french|russian|malian|un|u\.s\.|us|military|security|government|official|diplomatic|intelligence|human rights)\s+)?"
    r"(?:polls?|surveys?|reporting|reports|media|sources|officials|diplomats|witnesses|residents|analysts|observers|experts|critics|"
    r"activists|survivors|villagers|testimon(?:y|ies)|witness testimonies|evidence|data|figures|estimates|rumou?rs|"
    r"témoins|sources|responsables|diplomates|habitants|experts|analystes)"
    r"(?:\s+and\s+(?:\w+\s+){0,2}(?:polls?|reporting|reports|media|sources|officials|witnesses|residents|analysts|observers|experts))?)\s+"
    rf"(?:have\s+|had\s+)?(?P<verb>{_VERBS})\b",
    re.I,
)
_HEDGES = re.compile(
    r"\b(allegedly|alleged|reportedly|purportedly|apparently|supposedly|presumably|suspected|is believed|are believed|"
    r"believed to|may have|might have|could have|likely|unconfirmed|unverified|claimed|rumou?red|"
    r"présumée?s?|prétendument|aurait|auraient|selon toute vraisemblance|supposée?s?)\b",
    re.I,
)
_CONTINUES = re.compile(r"^(?:in addition|additionally|also|moreover|furthermore|the same (?:report|study|survey|data)|"
                        r"(?:\w+\s+){0,3}(?:of\s+)?(?:those|these)\b|this figure|that figure|en outre|de plus|parmi eux|parmi ces)", re.I)
_FINDING = re.compile(r"found|finds|find|reported|reports|report|documented|documents|recorded|counted|estimated|estimates|showed|shows|"
                      r"revealed|concluded|confirmed|a rapporté|ont rapporté|rapporte|a révélé|révèle|estime|a estimé", re.I)
_AMBIGUOUS = {"states", "reports", "report", "claims", "claim", "notes", "documents", "shows", "show", "finds", "find",
              "estimates", "says", "say", "suggest", "indicate", "told", "tells", "counted", "recorded", "documented"}
_SOURCE_KINDS = {"media", "research", "ngo", "igo", "government_body", "state", "person", "civil_society", "company", "party",
                 "armed_group", "alliance", "bloc", "unknown"}


def _claim_id(doc: str, start: int) -> str:
    return "cl_" + hashlib.sha1(f"{doc}:{start}".encode()).hexdigest()[:16]


def attribute(sentence: str, offset: int, mentions: list[Mention], kinds: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    """Return (source, source words, reporting verb) the sentence gives, else (None, None, None).

    The source is a canonical actor when the words name one ("ACLED reported", "according to
    diplomats", "a recent UN report found", "selon RFI"), else the words themselves, lower-cased
    ("polls and local reporting").
    """
    # A demonym ("Soviet operations") names no source.
    spans = [m for m in mentions if offset <= m.start and m.end <= offset + len(sentence) and m.actor and m.label != "NORP"
             and kinds.get(m.actor, "unknown") in _SOURCE_KINDS]

    def actor_in(a: int, b: int) -> Mention | None:
        inside = [m for m in spans if a <= m.start - offset and m.end - offset <= b]
        return inside[0] if inside else None

    m = _ACCORDING.search(sentence)
    if m:
        hit = actor_in(m.start("src"), m.end("src"))
        # "according to diplomats in Bamako": the source is the diplomats, not the city.
        if hit and not re.fullmatch(r"\s*(?:the|a|an|le|la|les|l['’])?\s*", sentence[m.start("src") : hit.start - offset], re.I):
            hit = None
        return (hit.actor if hit else m.group("src").strip().lower(), m.group(0), m.group("verb").lower())
    for rb in _REPORT_BY.finditer(sentence):
        hit = actor_in(rb.end(), rb.end() + 80)
        if hit:
            verb = _SOURCE_VERB.search(sentence, hit.end - offset)
            return hit.actor, sentence[rb.start() : hit.end - offset], verb.group("verb").lower() if verb else "report"
    for v in _SOURCE_VERB.finditer(sentence):
        # The source is the actor closest before the verb, in the same clause (no sentence stop between);
        # words that are nouns as often as verbs ("states", "reports") need the source right before them.
        reach = 2 if v.group("verb").lower() in _AMBIGUOUS else 45
        before = [s for s in spans if s.end - offset <= v.start() and v.start() - (s.end - offset) <= reach
                  and not re.search(r"[.;:!?]|\bthat\b|\bwhich\b|\band\b|\bof\b", sentence[s.end - offset : v.start()])]
        if before:
            src = before[-1]
            clause = sentence[src.start - offset : v.end()]
            if re.search(r"\breport\b|\brapport\b", clause, re.I) or v.start() - (src.end - offset) <= 30:
                return src.actor, clause, v.group("verb").lower()
    vague = _VAGUE_SOURCE.search(sentence)
    if vague:
        return vague.group("src").strip().lower(), vague.group(0), vague.group("verb").lower()
    return None, None, None


def find_claims(
    doc_id: str,
    text: str,
    sentences: list[tuple[int, int]],
    mentions: list[Mention],
    catalog: ActorCatalog,
    scorer: Callable[[list[str]], list[float]] | None = None,
    budget: float = CLAIM_BUDGET,
) -> list[Claim]:
    """Return the document's check-worthy claims with figures, source and hedges, in text order.

    `budget` is the largest share of the document's statements that may become claims.
    """
    kinds = {e.name: e.kind for e in catalog.entries}
    candidates = [(s, e) for s, e in sentences if _is_statement(text[s:e])]
    if not candidates:
        return []
    if scorer is None:
        from .checkworthiness import score_sentences as scorer
    model_scores = scorer([text[s:e] for s, e in candidates])
    claims: list[Claim] = []
    # The paragraph's sources so far: (end offset, source, words, verb), latest last.
    thread: list[tuple[int, str | None, str | None, str | None]] = []
    for (s, e), model_score in zip(candidates, model_scores):
        sentence = text[s:e]
        quantities = tuple(q for q in find_quantities(sentence) if not (q.value < 2 and q.unit is None and q.value == int(q.value)))
        source, words, verb = attribute(sentence, s, mentions, kinds)
        thread = [t for t in thread if "\n" not in text[t[0] : s]]
        if source is None and _CONTINUES.search(sentence):
            # "In addition, ...", "A third of those ...": the sentence goes on with the evidence the
            # paragraph has been citing — a finding before a mere claim.
            sourced = [t for t in thread if t[1]]
            findings = [t for t in sourced if t[3] and _FINDING.match(t[3])]
            pick = (findings or sourced or [None])[-1]
            if pick:
                source, words, verb = pick[1], pick[2], pick[3]
        thread.append((e, source, words, verb))
        hedges = tuple(sorted({h.lower() for h in _HEDGES.findall(sentence)}))
        named = any(m.actor for m in mentions if s <= m.start and m.end <= e)
        score = 0.6 * model_score + 0.15 * bool(quantities) + 0.15 * bool(source) + 0.1 * named
        if score < CLAIM_THRESHOLD:
            continue
        claims.append(Claim(
            id=_claim_id(doc_id, s), doc=doc_id, start=s, end=e, text=sentence, checkworthiness=round(model_score, 4),
            quantities=tuple(q.__class__(q.text, q.value, q.unit, q.qualifier, q.start + s, q.end + s) for q in quantities),
            attributed_to=source, attribution_text=words, reporting_verb=verb, hedged=bool(hedges), hedges=hedges,
            extractor=EXTRACTOR, confidence=round(min(0.99, score), 3),
        ))
    limit = max(3, int(budget * len(candidates)))
    if len(claims) > limit:
        keep = {c.id for c in sorted(claims, key=lambda c: (-c.confidence, c.start))[:limit]}
        claims = [c for c in claims if c.id in keep]
    return _cited_paragraphs(claims, text, mentions, kinds)


def _is_statement(sentence: str) -> bool:
    words = sentence.split()
    return len(words) >= 6 and not sentence.rstrip().endswith("?") and bool(re.search(r"[.!»”\")]\s*$", sentence.strip()) or len(words) >= 12)


def _cited_paragraphs(claims: list[Claim], text: str, mentions: list[Mention], kinds: dict[str, str]) -> list[Claim]:
    """A line that only names a source ("The Africa Report", "Source: Reuters") cites the paragraph above it."""
    from dataclasses import replace

    citing = {"media", "research", "ngo", "igo", "government_body"}
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    cites: dict[int, tuple[str, str]] = {}  # paragraph end offset -> (source, line)
    for i, (a, b) in enumerate(lines[1:], 1):
        named = [m for m in mentions if a <= m.start and m.end <= b and m.actor and kinds.get(m.actor) in citing]
        if len(named) != 1:
            continue
        rest = (text[a : named[0].start] + text[named[0].end : b]).strip().lower()
        if re.fullmatch(r"(?:(?:source|sources|via|credit|photo)\s*:?\s*)?(?:the\b\s*)?[\W_]*", rest):
            cites[lines[i - 1][1]] = (named[0].actor, text[a:b])
    out = []
    for c in claims:
        para_end = text.find("\n", c.end)
        para_end = len(text) if para_end < 0 else para_end
        cite = cites.get(para_end)
        if c.attributed_to is None and cite:
            c = replace(c, attributed_to=cite[0], attribution_text=cite[1], reporting_verb="cited")
        out.append(c)
    return out


def sourcing_profile(claims: list[Claim]) -> dict:
    """Return a document's sourcing profile: claims, share with a named source, distinct sources, hedged share.

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
        "hedged": sum(c.hedged for c in claims),
        "hedged_share": round(sum(c.hedged for c in claims) / total, 3) if total else 0.0,
        "with_figures": sum(bool(c.quantities) for c in claims),
    }
