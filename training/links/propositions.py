"""Measure a claim's proposition (predicate, arguments, polarity) as a contradiction signal (issue 20, tenth round).

No entailment model ships offline (see README.md), so this probe reads a claim's proposition from spaCy's dependency
parse: the predicate (the root, or the clause a reporting or denial verb governs), the actors of its subject and of its
other arguments (actor catalogue: the same canonical names in English and French), whether a denial verb governs it,
whether a negation bears on it; the predicate's lemma and the clause are compared in multilingual meaning (e5, the
clauses centred per language). For every claim pair of the stored records of two analysed databases (the claim-pair
model's probabilities and relation row as analysis computes them) a logistic head (positives counted twenty times) is fitted with and without the
proposition features and cross-validated by story (a pair is held out with either of its documents' stories; the 28
development documents in four folds, every pair of theirs a negative, seed pairs left out). Printed: claim-level
out-of-fold AUC against the gold contradicting (or corroborating) claim pairs of the cross-source set, how many gold
pairs are among the highest held-out ones, and the 40 highest document pairs (best claim pair each) with what they are:
a gold pair not emitted yet, one already emitted, a cross-source pair the gold does not join, a development pair.

    .venv/bin/python training/links/propositions.py /tmp/NAME-cross/atlas.db /tmp/NAME-dev/atlas.db [--kind contradicts]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1].parent / "shared" / "corpus"
sys.path.insert(0, str(HERE.parents[1] / "src"))
sys.path.insert(0, str(HERE))

from breakdown import gold_pairs  # noqa: E402
from same_story import fit, predict  # noqa: E402
from influence_atlas.extract.encoder import encode_sentences  # noqa: E402
from influence_atlas.extract.multilingual import encode_multilingual  # noqa: E402
from influence_atlas.nlp import load_pipeline  # noqa: E402
from influence_atlas.reconcile import claims as C  # noqa: E402
from influence_atlas.reconcile.features import _gazetteer, load_link_models  # noqa: E402
from influence_atlas.store import open_store  # noqa: E402

# Probe vocabulary (not shipped): verbs through which the proposition is reached, denial verbs, negation words.
REPORTING = re.compile(r"^(say|tell|state|add|claim|announce|declare|report|note|write|insist|explain|believe|think|recall|"
                       r"stress|make|accuse|allege|suggest|show|dire|déclarer|affirmer|ajouter|annoncer|estimer|rappeler|"
                       r"souligner|indiquer|préciser|expliquer|penser|assurer|croire)$")
DENIAL = re.compile(r"^(deny|reject|refute|dismiss|disavow|nier|démentir|rejeter|réfuter|contester)$")
NEGATION = re.compile(r"^(not|no|never|nothing|none|neither|nor|n't|pas|jamais|aucun|aucune|rien|ni|nullement|only|"
                      r"exclusively|seulement|uniquement)$", re.I)
SUBJECTS = {"nsubj", "nsubj:pass", "nsubjpass", "csubj"}
LIGHT = {"be", "être", "have", "avoir"}
POSITIVE_WEIGHT = 20
STORIES = ("gossi", "mali-arrival", "prigozhin", "car-instructors")


def proposition(doc) -> dict:
    """Return a parsed claim's proposition: predicate lemma, clause text, subject and argument actors, polarity."""
    sents = list(doc.sents)
    pred = max(sents, key=len).root if sents else doc[:].root
    denied = False
    for _ in range(3):
        lemma = pred.lemma_.lower()
        denied = denied or bool(DENIAL.match(lemma))
        inner = [c for c in pred.children if c.dep_ in ("ccomp", "xcomp", "obj", "dobj") and c.pos_ in ("VERB", "AUX", "NOUN")]
        if not inner or not (REPORTING.match(lemma) or DENIAL.match(lemma)):
            break
        pred = inner[0]
    negated = any(c.dep_ == "neg" or NEGATION.match(c.text) for c in pred.children)
    actors = lambda parts: {e.name for p in parts for _, _, e, _ in _gazetteer().find(" ".join(t.text for t in p.subtree))}  # noqa: E731
    return {"pred": pred.lemma_.lower(), "clause": " ".join(t.text for t in pred.subtree), "denied": denied,
            "polarity": denied != negated, "subject": actors([c for c in pred.children if c.dep_ in SUBJECTS]),
            "arguments": actors([c for c in pred.children if c.dep_ not in SUBJECTS])}


def scored_claim_pairs(db: str) -> tuple[list[dict], dict, "C._Records"]:
    """Return every cross-document claim pair of the candidate document pairs (as `compare_documents` forms them)
    with the claim-pair model's probabilities and relation row, each claim's Statement by id, and the records."""
    store = open_store(db)
    documents = store.documents()
    names = {d.id: d.name for d in documents}
    rec = C._Records(documents, store.claims(), store.events(), store.stances(), (encode_sentences, encode_multilingual), None)
    pairs, context, _ = C._pairs_in_context(rec, None, None, None)
    models, out = load_link_models(), []
    for batch in C._batches(rec, pairs):
        items = C._ItemRows(rec, batch)
        scores = C._Scores(rec, items, context, models)
        for k, (a, b) in enumerate(batch):
            rows, sides, _ = items.claims(k)
            probs = scores.claims[int(items.claim_off[k]):int(items.claim_off[k + 1])]
            for (x, y), row, p in zip(sides, rows.tolist(), probs.tolist()):
                out.append({"docs": tuple(sorted((names[a], names[b]))), "x": x, "y": y, "row": row, "p": p})
    return out, {s.id: s for d in rec.docs for s in rec.by_doc.get(d, [])}, rec


def claim_pairs(db: str) -> tuple[list[dict], dict[str, tuple[str, str]], dict]:
    """Return `scored_claim_pairs`' claim pairs, each claim's (document name, text) by id, and the claims'
    propositions."""
    out, said, rec = scored_claim_pairs(db)
    names = {d.id: d.name for d in open_store(db).documents()}
    where = {i: (names[s.doc], s.text) for i, s in said.items()}
    props = {}
    for language in ("en", "fr"):
        ids = [i for i, s in said.items() if (s.language or "en") == language]
        nlp = load_pipeline(language, ("parser", "lemmatizer"))
        props.update(zip(ids, (proposition(d) for d in nlp.pipe([said[i].text for i in ids]))))
    lemmas = sorted({p["pred"] for p in props.values()})
    lemma_rows = dict(zip(lemmas, encode_multilingual(lemmas)))
    ids = sorted(props)
    clause_rows = np.asarray(encode_multilingual([props[i]["clause"] for i in ids]), np.float32)
    language = np.array([said[i].language or "en" for i in ids])
    for lang in set(language):
        clause_rows[language == lang] -= clause_rows[language == lang].mean(axis=0)
    clause_rows /= np.linalg.norm(clause_rows, axis=1, keepdims=True) + 1e-9
    for i, row in zip(ids, clause_rows):
        props[i]["lemma_row"], props[i]["clause_row"] = lemma_rows[props[i]["pred"]], row
    return out, where, props


def features(pair: dict, props: dict, with_propositions: bool) -> list[float]:
    x, y, row, p = pair["x"], pair["y"], pair["row"], pair["p"]
    base = [1.0, p[1], p[2], row[1], float(x.negated != y.negated), float(x.debunks or y.debunks), len(x.actors & y.actors)]
    if not with_propositions:
        return base
    a, b = props[x.id], props[y.id]
    flip = float(a["polarity"] != b["polarity"])
    lemma = float(a["lemma_row"] @ b["lemma_row"])
    clause = float(a["clause_row"] @ b["clause_row"])
    subject = float(bool(a["subject"] & b["subject"]))
    return base + [lemma, clause, subject, len((a["subject"] | a["arguments"]) & (b["subject"] | b["arguments"])), flip,
                   float(a["denied"] != b["denied"]), float(a["pred"] == b["pred"] and a["pred"] not in LIGHT),
                   lemma * flip, clause * flip, subject * flip]


def gold_claim_pairs(where: dict[str, tuple[str, str]], kind: str) -> set[frozenset]:
    """Return the claim-id pairs whose claims hold the two sides of a gold link of `kind` (a claim holds a gold item
    when its text holds the item's evidence opening; `where`: claim id -> (document name, text))."""
    claims_of: dict[str, set[str]] = {}
    for f in (SHARED / "cross" / "gold").glob("*.json"):
        if f.name != "cross.json":
            g = json.loads(f.read_text())
            for c in g["claims"]:
                claims_of[f"{g['doc']}#{c['id']}"] = {i for i, (doc, text) in where.items()
                                                      if doc == g["doc"] and c["evidence"][:25] in text}
    group = {"contradicts": "contradicting_claims", "corroborates": "corroborating_claims"}[kind]
    out = set()
    for link in json.loads((SHARED / "cross" / "gold" / "cross.json").read_text())[group]:
        items = link["items"]
        for i, u in enumerate(items):
            for v in items[i + 1:]:
                out |= {frozenset((a, b)) for a in claims_of.get(u, ()) for b in claims_of.get(v, ()) if a != b}
    return out


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    order = np.argsort(np.argsort(score))
    n1, n0 = int(positive.sum()), int((~positive).sum())
    return float((order[positive].sum() - n1 * (n1 - 1) / 2) / max(1, n1 * n0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cross_db")
    ap.add_argument("dev_db")
    ap.add_argument("--kind", choices=("contradicts", "corroborates"), default="contradicts")
    ap.add_argument("--emitted", help="breakdown.py's printout on the cross-source database (marks pairs emitted)")
    a = ap.parse_args()
    stories = json.loads((HERE / "stories.json").read_text())
    story = {d: s for s, ds in stories.items() if s in STORIES for d in ds}
    cross, where, cross_props = claim_pairs(a.cross_db)
    dev, _, dev_props = claim_pairs(a.dev_db)
    positive_ids = gold_claim_pairs(where, a.kind)
    gold = {(a_, b_) for k, a_, b_ in gold_pairs(json.loads((SHARED / "cross" / "gold" / "cross.json").read_text()))
            if k == a.kind}
    emitted = set()
    if a.emitted:
        for line in Path(a.emitted).read_text().splitlines():
            m = re.match(rf"{a.kind}\s+\S+ emitted .* (\S+\.txt) \| (\S+\.txt)", line)
            if m:
                emitted.add(tuple(sorted(m.groups())))
    data = [(p, cross_props, "cross", {story[d] for d in p["docs"] if d in story}) for p in cross]
    data += [(p, dev_props, "dev", {STORIES[sum(map(ord, "".join(p["docs"]))) % 4]}) for p in dev
             if not all(d[:3].isdigit() for d in p["docs"])]
    y = np.array([frozenset((p["x"].id, p["y"].id)) in positive_ids for p, _, _, _ in data])
    print(f"{a.kind}: {int(y.sum())} gold claim pairs among {len(data)} claim pairs ({len(cross)} cross-source)")
    for with_propositions in (False, True):
        x = np.array([features(p, props, with_propositions) for p, props, _, _ in data])
        score = np.zeros(len(y))
        for s in STORIES:
            held = np.array([s in folds for _, _, _, folds in data])
            train = np.flatnonzero(~held)
            train = np.concatenate([train] + [train[y[train]]] * (POSITIVE_WEIGHT - 1))  # positives counted x20
            score[held] = predict(fit(x[train], y[train].astype(float), 1.0), x[held])
        top = np.argsort(-score)
        print(f"\n{'with' if with_propositions else 'without'} proposition features: out-of-fold AUC {auc(score, y):.3f}; "
              f"gold pairs among the highest 20/40/80: {[int(y[top[:k]].sum()) for k in (20, 40, 80)]}")
        seen, shown, tally = set(), 0, {"new gold": 0, "emitted": 0, "not gold": 0, "development": 0}
        for i in top:
            p, _, source, _ = data[i]
            if (source, p["docs"]) in seen:
                continue
            seen.add((source, p["docs"]))
            what = ("development" if source == "dev" else "emitted" if p["docs"] in emitted
                    else "new gold" if p["docs"] in gold else "not gold")
            tally[what] += 1
            shown += 1
            if shown >= 40:
                break
        print("  the 40 highest document pairs:", ", ".join(f"{k} {v}" for k, v in tally.items()))


if __name__ == "__main__":
    main()
