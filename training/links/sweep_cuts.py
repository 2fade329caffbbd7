"""Relink two analysed databases at other values of one shipped cut-off and choose it by story (issue 20).

For each value of `--cut NAME=V1,V2,...` (a key of `thresholds` in models/links/links.json) the stored records of the
cross-source database are relinked as analysis links them, and the gold document pairs it gets right and wrong are
counted per story (`stories.json`; a pair counts for each story it touches); on the development database the
document pairs linked beyond those of the shipped value are listed (their gold lists no link: each is to be judged by
reading both sides with `scripts/list_links.py`, and counts as wrong for the choice below). Then leave-one-story-out:
for each held-out story the value with the best score on the other three stories (right - 3 x wrong - 3 x new
development pairs) is chosen, ties to the higher and (separately) to the lower value, and its held-out figures are
reported.

    .venv/bin/python training/links/sweep_cuts.py /tmp/NAME-cross/atlas.db /tmp/NAME-dev/atlas.db \\
        --gold ../shared/corpus/cross/gold --cut same_event_country=0.75,0.8,0.85,0.9 [--cut contradicts_story=...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "src"))
sys.path.insert(0, str(HERE))

import influence_atlas.reconcile.claims as claims_module  # noqa: E402
import influence_atlas.reconcile.features as features_module  # noqa: E402
from breakdown import gold_pairs, pairs_linked  # noqa: E402
from influence_atlas.store import open_store  # noqa: E402

STORY_FOLDS = ("gossi", "mali-arrival", "prigozhin", "car-instructors")


def linked_pairs(db: str, thresholds: dict[str, float]) -> set[tuple[str, str, str]]:
    """Return (kind, document, document) for every pair the linker joins on a database's stored records."""
    models = features_module.load_link_models()
    models.thresholds.update(thresholds)
    original = claims_module.load_link_models
    claims_module.load_link_models = features_module.load_link_models = lambda: models
    try:
        store = open_store(db)
        documents, events, claims = store.documents(), store.events(), store.claims()
        found = claims_module.compare_documents(documents, claims, events, store.stances())
        return pairs_linked(found, events, claims, {d.id: d.name for d in documents})
    finally:
        claims_module.load_link_models = features_module.load_link_models = original


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cross_db", help="analysed cross-source database")
    ap.add_argument("dev_db", help="analysed development database")
    ap.add_argument("--gold", required=True, help="gold folder of the cross-source set (exhaustive cross.json)")
    ap.add_argument("--cut", required=True, action="append", metavar="NAME=V1,V2,...",
                    help="one cut-off and its values; give several to map each in turn (the development set's shipped "
                         "links are relinked once)")
    a = ap.parse_args()
    gold = gold_pairs(json.loads((Path(a.gold) / "cross.json").read_text()))
    story_of = {d: s for s, ds in json.loads((HERE / "stories.json").read_text()).items() if s in STORY_FOLDS
                for d in ds}
    base_dev = linked_pairs(a.dev_db, {})
    for cut in a.cut:
        name, values = cut.split("=")
        sweep(a, name, [float(v) for v in values.split(",")], gold, story_of, base_dev)


def sweep(a, name: str, grid: list[float], gold: set, story_of: dict, base_dev: set) -> None:
    """Relink both databases at each value of one cut-off, print the figures and the leave-one-story-out choice."""
    table = {}
    for v in grid:
        emitted = linked_pairs(a.cross_db, {name: v})
        new_dev = sorted(linked_pairs(a.dev_db, {name: v}) - base_dev)
        per = {}
        for s in STORY_FOLDS:
            touch = {p for p in emitted if s in (story_of.get(p[1]), story_of.get(p[2]))}
            per[s] = (len(touch & gold), len(touch - gold))
        table[v] = (per, len(new_dev))
        print(f"{name}={v}: cross right {len(emitted & gold)} wrong {len(emitted - gold)} of {len(gold)}; per story "
              f"{per}; development pairs beyond the shipped value: {new_dev}", flush=True)
    for ties, sign in (("higher", 1), ("lower", -1)):
        right = wrong = 0
        for held in STORY_FOLDS:
            def score(v):
                per, new_dev = table[v]
                return sum(r - 3 * w for s, (r, w) in per.items() if s != held) - 3 * new_dev
            best = max(grid, key=lambda v: (score(v), sign * v))
            r, w = table[best][0][held]
            right, wrong = right + r, wrong + w
            print(f"ties to the {ties} value; held out {held}: chosen {best}, held-out pairs right {r} wrong {w}")
        print(f"{name}: leave-one-story-out, ties to the {ties} value: right {right}, wrong {wrong} "
              "(a pair touching two stories counts in both)")


if __name__ == "__main__":
    main()
