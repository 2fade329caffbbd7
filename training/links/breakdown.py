"""Break the gold document pairs a linked database misses down by kind, language pair and cause (issue 20).

Reads an analysed database (`scripts/score_devset.py --set cross --work DIR` leaves DIR/atlas.db), runs the pair
models on its stored records as analysis does, and for every document pair the exhaustive gold `cross.json` joins
says whether the linker emits it and, if not, why:

- `doc conf below cut`: the document-level confidence of that kind is under its cut-off;
- `no anchored event pair` / `no anchored claim pair`: the pair is confident but none of its item pairs has an anchor
  (no extracted telling of the happening in one document, or claims that share nothing specific);
- `anchor kind refused`: anchored items exist but the kind's stricter rule (cue, uncued cut-off) refuses them;
- `grouping refused`: same_event tellings matched but the group joins refused them.

`--oracle any` sets every kind's document-level confidence to 0.99 for document pairs the gold joins by any link,
`--oracle kind` only for the kinds it joins them by (the rest of the pipeline unchanged): the recall a perfect
document-level step would give with the present anchors and extraction.

    .venv/bin/python training/links/breakdown.py /tmp/NAME-cross/atlas.db ../shared/corpus/cross/gold [--oracle any]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "src"))

import influence_atlas.reconcile.claims as claims_module  # noqa: E402
from influence_atlas.reconcile.claims import compare_documents, link_claims_from  # noqa: E402
from influence_atlas.reconcile.events import link_same_events  # noqa: E402
from influence_atlas.reconcile.features import LinkModels, load_link_models  # noqa: E402
from influence_atlas.evaluate import CROSS_GROUPS, gold_document_pairs  # noqa: E402
from influence_atlas.store import open_store  # noqa: E402

GROUPS = CROSS_GROUPS
gold_pairs = gold_document_pairs  # (kind, document, document) for every two documents a gold cross.json joins


def findings_scored(documents, claims, events, stances, names, score):
    """Return compare_documents' findings with every document-level confidence passed through `score(kind, name,
    name, row, p)` (the two documents' names, sorted; the pair's DOC_FEATURES row; the shipped model's probability).

    compare_documents builds a batch's DOC_FEATURES rows pair by pair (`doc_pair_features`, whose last argument is the
    pair's corpus context) and then scores the batch's rows at once (`document_probabilities_of`): the context is
    tagged with its pair, each row built records its pair, and the scoring of a batch reads the pairs of its rows (the
    last ones built)."""
    built: list[tuple[str, str]] = []  # the pairs of the rows built so far, in order: a batch's are the last ones
    original_context, original_row = claims_module.corpus_context, claims_module.doc_pair_features
    original_probabilities = LinkModels.document_probabilities_of

    class Tagged(tuple):
        pair: tuple[str, str]

    def context(pairs, *args, **kwargs):
        out = {}
        for p, v in original_context(pairs, *args, **kwargs).items():
            out[p] = Tagged(v)
            out[p].pair = p
        return out

    def row(*args):
        built.append(args[-1].pair)
        return original_row(*args)

    def probabilities(self, kind, rows):
        out = original_probabilities(self, kind, rows).copy()
        pairs = built[-len(rows):] if len(rows) else []
        for i, pair in enumerate(pairs):
            out[i] = score(kind, *sorted(names[d] for d in pair), rows[i], float(out[i]))
        return out

    claims_module.corpus_context, claims_module.doc_pair_features = context, row
    LinkModels.document_probabilities_of = probabilities
    try:
        return compare_documents(documents, claims, events, stances)
    finally:
        claims_module.corpus_context, claims_module.doc_pair_features = original_context, original_row
        LinkModels.document_probabilities_of = original_probabilities


def oracle_found(documents, claims, events, stances, names, gold, mode):
    """Return compare_documents' findings with the document-level confidence of gold pairs set to 0.99."""
    wanted = {(k, a, b) for k, a, b in gold} if mode == "kind" else {(k, a, b) for _, a, b in gold
                                                                     for k in GROUPS.values()}
    return findings_scored(documents, claims, events, stances, names,
                           lambda kind, a, b, row, p: 0.99 if (kind, a, b) in wanted else p)


def pairs_linked(found, events, claims, names) -> set[tuple[str, str, str]]:
    """Return (kind, document name, document name) for every two documents the links made from `found` join."""
    links = link_same_events(events, found=found) + link_claims_from(found)
    doc_of = {e.id: e.doc for e in events} | {c.id: c.doc for c in claims}
    emitted = set()
    for link in links:
        ds = sorted({names[doc_of[i]] for i in link.items})
        emitted |= {(link.kind, x, y) for i, x in enumerate(ds) for y in ds[i + 1:]}
    return emitted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", help="an analysed database")
    ap.add_argument("gold", help="gold folder holding an exhaustive cross.json")
    ap.add_argument("--oracle", choices=("none", "any", "kind"), default="none")
    ap.add_argument("--quiet", action="store_true", help="print the counts only")
    a = ap.parse_args()
    store = open_store(a.db)
    documents, events, claims, stances = store.documents(), store.events(), store.claims(), store.stances()
    names = {d.id: d.name for d in documents}
    language = {d.name: d.language for d in documents}
    gold = gold_pairs(json.loads((Path(a.gold) / "cross.json").read_text()))
    if a.oracle == "none":
        found = compare_documents(documents, claims, events, stances)
    else:
        found = oracle_found(documents, claims, events, stances, names, gold, a.oracle)
    thresholds = load_link_models().thresholds
    emitted = pairs_linked(found, events, claims, names)
    by_name = {v: k for k, v in names.items()}
    causes: Counter = Counter()
    for kind, x, y in sorted(gold):
        f = found.get(tuple(sorted((by_name[x], by_name[y]))))
        languages = "-".join(sorted((language[x] or "?", language[y] or "?")))
        if (kind, x, y) in emitted:
            cause = "emitted"
        elif f is None:
            cause = "not a candidate pair"
        else:
            lowest = thresholds[kind]
            if kind == "corroborates":
                lowest = min(lowest, thresholds.get("corroborates_specific", lowest))
            items = f.event_pairs if kind == "same_event" else f.claim_pairs
            if f.confidence[kind] < lowest:
                cause = "doc conf below cut"
            elif not items:
                cause = f"no anchored {'event' if kind == 'same_event' else 'claim'} pair"
            else:
                cause = "grouping refused" if kind == "same_event" else "anchor kind refused"
        causes[(kind, cause, languages)] += 1
        if not a.quiet:
            conf = " ".join(f"{k[:4]}={f.confidence[k]:.2f}" for k in GROUPS.values()) if f else ""
            print(f"{kind:12s} {languages} {cause:24s} {conf}  {x} | {y}")
    print("\nkind, cause, languages: pairs")
    for key, n in sorted(causes.items()):
        print(f"  {', '.join(key)}: {n}")
    right = len(emitted & gold)
    print(f"emitted {len(emitted)}, right {right}, gold {len(gold)}: P {right / max(1, len(emitted)):.3f} "
          f"R {right / len(gold):.3f}; wrong: {sorted(emitted - gold)}")


if __name__ == "__main__":
    main()
