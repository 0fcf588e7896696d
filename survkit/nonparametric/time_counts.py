"""Counts per (group, distinct time) in one pass, without sorting the rows.

Kaplan-Meier, Nelson-Aalen and the log-rank test only need, for every group
and distinct stop time, the number of rows, of event rows and their weights.
``count_by_time`` finds each row's distinct time with an open-addressing hash
table on the bits of the time (-0.0 folded into 0.0 first) and adds the row to
its cell in the same pass; only the distinct times are sorted at the end. With
many tied times (registry data in days) the table stays in cache, which is
what makes this several times faster than sorting a million rows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["count_by_time"]

_EMPTY = -1


@njit(cache=True, inline="always")
def _mix(b):
    # splitmix64 finaliser: spreads the float bits over the table
    x = np.uint64(b)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xC4CEB9FE1A85EC53)
    x ^= x >> np.uint64(33)
    return x


@njit(cache=True)
def _hash_codes(bits, cap):
    """Code of each row's distinct time (first-seen order) and the distinct bits.

    Stops early (ok False) once the table would be more than half full; the
    caller retries with a larger table, so the total work stays O(n).
    Kept free of array reallocation: numba then keeps the loop tight.
    """
    table = np.full(cap, _EMPTY, dtype=np.int64)
    keys = np.empty(cap // 2 + 1, dtype=np.int64)
    codes = np.empty(bits.shape[0], dtype=np.int64)
    mask = np.uint64(cap - 1)
    n_codes = 0
    for i in range(bits.shape[0]):
        b = bits[i]
        h = _mix(b) & mask
        while True:
            code = table[h]
            if code == _EMPTY or keys[code] == b:
                break
            h = (h + np.uint64(1)) & mask
        if code == _EMPTY:
            if 2 * (n_codes + 1) > cap:
                return codes, keys, n_codes, False
            code = n_codes
            n_codes += 1
            keys[code] = b
            table[h] = code
        codes[i] = code
    return codes, keys, n_codes, True


@njit(cache=True)
def _count_cells(codes, rank, group, offset, event, weight, weighted, n_times, n_slots):
    """Rows, event rows, weighted events and weighted rows per (slot, time) cell."""
    size = n_times * n_slots
    n_rows = np.zeros(size, dtype=np.int64)
    event_rows = np.zeros(size)
    n_event = np.zeros(size)
    n_all = np.zeros(size)
    for i in range(codes.shape[0]):
        cell = (group[i] - offset) * n_times + rank[codes[i]]
        w = weight[i] if weighted else 1.0
        n_rows[cell] += 1
        n_all[cell] += w
        if event[i]:
            event_rows[cell] += 1.0
            n_event[cell] += w
    return n_rows, event_rows, n_event, n_all


def count_by_time(stop, group, offset, n_slots, event, weight=None):
    """Distinct times (ascending) and (n_slots, n_times) arrays of rows, event
    rows, weighted events and weighted rows per (group slot, time) cell.

    ``stop`` must be finite (validated); ``group - offset`` are slots
    0..n_slots-1; ``event`` is nonzero for events; ``weight`` None for 1.
    """
    bits = (np.asarray(stop, dtype=np.float64) + 0.0).view(np.int64)  # -0.0 -> 0.0
    cap = 4096
    while True:
        codes, keys, n_times, ok = _hash_codes(bits, cap)
        if ok:
            break
        cap *= 8
    times = keys[:n_times].view(np.float64)
    order = np.argsort(times)
    rank = np.empty(n_times, dtype=np.int64)
    rank[order] = np.arange(n_times)
    w = np.ones(1) if weight is None else weight
    weighted = weight is not None
    counts = _count_cells(codes, rank, group, offset, event, w, weighted, n_times, n_slots)
    return (times[order], *(a.reshape(n_slots, n_times) for a in counts))
