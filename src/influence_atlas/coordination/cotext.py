"""Co-text edges: accounts posting near-duplicate texts within a time window (copy-pasta campaigns).

Near-duplicates are found exactly, not by sampling: texts become sets of word and punctuation
tokens, and two posts match when the Jaccard similarity of their sets reaches the threshold.
Candidates come from prefix filtering (two sets this similar must share one of their rarest
tokens) inside the time window, and every candidate is then checked in full, so nothing that
passes the threshold is missed and nothing below it is kept.
"""

from __future__ import annotations


import numpy as np
import polars as pl

from ..errors import AtlasError
from . import _kernels
from .edges import Edges, Progress, _check, argsort_by, run_blocks, window_bounds
from .posts import Posts

# Words (keeping inner apostrophes and dots, as in don't or t.co), numbers with separators, and
# each punctuation mark on its own; @mentions are removed first, case is ignored.
TOKEN_PATTERN = r"\d+(?:[.,]\d+)+|\w+(?:['’.]\w+)*|[^\w\s]"
MENTION_PATTERN = r"@\S*"
ITEM_CHARS = 160


def text_tokens(texts: pl.Series) -> pl.Series:
    """Return, for each text, its tokens (lower case, @mentions removed) as a list; repeats are kept."""
    return texts.str.to_lowercase().str.replace_all(MENTION_PATTERN, " ").str.extract_all(TOKEN_PATTERN)


def jaccard(a: str, b: str) -> float:
    """Return the Jaccard similarity of two texts' token sets (0.0 when both are empty)."""
    sets = [set(t or []) for t in text_tokens(pl.Series([a, b])).to_list()]
    union = sets[0] | sets[1]
    return len(sets[0] & sets[1]) / len(union) if union else 0.0


def _token_sets(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return (tok_start, tokens): post p's distinct tokens are tokens[tok_start[p]:tok_start[p+1]],
    as ranks that put the rarest token of the whole collection first."""
    lists = text_tokens(texts)
    counts = lists.list.len().fill_null(0).to_numpy().astype(np.int64)
    flat = lists.explode().drop_nulls()
    for seed in range(0, 8, 2):
        # Tokens are compared by a 64-bit hash; a second hash confirms that no two tokens share one.
        hashed = pl.DataFrame({"h": flat.hash(seed), "check": flat.hash(seed + 1)})
        vocabulary = hashed.group_by("h").agg(pl.len().alias("n"), pl.col("check").min().alias("lo"), pl.col("check").max().alias("hi"))
        if (vocabulary["lo"] == vocabulary["hi"]).all():
            break
    else:  # pragma: no cover - four colliding seed pairs do not happen
        raise AtlasError("cannot tell some tokens apart by hash; please report this input")
    # Rarest first; ties broken by the hash so that the order is fixed.
    ranks = vocabulary.sort(["n", "h"]).with_row_index("rank").select("h", "rank")
    ranked = hashed.select("h").join(ranks, on="h", how="left", maintain_order="left")["rank"].to_numpy().astype(np.int64)
    starts = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    return _kernels.sorted_distinct_segments(starts, ranked)


def co_text_edges(posts: Posts, window: float, *, similarity: float = 0.8, min_repeat: int = 2, directed: bool = False,
                  progress: Progress | None = None, threads: int | None = None) -> Edges:
    """Return co-text edges: pairs of accounts whose posts have token-set Jaccard ≥ `similarity` within `window` s.

    Undirected weight: the number of distinct near-duplicate texts (posts linked by matches form
    one text) that both accounts posted within one window of each other. Directed weight (the
    toolkit's co_similar_tweet): for a → b, the number of distinct posts of a matched by a post of b.
    """
    window_us = _check(window, min_repeat)
    if not 0 < similarity <= 1:
        raise AtlasError(f"the similarity threshold must be in (0, 1], not {similarity}")
    if not posts.columns.text:
        raise AtlasError("co-text needs a text column: name it with --text COLUMN")
    frame = _posts_with_text(posts)
    empty = Edges(pl.DataFrame({"a": [], "b": [], "weight": []}, schema={"a": pl.UInt32, "b": pl.UInt32, "weight": pl.Int64}),
                  posts.accounts, "co-text", directed, window, min_repeat, 0, frame.height, similarity)
    if frame.height < 2:
        return empty
    micros = frame["time"].to_numpy()
    acc = frame["acc"].to_numpy().astype(np.int64)
    xs, ys, checked, n_sets = _similar_post_pairs(frame, micros, acc, similarity, window_us, progress, threads)
    if len(xs) == 0:
        return Edges(empty.frame, posts.accounts, "co-text", directed, window, min_repeat, checked, frame.height, similarity)

    group = _kernels.union_groups(n_sets, xs, ys)
    matched = pl.DataFrame({"x": xs, "y": ys, "ax": acc[xs], "ay": acc[ys], "g": group[xs]})
    edges = _weighted_edges(matched, directed, min_repeat)
    used = np.unique(np.concatenate([xs, ys]))
    texts = frame["text"]
    roots = np.unique(group[used])
    labels = pl.DataFrame({"g": roots, "item": texts.gather(roots).str.slice(0, ITEM_CHARS).str.replace_all(r"\s+", " ")})
    items = (
        pl.DataFrame({"acc": acc[used].astype(np.uint32), "time": micros[used], "g": group[used]})
        .join(labels, on="g", how="left").select("acc", "time", "item")
    )
    return Edges(edges, posts.accounts, "co-text", directed, window, min_repeat, checked, frame.height, similarity, items)


def _posts_with_text(posts: Posts) -> pl.DataFrame:
    """Return the posts that have a text, each post once (a post listed once per object still has one text)."""
    frame = posts.frame.filter(pl.col("text").is_not_null())
    if posts.columns.post_id:
        frame = frame.with_columns(key=pl.col("post_id").fill_null(pl.col("row").cast(pl.String) + "\x00row"))
        frame = frame.unique(subset="key", keep="first", maintain_order=True).drop("key")
    return frame


def _similar_post_pairs(frame: pl.DataFrame, micros: np.ndarray, acc: np.ndarray, similarity: float, window_us: int,
                        progress: Progress | None, threads: int | None) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Return the pairs (xs, ys) of posts of different accounts whose token sets reach `similarity` within the
    window, the number of candidate pairs checked, and the number of posts (prefix filtering: only posts sharing
    one of their rarest tokens are compared)."""
    tok_start, tokens = _token_sets(frame["text"])
    sizes = np.diff(tok_start)

    # Prefix of each set: |x| - ceil(t·|x|) + 1 rarest tokens (a little longer when rounding is in doubt).
    prefix = np.where(sizes > 0, sizes - np.ceil(similarity * sizes - 1e-9).astype(np.int64) + 1, 0)
    prefix = np.minimum(prefix, sizes)
    prefix_start = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(prefix, out=prefix_start[1:])
    owner = np.repeat(np.arange(len(sizes)), prefix)
    offset = np.arange(prefix_start[-1]) - np.repeat(prefix_start[:-1], prefix)
    entry_token = tokens[tok_start[owner] + offset]
    by_token = argsort_by(entry_token, micros[owner])
    lo, hi = window_bounds(entry_token[by_token], micros[owner][by_token], window_us)
    position = np.empty_like(by_token)
    position[by_token] = np.arange(len(by_token))
    work = np.bincount(owner, weights=(hi - lo)[position], minlength=len(sizes)).astype(np.int64)

    parts = run_blocks(_kernels.similar_pairs, work,
                       (tok_start, tokens, acc, prefix_start, position, lo, hi, owner[by_token], float(similarity)),
                       progress, threads)
    xs = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    ys = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
    return xs, ys, int(sum(int(p[2][0]) for p in parts)), len(sizes)


def _weighted_edges(matched: pl.DataFrame, directed: bool, min_repeat: int) -> pl.DataFrame:
    """Return the account pairs (a, b, weight) of matched posts whose weight reaches `min_repeat`: distinct texts both
    posted (undirected), or distinct posts of a matched by b (directed)."""
    if directed:
        both = pl.concat([
            matched.select(post="x", a="ax", b="ay"),
            matched.select(post="y", a="ay", b="ax"),
        ])
        counted = both.unique(["post", "b"]).group_by(["a", "b"]).len("weight")
    else:
        counted = (
            matched.select(a=pl.min_horizontal("ax", "ay"), b=pl.max_horizontal("ax", "ay"), g="g")
            .unique().group_by(["a", "b"]).len("weight")
        )
    return (
        counted.filter(pl.col("weight") >= min_repeat)
        .select(pl.col("a").cast(pl.UInt32), pl.col("b").cast(pl.UInt32), pl.col("weight").cast(pl.Int64))
        .sort(["a", "b"])
    )
