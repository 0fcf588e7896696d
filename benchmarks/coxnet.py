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
``system.time``, so reading the CSV is not counted. Wall and CPU seconds are
both reported: on a shared machine (other processes holding the cores) wall time
mostly measures the wait, while CPU time (``time.process_time``; R's user + sys)
measures the work; all three packages run single-threaded here. The ``max|db|``
column checks that glmnet solves the same problem: the largest absolute
difference of its coefficients from survkit's at three lambdas of the path.

survkit is timed in its two forms: ``df``, the DataFrame form
(``fit(df, "time", "event", formula=cols)``: the reading of the frame's columns
included), and ``X,y``, the scikit-learn form on the same matrix and structured
outcome scikit-survival gets (glmnet gets the same matrix inside R). The two
forms and scikit-survival take turns, one fit each per round, so all three see
the same moments of the host; glmnet runs its repeats in R afterwards. The
ratios are the peer's CPU time over each form's: ``/X,y`` compares the same
inputs, ``/df`` adds reading the frame to survkit's side.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from _common import have_r, print_table, run_r

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


def peer_inputs(df, p):
    """The covariate matrix and the structured (event, time) outcome the peers get."""
    X = df[[f"x{j}" for j in range(p)]].to_numpy()
    y = np.zeros(len(df), dtype=[("event", bool), ("time", float)])
    y["event"], y["time"] = df["event"].to_numpy() == 1, df["time"].to_numpy()
    return X, y


def sksurv_fit(df, p):
    """scikit-survival's Coxnet on the peers' inputs, as a call (None if not installed)."""
    try:
        from sksurv.linear_model import CoxnetSurvivalAnalysis
        from sksurv.util import Surv
    except ImportError:
        return None
    X, y = peer_inputs(df, p)
    y = Surv.from_arrays(y["event"], y["time"])
    est = CoxnetSurvivalAnalysis(l1_ratio=1.0, alpha_min_ratio=RATIO, n_alphas=100, tol=1e-7)
    return lambda: est.fit(X, y)


def bench_python(df, p, repeats):
    """survkit's two forms and scikit-survival's Coxnet, one fit of each in turn per
    round, so all three see the same moments of the host (one package's turn
    falling in a slow moment skewed a ratio by up to 2x when each ran its
    repeats in a block): the DataFrame form (reads the columns out of ``df``),
    the scikit-learn form on the matrix and outcome the peers get, and
    scikit-survival on those."""
    cols = [f"x{j}" for j in range(p)]
    X, y = peer_inputs(df, p)
    frame_model = CoxNet(lambda_min_ratio=RATIO, tol=1e-7)
    array_model = CoxNet(lambda_min_ratio=RATIO, tol=1e-7)
    forms = {
        "frame": lambda: frame_model.fit(df, "time", "event", formula=cols),
        "arrays": lambda: array_model.fit(X, y),
    }
    peer = sksurv_fit(df, p)
    if peer is not None:
        forms["sksurv"] = peer
    for fit in forms.values():
        fit()  # warm-up
    times = {name: ([], []) for name in forms}
    for _ in range(repeats):
        for name, fit in forms.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fit()
            times[name][0].append(time.perf_counter() - w0)
            times[name][1].append(time.process_time() - c0)
    out = {name: (statistics.median(w), statistics.median(c)) for name, (w, c) in times.items()}
    return out, frame_model


def bench_glmnet(df, p, repeats, lambdas):
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as fh:
        path = fh.name
    df.to_csv(path, index=False)
    script = f"""
suppressMessages({{library(glmnet); library(survival)}})
d <- read.csv("{path}")
x <- as.matrix(d[, paste0("x", 0:{p - 1})]); y <- Surv(d$time, d$event)
ts <- replicate({repeats}, system.time(glmnet(x, y, family = "cox",
                                              lambda.min.ratio = {RATIO})))
cat("TIME", median(ts["elapsed", ]), median(ts["user.self", ] + ts["sys.self", ]), "\\n")
g <- glmnet(x, y, family = "cox", lambda = c({", ".join(repr(float(v)) for v in lambdas)}))
b <- as.matrix(coef(g))
cat("COEF", format(as.vector(b), digits = 17), "\\n")
"""
    try:
        out = run_r(script)
    finally:
        os.unlink(path)
    wall, cpu = (float(v) for v in out.split("TIME", 1)[1].split()[:2])
    coef = np.array(out.split("COEF", 1)[1].split(), dtype=float).reshape(-1, p, order="C")
    return wall, cpu, coef.reshape(len(lambdas), p)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", nargs="*", default=["10000x1000", "100000x100"])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    rows = []
    for shape in args.shapes:
        n, p = (int(v) for v in shape.split("x"))
        df = make_data(n, p)
        forms, m = bench_python(df, p, args.repeats)
        (w_df, c_df), (w_xy, c_xy) = forms["frame"], forms["arrays"]
        ours = m.coef_path_.to_numpy()
        row = {"n": n, "p": p, "lambdas": len(m.lambdas_)}
        row.update({"survkit df wall": w_df, "cpu": c_df, "survkit X,y wall": w_xy, "cpu ": c_xy})
        probe = [0, len(m.lambdas_) // 2, len(m.lambdas_) - 1]
        if have_r():
            w_r, c_r, coef = bench_glmnet(df, p, args.repeats, m.lambdas_[probe])
            row.update({"glmnet wall": w_r, "cpu  ": c_r})
            row.update({"glmnet/X,y": c_r / c_xy, "glmnet/df": c_r / c_df})
            row["max|db| glmnet"] = float(np.abs(coef - ours[probe]).max())
        sk = forms.get("sksurv")
        if sk is not None:
            row.update({"sksurv wall": sk[0], "cpu   ": sk[1]})
            row.update({"sksurv/X,y": sk[1] / c_xy, "sksurv/df": sk[1] / c_df})
        rows.append(row)
        print_table(rows, list(rows[0].keys()))
        print()


if __name__ == "__main__":
    main()
