"""Compiled inner loops (numba): account-by-account pair counting inside sliding time windows.

Every loop visits only post pairs that fall within one window, so a popular object costs
what its near-simultaneous shares cost, never the square of all its shares. Counting happens
per account with a dense counter and a stamp array instead of a global hash of pairs, so
memory stays at a few arrays the size of the account list plus the edges kept.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def _grow(buf, size):
    out = np.empty(max(size * 2, 1024), dtype=buf.dtype)
    out[: buf.shape[0]] = buf
    return out


@njit(nogil=True, cache=True)
def count_window_edges(a_from, a_to, acc_start, acc_rows, unit, lo, hi, acc, n_accounts, min_weight, directed):
    """Return (a, b, weight) for accounts a in [a_from, a_to), sorted by (a, b).

    Rows are sorted by (object, time); row k's window partners are rows lo[k]..hi[k]-1.
    `acc_rows[acc_start[a]:acc_start[a+1]]` are account a's rows, ordered so that rows of one
    counting unit (a post for directed weights, an account-object pair for undirected ones)
    are consecutive; `unit[k]` numbers that unit. A unit counts once per partner account.
    Undirected mode keeps only b > a.
    """
    # One row per partner account: [last unit seen, count]; side by side, one cache line per look-up.
    state = np.zeros((n_accounts, 2), np.int32)
    state[:, 0] = -1
    touched = np.empty(n_accounts, np.int32)
    out_a = np.empty(1024, np.int32)
    out_b = np.empty(1024, np.int32)
    out_w = np.empty(1024, np.int32)
    n_out = 0
    for a in range(a_from, a_to):
        n_touched = 0
        for idx in range(acc_start[a], acc_start[a + 1]):
            k = acc_rows[idx]
            u = unit[k]
            for j in range(lo[k], hi[k]):
                b = acc[j]
                if b == a or (not directed and b < a) or state[b, 0] == u:
                    continue
                state[b, 0] = u
                if state[b, 1] == 0:
                    touched[n_touched] = b
                    n_touched += 1
                state[b, 1] += 1
        first = n_out
        for t in range(n_touched):
            b = touched[t]
            if state[b, 1] >= min_weight:
                if n_out == out_a.shape[0]:
                    out_a = _grow(out_a, n_out)
                    out_b = _grow(out_b, n_out)
                    out_w = _grow(out_w, n_out)
                out_a[n_out] = a
                out_b[n_out] = b
                out_w[n_out] = state[b, 1]
                n_out += 1
            state[b, 1] = 0
        if n_out - first > 1:
            order = np.argsort(out_b[first:n_out])
            out_b[first:n_out] = out_b[first:n_out][order]
            out_w[first:n_out] = out_w[first:n_out][order]
    return out_a[:n_out], out_b[:n_out], out_w[:n_out]


@njit(nogil=True, cache=True)
def similar_pairs(x_from, x_to, tok_start, tokens, acc, prefix_start, prefix_entries, entry_lo, entry_hi,
                  entry_post, threshold):
    """Return (x, y, [candidates checked]): post pairs, x < y, different accounts, token-set Jaccard >= threshold.

    Posts x in [x_from, x_to). `tokens[tok_start[x]:tok_start[x+1]]` is x's sorted token set
    (rarest first). Candidates come from the prefix entries of x: each entry e of token T
    points at the posts with T in their prefix whose time falls within the window
    (entry_lo[e]..entry_hi[e]-1 in the token-major list). Candidates are checked exactly.
    """
    n_posts = tok_start.shape[0] - 1
    stamp = np.full(n_posts, -1, np.int64)
    out_x = np.empty(1024, np.int64)
    out_y = np.empty(1024, np.int64)
    n_out = 0
    checked = 0
    for x in range(x_from, x_to):
        nx = tok_start[x + 1] - tok_start[x]
        if nx == 0:
            continue
        for p in range(prefix_start[x], prefix_start[x + 1]):
            e = prefix_entries[p]
            for f in range(entry_lo[e], entry_hi[e]):
                y = entry_post[f]
                if y <= x or stamp[y] == x or acc[y] == acc[x]:
                    continue
                stamp[y] = x
                checked += 1
                ny = tok_start[y + 1] - tok_start[y]
                if ny < threshold * nx - 1e-9 or nx < threshold * ny - 1e-9:
                    continue
                i = tok_start[x]
                j = tok_start[y]
                i_end = tok_start[x + 1]
                j_end = tok_start[y + 1]
                inter = 0
                while i < i_end and j < j_end:
                    if tokens[i] == tokens[j]:
                        inter += 1
                        i += 1
                        j += 1
                    elif tokens[i] < tokens[j]:
                        i += 1
                    else:
                        j += 1
                if inter / (nx + ny - inter) >= threshold:
                    if n_out == out_x.shape[0]:
                        out_x = _grow(out_x, n_out)
                        out_y = _grow(out_y, n_out)
                    out_x[n_out] = x
                    out_y[n_out] = y
                    n_out += 1
    return out_x[:n_out], out_y[:n_out], np.array([checked])


@njit(nogil=True, cache=True)
def union_groups(n, xs, ys):
    """Return a group number per item: items linked through (xs[i], ys[i]) pairs share one."""
    parent = np.arange(n)
    for i in range(xs.shape[0]):
        a = xs[i]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        b = ys[i]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a != b:
            if a < b:
                parent[b] = a
            else:
                parent[a] = b
    for i in range(n):
        r = i
        while parent[r] != r:
            r = parent[r]
        parent[i] = r
    return parent


@njit(nogil=True, cache=True)
def sorted_distinct_segments(starts, values):
    """Sort each segment values[starts[i]:starts[i+1]] and drop repeats; return (new starts, new values)."""
    n = starts.shape[0] - 1
    out = np.empty(values.shape[0], values.dtype)
    out_starts = np.zeros(n + 1, np.int64)
    at = 0
    for i in range(n):
        segment = np.sort(values[starts[i] : starts[i + 1]])
        for k in range(segment.shape[0]):
            if k == 0 or segment[k] != segment[k - 1]:
                out[at] = segment[k]
                at += 1
        out_starts[i + 1] = at
    return out_starts, out[:at]
