"""The STIX 2.1 bundle for OpenCTI and MISP: reports, actors, campaigns, DISARM attack-patterns, places and evidence.

The mapping (README "Interchange formats" has the table):
- each document is a `report` whose `object_refs` hold everything drawn from it;
- actors are `identity` objects, except armed groups (`threat-actor`) and whoever the corpus shows
  running an information operation: states, government bodies, armed groups and persons become
  `threat-actor`, any other kind an `intrusion-set`;
- an `information_operation` event is a `campaign`, `attributed-to` its agents and `targets` its
  targets and place; every other event becomes `relationship` objects between its actors (`targets`
  where the spec defines it for the pair, else `related-to`) and to its place (`targets` or
  `located-at`), with `start_time`/`stop_time` spanning the date at its precision; an event with a
  single actor and no place is a `sighting` of that actor with `first_seen`/`last_seen`;
- DISARM techniques are `attack-pattern` objects with the DISARM id in `external_references`,
  `uses` by the campaign or adversary the text ties them to;
- claims are `note` objects (claim text, its source as author).
Ids are uuid5 under a fixed namespace and timestamps come from the records, so two exports of the
same database are byte-identical. Properties STIX has no name for travel as `x_atlas_*` under a
declared top-level property extension.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone

import stix2

from ..errors import AtlasError
from ..records import Actor, Claim, Document, Event, TtpHit
from ..store import Store
from ..text.sentences import sentence_bounds
from .common import date_span, exported_events, ingestion_times, parse_timestamp, participants, place_country

NAMESPACE = uuid.UUID("5d1c7c8e-2b0f-4f6a-9d53-7a0e6c1f4b29")
# When the Influence Atlas identity and property extension were defined: constants, so they never change between runs.
DEFINED = datetime(2025, 1, 1, tzinfo=timezone.utc)
ATLAS_ID = f"identity--{uuid.uuid5(NAMESPACE, 'influence-atlas')}"
EXTENSION_ID = f"extension-definition--{uuid.uuid5(NAMESPACE, 'influence-atlas:properties:1')}"
EXTENSIONS = {EXTENSION_ID: {"extension_type": "toplevel-property-extension"}}
DISARM_KILL_CHAIN = "disarm"

# Events that act against their target: only these make a `targets` relationship.
HOSTILE_TYPES = frozenset({
    "armed_clash", "attack", "violence_against_civilians", "coup", "sanction", "media_restriction", "information_operation",
})
INFORMATION_OPERATION = "information_operation"
# Actor kinds that become a threat-actor when the corpus shows them running an information operation.
THREAT_ACTOR_KINDS = frozenset({"state", "government_body", "armed_group", "person"})
NATION_STATE_KINDS = frozenset({"state", "government_body"})
# identity_class and industry sectors (STIX open vocabularies) per actor kind.
IDENTITY_CLASS = {"person": "individual", "collective": "group", "unknown": "unknown"}
SECTORS = {
    "state": ["government-national"], "government_body": ["government-national"], "media": ["communications"],
    "ngo": ["non-profit"], "civil_society": ["non-profit"],
}
# (source type, relationship type) → target types the STIX 2.1 spec defines it for.
SPEC_RELATIONSHIPS = {
    ("threat-actor", "targets"): {"identity", "location"}, ("intrusion-set", "targets"): {"identity", "location"},
    ("campaign", "targets"): {"identity", "location"}, ("threat-actor", "located-at"): {"location"},
    ("identity", "located-at"): {"location"}, ("campaign", "attributed-to"): {"threat-actor", "intrusion-set"},
}
PROPERTIES = (
    "x_atlas_kind", "x_atlas_country", "x_atlas_known", "x_opencti_aliases", "x_mitre_id",
    "x_atlas_document", "x_atlas_start", "x_atlas_end", "x_atlas_event", "x_atlas_event_type", "x_atlas_modality",
    "x_atlas_date", "x_atlas_date_precision", "x_atlas_fatalities", "x_atlas_fatalities_qualifier", "x_atlas_location",
    "x_atlas_claim", "x_atlas_checkworthiness", "x_atlas_attributed_to", "x_atlas_attribution_text",
    "x_atlas_reporting_verb", "x_atlas_hedged", "x_atlas_hedges", "x_atlas_quantities", "x_atlas_disarm_id",
    "x_atlas_genre", "x_atlas_authors", "x_atlas_published_estimated", "x_atlas_words",
)


def stix_id(object_type: str, key: str) -> str:
    """Return the deterministic STIX id of an object: its type and uuid5 of its key under the fixed namespace."""
    return f"{object_type}--{uuid.uuid5(NAMESPACE, key)}"


def stix_bundle(store: Store) -> dict:
    """Return the store as a STIX 2.1 bundle (a dict), objects sorted by id, ids and timestamps stable across runs."""
    return _BundleBuilder(store).build()


class _BundleBuilder:
    """Collects STIX objects and, per document, the ids its report refers to."""

    def __init__(self, store: Store):
        self.store = store
        self.docs = {d.id: d for d in store.documents()}
        self.times = ingestion_times(store)
        self.objects: dict[str, dict] = {}
        self.refs: dict[str, set[str]] = defaultdict(set)
        self.mentions = store.mentions()
        self.mentions_in: dict[str, list] = defaultdict(list)
        for m in self.mentions:
            self.mentions_in[m.doc].append(m)
        self.events = exported_events(store)
        self.events_in: dict[str, list[Event]] = defaultdict(list)
        for e in self.events:
            self.events_in[e.doc].append(e)
        self.claims = store.claims()
        self.ttps = store.ttps()

    # -- the whole bundle --------------------------------------------------------------------
    def build(self) -> dict:
        if self.docs:
            self._add(_atlas_identity())
            self._add(_extension_definition())
        self._add_actors()
        self._add_places()
        campaigns: dict[str, str] = {}
        for event in self.events:
            if event.type == INFORMATION_OPERATION:
                campaigns[event.id] = self._add_campaign(event)
            else:
                self._add_event(event)
        self._add_ttps(campaigns)
        for claim in self.claims:
            self._add_claim(claim)
        for doc in self.docs.values():
            self._add_report(doc)
        objects = [self.objects[i] for i in sorted(self.objects)]
        digest = hashlib.sha256(json.dumps(objects, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
        bundle = {"type": "bundle", "id": stix_id("bundle", digest)}
        if objects:
            bundle["objects"] = objects
        return bundle

    def _add(self, obj, doc: str | None = None) -> str:
        self.objects[obj.id] = json.loads(obj.serialize())
        if doc is not None:
            self.refs[doc].add(obj.id)
        return obj.id

    def _stamps(self, docs) -> dict:
        """Return created/modified: the first and last ingestion of the documents an object is drawn from."""
        times = sorted(self.times[d] for d in docs if self.times.get(d)) or [DEFINED]
        return {"created": times[0], "modified": times[-1]}

    def _common(self, docs, **custom) -> dict:
        props = {k: v for k, v in custom.items() if v is not None and v != [] and v != ""}
        out = dict(created_by_ref=ATLAS_ID, allow_custom=True, **self._stamps(docs), **props)
        if props:
            out["extensions"] = EXTENSIONS
        return out

    def _evidence(self, doc: str, start: int, end: int) -> dict:
        return {"x_atlas_document": doc, "x_atlas_start": start, "x_atlas_end": end}

    def _source_name(self, doc: str) -> str:
        d = self.docs.get(doc)
        return (d.title or d.name) if d else doc

    # -- actors ------------------------------------------------------------------------------
    def _add_actors(self) -> None:
        known = {a.name: a for a in self.store.actors(mentioned_only=False)}
        docs_of: dict[str, set[str]] = defaultdict(set)
        for m in self.mentions:
            if m.actor:
                docs_of[m.actor].add(m.doc)
        for e in self.events:
            for a in e.actors:
                docs_of[a.name].add(e.doc)
        for c in self.claims:
            if c.attributed_to:
                docs_of[c.attributed_to].add(c.doc)
        operators = {a.name for e in self.events if e.type == INFORMATION_OPERATION for a in e.actors if a.role == "agent"}
        self.actor_ids: dict[str, str] = {}
        for name in sorted(docs_of):
            actor = known.get(name) or Actor(name=name, kind="unknown", known=False)
            obj = self._actor_object(actor, name in operators, docs_of[name])
            self.actor_ids[name] = self._add(obj)
            for doc in docs_of[name]:
                self.refs[doc].add(obj.id)

    def _actor_object(self, actor: Actor, runs_operations: bool, docs):
        key = f"actor:{actor.name}"
        aliases = sorted(set(actor.aliases) - {actor.name})
        description = actor.kind.replace("_", " ") + (f", {actor.country}" if actor.country else "")
        custom = dict(x_atlas_kind=actor.kind, x_atlas_country=actor.country, x_atlas_known=actor.known)
        if actor.kind == "armed_group" or (runs_operations and actor.kind in THREAT_ACTOR_KINDS):
            types = ["nation-state"] if actor.kind in NATION_STATE_KINDS else None
            return stix2.v21.ThreatActor(
                id=stix_id("threat-actor", key), name=actor.name, description=description, aliases=aliases or None,
                threat_actor_types=types, **self._common(docs, **custom))
        if runs_operations:
            return stix2.v21.IntrusionSet(
                id=stix_id("intrusion-set", key), name=actor.name, description=description, aliases=aliases or None,
                **self._common(docs, **custom))
        return stix2.v21.Identity(
            id=stix_id("identity", key), name=actor.name, description=description,
            identity_class=IDENTITY_CLASS.get(actor.kind, "organization"), sectors=SECTORS.get(actor.kind),
            **self._common(docs, x_opencti_aliases=aliases, **custom))

    def _type_of(self, object_id: str) -> str:
        return object_id.split("--", 1)[0]

    # -- places ------------------------------------------------------------------------------
    def _add_places(self) -> None:
        """Add one location per place with coordinates that events name."""
        docs_of: dict[tuple, set[str]] = defaultdict(set)
        for e in self.events:
            if e.location and e.latitude is not None and e.longitude is not None:
                docs_of[(e.location, round(e.latitude, 5), round(e.longitude, 5))].add(e.doc)
        self.place_ids: dict[tuple, str] = {}
        for (name, lat, lon), docs in sorted(docs_of.items()):
            obj = stix2.v21.Location(
                id=stix_id("location", f"place:{name}:{lat:.5f}:{lon:.5f}"), name=name, latitude=lat, longitude=lon,
                country=place_country(name, lat, lon), **self._common(docs))
            self.place_ids[(name, lat, lon)] = self._add(obj)
            for doc in docs:
                self.refs[doc].add(obj.id)

    def _location(self, event: Event) -> str | None:
        """Return the id of the event's place, or None when it has no coordinates."""
        if not event.location or event.latitude is None or event.longitude is None:
            return None
        return self.place_ids[(event.location, round(event.latitude, 5), round(event.longitude, 5))]

    # -- events ------------------------------------------------------------------------------
    def _event_props(self, event: Event) -> dict:
        return dict(
            description=self._event_description(event), confidence=_confidence(event.confidence), labels=_event_labels(event),
            **self._common([event.doc], x_atlas_event=event.id, x_atlas_event_type=event.type, x_atlas_modality=event.modality,
                           x_atlas_date=event.date, x_atlas_date_precision=event.date_precision,
                           x_atlas_fatalities=event.fatalities, x_atlas_fatalities_qualifier=event.fatalities_qualifier,
                           x_atlas_location=event.location, **self._evidence(event.doc, event.start, event.end)))

    def _event_description(self, event: Event) -> str:
        what = event.type.replace("_", " ")
        when = f" on {event.date}" if event.date else ", date not given"
        where = f" in {event.location}" if event.location else ""
        toll = ""
        if event.fatalities is not None:
            toll = f", {event.fatalities_qualifier + ' ' if event.fatalities_qualifier else ''}{event.fatalities} killed"
        modality = "" if event.modality == "asserted" else f" ({event.modality})"
        return f"{what}{when}{where}{toll}{modality}, as told by {self._source_name(event.doc)}: “{event.evidence}”"

    def _relationship(self, event: Event, source: str, relation: str, target: str) -> str:
        if self._type_of(target) not in SPEC_RELATIONSHIPS.get((self._type_of(source), relation), set()):
            relation = "related-to"
        props = self._event_props(event)
        span = date_span(event.date)
        if span:
            props.update(start_time=_day_start(span[0]), stop_time=_day_end(span[1]))
        obj = stix2.v21.Relationship(
            id=stix_id("relationship", f"event:{event.id}:{relation}:{source}:{target}"), relationship_type=relation,
            source_ref=source, target_ref=target, **props)
        return self._add(obj, event.doc)

    def _add_event(self, event: Event) -> None:
        """Add an event as relationships between its actors and to its place, or as a sighting of its one actor."""
        people = participants(event)
        if not people:
            return
        hostile = event.type in HOSTILE_TYPES
        made = 0
        for i, (source, source_role) in enumerate(people):
            for target, target_role in people[i + 1:]:
                relation = "targets" if hostile and (source_role, target_role) == ("agent", "target") else "related-to"
                self._relationship(event, self.actor_ids[source], relation, self.actor_ids[target])
                made += 1
        place = self._location(event)
        if place:
            principals = [n for n, role in people if role == "agent"] or [n for n, _ in people]
            for name in principals:
                source = self.actor_ids[name]
                relation = "targets" if hostile and self._type_of(source) != "identity" else "located-at"
                self._relationship(event, source, relation, place)
                made += 1
        if not made:
            props = self._event_props(event)
            span = date_span(event.date)
            if span:
                props.update(first_seen=_day_start(span[0]), last_seen=_day_end(span[1]))
            obj = stix2.v21.Sighting(
                id=stix_id("sighting", f"event:{event.id}"), sighting_of_ref=self.actor_ids[people[0][0]], count=1, **props)
            self._add(obj, event.doc)

    def _add_campaign(self, event: Event) -> str:
        """Add an information operation as a campaign with its attribution, targets and place; return its id."""
        people = participants(event)
        agents = [n for n, role in people if role == "agent"]
        props = self._event_props(event)
        span = date_span(event.date)
        if span:
            props.update(first_seen=_day_start(span[0]), last_seen=_day_end(span[1]))
        name = f"Information operation by {', '.join(agents) or 'unnamed actors'} ({event.date or 'undated'})"
        campaign = self._add(stix2.v21.Campaign(id=stix_id("campaign", f"event:{event.id}"), name=name, **props), event.doc)
        for actor, role in people:
            relation = "attributed-to" if role == "agent" else "targets" if role == "target" else "related-to"
            self._relationship(event, campaign, relation, self.actor_ids[actor])
        place = self._location(event)
        if place:
            self._relationship(event, campaign, "targets", place)
        return campaign

    # -- DISARM techniques -------------------------------------------------------------------
    def _add_ttps(self, campaigns: dict[str, str]) -> None:
        """Add an attack-pattern per DISARM technique and the `uses` the text supports for each hit.

        A hit is used by the campaign told in the same sentence; failing that, by the adversaries
        (threat-actors, intrusion-sets) that are agents of an event told in that sentence. A name
        merely mentioned near the behaviour ("pro-Russia photos") is not taken as its user.
        """
        framework = _disarm_framework()
        docs_of: dict[str, set[str]] = defaultdict(set)
        names: dict[str, str] = {}
        for t in self.ttps:
            docs_of[t.disarm_id].add(t.doc)
            names.setdefault(t.disarm_id, t.name)
        patterns = {}
        for disarm_id in sorted(docs_of):
            technique = framework.get(disarm_id) if framework else None
            phases = [stix2.v21.KillChainPhase(kill_chain_name=DISARM_KILL_CHAIN, phase_name=_slug(t))
                      for t in (technique.tactics if technique else ())]
            obj = stix2.v21.AttackPattern(
                id=stix_id("attack-pattern", f"disarm:{disarm_id}"), name=technique.name if technique else names[disarm_id],
                description=(technique.description or None) if technique else None, kill_chain_phases=phases or None,
                external_references=[stix2.v21.ExternalReference(source_name="DISARM", external_id=disarm_id)],
                **self._common(docs_of[disarm_id], x_mitre_id=disarm_id))
            patterns[disarm_id] = self._add(obj)
            for doc in docs_of[disarm_id]:
                self.refs[doc].add(obj.id)
        adversaries = {name: i for name, i in self.actor_ids.items() if self._type_of(i) in ("threat-actor", "intrusion-set")}
        sentences: dict[str, list[tuple[int, int]]] = {}
        for t in self.ttps:
            doc = self.docs.get(t.doc)
            if doc is None:
                continue
            if t.doc not in sentences:
                sentences[t.doc] = sentence_bounds(doc.text)
            start, end = next(((s, e) for s, e in sentences[t.doc] if s <= t.start < e), (t.start, t.end))
            told_here = [e for e in self.events_in[t.doc] if e.start < end and e.end > start]
            users = sorted({campaigns[e.id] for e in told_here if e.id in campaigns})
            if not users:
                users = sorted({adversaries[a.name] for e in told_here for a in e.actors if a.role == "agent" and a.name in adversaries})
            for user in users:
                self._uses(t, user, patterns[t.disarm_id], doc.text[start:end])

    def _uses(self, ttp: TtpHit, user: str, pattern: str, sentence: str) -> None:
        obj = stix2.v21.Relationship(
            id=stix_id("relationship", f"ttp:{ttp.doc}:{ttp.start}:{ttp.end}:{ttp.disarm_id}:{user}"), relationship_type="uses",
            source_ref=user, target_ref=pattern, confidence=_confidence(ttp.confidence),
            description=f"{ttp.disarm_id} {ttp.name}, as told by {self._source_name(ttp.doc)}: “{sentence}”",
            **self._common([ttp.doc], x_atlas_disarm_id=ttp.disarm_id, **self._evidence(ttp.doc, ttp.start, ttp.end)))
        self._add(obj, ttp.doc)

    # -- claims and reports ------------------------------------------------------------------
    def _add_claim(self, claim: Claim) -> None:
        doc = self.docs.get(claim.doc)
        if doc is None:
            return
        about = {stix_id("report", f"document:{doc.id}")}
        if claim.attributed_to in self.actor_ids:
            about.add(self.actor_ids[claim.attributed_to])
        about |= {self.actor_ids[m.actor] for m in self.mentions_in[claim.doc]
                  if m.actor in self.actor_ids and claim.start <= m.start < claim.end}
        authors = [claim.attributed_to] if claim.attributed_to else list(doc.authors) or ([doc.outlet] if doc.outlet else [])
        source = f"according to {claim.attributed_to}" if claim.attributed_to else "asserted by the author"
        obj = stix2.v21.Note(
            id=stix_id("note", f"claim:{claim.id}"), abstract=f"Claim {source} in {doc.title or doc.name}",
            content=claim.text, authors=authors or None, object_refs=sorted(about), lang=doc.language or None,
            confidence=_confidence(claim.confidence),
            **self._common([claim.doc], x_atlas_claim=claim.id, x_atlas_checkworthiness=round(claim.checkworthiness, 4),
                           x_atlas_attributed_to=claim.attributed_to, x_atlas_attribution_text=claim.attribution_text,
                           x_atlas_reporting_verb=claim.reporting_verb, x_atlas_hedged=claim.hedged,
                           x_atlas_hedges=list(claim.hedges), x_atlas_quantities=[q.text for q in claim.quantities],
                           **self._evidence(claim.doc, claim.start, claim.end)))
        self._add(obj, claim.doc)

    def _add_report(self, doc: Document) -> None:
        published = parse_timestamp(doc.published) or self.times.get(doc.id) or DEFINED
        refs = sorted(self.refs.get(doc.id) or {ATLAS_ID})
        external = [stix2.v21.ExternalReference(source_name="influence-atlas", external_id=doc.id, description=doc.path)]
        if doc.url:
            external.append(stix2.v21.ExternalReference(source_name=doc.outlet or "source", url=doc.url))
        obj = stix2.v21.Report(
            id=stix_id("report", f"document:{doc.id}"), name=doc.title or doc.name, published=published,
            report_types=["threat-report"], object_refs=refs, lang=doc.language or None, external_references=external,
            description=f"{doc.name}: {doc.words} words" + (f" by {', '.join(doc.authors)}" if doc.authors else ""),
            **self._common([doc.id], x_atlas_genre=doc.genre, x_atlas_authors=list(doc.authors),
                           x_atlas_published_estimated=doc.published_estimated if doc.published else None,
                           x_atlas_words=doc.words))
        self._add(obj)


def _atlas_identity():
    return stix2.v21.Identity(
        id=ATLAS_ID, created=DEFINED, modified=DEFINED, name="Influence Atlas", identity_class="system",
        description="Evidence-linked maps of information-manipulation campaigns, extracted from documents.")


def _extension_definition():
    schema = ("Top-level properties Influence Atlas adds: x_atlas_document, x_atlas_start and x_atlas_end locate the "
              "evidence (document id and character offsets into its normalised text); x_atlas_event* carry an event's "
              "id, type, modality, date at its precision, place and toll; x_atlas_claim* a claim's id, check-worthiness, "
              "source, reporting verb, hedges and figures; x_atlas_kind, x_atlas_country and x_atlas_known an actor's "
              "gazetteer entry; x_opencti_aliases mirrors an identity's aliases and x_mitre_id a DISARM technique id "
              "for OpenCTI.")
    return stix2.v21.ExtensionDefinition(
        id=EXTENSION_ID, created_by_ref=ATLAS_ID, created=DEFINED, modified=DEFINED, name="Influence Atlas properties",
        description="Evidence offsets and analysis fields of Influence Atlas records.", schema=schema, version="1.0",
        extension_types=["toplevel-property-extension"], extension_properties=list(PROPERTIES))


def _disarm_framework():
    """Return the DISARM framework for technique names and tactics, or None when it cannot be loaded."""
    try:
        from ..extract.disarm import load_disarm

        return load_disarm()
    except (AtlasError, ImportError):
        return None


def _event_labels(event: Event) -> list[str]:
    labels = [event.type.replace("_", "-")]
    if event.modality != "asserted":
        labels.append(event.modality)
    return labels


def _confidence(value: float | None) -> int | None:
    return None if value is None else max(0, min(100, round(value * 100)))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=timezone.utc)


def _day_end(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=timezone.utc) + timedelta(days=1) - timedelta(milliseconds=1)


def _slug(text: str) -> str:
    return "-".join("".join(c.lower() if c.isalnum() else " " for c in text).split())
