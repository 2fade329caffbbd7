"""Analyst corrections that survive re-analysis: the analyst has the last word.

A correction names its target by a stable key built from the document id, the record kind and the evidence span
or content (never a row id), so that it finds its record again after the records are extracted anew. Corrections
are replayed in the order they were made: after extraction (records of the analysed documents) and after
reconciliation (cross-document links). A correction whose target is gone is marked orphaned and listed, never
dropped. Every write (a new correction and what it changes, an undo, a replay) is one transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import datetime, timezone
from collections.abc import Mapping
from typing import Iterable

from .errors import AtlasError
from .extract.dates import date_span
from .ontology.events import event_type_ids
from .ontology.narratives import load_taxonomy
from .reconcile.events import link_id
from .records import Actor, EventActor, Link, NarrativeHit, Stance
from .store import Store
from .store.db import NATURAL_KEYS, RecordChanges

KINDS = ("event", "claim", "mention", "stance", "narrative", "technique", "ttp", "link", "actor")
OPERATIONS = ("reject", "edit", "merge", "split", "confirm", "add_link", "add_narrative")
# What an analyst may edit, by record kind; anything else is rejected or confirmed as a whole.
EDITABLE = {
    "event": ("type", "date", "location", "fatalities", "actors"),
    "claim": ("attributed_to", "hedged"),
    "stance": ("score",),
    "narrative": ("mode",),
}
LINK_KINDS = {"same_event": "event", "contradicts": "claim", "corroborates": "claim"}
NARRATIVE_MODES = ("endorsed", "reported")
EVENT_ROLES = ("agent", "target", "other")
STATES = ("applied", "orphaned", "undone")
# The extractor name records an analyst adds carry.
ANALYST = "analyst"
# Spans overlapping at least this much (intersection over union) are the same record told with a re-cut span.
MIN_OVERLAP = 0.5
_SPANNED = {"event": "type", "claim": None, "mention": None, "technique": "technique", "ttp": "disarm_id"}


class CorrectionError(AtlasError):
    """A correction cannot be made: unknown record or correction, or an invalid value; the message says which."""


class UnknownRecord(CorrectionError):
    """The record or correction the user named does not exist."""


@dataclass(frozen=True, slots=True)
class Correction:
    """One analyst correction: who made it and when, its target (kind and stable key), operation, fields, reason, state."""

    id: str
    who: str
    when: str
    kind: str
    key: str
    doc: str | None
    target: dict
    operation: str
    fields: dict
    reason: str
    state: str
    affected: tuple[str, ...] = ()

    def as_json(self) -> dict:
        """Return the correction as the JSON export and the correction files carry it."""
        return {"id": self.id, "who": self.who, "when": self.when, "target": {"kind": self.kind, "key": self.key, **self.target},
                "operation": self.operation, "fields": self.fields, "reason": self.reason, "state": self.state}


@dataclass(slots=True)
class ReplayReport:
    """What a replay did: the ids of the corrections applied and of those whose target is gone (orphaned)."""

    applied: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)


# -- stable keys -----------------------------------------------------------------------------------

def _get(record, name: str):
    return record[name] if isinstance(record, Mapping) else getattr(record, name)


def _digest(parts: Iterable[str]) -> str:
    return hashlib.sha1("\n".join(sorted(parts)).encode()).hexdigest()[:16]


def record_key(kind: str, record, item_keys: dict[str, str] | None = None) -> str:
    """Return the stable key of a record (a dataclass or its export dict): kind, document, span and content.

    A link's key is built from its kind and the keys of its items (`item_keys` maps event and claim ids to keys).
    """
    if kind == "actor":
        return f"actor|{_get(record, 'name')}"
    if kind == "link":
        items = [(item_keys or {}).get(i, i) for i in _get(record, "items")]
        return f"link|{_get(record, 'kind')}|{_digest(items)}"
    doc = _get(record, "doc")
    if kind == "stance":
        return f"stance|{doc}|{_get(record, 'actor')}"
    if kind == "narrative":
        return f"narrative|{doc}|{_get(record, 'narrative')}|{_get(record, 'mode')}"
    span = f"{_get(record, 'start')}-{_get(record, 'end')}"
    extra = _SPANNED[kind]
    return "|".join([kind, doc, span] + ([str(_get(record, extra))] if extra else []))


def _target(kind: str, record, item_targets: list[dict] | None = None) -> dict:
    """Return what a correction remembers of its target: the fields of its key and the words it stands on."""
    if kind == "actor":
        return {"name": record.name}
    if kind == "link":
        return {"link_kind": record.kind, "items": item_targets or []}
    if kind == "stance":
        return {"doc": record.doc, "actor": record.actor}
    if kind == "narrative":
        return {"doc": record.doc, "narrative": record.narrative, "mode": record.mode,
                "evidence": [list(e) for e in record.evidence]}
    out = {"doc": record.doc, "start": record.start, "end": record.end}
    if _SPANNED[kind]:
        out[_SPANNED[kind]] = getattr(record, _SPANNED[kind])
    text = getattr(record, "evidence", None) if kind in ("event", "ttp") else getattr(record, "text", None)
    if kind == "event":
        out["trigger"] = record.trigger
    if text:
        out["text"] = text[:300]
    return out


def _key_of_target(kind: str, target: dict) -> str:
    if kind == "link":
        return f"link|{target['link_kind']}|{_digest(t['key'] for t in target['items'])}"
    return record_key(kind, target)


# -- the records a replay works on ------------------------------------------------------------------

class _Working:
    """The records of some documents (and every link and actor), changed in memory and written back in one go."""

    def __init__(self, store: Store, docs: set[str] | None):
        self.store = store
        self.docs = docs
        self.records: dict[str, dict[tuple, object]] = {}
        for kind in ("event", "claim", "mention", "stance", "narrative", "technique", "ttp"):
            found = []
            for doc in (sorted(docs) if docs is not None else [None]):
                found.extend(self._read(kind, doc))
            self.records[kind] = {self.nkey(kind, r): r for r in found}
        self.records["link"] = {(x.id,): x for x in store.links()}
        self.actors = {a.name: a for a in store.actors(mentioned_only=False)}
        self.original = {kind: dict(v) for kind, v in self.records.items()}
        self.original_actors = dict(self.actors)
        self.known_docs = {m["id"] for m in store.document_metadata(sorted(docs) if docs is not None else None)}

    def _read(self, kind: str, doc: str | None) -> list:
        reader = {"event": self.store.events, "claim": self.store.claims, "mention": self.store.mentions,
                  "stance": self.store.stances, "narrative": self.store.narratives, "technique": self.store.techniques,
                  "ttp": self.store.ttps}[kind]
        return reader(doc)

    @staticmethod
    def nkey(kind: str, record) -> tuple:
        return tuple(getattr(record, c) for c in NATURAL_KEYS[kind])

    def put(self, kind: str, record, old=None) -> None:
        if old is not None:
            self.records[kind].pop(self.nkey(kind, old), None)
        self.records[kind][self.nkey(kind, record)] = record

    def remove(self, kind: str, record) -> None:
        self.records[kind].pop(self.nkey(kind, record), None)

    def item_keys(self) -> dict[str, str]:
        out = {e.id: record_key("event", e) for e in self.records["event"].values()}
        out.update({c.id: record_key("claim", c) for c in self.records["claim"].values()})
        return out

    def find(self, kind: str, target: dict, key: str):
        """Return the record a target names: the same key, else (spanned kinds) the same document and content with
        the most overlapping span; None when it is gone."""
        if kind == "link":
            return self.find_link(target)
        if kind == "actor":
            return self.actors.get(target["name"])
        doc = target.get("doc")
        candidates = [r for r in self.records[kind].values() if r.doc == doc]
        for r in candidates:
            if record_key(kind, r) == key:
                return r
        if kind not in _SPANNED:
            return None
        extra = _SPANNED[kind]
        best, best_overlap = None, MIN_OVERLAP
        for r in candidates:
            if extra and getattr(r, extra) != target.get(extra) and not (kind == "event" and r.trigger == target.get("trigger")):
                continue
            inter = min(r.end, target["end"]) - max(r.start, target["start"])
            union = max(r.end, target["end"]) - min(r.start, target["start"])
            overlap = inter / union if union > 0 else 0.0
            if overlap >= best_overlap:
                best, best_overlap = r, overlap
        return best

    def resolve_items(self, targets: list[dict]) -> list[str] | None:
        ids = []
        for t in targets:
            found = self.find(t["kind"], t, t["key"])
            if found is None:
                return None
            ids.append(found.id)
        return ids

    def find_link(self, target: dict):
        ids = self.resolve_items(target["items"])
        if ids is None:
            return None
        wanted = set(ids)
        for link in self.records["link"].values():
            if link.kind == target["link_kind"] and (set(link.items) == wanted or
                                                     (link.kind == "same_event" and wanted <= set(link.items))):
                return link
        return None

    def drop_from_links(self, record_id: str) -> None:
        for link in list(self.records["link"].values()):
            if record_id in link.items:
                rest = tuple(i for i in link.items if i != record_id)
                self.remove("link", link)
                if len(rest) >= 2:
                    self.put("link", replace(link, id=link_id(link.kind, list(rest)), items=rest))

    def changes(self) -> RecordChanges:
        out = RecordChanges()
        for kind, now in self.records.items():
            before = self.original[kind]
            gone = [k for k, r in before.items() if k not in now or now[k] != r]
            new = [r for k, r in now.items() if k not in before or before[k] != r]
            if gone:
                out.delete[kind] = gone
            if new:
                out.put[kind] = new
        out.actors = [a for n, a in self.actors.items() if self.original_actors.get(n) != a]
        out.delete_actors = sorted(n for n in self.original_actors if n not in self.actors)
        return out


# -- operations -------------------------------------------------------------------------------------

def _apply(work: _Working, c: Correction) -> list[str] | None:
    """Apply one correction to the working records; return the keys of the records it leaves touched, or None
    when its target is gone."""
    if c.operation == "add_link":
        ids = work.resolve_items(c.fields["items"])
        if ids is None:
            return None
        kind = c.fields["link_kind"]
        link = Link(link_id(kind, ids), kind, tuple(sorted(ids)), f"added by {c.who}" + (f": {c.reason}" if c.reason else ""), 1.0)
        work.put("link", link)
        return [record_key("link", link, work.item_keys())]
    if c.operation == "add_narrative":
        if c.doc not in work.known_docs:
            return None
        hit = NarrativeHit(c.doc, c.target["narrative"], c.target["mode"], 1.0,
                           tuple(tuple(e) for e in c.target.get("evidence", [])), ANALYST)
        old = work.records["narrative"].get(work.nkey("narrative", hit))
        work.put("narrative", hit, old)
        return [record_key("narrative", hit)]
    if c.operation in ("merge", "split"):
        return _apply_actor(work, c)
    record = work.find(c.kind, c.target, c.key)
    if record is None:
        return None
    if c.operation == "confirm":
        return [record_key(c.kind, record, work.item_keys() if c.kind == "link" else None)]
    if c.operation == "reject":
        work.remove(c.kind, record)
        if c.kind in ("event", "claim"):
            work.drop_from_links(record.id)
        return []
    # edit
    values = dict(c.fields)
    if c.kind == "event":
        values.update(_event_follow_ups(record, values))
        if "date" in values:
            values["date_precision"] = _date_precision(values["date"])
        if "location" in values:
            values.update(latitude=None, longitude=None)
        if "fatalities" in values:
            values["fatalities_qualifier"] = None
        if "actors" in values:
            values["actors"] = tuple(EventActor(n, r) for n, r in values["actors"])
    if c.kind == "stance":
        values["confidence"] = 1.0
    new = replace(record, **values)
    if c.kind == "narrative":
        other = work.records["narrative"].get(work.nkey("narrative", new))
        if other is not None and other is not record:
            new = replace(new, score=max(new.score, other.score), evidence=tuple(sorted(set(new.evidence) | set(other.evidence))))
    work.put(c.kind, new, record)
    return [record_key(c.kind, new)]


def _apply_actor(work: _Working, c: Correction) -> list[str] | None:
    """Merge an actor into another, or split an alias off an actor, over the working records."""
    name, into, merge = c.target["name"], c.fields["into"], c.operation == "merge"
    alias = None if merge else c.fields["alias"]
    relinked = {(m.doc, m.start, m.end) for m in work.records["mention"].values()
                if m.actor == name and (merge or m.text.casefold() == alias.casefold())}
    if not (relinked or (merge and name in work.actors)):
        return None
    touched = _relink_mentions(work, relinked, into)
    touched += _rename_event_actor(work, name, into, None if merge else relinked)
    for cl in list(work.records["claim"].values()):
        if cl.attributed_to == name and (alias is None or (cl.attribution_text or "").casefold().find(alias.casefold()) >= 0):
            new = replace(cl, attributed_to=into)
            work.put("claim", new, cl)
            touched.append(record_key("claim", new))
    if merge:
        touched += _merge_stances(work, name, into)
    _rename_in_actor_table(work, name, into, alias)
    touched.append(f"actor|{into}")
    return touched


def _relink_mentions(work: _Working, relinked: set[tuple[str, int, int]], into: str) -> list[str]:
    """Link the mentions at `relinked` (doc, start, end) to `into`; return their keys."""
    touched = []
    for m in list(work.records["mention"].values()):
        if (m.doc, m.start, m.end) in relinked:
            new = replace(m, actor=into)
            work.put("mention", new, m)
            touched.append(record_key("mention", new))
    return touched


def _rename_event_actor(work: _Working, name: str, into: str, split: set[tuple[str, int, int]] | None) -> list[str]:
    """Rename an event party `name` to `into` (once per event); for a split (`split`: the relinked mentions) only in
    events told around a relinked mention with no other mention of the actor. Return the events' keys."""
    touched = []
    for e in list(work.records["event"].values()):
        if name not in [a.name for a in e.actors]:
            continue
        if split is not None:
            inside = [k for k in split if k[0] == e.doc and e.start <= k[1] and k[2] <= e.end]
            others = [m for m in work.records["mention"].values()
                      if m.doc == e.doc and m.actor == name and e.start <= m.start and m.end <= e.end]
            if not inside or others:
                continue
        seen, actors = set(), []
        for a in e.actors:
            n = into if a.name == name else a.name
            if n not in seen:
                seen.add(n)
                actors.append(EventActor(n, a.role))
        new = replace(e, actors=tuple(actors))
        work.put("event", new, e)
        touched.append(record_key("event", new))
    return touched


def _merge_stances(work: _Working, name: str, into: str) -> list[str]:
    """Move each document's stance toward `name` to `into`, averaged by confidence with one it already has; return keys."""
    touched = []
    for s in list(work.records["stance"].values()):
        if s.actor != name:
            continue
        other = work.records["stance"].get((s.doc, into))
        merged = Stance(s.doc, into, s.score, s.evidence, s.extractor, s.confidence, relayed_from=s.relayed_from)
        if other is not None:
            weight = s.confidence + other.confidence or 1.0
            merged = Stance(s.doc, into, round((s.score * s.confidence + other.score * other.confidence) / weight, 4),
                            tuple(sorted(set(s.evidence) | set(other.evidence))), other.extractor, max(s.confidence, other.confidence),
                            relayed_from=other.relayed_from or s.relayed_from)
        work.remove("stance", s)
        work.put("stance", merged)
        touched.append(record_key("stance", merged))
    return touched


def _rename_in_actor_table(work: _Working, name: str, into: str, alias: str | None) -> None:
    """Update the actors table: a merged name becomes an alias of `into`; a split alias becomes an actor of its own."""
    source = work.actors.get(name)
    if alias is None:
        target = work.actors.get(into) or Actor(into, source.kind if source else "unknown", (), source.country if source else None, False)
        aliases = list(target.aliases) + [name] + list(source.aliases if source else ())
        work.actors[into] = replace(target, aliases=tuple(dict.fromkeys(a for a in aliases if a != into)))
        work.actors.pop(name, None)
        return
    if source is not None:
        work.actors[name] = replace(source, aliases=tuple(a for a in source.aliases if a.casefold() != alias.casefold()))
    if into not in work.actors:
        work.actors[into] = Actor(into, source.kind if source else "unknown", (alias,) if alias != into else (),
                                  source.country if source else None, False)


def _event_follow_ups(event, values: dict) -> dict:
    """Return the fields an event edit changes along with the ones the analyst set: ACLED's time precision follows the
    date, the geo precision is unknown for a new place, and an ACLED sub-type the new type does not allow is dropped
    (the export then codes the event with the new type's default)."""
    have = {f.name for f in dataclass_fields(event)}
    out = {}
    if "date" in values and "time_precision" in have:
        out["time_precision"] = None if not values["date"] else 1 if len(values["date"]) == 10 else 3
    if "location" in values and "geo_precision" in have:
        out["geo_precision"] = None
    sub = getattr(event, "acled_sub_event_type", None)
    if "type" in values and sub:
        from .ontology.acled import load_acled_taxonomy

        tax = load_acled_taxonomy()
        mapping = tax.project_types.get(values["type"]) or tax.project_types.get("other")
        try:
            names = {tax.sub_type(sub).name, tax.sub_type(sub).code}
        except KeyError:
            names = set()
        if mapping is None or not names & set(mapping.allowed):
            out.update(acled_event_type=None, acled_sub_event_type=None)
    return out


def _date_precision(value: str | None) -> str | None:
    if not value:
        return None
    return {4: "year", 7: "month", 10: "day"}[len(value)]


# -- validation -------------------------------------------------------------------------------------

def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _check_fields(kind: str, fields: dict) -> dict:
    """Return edit fields checked and normalised; raises CorrectionError naming the field and what it may hold."""
    allowed = EDITABLE.get(kind)
    if not allowed:
        editable = "; ".join(f"{k}: {', '.join(v)}" for k, v in EDITABLE.items())
        raise CorrectionError(f"{_a(kind)} cannot be edited (editable fields: {editable}); reject or confirm it instead")
    if not fields:
        raise CorrectionError(f"nothing to edit: give one or more of {', '.join(allowed)}")
    out = {}
    for name, value in fields.items():
        if name not in allowed:
            raise CorrectionError(f"'{name}' is not an editable field of {_a(kind)}; editable: {', '.join(allowed)}")
        if isinstance(value, str) and value.strip().lower() in ("", "null", "none"):
            value = None
        out[name] = _check_value(kind, name, value)
    return out


def _check_value(kind: str, name: str, value):
    def bad(what: str):
        return CorrectionError(f"invalid {kind} {name} {value!r}: {what}")

    if kind == "event" and name == "type":
        if value not in event_type_ids():
            raise bad(f"use one of {', '.join(event_type_ids())}")
        return value
    if kind == "event" and name == "date":
        if value is None:
            return None
        value = str(value).strip()
        if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value) or date_span(value) is None:
            raise bad("use YYYY, YYYY-MM or YYYY-MM-DD (a real date)")
        return value
    if kind == "event" and name == "location":
        return None if value is None else str(value).strip() or None
    if kind == "event" and name == "fatalities":
        if value is None:
            return None
        try:
            number = int(str(value).strip())
        except ValueError:
            raise bad("use a whole number of people, 0 or more, or null") from None
        if number < 0:
            raise bad("a toll cannot be negative")
        return number
    if kind == "event" and name == "actors":
        return _check_event_actors(value, bad)
    if kind == "claim" and name == "attributed_to":
        return None if value is None else str(value).strip() or None
    if kind == "claim" and name == "hedged":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "yes", "1"):
            return True
        if str(value).lower() in ("false", "no", "0"):
            return False
        raise bad("use true or false")
    if kind == "stance" and name == "score":
        try:
            score = float(value)
        except (TypeError, ValueError):
            raise bad("use a number from -2 (hostile) to 2 (favourable)") from None
        if not -2 <= score <= 2:
            raise bad("a stance score lies from -2 to 2")
        return score
    if kind == "narrative" and name == "mode":
        if value not in NARRATIVE_MODES:
            raise bad(f"use {' or '.join(NARRATIVE_MODES)}")
        return value
    raise bad("not editable")  # pragma: no cover (EDITABLE lists every case above)


def _check_event_actors(value, bad) -> list[list[str]]:
    """Return an event's parties as [name, role] pairs, once each, from names, NAME:ROLE strings or pairs; raises
    `bad(...)` otherwise."""
    items = value if isinstance(value, (list, tuple)) else [] if value is None else str(value).split(",")
    out = []
    for item in items:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            n, role = item
        elif isinstance(item, str):  # NAME or NAME:ROLE
            n, _, role = item.rpartition(":") if ":" in item else (item, "", "other")
        else:
            raise bad("give names, NAME:ROLE strings or [name, role] pairs")
        n, role = str(n).strip(), str(role).strip() or "other"
        if role not in EVENT_ROLES:
            raise bad(f"role '{role}' of {n}: use {', '.join(EVENT_ROLES)} (NAME:ROLE)")
        if n and n not in [x[0] for x in out]:
            out.append([n, role])
    return out


# -- naming records ---------------------------------------------------------------------------------

def resolve_document(store: Store, ref: str) -> str:
    """Return the id of the document a reference names: its id, a unique id prefix (6+ characters) or its name."""
    metas = store.document_metadata()
    exact = [m["id"] for m in metas if m["id"] == ref]
    if exact:
        return exact[0]
    found = sorted({m["id"] for m in metas if m["name"] == ref} or
                   ({m["id"] for m in metas if m["id"].startswith(ref)} if len(ref) >= 6 else set()))
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise CorrectionError(f"'{ref}' names {len(found)} documents; give the full document id")
    raise UnknownRecord(f"no document '{ref}': give a document id (see `atlas export` or the web app) or a document name")


def _span(ref: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)-(\d+)", ref.strip())
    if not m or int(m.group(1)) >= int(m.group(2)):
        raise CorrectionError(f"'{ref}' is not a span: use START-END character offsets")
    return int(m.group(1)), int(m.group(2))


REF_FORMATS = {
    "event": "EVENT_ID (ev_...)", "claim": "CLAIM_ID (cl_...)", "link": "LINK_ID (ln_...)", "actor": "ACTOR_NAME",
    "stance": "DOC/ACTOR", "narrative": "DOC/NARRATIVE[/MODE]", "mention": "DOC/START-END",
    "technique": "DOC/START-END[/TECHNIQUE]", "ttp": "DOC/START-END[/DISARM_ID]",
}


def resolve_record(store: Store, kind: str, ref: str):
    """Return the stored record a user reference names (see REF_FORMATS); raises UnknownRecord when there is none."""
    if kind not in KINDS:
        raise CorrectionError(f"unknown record kind '{kind}': use one of {', '.join(KINDS)}")
    ref = (ref or "").strip()
    if not ref:
        raise CorrectionError(f"name the {kind}: {REF_FORMATS[kind]}")
    if kind in ("event", "claim", "link"):
        found = store.find_records(kind, id=ref)
    elif kind == "actor":
        found = [a for a in store.actors(mentioned_only=False) if a.name == ref]
    else:
        doc_ref, _, rest = ref.partition("/")
        if not rest:
            raise CorrectionError(f"name the {kind} as {REF_FORMATS[kind]}")
        doc = resolve_document(store, doc_ref)
        if kind == "stance":
            found = store.find_records("stance", doc=doc, actor=rest)
        elif kind == "narrative":
            narrative, _, mode = rest.partition("/")
            found = store.find_records("narrative", doc=doc, narrative=narrative, **({"mode": mode} if mode else {}))
        else:
            span, _, extra = rest.partition("/")
            start, end = _span(span)
            found = store.find_records(kind, doc=doc, start=start, end=end)
            if extra:
                found = [r for r in found if getattr(r, _SPANNED[kind] or "label") == extra]
    if not found:
        raise UnknownRecord(f"no {kind} '{ref}' in the database (name it as {REF_FORMATS[kind]})")
    if len(found) > 1:
        raise CorrectionError(f"'{ref}' names {len(found)} {kind}s; add the part that tells them apart ({REF_FORMATS[kind]})")
    return found[0]


def _item_targets(store: Store, link_kind: str, refs: Iterable[str]) -> list[dict]:
    item_kind = LINK_KINDS[link_kind]
    out = []
    for ref in refs:
        if (ref.startswith("ev_") and item_kind == "claim") or (ref.startswith("cl_") and item_kind == "event"):
            raise CorrectionError(f"a {link_kind} link joins {item_kind}s; '{ref}' is not one")
        record = resolve_record(store, item_kind, ref)
        out.append({"kind": item_kind, "key": record_key(item_kind, record), **_target(item_kind, record)})
    return out


# -- the public functions ---------------------------------------------------------------------------

def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _correction_id(who: str, when: str, key: str, operation: str, fields: dict, reason: str) -> str:
    body = json.dumps([who, when, key, operation, fields, reason], ensure_ascii=False, sort_keys=True)
    return "co_" + hashlib.sha1(body.encode()).hexdigest()[:16]


def _from_row(r: dict) -> Correction:
    return Correction(r["id"], r["who"], r["created_at"], r["kind"], r["key"], r["doc"], r["target"], r["operation"],
                      r["fields"], r["reason"], r["state"], tuple(r["affected"]))


def _row(c: Correction) -> dict:
    return {"id": c.id, "who": c.who, "created_at": c.when, "kind": c.kind, "key": c.key, "doc": c.doc, "target": c.target,
            "operation": c.operation, "fields": c.fields, "reason": c.reason, "state": c.state, "affected": list(c.affected)}


def _check_who(who: str | None) -> str:
    who = (who or "").strip()
    if not who:
        raise CorrectionError("say who makes the correction: --who NAME or $ATLAS_USER (the web app: the 'who' field)")
    if len(who) > 200 or any(not ch.isprintable() for ch in who):
        raise CorrectionError("the name of who corrects must be one printable line of at most 200 characters")
    return who


def build_correction(store: Store, operation: str, kind: str, ref: str | list[str] | None, fields: dict | None = None,
                     who: str | None = None, reason: str = "") -> Correction:
    """Return a new, checked correction (not yet stored): its target resolved from the user's reference.

    operation reject, confirm: `ref` names the record; edit: `fields` holds new values (EDITABLE);
    merge: `ref` the actor to merge, fields {"into": actor kept}; split: `ref` the actor, fields {"alias", "into"?};
    add_link: `kind` the link kind (same_event, contradicts, corroborates), `ref` the item ids;
    add_narrative: `ref` "DOC/NARRATIVE", fields {"mode", "evidence": [[start, end], ...]}.
    """
    who = _check_who(who)
    reason = (reason or "").strip()
    fields = dict(fields or {})
    if operation not in OPERATIONS:
        raise CorrectionError(f"unknown operation '{operation}': use one of {', '.join(OPERATIONS)}")
    if operation == "add_link":
        record_kind, key, target, fields = _new_link(store, kind, ref)
    elif operation == "add_narrative":
        record_kind, key, target, fields = _new_narrative(store, ref, fields)
    else:
        record_kind, key, target, fields = _existing_record(store, operation, kind, ref, fields)
    when = _now()
    return Correction(_correction_id(who, when, key, operation, fields, reason), who, when, record_kind, key,
                      target.get("doc") if record_kind != "link" else None, target, operation, fields, reason, "applied")


def _new_link(store: Store, kind: str, ref: str | list[str] | None) -> tuple[str, str, dict, dict]:
    """Return (record kind, key, target, fields) of a link an analyst adds between two or more records."""
    if kind not in LINK_KINDS:
        raise CorrectionError(f"unknown link kind '{kind}': use one of {', '.join(LINK_KINDS)}")
    refs = [r for r in ([ref] if isinstance(ref, str) else list(ref or [])) if r]
    if len(set(refs)) < 2:
        raise CorrectionError("a link joins at least two different records: give two ids or more")
    items = _item_targets(store, kind, dict.fromkeys(refs))
    target = {"link_kind": kind, "items": items}
    return "link", _key_of_target("link", target), target, {"link_kind": kind, "items": items}


def _new_narrative(store: Store, ref: str | list[str] | None, fields: dict) -> tuple[str, str, dict, dict]:
    """Return (record kind, key, target, fields) of a narrative an analyst adds to a document, with its evidence."""
    doc_ref, _, narrative = (ref or "").partition("/")
    doc = resolve_document(store, doc_ref)
    taxonomy = load_taxonomy().by_id()
    if narrative not in taxonomy:
        raise CorrectionError(f"unknown narrative '{narrative}': use one of {', '.join(sorted(taxonomy))}")
    mode = fields.get("mode", "endorsed")
    if mode not in NARRATIVE_MODES:
        raise CorrectionError(f"invalid narrative mode '{mode}': use {' or '.join(NARRATIVE_MODES)}")
    spans = [list(_span(s)) if isinstance(s, str) else [int(s[0]), int(s[1])] for s in fields.get("evidence", [])]
    length = len(store.documents([doc])[0].text)
    if not spans:
        raise CorrectionError("point at the words that carry the narrative: give an evidence span START-END")
    if any(not 0 <= a < b <= length for a, b in spans):
        raise CorrectionError(f"evidence spans must lie inside the document (0-{length})")
    target = {"doc": doc, "narrative": narrative, "mode": mode, "evidence": spans}
    return "narrative", record_key("narrative", target), target, {"mode": mode, "evidence": spans}


def _existing_record(store: Store, operation: str, kind: str, ref: str | list[str] | None,
                     fields: dict) -> tuple[str, str, dict, dict]:
    """Return (record kind, key, target, fields) of a correction to a stored record: reject, confirm, edit, or an
    actor's merge or split."""
    if operation in ("merge", "split"):
        kind = "actor"
    if isinstance(ref, list):
        ref = ref[0] if len(ref) == 1 else ""
    record = resolve_record(store, kind, ref or "")
    if operation in ("merge", "split") or kind == "actor":
        if operation not in ("merge", "split", "confirm"):
            raise CorrectionError("an actor can be merged into another, split or confirmed")
    if operation == "merge":
        into = str(fields.get("into") or "").strip()
        if into == record.name:
            raise CorrectionError("an actor cannot be merged into itself")
        resolve_record(store, "actor", into)
        fields = {"into": into}
    elif operation == "split":
        alias = str(fields.get("alias") or "").strip()
        if not alias:
            raise CorrectionError("name the alias to split off the actor")
        mentioned = {m.text.casefold() for m in store.find_records("mention", actor=record.name)}
        if alias.casefold() not in mentioned:
            raise UnknownRecord(f"no mention of {record.name} reads '{alias}'; the mentions read: "
                                f"{', '.join(sorted(mentioned)[:12]) or 'none'}")
        fields = {"alias": alias, "into": str(fields.get("into") or alias).strip()}
    elif operation == "edit":
        fields = _check_fields(kind, fields)
    else:
        fields = {}
    item_targets = None
    if kind == "link":
        item_kind = LINK_KINDS.get(record.kind, "event")
        item_targets = []
        for i in record.items:
            found = store.find_records(item_kind, id=i)
            if found:
                item_targets.append({"kind": item_kind, "key": record_key(item_kind, found[0]), **_target(item_kind, found[0])})
    target = _target(kind, record, item_targets)
    key = _key_of_target(kind, target) if kind == "link" else record_key(kind, record)
    return kind, key, target, fields


def add_correction(store: Store, operation: str, kind: str, ref, fields: dict | None = None, who: str | None = None,
                   reason: str = "") -> Correction:
    """Check a correction, store it and apply it to the records in one transaction; return it (state applied)."""
    return _store_and_apply(store, [build_correction(store, operation, kind, ref, fields, who, reason)])[0]


def _scope(c: Correction) -> set[str] | None:
    if c.operation in ("merge", "split"):
        return None
    if c.kind == "link":
        return {t["doc"] for t in c.target.get("items", [])}
    return {c.doc} if c.doc else None


def _store_and_apply(store: Store, new: list[Correction]) -> list[Correction]:
    docs: set[str] | None = set()
    for c in new:
        scope = _scope(c)
        docs = None if scope is None or docs is None else docs | scope
    with store.exclusive("corrections"):
        work = _Working(store, docs)
        done = []
        for c in new:
            touched = _apply(work, c)
            done.append(replace(c, state="orphaned" if touched is None else "applied", affected=tuple(touched or ())))
        store.write_corrections([_row(c) for c in done], work.changes())
    return done


def list_corrections(store: Store, states: Iterable[str] | None = None) -> list[Correction]:
    """Return the stored corrections in the order they were made (all, or those in the given states)."""
    return [_from_row(r) for r in store.corrections(states=states)]


def get_correction(store: Store, correction_id: str) -> Correction:
    """Return one correction by id; raises UnknownRecord when there is none."""
    found = store.corrections(ids=[correction_id])
    if not found:
        raise UnknownRecord(f"no correction '{correction_id}' (see `atlas correct list`)")
    return _from_row(found[0])


def undo(store: Store, correction_id: str) -> tuple[Correction, list[str]]:
    """Withdraw a correction: mark it undone and the documents it touched for re-analysis, in one transaction;
    return it and those documents (the next `atlas analyze` restores their extracted records)."""
    c = get_correction(store, correction_id)
    if c.state == "undone":
        raise CorrectionError(f"correction {c.id} is already undone")
    docs: set[str] = set()
    if c.operation != "confirm":
        docs |= {k.split("|")[1] for k in c.affected if not k.startswith(("link|", "actor|"))}
        docs |= {t["doc"] for t in c.target.get("items", [])} if c.kind == "link" else ({c.doc} if c.doc else set())
        if c.operation in ("merge", "split"):
            names = {c.target["name"], c.fields.get("into")}
            docs |= {m.doc for n in names if n for m in store.find_records("mention", actor=n)}
    done = replace(c, state="undone")
    store.write_corrections([_row(done)], stale=docs)
    return done, sorted(docs)


def _replay(store: Store, docs: set[str] | None, links: bool) -> ReplayReport:
    report = ReplayReport()
    active = [c for c in list_corrections(store, states=("applied", "orphaned"))
              if (c.kind == "link" or c.operation == "add_link") == links]
    if not active:
        return report
    with store.exclusive("corrections"):
        work = _Working(store, None if links else docs)
        done = []
        for c in active:
            in_scope = docs is None or links or c.operation in ("merge", "split") or c.doc in docs
            if not in_scope:
                continue
            touched = _apply(work, c)
            if touched is None and c.operation in ("merge", "split") and docs is not None:
                continue  # the actor may still appear in documents outside this replay: keep the state it had
            state = "orphaned" if touched is None else "applied"
            if c.operation in ("merge", "split") and docs is not None:
                touched = [k for k in c.affected if k.split("|")[1] not in docs] + list(touched or [])
            (report.orphaned if state == "orphaned" else report.applied).append(c.id)
            done.append(replace(c, state=state, affected=tuple(dict.fromkeys(touched or ()))))
        store.write_corrections([_row(c) for c in done], work.changes())
    return report


def replay_corrections(store: Store, docs: Iterable[str] | None = None) -> ReplayReport:
    """Re-apply the corrections of records (every kind but links) to the given documents' records (all when None),
    after their extraction; mark those whose target is gone orphaned. Return what was applied and orphaned."""
    return _replay(store, None if docs is None else set(docs), links=False)


def replay_link_corrections(store: Store) -> ReplayReport:
    """Re-apply the corrections of cross-document links after reconciliation; return what was applied and orphaned."""
    return _replay(store, None, links=True)


def apply_corrections(store: Store) -> ReplayReport:
    """Re-apply every correction to the whole store (records, then links); return what was applied and orphaned."""
    first = replay_corrections(store)
    second = replay_link_corrections(store)
    return ReplayReport(first.applied + second.applied, first.orphaned + second.orphaned)


def review_states(store: Store) -> dict[str, str]:
    """Return the review state of every record a correction touched, by stable key: confirmed or corrected."""
    out: dict[str, str] = {}
    for c in list_corrections(store, states=("applied",)):
        state = "confirmed" if c.operation == "confirm" else "corrected"
        for key in c.affected:
            if out.get(key) != "corrected":
                out[key] = state
    return out


def export_corrections(store: Store) -> dict:
    """Return the corrections as a file a team can share: {"corrections": [...]} in the order they were made."""
    return {"corrections": [c.as_json() for c in list_corrections(store)]}


def import_corrections(store: Store, data: dict) -> tuple[list[Correction], int]:
    """Store and apply the corrections of a shared file that this database does not hold yet, in their order;
    return them (each applied or orphaned) and how many were already there. Raises CorrectionError on a bad file."""
    items = data.get("corrections") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise CorrectionError("not a corrections file: expected {\"corrections\": [...]} (see `atlas correct export`)")
    held = {r["id"] for r in store.corrections()}
    new = []
    for n, item in enumerate(items):
        try:
            target = dict(item["target"])
            kind, key = target.pop("kind"), target.pop("key")
            c = Correction(str(item["id"]), _check_who(item["who"]), str(item["when"]), kind, key,
                           target.get("doc") if kind != "link" else None, target, item["operation"], dict(item.get("fields") or {}),
                           str(item.get("reason") or ""), "applied")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CorrectionError(f"correction #{n + 1} of the file is malformed ({type(exc).__name__}: {exc})") from None
        if c.kind not in KINDS or c.operation not in OPERATIONS:
            raise CorrectionError(f"correction #{n + 1} of the file has an unknown kind or operation ({c.kind}, {c.operation})")
        if c.operation == "edit":
            _check_fields(c.kind, c.fields)
        if c.id not in held and item.get("state") != "undone":
            new.append(c)
    new.sort(key=lambda c: (c.when, c.id))
    return (_store_and_apply(store, new) if new else []), len(items) - len(new)
