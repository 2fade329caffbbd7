"""Exports of the analysed store; the JSON export follows the stable contract in DESIGN.md."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .records import Claim, Document, Event
from .store import Store

FORMATS = ("json", "acled-csv", "claimreview", "stix", "ftm", "gexf", "graphml")
ACLED_COLUMNS = (
    "event_id_cnty", "event_date", "year", "time_precision", "event_type", "sub_event_type", "actor1", "assoc_actor_1",
    "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "country", "location", "latitude", "longitude",
    "geo_precision", "source", "notes", "fatalities", "tags",
)


def export_dict(store: Store) -> dict:
    """Return the JSON export as a dict of sorted arrays with stable ids."""
    from .extract.claims import sourcing_profile
    from .versions import technique_status

    docs = store.documents()
    versions = {m["id"]: m["analysis_version"] for m in store.document_metadata()}
    texts = {d.id: d.text for d in docs}
    all_claims = store.claims()
    claims_by_doc: dict[str, list] = {}
    for c in all_claims:
        claims_by_doc.setdefault(c.doc, []).append(c)
    out = {
        "documents": [
            {**_document_json(d), "sourcing": sourcing_profile(claims_by_doc.get(d.id, [])),
             # Whether persuasion techniques were looked for: analysed, unsupported_language, skipped, not_analysed.
             "techniques_status": technique_status(d.language, versions.get(d.id))}
            for d in docs
        ],
        "actors": [
            {"id": a.id, "name": a.name, "kind": a.kind, "aliases": list(a.aliases), "country": a.country, "known": a.known}
            for a in store.actors()
        ],
        "mentions": [
            {"doc": m.doc, "start": m.start, "end": m.end, "text": m.text, "label": m.label, "actor": m.actor,
             "extractor": m.extractor, "confidence": m.confidence}
            for m in store.mentions()
        ],
        "events": [_event_json(e) for e in store.events()],
        "claims": [_claim_json(c) for c in all_claims],
        "stances": [
            {"doc": x.doc, "actor": x.actor, "score": x.score, **_evidence_json(texts[x.doc], x.evidence),
             "extractor": x.extractor, "confidence": x.confidence, **({"relayed_from": x.relayed_from} if x.relayed_from else {})}
            for x in store.stances()
        ],
        "held_stances": [
            {"doc": x.doc, "holder": x.holder, "actor": x.actor, "score": x.score, **_evidence_json(texts[x.doc], x.evidence),
             "extractor": x.extractor, "confidence": x.confidence}
            for x in store.held_stances()
        ],
        "narratives": [
            {"doc": x.doc, "narrative": x.narrative, "mode": x.mode, "score": x.score, **_evidence_json(texts[x.doc], x.evidence),
             "extractor": x.extractor}
            for x in store.narratives()
        ],
        "techniques": [
            {"doc": x.doc, "technique": x.technique, "start": x.start, "end": x.end, "text": x.text, "score": x.score, "extractor": x.extractor}
            for x in store.techniques()
        ],
        "ttps": [
            {"doc": x.doc, "disarm_id": x.disarm_id, "name": x.name, "start": x.start, "end": x.end, "evidence": x.evidence,
             "confidence": x.confidence, "extractor": x.extractor}
            for x in store.ttps()
        ],
        "links": [{"id": x.id, "kind": x.kind, "items": list(x.items), "detail": x.detail, "score": x.score} for x in store.links()],
    }
    for array, key in SORT_KEYS.items():
        out[array].sort(key=key)
    add_reviews(store, out)
    return out


# The order of each array of the JSON export (stable across runs).
SORT_KEYS = {
    "documents": lambda d: d["id"],
    "actors": lambda a: a["id"],
    "mentions": lambda m: (m["doc"], m["start"], m["end"], m["label"]),
    "events": lambda e: (e["doc"], e["start"], e["id"]),
    "claims": lambda c: (c["doc"], c["start"], c["id"]),
    "stances": lambda x: (x["doc"], x["actor"]),
    "held_stances": lambda x: (x["doc"], x["holder"], x["actor"]),
    "narratives": lambda x: (x["doc"], x["narrative"], x["mode"]),
    "techniques": lambda x: (x["doc"], x["start"], x["end"], x["technique"]),
    "ttps": lambda x: (x["doc"], x["start"], x["disarm_id"]),
    "links": lambda x: x["id"],
}


def _document_json(d: Document) -> dict:
    """Return a document's metadata as the JSON export gives it."""
    return {
        "id": d.id, "name": d.name, "path": d.path, "title": d.title, "language": d.language,
        "published": d.published, "published_estimated": d.published_estimated, "authors": list(d.authors),
        "genre": d.genre, "url": d.url, "outlet": d.outlet, "words": d.words,
    }


def _event_json(e: Event) -> dict:
    """Return an event as the JSON export gives it: its type and ACLED coding, date, actors and roles, place, evidence."""
    return {
        "id": e.id, "doc": e.doc, "type": e.type, "acled_event_type": e.acled_event_type,
        "acled_sub_event_type": e.acled_sub_event_type, "date": e.date, "date_precision": e.date_precision,
        "geo_precision": e.geo_precision, "time_precision": e.time_precision,
        "actors": [a.name for a in e.actors], "roles": {a.name: a.role for a in e.actors},
        "actor_types": {a.name: a.actor_type for a in e.actors if a.actor_type},
        "location": e.location, "latitude": e.latitude, "longitude": e.longitude,
        "fatalities": e.fatalities, "fatalities_qualifier": e.fatalities_qualifier, "modality": e.modality,
        "start": e.start, "end": e.end, "evidence": e.evidence, "trigger": e.trigger,
        "extractor": e.extractor, "confidence": e.confidence,
    }


def _claim_json(c: Claim) -> dict:
    """Return a claim as the JSON export gives it: its text, figures, source and hedges."""
    return {
        "id": c.id, "doc": c.doc, "start": c.start, "end": c.end, "text": c.text,
        "checkworthiness": c.checkworthiness,
        "quantities": [{"text": q.text, "value": q.value, "unit": q.unit, "qualifier": q.qualifier, "start": q.start, "end": q.end,
                        "upper": q.upper}
                       for q in c.quantities],
        "attributed_to": c.attributed_to, "attribution_text": c.attribution_text, "reporting_verb": c.reporting_verb,
        "relayed_by": c.relayed_by, "hedged": c.hedged, "hedges": list(c.hedges), "extractor": c.extractor, "confidence": c.confidence,
    }


def _evidence_json(text: str, spans: tuple[tuple[int, int], ...]) -> dict:
    """Return the evidence of a stance or narrative: the quoted words and their (start, end) spans in the text."""
    return {"evidence": [text[a:b] for a, b in spans], "evidence_spans": [list(e) for e in spans]}


# Arrays of the JSON export and the record kind of their items, for analyst corrections.
REVIEWED = {"actors": "actor", "mentions": "mention", "events": "event", "claims": "claim", "stances": "stance",
            "narratives": "narrative", "techniques": "technique", "ttps": "ttp", "links": "link"}


def add_reviews(store: Store, out: dict) -> None:
    """Once corrections exist, give every record of an export dict its `review` (unreviewed, confirmed, corrected)
    and add the `corrections` log (DESIGN.md's contract); an export of a database without corrections is unchanged."""
    from .corrections import list_corrections, record_key, review_states

    log = [c for c in list_corrections(store) if c.state != "undone"]
    if not log:
        return
    states = review_states(store)
    item_keys = {x["id"]: record_key(kind, x) for name, kind in (("events", "event"), ("claims", "claim")) for x in out[name]}
    for name, kind in REVIEWED.items():
        for item in out[name]:
            item["review"] = states.get(record_key(kind, item, item_keys), "unreviewed")
    out["corrections"] = [c.as_json() for c in log]


def export(store: Store, fmt: str, out: str | Path) -> Path:
    """Write the store in a format to a file; return the path written."""
    from .errors import AtlasError

    if fmt not in FORMATS:
        raise AtlasError(f"unknown export format '{fmt}'; choose one of: {', '.join(FORMATS)}")
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "json":
        data = export_dict(store)
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    elif fmt == "claimreview":
        tmp.write_text(json.dumps(claimreview(store), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    elif fmt == "stix":
        from .interchange.stix import stix_bundle

        tmp.write_text(json.dumps(stix_bundle(store), ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    elif fmt == "ftm":
        from .interchange.ftm import ftm_entities

        tmp.write_text("".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in ftm_entities(store)), encoding="utf-8")
    elif fmt in ("gexf", "graphml"):
        from .interchange.graph import write_actor_graph

        write_actor_graph(store, fmt, tmp)
    else:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(ACLED_COLUMNS)
            writer.writerows(acled_rows(store))
    tmp.replace(path)
    return path


def acled_rows(store: Store) -> list[list]:
    """Return ACLED-style rows, one per dated event (ACLED codes only dated events), sorted by date.

    event_type/sub_event_type are the event's ACLED coding (extract/acled.py), else the default
    ontology/acled.yaml gives its project type. inter1/inter2 are ACLED's actor-type codes of
    actor1/actor2 (1 state forces ... 8 external forces, 0 none) and `interaction` their pair.
    time_precision: 1 = the day, 2 = a span of days or a week, 3 = a month or wider.
    geo_precision: 1 = the named town or village, 2 = near it or a part of a region, 3 = only a
    region or the country.
    """
    from .ontology.acled import load_acled_taxonomy
    from .ontology.events import load_actor_types

    tax = load_acled_taxonomy()
    # Unnamed parties ("gunmen", "the army") carry the actor type the text gave them; its inter code wins.
    inter_of_type = {t.id: t.inter for t in load_actor_types().types}
    docs = {d.id: d for d in store.documents()}
    actors = {a.name: a for a in store.actors()}
    countries = {a.name: a.country for a in actors.values()}
    rows = []
    for e in store.events():
        if not e.date:
            continue
        mapping = tax.project_types.get(e.type) or tax.project_types["other"]
        sub = e.acled_sub_event_type or mapping.default
        event_type = e.acled_event_type or tax.sub_type(sub).event_type
        agents = [a.name for a in e.actors if a.role == "agent"] or [a.name for a in e.actors][:1]
        others = [a.name for a in e.actors if a.name not in agents]
        targets = [a.name for a in e.actors if a.role == "target"] or others[:1]
        assoc2 = [n for n in others if n not in targets]
        first_day = e.date + ("-01-01" if len(e.date) == 4 else "-01" if len(e.date) == 7 else "")
        country = countries.get(e.location or "") or next((countries.get(n) for n in agents + targets if countries.get(n)), None) or ""
        typed = {a.name: inter_of_type[a.actor_type] for a in e.actors if a.actor_type in inter_of_type}
        inter1 = typed.get(agents[0]) if agents and agents[0] in typed else \
            _inter_code(actors.get(agents[0]) if agents else None, country, event_type, tax.inter_codes)
        inter2 = typed.get(targets[0]) if targets and targets[0] in typed else \
            _inter_code(actors.get(targets[0]) if targets else None, country, event_type, tax.inter_codes)
        tags = [t for t in (e.modality if e.modality != "asserted" else "", f"date:{e.date_precision}" if e.date_precision != "day" else "",
                            f"fatalities:{e.fatalities_qualifier}" if e.fatalities_qualifier else "") if t]
        doc = docs.get(e.doc)
        rows.append([
            e.id, first_day, e.date[:4], e.time_precision or _time_precision(e.date_precision), event_type, sub,
            agents[0] if agents else "", "; ".join(agents[1:]), inter1, targets[0] if targets else "", "; ".join(assoc2), inter2,
            _interaction(inter1, inter2), country, e.location or "", "" if e.latitude is None else e.latitude,
            "" if e.longitude is None else e.longitude, e.geo_precision or _geo_precision(e, actors), (doc.title or doc.name) if doc else e.doc, e.evidence,
            e.fatalities if e.fatalities is not None else 0, "; ".join(tags),
        ])
    rows.sort(key=lambda r: (r[1], r[0]))
    return rows


def _time_precision(precision: str | None) -> int:
    """ACLED's time_precision of a date precision: 1 day, 2 week or span of days, 3 month or wider."""
    return {"day": 1, "week": 2, "span": 2, "days": 2}.get(precision or "", 3)


def _geo_precision(e, actors: dict) -> int | str:
    """ACLED's geo_precision of an event's place: 1 the town itself, 2 near it, 3 a region or the country; blank if none."""
    import re

    from .ontology.acled import load_acled_taxonomy

    if not e.location:
        return ""
    actor = actors.get(e.location)
    if actor is not None and actor.kind == "state":
        return 3
    tax = load_acled_taxonomy()
    near = re.search(rf"\b{tax.near_place}\s+(?:{tax.near_place_articles}\s+)?(?:\w+\s+){{0,2}}" + re.escape(e.location), e.evidence, re.I)
    if near:
        return 2
    return 1 if e.latitude is not None else 2


def _inter_code(actor, country: str, event_type: str, codes: dict[str, int]) -> int:
    """ACLED's actor-type code of an actor in an event of a country (0 when there is no actor)."""
    if actor is None:
        return 0
    code = codes.get(actor.kind, 0)
    if code in (1, 2) and actor.country and country and actor.country != country:
        return 8
    if code == 7 and event_type == "Protests":
        return 6
    if code == 7 and event_type == "Riots":
        return 5
    return code


def _interaction(inter1: int, inter2: int) -> int:
    """ACLED's interaction code: the two actor-type codes, lower first (a lone actor: its code times ten)."""
    if not inter2:
        return inter1 * 10
    low, high = sorted((inter1, inter2))
    return low * 10 + high


def claimreview(store: Store) -> dict:
    """Return the claims as schema.org Claim objects in JSON-LD (text, appearance, author, date); no rating is invented.

    The author is the source the text gives (an Organization or Person when the source is a known
    actor) or, for a claim the document asserts itself, the document's authors; the appearance is
    the document (its URL when known) with the claim's character offsets.
    """
    docs = {d.id: d for d in store.documents()}
    kinds = {a.name: a.kind for a in store.actors(mentioned_only=False)}
    graph = []
    for c in store.claims():
        d = docs[c.doc]
        if c.attributed_to:
            kind = kinds.get(c.attributed_to)
            author = {"@type": "Person" if kind == "person" else "Organization" if kind else "Thing", "name": c.attributed_to}
        elif d.authors:
            author = [{"@type": "Person", "name": a} for a in d.authors]
        else:
            author = {"@type": "Organization", "name": d.outlet or d.title or d.name}
        appearance = {"@type": "CreativeWork", "name": d.title or d.name, "identifier": f"atlas:document:{d.id}#{c.start}-{c.end}"}
        if d.url:
            appearance["url"] = d.url
        if d.published:
            appearance["datePublished"] = d.published
        item = {"@type": "Claim", "@id": f"atlas:claim:{c.id}", "text": c.text, "appearance": appearance, "author": author}
        if d.published:
            item["datePublished"] = d.published
        if c.reporting_verb:
            item["description"] = f"attributed via '{c.attribution_text}'" if c.attribution_text else c.reporting_verb
        graph.append(item)
    return {"@context": "https://schema.org", "@graph": graph}
