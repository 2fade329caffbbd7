#!/usr/bin/env python3
"""SemEval-2025 Task 10 subtask 2 (English): 5-fold cross-validation of `atlas narratives classify` with the task's own
taxonomy loaded as a user taxonomy file.

For each fold the script writes, under --work, a taxonomy YAML made from the task's label lists (22 narratives, their
sub-narratives as children, names only: the task publishes no descriptions) whose `labelled:` section names the
training folds' articles and labels; `classify_articles` then labels the held-out fold, and F1-samples is computed as the
task's scorer does (per article, sets of labels, `Other` when none; coarse = narratives, fine = sub-narratives).
Nothing of the data set is written into the repository.

    .venv/bin/python training/narratives/semeval_cv.py [--folds 5] [--thresholds 0.6,0.7,0.8,0.9]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_heads as th  # noqa: E402

from influence_atlas.extract import narratives as nx  # noqa: E402
from influence_atlas.ontology.narratives import load_taxonomy  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "semeval2025-task10"
DOCS = DATA / "train" / "EN" / "raw-documents"
LABELS = DATA / "train" / "EN" / "subtask-2-annotations.txt"


def taxonomy_entries() -> list[dict]:
    """Return the task's narratives and sub-narratives as taxonomy entries (ids are the task's labels)."""
    coarse = [x.strip() for x in (DATA / "taxonomy" / "subtask2_narratives.txt").read_text().splitlines() if x.strip() and x.strip() != "Other"]
    fine = [x.strip() for x in (DATA / "taxonomy" / "subtask2_subnarratives.txt").read_text().splitlines() if x.strip() and x.strip() != "Other"]
    # A few sub-narratives used in the annotations are missing from the published list.
    used = {x for ln in LABELS.read_text().splitlines() if ln.count("\t") >= 2 for x in ln.split("\t")[2].split(";")}
    fine += sorted(x for x in used - set(fine) if x and x != "Other")
    out = []
    for c in coarse:
        out.append({"id": c, "name": c.split(": ", 1)[-1]})
        for f in fine:
            if f.startswith(c + ": "):
                out.append({"id": f, "name": f[len(c) + 2 :], "parent": c,
                            "description": f"{c.split(': ', 1)[-1]}: {f[len(c) + 2:]}"})
    return out


def f1_samples(pred: list[set], gold: list[set]) -> float:
    total = 0.0
    for p, g in zip(pred, gold):
        p, g = p or {"Other"}, g or {"Other"}
        tp = len(p & g)
        total += 2 * tp / (len(p) + len(g)) if tp else 0.0
    return round(total / len(gold), 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--work", default="/tmp/narratives-semeval")
    ap.add_argument("--thresholds", default="0.6,0.7,0.8,0.9", help="probabilities from which a narrative counts, to compare")
    ap.add_argument("--zero-shot", action="store_true", help="also score the taxonomy without labelled documents")
    ap.add_argument("--vectors", default=None, help="keep the sentence vectors in this .npz file and reuse them "
                    "(a rerun then skips the encoder)")
    a = ap.parse_args()
    encoder = th.memoised_encoder(a.vectors)
    if not DOCS.is_dir():
        raise SystemExit(f"{DATA} not found: this benchmark reads ../shared/data/semeval2025-task10")
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    lines = {ln.split("\t")[0]: ln for ln in LABELS.read_text().splitlines() if ln.strip()}
    gold = {k: ({x for x in v.split("\t")[1].split(";") if x and x != "Other"},
                {x for x in v.split("\t")[2].split(";") if x and x != "Other"}) for k, v in lines.items()}
    names = sorted(lines)
    random.Random(0).shuffle(names)
    entries = taxonomy_entries()
    thresholds = [float(t) for t in a.thresholds.split(",")]
    preds = {t: {} for t in thresholds}
    for k in range(a.folds):
        test = set(names[k :: a.folds])
        fold = work / f"fold{k}"
        (fold / "test").mkdir(parents=True, exist_ok=True)
        for name in test:
            link = fold / "test" / name
            if not link.exists():
                link.symlink_to(DOCS / name)
        (fold / "labels.txt").write_text("\n".join(lines[n] for n in sorted(set(names) - test)) + "\n")
        (fold / "taxonomy.yaml").write_text(yaml.safe_dump(
            {"version": 1, "labelled": {"documents": str(DOCS), "labels": "labels.txt"}, "narratives": entries},
            allow_unicode=True, sort_keys=False))
        tax = load_taxonomy(fold / "taxonomy.yaml")
        for t in thresholds:
            nx.LABELLED_MIN = t
            for article, coarse, fine in nx.classify_articles(fold / "test", tax):
                preds[t][article] = (set(coarse), set(fine))
        print(f"fold {k}: {len(test)} articles", flush=True)
        if k == 0:
            th.keep_vectors(a.vectors, encoder)
    for t in thresholds:
        order = sorted(preds[t])
        coarse = f1_samples([preds[t][n][0] for n in order], [gold[n][0] for n in order])
        fine = f1_samples([preds[t][n][1] for n in order], [gold[n][1] for n in order])
        print(f"threshold {t}: {a.folds}-fold CV F1-samples coarse {coarse} fine {fine}")
    if a.zero_shot:
        (work / "zero.yaml").write_text(yaml.safe_dump({"version": 1, "narratives": entries}, allow_unicode=True, sort_keys=False))
        rows = nx.classify_articles(DOCS, load_taxonomy(work / "zero.yaml"))
        order = [r[0] for r in rows]
        print("zero-shot (names only, no labelled documents): F1-samples coarse",
              f1_samples([set(r[1]) for r in rows], [gold[n][0] for n in order]),
              "fine", f1_samples([set(r[2]) for r in rows], [gold[n][1] for n in order]))


if __name__ == "__main__":
    main()
