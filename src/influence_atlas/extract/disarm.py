"""Map the influence-operation behaviours a text describes to DISARM Red techniques, with evidence.

The framework (ids, names, tactics) is read from a real source: the DISARM galaxy clusters that
`pymispgalaxies` ships, or a DISARM STIX 2.1 bundle given by path. The cue patterns that recognise
behaviours ("a network of fake Facebook pages", « des manifestants payés ») are ontology data in
`ontology/disarm_cues.yaml`, validated on load; users add their own cue files.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import OntologyError
from ..ontology.disarm import TECHNIQUE_ID, Cue, CueSection, load_cues
from ..text.normalise import fold_with_offsets
from ..text.sentences import sentence_bounds

EXTRACTOR = "disarm-cues"
MISP_CLUSTER = "disarm-techniques"


@dataclass(frozen=True, slots=True)
class DisarmTechnique:
    """One DISARM technique or sub-technique: id (T0086, T0086.003), name and tactics."""

    id: str
    name: str
    tactics: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True)
class DisarmFramework:
    """The DISARM Red techniques by id, and where they were read from."""

    techniques: dict[str, DisarmTechnique]
    source: str

    def get(self, technique_id: str) -> DisarmTechnique | None:
        """Return the technique with this id, or None when this version of the framework lacks it."""
        return self.techniques.get(technique_id)


def load_disarm(path: str | Path | None = None) -> DisarmFramework:
    """Return the DISARM framework from pymispgalaxies' clusters, or from a STIX 2.1 bundle / MISP cluster file at `path`."""
    return _load_framework(str(path) if path is not None else None)


@lru_cache(maxsize=4)
def _load_framework(path: str | None) -> DisarmFramework:
    if path is None:
        source = f"pymispgalaxies:{MISP_CLUSTER}"
        shipped = _shipped_cluster()
        if shipped is not None:
            return DisarmFramework(_from_misp(json.loads(shipped.read_text(encoding="utf-8")), source), source)
        try:
            from pymispgalaxies import Cluster
        except ImportError as exc:  # pragma: no cover - a pinned dependency
            raise OntologyError("pymispgalaxies is missing: pip install -e . (or give a DISARM STIX bundle by path)") from exc
        cluster = Cluster(MISP_CLUSTER)
        values = [cluster[name].to_dict() for name in cluster]
        return DisarmFramework(_from_misp({"values": values}, source), source)
    p = Path(path)
    if not p.exists():
        raise OntologyError(f"{p}: DISARM file not found; give a STIX 2.1 bundle such as DISARM.json")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OntologyError(f"{p}: not valid JSON: {exc}") from exc
    if isinstance(data, dict) and data.get("type") == "bundle":
        techniques = _from_stix(data, str(p))
    elif isinstance(data, dict) and isinstance(data.get("values"), list):
        techniques = _from_misp(data, str(p))
    else:
        raise OntologyError(f"{p}: expected a STIX 2.1 bundle or a MISP galaxy cluster of DISARM techniques")
    if not techniques:
        raise OntologyError(f"{p}: no DISARM techniques (T0000-style ids) found")
    return DisarmFramework(techniques, str(p))


def _shipped_cluster() -> Path | None:
    """Return the DISARM cluster file inside the installed pymispgalaxies, found without importing the package
    (its import builds jsonschema's format checkers, about 1.4 CPU-seconds a process for a file read), or None."""
    spec = importlib.util.find_spec("pymispgalaxies")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / "misp-galaxy" / "clusters" / f"{MISP_CLUSTER}.json"
        if path.is_file():
            return path
    return None


def _from_stix(bundle: dict, where: str) -> dict[str, DisarmTechnique]:
    objects = bundle.get("objects")
    if not isinstance(objects, list):
        raise OntologyError(f"{where}: STIX bundle has no 'objects' list")
    tactic_names = {o.get("x_mitre_shortname"): o.get("name") for o in objects
                    if isinstance(o, dict) and o.get("type") == "x-mitre-tactic"}
    out: dict[str, DisarmTechnique] = {}
    for o in objects:
        if not isinstance(o, dict) or o.get("type") != "attack-pattern" or o.get("revoked"):
            continue
        ids = [r.get("external_id", "") for r in o.get("external_references", []) if isinstance(r, dict)]
        tid = next((i for i in ids if TECHNIQUE_ID.match(i or "")), None)
        if tid is None or not o.get("name"):
            continue
        tactics = tuple(tactic_names.get(k.get("phase_name"), k.get("phase_name", ""))
                        for k in o.get("kill_chain_phases", []) if isinstance(k, dict))
        out[tid] = DisarmTechnique(tid, o["name"], tactics, o.get("description") or "")
    return out


def _from_misp(cluster: dict, where: str) -> dict[str, DisarmTechnique]:
    out: dict[str, DisarmTechnique] = {}
    for v in cluster.get("values", []):
        meta = v.get("meta") or {}
        tid = meta.get("external_id")
        if not isinstance(tid, str) or not TECHNIQUE_ID.match(tid) or not v.get("value"):
            continue
        tactics = tuple(k.split(":", 1)[-1] for k in meta.get("kill_chain", []) if isinstance(k, str))
        out[tid] = DisarmTechnique(tid, v["value"], tactics, v.get("description") or "")
    if not out:
        raise OntologyError(f"{where}: no DISARM techniques with external ids in the cluster")
    return out


def find_ttps(text: str, language: str | None = None, framework: DisarmFramework | None = None,
              cues: tuple[Cue, ...] | None = None) -> list[tuple[int, int, str, str, float]]:
    """Return (start, end, disarm_id, name, confidence) for each behaviour the text describes, sorted by offsets."""
    framework = framework or load_disarm()
    cues = load_cues() if cues is None else cues
    lang = (language or "").split("-")[0].lower() or None
    hits: dict[tuple[str, int], tuple[int, int, str, str, float]] = {}
    for s_start, s_end in sentence_bounds(text):
        folded, where = fold_with_offsets(text[s_start:s_end])
        for cue in cues:
            technique = next((framework.get(t) for t in cue.techniques if framework.get(t)), None)
            if technique is None:
                continue
            sections = [cue.languages[lang]] if lang in cue.languages else ([] if lang else list(cue.languages.values()))
            for section in sections:
                hit = _match_section(section, folded)
                if hit is None:
                    continue
                start, end, bonus = hit
                span = (s_start + where[start], s_start + where[end - 1] + 1)
                key = (technique.id, span[0])
                confidence = round(min(0.99, cue.confidence + bonus), 3)
                if key not in hits or hits[key][4] < confidence:
                    hits[key] = (span[0], span[1], technique.id, technique.name, confidence)
                break
    return _drop_nested(sorted(hits.values()))


def _match_section(section: CueSection, folded: str) -> tuple[int, int, float] | None:
    """Return (start, end, confidence bonus) of the evidence in one folded sentence, or None."""
    trigger = next((m for p in section.match for m in [p.search(folded)] if m), None)
    if trigger is None or any(p.search(folded) for p in section.unless):  # the trigger first: most sentences have none
        return None
    start, end = trigger.start(), trigger.end()
    if section.context:
        found = [m for p in section.context for m in p.finditer(folded)]
        if not found:
            return None
        # The evidence covers the trigger and the nearest context cue when they sit close together.
        near = min(found, key=lambda m: min(abs(m.start() - end), abs(start - m.end())))
        if min(abs(near.start() - end), abs(start - near.end())) < 120:
            start, end = min(start, near.start()), max(end, near.end())
        return start, end, 0.05
    return start, end, 0.0


def _drop_nested(hits: list[tuple[int, int, str, str, float]]) -> list[tuple[int, int, str, str, float]]:
    """Keep one hit per technique among hits whose spans overlap."""
    out: list[tuple[int, int, str, str, float]] = []
    for h in hits:
        same = next((k for k, o in enumerate(out) if o[2] == h[2] and o[0] < h[1] and h[0] < o[1]), None)
        if same is None:
            out.append(h)
        elif h[4] > out[same][4]:
            out[same] = h
    return out
