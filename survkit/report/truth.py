"""On a synthetic cohort: every estimate beside its true value, and whether the CI covers it.

The estimators never saw the truth; this section is where it is consulted.
Constant effects are compared with the cause-specific Cox estimates of the
per-organ fits; piecewise (time-varying) effects with a fit split at the true
change points; incidences with the Aalen-Johansen estimates. Fine-Gray
coefficients have no true value here: with cause-specific effects the
subdistribution hazards are not proportional, so the report says so instead
of inventing one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..nonparametric.aalen_johansen import aalen_johansen
from ..organs.time_varying import time_varying_effect
from .content import Section, Table


def _constant_effects(spec, fits) -> pd.DataFrame:
    truth = spec.cohort.truth
    constant = truth[(truth["start"] == 0) & np.isinf(truth["end"])]
    est = fits.table[fits.table["model"] == "cause_specific"]
    merged = est.merge(
        constant.rename(columns={"log_hr": "true_log_hr"}),
        on=["site", "covariate"],
        how="inner",
    )
    merged["log_lower"] = np.log(merged["lower"])
    merged["log_upper"] = np.log(merged["upper"])
    merged["covered"] = (merged["log_lower"] <= merged["true_log_hr"]) & (
        merged["true_log_hr"] <= merged["log_upper"]
    )
    merged["z"] = (merged["coef"] - merged["true_log_hr"]) / merged["se"]
    merged["site"] = merged["site"].astype(str)
    merged["contrast"] = [_contrast(spec, c) for c in merged["covariate"]]
    return merged.set_index(["site", "covariate"])[
        ["contrast", "true_log_hr", "coef", "se", "log_lower", "log_upper", "z", "covered"]
    ]


def _contrast(spec, column: str) -> str:
    """The contrast a model column's coefficient compares (names its reference level)."""
    cov = spec.design.of_column(column)
    return cov.contrast if cov is not None else column


def _piecewise_effects(spec) -> pd.DataFrame:
    truth = spec.cohort.truth
    pieces = truth.groupby(["site", "covariate"]).filter(lambda g: len(g) > 1)
    rows = []
    for (site, cov), group in pieces.groupby(["site", "covariate"], sort=False):
        if site not in spec.organs:
            continue
        cuts = sorted(group["start"][group["start"] > 0])
        others = [c for c in spec.columns if c != cov]
        eff = time_varying_effect(
            spec.data,
            cov,
            cuts,
            spec.duration_col,
            spec.event_col,
            formula=others,
            cause=site,
            censor_value=spec.censor_value,
        )
        per = eff.periods.reset_index(drop=True)
        for k, piece in enumerate(group.sort_values("start").itertuples()):
            p = per.iloc[k]
            lo, hi = np.log(p["lower"]), np.log(p["upper"])
            rows.append(
                {
                    "site": str(site),
                    "covariate": cov,
                    "start": piece.start,
                    "end": piece.end,
                    "true_log_hr": piece.log_hr,
                    "coef": p["coef"],
                    "se": p["se"],
                    "log_lower": lo,
                    "log_upper": hi,
                    "z": (p["coef"] - piece.log_hr) / p["se"],
                    "covered": bool(lo <= piece.log_hr <= hi),
                }
            )
    return pd.DataFrame(rows).set_index(["site", "covariate", "start"]) if rows else pd.DataFrame()


def _incidence(spec) -> pd.DataFrame:
    times = list(spec.horizons)
    est = aalen_johansen(
        spec.df, spec.duration_col, spec.event_col, censor_value=spec.censor_value, times=times
    )
    true = spec.cohort.true_cif(times)
    rows = []
    for r in est.itertuples():
        if r.cause not in true.columns:
            continue
        value = float(true.loc[r.time, r.cause])
        se = float(np.sqrt(r.variance))
        rows.append(
            {
                "event": str(r.cause),
                "time": r.time,
                "true_cif": value,
                "cif": r.cif,
                "se": se,
                "lower": r.lower,
                "upper": r.upper,
                "z": (r.cif - value) / se if se > 0 else np.nan,
                "covered": bool(r.lower <= value <= r.upper),
            }
        )
    return pd.DataFrame(rows).set_index(["event", "time"])


def truth_sections(spec, fits) -> list[Section]:
    constant = _constant_effects(spec, fits)
    piecewise = _piecewise_effects(spec)
    incidence = _incidence(spec)
    n_cov, n_all = int(constant["covered"].sum()), len(constant)
    paras = [
        f"The cohort is synthetic, so the true log hazard ratios and incidences are known. "
        f"{n_cov} of {n_all} constant cause-specific log hazard ratios "
        f"({100 * n_cov / max(n_all, 1):.0f}%) lie inside their 95% confidence intervals "
        "(about 95% expected if the estimators are right).",
        "Fine-Gray coefficients are not compared: when organs' effects act on cause-specific "
        "hazards, the subdistribution hazards are not proportional and have no single true "
        "coefficient.",
    ]
    tables = [
        Table(
            "truth_cause_specific",
            constant,
            "Constant effects: true log-HR, estimate and 95% CI (cause-specific Cox)",
        )
    ]
    if len(piecewise):
        n_p = int(piecewise["covered"].sum())
        paras.append(
            f"Effects that change over time, fitted with the periods split at the true change "
            f"points: {n_p} of {len(piecewise)} period log hazard ratios inside their 95% CIs."
        )
        tables.append(
            Table(
                "truth_time_varying",
                piecewise,
                "Time-varying effects: true and estimated log-HR per period",
            )
        )
    n_i = int(incidence["covered"].sum())
    paras.append(
        f"Cumulative incidence: {n_i} of {len(incidence)} Aalen-Johansen estimates at the chosen "
        "times cover the true incidence (computed from the generator's hazards)."
    )
    tables.append(Table("truth_incidence", incidence, "True and estimated cumulative incidence"))
    # one family-wise check over everything compared: is any true value
    # significantly away from its estimate after Bonferroni correction?
    z_all = np.concatenate(
        [frame["z"].to_numpy(float) for frame in (constant, piecewise, incidence) if len(frame)]
    )
    z_all = z_all[np.isfinite(z_all)]
    z_crit = float(stats.norm.ppf(1 - 0.025 / max(len(z_all), 1)))
    consistent = bool(np.all(np.abs(z_all) < z_crit))
    paras.append(
        f"Family-wise check over all {len(z_all)} comparisons (Bonferroni, 5% level, "
        f"|z| < {z_crit:.2f}): the largest |estimate - truth| / SE is "
        f"{np.max(np.abs(z_all)):.2f}, so the estimates are "
        + ("consistent with the truth." if consistent else "NOT consistent with the truth.")
    )
    spec.checks["truth_consistent"] = consistent
    spec.checks["truth_max_abs_z"] = float(np.max(np.abs(z_all)))
    spec.checks["truth_z_critical"] = z_crit
    spec.checks["truth_constant_coverage"] = n_cov / max(n_all, 1)
    spec.checks["truth_piecewise"] = (
        piecewise.reset_index().to_dict("records") if len(piecewise) else []
    )
    spec.checks["truth_incidence_coverage"] = n_i / max(len(incidence), 1)
    return [Section("Estimates against the truth", paras, tables=tables)]
