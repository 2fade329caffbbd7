"""Clusters of coordinated accounts: connected components, split into communities (Leiden or Louvain)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timezone

import igraph
import numpy as np
import polars as pl

from ..errors import AtlasError
from . import _kernels
from .edges import Edges
from .posts import Posts

METHODS = ("leiden", "louvain", "components")


@dataclass(frozen=True, slots=True)
class SharedObject:
    """An object (or near-duplicate text) that at least two accounts of a cluster shared."""

    item: str
    accounts: int  # cluster accounts that shared it
    posts: int  # their posts of it
    first: str  # ISO 8601 UTC
    last: str


@dataclass(frozen=True, slots=True)
class Cluster:
    """A group of accounts linked by edges, with what they shared and how strongly they are tied."""

    id: str  # stable: a hash of the sorted account names
    rank: int  # 1 = largest
    component: int  # connected component it belongs to (1 = largest component)
    accounts: tuple[str, ...]
    edges: int
    weight_total: int
    weight_mean: float
    weight_median: float
    weight_max: int
    density: float  # edges / possible pairs
    objects_total: int
    objects: tuple[SharedObject, ...]  # the most shared ones, most accounts first
    first: str | None  # first and last post of a shared object by a member
    last: str | None

    @property
    def size(self) -> int:
        """Return the number of accounts."""
        return len(self.accounts)


@dataclass(frozen=True, eq=False)
class Clusters:
    """All clusters of an edge set, largest first, and every account's cluster."""

    method: str
    resolution: float
    seed: int
    components: int
    modularity: float | None
    clusters: tuple[Cluster, ...]
    membership: pl.DataFrame  # account, cluster (id), component


def _iso(micros: int | None) -> str | None:
    if micros is None:
        return None
    return datetime.fromtimestamp(micros / 1e6, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _cluster_id(accounts: list[str]) -> str:
    return "coord-" + hashlib.sha256("\n".join(accounts).encode("utf-8")).hexdigest()[:12]


def _undirected(edges: Edges) -> pl.DataFrame:
    """Return a, b (a < b), weight; for directed edges the stronger direction counts."""
    frame = edges.frame
    if not edges.directed:
        return frame
    return (
        frame.select(a=pl.min_horizontal("a", "b"), b=pl.max_horizontal("a", "b"), weight="weight")
        .group_by(["a", "b"]).agg(pl.col("weight").max()).sort(["a", "b"])
    )


def _communities(n: int, a: np.ndarray, b: np.ndarray, weight: np.ndarray, method: str, resolution: float,
                 seed: int) -> tuple[np.ndarray, float | None]:
    graph = igraph.Graph(n=n, edges=list(zip(a.tolist(), b.tolist())))
    weights = weight.astype(float).tolist()
    previous = igraph.set_random_number_generator(random.Random(seed))
    try:
        if method == "leiden":
            found = graph.community_leiden(objective_function="modularity", weights=weights, resolution=resolution,
                                           n_iterations=-1)
        else:
            found = graph.community_multilevel(weights=weights, resolution=resolution)
    finally:
        igraph.set_random_number_generator(previous or random)
    return np.asarray(found.membership, dtype=np.int64), float(graph.modularity(found.membership, weights=weights))


def find_clusters(edges: Edges, posts: Posts, *, method: str = "leiden", resolution: float = 1.0, seed: int = 7,
                  top_objects: int = 10) -> Clusters:
    """Return the clusters of an edge set: connected components, split into weighted Leiden or Louvain
    communities (or left whole with method="components"), each with its accounts, shared objects,
    time span and edge-weight statistics. The same input and seed give the same clusters."""
    if method not in METHODS:
        raise AtlasError(f"unknown clustering method '{method}'; use one of {', '.join(METHODS)}")
    frame = _undirected(edges)
    a_codes = frame["a"].to_numpy().astype(np.int64)
    b_codes = frame["b"].to_numpy().astype(np.int64)
    weight = frame["weight"].to_numpy().astype(np.int64)
    nodes = np.unique(np.concatenate([a_codes, b_codes]))
    empty_membership = pl.DataFrame(schema={"account": pl.String, "cluster": pl.String, "component": pl.Int64})
    if len(nodes) == 0:
        return Clusters(method, resolution, seed, 0, None, (), empty_membership)
    ia, ib = np.searchsorted(nodes, a_codes), np.searchsorted(nodes, b_codes)

    roots = _kernels.union_groups(len(nodes), ia, ib)
    component = _dense_by_size(roots)
    if method == "components":
        community, modularity = component.copy(), None
    else:
        community, modularity = _communities(len(nodes), ia, ib, weight, method, resolution, seed)

    names = edges.accounts.gather(nodes)
    members = pl.DataFrame({"acc": nodes.astype(np.uint32), "c": community, "account": names})
    clusters, cluster_of = _ranked_clusters(members, nodes, component, _community_stats(community, ia, ib, weight),
                                            _shared_objects(edges, posts, members, top_objects))
    membership = pl.DataFrame({
        "account": names,
        "cluster": [cluster_of[int(c)] for c in community],
        "component": (component + 1).astype(np.int64),
    }).sort("account")
    n_components = int(component.max()) + 1
    return Clusters(method, resolution, seed, n_components, modularity, tuple(clusters), membership)


def _community_stats(community: np.ndarray, ia: np.ndarray, ib: np.ndarray, weight: np.ndarray) -> dict[int, dict]:
    """Return each community's edge statistics (n, total, mean, median, max), over the edges with both ends inside it."""
    inside = community[ia] == community[ib]
    stats = (
        pl.DataFrame({"c": community[ia][inside], "w": weight[inside]})
        .group_by("c").agg(n=pl.len(), total=pl.col("w").sum(), mean=pl.col("w").mean(),
                           median=pl.col("w").median(), max=pl.col("w").max())
    )
    return {row["c"]: row for row in stats.iter_rows(named=True)}


def _ranked_clusters(members: pl.DataFrame, nodes: np.ndarray, component: np.ndarray, stats_by: dict[int, dict],
                     shared: dict) -> tuple[list[Cluster], dict[int, str]]:
    """Return the clusters, largest first (then heaviest, then by first account), and each community's cluster id."""
    groups = (
        members.group_by("c").agg(pl.col("account").sort().alias("accounts"), pl.col("acc").first().alias("acc"))
        .sort("c")
    )
    drafts = []
    for c, accounts, acc in groups.iter_rows():
        s = stats_by.get(c)
        objects = shared.get(c, ((), 0, None, None))
        size = len(accounts)
        drafts.append(dict(
            c=c, accounts=tuple(accounts), component=int(component[np.searchsorted(nodes, acc)]),
            edges=int(s["n"]) if s else 0, weight_total=int(s["total"]) if s else 0,
            weight_mean=round(float(s["mean"]), 3) if s else 0.0, weight_median=float(s["median"]) if s else 0.0,
            weight_max=int(s["max"]) if s else 0,
            density=round(2 * int(s["n"]) / (size * (size - 1)), 4) if s and size > 1 else 0.0,
            objects=objects[0], objects_total=objects[1], first=objects[2], last=objects[3],
        ))
    drafts.sort(key=lambda d: (-len(d["accounts"]), -d["weight_total"], d["accounts"][0]))
    clusters, cluster_of = [], {}
    for rank, d in enumerate(drafts, start=1):
        cid = _cluster_id(list(d["accounts"]))
        cluster_of[d["c"]] = cid
        clusters.append(Cluster(id=cid, rank=rank, component=d["component"] + 1, accounts=d["accounts"], edges=d["edges"],
                                weight_total=d["weight_total"], weight_mean=d["weight_mean"], weight_median=d["weight_median"],
                                weight_max=d["weight_max"], density=d["density"], objects_total=d["objects_total"],
                                objects=d["objects"], first=d["first"], last=d["last"]))
    return clusters, cluster_of


def _dense_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0.. so that 0 is the most frequent (ties: smallest label first)."""
    unique, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    order = np.lexsort((unique, -counts))
    rank = np.empty(len(unique), np.int64)
    rank[order] = np.arange(len(unique))
    return rank[inverse]


def _shared_objects(edges: Edges, posts: Posts, members: pl.DataFrame, top_objects: int) -> dict:
    """Return {community: ([SharedObject...] most accounts first, objects shared by ≥2 members, first, last)}."""
    if edges.items is not None:
        items = edges.items
    else:
        items = posts.frame.filter(pl.col("object").is_not_null()).select("acc", "time", item="object")
    per_item = (
        items.join(members.select("acc", "c"), on="acc")
        .group_by(["c", "item"])
        .agg(accounts=pl.col("acc").n_unique(), posts=pl.len(), first=pl.col("time").min(), last=pl.col("time").max())
        .filter(pl.col("accounts") >= 2)
        .sort(["c", "accounts", "posts", "item"], descending=[False, True, True, False])
        .group_by("c", maintain_order=True)
        .agg(top=pl.struct("item", "accounts", "posts", "first", "last").head(top_objects), n=pl.len(),
             first=pl.col("first").min(), last=pl.col("last").max())
    )
    out = {}
    for c, top, n, first, last in per_item.iter_rows():
        objects = tuple(SharedObject(t["item"], t["accounts"], t["posts"], _iso(t["first"]), _iso(t["last"])) for t in top)
        out[int(c)] = (objects, n, _iso(first), _iso(last))
    return out
