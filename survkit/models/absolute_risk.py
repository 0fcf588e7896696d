"""Absolute risks from cause-specific hazards: the Aalen-Johansen combination, row by row.

For a row with relative hazards r_k in stratum s and baseline increments
dH0_ks(t_j) on the grid of event times,

    F_k(t) = sum_{t_j <= t} S(t_j-) r_k dH0_ks(t_j),
    S(t_j-) = prod_{l < j} (1 - sum_k r_k dH0_ks(t_l))      (product limit)
            = exp(-sum_{l < j} sum_k r_k dH0_ks(t_l))         (exponential form).

The sums run in (rows, grid) blocks of at most ``chunk`` rows, so the running
product walks contiguous memory and memory stays bounded whatever the number
of rows; the sum up to each requested time is one matrix product with a 0/1
mask instead of a cumulative sum over the whole grid (most grid rows are never
asked for). This is what makes ranking a whole cohort by predicted risk cheap.
"""

from __future__ import annotations

import numpy as np

__all__ = ["aalen_johansen_risks"]


def aalen_johansen_risks(
    increments: np.ndarray,
    codes: np.ndarray,
    relative: np.ndarray,
    idx: np.ndarray,
    product_limit: bool = True,
    chunk: int = 1000,
) -> np.ndarray:
    """Cumulative incidence of every cause at the requested times: (causes, times, rows).

    ``increments`` is (strata, grid, causes): each stratum's baseline hazard
    increments at the grid times; ``codes`` (rows,) each row's stratum;
    ``relative`` (rows, causes) the relative hazards exp(x'b_k); ``idx``
    (times,) the last grid index at or before each requested time (-1: before
    the first grid time, where every risk is 0).
    """
    n_strata, n_grid, n_causes = increments.shape
    n_rows = relative.shape[0]
    out = np.zeros((n_causes, idx.size, n_rows))
    # mask[j, h] = 1 when grid time j is at or before requested time h
    mask = (np.arange(n_grid)[:, None] <= idx[None, :]).astype(float)
    for s in range(n_strata):
        rows_s = np.flatnonzero(codes == s)
        D = increments[s]  # (grid, causes)
        for start in range(0, rows_s.size, chunk):
            rows = rows_s[start : start + chunk]
            R = relative[rows]
            total = R @ D.T  # (rows, grid): every cause's hazard increment
            before = np.empty_like(total)  # S(t_j-): survival just before each grid time
            before[:, 0] = 1.0
            if product_limit:
                np.cumprod(1.0 - total[:, :-1], axis=1, out=before[:, 1:])
            else:
                np.exp(-np.cumsum(total[:, :-1], axis=1), out=before[:, 1:])
            for k in range(n_causes):
                out[k][:, rows] = ((before @ (mask * D[:, k][:, None])) * R[:, k][:, None]).T
    return out
