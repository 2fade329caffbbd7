"""Across sources: the same happening told by several documents, agreements and contradictions."""

from .claims import capped_per_claim, compare_documents, link_claims, link_claims_from
from .events import link_same_events


def link_across(documents, events, claims, stances=(), focus=None, existing=(), min_confidence=None) -> list:
    """Return every cross-source link (same_event, corroborates, contradicts) at or above the confidence cut-off.

    One pass of the pair models serves all three kinds; each claim keeps its strongest `claims.CLAIM_LINKS` links of a
    kind, as the blocked pass keeps them (`reconcile.blocks`). With `focus` only document pairs involving
    those documents are scored and the `existing` links among the others are kept.
    """
    found = compare_documents(documents, claims, events, stances, focus)
    links = link_same_events(events, threshold=min_confidence, focus=focus, existing=existing, found=found)
    links += capped_per_claim(link_claims_from(found, min_confidence))
    if focus is not None:
        known = {c.id: c.doc for c in claims}
        links += [l for l in existing if l.kind in ("contradicts", "corroborates")
                  and all(i in known and known[i] not in focus for i in l.items)]
    return sorted(links, key=lambda l: l.id)


__all__ = ["compare_documents", "link_across", "link_claims", "link_claims_from", "link_same_events"]
