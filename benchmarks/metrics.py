"""Prediction-metric speed: survkit.metrics vs riskRegression::Score and scikit-survival, one run.

    python benchmarks/metrics.py [--sizes 10000 100000] [--repeats 3] [--no-r]

Data: n subjects, two causes with exponential cause-specific hazards driven by
one covariate, uniform censoring, times rounded to 0.01 (ties); predicted
risks at 3 horizons from the true model. Timed tasks (medians of
``--repeats`` runs after a warm-up; R is timed inside R):

* competing risks, AUC and Brier (with IPA and influence-function standard
  errors) at 3 horizons: survkit vs ``Score(..., cause = 1, cens.model = "km")``;
* single event, the same: survkit vs Score vs scikit-survival
  (``cumulative_dynamic_auc`` + ``brier_score``, no standard errors);
* Harrell's C with its standard error: survkit vs R ``concordance`` vs
  scikit-survival's ``concordance_index_censored`` (no standard error; O(n^2),
  so only for n <= 2e4).

The largest absolute difference from Score's AUC and Brier is printed too.
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
    x = rng.standard_normal(n)
    r1, r2 = 0.4 * np.exp(0.8 * x), 0.3 * np.exp(-0.4 * x)
    t1, t2 = rng.exponential(1 / r1), rng.exponential(1 / r2)
    c = rng.uniform(0, 4, n)
    t = np.minimum(np.minimum(t1, t2), c)
    df = pd.DataFrame({"time": np.ceil(t * 100) / 100})
    df["event"] = np.where(t == c, 0, np.where(t1 < t2, 1, 2))
    df["status"] = (df["event"] != 0).astype(int)
    total = r1 + r2
    for j, h in enumerate(TIMES):  # true absolute risk of cause 1, and of any event
        df[f"cr{j}"] = r1 / total * (1 - np.exp(-total * h))
        df[f"ev{j}"] = 1 - np.exp(-total * h)
    df["lp"] = np.log(total)
    return df


def r_times(df: pd.DataFrame, repeats: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as fh:
        path = fh.name
    df.to_csv(path, index=False)
    times = ", ".join(str(t) for t in TIMES)
    script = f"""
suppressMessages({{library(riskRegression); library(survival); library(prodlim)}})
d <- read.csv("{path}")  # exact parsing: fread can be 1 ulp off, which splits tied times
cr <- as.matrix(d[, c("cr0", "cr1", "cr2")]); ev <- as.matrix(d[, c("ev0", "ev1", "ev2")])
hp <- function(x) sprintf("%.17g", x)  # cat() alone prints 7 digits
run <- function(label, f) {{
  invisible(f())
  tt <- replicate({repeats}, system.time(res <<- f())[["elapsed"]])
  cat(label, median(tt), "\\n")
  res
}}
s <- run("score_cr", function() Score(list(m = cr), Hist(time, event) ~ 1, data = d,
         times = c({times}), cause = 1, metrics = c("auc", "brier"), summary = "ipa",
         cens.model = "km", se.fit = TRUE))
cat("auc_cr", hp(s$AUC$score$AUC), "\\n")
cat("brier_cr", hp(s$Brier$score[model == "m"]$Brier), "\\n")
s <- run("score_surv", function() Score(list(m = ev), Hist(time, status) ~ 1, data = d,
         times = c({times}), metrics = c("auc", "brier"), summary = "ipa",
         cens.model = "km", se.fit = TRUE))
cat("auc_surv", hp(s$AUC$score$AUC), "\\n")
cat("brier_surv", hp(s$Brier$score[model == "m"]$Brier), "\\n")
k <- run("concordance", function() concordance(Surv(time, status) ~ lp, data = d, reverse = TRUE))
cat("harrell", hp(k$concordance), "\\n")
"""
    try:
        lines = run_r(script).strip().splitlines()
    finally:
        os.unlink(path)
    out = {}
    for line in lines:
        parts = line.split()
        if parts and parts[0] in (
            "score_cr",
            "score_surv",
            "concordance",
            "auc_cr",
            "brier_cr",
            "auc_surv",
            "brier_surv",
            "harrell",
        ):
            out[parts[0]] = np.array([float(v) for v in parts[1:]])
    return out


def measure(n: int, repeats: int, with_r: bool) -> dict:
    """One row of the table: every timing (and agreement with Score) at size n."""
    from sksurv.metrics import brier_score as sk_brier
    from sksurv.metrics import concordance_index_censored, cumulative_dynamic_auc

    df = make_data(n)
    y_cr, y_ev = outcome(df, "time", "event"), outcome(df, "time", "status")
    cr = df[["cr0", "cr1", "cr2"]].to_numpy()
    ev = df[["ev0", "ev1", "ev2"]].to_numpy()

    def ours(y, risk, cause):
        return (
            metrics.time_dependent_auc(y, risk, TIMES, cause=cause),
            metrics.brier_score(y, risk, TIMES, cause=cause),
        )

    t_cr, (auc_cr, brier_cr) = median_time(lambda: ours(y_cr, cr, 1), repeats)
    t_ev, (auc_ev, brier_ev) = median_time(lambda: ours(y_ev, ev, None), repeats)
    t_sk, _ = median_time(
        lambda: (
            cumulative_dynamic_auc(y_ev, y_ev, ev, TIMES),
            sk_brier(y_ev, y_ev, 1 - ev, TIMES),
        ),
        repeats,
    )
    t_c, harrell = median_time(lambda: metrics.concordance_index(y_ev, df["lp"]), repeats)
    row = {}
    if n <= 20_000:  # scikit-survival's concordance_index_censored is O(n^2)
        t_skc, _ = median_time(
            lambda: concordance_index_censored(y_ev["event"], y_ev["time"], df["lp"].to_numpy()),
            repeats,
        )
        row = {"C sksurv s": t_skc, "sksurv/survkit C": t_skc / t_c}
    row |= {
        "n": n,
        "CR survkit s": t_cr,
        "single survkit s": t_ev,
        "sksurv s": t_sk,
        "sksurv/survkit": t_sk / t_ev,
        "C survkit s": t_c,
    }
    if have_r() and with_r:
        r = r_times(df, 1 if n > 20_000 else repeats)
        row.update(
            {
                "CR Score s": r["score_cr"][0],
                "Score/survkit CR": r["score_cr"][0] / t_cr,
                "single Score s": r["score_surv"][0],
                "Score/survkit single": r["score_surv"][0] / t_ev,
                "C R s": r["concordance"][0],
                "R/survkit C": r["concordance"][0] / t_c,
                "max|diff| vs Score": float(
                    max(
                        np.abs(auc_cr["auc"].to_numpy() - r["auc_cr"]).max(),
                        np.abs(brier_cr["brier"].to_numpy() - r["brier_cr"]).max(),
                        np.abs(auc_ev["auc"].to_numpy() - r["auc_surv"]).max(),
                        np.abs(brier_ev["brier"].to_numpy() - r["brier_surv"]).max(),
                        abs(harrell.concordance - r["harrell"][0]),
                    )
                ),
            }
        )
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args()

    rows = []
    for n in args.sizes:
        rows.append(measure(n, args.repeats, not args.no_r))
        print(f"done n={n}", file=sys.stderr)
    print(
        f"\nAUC + Brier/IPA with SEs at {len(TIMES)} horizons; Harrell's C with SE "
        f"(median of {args.repeats} runs; R at n > 2e4: one run)"
    )
    cols = [
        "n",
        "CR survkit s",
        "CR Score s",
        "Score/survkit CR",
        "single survkit s",
        "single Score s",
        "Score/survkit single",
        "sksurv s",
        "sksurv/survkit",
    ]
    print_table(rows, [c for c in cols if any(c in r for r in rows)])
    cols = [
        "n",
        "C survkit s",
        "C R s",
        "R/survkit C",
        "C sksurv s",
        "sksurv/survkit C",
        "max|diff| vs Score",
    ]
    print()
    print_table(rows, [c for c in cols if any(c in r for r in rows)])
    if len(rows) >= 2:
        a, b = rows[-2], rows[-1]
        print(
            f"survkit time({b['n']:.0e}) / time({a['n']:.0e}): competing risks "
            f"{b['CR survkit s'] / a['CR survkit s']:.1f}, Harrell's C "
            f"{b['C survkit s'] / a['C survkit s']:.1f} (n ratio {b['n'] / a['n']:.0f})"
        )


if __name__ == "__main__":
    main()
