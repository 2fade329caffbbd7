"""Across sources: the same happening told by several documents, agreements and contradictions."""

from .claims import link_claims
from .events import link_same_events

__all__ = ["link_claims", "link_same_events"]
