"""Same answers as the peer: directed co-share edges and weights equal coordination-network-toolkit's co_link and
co_retweet on 35,125 real retweets, and co-text edges equal its co_similar_tweet on synthetic posts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest

from influence_atlas.coordination import PostColumns, co_share_edges, co_text_edges, load_posts, make_synthetic_posts, posts_from_frame

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "coordination" / "russian_coord_tweets.csv"
REAL_COLUMNS = dict(account="account_id", time="timestamp_share", object="object_id")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def toolkit():
    try:
        from coordination_network_toolkit import compute_networks, preprocess
    except ImportError:
        pytest.skip("coordination-network-toolkit is not installed: pip install -e '.[test]' installs it")
    return preprocess, compute_networks


@pytest.fixture(scope="module")
def real_file() -> Path:
    if not REAL.is_file():
        pytest.fail(f"the real retweet file is not at {REAL} (the tests need ../shared beside the clone, as CI has it)")
    return REAL


def toolkit_edges(db: Path, table: str) -> dict:
    """Return the toolkit's edges without the self-loops its 1.5.2 release writes."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(f"SELECT user_1, user_2, weight FROM {table} WHERE user_1 != user_2").fetchall()
    return {(a, b): w for a, b, w in rows}


def our_edges(edges) -> dict:
    return {(a, b): w for a, b, w in edges.named().iter_rows()}


@pytest.fixture(scope="module")
def toolkit_dbs(toolkit, real_file, tmp_path_factory):
    """The real file loaded into the toolkit twice: as links (one message per content_id, its objects as URLs)
    and as retweets (one message per distinct row, the object as the reposted id)."""
    preprocess, _ = toolkit
    folder = tmp_path_factory.mktemp("toolkit")
    rows = pl.read_csv(real_file, infer_schema=False).unique(maintain_order=True)
    messages = rows.group_by("content_id", maintain_order=True).agg(
        pl.col("account_id").first(), pl.col("timestamp_share").first(), pl.col("object_id").unique().sort())
    links = folder / "links.db"
    preprocess.preprocess_data(links, ((m, a, a, "", "", "", t, urls) for m, a, t, urls in messages.iter_rows()))
    retweets = folder / "retweets.db"
    preprocess.preprocess_data(retweets, ((str(i), r["account_id"], r["account_id"], r["object_id"], "", "", r["timestamp_share"], [])
                                          for i, r in enumerate(rows.iter_rows(named=True))))
    return links, retweets


@pytest.mark.parametrize("window,min_weight", [(60, 1), (600, 2)])
def test_co_link_edges_equal_the_toolkit(toolkit, toolkit_dbs, real_file, window, min_weight):
    _, compute = toolkit
    links, _ = toolkit_dbs
    compute.compute_co_link_network(links, window, n_threads=2, min_edge_weight=min_weight)
    expected = toolkit_edges(links, "co_link_network")
    posts = load_posts(real_file, PostColumns(**REAL_COLUMNS, post_id="content_id"))
    ours = our_edges(co_share_edges(posts, window, min_repeat=min_weight, directed=True))
    assert len(expected) > 1000 if min_weight == 1 else len(expected) > 100
    assert ours == expected


@pytest.mark.parametrize("window,min_weight", [(60, 2), (600, 1)])
def test_co_retweet_edges_equal_the_toolkit(toolkit, toolkit_dbs, real_file, window, min_weight):
    _, compute = toolkit
    _, retweets = toolkit_dbs
    compute.compute_co_retweet_parallel(retweets, window, n_threads=2, min_edge_weight=min_weight)
    expected = toolkit_edges(retweets, "co_retweet_network")
    posts = load_posts(real_file, PostColumns(**REAL_COLUMNS))
    assert posts.report.duplicates == 1  # one row of the file repeats exactly; the toolkit gets it once too
    ours = our_edges(co_share_edges(posts, window, min_repeat=min_weight, directed=True))
    assert ours == expected and len(expected) > 50


def test_co_text_edges_equal_the_toolkit_co_similar_tweet(toolkit, tmp_path):
    preprocess, compute = toolkit
    synthetic = make_synthetic_posts(6000, groups=4, seed=11)
    frame = synthetic.frame.with_columns(
        # Give the tokenisers something to agree on beyond plain words: case, punctuation, @mentions.
        text=pl.when(pl.int_range(pl.len()) % 7 == 0).then(pl.col("text").str.to_uppercase() + "! @someone")
        .otherwise(pl.col("text")))
    db = tmp_path / "text.db"
    preprocess.preprocess_data(db, ((p, a, a, "", "", x, t, []) for p, a, t, _, x in frame.select(
        "post_id", "account", "time", "object", "text").iter_rows()))
    compute.compute_co_similar_tweet(db, 120, n_threads=2, similarity_threshold=0.8, min_edge_weight=1)
    expected = toolkit_edges(db, "co_similar_tweet_network")
    posts = posts_from_frame(frame, PostColumns(object=None, text="text", post_id="post_id"))
    ours = our_edges(co_text_edges(posts, 120, similarity=0.8, min_repeat=1, directed=True))
    assert len(expected) > 100
    assert ours == expected
