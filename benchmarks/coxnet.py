"""Lasso Cox path speed: survkit's CoxNet vs R's glmnet and scikit-survival, in one run.

    python benchmarks/coxnet.py [--shapes 10000x1000 100000x100] [--repeats 3]

Data: n rows x p standard-normal covariates, 10 of them with effects, exponential
event times rounded up to 0.01 (heavy ties; Breslow ties in all three), ~60 %
events. Each package fits its default lasso path: 100 lambdas from lambda_max
down to lambda_min_ratio = 0.01 (p > n / 10 often makes the last lambdas slow, so
the ratio is fixed at 0.01 for all three), convergence threshold 1e-7 (glmnet's
``thresh`` default; CoxNet's ``tol`` has the same meaning; scikit-survival's
``tol`` default is also 1e-7). Times are medians of ``--repeats`` runs after a
warm-up (numba compilation not timed); glmnet is timed inside R with
``system.time``, so reading the CSV is not counted. The last column checks that
the three solve the same problem: the largest absolute difference of the
coefficients from survkit's at the lambdas they share.
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

from survkit import CoxNet

RATIO = 0.01


def make_data(n: int, p: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[:10] = np.linspace(-0.5, 0.5, 10)
    t = rng.exponential(np.exp(-X @ beta))
    c = rng.exponential(1.5, n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["time"] = np.ceil(np.minimum(t, c) * 100) / 100
    df["event"] = (t <= c).astype(int)
    return df


def bench_survkit(df, p, repeats):
    cols = [f"x{j}" for j in range(p)]
    model = CoxNet(lambda_min_ratio=RATIO, tol=1e-7)
    t, m = median_time(lambda: model.fit(df, "time", "event", formula=cols), repeats)
    return t, m


def bench_glmnet(df, p, repeats, lambdas):
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as fh:
        path = fh.name
    df.to_csv(path, index=False)
    script = f"""
suppressMessages({{library(glmnet); library(survival)}})
d <- read.csv("{path}")
x <- as.matrix(d[, paste0("x", 0:{p - 1})]); y <- Surv(d$time, d$event)
ts <- replicate({repeats}, system.time(glmnet(x, y, family = "cox",
                                              lambda.min.ratio = {RATIO}))[["elapsed"]])
cat("TIME", median(ts), "\\n")
g <- glmnet(x, y, family = "cox", lambda = c({", ".join(repr(float(v)) for v in lambdas)}))
b <- as.matrix(coef(g))
cat("COEF", format(as.vector(b), digits = 17), "\\n")
"""
    try:
        out = run_r(script)
    finally:
        os.unlink(path)
    time = float(out.split("TIME", 1)[1].split()[0])
    coef = np.array(out.split("COEF", 1)[1].split(), dtype=float).reshape(-1, p, order="C")
    return time, coef.reshape(len(lambdas), p) if coef.size else None


def bench_sksurv(df, p, repeats):
    try:
        from sksurv.linear_model import CoxnetSurvivalAnalysis
        from sksurv.util import Surv
    except ImportError:
        return None, None
    X = df[[f"x{j}" for j in range(p)]].to_numpy()
    y = Surv.from_arrays(df["event"].astype(bool), df["time"])
    est = CoxnetSurvivalAnalysis(l1_ratio=1.0, alpha_min_ratio=RATIO, n_alphas=100, tol=1e-7)
    t, m = median_time(lambda: est.fit(X, y), repeats)
    return t, m


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", nargs="*", default=["10000x1000", "100000x100"])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    rows = []
    for shape in args.shapes:
        n, p = (int(v) for v in shape.split("x"))
        df = make_data(n, p)
        t_sk, m = bench_survkit(df, p, args.repeats)
        ours = m.coef_path_.to_numpy()
        row = {"n": n, "p": p, "lambdas": len(m.lambdas_), "survkit s": t_sk}
        probe = [0, len(m.lambdas_) // 2, len(m.lambdas_) - 1]
        if have_r():
            t_r, coef = bench_glmnet(df, p, args.repeats, m.lambdas_[probe])
            row["glmnet s"] = t_r
            row["glmnet/survkit"] = t_r / t_sk
            row["max|db| glmnet"] = float(np.abs(coef - ours[probe]).max())
        t_ss, _ = bench_sksurv(df, p, max(1, args.repeats))
        if t_ss is not None:
            row["sksurv s"] = t_ss
            row["sksurv/survkit"] = t_ss / t_sk
        rows.append(row)
        print_table(rows, list(rows[0].keys()))
        print()


if __name__ == "__main__":
    main()
