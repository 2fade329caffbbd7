"""Score the analysed store against gold annotations (the format of ../shared/corpus/gold)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import GoldError
from .export import export_dict
from .extract.dates import dates_compatible
from .store import Store
from .text.normalise import name_key

_SPECIAL = {"actors.json", "actors_extra.json", "narratives.json", "cross.json"}
ENTITY_LABELS = {"PERSON", "PER", "ORG", "ORGANIZATION", "ACTOR", ""}
# Share of a gold claim's words a system claim must hold to count as finding it.
CLAIM_OVERLAP = 0.6


@dataclass(slots=True)
class Counts:
    """True positives, false positives and false negatives, with precision, recall and F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class EvalResult:
    """Scores per metric, overall and per document, plus the documents the gold names but the store lacks."""

    entities: Counts = field(default_factory=Counts)
    events: Counts = field(default_factory=Counts)
    event_dates_exact: int = 0
    stance_sign_ok: int = 0
    stance_total: int = 0
    stance_abs_error: float = 0.0
    narratives: Counts = field(default_factory=Counts)
    ttps: Counts = field(default_factory=Counts)
    cross_found: int = 0
    cross_total: int = 0
    claims_found: int = 0
    claims_total: int = 0
    attribution_ok: int = 0
    attribution_total: int = 0
    per_doc: dict[str, Counts] = field(default_factory=dict)
    per_doc_events: dict[str, Counts] = field(default_factory=dict)
    errors: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """Return the headline figures, rounded like the independent scorer."""
        e, v = self.entities, self.events
        return {
            "missing_docs": len(self.missing),
            "event_p": round(v.precision, 3), "event_r": round(v.recall, 3), "event_f1": round(v.f1, 3),
            "event_date_exact": round(self.event_dates_exact / v.tp, 3) if v.tp else 0.0,
            "claim_recall": round(self.claims_found / self.claims_total, 3) if self.claims_total else 0.0,
            "attribution_acc": round(self.attribution_ok / self.attribution_total, 3) if self.attribution_total else 0.0,
            "entity_p": round(e.precision, 3), "entity_r": round(e.recall, 3), "entity_f1": round(e.f1, 3),
            "stance_sign_acc": round(self.stance_sign_ok / self.stance_total, 3) if self.stance_total else 0.0,
            "stance_mae": round(self.stance_abs_error / self.stance_total, 3) if self.stance_total else 0.0,
            "narrative_p": round(self.narratives.precision, 3), "narrative_r": round(self.narratives.recall, 3),
            "narrative_f1": round(self.narratives.f1, 3),
            "ttp_p": round(self.ttps.precision, 3), "ttp_r": round(self.ttps.recall, 3), "ttp_f1": round(self.ttps.f1, 3),
            "cross_links": f"{self.cross_found}/{self.cross_total}",
        }


class _Aliases:
    def __init__(self, files: list[Path]):
        self.canon: dict[str, str] = {}
        for path in files:
            if not path.exists():
                continue
            try:
                table = json.loads(path.read_text(encoding="utf-8"))["actors"]
            except (json.JSONDecodeError, KeyError) as exc:
                raise GoldError(f"{path}: not an actors table ({exc})") from exc
            for name, info in table.items():
                for form in [name, *info.get("aliases", [])]:
                    self.canon.setdefault(name_key(form), name_key(name))

    def __call__(self, name: str) -> str:
        key = name_key(name)
        return self.canon.get(key, key)


def load_gold(gold_dir: str | Path) -> dict[str, dict]:
    """Return gold annotations keyed by document file name."""
    root = Path(gold_dir)
    if not root.is_dir():
        raise GoldError(f"{root}: gold folder not found; give the folder that holds the <doc>.json annotations")
    golds = {}
    for path in sorted(root.glob("*.json")):
        if path.name in _SPECIAL:
            continue
        try:
            g = json.loads(path.read_text(encoding="utf-8"))
            golds[g["doc"]] = g
        except (json.JSONDecodeError, KeyError) as exc:
            raise GoldError(f"{path}: not a gold annotation ({exc})") from exc
    if not golds:
        raise GoldError(f"{root}: no gold annotations (<doc>.json files) found")
    return golds


def evaluate(store: Store, gold_dir: str | Path) -> EvalResult:
    """Score the store's records against a gold folder; agrees with ../shared/tools/score_gold.py."""
    root = Path(gold_dir)
    golds = load_gold(root)
    alias = _Aliases([root / "actors.json", root / "actors_extra.json"])
    data = export_dict(store)
    names = {d["id"]: Path(d["name"]).name for d in data["documents"]}
    found = {kind: _by_document(data[kind], names) for kind in ("mentions", "events", "claims", "stances", "narratives", "ttps")}
    result = EvalResult(missing=[k for k in golds if k not in set(names.values())])
    for key, g in golds.items():
        _score_entities(result, key, g, found["mentions"].get(key, []), alias)
        ev, exact = score_events(found["events"].get(key, []), g["events"], alias)
        result.per_doc_events[key] = ev
        result.events.tp += ev.tp
        result.events.fp += ev.fp
        result.events.fn += ev.fn
        result.event_dates_exact += exact
        _score_claims(result, g, found["claims"].get(key, []), alias)
    for key, g in golds.items():
        _score_leanings(result, g, {k: found[k].get(key, []) for k in ("stances", "narratives", "ttps")}, alias)
    if (root / "cross.json").exists():
        _score_cross(result, root / "cross.json", data, names, set(golds))
    return result


def _by_document(rows: list[dict], names: dict[str, str]) -> dict[str, list[dict]]:
    """Return exported records grouped by the file name of their document."""
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(names.get(r["doc"], r["doc"]), []).append(r)
    return out


def _score_entities(result: EvalResult, key: str, g: dict, mentions: list[dict], alias) -> None:
    """Add one document's named people and organisations to the figures (places named are neither right nor wrong)."""
    system = {alias(m["actor"] or m["text"]) for m in mentions if (m["label"] or "").upper() in ENTITY_LABELS}
    ents = g["entities"]
    gold = {alias(x) for x in ents["person"] + ents["organization"]}
    places = {alias(x) for x in ents["location"]}
    c = Counts(tp=len(system & gold), fp=len(system - gold - places), fn=len(gold - system))
    result.per_doc[key] = c
    result.errors[key] = {"false_positives": sorted(system - gold - places), "missed": sorted(gold - system)}
    result.entities.tp += c.tp
    result.entities.fp += c.fp
    result.entities.fn += c.fn


def _score_claims(result: EvalResult, g: dict, claims: list[dict], alias) -> None:
    """Add one document's gold claims found (most of their words in one system claim) and attributed right."""
    for gc in g["claims"]:
        result.claims_total += 1
        words = _words(gc["evidence"])
        hit = next((c for c in claims if words and len(words & _words(c["text"])) / len(words) >= CLAIM_OVERLAP), None)
        if hit is None:
            continue
        result.claims_found += 1
        if gc.get("attributed_to"):
            result.attribution_total += 1
            if gc["attributed_to"].islower():  # a described source ("polls and local reporting"): any source counts
                result.attribution_ok += int(bool(hit["attributed_to"]))
            else:
                result.attribution_ok += int(alias(gc["attributed_to"]) == alias(hit["attributed_to"] or ""))


# The gold cross.json's groups of items and the link kind each stands for.
CROSS_GROUPS = {"same_event": "same_event", "contradicting_claims": "contradicts", "corroborating_claims": "corroborates"}


def gold_document_pairs(cross: dict) -> set[tuple[str, str, str]]:
    """Return (link kind, document, document), the two documents' names sorted, for every two documents that a group
    of a gold cross.json (read as a dict) joins: the pairs that cross-source pair precision and recall count."""
    out = set()
    for group, kind in CROSS_GROUPS.items():
        for item in cross.get(group, []):
            docs = sorted({x.split("#")[0] for x in item["items"]})
            out |= {(kind, a, b) for i, a in enumerate(docs) for b in docs[i + 1:]}
    return out


def _score_cross(result: EvalResult, cross: Path, data: dict, names: dict[str, str], gold_names: set[str]) -> None:
    """Add the gold cross-document groups (among scored documents) that some system link covers."""
    record_doc = {r["id"]: names.get(r["doc"], r["doc"]) for r in data["events"] + data["claims"]}
    link_docs = [{record_doc.get(i) for i in link["items"]} for link in data["links"]]
    table = json.loads(cross.read_text(encoding="utf-8"))
    for group in ("same_event", "contradicting_claims"):
        for item in table.get(group, []):
            wanted = {x.split("#")[0] for x in item["items"]}
            if not wanted <= gold_names:
                continue
            result.cross_total += 1
            result.cross_found += int(any(wanted <= docs for docs in link_docs))


def _sign(value: float) -> int:
    return 0 if abs(value) < 0.5 else (1 if value > 0 else -1)


def _score_leanings(result: EvalResult, g: dict, system: dict[str, list[dict]], alias) -> None:
    """Add one document's stance, narrative and DISARM scores to the result (rules of the gold README)."""
    stances = {alias(s["actor"]): float(s["score"]) for s in system["stances"]}
    for actor, gold_score in g.get("stance", {}).items():
        result.stance_total += 1
        got = stances.get(alias(actor))
        if got is None:
            result.stance_abs_error += abs(gold_score)
            continue
        result.stance_sign_ok += int(_sign(got) == _sign(gold_score))
        result.stance_abs_error += abs(got - gold_score)
    found = {(n["narrative"], n["mode"]) for n in system["narratives"]}
    wanted = {(n, mode) for mode in ("endorsed", "reported") for n in g.get("narratives", {}).get(mode, [])}
    result.narratives.tp += len(found & wanted)
    result.narratives.fp += len(found - wanted)
    result.narratives.fn += len(wanted - found)
    parent = lambda t: str(t or "").split(".")[0].upper()  # noqa: E731 - T0086.003 counts as T0086
    techniques = {parent(t["disarm_id"]) for t in system["ttps"]}
    accepted: set[str] = set()
    for item in g.get("ttps", []):
        ok = {parent(x) for x in item["accept"]} & techniques
        if ok:
            result.ttps.tp += 1
            accepted |= ok
        else:
            result.ttps.fn += 1
    result.ttps.fp += len(techniques - accepted - {""})


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", name_key(text)))


def score_events(system: list[dict], gold: list[dict], alias) -> tuple[Counts, int]:
    """Match system events to gold events one-to-one, greedily in gold order (rules of the gold README).

    Returns the counts and how many matched events carry exactly the gold date (both null counts).
    Optional gold events are neither needed for recall nor counted against precision.
    """
    used: set[int] = set()
    counts = Counts()
    exact = 0
    for ge in gold:
        gold_actors = {alias(a) for a in ge["actors"]}
        hit = next(
            (i for i, se in enumerate(system)
             if i not in used and se["type"] == ge["type"] and dates_compatible(ge["date"], se["date"])
             and gold_actors & {alias(a) for a in se["actors"]}),
            None,
        )
        if hit is None:
            counts.fn += 0 if ge.get("optional") else 1
            continue
        used.add(hit)
        if ge.get("optional"):
            continue
        counts.tp += 1
        exact += int((system[hit]["date"] or None) == (ge["date"] or None))
    counts.fp = len(system) - len(used)
    return counts, exact
