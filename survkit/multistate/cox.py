"""Transition-specific Cox models: ``MultiStateCox``, as R's multi-state
``coxph(Surv(tstart, tstop, to) ~ x, id = id, istate = from)``.

The model is one Cox model on the long form (one row per transition at
risk): strata by transition (a separate baseline hazard per transition) and
covariates expanded per transition (``expand_covariates``), fitted by
``CoxPH`` with the robust variance clustered on the patient, which is what R
reports. ``method="stacked"`` fits exactly that one stratified model;
``method="separate"`` (the default) fits each transition's stratum on its own,
which gives the same coefficients, naive variance and log-likelihood because
the log partial likelihood is a sum over strata with disjoint coefficients,
and assembles the same robust variance, cross-transition covariances included,
from the per-transition dfbeta residuals summed by patient. It costs
O(rows · p_k²) per transition instead of O(rows · p²) for the whole stack.

``clock="reset"`` fits the semi-Markov (clock-reset) model instead: each
transition's hazard runs in time since entering its origin state (a Cox
model on the duration of the stay, as ``coxph(Surv(time, status) ~ ... +
strata(trans))`` on mstate's long data).

Coefficients are named as R names them, ``<covariate>_<i>:<j>`` with i, j the
1-based positions of the origin and target states.

Ties: Breslow by default, as survival intends for multi-state models (in
survival 3.5-3 an explicit ``ties`` gives Breslow and a missing one Efron,
an inverted test fixed later); ``ties="efron"`` equals R's Efron fit.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator

from ..models.coxph import CoxPH
from ..models.fit_results import forget_fit
from .histories import MultiStateData
from .long_form import expand_covariates, long_form
from .prediction import predict_occupation

__all__ = ["MultiStateCox"]

_METHODS = ("separate", "stacked")


class MultiStateCox(BaseEstimator):
    """One Cox model per transition, fitted jointly (R's multi-state ``coxph``).

    Fitted attributes: ``params_``, ``standard_errors_`` (robust, clustered on
    the patient), ``naive_standard_errors_``, ``variance_``,
    ``naive_variance_``, ``log_likelihood_``, ``log_likelihood_null_``,
    ``transition_models_`` (the ``CoxPH`` of each transition; with
    ``method="stacked"`` the one stratified model, whose design columns and
    baseline stratum are ``stacked_design_``), ``terms_`` (transition
    number -> covariates), ``shared_``, ``shared_baseline_``, ``ph_terms_``,
    ``transitions_``.
    """

    def __init__(
        self,
        ties: str = "breslow",
        method: str = "separate",
        clock: str = "forward",
        conf_level: float = 0.95,
        tol: float = 1e-9,
        max_iter: int = 20,
    ):
        self.ties = ties
        self.method = method
        self.clock = clock
        self.conf_level = conf_level
        self.tol = tol
        self.max_iter = max_iter

    def fit(
        self,
        data: MultiStateData,
        covariates: list[str] | Mapping[object, list[str]],
        robust: bool = True,
        shared: Mapping[str, list] | None = None,
        shared_baseline: list | None = None,
    ) -> MultiStateCox:
        """Fit; ``covariates`` is a list of numeric kept columns for every
        transition, or a mapping from a transition (its number, or a
        ``(from, to)`` pair) to its own list (unlisted transitions get none).

        ``shared`` maps a covariate to the transitions that share one
        coefficient for it (R's ``1:3 + 2:3 ~ age / common``); the coefficient
        is named by the covariate alone, as R. Needs ``method="stacked"``.

        ``shared_baseline`` lists groups of transitions (numbers or ``(from,
        to)`` pairs) that share one baseline hazard, proportional between
        them (R's ``1:3 + 2:3 ~ 1 / shared``): one stratum per group and, for
        every member but the first (lowest number), an indicator of its rows
        whose coefficient, named as R's ``ph(2:3/1:3)``, is the log ratio of
        its hazard to the first member's. Needs ``method="stacked"``.
        """
        if not isinstance(data, MultiStateData):
            raise TypeError(
                "data must be MultiStateData; build it with read_histories, from_events or "
                "from_wide."
            )
        if self.clock not in ("forward", "reset"):
            raise ValueError(f"clock={self.clock!r}; use 'forward' or 'reset'.")
        if self.method not in _METHODS:
            raise ValueError(f"method={self.method!r}; use one of {', '.join(_METHODS)}.")
        forget_fit(self)
        tm = data.transitions
        terms = _terms_by_transition(tm, covariates, data.covariates)
        long = long_form(data)
        position = {s: i + 1 for i, s in enumerate(tm.states)}
        names, blocks = [], []
        for k, cols in terms.items():
            a, b = tm.pairs[k - 1]
            blocks.append([f"{c}_{position[a]}:{position[b]}" for c in cols])
            names.extend(blocks[-1])
        common = _shared_terms(tm, shared, terms, data.covariates)
        names.extend(common)
        groups = _baseline_groups(tm, shared_baseline)
        if (common or groups) and self.method != "stacked":
            raise ValueError(
                "shared coefficients or baselines tie transitions together, so they need one "
                "stacked fit; use MultiStateCox(method='stacked')."
            )
        ph_names = {
            k: f"ph({_label(tm, position, k)}/{_label(tm, position, ks[0])})"
            for ks in groups
            for k in ks[1:]
        }
        names.extend(ph_names.values())
        if not names:
            raise ValueError("covariates: no covariate for any transition; give at least one.")
        cox = dict(ties=self.ties, conf_level=self.conf_level, tol=self.tol, max_iter=self.max_iter)
        self.transitions_ = tm
        self.terms_ = terms
        self.shared_ = common
        self.shared_baseline_ = groups
        self.ph_terms_ = ph_names
        if self.method == "stacked":
            self._fit_stacked(long, terms, common, groups, tm, cox, robust)
        else:
            self._fit_separate(long, terms, names, cox, robust)
        idx = pd.Index(names, name="covariate")
        self.params_ = pd.Series(self._beta, index=idx, name="coef")
        self.variance_ = pd.DataFrame(self._var, index=idx, columns=idx)
        self.naive_variance_ = pd.DataFrame(self._naive, index=idx, columns=idx)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(self._var)), index=idx, name="se")
        self.naive_standard_errors_ = pd.Series(
            np.sqrt(np.diag(self._naive)), index=idx, name="naive se"
        )
        self.robust_ = robust
        self.long_ = long
        self.follow_up_times_ = np.unique(data.histories["tstop"].to_numpy())
        return self

    def predict_occupation(
        self, df: pd.DataFrame, times=None, initial_state=None, stype=2, se=False, start_time=0.0
    ):
        """Predicted P(state at t | x) per row of ``df`` (R's ``survfit(fit, newdata)``),
        from ``initial_state`` at ``start_time`` (transition probabilities P(s, t | x)
        for a later start), with infinitesimal-jackknife ``std_err`` if ``se``; see
        ``survkit.multistate.prediction`` and ``prediction_se``."""
        return predict_occupation(
            self,
            df,
            times=times,
            initial_state=initial_state,
            stype=stype,
            se=se,
            start_time=start_time,
        )

    def _fit_stacked(self, long, terms, common, groups, tm, cox, robust):
        covs = sorted({c for cols in terms.values() for c in cols})
        wide = expand_covariates(long, covs, tm)
        columns = [f"{c}.{k}" for k, cols in terms.items() for c in cols]
        for c, ks in common.items():
            column = f"{c}.shared"
            if column in wide.columns:
                raise ValueError(f"column {column!r} already exists; rename it first.")
            inside = wide["trans"].isin(ks).to_numpy()
            wide[column] = np.where(inside, wide[c].to_numpy(dtype=float), 0.0)
            columns.append(column)
        # a shared baseline: the group's transitions in one stratum (that of its first)
        stratum = wide["trans"].to_numpy().copy()
        for ks in groups:
            stratum[np.isin(stratum, ks)] = ks[0]
            for k in ks[1:]:
                column = f"ph.{k}"
                if column in wide.columns:
                    raise ValueError(f"column {column!r} already exists; rename it first.")
                wide[column] = (wide["trans"].to_numpy() == k).astype(float)
                columns.append(column)
        if "baseline.stratum" in wide.columns:
            raise ValueError("column 'baseline.stratum' already exists; rename it first.")
        wide["baseline.stratum"] = stratum
        model = CoxPH(**cox).fit(
            wide,
            **self._clock_columns(),
            event_col="status",
            formula=columns,
            strata="baseline.stratum",
            cluster_col="id" if robust else None,
        )
        self.transition_models_ = {"stacked": model}
        # the stacked fit's design (rows of long_) and stratum, for prediction SEs
        self.stacked_design_ = wide[[*columns, "baseline.stratum"]]
        self._beta = model.params_.to_numpy()
        self._naive = model.naive_variance_.to_numpy()
        self._var = model.variance_.to_numpy()
        self.log_likelihood_ = model.log_likelihood_
        self.log_likelihood_null_ = model.log_likelihood_null_

    def _fit_separate(self, long, terms, names, cox, robust):
        p = len(names)
        beta, naive = np.zeros(p), np.zeros((p, p))
        ids, _ = pd.factorize(long["id"])
        n_ids = int(ids.max()) + 1
        dfbeta = np.zeros((n_ids, p))
        self.transition_models_ = {}
        loglik = loglik_null = 0.0
        at = 0
        for k, cols in terms.items():
            rows = np.flatnonzero(long["trans"].to_numpy() == k)
            if not cols:
                continue
            sub = long.iloc[rows]
            if sub["status"].sum() == 0:
                raise ValueError(
                    f"transition {k} ({self.transitions_.label(k)}) has no observed events; "
                    "its coefficients cannot be estimated. Drop its covariates."
                )
            model = CoxPH(**cox).fit(
                sub,
                **self._clock_columns(),
                event_col="status",
                formula=list(cols),
                cluster_col="id" if robust else None,
            )
            self.transition_models_[k] = model
            span = slice(at, at + len(cols))
            beta[span] = model.params_.to_numpy()
            naive[span, span] = model.naive_variance_.to_numpy()
            loglik += model.log_likelihood_
            loglik_null += model.log_likelihood_null_
            if robust:
                res = model.residuals("dfbeta").to_numpy()
                for j in range(len(cols)):
                    dfbeta[:, at + j] = np.bincount(ids[rows], weights=res[:, j], minlength=n_ids)
            at += len(cols)
        self._beta = beta
        self._naive = naive
        self._var = dfbeta.T @ dfbeta if robust else naive
        self.log_likelihood_ = loglik
        self.log_likelihood_null_ = loglik_null

    def _clock_columns(self) -> dict:
        # clock forward: time since the start, entry at Tstart (left truncation);
        # clock reset: time since entering the state (mstate's "time" column)
        if self.clock == "reset":
            return {"duration_col": "time", "entry_col": None}
        return {"duration_col": "Tstop", "entry_col": "Tstart"}

    @property
    def summary(self) -> pd.DataFrame:
        """One row per coefficient: transition, from, to, covariate, coef,
        exp(coef), se (robust when fitted so), naive se, z, p, confidence limits."""
        if not hasattr(self, "params_"):
            raise ValueError("this MultiStateCox is not fitted yet; call fit first.")
        tm = self.transitions_
        rows = [(k, *tm.pairs[k - 1], c) for k, cols in self.terms_.items() for c in cols]
        rows += [(tuple(ks), None, None, c) for c, ks in self.shared_.items()]
        rows += [(k, *tm.pairs[k - 1], "ph") for k in self.ph_terms_]
        out = pd.DataFrame(
            rows,
            columns=["transition", "from", "to", "covariate"],
            index=self.params_.index.rename("term"),
        )
        z = stats.norm.ppf((1 + self.conf_level) / 2)
        se = self.standard_errors_.to_numpy()
        b = self.params_.to_numpy()
        out["coef"] = b
        out["exp(coef)"] = np.exp(b)
        out["se"] = se
        out["naive se"] = self.naive_standard_errors_.to_numpy()
        out["z"] = b / se
        out["p"] = 2 * stats.norm.sf(np.abs(b / se))
        level = f"{self.conf_level:g}"
        out[f"lower {level}"] = np.exp(b - z * se)
        out[f"upper {level}"] = np.exp(b + z * se)
        return out


def _label(tm, position, k) -> str:
    a, b = tm.pairs[k - 1]
    return f"{position[a]}:{position[b]}"


def _baseline_groups(tm, shared_baseline) -> list[list[int]]:
    """Groups of transition numbers sharing a baseline hazard (checked, sorted)."""
    if not shared_baseline:
        return []
    groups, seen = [], set()
    for group in shared_baseline:
        if not isinstance(group, (list, set, frozenset)):
            raise ValueError(
                f"shared_baseline: {group!r} is not a group; give a list of groups, each a list "
                "of transitions, e.g. [[('mgus', 'death'), ('pcm', 'death')]]."
            )
        ks = sorted({tm.number(*k) if isinstance(k, tuple) else int(k) for k in group})
        if len(ks) < 2 or not all(1 <= k <= tm.n_transitions for k in ks):
            raise ValueError(
                f"shared_baseline: the group {list(group)} needs two or more existing "
                f"transitions (1 to {tm.n_transitions})."
            )
        twice = sorted(seen.intersection(ks))
        if twice:
            raise ValueError(
                f"shared_baseline: transition(s) {twice} are in two groups; put each in one."
            )
        seen.update(ks)
        groups.append(ks)
    return groups


def _shared_terms(tm, shared, terms, kept) -> dict[str, list[int]]:
    """Covariate -> transition numbers sharing its coefficient (checked)."""
    if not shared:
        return {}
    out = {}
    for c, keys in shared.items():
        if c not in kept:
            raise ValueError(
                f"shared: {c!r} is not a kept column of the data (kept: {list(kept)})."
            )
        ks = sorted({tm.number(*k) if isinstance(k, tuple) else int(k) for k in keys})
        if len(ks) < 2 or not all(1 <= k <= tm.n_transitions for k in ks):
            raise ValueError(
                f"shared: {c!r} needs two or more existing transitions (1 to "
                f"{tm.n_transitions}), got {list(keys)}."
            )
        twice = [k for k in ks if c in terms[k]]
        if twice:
            raise ValueError(
                f"shared: {c!r} is also a transition-specific covariate of transition(s) "
                f"{twice}; list it in one place only."
            )
        out[c] = ks
    return out


def _terms_by_transition(tm, covariates, kept) -> dict[int, list[str]]:
    if isinstance(covariates, str):
        covariates = [covariates]
    if isinstance(covariates, Mapping):
        terms = {k: [] for k in range(1, tm.n_transitions + 1)}
        for key, cols in covariates.items():
            k = tm.number(*key) if isinstance(key, tuple) else int(key)
            if not 1 <= k <= tm.n_transitions:
                raise ValueError(
                    f"covariates: transition {key!r} does not exist; numbers run from 1 to "
                    f"{tm.n_transitions} ({list(tm.pairs)})."
                )
            terms[k] = [cols] if isinstance(cols, str) else list(cols)
    else:
        terms = {k: list(covariates) for k in range(1, tm.n_transitions + 1)}
    missing = sorted({c for cols in terms.values() for c in cols} - set(kept))
    if missing:
        raise ValueError(
            f"covariates: {missing} are not kept columns of the data (kept: {list(kept)}); "
            "keep them when building the MultiStateData."
        )
    return terms
