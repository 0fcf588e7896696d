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
"""

from __future__ import annotations

import numpy as np

from .coordinate_descent import column_gradient

__all__ = ["GradientBounds"]

_EPS = np.finfo(float).eps


class GradientBounds:
    """Exact |x_j . g| where needed, a certified upper bound elsewhere."""

    def __init__(self, Xt: np.ndarray, norms: np.ndarray):
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
        self.n_read = 0  # columns read (for benchmarks and tests)

    def gradient(self, g: np.ndarray, skip: np.ndarray | None, threshold) -> np.ndarray:
        """x_j . g for the columns not in ``skip`` whose bound reaches
        ``threshold`` (a scalar or one value per column); the others get their
        bound, which is below the threshold. Columns in ``skip`` get 0."""
        if self.g_last is not None:
            self.length += float(np.linalg.norm(g - self.g_last))
        self.g_last = g
        self.g_norm_max = max(self.g_norm_max, float(np.linalg.norm(g)))
        bound = (
            self.value
            + self.norms * (self.length - self.length_then) * (1 + 1e-12)
            + self.round * self.norms * self.g_norm_max
        )
        todo = bound >= threshold
        if skip is not None:
            todo &= ~skip
        cols = np.flatnonzero(todo).astype(np.int64)
        out = np.where(todo, 0.0, bound)
        column_gradient(self.Xt, g, cols, out)
        self.value[cols] = np.abs(out[cols])
        self.length_then[cols] = self.length
        self.n_read += cols.shape[0]
        if skip is not None:
            out[skip] = 0.0
        return out
