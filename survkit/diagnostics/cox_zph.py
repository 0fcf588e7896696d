"""Test of proportional hazards from scaled Schoenfeld residuals, as R's ``cox.zph``.

survival 3.x's test is a score test, at the fitted coefficients, for adding
the p time-varying terms x * g(t) to the model, using the full 2p x 2p
information (not the pre-3.0 approximation). For term J (several columns for
a factor when ``terms=True``):

    chisq_J = u' I[kk, kk]^-1 u,  u = (0_p, U2[J]),  kk = (1..p, p + J)

with U2 = sum over deaths of w g(t) (x - xbar(t)) and I = [[I11, I12], [I12,
I22]], where I12 and I22 weight each event time's information by g and g^2.
GLOBAL tests all p terms. g is the transformed time, centred at its mean over
the events (unweighted, pooled over strata) exactly as R centres it.

Cost: one engine pass plus two weighted Gram products (``risk_set_moments``):
O(n p^2), the price of about one Newton iteration of the fit. Nothing is
quadratic in n.

``cox_zph`` returns the table (DataFrame indexed by term and "GLOBAL", columns
chisq, df, p). ``cox_zph_details`` returns a ``CoxZPH`` holding the table and
R's ``$x``, ``$time``, ``$y`` (scaled Schoenfeld residuals), ``$var`` and
``$strata``, which the plots use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..data.validation import check_choice, check_covariate_names
from ..engine.moments import event_order, risk_set_moments
from .checks import check_fitted_cox

__all__ = ["TRANSFORMS", "CoxZPH", "cox_zph", "cox_zph_details", "model_terms"]

TRANSFORMS = ("km", "rank", "identity", "log")


@dataclass
class CoxZPH:
    """Result of ``cox_zph_details``: R's ``cox.zph`` object.

    ``y`` holds the scaled Schoenfeld residuals (one row per event, ordered as
    ``time``; one column per term; NaN where a covariate is constant within
    the event's stratum), ``x`` the transformed event times (uncentred),
    ``var`` the matrix R returns as ``$var``; ``coef`` is what ``y`` scatters
    around under proportional hazards (the coefficient, or 1 for a
    multi-column term, whose ``y`` is the term's contribution to the linear
    predictor). ``transform_times`` maps any time to the ``x`` scale.
    """

    table: pd.DataFrame
    x: np.ndarray
    time: np.ndarray
    y: pd.DataFrame
    var: pd.DataFrame
    strata: np.ndarray | None
    transform: str
    coef: pd.Series
    terms: dict[str, list[str]]
    transform_times: Callable[[np.ndarray], np.ndarray]


def cox_zph(
    model,
    transform: str | Callable = "km",
    terms: bool | Mapping[str, list[str]] = True,
    covariates: list[str] | None = None,
) -> pd.DataFrame:
    """Per-term and GLOBAL chi-square tests of proportional hazards (R's ``cox.zph``).

    ``transform``: "km" (1 - left-continuous Kaplan-Meier of all rows, ignoring
    strata and weights, R's default), "rank", "identity", "log" or a function
    of the time vector. ``terms=True`` tests a formula's multi-column terms
    (e.g. ``C(celltype)``) jointly, as R; ``False`` tests every coefficient on
    its own; a mapping {term name: [coefficient names]} groups coefficients by
    hand (remaining coefficients are single terms). ``covariates`` restricts
    the rows shown (GLOBAL always tests every term). Returns a DataFrame
    indexed by term and "GLOBAL" with columns chisq, df, p; the residuals are
    in ``cox_zph_details``.
    """
    return cox_zph_details(model, transform, terms, covariates).table


def cox_zph_details(
    model,
    transform: str | Callable = "km",
    terms: bool | Mapping[str, list[str]] = True,
    covariates: list[str] | None = None,
) -> CoxZPH:
    """``cox_zph`` with R's ``$x``, ``$time``, ``$y``, ``$var`` and ``$strata`` (a ``CoxZPH``)."""
    check_fitted_cox(model, "cox_zph")
    if not callable(transform):
        check_choice(transform, TRANSFORMS, "transform")
    term_map = model_terms(model, terms)
    if covariates is not None:
        check_covariate_names(list(covariates), list(term_map), "cox_zph covariates")
    problem = model._problem
    beta = model.params_.to_numpy()
    names = list(model.params_.index)
    p = len(names)
    mom = risk_set_moments(problem, beta, model.ties == "efron")
    dead = problem.dead.astype(bool)

    fn = _transform_function(problem, transform)
    ttimes = fn(problem.stop)
    n_times = np.unique(ttimes[dead]).size
    if n_times < 2:
        # g(t) centred over the events is then 0: the test has no information
        raise ValueError(
            f"cox_zph: the model has {int(dead.sum())} event(s) at {n_times} distinct "
            "(transformed) time(s); a test of proportional hazards compares early with late "
            "events and needs events at two or more distinct times. Fit on more data."
        )
    gtime = ttimes - ttimes[dead].mean()
    q = gtime[problem.grp_ptr[:-1]]  # every row of a group shares its time
    # deaths in R's output order: (stratum, time), ties by data row, which R's
    # (start, stop] code visits in decreasing row order
    dead_rows = np.flatnonzero(dead)
    rows = dead_rows[event_order(problem, dead_rows, ties_descending=problem.counting)]
    resid = mom.schoenfeld(rows)
    U2 = (problem.weights[rows] * gtime[rows]) @ resid
    I11 = mom.evaluation.information
    I12 = mom.information(q)
    I22 = mom.information(q * q)
    imat = np.block([[I11, I12], [I12.T, I22]])

    cols = {nm: j for j, nm in enumerate(names)}
    labels, chisq, dfs = [], [], []
    for term, members in term_map.items():
        J = [cols[c] for c in members]
        kk = np.r_[np.arange(p), p + np.asarray(J)]
        u = np.r_[np.zeros(p), U2[J]]
        labels.append(term)
        chisq.append(_quadratic_form(u, imat[np.ix_(kk, kk)], term))
        dfs.append(len(J))
    u = np.r_[np.zeros(p), U2]
    labels.append("GLOBAL")
    chisq.append(_quadratic_form(u, imat, "GLOBAL"))
    dfs.append(p)
    table = pd.DataFrame(
        {"chisq": chisq, "df": dfs, "p": stats.chi2.sf(chisq, dfs)},
        index=pd.Index(labels, name="term"),
    )

    stratum = problem.row_stratum[rows]
    y, var, coef = _scaled_residuals(model, mom, term_map, resid, stratum, I11)
    strata = None
    if model.strata_cols_:
        strata = np.asarray(model.strata_labels_, dtype=object)[stratum]
    if covariates is not None:
        keep = list(covariates)
        table = table.loc[[*keep, "GLOBAL"]]
        y, var, coef = y[keep], var.loc[keep, keep], coef[keep]
    label = transform if isinstance(transform, str) else getattr(transform, "__name__", "user")
    return CoxZPH(
        table=table,
        x=ttimes[rows],
        time=problem.stop[rows],
        y=y,
        var=var,
        strata=strata,
        transform=label,
        coef=coef,
        terms=term_map,
        transform_times=fn,
    )


def model_terms(model, terms: bool | Mapping[str, list[str]] = True) -> dict[str, list[str]]:
    """{term name: [coefficient names]} as R's ``fit$assign`` (terms=True) or one per column."""
    names = list(model.params_.index)
    if isinstance(terms, Mapping):
        out: dict[str, list[str]] = {}
        for term, members in terms.items():
            members = [members] if isinstance(members, str) else list(members)
            check_covariate_names(members, names, f"terms[{term!r}]")
            out[str(term)] = members
        taken = {c for members in out.values() for c in members}
        if len(taken) != sum(len(m) for m in out.values()):
            raise ValueError("terms: a coefficient is listed under more than one term.")
        out.update({c: [c] for c in names if c not in taken})
        return out
    if terms is not True and terms is not False:
        raise ValueError(f"terms={terms!r} must be True, False or a dict of term -> columns.")
    if not terms:
        return {c: [c] for c in names}
    out = {}
    for term, cols in model.design_.terms.items():
        members = [c for c in cols if c in names]
        if members:
            out[str(term)] = members
    return out


def _quadratic_form(u: np.ndarray, imat: np.ndarray, term: str) -> float:
    """u' imat^-1 u, or a ValueError naming the term when imat is singular."""
    try:
        return float(u @ np.linalg.solve(imat, u))
    except np.linalg.LinAlgError:
        raise ValueError(
            f"cox_zph: the information matrix of term {term!r} is singular (too few events, "
            "or a covariate constant among the events); its test is not defined. Test "
            "fewer terms (covariates=...) or fit on more data."
        ) from None


def _transform_function(problem, transform) -> Callable[[np.ndarray], np.ndarray]:
    """g as a function of time, built from the fitted rows (as R's cox.zph)."""
    stop = problem.stop
    if callable(transform):

        def user(t):
            t = np.asarray(t, dtype=float)
            g = np.asarray(transform(t), dtype=float)
            if g.shape != t.shape or not np.isfinite(g).all():
                raise ValueError(
                    "transform must return one finite value per time; it returned shape "
                    f"{g.shape} for {t.shape} times, or non-finite values."
                )
            return g

        return user
    if transform == "identity":
        return lambda t: np.asarray(t, dtype=float)
    if transform == "log":
        n_bad = int((stop <= 0).sum())
        if n_bad:
            raise ValueError(
                f"transform='log': {n_bad} row(s) have a stop time <= 0; use transform='km' "
                "or 'rank', or shift the times."
            )
        return lambda t: np.log(np.asarray(t, dtype=float))
    if transform == "rank":
        ranked = np.sort(stop)

        def rank(t):
            # average rank among all fitted rows' stop times (censored included);
            # times between observed ones interpolate (only the plots need that)
            t = np.asarray(t, dtype=float)
            lo = np.searchsorted(ranked, t, side="left")
            hi = np.searchsorted(ranked, t, side="right")
            tied = (lo + 1 + hi) / 2.0
            between = np.interp(t, ranked, np.arange(1, ranked.size + 1))
            return np.where(hi > lo, tied, between)

        return rank
    # km: 1 - S(t-), S the Kaplan-Meier of all rows (no strata, no weights;
    # counting-process risk sets for (start, stop] data), left-continuous
    dead = problem.dead.astype(bool)
    event_times, deaths = np.unique(stop[dead], return_counts=True)
    at_risk = stop.size - np.searchsorted(np.sort(stop), event_times, side="left")
    if problem.start is not None:
        at_risk -= problem.start.size - np.searchsorted(
            np.sort(problem.start), event_times, side="left"
        )
    surv = np.r_[1.0, np.cumprod(1.0 - deaths / at_risk)]
    return lambda t: 1.0 - surv[np.searchsorted(event_times, np.asarray(t, float), side="left")]


def _scaled_residuals(model, mom, term_map, resid, stratum, I11):
    """R's scaling of the Schoenfeld residuals (cox.zph's $y and $var)."""
    problem = mom.problem
    names = list(model.params_.index)
    beta = model.params_.to_numpy()
    cols = {nm: j for j, nm in enumerate(names)}
    S = problem.n_strata
    # used[s, j]: deaths in stratum s if column j varies among the stratum's rows
    bounds = problem.strat_rptr
    nonempty = bounds[:-1] < bounds[1:]
    varies = np.zeros((S, len(names)), dtype=bool)
    if nonempty.any():
        starts = bounds[:-1][nonempty]
        lo = np.minimum.reduceat(problem.X, starts, axis=0)
        hi = np.maximum.reduceat(problem.X, starts, axis=0)
        varies[nonempty] = hi > lo
    deaths = np.bincount(problem.row_stratum[problem.dead.astype(bool)], minlength=S)
    used = np.where(varies, deaths[:, None], 0)
    groups = [[cols[c] for c in members] for members in term_map.values()]
    for J in groups:
        if len(J) > 1 and (used[:, J] == 0).any():
            used[:, J] = used[:, J].max(axis=1, keepdims=True)
    wtmat = np.zeros((len(names), len(names)))
    for s in range(S):
        wtmat += np.minimum.outer(used[s], used[s])
    vmean = I11 / np.where(wtmat == 0, 1.0, wtmat)
    multi = any(len(J) > 1 for J in groups)
    # terms are contiguous in R's assign but not in a hand-made mapping: with
    # any multi-column term, every term goes through M (R does the same when
    # terms=TRUE); otherwise columns are reordered to the term order
    M = np.zeros((len(names), len(groups)))
    for t, J in enumerate(groups):
        M[J, t] = beta[J] if len(J) > 1 else 1.0
    if multi or [J[0] for J in groups] != list(range(len(names))):
        resid = resid @ M
        vmean = M.T @ vmean @ M
        used = used[:, [J[0] for J in groups]]
    resid = np.asarray(resid, dtype=float)  # a fresh array: scaled in place
    # events come grouped by stratum: each stratum is one block of rows
    bounds = np.searchsorted(stratum, np.arange(S + 1))
    n_terms = len(groups)
    for s in range(S):
        k = np.flatnonzero(used[s] > 0)
        lo, hi = bounds[s], bounds[s + 1]
        if k.size == 0 or lo == hi:
            continue
        # R: t(solve(vmean[k, k], t(r))) = r vmean[k, k]^-1 (vmean symmetric)
        inv = np.linalg.inv(vmean[np.ix_(k, k)])
        if k.size == n_terms:
            resid[lo:hi] = resid[lo:hi] @ inv
        else:
            block = resid[lo:hi]
            scaled = block[:, k] @ inv
            block[:] = np.nan
            block[:, k] = scaled
    coef = np.array([beta[J[0]] if len(J) == 1 else 1.0 for J in groups])
    labels = list(term_map)
    resid += coef
    y = pd.DataFrame(resid, columns=labels, copy=False)
    var = pd.DataFrame(np.linalg.inv(vmean), index=labels, columns=labels)
    return y, var, pd.Series(coef, index=labels, name="coef")
