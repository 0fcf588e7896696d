"""Cause-specific Cox models for every cause, combined into absolute risks.

``CauseSpecificCox`` fits one ``CoxPH(cause=k)`` per event type on the same data
(other causes censored) and predicts each patient's cumulative incidence of
every cause -- the per-organ risk profile -- by the Aalen-Johansen formula on
the model-based hazards, as ``riskRegression::predictRisk(CSC(...))``:

    F_k(t | x) = sum_{s <= t} S(s- | x) dH_k(s | x),   dH_k(s | x) = dH0_k(s) exp(x'b_k)
    S(s- | x)  = prod_{u < s} (1 - sum_j dH_j(u | x))          (product_limit=True)
               = exp(-sum_j H_j(s- | x))                        (product_limit=False)

over the distinct event times s of any cause. The baseline increments are
those of each fit's ties (Efron increments for Efron fits), as riskRegression's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..data.validation import check_columns, encode_events
from .absolute_risk import aalen_johansen_risks
from .coxph import CoxPH
from .fit_results import forget_fit
from .risk_profile_variance import risk_profile_with_se
from .sklearn_api import (
    check_horizon,
    covariate_frame,
    fit_sklearn_form,
    horizon_auc,
    is_outcome_like,
    refuse_column_options,
)

__all__ = ["CauseSpecificCox"]


class CauseSpecificCox(BaseEstimator):
    """One cause-specific Cox model per cause, and their combined absolute risks.

    Parameters are those of ``CoxPH`` and apply to every cause's model, plus
    ``horizon`` and ``cause`` for scikit-learn's form: ``predict`` gives the
    absolute risk of ``cause`` (default: the first fitted cause) by ``horizon``
    and ``score`` its time-dependent AUC there.
    Fitted: ``models_`` (cause -> fitted CoxPH), ``causes_``, and ``summary``
    (the coefficient tables stacked, indexed by cause and covariate).
    """

    def __init__(
        self,
        ties: str = "efron",
        conf_level: float = 0.95,
        tol: float = 1e-9,
        max_iter: int = 20,
        horizon: float | None = None,
        cause: object = None,
    ):
        self.ties = ties
        self.conf_level = conf_level
        self.tol = tol
        self.max_iter = max_iter
        self.horizon = horizon
        self.cause = cause

    def fit(
        self,
        df: pd.DataFrame,
        duration_col: str = "time",
        event_col: str = "status",
        formula: str | list[str] | None = None,
        censor_value: object = 0,
        causes: list | None = None,
        **cox_options,
    ) -> CauseSpecificCox:
        """Fit ``CoxPH(cause=k)`` for every cause k (or those in ``causes``).

        ``cox_options`` (``strata``, ``entry_col``, ``weights_col``, ...) are passed
        to every ``CoxPH.fit``. scikit-learn's form: ``fit(X, y)``.
        """
        if is_outcome_like(duration_col):
            refuse_column_options(
                event_col=None if event_col == "status" else event_col,
                formula=formula,
                **cox_options,
            )
            return fit_sklearn_form(
                self, df, duration_col, censor_value=censor_value, causes=causes
            )
        forget_fit(self)
        check_columns(df, {"event_col": [event_col]})
        coding = encode_events(df[event_col], event_col, cause=True, censor_value=censor_value)
        chosen = list(coding.labels) if causes is None else list(causes)
        self.models_ = {}
        for cause in chosen:
            model = CoxPH(
                ties=self.ties, conf_level=self.conf_level, tol=self.tol, max_iter=self.max_iter
            )
            self.models_[cause] = model.fit(
                df,
                duration_col,
                event_col,
                formula=formula,
                cause=cause,
                censor_value=censor_value,
                **cox_options,
            )
        self.causes_ = chosen
        self.censor_value_ = censor_value
        self.all_causes_ = list(coding.labels)
        if causes is not None and set(chosen) != set(coding.labels):
            # absolute risks need every competing cause's hazard
            missing = [c for c in coding.labels if c not in chosen]
            self._missing_causes = missing
        else:
            self._missing_causes = []
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise ValueError("this CauseSpecificCox is not fitted yet; call fit(df, ...) first.")

    @property
    def summary(self) -> pd.DataFrame:
        self._check_fitted()
        return pd.concat({c: m.summary for c, m in self.models_.items()}, names=["cause"])

    def _event_grid(self, until: float) -> np.ndarray:
        """Times <= ``until`` at which some cause's baseline hazard (any stratum) jumps."""
        jumps = []
        for model in self.models_.values():
            table = model.baseline_cumulative_hazard_
            moved = (np.diff(table.to_numpy(), axis=0, prepend=0.0) > 0).any(axis=1)
            jumps.append(table.index.to_numpy()[moved])
        grid = np.unique(np.concatenate(jumps))
        return grid[grid <= until]

    def _checked_times(self, df: pd.DataFrame, times) -> tuple[np.ndarray, np.ndarray]:
        """``times`` as floats within every row's follow-up, and each row's stratum code."""
        times = np.asarray(times, dtype=float).ravel()
        if times.size == 0:
            raise ValueError("times is empty; pass at least one time.")
        # every cause's model has the same data, hence the same follow-up and strata
        first = next(iter(self.models_.values()))
        codes = first.baseline_.strata_codes_for(df, first.strata_cols_)
        return first.baseline_.check_times(times, codes), codes

    def _baseline_increments(self, grid: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """(strata, grid, causes): each stratum's baseline hazard increments at the grid
        times; strata with no row in ``codes`` stay zero (never used, and their
        follow-up may end before the grid does)."""
        models = list(self.models_.values())
        out = np.zeros((len(models[0].baseline_.labels), grid.size, len(models)))
        for s in np.unique(codes):
            one = np.array([s])
            for k, model in enumerate(models):
                out[s, :, k] = np.diff(model.baseline_.at(grid, one)[:, 0], prepend=0.0)
        return out

    def predict_cumulative_incidence(
        self, df: pd.DataFrame, times, cause: object = None, product_limit: bool = True
    ) -> pd.DataFrame:
        """Absolute risk of ``cause`` by each time: index ``times``, one column per row of df.

        Times beyond the last follow-up time raise ``ValueError`` (no
        extrapolation); ``cause`` defaults to the first cause.
        """
        profile = self.predict_risk_profile(df, times, product_limit=product_limit)
        cause = self.causes_[0] if cause is None else cause
        if cause not in self.causes_:
            raise ValueError(f"cause={cause!r} was not fitted; fitted causes: {self.causes_}.")
        return profile[cause]

    def predict_risk_profile(
        self,
        df: pd.DataFrame,
        times,
        product_limit: bool = True,
        se: bool = False,
        conf_level: float = 0.95,
        conf_type: str = "log-log",
        se_method: str | None = None,
    ) -> dict[object, pd.DataFrame]:
        """Cumulative incidence of every cause for every row: cause -> DataFrame(times x rows).

        With ``se=True`` each cause maps instead to a long table with columns
        ``row`` (df's index), ``time``, ``risk``, ``std_err``, ``lower``,
        ``upper`` and pointwise limits at ``conf_level`` on the ``conf_type``
        scale. ``se_method="riskRegression"`` reproduces
        ``predict(CSC, se = TRUE)`` (influence functions with riskRegression's
        conventions); ``"influence"`` is the exact influence function (equal to
        riskRegression without tied event times and for the exponential form);
        both need Breslow ties and no weights or entry times. ``"delta"`` is the
        model-based delta method (any fit). ``None`` picks "riskRegression" when
        the fit allows it, else "delta"; the choice is in each table's
        ``attrs["se_method"]``. See ``survkit.models.risk_profile_variance``.
        """
        self._check_fitted()
        if se:
            return self._risk_profile_with_se(
                df, times, product_limit, conf_level, conf_type, se_method
            )
        if self._missing_causes:
            raise ValueError(
                f"absolute risks need a model for every cause; causes "
                f"{self._missing_causes} were not fitted. Fit with causes=None."
            )
        times, codes = self._checked_times(df, times)
        # the event grid: every time any cause's baseline jumps, up to max(times);
        # between those times no cause's hazard moves, so censoring-only times
        # (most of the distinct times) would add rows of zeros and cost only time
        grid = self._event_grid(times.max())
        idx = np.searchsorted(grid, times, side="right") - 1
        if grid.size == 0:  # every requested time precedes the first event
            zeros = np.zeros((times.size, len(df)))
            index = pd.Index(times, name="time")
            return {c: pd.DataFrame(zeros, index=index, columns=df.index) for c in self.models_}
        increments = self._baseline_increments(grid, codes)
        relative = np.column_stack(
            [m.predict_partial_hazard(df).to_numpy() for m in self.models_.values()]
        )
        risks = aalen_johansen_risks(increments, codes, relative, idx, product_limit)
        index = pd.Index(times, name="time")
        return {
            cause: pd.DataFrame(risks[k], index=index, columns=df.index)
            for k, cause in enumerate(self.models_)
        }

    def predict(self, X) -> np.ndarray:
        """scikit-learn's prediction: the absolute risk of ``cause`` by ``horizon``."""
        horizon = check_horizon(self)
        frame = covariate_frame(self, X)
        return self.predict_cumulative_incidence(frame, [horizon], cause=self.cause).to_numpy()[0]

    def score(self, X, y) -> float:
        """Time-dependent AUC of ``predict(X)`` at ``horizon`` for ``cause`` (IPCW,
        competing events as controls; ``survkit.metrics.time_dependent_auc``)."""
        risk = self.predict(X)
        cause = self.causes_[0] if self.cause is None else self.cause
        return horizon_auc(y, risk, self.horizon, cause, self.censor_value_)

    def _risk_profile_with_se(self, df, times, product_limit, conf_level, conf_type, se_method):
        if self._missing_causes:
            raise ValueError(
                f"absolute risks need a model for every cause; causes "
                f"{self._missing_causes} were not fitted. Fit with causes=None."
            )
        with_offset = [c for c, m in self.models_.items() if m.offset_col_ is not None]
        if with_offset:
            raise ValueError(
                "se=True is not available for models with an offset (causes "
                f"{with_offset}); fit without offset_col to get standard errors."
            )
        times, codes = self._checked_times(df, times)
        X = {c: m.design_.matrix(df) for c, m in self.models_.items()}
        if se_method is None:
            simple = all(
                m.ties == "breslow" and m._problem.start is None and (m._problem.weights == 1).all()
                for m in self.models_.values()
            )
            se_method = "riskRegression" if simple else "delta"
        out = risk_profile_with_se(
            self.models_,
            X,
            codes,
            times,
            product_limit,
            conf_level,
            conf_type,
            df.index,
            method=se_method,
        )
        for table in out.values():
            table.attrs["se_method"] = se_method
        return out
