"""Residuals of a fitted ``CoxPH``, the types of R's ``residuals.coxph``.

martingale, deviance, score, schoenfeld, scaledsch, dfbeta, dfbetas; for
right-censored and (start, stop] data, strata, case weights, Efron and Breslow
ties. Every type is O(n p) after one engine pass at the fitted coefficients
(see ``risk_set_moments``): no risk set is ever materialised.

Row order: per-row types come back in the row order of the DataFrame the model
was fitted on, labelled with that DataFrame's index (as predictions are), so
``df["r"] = model.residuals()`` aligns even on a filtered or re-indexed frame;
the Schoenfeld types have one row per event in R's order (stratum, event time,
data row), with those three as the index and "row" holding the event row's
label in the fitted DataFrame.

Weights follow R's defaults: martingale, deviance, score and Schoenfeld
residuals are unweighted (the weights still enter the risk sets), dfbeta and
dfbetas are multiplied by the case weight. ``weighted=True`` multiplies the
others by the row's weight afterwards (deviance excepted). For Schoenfeld
residuals that is the event's own weight, as in survival >= 3.6; survival
3.5-3 multiplied by a misaligned weight vector (a bug fixed upstream).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import check_choice
from ..engine.moments import event_order, risk_set_moments
from ..engine.score_residuals import score_residuals

__all__ = ["RESIDUAL_KINDS", "residuals_of"]

RESIDUAL_KINDS = (
    "martingale",
    "deviance",
    "score",
    "schoenfeld",
    "scaledsch",
    "dfbeta",
    "dfbetas",
)


def residuals_of(model, kind: str = "martingale", weighted: bool | None = None):
    """Residuals of a fitted CoxPH as R's ``residuals(fit, type=kind)``.

    The caller has checked that ``model`` is a fitted CoxPH (``CoxPH.residuals``
    or ``survkit.cox_residuals``); this module sits below ``coxph.py`` so the
    model can call it without an import cycle.

    Returns a Series (martingale, deviance) or a DataFrame with one column per
    coefficient (the other kinds). ``weighted=None`` uses R's default for the
    kind (True only for dfbeta/dfbetas).
    """
    check_choice(kind, RESIDUAL_KINDS, "kind")
    if weighted is None:
        weighted = kind in ("dfbeta", "dfbetas")
    problem = model._problem
    beta = model.params_.to_numpy()
    efron = model.ties == "efron"
    names = list(model.params_.index)
    n = problem.stop.shape[0]
    rows = fitted_row_labels(model, n)
    # position k of the sorted arrays is the caller's row problem.order[k]
    back = np.empty(n, dtype=np.int64)
    back[problem.order] = np.arange(n)
    w = problem.weights

    if kind in ("martingale", "deviance"):
        mom = risk_set_moments(problem, beta, efron)
        dead = problem.dead.astype(float)
        mart = dead - mom.evaluation.risk * mom.exposure()
        if kind == "martingale":
            out = mart * w if weighted else mart
        else:
            out = _deviance(mart, dead)
        return pd.Series(out[back], index=rows, name=kind)

    if kind in ("score", "dfbeta", "dfbetas"):
        L = score_residuals(problem, beta, efron)
        if kind != "score":
            V = model.naive_variance_.to_numpy()
            L = L @ V
            if kind == "dfbetas":
                L = L / np.sqrt(np.diag(V))
        if weighted:
            L = L * w[:, None]
        return pd.DataFrame(L[back], index=rows, columns=names)

    # schoenfeld / scaledsch: one row per event in R's order, (stratum, time,
    # data row) for right-censored and (start, stop] data alike
    mom = risk_set_moments(problem, beta, efron)
    dead_rows = np.flatnonzero(problem.dead)
    rows = dead_rows[event_order(problem, dead_rows, ties_descending=False)]
    resid = mom.schoenfeld(rows)
    if weighted:
        resid = resid * w[rows][:, None]
    if kind == "scaledsch":
        V = model.naive_variance_.to_numpy()
        resid = resid @ V * rows.shape[0] + beta
    index = event_index(model, problem.row_stratum[rows], problem.stop[rows], problem.order[rows])
    return pd.DataFrame(resid, index=index, columns=names)


def fitted_row_labels(model, n: int) -> pd.Index:
    """The fitted DataFrame's index (positions 0..n-1, named "row", when unknown)."""
    labels = getattr(model, "_row_index", None)
    if labels is None or len(labels) != n:
        return pd.RangeIndex(n, name="row")
    return labels


def event_index(model, stratum_codes, time, row) -> pd.MultiIndex:
    """(stratum label,) event time, data row label: the index of per-event results.

    ``row`` are positions in the fitted DataFrame; the index holds their labels.
    """
    positions = np.asarray(row, dtype=np.int64)
    arrays = [
        np.asarray(time, dtype=float),
        fitted_row_labels(model, len(model._problem.order))[positions],
    ]
    names = ["time", "row"]
    if model.strata_cols_:
        labels = np.asarray(model.strata_labels_, dtype=object)[stratum_codes]
        arrays.insert(0, labels)
        names.insert(0, "stratum")
    return pd.MultiIndex.from_arrays(arrays, names=names)


def _deviance(mart: np.ndarray, dead: np.ndarray) -> np.ndarray:
    # sign(M) sqrt(-2 [M + d log(d - M)]); the log term vanishes for censored rows
    with np.errstate(divide="ignore", invalid="ignore"):
        logterm = np.where(dead > 0, dead * np.log(np.where(dead > 0, dead - mart, 1.0)), 0.0)
    return np.sign(mart) * np.sqrt(np.maximum(-2.0 * (mart + logterm), 0.0))
