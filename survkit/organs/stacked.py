"""Does an effect differ between organs? The stacked (Lunn-McNeil) cause-specific model.

The data are duplicated once per cause (organ); copy k counts only cause k as
an event. Stratifying by cause gives every organ its own baseline hazard,
and covariate x cause interactions (x_k = x [cause == k]) its own
coefficients, so the stacked fit reproduces the separate cause-specific fits
exactly (log-likelihoods add, the variance is block diagonal) while putting
all coefficients in one model: equality across organs is then a Wald test of
linear contrasts, and a covariate can be given a common effect to compare by
likelihood ratio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..data.design import build_design
from ..data.validation import (
    as_column_list,
    check_columns,
    check_covariate_names,
    check_dataframe,
    encode_events,
)
from ..models.coxph import CoxPH
from ..models.summary_table import TestResult

__all__ = ["StackedCox", "fit_stacked", "stack_causes"]


def stack_causes(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    causes: Sequence[object] | None = None,
    censor_value: object = 0,
    cause_col: str = "cause",
    status_col: str = "status",
) -> pd.DataFrame:
    """Lunn-McNeil stacking: one copy of ``df`` per cause, with ``cause_col`` = k
    and ``status_col`` = 1 where the row's event is k (0 otherwise, so the
    other causes are censored in that copy). Copies are stacked in ``causes``
    order (default: every code but ``censor_value``, sorted)."""
    check_dataframe(df)
    check_columns(df, {"duration_col": [duration_col], "event_col": [event_col]})
    causes = _causes(df, event_col, causes, censor_value)
    for col in (cause_col, status_col):
        if col in df.columns:
            raise ValueError(
                f"column {col!r} already exists; pass another cause_col / status_col name."
            )
    values = df[event_col].to_numpy()
    copies = []
    for k in causes:
        copy = df.copy()
        copy[cause_col] = k
        copy[status_col] = (values == k).astype(np.int64)
        copies.append(copy)
    return pd.concat(copies, ignore_index=True)


@dataclass
class StackedCox:
    """A stacked cause-specific Cox fit.

    ``model`` is the CoxPH on the stacked data (strata = cause); ``coef_names``
    maps (covariate column, cause) to the model's coefficient name
    (``"<column>:<cause_col>=<cause>"``; a common covariate keeps its name for
    every cause). ``terms`` groups design columns by formula term.
    """

    model: CoxPH
    data: pd.DataFrame
    causes: list
    covariates: list[str]
    terms: dict[str, list[str]]
    common: list[str]
    coef_names: dict
    conf_level: float
    fit_args: dict

    def coefficients(self) -> pd.DataFrame:
        """Log hazard ratios: one row per design column, one column per cause."""
        b = self.model.params_
        return pd.DataFrame(
            {k: [b[self.coef_names[(c, k)]] for c in self.covariates] for k in self.causes},
            index=pd.Index(self.covariates, name="covariate"),
        )

    def contrast(self, covariate: str, cause_1: object, cause_2: object) -> pd.Series:
        """b(cause_1) - b(cause_2) for one design column, with se, z, Wald chi-square,
        two-sided p and the CI at ``conf_level``."""
        check_covariate_names([covariate], self.covariates, "contrast")
        check_covariate_names([cause_1, cause_2], self.causes, "contrast causes")
        n1, n2 = self.coef_names[(covariate, cause_1)], self.coef_names[(covariate, cause_2)]
        b, V = self.model.params_, self.model.variance_
        est = float(b[n1] - b[n2])
        se = float(np.sqrt(max(V.loc[n1, n1] + V.loc[n2, n2] - 2 * V.loc[n1, n2], 0.0)))
        z = est / se if se > 0 else np.nan
        zc = stats.norm.ppf((1 + self.conf_level) / 2)
        return pd.Series(
            {
                "estimate": est,
                "se": se,
                "z": z,
                "wald_chisq": z * z,
                "df": 1,
                "p": 2 * stats.norm.sf(abs(z)),
                "lower": est - zc * se,
                "upper": est + zc * se,
            },
            name=f"{covariate}: {cause_1} - {cause_2}",
        )

    def equality_tests(self) -> pd.DataFrame:
        """Per term, the Wald test that its effect is the same for every cause.

        H0: b_1 = b_2 = ... = b_K for each column of the term; df = (K - 1) x columns.
        Terms given a common effect are not listed.
        """
        b = self.model.params_
        V = self.model.variance_
        K = len(self.causes)
        rows = {}
        for term, columns in self.terms.items():
            if any(c in self.common for c in columns):
                continue
            names = [self.coef_names[(c, k)] for c in columns for k in self.causes]
            bv = b[names].to_numpy()
            Vv = V.loc[names, names].to_numpy()
            # first cause minus each other cause, column by column
            L = np.zeros(((K - 1) * len(columns), len(names)))
            for j in range(len(columns)):
                for r in range(1, K):
                    L[j * (K - 1) + r - 1, j * K] = 1.0
                    L[j * (K - 1) + r - 1, j * K + r] = -1.0
            d = L @ bv
            chisq = float(d @ np.linalg.solve(L @ Vv @ L.T, d))
            test = TestResult.chi2(chisq, L.shape[0])
            rows[term] = {"chisq": test.statistic, "df": test.df, "p": test.p_value}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("term")

    def common_effect_test(self, term: str) -> TestResult:
        """Likelihood-ratio test of cause-specific versus common effect for ``term``
        (refits the model with ``term`` shared by every cause)."""
        check_covariate_names([term], list(self.terms), "common_effect_test")
        if term in self.common:
            raise ValueError(f"term {term!r} already has a common effect in this model.")
        reduced = fit_stacked(**{**self.fit_args, "common": [*self.common, term]})
        stat = 2 * (self.model.log_likelihood_ - reduced.model.log_likelihood_)
        return TestResult.chi2(stat, len(self.terms[term]) * (len(self.causes) - 1))


def fit_stacked(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    formula: str | list[str],
    causes: Sequence[object] | None = None,
    common: Sequence[str] | None = None,
    censor_value: object = 0,
    strata: str | list[str] | None = None,
    ties: str = "efron",
    conf_level: float = 0.95,
    cause_col: str | None = None,
    tol: float = 1e-9,
    max_iter: int = 20,
) -> StackedCox:
    """Stacked cause-specific Cox model with covariate x cause interactions.

    ``formula``: covariates (formula string or list of columns); each design
    column gets one coefficient per cause, except the terms named in
    ``common`` (formula terms such as ``"age"`` or ``"C(subtype)"``), which share
    one coefficient across causes. ``strata`` adds stratification columns
    beside the cause. ``cause_col`` names the cause column of the stacked data
    (default "cause", or "cause_" ... when ``df`` already has one); coefficients
    are named ``"<column>:<cause_col>=<cause>"``.
    """
    fit_args = dict(
        df=df,
        duration_col=duration_col,
        event_col=event_col,
        formula=formula,
        causes=causes,
        common=common,
        censor_value=censor_value,
        strata=strata,
        ties=ties,
        conf_level=conf_level,
        cause_col=cause_col,
        tol=tol,
        max_iter=max_iter,
    )
    cause_col = _free(df, "cause") if cause_col is None else cause_col
    status_col = _free(df, "status")
    stacked = stack_causes(df, duration_col, event_col, causes, censor_value, cause_col, status_col)
    causes = list(stacked[cause_col].drop_duplicates())
    design, X = build_design(stacked, formula)
    terms = _design_terms(design)
    common = as_column_list(common)
    check_covariate_names(common, list(terms), "common")
    common_cols = {c for t in common for c in terms[t]}
    cause_values = stacked[cause_col].to_numpy()
    columns, coef_names, fit_cols = {}, {}, []
    for j, col in enumerate(design.names):
        if col in common_cols:
            columns[col] = X[:, j]
            fit_cols.append(col)
            coef_names.update({(col, k): col for k in causes})
            continue
        for k in causes:
            name = f"{col}:{cause_col}={k}"
            columns[name] = np.where(cause_values == k, X[:, j], 0.0)
            fit_cols.append(name)
            coef_names[(col, k)] = name
    keep = [duration_col, status_col, cause_col, *as_column_list(strata)]
    data = pd.concat([stacked[keep], pd.DataFrame(columns, index=stacked.index)], axis=1)
    model = CoxPH(ties=ties, conf_level=conf_level, tol=tol, max_iter=max_iter).fit(
        data,
        duration_col=duration_col,
        event_col=status_col,
        formula=fit_cols,
        strata=[cause_col, *as_column_list(strata)],
    )
    return StackedCox(
        model=model,
        data=data,
        causes=causes,
        covariates=list(design.names),
        terms=terms,
        common=common,
        coef_names=coef_names,
        conf_level=conf_level,
        fit_args=fit_args,
    )


def _causes(df, event_col, causes, censor_value) -> list:
    values = df[event_col]
    first = next((v for v in pd.unique(values) if v != censor_value), None)
    if first is None:
        raise ValueError(f"event column {event_col!r} has no events (all rows censored).")
    present = list(encode_events(values, event_col, first, censor_value).labels)
    if causes is None:
        return present
    causes = list(causes)
    absent = [c for c in causes if c not in present]
    if absent:
        raise ValueError(
            f"causes {absent} never occur in column {event_col!r} (event codes present: "
            f"{present}); pass codes from the data."
        )
    if len(set(causes)) != len(causes) or len(causes) < 2:
        raise ValueError(f"causes={causes!r}: give at least two distinct causes to compare.")
    return causes


def _design_terms(design) -> dict[str, list[str]]:
    """{formula term: design columns}; a list of columns is one term per column."""
    return {term: list(cols) for term, cols in design.terms.items()}


def _free(df: pd.DataFrame, base: str) -> str:
    name = base
    while name in df.columns:
        name = f"{name}_"
    return name
