"""A design matrix held column by column: (p, n), each covariate contiguous.

Coordinate descent (``CoxNet``) reads one covariate at a time over all rows,
so it wants the design transposed and in the engine's row order. Building it
that way straight from the DataFrame's values -- one gather, whatever the
source layout -- avoids a row-ordered copy and a second, transposed one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["first_constant_column", "frame_columns_in_place", "gather_columns_first"]


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


def frame_columns_in_place(df, columns: list[str]) -> np.ndarray | None:
    """The named float64 columns as one (n, p) view of the 2-d array pandas holds
    them in, when they are consecutive columns of it in this order; else None
    (the caller then has pandas copy them out, ``df[columns]``).

    A frame built from one array (``pandas.DataFrame(X)``) or read from a file
    keeps its float columns in one such array, and selecting them by name
    copies all of them (25-33 ms at 80 MB) only for the gather to read them
    once more. Each column's own array (``df[c].to_numpy()``, a view) is
    matched exactly: the candidate ``base[:, j]`` must start at the column's
    address with its strides and length, so the view is ordinary numpy
    indexing of that array and reads nothing else; anything unexpected (other
    dtypes, several blocks, columns out of order, a pandas that copies) gives
    None."""
    if not columns:
        return None
    arrays = []
    for c in columns:
        a = df[c].to_numpy()
        if a.dtype != np.float64 or a.ndim != 1:
            return None
        arrays.append(a)
    base = arrays[0].base
    if not isinstance(base, np.ndarray) or base.ndim != 2 or base.dtype != np.float64:
        return None
    for rows_axis in (0, 1):
        block = base if rows_axis == 0 else base.T  # (n, k): rows along axis 0
        if block.shape[0] != len(df) or block.strides[1] == 0:
            continue
        origin = block.__array_interface__["data"][0]
        start = arrays[0].__array_interface__["data"][0] - origin
        if start % block.strides[1]:
            continue
        j0 = start // block.strides[1]
        if not 0 <= j0 <= block.shape[1] - len(arrays):
            continue
        view = block[:, j0 : j0 + len(arrays)]
        if all(
            a.base is base
            and a.__array_interface__["data"][0] == view[:, k].__array_interface__["data"][0]
            and a.strides == view[:, k].strides
            and a.shape == view[:, k].shape
            for k, a in enumerate(arrays)
        ):
            return view
    return None


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
