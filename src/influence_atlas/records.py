"""Plain records that travel between stages; spaCy objects never leave the nlp/extract layers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Document:
    """A normalised document; `id` is the sha256 of `text`."""

    id: str
    name: str
    path: str
    text: str
    title: str | None = None
    language: str | None = None
    published: str | None = None
    published_estimated: bool = False
    authors: tuple[str, ...] = ()
    genre: str | None = None
    url: str | None = None
    outlet: str | None = None
    words: int = 0


@dataclass(frozen=True, slots=True)
class Actor:
    """A canonical actor: from the gazetteer, or an unknown named entity."""

    name: str
    kind: str
    aliases: tuple[str, ...] = ()
    country: str | None = None
    known: bool = True

    @property
    def id(self) -> str:
        """Stable id derived from the canonical name."""
        from .text.normalise import slugify

        return "actor:" + slugify(self.name)


@dataclass(frozen=True, slots=True)
class Mention:
    """A span of a document's text that names an entity, linked to an actor when possible."""

    doc: str
    start: int
    end: int
    text: str
    label: str
    actor: str | None
    extractor: str
    confidence: float


@dataclass(slots=True)
class Analysis:
    """Everything extracted from one document."""

    doc: str
    mentions: list[Mention] = field(default_factory=list)
    actors: list[Actor] = field(default_factory=list)
    events: list["Event"] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EventActor:
    """An actor taking part in an event, with its role: agent, target or other."""

    name: str
    role: str


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened (or is said to have), told by one document, with its evidence."""

    id: str
    doc: str
    type: str
    date: str | None
    date_precision: str | None
    actors: tuple[EventActor, ...]
    location: str | None
    latitude: float | None
    longitude: float | None
    fatalities: int | None
    fatalities_qualifier: str | None
    modality: str
    start: int
    end: int
    evidence: str
    trigger: str
    extractor: str
    confidence: float
    # An undated bare mention of a kind of happening ("military coups"), kept only when nothing better tells it.
    generic: bool = False
