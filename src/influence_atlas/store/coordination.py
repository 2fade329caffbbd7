"""Coordination runs in the database, beside the document analysis: runs, clusters, members, edges."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select

from .db import Store
from .schema import coord_clusters, coord_edges, coord_members, coord_runs

if TYPE_CHECKING:  # the coordination package pulls in numba; the store need not load it to read runs
    from ..coordination import CoordinationResult

BATCH = 50_000


def save_coordination(store: Store, result: "CoordinationResult") -> str:
    """Store a coordination run in one transaction, replacing a stored run with the same id; return the id."""
    edges, clusters = result.edges, result.clusters
    details = {
        "settings": asdict(result.settings), "columns": asdict(result.columns), "input": asdict(result.report),
        "estimate": asdict(result.estimate) if result.estimate else None, "weight": edges.weight_meaning,
        "candidate_pairs": edges.candidate_pairs, "components": clusters.components, "seconds": result.seconds,
    }
    with store.transaction() as conn:
        for table in (coord_edges, coord_members, coord_clusters):
            conn.execute(delete(table).where(table.c.run == result.run_id))
        conn.execute(delete(coord_runs).where(coord_runs.c.id == result.run_id))
        conn.execute(insert(coord_runs).values(
            id=result.run_id, source=result.source, mode=edges.mode, directed=edges.directed, window=result.window,
            window_estimated=result.estimate is not None, min_repeat=edges.min_repeat, similarity=edges.similarity,
            method=clusters.method, posts=result.report.posts, accounts=clusters.membership.height,
            edges=edges.frame.height, clusters=len(clusters.clusters), modularity=clusters.modularity,
            details=json.dumps(details, ensure_ascii=False, sort_keys=True),
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        ))
        if clusters.clusters:
            conn.execute(insert(coord_clusters), [
                dict(run=result.run_id, id=c.id, rank=c.rank, component=c.component, size=c.size, edges=c.edges,
                     weight_total=c.weight_total, weight_mean=c.weight_mean, weight_median=c.weight_median,
                     weight_max=c.weight_max, density=c.density, objects_total=c.objects_total,
                     objects=json.dumps([asdict(o) for o in c.objects], ensure_ascii=False), first=c.first, last=c.last)
                for c in clusters.clusters
            ])
        for batch in clusters.membership.iter_slices(BATCH):
            conn.execute(insert(coord_members), [
                dict(run=result.run_id, account=a, cluster=c, component=k) for a, c, k in batch.iter_rows()
            ])
        for batch in edges.named().iter_slices(BATCH):
            conn.execute(insert(coord_edges), [
                dict(run=result.run_id, account_a=a, account_b=b, weight=w) for a, b, w in batch.iter_rows()
            ])
    return result.run_id


def coordination_runs(store: Store) -> list[dict]:
    """Return the stored coordination runs, newest first, with their settings and input details decoded."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(coord_runs).order_by(coord_runs.c.created_at.desc(), coord_runs.c.id)).mappings()
        return [{**dict(r), "details": json.loads(r["details"])} for r in rows]


def coordination_clusters(store: Store, run: str) -> list[dict]:
    """Return a run's clusters in rank order, each with its sorted accounts and most shared objects."""
    with store.engine.connect() as conn:
        clusters = [dict(r) for r in conn.execute(
            select(coord_clusters).where(coord_clusters.c.run == run).order_by(coord_clusters.c.rank)).mappings()]
        members: dict[str, list[str]] = {}
        for account, cluster in conn.execute(select(coord_members.c.account, coord_members.c.cluster)
                                             .where(coord_members.c.run == run).order_by(coord_members.c.account)):
            members.setdefault(cluster, []).append(account)
    for c in clusters:
        c["objects"] = json.loads(c["objects"])
        c["accounts"] = members.get(c["id"], [])
    return clusters


def coordination_edges(store: Store, run: str, account: str | None = None) -> list[tuple[str, str, int]]:
    """Return a run's edges (account_a, account_b, weight), sorted; only those touching `account` when given."""
    query = select(coord_edges.c.account_a, coord_edges.c.account_b, coord_edges.c.weight).where(coord_edges.c.run == run)
    if account is not None:
        query = query.where((coord_edges.c.account_a == account) | (coord_edges.c.account_b == account))
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query.order_by(coord_edges.c.account_a, coord_edges.c.account_b))]
