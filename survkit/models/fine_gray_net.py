"""Elastic-net penalised Fine-Gray regression along a lambda path: ``survkit.FineGrayNet``.

It minimises

    -logPL(b) / n + lambda * sum_j pf_j (l1_ratio |b_j s_j| + (1 - l1_ratio) (b_j s_j)^2 / 2)

with logPL the Fine-Gray log pseudo-likelihood (``FineGray``'s, Breslow ties),
n the number of subjects and s_j the standard deviation of covariate j over
the subjects. The route: ``CoxNet``'s path machinery (coordinate descent,
warm starts, strong rule, KKT checks, cross-validation) on the same risk-set
problem as ``FineGray``, with its censoring-weighted competing-failure rows
added to the risk sets by a risk-set extension. This costs O(n) per outer step,
like an ordinary Cox path; expanding the data as ``survival::finegray`` does
(one row per competing subject and later censoring time, then a weighted
(start, stop] Cox path) solves the same problem but with up to
O(n_competing x n_censoring_times) rows, and ties lambda and the
standardisation to the weights of the expanded rows.

``censoring_ties`` picks the censoring Kaplan-Meier's convention at an
event/censoring tie: "crr" (default; the unpenalised end is ``FineGray``'s and
``cmprsk::crr``'s estimate) or "finegray" (``survival::finegray``'s weights,
so the unpenalised end is ``coxph`` on ``finegray`` output).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine import kernels as kern
from ..engine.competing_concordance import WolbersSetup
from ..engine.risk_set import RiskSetProblem
from .baseline import BaselineHazard
from .coxnet import CoxNet
from .coxnet_inputs import outcome_frame
from .fine_gray_net_weights import CENSORING_TIES, FineGrayPathExtension, path_censoring_weights
from .fine_gray_weights import read_fine_gray_data
from .fit_results import forget_fit
from .sklearn_api import check_horizon, horizon_auc

__all__ = ["FineGrayNet"]


class FineGrayNet(CoxNet):
    """Lasso, ridge and elastic-net Fine-Gray models along a lambda path.

    Parameters are ``CoxNet``'s (``l1_ratio``, ``lambdas``, ``n_lambdas``,
    ``lambda_min_ratio``, ``penalty_factor``, ``standardize``, ``tol``,
    ``max_iter``, ``cv``, ``select``, ``seed``) except ``ties`` (Breslow, as
    ``FineGray`` and ``crr``), plus

    censoring_ties : {"crr", "finegray"}
        The censoring Kaplan-Meier's convention where an event and a censoring
        share a time (see the module docstring).
    cv_measure : {"deviance", "C"}
        ``"deviance"``: the cross-validated pseudo-likelihood deviance.
        Cross-validation re-estimates the censoring weights on each fold's
        training rows (and on all rows for the full-data deviance), so a
        fold's deviance is the Verweij-van Houwelingen difference of two
        Fine-Gray pseudo-likelihoods. ``"C"``: Wolbers' competing-risks
        concordance of each fold's held-out linear predictor
        (``survkit.metrics.competing_risks_concordance`` at a horizon beyond the
        last time: every event of interest is a case, a competing event is
        not censoring; the censoring Kaplan-Meier is the held-out rows'),
        averaged with each fold's number of rows as weight; higher is better.
    horizon : float or None
        A time for scikit-learn's ``predict``/``score``, as ``FineGray``'s: with
        it, ``predict(X)`` is each row's cumulative incidence of the cause by
        ``horizon`` at ``lambda_`` and ``score(X, y)`` the time-dependent AUC
        of that prediction at ``horizon`` (IPCW, competing events as controls;
        ``survkit.metrics.time_dependent_auc``). Without it (default),
        ``predict(X)`` is the linear predictor (a risk score that ranks rows
        as the cumulative incidence at any time does) and ``score`` raises:
        a horizon-free score would be Harrell's C, which counts competing
        events as censored.

    Fitted attributes: ``CoxNet``'s, plus ``n_competing_``, ``baseline_cumulative_hazard_``
    (at ``lambda_``, x = 0, as ``FineGray``'s) for ``predict_cumulative_incidence``. There are no
    standard errors (post-selection) and no ``concordance_``: Harrell's C would
    count competing events as censored; use
    ``survkit.metrics.competing_risks_concordance`` on ``predict(X)``.
    """

    def __init__(
        self,
        l1_ratio: float = 1.0,
        lambdas=None,
        n_lambdas: int = 100,
        lambda_min_ratio: float | None = None,
        penalty_factor=None,
        standardize: bool = True,
        censoring_ties: str = "crr",
        cv_measure: str = "deviance",
        tol: float = 1e-7,
        max_iter: int = 100,
        cv=None,
        select: str = "1se",
        seed: int | None = 0,
        horizon: float | None = None,
    ):
        self.l1_ratio = l1_ratio
        self.lambdas = lambdas
        self.n_lambdas = n_lambdas
        self.lambda_min_ratio = lambda_min_ratio
        self.penalty_factor = penalty_factor
        self.standardize = standardize
        self.censoring_ties = censoring_ties
        self.cv_measure = cv_measure
        self.tol = tol
        self.max_iter = max_iter
        self.cv = cv
        self.select = select
        self.seed = seed
        self.horizon = horizon

    # CoxNet's checks read this; a Fine-Gray path has Breslow ties only
    ties = "breslow"

    def fit(
        self,
        df,
        duration_col="time",
        event_col: str = "status",
        cause: object = 1,
        formula=None,
        censor_value: object = 0,
        cengroup_col: str | None = None,
    ) -> FineGrayNet:
        """Fit the path of ``cause``'s subdistribution hazard; returns ``self``.

        As ``FineGray.fit``: rows whose event equals ``censor_value`` are
        censored, every other code but ``cause`` is a competing event, and
        ``cengroup_col`` estimates the censoring distribution within groups.
        scikit-learn's form ``fit(X, y, cause=...)`` takes every column of X as
        a covariate and ``y`` from ``survkit.outcome``.
        """
        values = None
        if not isinstance(duration_col, str):
            if cengroup_col is not None:
                raise ValueError(
                    "cengroup_col is a column name of the DataFrame form; with fit(X, y) "
                    "use fit(df, duration_col, event_col, cengroup_col=...) instead."
                )
            df, cols = outcome_frame(df, duration_col)
            duration_col, event_col, formula = cols["time"], cols["event"], cols["covariates"]
            values = cols["values"]
        if self.censoring_ties not in CENSORING_TIES:
            raise ValueError(
                f"censoring_ties={self.censoring_ties!r}; use one of {CENSORING_TIES}."
            )
        self._check_params()
        forget_fit(self)
        inputs = read_fine_gray_data(
            df, duration_col, event_col, formula, cause, censor_value, cengroup_col,
            columns_first=True, covariate_values=values,
        )  # fmt: skip
        data, cengroup = inputs.data, inputs.cengroup
        censored, competing = inputs.censored, inputs.competing
        n = data.stop.shape[0]
        problem = RiskSetProblem.build(np.zeros((n, 0)), data.stop, data.status, order=data.order)
        ties, n_groups = self.censoring_ties, len(inputs.cengroup_labels)

        def extension_for(sub: RiskSetProblem, rows: np.ndarray) -> FineGrayPathExtension:
            # a row subset (a CV fold) estimates its own censoring distribution
            weights = path_censoring_weights(sub, censored[rows], cengroup[rows], n_groups, ties)
            return FineGrayPathExtension(weights, competing[rows])

        is_case = data.status.astype(bool)

        def concordance_for(rows: np.ndarray):
            # Wolbers' C of held-out rows, every event of interest a case; the
            # censoring Kaplan-Meier and time order are the rows', shared by all lambdas
            setup = WolbersSetup.fit(
                data.stop[rows], is_case[rows], competing[rows], censored[rows]
            )
            return lambda lp: setup.at(np.inf, lp).concordance

        self._fit_path(
            data, problem, efron=False, extension_for=extension_for, concordance_for=concordance_for
        )
        self.n_competing_ = int(competing.sum())
        self.censor_value_ = censor_value
        self.baseline_ = self._baseline(problem, extension_for(problem, np.arange(n)))
        self.baseline_cumulative_hazard_ = self.baseline_.table()
        return self

    def _baseline(self, problem: RiskSetProblem, extension) -> BaselineHazard:
        """Breslow's cumulative subdistribution hazard at x = 0 for ``params_`` (as
        ``FineGray``'s), from one scan at the fitted linear predictor."""
        eta = np.ascontiguousarray(self._lp)  # relative to x = center
        peak = np.array([eta.max()])
        risk = np.exp(eta - peak[0])
        ext0, ext1 = extension.additions(problem, risk)
        h = kern.risk_set_scan(
            np.zeros((eta.shape[0], 0)), eta, peak, risk, problem.weights, problem.dead,
            *problem.scan_structure, False, False, ext0, ext1,
        )[3]  # fmt: skip
        # jumps for eta = 0 (x = center), then moved to x = 0
        shift = peak[0] + float(self.params_.to_numpy() @ self._center)
        jumps = h[::-1] * np.exp(-shift)
        return BaselineHazard(
            labels=["baseline"], times=[problem.grp_time[::-1].copy()], cumhaz=[np.cumsum(jumps)]
        )

    def predict_cumulative_incidence(self, df: pd.DataFrame, times) -> pd.DataFrame:
        """1 - exp(-exp(x'b) Lambda0(t)) per row (columns) at ``times`` (index), at
        ``lambda_``'s coefficients (``FineGray.predict_cumulative_incidence``'s rule;
        times beyond the last follow-up raise ``ValueError``)."""
        self._check_fitted()
        times = np.asarray(times, dtype=float).ravel()
        lp = self.design_.matrix(df) @ self.params_.to_numpy()
        H0 = self.baseline_.at(times, np.zeros(len(df), dtype=np.int64))
        cif = -np.expm1(-H0 * np.exp(lp)[None, :])
        return pd.DataFrame(cif, index=pd.Index(times, name="time"), columns=df.index)

    @property
    def concordance_(self) -> float:
        raise AttributeError(
            "FineGrayNet has no concordance_: Harrell's C would treat competing events as "
            "censored; use survkit.metrics.competing_risks_concordance on predict(X)."
        )

    def predict(self, X) -> np.ndarray:
        """scikit-learn's prediction: with ``horizon``, the cumulative incidence of
        the cause by ``horizon`` at ``lambda_``; without, the linear predictor."""
        if self.horizon is None:
            return super().predict(X)
        horizon = check_horizon(self)
        self._check_fitted()
        frame = self._covariate_frame(X)
        return self.predict_cumulative_incidence(frame, [horizon]).to_numpy()[0]

    def score(self, X, y) -> float:
        """Time-dependent AUC of ``predict(X)`` for the cause at ``horizon`` (IPCW,
        competing events as controls), as ``FineGray.score``."""
        if self.horizon is None:
            raise ValueError(
                "FineGrayNet.score needs horizon= (a time): it is the time-dependent AUC of "
                "the cumulative incidence by then. Without a horizon, Harrell's C would count "
                "competing events as censored; use survkit.metrics.competing_risks_concordance "
                "on predict(X) instead."
            )
        risk = self.predict(X)
        return horizon_auc(y, risk, self.horizon, self.cause_, self.censor_value_)
