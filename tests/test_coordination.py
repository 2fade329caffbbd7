"""Coordination on real files in tmp_path: reading and bad input, window semantics, exactness against brute force,
clusters, writers, storage and the `atlas coordination` command."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict

import networkx as nx
import polars as pl
import pytest

from influence_atlas.coordination import (
    CoordinationSettings, PostColumns, co_share_edges, co_text_edges, detect_coordination, estimate_window,
    find_clusters, jaccard, load_posts, posts_from_frame, text_tokens, write_edges_csv, write_graph, write_json,
)
from influence_atlas.errors import AtlasError, InputError

ATLAS = [sys.executable, "-m", "influence_atlas"]


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(str(v) for v in r) for r in rows]) + "\n", encoding="utf-8")
    return path


def edge_set(edges):
    return {(a, b): w for a, b, w in edges.named().iter_rows()}


# -- reading and bad input --------------------------------------------------------------------

ROWS = [("a", 100, "u1", "Hello World"), ("b", 110, "u1", "hello world!"), ("c", 500, "u2", "other text")]


def test_csv_jsonl_and_parquet_give_the_same_posts(tmp_path):
    frame = pl.DataFrame(ROWS, schema=["account", "time", "object", "text"], orient="row")
    frame.write_csv(tmp_path / "p.csv")
    frame.write_ndjson(tmp_path / "p.jsonl")
    frame.write_parquet(tmp_path / "p.parquet")
    columns = PostColumns(text="text")
    loaded = [load_posts(tmp_path / f"p.{ext}", columns).frame.drop("row") for ext in ("csv", "jsonl", "parquet")]
    assert loaded[0].equals(loaded[1]) and loaded[0].equals(loaded[2])
    assert loaded[0]["time"].to_list() == [100_000_000, 110_000_000, 500_000_000]


def test_timestamps_in_iso_8601_twitter_format_and_epoch_milliseconds(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["account", "time", "object"], [
        ("a", "2024-03-01T12:00:00Z", "x"), ("b", "2024-03-01 12:00:30", "x"), ("c", "2024-03-01T13:00:00+01:00", "x"),
        ("d", "Fri Mar 01 12:00:05 +0000 2024", "x")])
    posts = load_posts(path)
    base = 1709294400_000000
    assert posts.frame["time"].to_list() == [base, base + 30_000_000, base, base + 5_000_000]
    ms = write_csv(tmp_path / "ms.csv", ["account", "time", "object"], [("a", 1709294400000, "x"), ("b", 1709294400500, "x")])
    loaded = load_posts(ms)
    assert loaded.report.time_format == "epoch milliseconds"
    assert loaded.frame["time"].to_list() == [base, base + 500_000]


def test_missing_columns_are_named_with_the_columns_present(tmp_path):
    path = write_csv(tmp_path / "p.csv", ["user", "ts", "url"], [("a", 1, "x")])
    with pytest.raises(InputError) as caught:
        load_posts(path)
    message = str(caught.value)
    assert "'account'" in message and "'time'" in message and "user, ts, url" in message and "--account" in message
    assert load_posts(path, PostColumns(account="user", time="ts", object="url")).report.posts == 1


def test_unparsable_timestamps_name_the_row_and_value(tmp_path):
    path = write_csv(tmp_path / "p.csv", ["account", "time", "object"],
                     [("a", 1, "x"), ("b", 2, "x"), ("c", "yesterday", "x"), ("d", "", "x")])
    with pytest.raises(InputError) as caught:
        load_posts(path)
    message = str(caught.value)
    assert "2 row(s)" in message and "row 3" in message and "'yesterday'" in message and "--skip-bad-rows" in message
    posts = load_posts(path, skip_bad_rows=True)
    assert posts.report.bad_rows == 2 and posts.report.posts == 2
    assert any("2 row(s)" in note for note in posts.report.notes())


def test_missing_account_names_the_row(tmp_path):
    path = write_csv(tmp_path / "p.csv", ["account", "time", "object"], [("a", 1, "x"), ("", 2, "x")])
    with pytest.raises(InputError, match=r"no account in column 'account' \(first: row 2\)"):
        load_posts(path)


def test_empty_file_and_header_only_file(tmp_path):
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        load_posts(tmp_path / "empty.csv")
    write_csv(tmp_path / "header.csv", ["account", "time", "object"], [])
    with pytest.raises(InputError, match="no posts"):
        load_posts(tmp_path / "header.csv")
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        load_posts(tmp_path / "empty.jsonl")


def test_duplicate_rows_are_dropped_and_counted(tmp_path):
    path = write_csv(tmp_path / "p.csv", ["account", "time", "object"],
                     [("a", 1, "x"), ("b", 2, "x"), ("a", 1, "x"), ("a", 1, "x"), ("a", 1, "y")])
    posts = load_posts(path)
    assert posts.report.duplicates == 2 and posts.report.first_duplicate_row == 3 and posts.report.posts == 3
    assert posts.report.notes() == ["dropped 2 duplicate row(s) (first at row 3)"]


def test_unknown_format_missing_file_and_broken_jsonl(tmp_path):
    (tmp_path / "p.xlsx").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="--format"):
        load_posts(tmp_path / "p.xlsx")
    with pytest.raises(InputError, match="no such file"):
        load_posts(tmp_path / "absent.csv")
    (tmp_path / "bad.jsonl").write_text('{"account": "a", "time": 1, "object": "x"}\n{not json\n', encoding="utf-8")
    with pytest.raises(InputError, match="bad.jsonl: cannot read it as jsonl"):
        load_posts(tmp_path / "bad.jsonl")


def test_empty_object_is_missing_never_a_shared_value(tmp_path):
    # The toolkit's issue #46: empty URLs linked thousands of unrelated accounts into one cluster.
    rows = [(f"acc{i}", 1000 + i, "") for i in range(200)] + [("p", 1, "u"), ("q", 2, "u"), ("p", 50, "v"), ("q", 51, "v")]
    posts = load_posts(write_csv(tmp_path / "p.csv", ["account", "time", "object"], rows))
    assert posts.report.missing_object == 200
    assert any("200 post(s) have no object" in note for note in posts.report.notes())
    assert edge_set(co_share_edges(posts, 60, min_repeat=1)) == {("p", "q"): 2}


# -- window semantics -------------------------------------------------------------------------

def test_window_is_sliding_and_inclusive(tmp_path):
    # 59 s apart across a minute boundary: one window, though fixed one-minute bins would split them.
    rows = [("a", 119, "x"), ("b", 178, "x"), ("c", 238, "x"), ("d", 299, "x")]
    posts = load_posts(write_csv(tmp_path / "p.csv", ["account", "time", "object"], rows))
    assert edge_set(co_share_edges(posts, 60, min_repeat=1)) == {("a", "b"): 1, ("b", "c"): 1}
    assert edge_set(co_share_edges(posts, 61, min_repeat=1)) == {("a", "b"): 1, ("b", "c"): 1, ("c", "d"): 1}


def test_min_repeat_and_weights(tmp_path):
    rows = [("a", 0, "x"), ("b", 5, "x"), ("a", 100, "y"), ("b", 101, "y"), ("c", 102, "y"), ("a", 300, "z"), ("c", 900, "z")]
    posts = load_posts(write_csv(tmp_path / "p.csv", ["account", "time", "object"], rows))
    assert edge_set(co_share_edges(posts, 10, min_repeat=1)) == {("a", "b"): 2, ("a", "c"): 1, ("b", "c"): 1}
    assert edge_set(co_share_edges(posts, 10, min_repeat=2)) == {("a", "b"): 2}
    with pytest.raises(AtlasError, match="min-repeat"):
        co_share_edges(posts, 10, min_repeat=0)


def test_directed_weights_count_posts_of_the_first_account(tmp_path):
    # a posts x twice within the window of b's single post: a→b is 2, b→a is 1.
    rows = [("p1", "a", 0, "x"), ("p2", "a", 20, "x"), ("p3", "b", 10, "x")]
    posts = load_posts(write_csv(tmp_path / "p.csv", ["id", "account", "time", "object"], rows), PostColumns(post_id="id"))
    assert edge_set(co_share_edges(posts, 15, min_repeat=1, directed=True)) == {("a", "b"): 2, ("b", "a"): 1}
    assert edge_set(co_share_edges(posts, 15, min_repeat=1)) == {("a", "b"): 1}


def test_popular_object_costs_only_what_falls_within_the_window(tmp_path):
    # 50,000 accounts share one object, one every 2 s: nobody is within 1 s of anybody.
    frame = pl.DataFrame({"account": [f"u{i}" for i in range(50_000)], "time": [2 * i for i in range(50_000)],
                          "object": ["https://viral.example/1"] * 50_000})
    posts = posts_from_frame(frame)
    started = time.perf_counter()
    edges = co_share_edges(posts, 1, min_repeat=1)
    assert edges.candidate_pairs == 0 and edges.frame.height == 0
    assert co_share_edges(posts, 2, min_repeat=1).frame.height == 49_999  # neighbours only, never 50,000²/2
    assert time.perf_counter() - started < 60  # generous: a quadratic pass would not finish at all


def test_estimate_window_takes_the_quantile_of_the_time_to_half_the_shares(tmp_path):
    # Object k is shared at 0, 10k, 20k, 30k s after its start: half of its shares are passed at the third share (20k s).
    rows = []
    for k in range(1, 11):
        rows += [(f"a{k}{i}", 1000 * k + i * 10 * k, f"o{k}") for i in range(4)]
    rows.append(("lonely", 5, "single"))
    posts = load_posts(write_csv(tmp_path / "p.csv", ["account", "time", "object"], rows))
    estimate = estimate_window(posts, quantile=0.5)
    assert estimate.objects == 10 and estimate.seconds == pytest.approx(110.0)
    assert estimate_window(posts, quantile=0.1).seconds == pytest.approx(38.0)
    single = load_posts(write_csv(tmp_path / "s.csv", ["account", "time", "object"], [("a", 1, "x"), ("b", 2, "y")]))
    with pytest.raises(AtlasError, match="--window"):
        estimate_window(single)


# -- exactness against brute force ---------------------------------------------------------------

def random_posts(seed: int, n: int = 400, with_ids: bool = True):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        post = f"p{rng.randrange(n // 2)}" if with_ids and rng.random() < 0.2 else f"p{n + i}"
        rows.append((post, f"acc{rng.randrange(25):02d}", rng.randrange(3000), f"o{rng.randrange(30)}"))
    frame = pl.DataFrame(rows, schema=["id", "account", "time", "object"], orient="row", schema_overrides={"time": pl.Int64})
    # A post id keeps one account and time: the first row's.
    first = frame.group_by("id", maintain_order=True).agg(pl.col("account").first().alias("acc0"), pl.col("time").first().alias("t0"))
    frame = frame.join(first, on="id").select("id", account="acc0", time="t0", object="object").unique(maintain_order=True)
    return frame


def brute_share(frame: pl.DataFrame, window: int, min_repeat: int, directed: bool):
    rows = frame.rows()
    counts: dict = defaultdict(set)
    for (p1, a1, t1, o1), (p2, a2, t2, o2) in itertools.permutations(rows, 2):
        if o1 == o2 and a1 != a2 and abs(t1 - t2) <= window:
            if directed:
                counts[(a1, a2)].add(p1)
            elif a1 < a2:
                counts[(a1, a2)].add(o1)
    return {k: len(v) for k, v in counts.items() if len(v) >= min_repeat}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_co_share_equals_brute_force(seed):
    frame = random_posts(seed)
    posts = posts_from_frame(frame, PostColumns(post_id="id"))
    for window, min_repeat, directed in [(50, 1, False), (200, 2, False), (50, 1, True), (300, 2, True)]:
        ours = edge_set(co_share_edges(posts, window, min_repeat=min_repeat, directed=directed, threads=2))
        assert ours == brute_share(frame, window, min_repeat, directed), (window, min_repeat, directed)


def brute_text(frame: pl.DataFrame, window: int, threshold: float, min_repeat: int, directed: bool):
    rows = frame.rows()
    sets = [set(t) for t in text_tokens(frame["text"]).to_list()]
    parent = list(range(len(rows)))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    matches = []
    for i, j in itertools.combinations(range(len(rows)), 2):
        (_, a1, t1, x1), (_, a2, t2, x2) = rows[i], rows[j]
        union = sets[i] | sets[j]
        if a1 != a2 and abs(t1 - t2) <= window and union and len(sets[i] & sets[j]) / len(union) >= threshold:
            matches.append((i, j))
            ri, rj = root(i), root(j)
            parent[max(ri, rj)] = min(ri, rj)
    counts: dict = defaultdict(set)
    for i, j in matches:
        (p1, a1, *_), (p2, a2, *_) = rows[i], rows[j]
        if directed:
            counts[(a1, a2)].add(p1)
            counts[(a2, a1)].add(p2)
        else:
            counts[tuple(sorted((a1, a2)))].add(root(i))
    return {k: len(v) for k, v in counts.items() if len(v) >= min_repeat}


@pytest.mark.parametrize("seed", [4, 5])
def test_co_text_equals_brute_force(seed):
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(40)]
    templates = [" ".join(rng.sample(words, rng.randrange(4, 12))) for _ in range(12)]
    rows = []
    for i in range(350):
        tokens = rng.choice(templates).split()
        if rng.random() < 0.5:
            tokens[rng.randrange(len(tokens))] = rng.choice(words)
        if rng.random() < 0.2:
            tokens.append("@someone")
        rows.append((f"p{i}", f"acc{rng.randrange(20):02d}", rng.randrange(4000), " ".join(tokens).upper() if rng.random() < 0.1 else " ".join(tokens)))
    frame = pl.DataFrame(rows, schema=["id", "account", "time", "text"], orient="row", schema_overrides={"time": pl.Int64})
    posts = posts_from_frame(frame, PostColumns(object=None, text="text", post_id="id"))
    for window, threshold, min_repeat, directed in [(100, 0.8, 1, False), (300, 0.6, 2, False), (100, 0.8, 1, True), (500, 0.5, 2, True)]:
        ours = edge_set(co_text_edges(posts, window, similarity=threshold, min_repeat=min_repeat, directed=directed, threads=2))
        assert ours == brute_text(frame, window, threshold, min_repeat, directed), (window, threshold, min_repeat, directed)


def test_text_tokens_ignore_case_and_mentions():
    assert jaccard("Wagner is in MALI @bob", "wagner is in mali") == 1.0
    assert jaccard("Wagner is in Mali!", "Wagner is in Mali") == pytest.approx(4 / 5)
    assert text_tokens(pl.Series(["Don't stop, t.co/x 1,000"])).to_list() == [["don't", "stop", ",", "t.co", "/", "x", "1,000"]]


# -- clusters, writers, storage -------------------------------------------------------------------

def two_groups_csv(tmp_path):
    rows = []
    for k in range(6):  # two groups of four co-share six objects each, one minute apart; a bystander shares once
        rows += [(f"red{i}", 1000 * k + i, f"r{k}") for i in range(4)]
        rows += [(f"blue{i}", 1000 * k + 500 + i, f"b{k}") for i in range(4)]
    rows.append(("bystander", 2, "r0"))
    return write_csv(tmp_path / "posts.csv", ["account", "time", "object"], rows)


def test_clusters_writers_and_determinism(tmp_path):
    path = two_groups_csv(tmp_path)
    settings = CoordinationSettings(window=60, min_repeat=2)
    result = detect_coordination(path, settings=settings)
    clusters = result.clusters.clusters
    assert [set(c.accounts) for c in clusters] == [{f"blue{i}" for i in range(4)}, {f"red{i}" for i in range(4)}]
    blue = clusters[0]
    assert blue.edges == 6 and blue.density == 1.0 and blue.weight_max == 6 and blue.objects_total == 6
    assert blue.objects[0].accounts == 4 and blue.first == "1970-01-01T00:08:20Z"
    assert result.clusters.components == 2

    outputs = []
    for run in (1, 2):
        again = detect_coordination(path, settings=settings)
        files = [write_edges_csv(again.edges, tmp_path / f"e{run}.csv"), write_graph(again.edges, again.clusters, tmp_path / f"g{run}.gexf"),
                 write_graph(again.edges, again.clusters, tmp_path / f"g{run}.graphml"), write_json(again, tmp_path / f"r{run}.json")]
        outputs.append([f.read_bytes() for f in files])
    assert outputs[0] == outputs[1], "outputs must be byte-identical across runs"
    assert (tmp_path / "e1.csv").read_text().splitlines()[:2] == ["account_a,account_b,weight", "blue0,blue1,6"]
    gexf, graphml = nx.read_gexf(tmp_path / "g1.gexf"), nx.read_graphml(tmp_path / "g1.graphml")
    assert gexf.number_of_nodes() == graphml.number_of_nodes() == 8 and gexf.number_of_edges() == 12
    assert graphml.nodes["red0"]["cluster"] == clusters[1].id
    data = json.loads((tmp_path / "r1.json").read_text())
    assert data["run"] == result.run_id and len(data["edges"]) == 12 and data["clusters"][0]["size"] == 4
    with pytest.raises(AtlasError, match=".gexf"):
        write_graph(result.edges, result.clusters, tmp_path / "g.png")


def test_louvain_and_components_and_directed_clusters(tmp_path):
    path = two_groups_csv(tmp_path)
    for method in ("louvain", "components"):
        result = detect_coordination(path, settings=CoordinationSettings(window=60, method=method, directed=True))
        assert sorted(c.size for c in result.clusters.clusters) == [4, 4]
        assert result.edges.directed and result.edges.frame.height == 24
    with pytest.raises(AtlasError, match="unknown clustering method"):
        find_clusters(result.edges, load_posts(path), method="kmeans")


def test_storage_replaces_the_same_run(tmp_path, store):
    from influence_atlas.store.coordination import coordination_clusters, coordination_edges, coordination_runs, save_coordination

    result = detect_coordination(two_groups_csv(tmp_path), settings=CoordinationSettings(window=60))
    assert save_coordination(store, result) == save_coordination(store, result) == result.run_id
    runs = coordination_runs(store)
    assert len(runs) == 1 and runs[0]["edges"] == 12 and runs[0]["clusters"] == 2 and runs[0]["details"]["input"]["posts"] == 49
    stored = coordination_clusters(store, result.run_id)
    assert [c["accounts"] for c in stored] == [list(c.accounts) for c in result.clusters.clusters]
    assert coordination_edges(store, result.run_id, account="red0") == [("red0", "red1", 6), ("red0", "red2", 6), ("red0", "red3", 6)]
    other = detect_coordination(two_groups_csv(tmp_path), settings=CoordinationSettings(window=60, min_repeat=3))
    save_coordination(store, other)
    assert len(coordination_runs(store)) == 2 and store.schema_version() >= 10


# -- the command ------------------------------------------------------------------------------

def run_atlas(args, cwd):
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run(ATLAS + args, cwd=cwd, env=env, capture_output=True, text=True)


def test_atlas_coordination_command(tmp_path, atlas_db):
    two_groups_csv(tmp_path)
    proc = run_atlas(["coordination", "posts.csv", "--db", atlas_db, "--window", "60", "--edges-out", "out/e.csv",
                      "--graph-out", "out/g.gexf", "--json-out", "out/r.json"], tmp_path)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "read 49 posts by 9 accounts" in proc.stdout and "2 clusters (leiden)" in proc.stdout
    assert "12 edges with weight ≥ 2" in proc.stdout and "stored as run-" in proc.stdout
    assert all((tmp_path / "out" / f).exists() for f in ("e.csv", "g.gexf", "r.json"))

    (tmp_path / "bad.csv").write_text("account,time,object\na,1,x\nb,soon,x\n", encoding="utf-8")
    bad = run_atlas(["coordination", "bad.csv", "--no-store"], tmp_path)
    assert bad.returncode == 2 and "row 2" in bad.stderr and "'soon'" in bad.stderr
    missing = run_atlas(["coordination", "posts.csv", "--account", "user", "--no-store"], tmp_path)
    assert missing.returncode == 2 and "no column 'user'" in missing.stderr


def test_detect_estimates_the_window_and_checks_the_settings(tmp_path):
    path = two_groups_csv(tmp_path)
    result = detect_coordination(path, settings=CoordinationSettings(min_repeat=3))
    assert result.estimate is not None and result.window == result.estimate.seconds == 2.0
    assert set(result.seconds) == {"read", "edges", "clusters"}
    with pytest.raises(AtlasError, match="--text"):
        detect_coordination(path, settings=CoordinationSettings(mode="co-text"))
    with pytest.raises(AtlasError, match="--window SECONDS"):
        detect_coordination(path, PostColumns(object=None, text="object"), CoordinationSettings(mode="co-text"))
    with pytest.raises(AtlasError, match="unknown mode"):
        detect_coordination(path, settings=CoordinationSettings(mode="co-like"))
    text = detect_coordination(path, PostColumns(object=None, text="object"), CoordinationSettings(mode="co-text", window=60))
    assert text.edges.mode == "co-text" and text.clusters.clusters[0].objects[0].item == "b0"
