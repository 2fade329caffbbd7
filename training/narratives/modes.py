#!/usr/bin/env python3
"""Which rule decides each present narrative's mode, how often it is right, and a learned mode head in its place.

`extract/narratives.py` decides endorsed or reported by a cascade: a narrative whose side the author's own stance
turns against (the taxonomy's `sides`) is reported; otherwise a document that relays a speaker without distance
endorses (unless the narrative's cues sit in a debunking sentence); a narrative whose cue votes are all in others' words
is reported; one on the document's leading side is endorsed, on the other side reported; the mode head decides the
rest. This script counts, over every narrative the gold holds (whether or not the presence head finds it), which
step decided and whether it agrees with the gold (a narrative the gold holds in both modes counts once per mode), on the development set (shipped heads) and the cross-source set.
It then replaces the cascade by one logistic regression over the same signals (side, cue votes, own-voice share of
the closest sentences, relay, the reported-cues condition), optionally with the document's voice profile (share of
others' words, share of sentences that report, distance, hedging) and its products with the side, fitted on the
present gold narratives of the other documents (leave-one-document-out), and prints the pair figures with the
presence head as `train_heads.py` fits it.

    .venv/bin/python training/narratives/modes.py --db /tmp/narratives-dev/atlas.db --cross /tmp/narratives-cross/atlas.db
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_heads as th  # noqa: E402

from influence_atlas.extract import narratives as nx  # noqa: E402
from influence_atlas.ontology.narratives import load_taxonomy  # noqa: E402

SIDE, CUE_OWN, CUE_OTHERS, SHARE = (nx.MODE_FEATURES.index(f) for f in ("same_side", "cue_endorsed", "cue_reported", "author_share"))
L2 = 1.0


def gold_modes(pairs: set) -> dict[str, set[str]]:
    """Return the gold modes per narrative (a document may both endorse and report one)."""
    out: dict[str, set[str]] = {}
    for n, m in pairs:
        out.setdefault(n, set()).add(m)
    return out


def collect(db: str) -> list[dict]:
    """Return per gold document of the database (gold in the 'gold' folder beside it) its features and gold pairs."""
    return [{"name": d.name, "lang": g["language"], "pairs": g["pairs"], "feats": feats}
            for d, g, feats, _ in th.gold_documents(db, load_taxonomy())]


def relayed(f: nx.DocumentFeatures, j: int) -> bool:
    return f.relay and not (f.debunked is not None and f.debunked[j])


def only_others(f: nx.DocumentFeatures, j: int) -> bool:
    return f.mode[j, CUE_OWN] <= 0 and f.mode[j, CUE_OTHERS] >= th.REPORTED_CUES_MIN


def deciding_rule(f: nx.DocumentFeatures, j: int) -> str:
    """Return the step of the cascade (`narratives.score_features`) that decides narrative j's mode."""
    if f.against is not None and f.against[j]:
        return "stance against side"
    if relayed(f, j):
        return "relay"
    if only_others(f, j):
        return "reported cues"
    side = f.mode[j, SIDE]
    return "leading side" if side > 0 else "other side" if side < 0 else "mode head"


def mode_rows(f: nx.DocumentFeatures, profile: int) -> np.ndarray:
    """Return the learned mode head's inputs per narrative: the cascade's signals, and with `profile` >= 1 the document's
    voice profile (>= 2: also its products with the side)."""
    p = f.profile
    rate = p.reporting / max(1, p.sentences) if p else 0.0
    voice = [p.reported_share, rate, p.distance, p.hedging] if p else [0.0] * 4
    rows = []
    for j in range(len(f.narratives)):
        side = float(f.mode[j, SIDE])
        row = [side, f.mode[j, CUE_OWN], f.mode[j, CUE_OTHERS], f.mode[j, SHARE], float(relayed(f, j)), float(only_others(f, j))]
        if profile >= 1:
            row += voice
        if profile >= 2:
            row += [side * v for v in voice[:2]] + [side * voice[3]]
        rows.append(row)
    return np.array(rows, np.float64)


def fit_mode(docs: list[dict], profile: int):
    """Return a function from a document's features to its narratives' probability of being endorsed, fitted on the
    present gold narratives of `docs`."""
    x, y = [], []
    for d in docs:
        gold = gold_modes(d["pairs"])
        rows = mode_rows(d["feats"], profile)
        for j, n in enumerate(d["feats"].narratives):
            for m in sorted(gold.get(n, ())):
                x.append(rows[j])
                y.append(m == nx.ENDORSED)
    x = np.array(x)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    w = nx._fit_logistic((x - mu) / sd, np.array(y, float), L2)
    return lambda f: nx._sigmoid(((mode_rows(f, profile) - mu) / sd) @ w[:-1] + w[-1])


def scored(f: nx.DocumentFeatures, heads: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Return presence and endorsement per narrative from `heads` (presence weights, mode weights, threshold) and the cascade."""
    return th.predict_scores(heads[0], heads[1], f)


def predicted(f: nx.DocumentFeatures, heads: tuple, mode=None) -> set:
    """Return the document's (narrative, mode) pairs: presence from `heads`, the mode from the cascade or from `mode`."""
    present, endorsed = scored(f, heads)
    if mode is not None:
        endorsed = mode(f)
    return {(n, nx.ENDORSED if endorsed[j] >= 0.5 else nx.REPORTED) for j, n in enumerate(f.narratives) if present[j] >= heads[2]}


def agreement(docs: list[dict], modes: list) -> str:
    """Return "right/total" over the gold narratives: the mode from `modes` (one function per document) among the gold's."""
    right = total = 0
    for d, mode in zip(docs, modes):
        f, gold = d["feats"], gold_modes(d["pairs"])
        endorsed = mode(f)
        for j, n in enumerate(f.narratives):
            if n in gold:
                total += 1
                right += (nx.ENDORSED if endorsed[j] >= 0.5 else nx.REPORTED) in gold[n]
    return f"{right}/{total}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    th.database_arguments(ap, cross_required=True)
    a = ap.parse_args()
    dev, cross = collect(a.db), collect(a.cross)
    for label, docs in (("development", dev), ("cross-source", cross)):
        counts: Counter = Counter()
        for d in docs:
            f, gold = d["feats"], gold_modes(d["pairs"])
            endorsed = nx.score_features(f)[1]
            for j, n in enumerate(f.narratives):
                for m in sorted(gold.get(n, ())):
                    counts[deciding_rule(f, j), m, (m == nx.ENDORSED) == (endorsed[j] >= 0.5)] += 1
        print(f"{label} set, gold narratives by the step that decides their mode (shipped heads):")
        for rule in ("stance against side", "relay", "reported cues", "leading side", "other side", "mode head"):
            cells = [f"gold {m}: {counts[rule, m, True]} right, {counts[rule, m, False]} wrong" for m in (nx.ENDORSED, nx.REPORTED)
                     if counts[rule, m, True] + counts[rule, m, False]]
            print(f"  {rule:14s} " + "; ".join(cells))
    items = [(d["feats"], d["pairs"]) for d in dev]
    folds = []
    for k in range(len(items)):
        train = items[:k] + items[k + 1:]
        wp, wm = th.fit(train)
        folds.append((wp, wm, th.best_threshold(wp, wm, train)))
    wp, wm = th.fit(items)
    whole = (wp, wm, th.best_threshold(wp, wm, items))
    names = [(d["name"], d["lang"]) for d in dev]
    for label, profile in (("cascade (shipped)", None), ("learned, cascade signals", 0), ("learned, + voice profile", 1),
                           ("learned, + profile x side", 2)):
        if profile is None:
            modes = [lambda f, h=h: scored(f, h)[1] for h in folds]
            full = lambda f: scored(f, whole)[1]  # noqa: E731
        else:
            modes = [fit_mode(dev[:k] + dev[k + 1:], profile) for k in range(len(dev))]
            full = fit_mode(dev, profile)
        pred = [predicted(d["feats"], folds[k], modes[k]) for k, d in enumerate(dev)]
        cross_f1 = th.f1([predicted(d["feats"], whole, full) for d in cross], [d["pairs"] for d in cross])[2]
        print(f"{label:28s} " + " | ".join(th.split_figures(pred, [d["pairs"] for d in dev], names)) +
              f" | cross {cross_f1:.3f} | modes right: development {agreement(dev, modes)}, cross {agreement(cross, [full] * len(cross))}")


if __name__ == "__main__":
    main()
