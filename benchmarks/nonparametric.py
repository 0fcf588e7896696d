"""Kaplan-Meier, log-rank and Cox predicted survival with SE: survkit vs lifelines and R.

    python benchmarks/nonparametric.py [--n 1000000] [--repeats 3]

Data: n rows, two groups with hazards 0.3 and 0.3 e^0.3, uniform censoring on
(0, 6); times rounded up to 0.01 (many ties, as registry data in days).
Timed: Kaplan-Meier by group with Greenwood SE and log limits (survkit
``kaplan_meier``; lifelines ``KaplanMeierFitter`` once per group; R
``survfit(Surv(time, event) ~ group)``), the log-rank test (survkit
``logrank_test``; lifelines ``statistics.logrank_test``; R ``survdiff``), and
predicted survival with standard errors for 1000 patients x 100 times from a
1e5-row, 4-covariate Efron fit (survkit ``predict_survival(conf_level=0.95)``;
R ``summary(survfit(fit, newdata), times)``; lifelines has no standard errors
for predicted curves). Medians of ``--repeats`` runs after one warm-up; R is
timed inside R (``system.time``), so its process start-up is not counted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from _common import have_r, median_time, print_table, run_r

from survkit import CoxPH, kaplan_meier, logrank_test


def make_data(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 2, n)
    t = rng.exponential(1 / (0.3 * np.exp(0.3 * g)))
    c = rng.uniform(0, 6, n)
    return pd.DataFrame(
        {
            "time": np.ceil(np.minimum(t, c) * 100) / 100,
            "event": (t <= c).astype(np.int64),
            "group": g,
        }
    )


def make_cox_data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    t = rng.exponential(1 / (0.2 * np.exp(X @ [0.5, -0.3, 0.2, 0.1])))
    c = rng.uniform(0, 8, n)
    df = pd.DataFrame(X, columns=["x0", "x1", "x2", "x3"])
    df["time"] = np.ceil(np.minimum(t, c) * 100) / 100
    df["event"] = (t <= c).astype(np.int64)
    return df


def lifelines_km(df: pd.DataFrame):
    from lifelines import KaplanMeierFitter

    out = []
    for _, part in df.groupby("group"):
        kmf = KaplanMeierFitter().fit(part["time"], part["event"])
        out.append(kmf.survival_function_.iloc[-1, 0])
    return out


def lifelines_logrank(df: pd.DataFrame) -> float:
    from lifelines.statistics import logrank_test as ll_logrank

    a, b = df[df["group"] == 0], df[df["group"] == 1]
    return ll_logrank(a["time"], b["time"], a["event"], b["event"]).test_statistic


def r_times(df: pd.DataFrame, cox_df: pd.DataFrame, newdata, times, repeats: int) -> dict:
    paths = []
    for frame in (df, cox_df, newdata):
        with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as fh:
            paths.append(fh.name)
        frame.to_csv(paths[-1], index=False)
    grid = ", ".join(repr(float(t)) for t in times)
    script = f"""
suppressMessages(library(survival))
d <- read.csv("{paths[0]}"); cd <- read.csv("{paths[1]}"); nd <- read.csv("{paths[2]}")
tm <- function(f) {{ invisible(f()); median(replicate({repeats}, system.time(f())[["elapsed"]])) }}
km <- function() survfit(Surv(time, event) ~ group, data = d)
lr <- function() survdiff(Surv(time, event) ~ group, data = d)
fit <- coxph(Surv(time, event) ~ x0 + x1 + x2 + x3, data = cd)
pr <- function() summary(survfit(fit, newdata = nd), times = c({grid}))
cat("km", tm(km), "\\n")
cat("logrank", tm(lr), survdiff(Surv(time, event) ~ group, data = d)$chisq, "\\n")
cat("predict", tm(pr), "\\n")
"""
    try:
        out = run_r(script)
    finally:
        for p in paths:
            os.unlink(p)
    res = {}
    for line in out.splitlines():
        parts = line.split()
        if parts:
            res[parts[0]] = [float(v) for v in parts[1:]]
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    df = make_data(args.n)
    cox_df = make_cox_data(100_000)
    newdata = make_cox_data(1000, seed=2)[["x0", "x1", "x2", "x3"]]
    times = np.linspace(0.1, 7.9, 100)
    cox = CoxPH().fit(cox_df, "time", "event", formula=["x0", "x1", "x2", "x3"])

    ours = {
        "km": median_time(
            lambda: kaplan_meier(df, "time", "event", group_col="group"), args.repeats
        ),
        "logrank": median_time(lambda: logrank_test(df, "time", "event", "group"), args.repeats),
        "predict": median_time(
            lambda: cox.predict_survival(newdata, times, conf_level=0.95), args.repeats
        ),
    }

    def first_predict():
        # the first prediction with SE after a fit also builds the fit's
        # risk-set sums (kept afterwards); time that call too
        cox._survival_basis = None
        return cox.predict_survival(newdata, times, conf_level=0.95)

    ours["predict_first"] = median_time(first_predict, args.repeats)
    peers = {
        "km": ("lifelines", median_time(lambda: lifelines_km(df), args.repeats)),
        "logrank": ("lifelines", median_time(lambda: lifelines_logrank(df), args.repeats)),
    }
    stat_ll = peers["logrank"][1][1]
    stat_ours = ours["logrank"][1].statistic
    r = r_times(df, cox_df, newdata, times, args.repeats) if have_r() else {}

    rows = []
    labels = {
        "km": f"Kaplan-Meier by group, n={args.n:.0e}",
        "logrank": f"log-rank test, n={args.n:.0e}",
        "predict": "Cox S(t|x) with SE, 1000 x 100 from n=1e5",
        "predict_first": "  the same, first call after the fit",
    }
    for key in ("km", "logrank", "predict", "predict_first"):
        t_ours = ours[key][0]
        row = {"task": labels[key], "survkit s": t_ours}
        if key in peers:
            t_ll = peers[key][1][0]
            row["lifelines s"] = t_ll
            row["lifelines/survkit"] = t_ll / t_ours
        if key in r:
            row["R s"] = r[key][0]
            row["R/survkit"] = r[key][0] / t_ours
        rows.append(row)
    print_table(rows, ["task", "survkit s", "lifelines s", "lifelines/survkit", "R s", "R/survkit"])
    print(
        f"\nlog-rank chi-square: survkit {stat_ours:.6f}, lifelines {stat_ll:.6f}"
        + (f", R {r['logrank'][1]:.6f}" if "logrank" in r else "")
    )


if __name__ == "__main__":
    main()
