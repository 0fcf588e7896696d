"""Certified bounds that let the elastic-net path skip most full-gradient reads.

After every lambda of the path the KKT check and the next strong rule need
|x_j . g| (g the gradient in the linear predictor) only to compare it with a
threshold, and a column far below its threshold stays far below for many
lambdas. Between two exact evaluations of column j, Cauchy-Schwarz bounds it:

    |x_j . g_now| <= |x_j . g_then| + ||x_j|| ||g_now - g_then||,

and ||g_now - g_then|| is at most the path length of g since then (the sum of
the norms of its steps, one O(n) norm per evaluation). Only the columns whose
bound reaches their threshold are read again, so every decision (KKT
violation, strong set) is the one the exact gradient gives: the fitted path
does not change, only the number of columns read. A rounding margin covers the
floating-point error of the dot products (at most n * eps * ||x_j|| ||g||).

The columns that are read are read first from a single-precision copy of the
design: half the bytes, and reading is what these loops wait on. A decision
only needs the side of each threshold the value lies on, and the copy's
rounding moves x_j . g by at most 2^-24 ||x_j|| ||g|| (plus the same
accumulation margin), so a value whose interval clears every threshold
settles them exactly as the double-precision one would; only the few columns
whose interval straddles a threshold are read again in double precision.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .coordinate_descent import column_gradient

__all__ = ["GradientBounds"]

_EPS = np.finfo(float).eps
_U32 = 2.0**-24  # unit roundoff of float32 (round to nearest)
_TINY32 = 2.0**-150  # the absolute rounding of a float32 subnormal


@njit(cache=True, fastmath=True)
def _step_norms(g, g_last):
    """(||g - g_last||, ||g||) in one pass, copying g into g_last on the way; both
    rounded up by (n + 8) eps, more than the worst-case relative error of the
    differences, their squares, a sum of n of them in any order and its root,
    so bounds built from them stay upper bounds."""
    d2 = 0.0
    s2 = 0.0
    for i in range(g.shape[0]):
        x = g[i]
        d = x - g_last[i]
        d2 += d * d
        s2 += x * x
        g_last[i] = x
    up = 1.0 + (g.shape[0] + 8) * 2.220446049250313e-16
    return np.sqrt(d2) * up, np.sqrt(s2) * up


class GradientBounds:
    """Exact |x_j . g| where needed, a certified upper bound elsewhere."""

    def __init__(self, Xt: np.ndarray, norms: np.ndarray, single: np.ndarray | None = None):
        """``single``: ``Xt`` in float32 (``StandardisedDesign.single``), or None to
        read every column in double precision."""
        self.Xt = Xt
        # rounding in the norms themselves: a relative allowance far above eps
        self.norms = norms * (1 + 1e-9)
        p, n = Xt.shape
        self.value = np.full(p, np.inf)  # |x_j . g| at its last exact evaluation
        self.length_then = np.zeros(p)  # the path length of g at that evaluation
        self.length = 0.0
        self.g_last: np.ndarray | None = None
        self.g_norm_max = 0.0
        self.round = 4 * n * _EPS
        self.single = single
        self.n_read = 0  # columns read (for benchmarks and tests)
        self.n_exact = 0  # of which read in double precision

    def gradient(self, g: np.ndarray, skip: np.ndarray | None, thresholds=()) -> np.ndarray:
        """x_j . g, or a value on the same side of every threshold in ``thresholds``
        (scalars or one value per column: those the caller compares |x_j . g|
        with). Columns in ``skip`` get 0; columns whose bound is below every
        threshold are not read and get that bound; the others are read, in single
        precision where that settles every comparison (the value is then within
        its certified error of x_j . g), else in double. Without ``thresholds``
        every column not skipped is read in double precision."""
        first = self.g_last is None
        if first:
            self.g_last = np.zeros_like(g)  # its own copy: the caller overwrites g in place
        step, g_norm = _step_norms(g, self.g_last)
        if not first:
            self.length += step
        self.g_norm_max = max(self.g_norm_max, g_norm)
        bound = (
            self.value
            + self.norms * (self.length - self.length_then) * (1 + 1e-12)
            + self.round * self.norms * self.g_norm_max
        )
        lowest = -np.inf  # without thresholds, every column is read
        if thresholds:
            lowest = thresholds[0]
            for t in thresholds[1:]:
                lowest = np.minimum(lowest, t)
        todo = bound >= lowest
        if skip is not None:
            todo &= ~skip
        cols = np.flatnonzero(todo).astype(np.int64)
        out = np.where(todo, 0.0, bound)
        exact = cols
        if thresholds and self.single is not None and cols.size:
            column_gradient(self.single, g, cols, out)
            err = (_U32 * (1 + 1e-6) + self.round) * self.norms[cols] * g_norm + (
                _TINY32 * np.sqrt(g.shape[0]) * g_norm
            )
            a = np.abs(out[cols])
            settled = np.ones(cols.shape[0], dtype=bool)
            for t in thresholds:
                t_cols = t[cols] if np.ndim(t) else t
                settled &= (a - err > t_cols) | (a + err < t_cols)
            # a settled column's next bound starts from the top of its interval
            self.value[cols] = a + err
            exact = cols[~settled]
        column_gradient(self.Xt, g, exact, out)
        self.value[exact] = np.abs(out[exact])
        self.length_then[cols] = self.length
        self.n_read += cols.shape[0]
        self.n_exact += exact.shape[0]
        if skip is not None:
            out[skip] = 0.0
        return out
