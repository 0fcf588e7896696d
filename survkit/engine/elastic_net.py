"""The elastic-net Cox path: warm-started coordinate descent over a lambda grid.

The objective at one lambda (glmnet's ``family = "cox"``) is

    -loglik(beta) / sum(w) + lambda * sum_j pf_j (alpha |beta_j| + (1 - alpha) beta_j^2 / 2)

on standardised covariates. Each outer step approximates the partial
likelihood by a quadratic in the linear predictor eta, whose gradient ``g``
and Hessian diagonal ``W`` come from one O(n) pass of the engine's own
risk-set scan (``kernels.risk_set_scan`` run with no covariate columns, then
one fused pass, ``coordinate_descent.working_derivatives``, that forms each
row's exposures as ``kernels.exposure`` does): the scan handles strata,
weights, (start, stop] rows and Breslow or Efron ties exactly as for
``CoxPH``, so no risk-set loop is copied here; a risk-set extension (Fine-Gray's
censoring-weighted rows) joins the scan as in ``risk_set.evaluate``.
Coordinate descent (``coordinate_descent.py``) then solves the penalised
quadratic. A fixed point of these steps satisfies the exact KKT
conditions of the objective, whatever diagonal is used; the diagonal only
sets the speed. Along the path, glmnet's sequential strong rule picks the
coordinates to cycle and a KKT check over the rest repairs any it missed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from . import kernels as kern
from .coordinate_descent import (
    death_weight_squares,
    death_weights,
    solve_quadratic,
    working_derivatives,
)
from .gradient_bounds import GradientBounds
from .risk_set import RiskSetProblem

__all__ = ["PathResult", "StandardisedDesign", "eta_derivatives", "fit_path", "lambda_max"]

# glmnet's coxnet stops a default path when the deviance ratio gained less than
# 100 * fdev (relative) over the last mnlam lambdas, or passed 0.99 * devmax / 0.999
_FDEV = 1e-5 * 100
_DEVMAX = 0.99
_MIN_PATH = 5  # glmnet's mnl: never stop before this many lambdas
# |largest eta| of a stratum below which risk scores need no shift (e^300 summed
# over 1e9 rows stays far below float64's 1.8e308, and e^-300 far above its
# smallest normal number, 2.2e-308)
_NO_SHIFT = 300.0


@njit(cache=True, fastmath=True)
def add_columns(Xt, cols, delta, eta):
    """eta += sum over k of delta[k] * column cols[k] of the design."""
    for k in range(cols.shape[0]):
        j = cols[k]
        d = delta[k]
        for i in range(eta.shape[0]):
            eta[i] += Xt[j, i] * d


@njit(cache=True)
def _move_along(eta, eta2, ratio):
    """eta += ratio (eta - eta2), in one pass instead of numpy's three."""
    for i in range(eta.shape[0]):
        eta[i] += ratio * (eta[i] - eta2[i])


@dataclass
class StandardisedDesign:
    """Covariates in the problem's sorted order, centred and scaled, stored by column."""

    Xt: np.ndarray  # (p, n): Xt[j] is standardised column j
    center: np.ndarray
    scale: np.ndarray
    norms: np.ndarray  # Euclidean norm of each standardised column
    # Xt in single precision, for GradientBounds' screening reads; None when a
    # value lies beyond float32's range (unstandardised data)
    single: np.ndarray | None

    @classmethod
    def build(cls, Xt: np.ndarray, weights: np.ndarray, standardize: bool) -> StandardisedDesign:
        """Weighted mean and standard deviation (divisor sum(w)), as glmnet, from
        the design held column by column (p, n), which is centred and scaled in
        place: the caller hands it over."""
        if not (Xt.flags.c_contiguous and Xt.flags.writeable and Xt.dtype == np.float64):
            raise ValueError("StandardisedDesign.build needs a writeable C-ordered float (p, n).")
        w = weights / weights.sum()
        single = np.empty(Xt.shape, dtype=np.float32)
        center, scale, sumsq = _standardise_columns(Xt, w, standardize, single)
        # float32's largest value is 3.4e38, and no |x_ij| exceeds its column's norm
        fits = bool(np.all(np.sqrt(sumsq) < 1e38))
        return cls(Xt, center, scale, np.sqrt(sumsq), single if fits else None)


@njit(cache=True, fastmath=True)
def _standardise_columns(Xt, w, standardize, single):
    """Centre (and with ``standardize`` scale) each column in place, one column at a
    time while it sits in cache (fastmath: the sums vectorise), and write its
    single-precision copy to ``single`` on the way; returns the centres, scales
    and the standardised columns' sums of squares (their norms, for
    ``GradientBounds``; they also bound every value, so no pass looks for the
    largest: a running maximum does not vectorise and cost a quarter of this
    kernel)."""
    p, n = Xt.shape
    center = np.empty(p)
    scale = np.ones(p)
    sumsq = np.empty(p)
    for j in range(p):
        m = 0.0
        for i in range(n):
            m += w[i] * Xt[j, i]
        center[j] = m
        v = 0.0
        for i in range(n):
            x = Xt[j, i] - m
            Xt[j, i] = x
            v += w[i] * x * x
        if standardize:
            sd = np.sqrt(v)
            scale[j] = sd
            if sd > 0.0:
                for i in range(n):
                    Xt[j, i] /= sd
        ss = 0.0
        for i in range(n):
            x = Xt[j, i]
            ss += x * x
            single[j, i] = x
        sumsq[j] = ss
    return center, scale, sumsq


def eta_derivatives(
    problem: RiskSetProblem,
    eta: np.ndarray,
    efron: bool,
    weights: np.ndarray | None = None,
    scale: float = 1.0,
    extension=None,
    dw: np.ndarray | None = None,
    out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Log partial likelihood, its gradient in eta and a Hessian diagonal in eta.

    ``eta`` is the full linear predictor (offset included) in sorted order.
    Gradient: w_i (d_i - r_i c_i), with c_i the hazard row i was exposed to
    (its martingale residual). Diagonal: w_i r_i c_i - (w_i r_i)^2 q_i with
    q_i the sum over its risk sets of dw_g / S0_g^2 -- exact for Breslow; for
    Efron q uses the group's mean denominator, which only enlarges the
    diagonal (Cauchy-Schwarz), so steps stay conservative. Gradient and
    diagonal come multiplied by ``scale``.

    ``extension`` (e.g. Fine-Gray's weighted competing-failure subjects; the
    problem must then have no covariate columns) adds risk-set members the scan
    cannot see, as in ``risk_set.evaluate``: its ``additions`` join the
    denominators, ``extra_exposure`` their hazard to c and
    ``extra_square_exposure`` the squared-weight terms to q. ``dw``: the groups'
    death weights under ``weights`` (``death_weights``), if already at hand.
    ``out``: three arrays of length n that receive the risk scores, the gradient
    and the diagonal (a path reuses them at every step; the returned gradient
    and diagonal are then the last two).
    """
    w = problem.weights if weights is None else weights
    peak = np.maximum.reduceat(eta, problem.strat_rptr[:-1])
    no_columns = np.zeros((eta.shape[0], 0))
    ext0, ext1 = np.zeros(0), np.zeros((0, 0))
    if out is None:
        out = (np.empty_like(eta), np.empty_like(eta), np.empty_like(eta))
    risk, grad, hess = out
    if np.all(np.abs(peak) < _NO_SHIFT):
        # exp(eta) neither overflows nor underflows (every stratum's largest risk
        # lies within e^+-300): unshifted scores are as exact and take one pass
        # over n, not two
        peak[:] = 0.0
        np.exp(eta, out=risk)
    else:
        kern.risk_scores(eta, peak, problem.row_stratum, out=risk)
    if extension is not None:
        ext0, ext1 = extension.additions(problem, risk)
    loglik, _, _, h, e, *_ = kern.risk_set_scan(
        no_columns,
        eta,
        peak,
        risk,
        w,
        problem.dead,
        *problem.scan_structure,
        efron,
        False,
        ext0,
        ext1,
    )
    extra_c = extra_q = np.zeros(0)
    if extension is not None:
        extra_c = extension.extra_exposure(problem, h)
        h2 = death_weight_squares(h, w, problem.dead, problem.grp_ptr)
        extra_q = extension.extra_square_exposure(problem, h2)
    if dw is None:
        dw = death_weights(w, problem.dead, problem.grp_ptr)
    working_derivatives(
        h, e, w, problem.dead, risk, problem.grp_ptr, problem.entry_grp, problem.strat_gptr,
        problem.counting, dw, extra_c, extra_q, scale, grad, hess,
    )  # fmt: skip
    return float(loglik), grad, hess


@dataclass
class PathResult:
    lambdas: np.ndarray
    coefs: np.ndarray  # (n_lambdas, p), standardised scale
    loglik: np.ndarray
    loglik_null: float
    n_outer: np.ndarray
    converged: np.ndarray
    eta_null: np.ndarray
    eta_last: np.ndarray  # the linear predictor (offset included) at the last lambda


def _penalty(beta, lam, alpha, pf):
    return lam * float(np.sum(pf * (alpha * np.abs(beta) + 0.5 * (1 - alpha) * beta * beta)))


class _PathState:
    """Coefficients, linear predictor and the last scan, carried along the path (warm starts).

    The length-n vectors (linear predictor, gradient -- also the working residual
    of coordinate descent --, diagonal and risk scores) are allocated once and
    overwritten in place at every step: at n = 1e5 a fresh array of 800 kB is
    page-faulted in on every allocation, which cost more than the scans."""

    def __init__(self, problem, design, efron, offset, extension=None):
        self.problem = problem
        self.extension = extension
        self.design = design
        self.efron = efron
        self.total = float(problem.weights.sum())
        p = design.Xt.shape[0]
        self.beta = np.zeros(p)
        self.eta = offset.copy()
        n = offset.shape[0]
        self.g, self.W, self._risk = np.empty(n), np.empty(n), np.empty(n)
        self.xv = np.zeros(p)
        self.dw = death_weights(problem.weights, problem.dead, problem.grp_ptr)
        self.bounds = GradientBounds(design.Xt, design.norms, design.single)
        self.scan()

    def scan(self):
        self.loglik, _, _ = eta_derivatives(
            self.problem, self.eta, self.efron, scale=1 / self.total, extension=self.extension,
            dw=self.dw, out=(self._risk, self.g, self.W),
        )  # fmt: skip

    def extrapolate(self, b1, b2, eta2, ratio):
        """Warm start b1 + ratio (b1 - b2) from the solutions at the last two lambdas
        (b1 the current point, eta2 the linear predictor at b2), on the
        coordinates non-zero at b1 whose sign it keeps; the others stay at b1,
        so no coordinate is switched on or flipped by the guess. A coordinate
        that entered since b2 (zero there) moves too: it entered somewhere
        between the two lambdas, so the line from zero at b2 under-states its
        growth, and the guess errs towards b1. The linear predictor follows in
        O(n): ratio (eta1 - eta2) is the move of every coordinate, less the few
        left out (those that left or would flip), which are read back."""
        guess = b1 + ratio * (b1 - b2)
        keep = (b1 != 0) & (np.sign(guess) == np.sign(b1))
        if not keep.any():
            return
        left_out = np.flatnonzero(~keep & (b1 != b2)).astype(np.int64)
        self.beta[keep] = guess[keep]
        _move_along(self.eta, eta2, ratio)
        add_columns(self.design.Xt, left_out, -ratio * (b1 - b2)[left_out], self.eta)
        self.scan()

    def gradient(self, skip=None, thresholds=()):
        """d(loglik/sum w)/d beta_j of the standardised columns; those marked in
        ``skip`` (always in the working set) are not computed and left at 0. With
        ``thresholds``, the values |grad_j| will be compared with, a column gets
        a value on the same side of each as the exact one (``GradientBounds``)."""
        return self.bounds.gradient(self.g, skip, thresholds)

    def solve(self, lam, alpha, pf, cols, tol, max_outer, max_passes):
        """Minimise the objective over ``cols`` (others fixed); returns (outer steps, converged)."""
        l1 = lam * alpha * pf
        l2 = lam * (1 - alpha) * pf
        obj = -self.loglik / self.total + _penalty(self.beta, lam, alpha, pf)
        for step in range(1, max_outer + 1):
            beta0 = self.beta.copy()
            # eta moves in place with every coordinate update, and so does the
            # working residual, which starts as the gradient g: g itself serves,
            # since the scan that follows rewrites it (no copy of n per step)
            _, biggest = solve_quadratic(
                self.design.Xt, self.W, self.g, self.beta, self.xv, cols, l1, l2, tol,
                max_passes, self.eta,
            )  # fmt: skip
            self.scan()
            new = -self.loglik / self.total + _penalty(self.beta, lam, alpha, pf)
            halvings = 0
            # the quadratic step can overshoot far from the optimum: halve it
            # back towards the last point until the objective does not rise
            while new > obj + 1e-13 * abs(obj) and halvings < 30:
                # eta moves back by half of what the moved coordinates added (read
                # back from the design: rarer than a copy of eta at every step)
                moved = np.flatnonzero(self.beta != beta0).astype(np.int64)
                add_columns(self.design.Xt, moved, 0.5 * (beta0 - self.beta)[moved], self.eta)
                self.beta = 0.5 * (self.beta + beta0)
                self.scan()
                new = -self.loglik / self.total + _penalty(self.beta, lam, alpha, pf)
                halvings += 1
            obj = new
            if biggest < tol:
                return step, True
        return max_outer, False


def lambda_max(grad: np.ndarray, alpha: float, pf: np.ndarray) -> float:
    """The smallest lambda at which every penalised coefficient is zero (alpha
    below 1e-3 counts as 1e-3, as glmnet, so a ridge path starts somewhere finite)."""
    pen = pf > 0
    if not pen.any():
        return 0.0
    return float(np.max(np.abs(grad[pen]) / pf[pen]) / max(alpha, 1e-3))


def fit_path(
    problem: RiskSetProblem,
    design: StandardisedDesign,
    *,
    efron: bool,
    alpha: float,
    penalty_factor: np.ndarray,
    lambdas: np.ndarray | None,
    n_lambdas: int,
    lambda_min_ratio: float,
    tol: float,
    max_outer: int = 100,
    max_passes: int = 100_000,
    extension=None,
) -> PathResult:
    """Solve the elastic-net Cox problem along a lambda path with warm starts.

    ``penalty_factor`` is already rescaled (glmnet: to sum to p). Without
    ``lambdas`` the grid is log-spaced from lambda_max down to
    ``lambda_min_ratio * lambda_max`` and, as glmnet, ends early once the
    deviance ratio stops improving. ``extension``: see ``eta_derivatives``.
    """
    pf = penalty_factor
    p = pf.shape[0]
    state = _PathState(problem, design, efron, problem.offset, extension)
    loglik_null = state.loglik
    # glmnet's thresh is relative to the null deviance (on the 1/sum(w) scale)
    tol = tol * (saturated_loglik(problem) - loglik_null) / state.total
    unpenalised = np.flatnonzero(pf == 0)
    if unpenalised.size:
        # lambda = 0 over the unpenalised columns only: the penalised ones stay at zero
        state.solve(0.0, alpha, pf, unpenalised.astype(np.int64), tol, max_outer, max_passes)
    eta_null = state.eta.copy()
    grad = state.gradient()
    user_grid = lambdas is not None
    if not user_grid:
        top = lambda_max(grad, alpha, pf)
        lambdas = top * lambda_min_ratio ** (np.arange(n_lambdas) / max(n_lambdas - 1, 1))
    lambdas = np.asarray(lambdas, dtype=float)
    coefs, logliks, outer, conv = [], [], [], []
    ever = pf == 0
    prev_lam = lambdas[0] if not user_grid else max(lambdas[0], lambda_max(grad, alpha, pf))
    ll_sat_gap = None
    n_lam = lambdas.shape[0]
    # the linear predictor at the last two solutions (for ``extrapolate``)
    eta_last, eta_before = np.empty_like(state.eta), np.empty_like(state.eta)
    for k, lam in enumerate(lambdas):
        # sequential strong rule: likely non-zero at lam given the solution at prev_lam
        strong = ever | (np.abs(grad) >= alpha * pf * (2 * lam - prev_lam))
        if k == 0 and not user_grid:
            # lambda_max itself: every penalised coefficient is zero by construction
            # (glmnet solves it as lambda = infinity), not up to rounding
            strong = pf == 0
        steps_total, ok = 0, True
        if k >= 2 and lambdas[k - 2] > lambdas[k - 1] > lam > 0:
            # the last two solutions extrapolated (linearly in log lambda) start
            # this one: most lambdas then converge in one outer step, not two or three
            ratio = np.log(lam / lambdas[k - 1]) / np.log(lambdas[k - 1] / lambdas[k - 2])
            state.extrapolate(coefs[-1], coefs[-2], eta_before, ratio)
        while True:
            cols = np.flatnonzero(strong).astype(np.int64)
            steps, ok_k = state.solve(lam, alpha, pf, cols, tol, max_outer, max_passes)
            steps_total += steps
            ok = ok and ok_k
            # KKT for the coordinates left out: |grad_j| <= lambda alpha pf_j
            slack = alpha * pf * lam * (1 + 1e-9) + 1e-15
            # gradients only where the KKT check or the next strong rule reads
            # them (columns ever non-zero stay in the working set anyway), and
            # exactly only where a bound does not already settle both
            thresholds = (slack,)
            if k + 1 < n_lam:
                thresholds = (slack, alpha * pf * (2 * lambdas[k + 1] - lam))
            grad = state.gradient(skip=ever | (state.beta != 0), thresholds=thresholds)
            violators = ~strong & (np.abs(grad) > slack)
            if k == 0 and not user_grid:
                break
            if not violators.any():
                break
            strong |= violators
        ever |= state.beta != 0
        eta_before, eta_last = eta_last, eta_before
        np.copyto(eta_last, state.eta)
        coefs.append(state.beta.copy())
        logliks.append(state.loglik)
        outer.append(steps_total)
        conv.append(ok)
        prev_lam = lam
        if not user_grid and k + 1 >= _MIN_PATH:
            if ll_sat_gap is None:
                ll_sat_gap = _saturated_gap(problem, loglik_null)
            # glmnet's rule: the deviance ratio gained less than fdev (relative)
            # over the last _MIN_PATH lambdas, or nearly all deviance is explained
            ratio = (state.loglik - loglik_null) / ll_sat_gap
            before = (logliks[-_MIN_PATH] - loglik_null) / ll_sat_gap
            if ratio - before < _FDEV * ratio or ratio > _DEVMAX:
                break
    n_done = len(coefs)
    return PathResult(
        lambdas=lambdas[:n_done],
        coefs=np.array(coefs).reshape(n_done, p),
        loglik=np.array(logliks),
        loglik_null=loglik_null,
        n_outer=np.array(outer),
        converged=np.array(conv),
        eta_null=eta_null,
        eta_last=eta_last,
    )


def saturated_loglik(problem: RiskSetProblem, weights: np.ndarray | None = None) -> float:
    """glmnet's saturated Cox log-likelihood: -sum over tied-death groups of wd log wd."""
    w = problem.weights if weights is None else weights
    wd = np.add.reduceat(w * problem.dead, problem.grp_ptr[:-1])
    wd = wd[wd > 0]
    return float(-np.sum(wd * np.log(wd)))


def _saturated_gap(problem: RiskSetProblem, loglik_null: float) -> float:
    return saturated_loglik(problem) - loglik_null
