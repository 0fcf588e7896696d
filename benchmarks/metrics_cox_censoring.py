"""Speed with a Cox censoring model: survkit vs riskRegression::Score(cens.model = "cox"), one run.

    python benchmarks/metrics_cox_censoring.py [--sizes 1000 4000] [--repeats 3] [--no-r]

Data: n subjects, two causes with exponential cause-specific hazards driven by
one covariate x, censoring exponential with a rate depending on a second
covariate z (so a Cox model for the censoring times is right), continuous
times (no ties: survkit and Score then agree, see docs); true absolute risks
of cause 1 at 3 horizons. Timed: AUC and Brier/IPA at 3 horizons with the full
influence-function standard errors (``conservative=False``, censoring model on
x and z). Score builds n x n influence matrices of the censoring model per
horizon (O(n^2) time and memory), survkit sums them in O(n log n): the sizes
are kept where R fits in memory. Medians of ``--repeats`` runs after a warm-up;
R is timed inside R. The largest relative difference of the standard errors
from Score's is printed too.
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

from survkit import metrics, outcome

TIMES = [0.5, 1.0, 2.0]


def make_data(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x, z = rng.standard_normal(n), rng.standard_normal(n)
    r1, r2 = 0.4 * np.exp(0.8 * x), 0.3 * np.exp(-0.4 * x)
    t1, t2 = rng.exponential(1 / r1), rng.exponential(1 / r2)
    c = rng.exponential(1 / (0.3 * np.exp(0.5 * z)))
    t = np.minimum(np.minimum(t1, t2), c)
    df = pd.DataFrame({"time": t, "x": x, "z": z})
    df["event"] = np.where(t == c, 0, np.where(t1 < t2, 1, 2))
    total = r1 + r2
    for j, h in enumerate(TIMES):
        df[f"cr{j}"] = r1 / total * (1 - np.exp(-total * h))
    return df


def r_times(df: pd.DataFrame, repeats: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as fh:
        path = fh.name
    df.to_csv(path, index=False, float_format="%.17g")
    times = ", ".join(str(t) for t in TIMES)
    script = f"""
suppressMessages({{library(riskRegression); library(survival); library(prodlim)}})
d <- read.csv("{path}")
cr <- as.matrix(d[, c("cr0", "cr1", "cr2")])
hp <- function(x) sprintf("%.17g", x)
run <- function(label, f) {{
  invisible(f())
  tt <- replicate({repeats}, system.time(res <<- f())[["elapsed"]])
  cat(label, median(tt), "\\n")
  res
}}
s <- run("score_cox", function() Score(list(m = cr), Hist(time, event) ~ x + z, data = d,
         times = c({times}), cause = 1, metrics = c("auc", "brier"), summary = "ipa",
         cens.model = "cox", conservative = FALSE, se.fit = TRUE))
cat("auc_se", hp(s$AUC$score$se), "\\n")
cat("brier_se", hp(s$Brier$score[model == "m"]$se), "\\n")
"""
    try:
        lines = run_r(script).strip().splitlines()
    finally:
        os.unlink(path)
    out = {}
    for line in lines:
        parts = line.split()
        if parts and parts[0] in ("score_cox", "auc_se", "brier_se"):
            out[parts[0]] = np.array([float(v) for v in parts[1:]])
    return out


def measure(n: int, repeats: int, with_r: bool) -> dict:
    df = make_data(n)
    y = outcome(df, "time", "event")
    risk = df[["cr0", "cr1", "cr2"]].to_numpy()
    covariates = df[["x", "z"]]

    def ours():
        kw = {"cause": 1, "censoring_covariates": covariates}
        return (
            metrics.time_dependent_auc(y, risk, TIMES, **kw),
            metrics.brier_score(y, risk, TIMES, **kw),
        )

    t_ours, (auc, brier) = median_time(ours, repeats)
    row = {"n": n, "survkit s": t_ours}
    if have_r() and with_r:
        r = r_times(df, repeats)
        row |= {
            "Score s": r["score_cox"][0],
            "Score/survkit": r["score_cox"][0] / t_ours,
            "max rel. SE diff": float(
                max(
                    np.abs(auc["se"].to_numpy() / r["auc_se"] - 1).max(),
                    np.abs(brier["se"].to_numpy() / r["brier_se"] - 1).max(),
                )
            ),
        }
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        rows.append(measure(n, args.repeats, not args.no_r))
        print(f"done n={n}", file=sys.stderr)
    print(
        f"\nAUC + Brier/IPA at {len(TIMES)} horizons, competing risks, Cox censoring model, "
        f"full standard errors (median of {args.repeats} runs)"
    )
    cols = ["n", "survkit s", "Score s", "Score/survkit", "max rel. SE diff"]
    print_table(rows, [c for c in cols if any(c in r for r in rows)])


if __name__ == "__main__":
    main()
