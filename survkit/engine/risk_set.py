"""The counting-process risk-set problem shared by every Cox-type model.

``RiskSetProblem.build`` sorts once (stratum, then stop time descending) and
precomputes the group structure; ``evaluate`` returns the log partial
likelihood, score and information at any coefficient vector in O(n p + n p^2
BLAS). ``newton.py`` maximises it.

Models are data transformations in front of this engine: cause-specific Cox
recodes the event, time-split Cox splits rows into (start, stop] episodes,
Fine-Gray adds time-dependent weights. None of them copies the risk-set loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..data.survival_data import sort_order
from . import kernels as kern

__all__ = ["Evaluation", "RiskSetExtension", "RiskSetProblem", "evaluate", "weighted_gram"]

_GRAM_CHUNK = 1 << 15  # rows per BLAS call; the scaled copy stays in cache


@dataclass
class RiskSetProblem:
    """Sorted, centred arrays and the risk-set structure of one data set.

    Attributes are in *sorted* order; ``order[k]`` is the caller's row index of
    sorted row ``k``.
    """

    X: np.ndarray
    weights: np.ndarray
    dead: np.ndarray
    offset: np.ndarray
    stop: np.ndarray
    start: np.ndarray | None
    row_stratum: np.ndarray
    order: np.ndarray
    center: np.ndarray
    grp_ptr: np.ndarray
    grp_time: np.ndarray
    grp_stratum: np.ndarray
    strat_gptr: np.ndarray
    strat_rptr: np.ndarray
    grp_of_row: np.ndarray
    entry_order: np.ndarray
    entry_grp: np.ndarray
    n_strata: int

    @property
    def counting(self) -> bool:
        return self.start is not None

    @property
    def scan_structure(self) -> tuple:
        """The arrays every risk-set scan walks, in the kernels' argument order:
        (grp_ptr, grp_time, strat_gptr, strat_rptr, start, entry_order, counting)."""
        start = self.start if self.start is not None else self.stop
        return (
            self.grp_ptr,
            self.grp_time,
            self.strat_gptr,
            self.strat_rptr,
            start,
            self.entry_order,
            self.counting,
        )

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @classmethod
    def build(
        cls,
        X: np.ndarray,
        stop: np.ndarray,
        dead: np.ndarray,
        *,
        start: np.ndarray | None = None,
        strata: np.ndarray | None = None,
        weights: np.ndarray | None = None,
        offset: np.ndarray | None = None,
        order: np.ndarray | None = None,
    ) -> RiskSetProblem:
        """Index validated arrays (validation happens in the models).

        ``strata`` are integer codes 0..S-1 (or None for one stratum). Without
        ``order`` the arrays are sorted here; with it, they are taken to be in
        that order already (``sort_order``) and ``X`` is centred in place.
        """
        n = stop.shape[0]
        strata = np.zeros(n, dtype=np.int64) if strata is None else strata.astype(np.int64)
        presorted = order is not None
        if not presorted:
            order = sort_order(stop, strata)

        def sort(a):
            return a if presorted else a[order]

        Xs = np.asarray(X, dtype=float) if presorted else np.take(X, order, axis=0)
        w = np.ones(n) if weights is None else np.asarray(sort(weights), dtype=float)
        # centring makes exp(x'b) and the x x' sums well conditioned; it changes
        # nothing in the likelihood (R centres too)
        center = (w @ Xs) / w.sum() if Xs.shape[1] else np.zeros(0)
        Xs -= center
        stop_s = np.ascontiguousarray(sort(stop), dtype=float)
        strat_s = sort(strata)
        dead_s = np.ascontiguousarray(sort(dead), dtype=np.uint8)
        off_s = np.zeros(n) if offset is None else np.asarray(sort(offset), dtype=float)

        new_group = np.ones(n, dtype=bool)
        new_group[1:] = (stop_s[1:] != stop_s[:-1]) | (strat_s[1:] != strat_s[:-1])
        grp_start = np.flatnonzero(new_group)
        grp_ptr = np.append(grp_start, n).astype(np.int64)
        grp_time = stop_s[grp_start]
        grp_stratum = strat_s[grp_start]
        n_strata = int(strata.max()) + 1 if n else 1
        strat_gptr = np.searchsorted(grp_stratum, np.arange(n_strata + 1)).astype(np.int64)
        strat_rptr = np.searchsorted(strat_s, np.arange(n_strata + 1)).astype(np.int64)
        grp_of_row = (np.cumsum(new_group) - 1).astype(np.int64)
        m = grp_time.shape[0]
        if start is None:
            start_s = None
            entry_order = np.zeros(0, dtype=np.int64)
            entry_grp = np.full(n, m, dtype=np.int64)
        else:
            start_s = np.ascontiguousarray(sort(start), dtype=float)
            entry_order = np.lexsort((-start_s, strat_s)).astype(np.int64)
            entry_grp = kern.locate_entries(start_s, strat_s, grp_time, strat_gptr, m)
        return cls(
            X=np.ascontiguousarray(Xs),
            weights=np.ascontiguousarray(w),
            dead=dead_s,
            offset=np.ascontiguousarray(off_s),
            stop=stop_s,
            start=start_s,
            row_stratum=strat_s,
            order=order,
            center=center,
            grp_ptr=grp_ptr,
            grp_time=grp_time,
            grp_stratum=grp_stratum,
            strat_gptr=strat_gptr,
            strat_rptr=strat_rptr,
            grp_of_row=grp_of_row,
            entry_order=entry_order,
            entry_grp=entry_grp,
            n_strata=n_strata,
        )


@dataclass
class Evaluation:
    """Log partial likelihood and derivatives at one coefficient vector."""

    beta: np.ndarray
    loglik: float
    score: np.ndarray
    information: np.ndarray
    hazard: np.ndarray  # per group, for a row with centred x = 0 and zero offset
    scan_hazard: np.ndarray  # the same jumps on the scan's shifted risk scale (risk)
    efron_share: np.ndarray
    risk: np.ndarray  # exp(eta - shift) per sorted row
    shift: np.ndarray
    terms: tuple | None = None  # (abar, ha, ea) per group when requested


class RiskSetExtension(Protocol):
    """Risk-set members the backward scan cannot see (e.g. Fine-Gray's weighted
    subjects who already failed from a competing cause)."""

    def additions(self, problem: RiskSetProblem, risk: np.ndarray) -> tuple:
        """(ext0 per group, ext1 per group x covariate) to add to S0 and S1."""

    def extra_exposure(self, problem: RiskSetProblem, hazard: np.ndarray) -> np.ndarray:
        """Per sorted row, the hazard it is exposed to through the extension."""


_NO_EXT = (np.zeros(0), np.zeros((0, 0)))


def evaluate(
    problem: RiskSetProblem,
    beta: np.ndarray,
    efron: bool,
    want_terms: bool = False,
    extension: RiskSetExtension | None = None,
) -> Evaluation:
    beta = np.ascontiguousarray(beta, dtype=float)
    eta, peak = kern.linear_predictor(
        problem.X, beta, problem.offset, problem.row_stratum, problem.n_strata
    )
    ext0, ext1 = _NO_EXT
    risk = kern.risk_scores(eta, peak, problem.row_stratum)
    if extension is not None:
        # the extension needs the same shifted risk scores the scan uses
        ext0, ext1 = extension.additions(problem, risk)
    loglik, U, A2, h, e, abar, ha, ea = kern.risk_set_scan(
        problem.X,
        eta,
        peak,
        risk,
        problem.weights,
        problem.dead,
        *problem.scan_structure,
        efron,
        want_terms,
        ext0,
        ext1,
    )
    c = kern.exposure(h, e, problem.grp_of_row, problem.entry_grp, problem.dead, problem.strat_gptr)
    if extension is not None:
        c += extension.extra_exposure(problem, h)
    c *= risk  # in place: w r c is the weight of row i in the x x' sum
    c *= problem.weights
    gram = weighted_gram(problem.X, c)
    shift = peak[problem.row_stratum]
    # undo the per-stratum shift so hazards refer to centred x = 0
    hazard = h * np.exp(-peak[problem.grp_stratum])
    terms = (abar, ha, ea) if want_terms else None
    return Evaluation(beta, float(loglik), U, gram - A2, hazard, h, e, risk, shift, terms)


def weighted_gram(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    """X' diag(v) X for v >= 0, by BLAS on row chunks of sqrt(v) X (no full copy of X).

    ``v`` is overwritten (its square root is taken in place).
    """
    n, p = X.shape
    out = np.zeros((p, p))
    root = np.sqrt(np.maximum(v, 0.0, out=v), out=v)  # v >= 0 up to rounding; v is consumed
    for lo in range(0, n, _GRAM_CHUNK):
        Y = X[lo : lo + _GRAM_CHUNK] * root[lo : lo + _GRAM_CHUNK, None]
        out += Y.T @ Y
    return out
