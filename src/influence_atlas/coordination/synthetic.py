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
    crews = np.split(rng.choice(quiet, size=int(sizes.sum()), replace=False), np.cumsum(sizes)[:-1])
    vocab = _pseudo_words(rng, 6000) if with_text else np.array(["x"])
    word_weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05
    word_weights /= word_weights.sum()
    planted = _planted_shares(rng, crews, actions, n_objects, popularity, span, group_window,
                              (vocab, word_weights) if with_text else None)

    n_organic = max(0, n_posts - len(planted[0]))
    acc, obj, times = _organic_shares(rng, n_organic, activity, popularity, born, bursty)
    texts = _organic_texts(rng, vocab, word_weights, n_organic) + planted[3] if with_text else None
    frame = _frame(rng, np.concatenate([acc, np.array(planted[0], dtype=np.int64)]),
                   np.concatenate([obj, np.array(planted[1], dtype=np.int64)]), np.concatenate([times, np.array(planted[2])]), texts)
    truth = {f"u{int(account):07d}": g for g, crew in enumerate(crews) for account in crew}
    return SyntheticPosts(frame=frame, groups=truth, group_window=group_window)


def _planted_shares(rng: np.random.Generator, crews: list[np.ndarray], actions: tuple[int, int], n_objects: int,
                    popularity: np.ndarray, span: float, window: float,
                    words: tuple[np.ndarray, np.ndarray] | None) -> tuple[list, list, list, list[str]]:
    """Return (accounts, objects, times, texts) of the planted groups: each crew shares `actions` objects within `window`
    seconds, most of them new objects, with near-copies of one text (when `words` gives a vocabulary and its weights)."""
    vocab, word_weights = words if words is not None else (np.array(["x"]), np.ones(1))
    accounts, objects, times, texts = [], [], [], []
    next_object = n_objects
    for crew in crews:
        for _ in range(int(rng.integers(actions[0], actions[1] + 1))):
            if rng.random() < 0.75:
                obj, next_object = next_object, next_object + 1
            else:  # piggy-back on a popular organic object, which makes the group harder to see
                obj = int(rng.choice(n_objects, p=popularity))
            trigger = rng.uniform(0.0, span)
            template = list(vocab[rng.choice(len(vocab), size=int(rng.integers(20, 30)), p=word_weights)])
            for account in crew:
                if rng.random() < 0.8:
                    accounts.append(account)
                    objects.append(obj)
                    times.append(trigger + rng.uniform(0.0, window))
                    text = list(template)
                    if words is not None and rng.random() < 0.5:
                        text[int(rng.integers(len(text)))] = str(vocab[int(rng.integers(len(vocab)))])
                    texts.append(" ".join(text))
    return accounts, objects, times, texts


def _organic_shares(rng: np.random.Generator, n: int, activity: np.ndarray, popularity: np.ndarray, born: np.ndarray,
                    bursty: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (accounts, objects, times) of `n` organic shares, each some delay after its object's first appearance."""
    acc = rng.choice(len(activity), size=n, p=activity)
    obj = rng.choice(len(popularity), size=n, p=popularity)
    if bursty:
        # Popular objects go viral: most of their shares land within minutes of the first one.
        hot = popularity[obj] > np.quantile(popularity, 0.999)
        delay = np.where(hot, rng.lognormal(np.log(2400.0), 1.0, n), rng.exponential(6 * 3600.0, n))
    else:
        delay = rng.exponential(6 * 3600.0, n)
    return acc, obj, born[obj] + delay


def _organic_texts(rng: np.random.Generator, vocab: np.ndarray, word_weights: np.ndarray, n: int) -> list[str]:
    """Return the texts of `n` organic shares: mostly their own words, one in a hundred a common slogan."""
    slogans = _texts(rng, vocab, word_weights, 300, 5, 9)
    organic_words = _texts(rng, vocab, word_weights, n, 8, 22)
    slogan_pick = rng.random(n) < 0.01
    slogan_ids = rng.integers(0, len(slogans), n)
    return [slogans[s] if pick else words for pick, s, words in zip(slogan_pick.tolist(), slogan_ids.tolist(), organic_words)]


def _frame(rng: np.random.Generator, accounts: np.ndarray, objects: np.ndarray, times: np.ndarray, texts: list[str] | None) -> pl.DataFrame:
    """Return the posts in a random order (`post_id, account, time, object` and `text` when given)."""
    order = rng.permutation(len(accounts))
    return pl.DataFrame({
        "post_id": [f"m{i:08d}" for i in range(len(order))],
        "account": np.char.add("u", np.char.zfill(accounts[order].astype(str), 7)),
        "time": np.floor(START + times).astype(np.int64)[order],
        "object": np.char.add("https://news.example/a/", objects[order].astype(str)),
        **({"text": np.array(texts, dtype=object)[order]} if texts is not None else {}),
    })
