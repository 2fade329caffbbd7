"""Synthetic post data with planted coordinated groups inside a heavy-tailed organic background.

Used by the tests (precision/recall against known groups) and by `bench/bench_coordination.py`
(the same data fed to the peer toolkit and to us). Deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

START = 1_700_000_000  # 2023-11-14, an arbitrary fixed origin so that two runs are identical


@dataclass(frozen=True, eq=False)
class SyntheticPosts:
    """Posts (`post_id, account, time, object, text`; time in epoch seconds) and the planted truth."""

    frame: pl.DataFrame
    groups: dict[str, int]  # planted account -> group number
    group_window: float  # seconds within which a planted group's members share an object


def _pseudo_words(rng: np.random.Generator, n: int) -> np.ndarray:
    """Return n distinct pronounceable lower-case words."""
    consonants = np.array(list("bcdfgklmnprstvz"))
    vowels = np.array(list("aeiou"))
    words: set[str] = set()
    while len(words) < n:
        syllables = np.char.add(consonants[rng.integers(0, len(consonants), (n, 4))], vowels[rng.integers(0, len(vowels), (n, 4))])
        sizes = rng.integers(2, 5, n)
        words.update("".join(row[:size]) for row, size in zip(syllables.tolist(), sizes.tolist()))
    return np.array(sorted(words)[:n])


def _texts(rng: np.random.Generator, vocab: np.ndarray, weights: np.ndarray, n: int, low: int, high: int) -> list[str]:
    lengths = rng.integers(low, high + 1, size=n)
    words = vocab[rng.choice(len(vocab), size=int(lengths.sum()), p=weights)].tolist()
    ends = np.cumsum(lengths).tolist()
    return [" ".join(words[end - size : end]) for end, size in zip(ends, lengths.tolist())]


def make_synthetic_posts(
    n_posts: int = 100_000,
    *,
    bursty: bool = False,
    groups: int | None = None,
    group_size: tuple[int, int] = (5, 15),
    actions: tuple[int, int] = (8, 16),
    group_window: float = 30.0,
    days: float = 30.0,
    with_text: bool = True,
    seed: int = 7,
) -> SyntheticPosts:
    """Return about `n_posts` posts: organic sharing with heavy-tailed accounts and objects, plus planted groups.

    Organic: account activity is Pareto-distributed, object popularity Zipf-like; each share
    follows its object's first appearance by a random delay (hours in the ordinary variant,
    minutes for popular objects in the bursty one, which piles up many near-simultaneous
    shares). Planted: `groups` groups of `group_size` accounts that each share `actions`
    objects within `group_window` seconds of one another, with near-copies of one text.
    Texts of planted actions differ by at most one word per member.
    """
    rng = np.random.default_rng(seed)
    groups = groups if groups is not None else max(4, min(60, n_posts // 20_000))
    n_accounts = max(100, n_posts // 8)
    n_objects = max(50, n_posts // 4)
    span = days * 86_400.0

    activity = rng.pareto(1.3, n_accounts) + 1.0
    activity /= activity.sum()
    popularity = 1.0 / np.arange(1, n_objects + 1) ** 0.95
    rng.shuffle(popularity)
    popularity /= popularity.sum()
    born = rng.uniform(0.0, span, n_objects)

    # Planted groups: accounts drawn from the moderately active part of the pool.
    quiet = np.argsort(activity)[: n_accounts // 2]
    sizes = rng.integers(group_size[0], group_size[1] + 1, size=groups)
    members = rng.choice(quiet, size=int(sizes.sum()), replace=False)
    planted_acc, planted_obj, planted_time, planted_text = [], [], [], []
    vocab = _pseudo_words(rng, 6000) if with_text else np.array(["x"])
    word_weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05
    word_weights /= word_weights.sum()
    at = 0
    next_object = n_objects
    for g, size in enumerate(sizes):
        crew = members[at : at + size]
        at += size
        for _ in range(int(rng.integers(actions[0], actions[1] + 1))):
            if rng.random() < 0.75:
                obj, next_object = next_object, next_object + 1
            else:  # piggy-back on a popular organic object, which makes the group harder to see
                obj = int(rng.choice(n_objects, p=popularity))
            trigger = rng.uniform(0.0, span)
            template = list(vocab[rng.choice(len(vocab), size=int(rng.integers(20, 30)), p=word_weights)])
            for account in crew:
                if rng.random() < 0.8:
                    planted_acc.append(account)
                    planted_obj.append(obj)
                    planted_time.append(trigger + rng.uniform(0.0, group_window))
                    words = list(template)
                    if with_text and rng.random() < 0.5:
                        words[int(rng.integers(len(words)))] = str(vocab[int(rng.integers(len(vocab)))])
                    planted_text.append(" ".join(words))

    n_organic = max(0, n_posts - len(planted_acc))
    acc = rng.choice(n_accounts, size=n_organic, p=activity)
    obj = rng.choice(n_objects, size=n_organic, p=popularity)
    if bursty:
        # Popular objects go viral: most of their shares land within minutes of the first one.
        hot = popularity[obj] > np.quantile(popularity, 0.999)
        delay = np.where(hot, rng.lognormal(np.log(2400.0), 1.0, n_organic), rng.exponential(6 * 3600.0, n_organic))
    else:
        delay = rng.exponential(6 * 3600.0, n_organic)
    times = born[obj] + delay

    texts: list[str] = []
    if with_text:
        slogans = _texts(rng, vocab, word_weights, 300, 5, 9)
        organic_words = _texts(rng, vocab, word_weights, n_organic, 8, 22)
        slogan_pick = rng.random(n_organic) < 0.01
        slogan_ids = rng.integers(0, len(slogans), n_organic)
        texts = [slogans[s] if pick else words for pick, s, words in zip(slogan_pick.tolist(), slogan_ids.tolist(), organic_words)]
        texts.extend(planted_text)

    all_acc = np.concatenate([acc, np.array(planted_acc, dtype=np.int64)])
    all_obj = np.concatenate([obj, np.array(planted_obj, dtype=np.int64)])
    all_time = np.floor(START + np.concatenate([times, np.array(planted_time)])).astype(np.int64)
    order = rng.permutation(len(all_acc))
    frame = pl.DataFrame({
        "post_id": [f"m{i:08d}" for i in range(len(order))],
        "account": np.char.add("u", np.char.zfill(all_acc[order].astype(str), 7)),
        "time": all_time[order],
        "object": np.char.add("https://news.example/a/", all_obj[order].astype(str)),
        **({"text": np.array(texts, dtype=object)[order]} if with_text else {}),
    })
    truth: dict[str, int] = {}
    at = 0
    for g, size in enumerate(sizes):
        for account in members[at : at + size]:
            truth[f"u{int(account):07d}"] = g
        at += size
    return SyntheticPosts(frame=frame, groups=truth, group_window=group_window)
