"""A design matrix held column by column: (p, n), each covariate contiguous.

Coordinate descent (``CoxNet``) reads one covariate at a time over all rows,
so it wants the design transposed and in the engine's row order. Building it
that way straight from the DataFrame's values -- one gather, whatever the
source layout -- avoids a row-ordered copy and a second, transposed one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["first_constant_column", "gather_columns_first"]


_TILE = 8  # rows per tile: 8 doubles fill one 64-byte cache line of each output column


@njit(cache=True)
def _from_rows(A, rows, Xt):
    """Xt[j, k] = A[rows[k], j] for a row-major A, eight output rows at a time, so
    each column's writes fill whole cache lines (a quarter faster than one row at
    a time). Returns a sum that is NaN exactly when some value is not finite
    (v * 0 is 0 for finite v, NaN for NaN and +-inf), which saves a separate
    pass (a scalar sum: the loop waits on memory, not on the additions)."""
    n = rows.shape[0]
    p = A.shape[1]
    probe = 0.0
    k0 = 0
    while k0 + _TILE <= n:
        for j in range(p):
            for t in range(_TILE):
                v = A[rows[k0 + t], j]
                Xt[j, k0 + t] = v
                probe += v * 0.0
        k0 += _TILE
    for k in range(k0, n):
        for j in range(p):
            v = A[rows[k], j]
            Xt[j, k] = v
            probe += v * 0.0
    return probe


@njit(cache=True)
def _from_columns(At, rows, Xt):
    """Xt[j, k] = At[j, rows[k]] for a column-major source given as its transpose;
    returns the same finiteness probe as ``_from_rows``."""
    probe = 0.0
    for j in range(At.shape[0]):
        for k in range(rows.shape[0]):
            v = At[j, rows[k]]
            Xt[j, k] = v
            probe += v * 0.0
    return probe


def gather_columns_first(A: np.ndarray, rows: np.ndarray | None) -> tuple[np.ndarray, bool]:
    """The (p, n) C-ordered transpose of ``A[rows]`` (all rows in order when None),
    and whether every value is finite (checked in the same pass)."""
    rows = np.arange(A.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    # allocated by numpy, which asks the kernel for huge pages on large arrays:
    # filling a compiled np.empty of 80 MB page-faulted for ~50 ms
    Xt = np.empty((A.shape[1], rows.shape[0]))
    if A.flags.f_contiguous and not A.flags.c_contiguous:
        probe = _from_columns(A.T, rows, Xt)
    else:
        probe = _from_rows(np.ascontiguousarray(A), rows, Xt)
    return Xt, bool(np.isfinite(probe))


@njit(cache=True)
def first_constant_column(Xt):
    """The first row of ``Xt`` (a covariate) whose values are all equal, or -1. Each
    covariate is read only until a value differs from its first, so a design
    without constant columns costs a few reads per column, not a pass."""
    n = Xt.shape[1]
    for j in range(Xt.shape[0]):
        first = Xt[j, 0] if n else 0.0
        k = 1
        while k < n and Xt[j, k] == first:
            k += 1
        if k == n:
            return j
    return -1
