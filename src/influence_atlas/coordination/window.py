"""Estimate the coordination window from the data: how fast objects usually spread after their first share."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ..errors import AtlasError
from .posts import Posts


@dataclass(frozen=True, slots=True)
class WindowEstimate:
    """An estimated window: `seconds` is the `quantile` of the per-object times to pass `share` of its shares."""

    seconds: float
    quantile: float
    share: float
    objects: int  # objects shared at least twice at different times, the basis of the estimate


def estimate_window(posts: Posts, quantile: float = 0.1, share: float = 0.5) -> WindowEstimate:
    """Return the window CooRnet-style: for each object shared more than once, the seconds from its first share
    to the first later share that takes it past `share` of all its shares; the window is the `quantile` of those.

    Fast spreaders set the pace: with the defaults, a tenth of the objects reach half of their
    shares within the returned number of seconds.
    """
    if not 0 < quantile < 1 or not 0 <= share < 1:
        raise AtlasError(f"the window quantile must be in (0, 1) and the share in [0, 1); got {quantile} and {share}")
    delays = (
        posts.frame.lazy()
        .filter(pl.col("object").is_not_null())
        .select("object", "time")
        .sort("object", "time")
        .with_columns(
            n=pl.len().over("object"),
            rank=pl.int_range(1, pl.len() + 1).over("object"),
            delay=(pl.col("time") - pl.col("time").min().over("object")),
        )
        .filter((pl.col("n") > 1) & (pl.col("rank") / pl.col("n") > share) & (pl.col("delay") > 0))
        .group_by("object")
        .agg(pl.col("delay").min())
        .collect()
    )["delay"]
    if len(delays) == 0:
        raise AtlasError("cannot estimate a window: no object was shared more than once at different times; "
                         "pass --window SECONDS")
    seconds = float(delays.quantile(quantile, interpolation="linear")) / 1e6
    return WindowEstimate(seconds=round(seconds, 3), quantile=quantile, share=share, objects=len(delays))
