"""Products of the Aalen-Johansen transition matrices, kept sparse: the helper
of ``occupation_kernels``.

At a transition time H = I + dA, where dA has non-zero rows only for the
states somebody left at that time (usually one row with two entries). Time
e's dA is stored as the triplets ``steps[ptr[e]:ptr[e+1]]``, each a row
(state, column, value) packed in one array so that a step reads one cache
line, and v · H costs O(entries) instead of O(S²). The variance pass needs a
patient's row vector carried through every H between two times,
v · H[lo+1] ... H[hi]; for that the times are cut into blocks of ``BLOCK``
transition times, each block's product is a dense S x S matrix, and a
segment tree over the blocks gives a product over many whole blocks from
O(log(T / BLOCK)) dense matrices. A query costs at most 2·BLOCK sparse steps
plus the tree; memory is O(T / BLOCK · S²) (a tree over single times would
need about 600 MB at 10⁶ times).

Everything works on caller-owned scratch arrays: no allocation per query.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["BLOCK", "apply_range", "apply_step", "build_block_tree"]

BLOCK = 32


@njit(cache=True)
def apply_step(v, e, ptr, steps, tmp):
    """v <- v · H[e] in place (H[e] = I + the triplets of time e).

    The increments are gathered from the old v first (a column can also be a
    row of another triplet), then added; only the touched entries are read."""
    start = ptr[e]
    stop = ptr[e + 1]
    for q in range(start, stop):
        tmp[int(steps[q, 1])] = 0.0
    for q in range(start, stop):
        tmp[int(steps[q, 1])] += v[int(steps[q, 0])] * steps[q, 2]
    for q in range(start, stop):
        c = int(steps[q, 1])
        v[c] += tmp[c]
        tmp[c] = 0.0  # a column listed twice is added once


@njit(cache=True)
def _multiply(a, b, out):
    n = a.shape[0]
    for r in range(n):
        for c in range(n):
            s = 0.0
            for k in range(n):
                s += a[r, k] * b[k, c]
            out[r, c] = s


@njit(cache=True)
def build_block_tree(ptr, steps, n_states):
    """Segment tree (1-based heap layout) of the dense products of each block."""
    n_events = ptr.shape[0] - 1
    n_blocks = max((n_events + BLOCK - 1) // BLOCK, 1)
    size = 1
    while size < n_blocks:
        size *= 2
    tree = np.zeros((2 * size, n_states, n_states))
    for node in range(2 * size):
        for a in range(n_states):
            tree[node, a, a] = 1.0
    tmp = np.empty(n_states)
    for e in range(n_events):
        node = size + e // BLOCK
        for r in range(n_states):
            apply_step(tree[node, r], e, ptr, steps, tmp)
    for node in range(size - 1, 0, -1):
        _multiply(tree[2 * node], tree[2 * node + 1], tree[node])
    return tree


@njit(cache=True)
def _apply_blocks(v, tree, first, last, stack, tmp):
    """v <- v · (product of blocks first..last), left to right, from the tree."""
    size = tree.shape[0] // 2
    n_states = v.shape[0]
    left = first + size
    right = last + 1 + size
    n_left = 0
    n_right = 0
    # nodes found on the left are used in that order, those on the right reversed
    half = stack.shape[0] // 2
    while left < right:
        if left & 1:
            stack[n_left] = left
            n_left += 1
            left += 1
        if right & 1:
            right -= 1
            stack[half + n_right] = right
            n_right += 1
        left >>= 1
        right >>= 1
    for q in range(n_left + n_right):
        node = stack[q] if q < n_left else stack[half + n_right - 1 - (q - n_left)]
        for b in range(n_states):
            s = 0.0
            for a in range(n_states):
                s += v[a] * tree[node, a, b]
            tmp[b] = s
        for b in range(n_states):
            v[b] = tmp[b]


@njit(cache=True)
def apply_range(v, lo, hi, ptr, steps, tree, stack, tmp):
    """v <- v · H[lo+1] · ... · H[hi] in place (lo = -1: from the first time)."""
    zero = True
    for a in range(v.shape[0]):
        if v[a] != 0.0:
            zero = False
            break
    if zero:  # most patients' first interval: nothing to carry
        return
    e = lo + 1
    while e <= hi and e % BLOCK != 0:
        apply_step(v, e, ptr, steps, tmp)
        e += 1
    if e > hi:
        return
    n_events = ptr.shape[0] - 1
    last = (n_events - 1) // BLOCK if hi == n_events - 1 else (hi + 1) // BLOCK - 1
    first = e // BLOCK
    if last >= first:
        _apply_blocks(v, tree, first, last, stack, tmp)
        e = (last + 1) * BLOCK
    while e <= hi:
        apply_step(v, e, ptr, steps, tmp)
        e += 1
