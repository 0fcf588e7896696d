"""Seeded nonparametric bootstrap of any model prediction: ``bootstrap_prediction``.

Used for the confidence limits of ``FineGray.predict_cumulative_incidence``
(neither cmprsk's ``predict.crr`` nor riskRegression's ``FGR`` gives standard
errors for predicted incidences), and available for any estimator with
``fit``/``predict``. Rows (or clusters of rows, e.g. the episodes of one
patient) are resampled with replacement; each replicate refits a clone of the
estimator (scikit-learn's ``clone``: same parameters, no fitted state) and
predicts. ``std_err`` is the standard deviation of the replicates; the limits
are percentile limits (``bootstrap_prediction``). A replicate whose fit or prediction raises
``ValueError`` (e.g. a requested time beyond the resample's follow-up) is
counted in ``n_failed``; more than 5 % failures raise, naming the first error.
The generator is ``numpy.random.default_rng(seed)``: same seed, same result.
``fine_gray_incidence_ci`` forms log(-log) limits from the bootstrap standard
error by default (better coverage for small incidences than percentiles).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..engine.confidence import incidence_limits

__all__ = ["BootstrapPrediction", "bootstrap_prediction"]


@dataclass
class BootstrapPrediction:
    estimate: np.ndarray  # the prediction of the fit on the full data
    std_err: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    replicates: np.ndarray  # (n_ok, *estimate.shape)
    n_failed: int
    seed: int | None


def bootstrap_prediction(
    estimator,
    df: pd.DataFrame,
    fit_kwargs: dict,
    predict: Callable[[object], np.ndarray],
    n_bootstrap: int = 200,
    seed: int | None = None,
    conf_level: float = 0.95,
    cluster_col: str | None = None,
) -> BootstrapPrediction:
    """Bootstrap ``predict(fitted estimator)`` over resamples of ``df``.

    ``fit_kwargs`` are passed to ``fit(df_resample, **fit_kwargs)``;
    ``predict`` maps a fitted estimator to an array (e.g.
    ``lambda m: m.predict_cumulative_incidence(new, times).to_numpy()``).
    ``seed`` is required (an int): results must be reproducible.
    """
    if seed is None or not isinstance(seed, (int, np.integer)):
        raise ValueError(
            f"seed={seed!r}; pass an integer seed so that the bootstrap is reproducible."
        )
    if int(n_bootstrap) != n_bootstrap or n_bootstrap < 20:
        raise ValueError(f"n_bootstrap={n_bootstrap!r}; use an integer >= 20 (200+ for limits).")
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level={conf_level!r} must be between 0 and 1 (e.g. 0.95).")
    estimate = np.asarray(predict(clone(estimator).fit(df, **fit_kwargs)), dtype=float)
    rng = np.random.default_rng(seed)
    if cluster_col is None:
        groups = None
        n_units = len(df)
    else:
        codes, _ = pd.factorize(df[cluster_col], sort=True)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(codes.max() + 2))
        groups = [order[bounds[k] : bounds[k + 1]] for k in range(codes.max() + 1)]
        n_units = len(groups)
    reps, failures = [], []
    for _ in range(int(n_bootstrap)):
        draw = rng.integers(0, n_units, n_units)
        rows = draw if groups is None else np.concatenate([groups[k] for k in draw])
        sample = df.iloc[rows].reset_index(drop=True)
        try:
            reps.append(np.asarray(predict(clone(estimator).fit(sample, **fit_kwargs)), float))
        except ValueError as err:
            failures.append(str(err))
    if len(failures) > 0.05 * n_bootstrap:
        raise ValueError(
            f"{len(failures)} of {n_bootstrap} bootstrap replicates failed (first: "
            f"{failures[0]}); predict at earlier times or use more data."
        )
    replicates = np.stack(reps)
    alpha = (1 - conf_level) / 2
    return BootstrapPrediction(
        estimate=estimate,
        std_err=replicates.std(axis=0, ddof=1),
        lower=np.quantile(replicates, alpha, axis=0),
        upper=np.quantile(replicates, 1 - alpha, axis=0),
        replicates=replicates,
        n_failed=len(failures),
        seed=int(seed),
    )


def fine_gray_incidence_ci(
    model,
    df: pd.DataFrame,
    fit_kwargs: dict,
    newdata: pd.DataFrame,
    times,
    n_bootstrap: int = 200,
    seed: int | None = None,
    conf_level: float = 0.95,
    cluster_col: str | None = None,
    interval: str = "log-log",
) -> pd.DataFrame:
    """Predicted cumulative incidence of a Fine-Gray model with bootstrap limits.

    ``model`` is a (fitted or unfitted) ``FineGray``; it is refitted on ``df``
    with ``fit_kwargs`` and on each resample. Returns a long table: ``row``
    (newdata's index), ``time``, ``cif``, ``std_err`` (of the replicates),
    ``lower``, ``upper``; ``attrs`` record the method, seed, replicates and
    failures. ``interval="log-log"`` (default) puts the bootstrap standard
    error on the log(-log F) scale, F^exp(+-z se / (F log F)), as
    ``aalen_johansen``; ``"percentile"`` uses the replicates' quantiles (it
    covered less well for small incidences in
    analyses/prediction_interval_coverage.py).
    """
    if interval not in ("log-log", "percentile"):
        raise ValueError(f"interval={interval!r}; use 'log-log' or 'percentile'.")
    times = np.asarray(times, dtype=float).ravel()

    def predict(m):
        return m.predict_cumulative_incidence(newdata, times).to_numpy().T  # (rows, times)

    boot = bootstrap_prediction(
        model, df, fit_kwargs, predict, n_bootstrap, seed, conf_level, cluster_col
    )
    n, T = boot.estimate.shape
    lower, upper = boot.lower, boot.upper
    if interval == "log-log":
        lower, upper = incidence_limits(boot.estimate, boot.std_err, conf_level, "log-log")
    out = pd.DataFrame(
        {
            "row": np.repeat(np.asarray(newdata.index), T),
            "time": np.tile(times, n),
            "cif": boot.estimate.ravel(),
            "std_err": boot.std_err.ravel(),
            "lower": lower.ravel(),
            "upper": upper.ravel(),
        }
    )
    out.attrs.update(
        method=f"bootstrap ({interval} limits)",
        seed=boot.seed,
        n_bootstrap=int(n_bootstrap),
        n_failed=boot.n_failed,
    )
    return out
