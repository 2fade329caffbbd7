"""Leave-one-story-out figure for the shipped link decisions on extracted records.

The document-level models are refitted without the story of each document (train.py's folds and inputs, from the
rows `train.py --dump FILE` writes), and an analysed database of the cross-source set is relinked with those
out-of-fold confidences (item-pair models, anchors and cut-offs as shipped), so the figure does not rest on document
models that saw the story they link. The confidences are replaced where analysis scores a batch of document pairs
(`breakdown.findings_scored`). With `--dev DB` the development set's database is relinked the same way and the
document pairs linked beyond its plain run are listed (its gold lists no link: each is to be judged by reading both
sides). `--in-sample` refits on every story instead (the training script's models, without its rounding): the
figure to set the out-of-fold one against. Usage (after `scripts/score_devset.py --set cross --work DIR`):

    .venv/bin/python training/links/train.py --dump /tmp/links-dump.pkl ...   (the README's command)
    .venv/bin/python training/links/cv_decisions.py DIR/atlas.db DIR/gold --dump /tmp/links-dump.pkl [--dev DEV/atlas.db]
"""
import argparse
import json
import pickle
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "src"))
sys.path.insert(0, str(HERE))

import train  # noqa: E402
from breakdown import findings_scored, gold_pairs, pairs_linked  # noqa: E402
from influence_atlas.reconcile.claims import compare_documents  # noqa: E402
from influence_atlas.reconcile.features import DOC_FEATURES, LINK_KINDS  # noqa: E402
from influence_atlas.store import open_store  # noqa: E402


def fold_models(dump: dict, stories: dict, in_sample: bool, weight_pos: float = train.DOC_WEIGHT_POS,
                l2: float = train.DOC_L2) -> dict:
    """Return (kind, held-out story) -> (weights, mean, scale) of the document-level model fitted without that story
    (train.py's inputs and settings, unless `weight_pos` / `l2` say otherwise); with `in_sample`, the model fitted on
    every story under each key."""
    dx_all, dpairs, gold, dev_docs = dump["dx"], dump["dpairs"], dump["gold"], dump["dev_docs"]
    out = {}
    for kind in LINK_KINDS:
        dy = np.array([int(p in gold[kind]) for p in dpairs])
        dx = dx_all.copy()
        drop = ["same_event_second", "same_event_top3"] + ([] if kind == "same_event" else ["same_event_max"])
        if kind != "contradicts":
            drop.append("stance_opposed")
        dx[:, [DOC_FEATURES.index(f) for f in drop]] = 0.0
        use = np.array([kind != "same_event" or not ({x, y} & dev_docs) for x, y in dpairs])
        everything = train.fit_softmax(dx[use], dy[use], 2, weight_pos=weight_pos, l2=l2) if in_sample else None
        for held in set(stories.values()):
            tr = use & np.array([held not in (stories[x], stories[y]) for x, y in dpairs])
            m = everything or train.fit_softmax(dx[tr], dy[tr], 2, weight_pos=weight_pos, l2=l2)
            out[(kind, held)] = (np.float64(m[0][:, 1] - m[0][:, 0]), np.float64(m[1]), np.float64(m[2]))
    return out


def relinked(db: str, folds: dict, stories: dict) -> tuple[set, set]:
    """Return the document pairs a database's stored records link with the shipped models and with the fold models
    (a pair scored by the mean of the models that held out either of its documents' stories)."""
    store = open_store(db)
    documents, events, claims, stances = store.documents(), store.events(), store.claims(), store.stances()
    names = {d.id: d.name for d in documents}

    def score(kind, a, b, row, p):
        held = {stories.get(a), stories.get(b)} - {None}
        if not held:
            return p
        out = []
        for h in held:
            w, mean, scale = folds[(kind, h)]
            x = (row.astype(np.float64) - mean) / scale
            x[0] = 1.0
            out.append(1.0 / (1.0 + np.exp(-(x @ w))))
        return float(np.mean(out))

    plain = pairs_linked(compare_documents(documents, claims, events, stances), events, claims, names)
    scored = findings_scored(documents, claims, events, stances, names, score)
    return plain, pairs_linked(scored, events, claims, names)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", help="an analysed database of ../shared/corpus/cross")
    ap.add_argument("gold", help="the gold folder with cross.json")
    ap.add_argument("--dump", default="/tmp/links-dump.pkl", help="the document-pair rows train.py --dump wrote")
    ap.add_argument("--dev", default="", help="an analysed database of the development set, relinked the same way")
    ap.add_argument("--in-sample", action="store_true", help="refit on every story (the figure to compare against)")
    ap.add_argument("--weight-pos", type=float, default=train.DOC_WEIGHT_POS,
                    help="weight of the positive pairs in the document-level fit (train.py's by default)")
    ap.add_argument("--l2", type=float, default=train.DOC_L2, help="L2 penalty of that fit (train.py's by default)")
    args = ap.parse_args()
    dump = pickle.load(open(args.dump, "rb"))
    stories = {d: s for s, docs in json.loads((HERE / "stories.json").read_text()).items()
               if not s.startswith("_") for d in docs}
    # train.py's folds: the development documents, of no listed story, in four folds by name.
    for i, d in enumerate(sorted(dump["dev_docs"])):
        stories.setdefault(d, f"dev{i % 4}")
    folds = fold_models(dump, stories, args.in_sample, args.weight_pos, args.l2)
    gold = gold_pairs(json.loads((Path(args.gold) / "cross.json").read_text()))
    label = "in-sample" if args.in_sample else "leave-one-story-out"
    plain, linked = relinked(args.db, folds, stories)
    for name, pairs in (("shipped document models", plain), (f"{label} document models", linked)):
        right = len(pairs & gold)
        print(f"{name}: pairs right {right} emitted {len(pairs)} gold {len(gold)} P {right / max(1, len(pairs)):.3f} "
              f"R {right / len(gold):.3f}")
    for k in LINK_KINDS:
        s_ = {p for p in linked if p[0] == k}
        g_ = {p for p in gold if p[0] == k}
        print(f"  {k}: {len(s_ & g_)}/{len(s_)} right, {len(g_)} in gold")
    for p in sorted(linked - gold):
        print("  wrong:", p)
    if args.dev:
        plain, linked = relinked(args.dev, folds, stories)
        print(f"development set: {len(plain)} linked document pairs with the shipped models, {len(linked)} with the "
              f"{label} ones; beyond: {sorted(linked - plain)}; not linked: {sorted(plain - linked)}")


if __name__ == "__main__":
    main()
