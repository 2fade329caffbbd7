"""Co-sharing edges: two accounts are linked each time they share the same object within a time window."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np
import polars as pl

from ..errors import AtlasError
from . import _kernels
from .posts import Posts, dense_codes

Progress = Callable[[int, int], None]  # (work done, total work)
BLOCK_WORK = 2_000_000  # window pairs visited per block of accounts: bounds memory and paces the progress bar


@dataclass(frozen=True, eq=False)
class Edges:
    """Account pairs that acted together. `frame`: a, b (account codes into `accounts`), weight; sorted by
    (a, b). Undirected edges have a < b (so account_a < account_b); directed ones read a → b."""

    frame: pl.DataFrame
    accounts: pl.Series  # account names by code
    mode: str  # "co-share" or "co-text"
    directed: bool
    window: float  # seconds
    min_repeat: int
    candidate_pairs: int  # post pairs within one window (same object, or sharing a rare token), before thresholds
    posts_used: int  # posts that could take part (with an object, or with text)
    similarity: float | None = None  # co-text Jaccard threshold
    items: pl.DataFrame | None = None  # co-text: acc, time, item (the near-duplicate text) of matched posts

    def named(self) -> pl.DataFrame:
        """Return the edges as account_a, account_b, weight with account names."""
        return pl.DataFrame({
            "account_a": self.accounts.gather(self.frame["a"]),
            "account_b": self.accounts.gather(self.frame["b"]),
            "weight": self.frame["weight"],
        })

    @property
    def weight_meaning(self) -> str:
        """Return what one unit of weight counts, in words."""
        shared = "object" if self.mode == "co-share" else "near-duplicate text"
        if self.directed:
            return f"posts of account_a with a post of account_b on the same {shared} within the window"
        return f"distinct {shared}s both accounts posted within the window of each other"


def argsort_by(major: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """Return the order that sorts rows by (major, minor), both non-negative-able int64 arrays; ties keep row order."""
    if len(major) == 0:
        return np.zeros(0, np.int64)
    minor_base = int(minor.min())
    span = int(minor.max()) - minor_base + 1
    if int(major.max()) < (np.iinfo(np.int64).max // span) - 1:
        key = major.astype(np.int64) * span + (minor - minor_base)
        ordered = pl.DataFrame({"key": key}).with_row_index("i").sort("key", maintain_order=True)
        return ordered["i"].to_numpy().astype(np.int64)
    return np.lexsort((minor, major))


def window_bounds(group: np.ndarray, micros: np.ndarray, window_us: int) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by (group, time), return (lo, hi): the rows of the same group within ±window are lo..hi-1."""
    n = len(group)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # Gaps longer than the window can be shortened to window+1 without changing which rows are
    # within the window of each other; a new group starts after such a gap. The result is one
    # increasing clock that a single binary search can use.
    step = np.minimum(np.diff(micros), window_us + 1)
    step[np.diff(group) != 0] = window_us + 1
    clock = np.concatenate([[0], np.cumsum(step, dtype=np.int64)])
    if clock[-1] > np.iinfo(np.int64).max - 2 * window_us - 2:
        raise AtlasError("the window is too long for this many posts; use a shorter --window")
    lo = np.searchsorted(clock, clock - window_us, side="left")
    hi = np.searchsorted(clock, clock + window_us, side="right")
    return lo.astype(np.int64), hi.astype(np.int64)


def run_blocks(kernel: Callable, work: np.ndarray, args: tuple, progress: Progress | None, threads: int | None) -> list:
    """Split items 0..len(work)-1 into consecutive blocks of about BLOCK_WORK and run kernel(start, end, *args) on each."""
    total = int(work.sum())
    cumulative = np.cumsum(work)
    threads = max(1, threads or min(4, os.cpu_count() or 1))
    n_blocks = max(threads * 2 if total > BLOCK_WORK else 1, int(np.ceil(total / BLOCK_WORK)))
    cuts = np.searchsorted(cumulative, np.linspace(0, total, n_blocks + 1)[1:-1], side="right")
    edges = np.unique(np.concatenate([[0], cuts, [len(work)]]))
    spans = [(int(s), int(e)) for s, e in zip(edges[:-1], edges[1:]) if e > s]
    results: list = [None] * len(spans)
    done = 0
    if progress:
        progress(0, total)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = {pool.submit(kernel, s, e, *args): i for i, (s, e) in enumerate(spans)}
        for future in futures:  # in submission order: keeps the output order stable
            i = futures[future]
            results[i] = future.result()
            s, e = spans[i]
            done += int(cumulative[e - 1] - (cumulative[s - 1] if s else 0))
            if progress:
                progress(done, total)
    return results


def edges_frame(parts: list) -> pl.DataFrame:
    """Return the edges frame (a, b, weight) from kernel outputs, each sorted by (a, b) and in block order."""
    a = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    b = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
    w = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.int64)
    return pl.DataFrame({"a": a.astype(np.uint32), "b": b.astype(np.uint32), "weight": w.astype(np.int64)})


def _check(window: float, min_repeat: int) -> int:
    if not window >= 0 or not np.isfinite(window):
        raise AtlasError(f"the window must be a number of seconds ≥ 0, not {window}")
    if min_repeat < 1:
        raise AtlasError(f"--min-repeat must be at least 1, not {min_repeat}")
    return int(round(window * 1_000_000))


def co_share_edges(posts: Posts, window: float, *, min_repeat: int = 2, directed: bool = False,
                   progress: Progress | None = None, threads: int | None = None) -> Edges:
    """Return co-sharing edges: pairs of accounts that shared the same object within `window` seconds.

    Undirected weight: the number of distinct objects the two accounts both shared within one
    window of each other. Directed weight (the coordination-network-toolkit's): for a → b, the
    number of distinct posts of a that have a post of b with the same object within the window.
    Pairs below `min_repeat` are dropped. A post's identity is its --id value when given, else its row.
    """
    window_us = _check(window, min_repeat)
    frame = posts.frame.filter(pl.col("object").is_not_null())
    if frame.height == 0:
        return Edges(edges_frame([]), posts.accounts, "co-share", directed, window, min_repeat, 0, 0)
    obj = dense_codes(frame["object"])
    micros = frame["time"].to_numpy()
    acc_raw = frame["acc"].to_numpy().astype(np.int64)
    if posts.columns.post_id and frame["post_id"].null_count() < frame.height:
        ids = frame["post_id"].fill_null(frame["row"].cast(pl.String) + "\x00row")
        post = dense_codes(ids)
    else:
        post = np.arange(frame.height, dtype=np.int64)

    order = argsort_by(obj, micros)
    obj, micros, acc, post = obj[order], micros[order], acc_raw[order], post[order]
    lo, hi = window_bounds(obj, micros, window_us)
    candidate_pairs = int((hi - np.arange(len(hi)) - 1).sum())

    # Rows of each account, arranged so that rows of one counting unit sit together.
    if directed:
        by_account = argsort_by(acc, post)
        unit = post
    else:
        by_account = argsort_by(acc, obj)
        keys_a, keys_o = acc[by_account], obj[by_account]
        starts = np.ones(len(by_account), dtype=bool)
        starts[1:] = (keys_a[1:] != keys_a[:-1]) | (keys_o[1:] != keys_o[:-1])
        unit = np.empty(len(by_account), np.int64)
        unit[by_account] = np.cumsum(starts) - 1
    n_accounts = len(posts.accounts)
    acc_start = np.zeros(n_accounts + 1, np.int64)
    np.cumsum(np.bincount(acc, minlength=n_accounts), out=acc_start[1:])
    account_work = np.bincount(acc, weights=hi - lo, minlength=n_accounts).astype(np.int64)
    parts = run_blocks(_kernels.count_window_edges, account_work,
                       (acc_start, by_account.astype(np.int64), unit.astype(np.int32), lo, hi, acc.astype(np.int32),
                        n_accounts, min_repeat, directed),
                       progress, threads)
    return Edges(edges_frame(parts), posts.accounts, "co-share", directed, window, min_repeat, candidate_pairs, frame.height)
