"""A design matrix held column by column: (p, n), each covariate contiguous.

Coordinate descent (``CoxNet``) reads one covariate at a time over all rows,
so it wants the design transposed and in the engine's row order. Building it
that way straight from the DataFrame's values -- one gather, whatever the
source layout -- avoids a row-ordered copy and a second, transposed one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["column_ranges", "gather_columns_first"]


@njit(cache=True)
def _from_rows(A, rows, Xt):
    """Xt[j, k] = A[rows[k], j] for a row-major A: rows read whole, written across."""
    for k in range(rows.shape[0]):
        r = rows[k]
        for j in range(A.shape[1]):
            Xt[j, k] = A[r, j]


@njit(cache=True)
def _from_columns(At, rows, Xt):
    """Xt[j, k] = At[j, rows[k]] for a column-major source given as its transpose."""
    for j in range(At.shape[0]):
        for k in range(rows.shape[0]):
            Xt[j, k] = At[j, rows[k]]


def gather_columns_first(A: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """The (p, n) C-ordered transpose of ``A[rows]`` (all rows in order when None)."""
    rows = np.arange(A.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    # allocated by numpy, which asks the kernel for huge pages on large arrays:
    # filling a compiled np.empty of 80 MB page-faulted for ~50 ms
    Xt = np.empty((A.shape[1], rows.shape[0]))
    if A.flags.f_contiguous and not A.flags.c_contiguous:
        _from_columns(A.T, rows, Xt)
    else:
        _from_rows(np.ascontiguousarray(A), rows, Xt)
    return Xt


@njit(cache=True, fastmath=True)
def column_ranges(Xt):
    """Minimum and maximum of each row of ``Xt`` (each covariate); the values are
    finite (checked before), so fastmath may vectorise the comparisons."""
    p = Xt.shape[0]
    lo = np.empty(p)
    hi = np.empty(p)
    for j in range(p):
        a = Xt[j, 0]
        b = a
        for k in range(1, Xt.shape[1]):
            v = Xt[j, k]
            a = min(a, v)
            b = max(b, v)
        lo[j] = a
        hi[j] = b
    return lo, hi
