"""Leave-one-story-out figure for the shipped link decisions on extracted records.

The document-level models are refitted without the story of each document (train.py's folds and inputs, from the
rows `train.py --dump FILE` writes), and an analysed database of the cross-source set is relinked with those
out-of-fold confidences (item-pair models, anchors and cut-offs as shipped), so the figure does not rest on document
models that saw the story they link. Usage (after `scripts/score_devset.py --set cross --work DIR`):

    .venv/bin/python training/links/train.py --dump /tmp/links-dump.pkl ...   (the README's command)
    .venv/bin/python training/links/cv_decisions.py DIR/atlas.db DIR/gold --dump /tmp/links-dump.pkl
"""
import argparse
import collections
import itertools
import json
import pickle
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "src"))
sys.path.insert(0, str(HERE))

import train  # noqa: E402
from influence_atlas.reconcile.features import DOC_FEATURES, LINK_KINDS, LinkModels  # noqa: E402
from influence_atlas.store import open_store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", help="an analysed database of ../shared/corpus/cross")
    ap.add_argument("gold", help="the gold folder with cross.json")
    ap.add_argument("--dump", default="/tmp/links-dump.pkl", help="the document-pair rows train.py --dump wrote")
    args = ap.parse_args()
    DB, GOLD = args.db, Path(args.gold)
    dump = pickle.load(open(args.dump, "rb"))
    dx_all, dpairs, ds, gold_tr, dev_docs = dump["dx"], dump["dpairs"], dump["ds"], dump["gold"], dump["dev_docs"]
    stories = {d: s for s, docs in json.loads((HERE / "stories.json").read_text()).items()
               if not s.startswith("_") for d in docs}
    fold = {}
    for kind in LINK_KINDS:
        dy = np.array([int(p in gold_tr[kind]) for p in dpairs])
        dx = dx_all.copy()
        drop = ["same_event_second", "same_event_top3"] + ([] if kind == "same_event" else ["same_event_max"])
        if kind != "contradicts":
            drop.append("stance_opposed")
        dx[:, [DOC_FEATURES.index(f) for f in drop]] = 0.0
        use = np.array([kind != "same_event" or not ({x, y} & dev_docs) for x, y in dpairs])
        dx, dy = dx[use], dy[use]
        ds_k = [d for d, u in zip(ds, use) if u]
        for held in set(stories.values()):
            tr = np.array([held not in s_ for s_ in ds_k])
            m = train.fit_softmax(dx[tr], dy[tr], 2, weight_pos=3.0, l2=3.0)
            fold[(kind, held)] = (np.float32(m[0][:, 1] - m[0][:, 0]), np.float32(m[1]), np.float32(m[2]))

    store = open_store(DB)
    documents = store.documents(); names = {d.id: d.name for d in documents}
    events = list(store.events()); claims = list(store.claims()); stances = store.stances()
    import influence_atlas.reconcile as R
    from influence_atlas.reconcile import claims as rc
    pairs_seen = []
    oc = rc.candidate_documents
    def cap(*a, **k):
        p = oc(*a, **k); pairs_seen.extend(sorted(p)); return p
    rc.candidate_documents = cap
    calls = collections.Counter()
    orig = LinkModels.document_probabilities
    def oof(self, kind, rows):
        i = calls[kind]; calls[kind] += 1
        a, b = pairs_seen[i]
        held = {stories.get(names[a]), stories.get(names[b])} - {None}
        if not held:
            return orig(self, kind, rows)
        out = []
        for h in held:
            w, mean, scale = fold[(kind, h)]
            x = (rows - mean) / scale; x[:, 0] = 1.0
            out.append(1.0 / (1.0 + np.exp(-(x @ w))))
        return np.mean(out, axis=0)
    LinkModels.document_probabilities = oof
    links = R.link_across(documents, events, claims, stances)
    ids = {e.id: e.doc for e in events}; ids.update({c.id: c.doc for c in claims})
    cross = json.load(open(GOLD / "cross.json"))
    kinds = {"same_event": "same_event", "contradicting_claims": "contradicts", "corroborating_claims": "corroborates"}
    gold = set()
    for g, k in kinds.items():
        for x in cross.get(g, []):
            dd = sorted({i.split("#")[0] for i in x["items"]})
            gold |= {(k, a, b) for a, b in itertools.combinations(dd, 2)}
    sysp = set()
    for l in links:
        dd = sorted({names[ids[i]] for i in l.items if i in ids})
        sysp |= {(l.kind, a, b) for a, b in itertools.combinations(dd, 2)}
    names_set = set(names.values()); gold = {g for g in gold if g[1] in names_set and g[2] in names_set}
    r = len(sysp & gold)
    print(f"leave-one-story-out document models: pairs right {r} emitted {len(sysp)} gold {len(gold)} P {r/max(1,len(sysp)):.3f} R {r/len(gold):.3f}")
    for k in ("same_event", "corroborates", "contradicts"):
        s_ = {p for p in sysp if p[0] == k}; g_ = {p for p in gold if p[0] == k}
        print(f"  {k}: {len(s_ & g_)}/{len(s_)} right, {len(g_)} in gold")
    for p in sorted(sysp - gold): print("  wrong:", p)


if __name__ == "__main__":
    main()
