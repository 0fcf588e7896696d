"""Cox fit speed: survkit vs lifelines, statsmodels and R's coxph, in one run.

    python benchmarks/cox.py [--sizes 10000 100000 1000000] [--repeats 3]

Data: n rows x 10 standard-normal covariates, exponential event times rounded
to 0.01 (about 900 distinct times, so heavy ties), ~60 % events, Efron ties for
every package. Each time is the median of ``--repeats`` runs after a warm-up
run (numba compilation and imports are not timed). R is timed inside R
(``system.time``), so reading the CSV is not counted. Peak memory of survkit's
fit is measured with tracemalloc (NumPy allocations) and compared with the
size of the design matrix.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import tracemalloc

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from _common import have_r, median_time, print_table, run_r

from survkit import CoxPH

P = 10
COLS = [f"x{j}" for j in range(P)]


def make_data(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, P))
    beta = np.linspace(-0.5, 0.5, P)
    t = rng.exponential(np.exp(-X @ beta))
    c = rng.exponential(1.5, n)
    df = pd.DataFrame(X, columns=COLS)
    df["time"] = np.ceil(np.minimum(t, c) * 100) / 100
    df["event"] = (t <= c).astype(int)
    return df


def bench_r(df: pd.DataFrame, repeats: int) -> tuple[float, np.ndarray] | None:
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as fh:
        path = fh.name
    df.to_csv(path, index=False)
    rhs = " + ".join(COLS)
    script = f"""
suppressMessages(library(survival))
d <- data.table::fread("{path}", data.table = FALSE)
f <- function() coxph(Surv(time, event) ~ {rhs}, data = d, ties = "efron")
invisible(f())
tt <- replicate({repeats}, system.time(fit <<- f())[["elapsed"]])
cat(median(tt), "\\n")
cat(coef(fit), "\\n")
"""
    try:
        out = run_r(script).strip().splitlines()
    finally:
        os.unlink(path)
    return float(out[0]), np.array([float(v) for v in out[1].split()])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--no-statsmodels", action="store_true")
    args = ap.parse_args()

    from lifelines import CoxPHFitter
    from statsmodels.duration.hazard_regression import PHReg

    rows = []
    for n in args.sizes:
        df = make_data(n)
        t_sk, m = median_time(
            lambda df=df: CoxPH().fit(df, "time", "event", formula=COLS), args.repeats
        )
        tracemalloc.start()
        CoxPH().fit(df, "time", "event", formula=COLS)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        design_bytes = n * P * 8

        t_ll, lf = median_time(
            lambda df=df: CoxPHFitter().fit(df[[*COLS, "time", "event"]], "time", "event"),
            args.repeats,
        )
        row = {
            "n": n,
            "survkit s": t_sk,
            "lifelines s": t_ll,
            "lifelines/survkit": t_ll / t_sk,
            "max|b - b_lifelines|": float(np.max(np.abs(m.params_[COLS] - lf.params_[COLS]))),
            "peak mem / X": peak / design_bytes,
        }
        if not args.no_statsmodels:
            t_sm, _sm = median_time(
                lambda df=df: PHReg(
                    df["time"].to_numpy(),
                    df[COLS].to_numpy(),
                    df["event"].to_numpy(),
                    ties="efron",
                ).fit(),
                args.repeats,
            )
            row["statsmodels s"] = t_sm
            row["statsmodels/survkit"] = t_sm / t_sk
        if have_r() and not args.no_r:
            t_r, coef_r = bench_r(df, args.repeats)
            row["R coxph s"] = t_r
            row["R/survkit"] = t_r / t_sk
            row["max|b - b_R|"] = float(np.max(np.abs(m.params_[COLS].to_numpy() - coef_r)))
        rows.append(row)
        print(f"done n={n}", file=sys.stderr)

    cols = [
        "n",
        "survkit s",
        "lifelines s",
        "lifelines/survkit",
        "statsmodels s",
        "statsmodels/survkit",
        "R coxph s",
        "R/survkit",
        "max|b - b_lifelines|",
        "max|b - b_R|",
        "peak mem / X",
    ]
    print(f"\nCox fit, 10 covariates, Efron ties, median of {args.repeats} runs")
    print_table(rows, [c for c in cols if any(c in r for r in rows)])


if __name__ == "__main__":
    main()
