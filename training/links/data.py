"""Build claim-pair and event-pair training rows from the gold annotations of the development sets.

Sets: the cross-source set (../shared/corpus/cross: 16 documents, every link listed) and the seeds
(../shared/corpus/seeds with ../shared/corpus/gold). Each gold claim or event is located in its
document's normalised text and widened to its sentence, so the models see sentences as extraction
gives them; pairs are every two items of different documents of one set, labelled from cross.json.
Each row keeps its two documents and their stories (training/links/stories.json) so that
cross-validation can hold a story out whole.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT / "src"))

from influence_atlas.extract.encoder import encode_sentences  # noqa: E402
from influence_atlas.extract.multilingual import encode_multilingual  # noqa: E402
from influence_atlas.ontology import load_actor_catalog  # noqa: E402
from influence_atlas.reconcile.features import (claim_pair_features, describe, event_pair_features,  # noqa: E402
                                                stance_opposition)
from influence_atlas.reconcile.links import document_sentences, event_view, lead_claims, story_vectors  # noqa: E402
from influence_atlas.text.normalise import normalise_text  # noqa: E402

SETS = {
    "cross": (SHARED / "cross" / "docs", SHARED / "cross" / "gold", sorted((SHARED / "cross" / "gold").glob("*.json"))),
    "seeds": (SHARED / "seeds", SHARED / "gold", sorted((SHARED / "gold").glob("0*.json"))),
    # The 28 development documents tell mostly different stories: their pairs teach what unrelated looks like.
    "dev": (SHARED / "dev" / "docs", None, sorted((SHARED / "dev" / "gold").glob("*.json"))),
}
_END = re.compile(r"(?<=[.!?…])[\"”»’)]*\s+|\n")


def sentence_around(text: str, evidence: str) -> tuple[int, int] | None:
    """Return the (start, end) of the sentence holding `evidence` in text, or None when it is not found."""
    i = text.find(evidence)
    if i < 0:
        i = text.lower().find(evidence.lower())
    if i < 0:
        return None
    start = 0
    for m in _END.finditer(text, 0, i):
        start = m.end()
    m = _END.search(text, i + len(evidence))
    end = m.start() if m else len(text)
    return start, end


def load_set(name: str) -> dict:
    """Return one set's documents (text, language, stance) and its gold claims and events as sentences."""
    docs_dir, gold_dir, files = SETS[name]
    alias = aliases()
    docs, claims, events = {}, [], []
    for f in files:
        g = json.loads(f.read_text())
        if "doc" not in g:
            continue
        text = normalise_text((docs_dir / g["doc"]).read_text(encoding="utf-8"))
        docs[g["doc"]] = dict(text=text, language=g.get("language"),
                              stance={alias(k): float(v) for k, v in g.get("stance", {}).items()})
        for kind, out in (("claims", claims), ("events", events)):
            for item in g[kind]:
                span = sentence_around(text, item["evidence"])
                if span is None:
                    print(f"not found: {g['doc']}#{item['id']}", file=sys.stderr)
                    continue
                out.append(dict(item, doc=g["doc"], key=f"{g['doc']}#{item['id']}", sentence=text[span[0]:span[1]]))
    cross = json.loads((gold_dir / "cross.json").read_text()) if gold_dir else {}
    return dict(docs=docs, claims=claims, events=events, cross=cross)


def aliases():
    """Return a function mapping a gold actor name to the catalogue's canonical name (unchanged when unknown)."""
    catalog = load_actor_catalog()
    table = {}
    for e in catalog.entries:
        for form in (e.name, *e.aliases):
            table[form.lower()] = e.name
    return lambda name: table.get(name.lower(), name)


def pair_labels(cross: dict) -> tuple[dict, set]:
    """Return ({(key, key): kind} for claim pairs, {frozenset(key, key)} same-event pairs) from a cross.json."""
    claim_pairs = {}
    for group, kind in (("corroborating_claims", 1), ("contradicting_claims", 2)):
        for x in cross.get(group, []):
            items = x["items"]
            for i, a in enumerate(items):
                for b in items[i + 1:]:
                    if a.split("#")[0] != b.split("#")[0]:
                        claim_pairs[frozenset((a, b))] = kind
    same = set()
    for x in cross.get("same_event", []):
        items = x["items"]
        same |= {frozenset((a, b)) for i, a in enumerate(items) for b in items[i + 1:] if a.split("#")[0] != b.split("#")[0]}
    return claim_pairs, same


def build(name: str) -> dict:
    """Return the feature rows, labels and document pairs of one set."""
    data = load_set(name)
    docs = data["docs"]
    told = document_sentences({d: v["text"] for d, v in docs.items()}, {d: v["language"] for d, v in docs.items()})
    doc_vec = {d: v[0] for d, v in told.items()}
    claim_pairs, same = pair_labels(data["cross"])
    cl = data["claims"]
    st = [describe(c["key"], c["doc"], c["sentence"], docs[c["doc"]]["language"]) for c in cl]
    vec = encode_sentences([c["sentence"] for c in cl])
    rows, labels, pairs = [], [], []
    for i in range(len(cl)):
        for j in range(i + 1, len(cl)):
            a, b = cl[i], cl[j]
            if a["doc"] == b["doc"]:
                continue
            opp = stance_opposition(docs[a["doc"]]["stance"], docs[b["doc"]]["stance"])
            rows.append(claim_pair_features(st[i], st[j], float(vec[i] @ vec[j]), float(doc_vec[a["doc"]] @ doc_vec[b["doc"]]), opp))
            labels.append(claim_pairs.get(frozenset((a["key"], b["key"])), 0))
            pairs.append((a["doc"], b["doc"], a["key"], b["key"]))
    ev = data["events"]
    alias = aliases()
    views = [event_view(e["type"], e["date"], {alias(x) for x in e["actors"]}, e.get("location"), e.get("fatalities"),
                        e["sentence"]) for e in ev]
    evec = encode_sentences([e["sentence"] for e in ev])
    erows, elabels, epairs = [], [], []
    for i in range(len(ev)):
        for j in range(i + 1, len(ev)):
            a, b = ev[i], ev[j]
            if a["doc"] == b["doc"]:
                continue
            erows.append(event_pair_features(views[i], views[j], float(evec[i] @ evec[j]),
                                             float(doc_vec[a["doc"]] @ doc_vec[b["doc"]])))
            elabels.append(int(frozenset((a["key"], b["key"])) in same))
            epairs.append((a["doc"], b["doc"], a["key"], b["key"]))
    return dict(docs={d: dict(language=v["language"], stance=v["stance"]) for d, v in docs.items()},
                doc_vec=doc_vec, told=told, story=story_vectors({d: v["text"] for d, v in docs.items()}),
                claim_xrows={d: encode_multilingual(lead_claims(docs[d]["text"],  # as at run time: claims in the lead
                                                                [c["sentence"] for c in cl if c["doc"] == d]))
                             for d in docs},
                claim_x=np.array(rows), claim_y=np.array(labels), claim_pairs=pairs,
                event_x=np.array(erows), event_y=np.array(elabels), event_pairs=epairs, cross=data["cross"])


if __name__ == "__main__":
    for name in SETS:
        out = build(name)
        print(name, "claim pairs", len(out["claim_y"]), np.bincount(out["claim_y"], minlength=3),
              "event pairs", len(out["event_y"]), int(out["event_y"].sum()))
