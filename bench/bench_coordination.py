"""Coordination speed: Influence Atlas against coordination-network-toolkit on the same synthetic posts, same run.

Run from the repository root (the toolkit comes with `pip install -e '.[bench]'`):

    .venv/bin/python bench/bench_coordination.py [--sizes 100000,1000000] [--variants ordinary,bursty] [--save]

For each size and variant the parent writes one synthetic data set (planted groups inside a
heavy-tailed organic background, `influence_atlas.coordination.make_synthetic_posts`) as our
CSV and as the toolkit's 8-column CSV, then measures, each in its own subprocess:
  toolkit-share  `preprocess` into a fresh SQLite file, then `co_link`
  atlas-share    `load_posts` + `co_share_edges(directed=True)` (the toolkit's weights)
  toolkit-text   `co_similar_tweet` on the toolkit's preprocessed file   (text sizes, ordinary variant)
  atlas-text     `load_posts` + `co_text_edges(directed=True)`
with the same window, minimum edge weight and similarity threshold, checks that both found the
same edges, and prints a table and one JSON line of wall seconds, peak memory and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import emit

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_FILE = BENCH_DIR / "results" / "coordination.json"
TOOLKIT_HEADER = ["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"]


def own_peak_rss_mb() -> float:
    """Return this process's peak resident set size in MB.

    On Linux this is VmHWM, the peak of this program's own memory: ru_maxrss would carry over the
    peak of the parent that forked us (it survives exec), here the parent that generated the data.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def tree_rss_mb(pid: int) -> float:
    """Return the resident memory of a process and all its descendants, in MB (Linux /proc), else 0."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total / (1024 * 1024)


# -- data ---------------------------------------------------------------------------------------

def write_data(size: int, bursty: bool, folder: Path) -> dict:
    """Write our CSV and the toolkit's CSV of one synthetic data set; return their paths and counts."""
    import polars as pl

    from influence_atlas.coordination import make_synthetic_posts

    data = make_synthetic_posts(size, bursty=bursty, seed=1)
    ours = folder / "posts.csv"
    data.frame.write_csv(ours)
    empty = pl.repeat("", data.frame.height, eager=True)
    toolkit = folder / "toolkit.csv"
    data.frame.select(
        message_id="post_id", user_id="account", username="account", repost_id=empty, reply_id=empty,
        message="text", timestamp="time", urls="object",
    ).write_csv(toolkit)
    return {"ours": str(ours), "toolkit": str(toolkit), "posts": data.frame.height,
            "accounts": data.frame["account"].n_unique(), "objects": data.frame["object"].n_unique(),
            "planted_accounts": len(data.groups)}


# -- the measurements, each run by a fresh interpreter ----------------------------------------------

def measure_toolkit(part: str, folder: Path, window: int, min_weight: int, similarity: float) -> dict:
    from coordination_network_toolkit import compute_networks, preprocess

    db = folder / "toolkit.db"
    out: dict = {"part": part}
    if part == "toolkit-share":
        for leftover in folder.glob("toolkit.db*"):
            leftover.unlink()
        started = time.perf_counter()
        preprocess.preprocess_csv_files(str(db), [str(folder / "toolkit.csv")])
        out["preprocess_s"] = time.perf_counter() - started
        started = time.perf_counter()
        compute_networks.compute_co_link_network(str(db), window, n_threads=os.cpu_count() or 1, min_edge_weight=min_weight)
        out["compute_s"] = time.perf_counter() - started
        table = "co_link_network"
    else:
        started = time.perf_counter()
        compute_networks.compute_co_similar_tweet(str(db), window, n_threads=os.cpu_count() or 1,
                                                  similarity_threshold=similarity, min_edge_weight=min_weight)
        out["compute_s"] = time.perf_counter() - started
        table = "co_similar_tweet_network"
    with sqlite3.connect(db) as conn:
        rows = conn.execute(f"SELECT user_1, user_2, weight FROM {table} WHERE user_1 != user_2").fetchall()
    write_edges(folder / f"{part}.edges.parquet", rows)
    out["edges"] = len(rows)
    out["own_peak_rss_mb"] = own_peak_rss_mb()
    return out


def write_edges(path: Path, rows) -> None:
    import polars as pl

    pl.DataFrame(rows, schema=["account_a", "account_b", "weight"], orient="row").write_parquet(path)


def measure_atlas(part: str, folder: Path, window: int, min_weight: int, similarity: float) -> dict:
    from influence_atlas.coordination import (PostColumns, co_share_edges, co_text_edges, find_clusters, load_posts,
                                              make_synthetic_posts, posts_from_frame)

    started = time.perf_counter()
    # Warm-up, not timed: loads the compiled kernels from numba's on-disk cache (compiles them on a first run).
    warm = make_synthetic_posts(2000, seed=2)
    warm_posts = posts_from_frame(warm.frame, PostColumns(text="text", post_id="post_id"))
    co_share_edges(warm_posts, window, directed=True)
    co_share_edges(warm_posts, window)
    co_text_edges(warm_posts, window, directed=True)
    out: dict = {"part": part, "warm_up_s": time.perf_counter() - started}

    text = part == "atlas-text"
    columns = PostColumns(object=None, text="text", post_id="post_id") if text else PostColumns(post_id="post_id")
    started = time.perf_counter()
    posts = load_posts(folder / "posts.csv", columns)
    out["read_s"] = time.perf_counter() - started
    started = time.perf_counter()
    if text:
        edges = co_text_edges(posts, window, similarity=similarity, min_repeat=min_weight, directed=True)
    else:
        edges = co_share_edges(posts, window, min_repeat=min_weight, directed=True)
    out["compute_s"] = time.perf_counter() - started
    out["own_peak_rss_mb"] = own_peak_rss_mb()
    out["edges"] = edges.frame.height
    out["candidate_pairs"] = edges.candidate_pairs
    edges.named().write_parquet(folder / f"{part}.edges.parquet")
    if not text:  # beyond the comparison: the default undirected network and its clusters
        started = time.perf_counter()
        undirected = co_share_edges(posts, window, min_repeat=min_weight)
        out["undirected_s"] = time.perf_counter() - started
        out["undirected_edges"] = undirected.frame.height
        started = time.perf_counter()
        clusters = find_clusters(undirected, posts)
        out["clusters_s"] = time.perf_counter() - started
        out["clusters"] = len(clusters.clusters)
        out["peak_rss_with_clusters_mb"] = own_peak_rss_mb()
    return out


def run_part(part: str, folder: Path, args) -> dict:
    """Run one measurement in a fresh interpreter; return its JSON plus wall time and the peak RSS of its process tree."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--part", part, "--folder", str(folder),
           "--window", str(args.window), "--min-weight", str(args.min_weight), "--similarity", str(args.similarity)]
    peak = [0.0]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO_ROOT)

    def watch() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
            time.sleep(0.25)  # reading /proc costs CPU too: sample four times a second

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stdout, _ = proc.communicate()
    wall = time.perf_counter() - started
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    result["tree_peak_rss_mb"] = max(peak[0], result.get("own_peak_rss_mb", 0.0))
    return result


def compare_edges(folder: Path, ours: str, theirs: str) -> dict:
    """Return whether two edge sets are identical, and our recall and precision against the toolkit's."""
    import polars as pl

    a = pl.read_parquet(folder / f"{ours}.edges.parquet")
    b = pl.read_parquet(folder / f"{theirs}.edges.parquet")
    both = a.join(b, on=["account_a", "account_b"], how="inner", suffix="_toolkit")
    same_weight = int((both["weight"] == both["weight_toolkit"]).sum())
    return {
        "identical": a.height == b.height == same_weight,
        "recall": round(same_weight / b.height, 6) if b.height else 1.0,
        "precision": round(same_weight / a.height, 6) if a.height else 1.0,
    }


def r(x: float, digits: int = 3) -> float:
    return round(x, digits)


def summarise(size: int, variant: str, data: dict, tk: dict, at: dict, tk_text: dict | None, at_text: dict | None,
              share_check: dict, text_check: dict | None, args) -> dict:
    toolkit_s = tk["preprocess_s"] + tk["compute_s"]
    ours_s = at["read_s"] + at["compute_s"]
    row = {
        "size": size, "variant": variant, "posts": data["posts"], "accounts": data["accounts"], "objects": data["objects"],
        "window_s": args.window, "min_weight": args.min_weight,
        "toolkit_preprocess_s": r(tk["preprocess_s"]), "toolkit_co_link_s": r(tk["compute_s"]),
        "toolkit_share_s": r(toolkit_s), "toolkit_share_peak_rss_mb": r(tk["tree_peak_rss_mb"], 1),
        "atlas_read_s": r(at["read_s"]), "atlas_co_share_s": r(at["compute_s"]), "atlas_share_s": r(ours_s),
        "atlas_share_peak_rss_mb": r(at["tree_peak_rss_mb"], 1), "atlas_share_own_peak_rss_mb": r(at["own_peak_rss_mb"], 1),
        "atlas_warm_up_s": r(at["warm_up_s"]),
        "share_ratio": r(toolkit_s / ours_s, 1), "share_compute_ratio": r(tk["compute_s"] / at["compute_s"], 1),
        "candidate_pairs": at["candidate_pairs"], "edges": at["edges"], "toolkit_edges": tk["edges"],
        "share_identical": share_check["identical"], "share_recall": share_check["recall"],
        "atlas_undirected_s": r(at["undirected_s"]), "atlas_undirected_edges": at["undirected_edges"],
        "atlas_clusters_s": r(at["clusters_s"]), "atlas_clusters": at["clusters"],
        "atlas_peak_rss_with_clusters_mb": r(at["peak_rss_with_clusters_mb"], 1),
    }
    if tk_text and at_text and text_check:
        ours_text = at_text["read_s"] + at_text["compute_s"]
        row.update({
            "similarity": args.similarity,
            "toolkit_co_similar_s": r(tk_text["compute_s"]), "toolkit_text_peak_rss_mb": r(tk_text["tree_peak_rss_mb"], 1),
            "atlas_text_read_s": r(at_text["read_s"]), "atlas_co_text_s": r(at_text["compute_s"]), "atlas_text_s": r(ours_text),
            "atlas_text_peak_rss_mb": r(at_text["tree_peak_rss_mb"], 1),
            "text_ratio": r(tk_text["compute_s"] / ours_text, 1), "text_edges": at_text["edges"],
            "toolkit_text_edges": tk_text["edges"], "text_identical": text_check["identical"],
            "text_recall": text_check["recall"], "text_precision": text_check["precision"],
        })
    return row


def print_table(rows: list[dict]) -> None:
    print(f"\n{'data':<16} {'measurement':<34} {'seconds':>9} {'peak RSS MB':>12} {'edges':>10}")
    for row in rows:
        name = f"{row['size']:,} {row['variant']}"
        lines = [
            ("toolkit preprocess + co_link", row["toolkit_share_s"], row["toolkit_share_peak_rss_mb"], row["toolkit_edges"]),
            ("atlas load + co-share (directed)", row["atlas_share_s"], row["atlas_share_peak_rss_mb"], row["edges"]),
        ]
        if "text_ratio" in row:
            lines += [("toolkit co_similar_tweet", row["toolkit_co_similar_s"], row["toolkit_text_peak_rss_mb"], row["toolkit_text_edges"]),
                      ("atlas load + co-text (directed)", row["atlas_text_s"], row["atlas_text_peak_rss_mb"], row["text_edges"])]
        for label, seconds, rss, edges in lines:
            print(f"{name:<16} {label:<34} {seconds:>9.2f} {rss:>12.0f} {edges:>10,}")
            name = ""
        text = (f", co-text {row['text_ratio']:.1f}x (recall {row['text_recall']:.4f}, identical {row['text_identical']})"
                if "text_ratio" in row else "")
        print(f"{'':<16} ratio: co-share {row['share_ratio']:.1f}x (identical edges {row['share_identical']}){text}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated post counts (default: %(default)s)")
    parser.add_argument("--variants", default="ordinary,bursty", help="ordinary and/or bursty (default: %(default)s)")
    parser.add_argument("--text-sizes", default="100000,1000000",
                        help="sizes that also compare co-text, on the ordinary variant; empty for none (default: %(default)s)")
    parser.add_argument("--window", type=int, default=60, help="coordination window in seconds (default: %(default)s)")
    parser.add_argument("--min-weight", type=int, default=2, help="minimum edge weight, the toolkit's default (default: %(default)s)")
    parser.add_argument("--similarity", type=float, default=0.8, help="co-text Jaccard threshold, the toolkit's default (default: %(default)s)")
    parser.add_argument("--save", action="store_true", help=f"also write the JSON figures to {RESULTS_FILE.relative_to(REPO_ROOT)}")
    parser.add_argument("--part", choices=("toolkit-share", "toolkit-text", "atlas-share", "atlas-text"), help="one measurement (used by the parent run)")
    parser.add_argument("--folder", type=Path, help="with --part: the folder holding the data set")
    args = parser.parse_args(argv)

    if args.part:
        measure = measure_toolkit if args.part.startswith("toolkit") else measure_atlas
        print(json.dumps(measure(args.part, args.folder, args.window, args.min_weight, args.similarity)))
        return 0
    try:
        import coordination_network_toolkit  # noqa: F401
    except ImportError:
        raise SystemExit("the toolkit is not installed: .venv/bin/pip install -e '.[bench]'")

    sizes = [int(s) for s in args.sizes.split(",") if s]
    text_sizes = {int(s) for s in args.text_sizes.split(",") if s}
    rows = []
    for size in sizes:
        for variant in [v for v in args.variants.split(",") if v]:
            with tempfile.TemporaryDirectory(prefix="atlas-bench-coord-") as tmp:
                folder = Path(tmp)
                data = write_data(size, variant == "bursty", folder)
                print(f"{size:,} {variant}: {data['posts']:,} posts, {data['accounts']:,} accounts, {data['objects']:,} objects",
                      file=sys.stderr)
                results = {}
                parts = ["toolkit-share", "atlas-share"]
                if size in text_sizes and variant == "ordinary":
                    parts += ["toolkit-text", "atlas-text"]  # toolkit-text reuses toolkit-share's database
                for part in parts:
                    print(f"  measuring {part} ...", file=sys.stderr)
                    results[part] = run_part(part, folder, args)
                share_check = compare_edges(folder, "atlas-share", "toolkit-share")
                text_check = compare_edges(folder, "atlas-text", "toolkit-text") if "atlas-text" in results else None
                rows.append(summarise(size, variant, data, results["toolkit-share"], results["atlas-share"],
                                      results.get("toolkit-text"), results.get("atlas-text"), share_check, text_check, args))
                print(json.dumps(rows[-1], sort_keys=True), file=sys.stderr)  # each row as soon as it is measured
    print_table(rows)
    emit({"bench": "coordination", "python": sys.version.split()[0], "cpus": os.cpu_count(), "runs": rows},
         RESULTS_FILE, args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
