"""FollowTheMoney entities for Aleph: documents, actors, their mentions, events, who acted on whom, and claims.

Written as plain JSON (`{"id", "schema", "properties"}` per entity) so that the export needs no
followthemoney install; `ftm` and `alephclient` read the lines as they are. Ids are sha1 hashes of
stable keys, prefixed `atlas-`, so two exports of the same database are identical.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from ..records import Actor, Claim, Document, Event
from ..store import Store
from .common import ACTS_ON, actor_country, actor_pairs, exported_events, participants, place_country

# Actor kinds → FtM schema and topics (FtM's topic vocabulary).
SCHEMA_OF_KIND = {
    "person": "Person", "state": "PublicBody", "government_body": "PublicBody", "igo": "PublicBody", "bloc": "PublicBody",
    "alliance": "PublicBody", "company": "Company", "unknown": "LegalEntity",
}
TOPICS_OF_KIND = {
    "state": ["gov.national"], "government_body": ["gov"], "igo": ["gov.igo"], "bloc": ["gov.igo"], "alliance": ["gov.igo"],
    "armed_group": ["mil"], "party": ["pol.party"],
}
# Mention labels that name a person or an organisation (FtM's Mention resolves to a LegalEntity).
LABEL_SCHEMA = {"PERSON": "Person", "PER": "Person", "ORG": "Organization", "ORGANIZATION": "Organization", "NORP": "Organization"}


def ftm_id(*key: str) -> str:
    """Return the stable FtM entity id of a key: `atlas-` and the sha1 of its parts."""
    return "atlas-" + hashlib.sha1("\x1f".join(key).encode("utf-8")).hexdigest()


def ftm_entities(store: Store) -> list[dict]:
    """Return the store as FollowTheMoney entities (dicts of id, schema, properties), sorted by id, values sorted."""
    docs = {d.id: d for d in store.documents()}
    known = {a.name: a for a in store.actors(mentioned_only=False)}
    mentions = store.mentions()
    events = exported_events(store)
    claims = store.claims()
    entities: list[dict] = []

    named = {m.actor for m in mentions if m.actor} | {a.name for e in events for a in e.actors}
    named |= {c.attributed_to for c in claims if c.attributed_to}
    actor_ids = {}
    for name in sorted(named):
        actor = known.get(name) or Actor(name=name, kind="unknown", known=False)
        entity = _actor_entity(actor)
        actor_ids[name] = entity["id"]
        entities.append(entity)
    schema_of = {e["id"]: e["schema"] for e in entities}

    article_ids = {}
    people_in: dict[str, set[str]] = defaultdict(set)
    orgs_in: dict[str, set[str]] = defaultdict(set)
    for m in mentions:
        if m.actor:
            (people_in if schema_of[actor_ids[m.actor]] == "Person" else orgs_in)[m.doc].add(m.actor)
    for doc in docs.values():
        entity = _document_entity(doc, people_in[doc.id], orgs_in[doc.id])
        article_ids[doc.id] = entity["id"]
        entities.append(entity)

    entities += _mention_entities(mentions, article_ids, actor_ids, schema_of)
    for event in events:
        entities += _event_entities(event, docs.get(event.doc), article_ids, actor_ids)
    for claim in claims:
        if claim.doc in article_ids:
            entities.append(_claim_entity(claim, docs[claim.doc], article_ids[claim.doc], actor_ids))
    return sorted(entities, key=lambda e: e["id"])


def _entity(entity_id: str, schema: str, **properties) -> dict:
    """Return an entity dict; each property a sorted list of distinct non-empty strings."""
    props = {}
    for name, value in properties.items():
        values = value if isinstance(value, (list, tuple, set)) else [value]
        cleaned = sorted({str(v) for v in values if v is not None and str(v) != ""})
        if cleaned:
            props[name] = cleaned
    return {"id": entity_id, "schema": schema, "properties": props}


def _actor_entity(actor: Actor) -> dict:
    schema = SCHEMA_OF_KIND.get(actor.kind, "Organization")
    return _entity(
        ftm_id("actor", actor.name), schema, name=actor.name, alias=[a for a in actor.aliases if a != actor.name],
        country=(actor_country(actor.country) or "").lower(), classification=actor.kind.replace("_", " "),
        topics=TOPICS_OF_KIND.get(actor.kind, []))


def _document_entity(doc: Document, people: set[str], organisations: set[str]) -> dict:
    schema = "Document" if doc.genre and "report" in doc.genre.lower() else "Article"
    dates = {"date": doc.published} if doc.published_estimated else {"publishedAt": doc.published}
    return _entity(
        ftm_id("document", doc.id), schema, name=doc.title or doc.name, title=doc.title, fileName=doc.name,
        author=list(doc.authors), publisher=doc.outlet, sourceUrl=doc.url, language=_language(doc.language),
        keywords=doc.genre, bodyText=doc.text, peopleMentioned=sorted(people), companiesMentioned=sorted(organisations),
        **dates)


def _mention_entities(mentions, article_ids: dict[str, str], actor_ids: dict[str, str], schema_of: dict[str, str]) -> list[dict]:
    """Return one Mention per document and actor (all the names it goes by there), and per unlinked person or organisation name."""
    names: dict[tuple[str, str | None, str], set[str]] = defaultdict(set)
    labels: dict[tuple[str, str], str] = {}
    for m in mentions:
        if m.doc not in article_ids:
            continue
        if m.actor:
            names[(m.doc, m.actor, "")].add(m.text)
        elif m.label in LABEL_SCHEMA:
            names[(m.doc, None, m.text)].add(m.text)
            labels.setdefault((m.doc, m.text), m.label)
    out = []
    for (doc, actor, text), forms in sorted(names.items(), key=lambda item: (item[0][0], item[0][1] or "", item[0][2])):
        if actor:
            out.append(_entity(ftm_id("mention", doc, actor), "Mention", document=article_ids[doc], resolved=actor_ids[actor],
                               name=sorted(forms | {actor}), detectedSchema=schema_of[actor_ids[actor]]))
        else:
            out.append(_entity(ftm_id("mention", doc, "name", text), "Mention", document=article_ids[doc], name=text,
                               detectedSchema=LABEL_SCHEMA[labels[(doc, text)]]))
    return out


def _event_entities(event: Event, doc: Document | None, article_ids: dict[str, str], actor_ids: dict[str, str]) -> list[dict]:
    """Return an event as an FtM Event, and an UnknownLink for each agent → target pair it tells."""
    people = participants(event)
    agents = [n for n, role in people if role == "agent"]
    targets = [n for n, role in people if role == "target"]
    what = event.type.replace("_", " ")
    title = what + (f": {', '.join(agents)}" if agents else "") + (f" → {', '.join(targets)}" if targets else "")
    title += f" ({event.date or 'undated'})"
    proof = article_ids.get(event.doc)
    toll = None
    if event.fatalities is not None:
        toll = f"fatalities: {event.fatalities_qualifier + ' ' if event.fatalities_qualifier else ''}{event.fatalities}"
    out = [_entity(
        ftm_id("event", event.id), "Event", name=title, date=event.date, summary=event.evidence,
        description="; ".join(x for x in (f"{what} ({event.modality})", toll, f"told by {doc.title or doc.name}" if doc else None) if x),
        location=event.location, country=(place_country(event.location, event.latitude, event.longitude) or "").lower(),
        organizer=[actor_ids[n] for n in agents], involved=[actor_ids[n] for n, role in people if role != "agent"],
        keywords=[event.type, event.modality], recordId=event.id, proof=proof)]
    for source, target, relation in actor_pairs(event):
        if relation != ACTS_ON:
            continue
        out.append(_entity(
            ftm_id("link", event.id, source, target), "UnknownLink", subject=actor_ids[source], object=actor_ids[target],
            role=what, date=event.date, description=event.evidence, proof=proof, recordId=event.id))
    return out


def _claim_entity(claim: Claim, doc: Document, article_id: str, actor_ids: dict[str, str]) -> dict:
    source = f"according to {claim.attributed_to}" if claim.attributed_to else "asserted by the author"
    return _entity(
        ftm_id("claim", claim.id), "Note", name=f"Claim {source}", description=claim.text,
        entity=[article_id] + ([actor_ids[claim.attributed_to]] if claim.attributed_to in actor_ids else []),
        proof=article_id, publisher=claim.attributed_to, keywords=["claim"] + (["hedged"] if claim.hedged else []),
        notes=f"check-worthiness {claim.checkworthiness:.2f}; {doc.title or doc.name}, characters {claim.start}-{claim.end}")


def _language(code: str | None) -> str | None:
    """Return the ISO 639-3 code FtM uses for an ISO 639-1 code ("en" → "eng"), or None."""
    if not code:
        return None
    from lingua import IsoCode639_1, Language

    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.split("-")[0].upper())).iso_code_639_3.name.lower()
    except (AttributeError, ValueError):
        return None
