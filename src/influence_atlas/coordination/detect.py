"""Who acts in concert: read posts, settle the window, build the co-share or co-text network, find clusters."""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import AtlasError
from .clusters import METHODS, Clusters, find_clusters
from .cotext import co_text_edges
from .edges import Edges, co_share_edges
from .posts import LoadReport, PostColumns, load_posts
from .window import WindowEstimate, estimate_window

MODES = ("co-share", "co-text")
StageProgress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True, slots=True)
class CoordinationSettings:
    """How to detect coordination; `window=None` estimates it from the data."""

    mode: str = "co-share"
    window: float | None = None
    quantile: float = 0.1
    share: float = 0.5
    min_repeat: int = 2
    directed: bool = False
    similarity: float = 0.8
    method: str = "leiden"
    resolution: float = 1.0
    seed: int = 7


@dataclass(frozen=True, eq=False)
class CoordinationResult:
    """A finished detection: input report, window used, edges and clusters, and the stable run id."""

    run_id: str
    source: str
    columns: PostColumns
    settings: CoordinationSettings
    report: LoadReport
    window: float
    estimate: WindowEstimate | None
    edges: Edges
    clusters: Clusters
    seconds: dict[str, float] = field(default_factory=dict)


def run_id(report: LoadReport, columns: PostColumns, settings: CoordinationSettings) -> str:
    """Return a stable id for this input content and these settings: the same run twice gets the same id."""
    key = json.dumps([report.sha256, asdict(columns), asdict(settings)], sort_keys=True)
    return "run-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


# The longest coordination window that makes sense: ten years, in seconds.
MAX_WINDOW = 10 * 365.25 * 86400


def check_settings(settings: CoordinationSettings) -> None:
    """Raise AtlasError naming the option when a setting is out of range (NaN, infinite, negative, above its bound)."""
    def bad(option: str, value, why: str) -> AtlasError:
        return AtlasError(f"{option} {value!r} is out of range: {why}")

    if settings.window is not None and not (math.isfinite(settings.window) and 0 < settings.window <= MAX_WINDOW):
        raise bad("--window", settings.window, f"give seconds above 0 and at most {MAX_WINDOW:,.0f} (ten years)")
    for option, value in (("--quantile", settings.quantile), ("--share", settings.share)):
        if not (math.isfinite(value) and 0 < value <= 1):
            raise bad(option, value, "give a fraction above 0 and at most 1")
    if not (math.isfinite(settings.similarity) and 0 <= settings.similarity <= 1):
        raise bad("--similarity", settings.similarity, "give a Jaccard similarity from 0 to 1")
    if not (math.isfinite(settings.resolution) and settings.resolution > 0):
        raise bad("--resolution", settings.resolution, "give a positive number (1 is the usual modularity)")
    if settings.min_repeat < 1:
        raise bad("--min-repeat", settings.min_repeat, "give 1 or more")


def detect_coordination(path: str | Path, columns: PostColumns = PostColumns(),
                        settings: CoordinationSettings = CoordinationSettings(), *, fmt: str | None = None,
                        skip_bad_rows: bool = False, progress: StageProgress | None = None,
                        threads: int | None = None) -> CoordinationResult:
    """Return the coordination network and clusters of a posts file (CSV, JSONL or Parquet)."""
    if settings.mode not in MODES:
        raise AtlasError(f"unknown mode '{settings.mode}'; use one of {', '.join(MODES)}")
    if settings.method not in METHODS:
        raise AtlasError(f"unknown clustering method '{settings.method}'; use one of {', '.join(METHODS)}")
    if settings.mode == "co-text" and not columns.text:
        raise AtlasError("co-text needs the text column: pass --text COLUMN")
    if settings.mode == "co-share" and not columns.object:
        raise AtlasError("co-share needs the shared-object column: pass --object COLUMN")
    if settings.window is None and not columns.object:
        raise AtlasError("the window estimate looks at how fast shared objects spread, and there is no object column: "
                         "pass --window SECONDS")
    check_settings(settings)
    say = progress or (lambda stage, done, total: None)
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    say("reading posts", 0, 1)
    posts = load_posts(path, columns, fmt=fmt, skip_bad_rows=skip_bad_rows)
    seconds["read"] = time.perf_counter() - started

    estimate = None
    window = settings.window
    if window is None:
        say("estimating the window", 0, 1)
        estimate = estimate_window(posts, settings.quantile, settings.share)
        window = estimate.seconds
    mark = time.perf_counter()

    def pairs(done: int, total: int) -> None:
        say("pairing posts within the window", done, total)

    if settings.mode == "co-share":
        edges = co_share_edges(posts, window, min_repeat=settings.min_repeat, directed=settings.directed,
                               progress=pairs, threads=threads)
    else:
        edges = co_text_edges(posts, window, similarity=settings.similarity, min_repeat=settings.min_repeat,
                              directed=settings.directed, progress=pairs, threads=threads)
    seconds["edges"] = time.perf_counter() - mark
    mark = time.perf_counter()
    say("finding clusters", 0, 1)
    clusters = find_clusters(edges, posts, method=settings.method, resolution=settings.resolution, seed=settings.seed)
    seconds["clusters"] = time.perf_counter() - mark
    return CoordinationResult(
        run_id=run_id(posts.report, columns, settings), source=str(path), columns=columns, settings=settings,
        report=posts.report, window=window, estimate=estimate, edges=edges, clusters=clusters,
        seconds={k: round(v, 3) for k, v in seconds.items()},
    )
