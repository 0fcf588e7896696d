"""Performance measures and their Monte Carlo SEs (Morris, White & Crowther 2019, Table 6;
the formulas of R's rsimsum).

With n successful replicates, estimates θ̂_i, model SEs s_i, truth θ,
θ̄ = mean θ̂_i and z = Φ⁻¹(1 - (1 - level)/2):

=============  ======================================  ==========================================
measure        estimate                                Monte Carlo SE
=============  ======================================  ==========================================
bias           θ̄ - θ                                   sqrt(Σ(θ̂_i - θ̄)² / (n(n-1)))
empse          sqrt(Σ(θ̂_i - θ̄)² / (n-1))               empse / sqrt(2(n-1))
mse            Σ(θ̂_i - θ)² / n                         sqrt(Σ((θ̂_i - θ)² - mse)² / (n(n-1)))
modelse        sqrt(Σ s_i² / n)                        sqrt(var(s²) / (4 n modelse²))
relerror       100 (modelse / empse - 1)               100 (modelse/empse)
                                                       · sqrt(var(s²)/(4 n modelse⁴) + 1/(2(n-1)))
cover          mean 1{θ̂_i - z s_i <= θ <= θ̂_i + z s_i}  sqrt(cover (1 - cover) / n)
becover        the same with θ̄ in place of θ            sqrt(becover (1 - becover) / n)
rejection      mean 1{|θ̂_i| >= z s_i} (test of 0)       sqrt(rejection (1 - rejection) / n)
=============  ======================================  ==========================================

var(s²) is the sample variance (n - 1 denominator) of the s_i². Rejection is
power when θ ≠ 0 and the type I error when θ = 0. Failed replicates are left
out of every measure and counted beside them (``n_failed``); a method without
standard errors gets NaN for the SE-based measures, as rsimsum without ``se``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

MEASURES = ("bias", "empse", "mse", "modelse", "relerror", "cover", "becover", "rejection")
PERFORMANCE_COLUMNS = [
    "dgm",
    "method",
    "estimand",
    "kind",
    "site",
    "covariate",
    "start",
    "end",
    "time",
    "true_value",
    "true_value_mcse",
    "misspecified",
    "n_reps",
    "n_failed",
    "n_ok",
    "mean_estimate",
    *[c for m in MEASURES for c in (m, f"{m}_mcse")],
]


def performance_measures(estimates, se, true: float, level: float = 0.95) -> dict:
    """Every measure and its MCSE (keys ``<measure>`` and ``<measure>_mcse``) from
    the successful replicates' estimates and model SEs."""
    theta = np.asarray(estimates, dtype=float)
    s = np.asarray(se, dtype=float)
    out = {"n_ok": theta.size, "mean_estimate": np.nan}
    n = np.float64(theta.size)  # numpy division: n = 1 gives NaN, not an exception
    out.update({m: np.nan for m in MEASURES})
    out.update({f"{m}_mcse": np.nan for m in MEASURES})
    if n == 0:
        return out
    z = stats.norm.ppf(1 - (1 - level) / 2)
    mean = theta.mean()
    out["mean_estimate"] = mean
    with np.errstate(divide="ignore", invalid="ignore"):
        centred = np.sum((theta - mean) ** 2)
        empse = np.sqrt(centred / (n - 1)) if n > 1 else np.nan
        out["empse"] = empse
        out["empse_mcse"] = empse / np.sqrt(2 * (n - 1)) if n > 1 else np.nan
        if np.isfinite(true):
            out["bias"] = mean - true
            out["bias_mcse"] = np.sqrt(centred / (n * (n - 1))) if n > 1 else np.nan
            squared = (theta - true) ** 2
            mse = squared.mean()
            out["mse"] = mse
            out["mse_mcse"] = (
                np.sqrt(np.sum((squared - mse) ** 2) / (n * (n - 1))) if n > 1 else np.nan
            )
        if np.all(np.isfinite(s)):
            s2 = s**2
            modelse = np.sqrt(s2.mean())
            var_s2 = s2.var(ddof=1) if n > 1 else np.nan
            out["modelse"] = modelse
            out["modelse_mcse"] = np.sqrt(var_s2 / (4 * n * modelse**2))
            out["relerror"] = 100 * (modelse / empse - 1)
            out["relerror_mcse"] = (
                100 * (modelse / empse) * np.sqrt(var_s2 / (4 * n * modelse**4) + 1 / (2 * (n - 1)))
                if n > 1
                else np.nan
            )
            lower, upper = theta - z * s, theta + z * s
            if np.isfinite(true):
                out["cover"] = np.mean((lower <= true) & (true <= upper))
            out["becover"] = np.mean((lower <= mean) & (mean <= upper))
            out["rejection"] = np.mean(np.abs(theta) >= z * s)
            for m in ("cover", "becover", "rejection"):
                p = out[m]
                out[f"{m}_mcse"] = np.sqrt(p * (1 - p) / n)
    return out


def performance(estimates: pd.DataFrame, estimands: pd.DataFrame, level: float = 0.95):
    """One row per mechanism, method and estimand: the measures with MCSEs, the
    truth, and how many replicates were attempted, succeeded and failed."""
    truth = estimands.set_index(["dgm", "estimand"])
    rows = []
    keys = ["dgm", "method", "estimand"]
    for (dgm, method, estimand), group in estimates.groupby(keys, sort=True):
        facts = truth.loc[(dgm, estimand)]
        ok = group[group["status"] == "ok"]
        row = {
            "dgm": dgm,
            "method": method,
            "estimand": estimand,
            "kind": facts["kind"],
            "site": facts["site"],
            "covariate": facts["covariate"],
            "start": facts["start"],
            "end": facts["end"],
            "time": facts["time"],
            "true_value": facts["true_value"],
            "true_value_mcse": facts["true_value_mcse"],
            "misspecified": bool(group["misspecified"].iloc[0]),
            "n_reps": len(group),
            "n_failed": int((group["status"] != "ok").sum()),
        }
        row.update(
            performance_measures(ok["estimate"], ok["se"], float(facts["true_value"]), level)
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=PERFORMANCE_COLUMNS)


def failure_summary(estimates: pd.DataFrame) -> pd.DataFrame:
    """Failed fits by mechanism, method and reason: replicates affected and rows lost."""
    failed = estimates[estimates["status"] != "ok"]
    columns = ["dgm", "method", "reason", "replicates", "estimates"]
    if failed.empty:
        return pd.DataFrame(columns=columns)
    grouped = failed.groupby(["dgm", "method", "reason"], sort=True)
    table = grouped.agg(replicates=("rep", "nunique"), estimates=("estimand", "size"))
    return table.reset_index()[columns]


def nominal_coverage_interval(reps: int, level: float = 0.95, z: float = 1.96):
    """level ± z sqrt(level (1 - level) / reps): where an unbiased method's coverage
    falls with probability about Φ(z) - Φ(-z) in a study of ``reps`` replicates."""
    half = z * np.sqrt(level * (1 - level) / reps)
    return level - half, level + half
