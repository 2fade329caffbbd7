"""How far the int8 shared pass moves the document cosines that `cos_rank_*` rank (issue 21): the spread a rank's
tolerance must absorb (`features.DOC_COS_TOLERANCE`).

For every document of the stored corpora (analysis databases: their documents' texts), its vector is taken from the
shared MiniLM pass with float32 products and with int8 products (`encoder.INT8_PRODUCTS`); for every document x and two
partners y, z of one language, the gap cos(x, y) - cos(x, z) is compared across the two passes. Prints the quantiles
of the cosine's move and of the gap's move, how many partner orders the int8 pass flips at each gap, and how far it
moves `cos_rank_mutual` (every two documents of a corpus taken as partners) with the plain and the smooth rank.

    .venv/bin/python training/links/rank_spread.py /tmp/base10-dev/atlas.db /tmp/base10-cross/atlas.db
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
from itertools import combinations
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))


def texts_of(db: str) -> tuple[dict[str, str], dict[str, str | None]]:
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, text, language FROM documents ORDER BY id").fetchall()
    return {d: t for d, t, _ in rows}, {d: lang for d, _, lang in rows}


def vectors(dbs: list[str], int8: bool, out: str) -> None:
    from influence_atlas.extract import encoder
    encoder.INT8_PRODUCTS = int8
    from influence_atlas.reconcile.links import document_vectors
    arrays = {}
    for k, db in enumerate(dbs):
        texts, _ = texts_of(db)
        for d, v in document_vectors(texts).items():
            arrays[f"{k}|{d}"] = v
    np.savez(out, **arrays)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dbs", nargs="+")
    ap.add_argument("--child", choices=("f32", "int8"), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        vectors(args.dbs, args.child == "int8", args.out)
        return
    tmp = Path(tempfile.mkdtemp())
    got = {}
    for mode in ("f32", "int8"):  # one process each: the encoder's graph is built once per process
        out = str(tmp / f"{mode}.npz")
        subprocess.run([sys.executable, __file__, *args.dbs, "--child", mode, "--out", out], check=True)
        got[mode] = dict(np.load(tmp / f"{mode}.npz"))
    from influence_atlas.reconcile.features import DOC_COS_TOLERANCE, reciprocal_ranks
    moves, gaps, gap_moves, rank_moves = [], [], [], {0.0: [], DOC_COS_TOLERANCE: []}
    for k, db in enumerate(args.dbs):
        _, language = texts_of(db)
        docs = sorted(d for d in language if f"{k}|{d}" in got["f32"])
        cos = {m: {(a, b): float(got[m][f"{k}|{a}"] @ got[m][f"{k}|{b}"]) for a, b in combinations(docs, 2)}
               for m in got}
        moves += [cos["int8"][p] - cos["f32"][p] for p in cos["f32"]]
        for tol, out in rank_moves.items():
            r32, r8 = (reciprocal_ranks(cos[m], language, tol) for m in ("f32", "int8"))
            out += [r8[p][1] - r32[p][1] for p in r32]

        def c(m, a, b):
            return cos[m][(a, b) if a < b else (b, a)]
        for x in docs:
            others = [y for y in docs if y != x]
            for y, z in combinations(others, 2):
                if language[y] != language[z]:
                    continue
                g32, g8 = c("f32", x, y) - c("f32", x, z), c("int8", x, y) - c("int8", x, z)
                gaps.append(g32)
                gap_moves.append(g8 - g32)
    moves, gaps, gap_moves = np.abs(moves), np.array(gaps), np.array(gap_moves)
    q = (0.5, 0.9, 0.99, 0.999, 1.0)
    print(f"document pairs {len(moves)}: |cosine move| quantiles {dict(zip(q, np.quantile(moves, q).round(4)))}")
    print(f"partner pairs of one language {len(gaps)}: |gap move| quantiles "
          f"{dict(zip(q, np.quantile(np.abs(gap_moves), q).round(4)))}")
    flip = np.sign(gaps) != np.sign(gaps + gap_moves)
    for lo, hi in ((0, 0.0025), (0.0025, 0.005), (0.005, 0.01), (0.01, 0.02), (0.02, 1)):
        at = (np.abs(gaps) >= lo) & (np.abs(gaps) < hi)
        print(f"  float32 gap in [{lo}, {hi}): {int(at.sum())} partner pairs, "
              f"order flipped by int8 in {int(flip[at].sum())}")
    for tol, out in rank_moves.items():
        out = np.abs(out)
        print(f"cos_rank_mutual, tolerance {tol}: |move| quantiles {dict(zip(q, np.quantile(out, q).round(3)))}, "
              f"moved by >= 0.05: {int((out >= 0.05).sum())} of {len(out)}, by >= 0.1: {int((out >= 0.1).sum())}")


if __name__ == "__main__":
    main()
