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
    claims: list["Claim"] = field(default_factory=list)
    stances: list["Stance"] = field(default_factory=list)
    narratives: list["NarrativeHit"] = field(default_factory=list)
    techniques: list["TechniqueHit"] = field(default_factory=list)
    ttps: list["TtpHit"] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EventActor:
    """An actor taking part in an event, with its role: agent, target or other."""

    name: str
    role: str
    # ACLED's actor type of the party (state_forces, rebels, protesters, civilians, ...), when the text says.
    actor_type: str | None = None


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
    # ACLED's precisions: geo 1 the named town itself, 2 near a town or a district, 3 a region or a country;
    # time 1 the day, 2 a span of days ("between 5 and 7 June", "overnight 3-4 May"), 3 a month or a year.
    geo_precision: int | None = None
    time_precision: int | None = None
    # ACLED's coding of the event (ontology/acled.yaml): event type and sub-event type, None until coded.
    acled_event_type: str | None = None
    acled_sub_event_type: str | None = None


@dataclass(frozen=True, slots=True)
class Quantity:
    """A figure in the text: its words, normalised value (the bottom of a range), unit and qualifier ("more than", "between")."""

    text: str
    value: float
    unit: str | None
    qualifier: str | None
    start: int
    end: int
    # The top of a range ("between 20 and 30": value 20, upper 30); None for a single figure.
    upper: float | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """A check-worthy statement, its figures, and who the text says it comes from (None: the author, unsourced)."""

    id: str
    doc: str
    start: int
    end: int
    text: str
    checkworthiness: float
    quantities: tuple[Quantity, ...]
    attributed_to: str | None
    attribution_text: str | None
    reporting_verb: str | None
    hedged: bool
    hedges: tuple[str, ...]
    extractor: str
    confidence: float
    # Who passes the claim on when the text names both (A in "A reports that B says"); None otherwise.
    relayed_by: str | None = None


@dataclass(frozen=True, slots=True)
class Stance:
    """How a document leans toward an actor: a score in [-2, 2] with the sentences (start, end) that show it.

    `holder` is empty for the author's own stance; for words the document quotes or attributes, it names the
    actor they are given to (the stance is that speaker's, not the author's). `relayed_from` names the speaker whose
    reading the author's stance takes when the document relays them without distance (evidence: their sentences)."""

    doc: str
    actor: str
    score: float
    evidence: tuple[tuple[int, int], ...]
    extractor: str
    confidence: float
    holder: str = ""
    relayed_from: str = ""


@dataclass(frozen=True, slots=True)
class NarrativeHit:
    """A narrative a document advances in its own voice (endorsed) or only attributes to others (reported)."""

    doc: str
    narrative: str
    mode: str
    score: float
    evidence: tuple[tuple[int, int], ...]
    extractor: str


@dataclass(frozen=True, slots=True)
class TechniqueHit:
    """A persuasion technique used in a span of a document."""

    doc: str
    technique: str
    start: int
    end: int
    text: str
    score: float
    extractor: str


@dataclass(frozen=True, slots=True)
class TtpHit:
    """An influence-operation behaviour the document describes, as a DISARM technique."""

    doc: str
    disarm_id: str
    name: str
    start: int
    end: int
    evidence: str
    confidence: float
    extractor: str


@dataclass(frozen=True, slots=True)
class Link:
    """A relation across documents: same_event, corroborates or contradicts, between event or claim ids."""

    id: str
    kind: str
    items: tuple[str, ...]
    detail: str
    score: float
