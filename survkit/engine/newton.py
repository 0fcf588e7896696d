"""Newton-Raphson for the Cox partial likelihood, the way R's ``coxph`` does it.

Step halving, convergence on the relative change of the log-likelihood, and
R's Cholesky tolerance, so iteration counts and stopping agree with R.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..data.validation import check_identifiable
from .risk_set import Evaluation, RiskSetExtension, RiskSetProblem, evaluate

__all__ = ["TOLER_CHOL", "NewtonResult", "chol_inverse", "newton"]


# R's coxph.control(toler.chol = .Machine$double.eps^0.75)
TOLER_CHOL = float(np.finfo(float).eps ** 0.75)


def chol_inverse(info: np.ndarray, tol: float = TOLER_CHOL) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of a symmetric information matrix, tolerant of singular directions.

    As R's ``cholesky2``/``chinv2``: an LDL' factorisation in which a pivot
    below ``tol`` times the largest diagonal marks that coefficient singular;
    its row and column of the inverse are zero, so Newton steps leave it alone.
    Returns the inverse and the boolean mask of singular coefficients.

    The factorisation runs on the matrix scaled to unit diagonal (D^-1/2 A
    D^-1/2) and the inverse is scaled back: the same inverse in exact
    arithmetic, but the pivot test no longer depends on the covariates' units.
    Unscaled, a covariate 10^6 times smaller than another (a fraction beside an
    income in dollars) has a diagonal 10^12 times smaller, below R's relative
    tolerance, and was declared singular (R scales its columns for the same
    reason). A zero or negative diagonal is singular in any units.
    """
    p = info.shape[0]
    if p == 0:
        return np.zeros((0, 0)), np.zeros(0, dtype=bool)
    A = np.array(info, dtype=float)
    diag = np.diag(A).copy()
    positive = np.isfinite(diag) & (diag > 0)
    scale = np.where(positive, np.sqrt(np.where(positive, diag, 1.0)), 1.0)
    A /= np.outer(scale, scale)
    L = np.eye(p)
    d = np.zeros(p)
    singular = np.zeros(p, dtype=bool)
    eps = tol * max(float(np.max(np.abs(np.diag(A)))), np.finfo(float).tiny)
    for j in range(p):
        dj = A[j, j] - (L[j, :j] ** 2) @ d[:j]
        if dj < eps or not np.isfinite(dj):
            singular[j] = True
            d[j] = 0.0
            L[j + 1 :, j] = 0.0
            continue
        d[j] = dj
        if j + 1 < p:
            L[j + 1 :, j] = (A[j + 1 :, j] - (L[j + 1 :, :j] * L[j, :j]) @ d[:j]) / dj
    ok = ~singular
    Lk = L[np.ix_(ok, ok)]
    Linv = np.linalg.solve(Lk, np.eye(Lk.shape[0]))
    inv_ok = Linv.T @ (Linv / d[ok][:, None])
    inv = np.zeros((p, p))
    inv[np.ix_(ok, ok)] = inv_ok
    inv /= np.outer(scale, scale)
    return inv, singular


@dataclass
class NewtonResult:
    beta: np.ndarray
    evaluation: Evaluation
    variance: np.ndarray
    singular: np.ndarray
    loglik_init: float
    score_test: float
    converged: bool
    n_iter: int
    infinite: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    loglik_converged: bool = True  # converged is this and no infinite coefficient


def newton(
    problem: RiskSetProblem,
    efron: bool,
    beta0: np.ndarray | None = None,
    tol: float = 1e-9,
    max_iter: int = 20,
    names: list[str] | None = None,
    extension: RiskSetExtension | None = None,
) -> NewtonResult:
    """Maximise the partial likelihood as R's ``coxph`` does.

    Start at ``beta0`` (zeros), take Newton steps; when the log-likelihood gets
    worse, halve the step back towards the last good point; stop when
    |1 - loglik_old / loglik_new| <= tol with no halving in progress. The
    returned variance is the inverse information at the returned coefficients.
    """
    p = problem.n_features
    beta = np.zeros(p) if beta0 is None else np.asarray(beta0, dtype=float).copy()
    ev = evaluate(problem, beta, efron, extension=extension)
    check_identifiable(ev.information, names or [f"x{j}" for j in range(p)])
    loglik_init = ev.loglik
    # per-covariate unit: about the covariate's sd within the risk sets at the
    # event times (information diagonal at the start per event; > 0, checked
    # just above). Steps are judged in these units, not the caller's. The
    # unweighted event count is enough for a unit (and costs no pass over n).
    n_dead = max(int(np.count_nonzero(problem.dead)), 1)
    unit = np.sqrt(np.diag(ev.information) / n_dead)
    inv, singular = chol_inverse(ev.information)
    score_test = float(ev.score @ inv @ ev.score)
    if max_iter == 0 or p == 0:
        return NewtonResult(
            beta, ev, inv, singular, loglik_init, score_test, True, 0, np.zeros(p, dtype=bool)
        )
    best = ev
    new_beta = beta + inv @ ev.score
    loglik_converged = False
    halving = 0
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is reported
        trial = evaluate(problem, new_beta, efron, extension=extension)
        if (
            np.isfinite(trial.loglik)
            and abs(1 - best.loglik / trial.loglik) <= tol
            and halving == 0
        ):
            best = trial
            loglik_converged = True
            break
        if not np.isfinite(trial.loglik) or trial.loglik < best.loglik:
            halving += 1
            new_beta = (new_beta + best.beta) / 2
            continue
        halving = 0
        best = trial
        inv, singular = chol_inverse(best.information)
        new_beta = best.beta + inv @ best.score
    inv, singular = chol_inverse(best.information)
    # the size of the next Newton step, in units of each covariate's standard
    # deviation within the risk sets at the start (so the verdict does not
    # depend on the covariates' units; R compares it in its own units)
    step = np.abs(best.score @ inv) * unit
    toler_inf = np.sqrt(tol)
    moving = (step > tol) & (step > toler_inf * np.abs(best.beta * unit))
    # only meaningful at convergence: before it, every step is large. A
    # coefficient whose information vanished on the way (it was identifiable at
    # the start) is heading to infinity too.
    infinite = loglik_converged & (moving | singular)
    labels = names if names is not None else [f"x{j}" for j in range(p)]
    if not loglik_converged:
        # name what was still moving, largest step first, so the user knows
        # which covariate to look at (all of them when every step was small)
        still = np.flatnonzero(moving | singular)
        still = still[np.argsort(-step[still], kind="stable")] if still.size else np.arange(p)
        shown = ", ".join(labels[j] for j in still)
        warnings.warn(
            f"Cox fit did not converge in max_iter={max_iter} iterations "
            f"(last relative change in log-likelihood above tol={tol}); coefficient(s) "
            f"still changing: {shown}. Increase max_iter, or check {shown} for a "
            "coefficient heading to infinity (e.g. a covariate level with no events).",
            ConvergenceWarning,
            stacklevel=3,
        )
    if infinite.any():
        shown = ", ".join(labels[j] for j in np.flatnonzero(infinite))
        warnings.warn(
            f"Log-likelihood converged before coefficient(s) {shown}; the estimate(s) may "
            "be infinite (monotone likelihood: e.g. a covariate level with no events). "
            "converged_ is False.",
            ConvergenceWarning,
            stacklevel=3,
        )
    # converged means: the log-likelihood settled within max_iter AND every
    # coefficient settled with it (no monotone likelihood)
    converged = loglik_converged and not infinite.any()
    return NewtonResult(
        best.beta,
        best,
        inv,
        singular,
        loglik_init,
        score_test,
        converged,
        n_iter,
        infinite,
        loglik_converged,
    )
