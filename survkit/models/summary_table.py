"""The coefficient table and text summary shared by CoxPH and FineGray."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["TestResult", "coefficient_table", "format_summary"]


@dataclass(frozen=True)
class TestResult:
    """A chi-square test: statistic, degrees of freedom and p-value."""

    statistic: float
    df: int
    p_value: float

    @classmethod
    def chi2(cls, statistic: float, df: int) -> TestResult:
        p = float(stats.chi2.sf(statistic, df)) if df > 0 else float("nan")
        return cls(float(statistic), int(df), p)


def coefficient_table(
    params: pd.Series, standard_errors: pd.Series, conf_level: float
) -> pd.DataFrame:
    """coef, exp(coef), se(coef), z, p and the confidence limits of exp(coef).

    The limits are exp(coef +/- z_{(1+level)/2} se), the hazard-ratio scale, as in
    R's ``summary.coxph`` (its ``lower .95`` / ``upper .95`` columns).
    """
    z_crit = stats.norm.ppf((1 + conf_level) / 2)
    se = standard_errors.to_numpy()
    coef = params.to_numpy()
    # a coefficient per unit of a tiny unit is large; its exp overflowing to inf
    # is the right answer, not a numerical accident
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = coef / se
    label = f"{conf_level:g}"
    with np.errstate(over="ignore"):
        hr, lower, upper = np.exp(coef), np.exp(coef - z_crit * se), np.exp(coef + z_crit * se)
    return pd.DataFrame(
        {
            "coef": coef,
            "exp(coef)": hr,
            "se(coef)": se,
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
            f"lower {label}": lower,
            f"upper {label}": upper,
        },
        index=pd.Index(params.index, name="covariate"),
    )


def format_summary(
    title: str,
    header: list[str],
    table: pd.DataFrame,
    footer: list[str],
) -> str:
    """A plain-text block like R's ``summary.coxph`` print-out."""

    def fmt(v: float) -> str:
        if not np.isfinite(v):
            return str(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.3e}"
        return f"{v:.4g}"

    shown = table.copy()
    if "p" in shown.columns:
        p = shown.pop("p")
        shown["p"] = [("<2e-16" if v < 2e-16 else f"{v:.3g}") for v in p]
    for col in shown.columns:
        if col != "p":
            shown[col] = [fmt(v) for v in shown[col]]
    lines = [title, *header, "", shown.to_string(), "", *footer]
    return "\n".join(lines)
