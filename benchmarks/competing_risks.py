"""Competing-risks speed: survkit vs comprisk, lifelines and R (crr, cuminc), one run.

    python benchmarks/competing_risks.py [--sizes 10000 100000 1000000] [--repeats 3]

Data: n rows, 4 standard-normal covariates, two causes with proportional
cause-specific hazards plus uniform censoring; times rounded to 0.01 (many
ties). Fine-Gray: survkit (full Fine-Gray sandwich, as crr) vs comprisk
(``robust_se=True``, its sandwich) and crr for n <= 2e4. Aalen-Johansen with
variance at the largest n: survkit vs comprisk vs cuminc (R); lifelines at
1e5 only (it jitters ties and is slow). Medians of ``--repeats`` runs after a
warm-up; R is timed inside R.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from _common import have_r, median_time, parse_r_timings, print_table, run_r

from survkit import FineGray, aalen_johansen

COLS = ["x0", "x1", "x2", "x3"]


def make_data(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    t1 = rng.exponential(1 / (0.3 * np.exp(X @ [0.5, -0.3, 0.2, 0.0])))
    t2 = rng.exponential(1 / (0.2 * np.exp(X @ [0.0, 0.4, -0.2, 0.3])))
    c = rng.uniform(0, 6, n)
    t = np.minimum(np.minimum(t1, t2), c)
    event = np.where(t == c, 0, np.where(t1 < t2, 1, 2))
    df = pd.DataFrame(X, columns=COLS)
    df["time"] = np.ceil(t * 100) / 100
    df["event"] = event
    return df


def r_times(df: pd.DataFrame, repeats: int, crr: bool) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as fh:
        path = fh.name
    df.to_csv(path, index=False)
    crr_part = ""
    if crr:
        crr_part = f"""
fcrr <- function() crr(d$time, d$event, cov1 = as.matrix(d[, c("x0","x1","x2","x3")]),
                       failcode = 1, cencode = 0)
invisible(fcrr())
tt <- replicate({repeats}, system.time(fit <<- fcrr())[["elapsed"]])
cat("crr", median(tt), fit$coef, "\\n")
"""
    script = f"""
suppressMessages(library(cmprsk))
d <- data.table::fread("{path}", data.table = FALSE)
fci <- function() cuminc(d$time, d$event, cencode = 0)
invisible(fci())
tt <- replicate({repeats}, system.time(fci())[["elapsed"]])
cat("cuminc", median(tt), "\\n")
{crr_part}
"""
    try:
        text = run_r(script)
    finally:
        os.unlink(path)
    return parse_r_timings(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args()

    from comprisk import CumulativeIncidence, FineGrayRegression, Surv

    fg_rows = []
    for n in args.sizes:
        df = make_data(n)
        t_sk, fg = median_time(
            lambda df=df: FineGray().fit(df, "time", "event", cause=1, formula=COLS),
            args.repeats,
        )
        X = df[COLS].to_numpy()
        y = Surv.from_arrays(event=df["event"].to_numpy(), time=df["time"].to_numpy())
        t_cr, cr = median_time(
            lambda X=X, y=y: FineGrayRegression(robust_se=True).fit(X, y), args.repeats
        )
        row = {
            "n": n,
            "survkit s": t_sk,
            "comprisk s": t_cr,
            "comprisk/survkit": t_cr / t_sk,
            "max|b - b_comprisk|": float(np.max(np.abs(fg.params_.to_numpy() - cr.coef_))),
            "max se rel diff comprisk": float(
                np.max(np.abs(cr.se_ / fg.standard_errors_.to_numpy() - 1))
            ),
        }
        if have_r() and not args.no_r and n <= 20_000:
            r = r_times(df, 1, crr=True)
            row["crr s"] = r["crr"][0]
            row["crr/survkit"] = r["crr"][0] / t_sk
            row["max|b - b_crr|"] = float(np.max(np.abs(fg.params_.to_numpy() - r["crr"][1])))
        fg_rows.append(row)
        print(f"Fine-Gray done n={n}", file=sys.stderr)
    cols = [
        "n",
        "survkit s",
        "comprisk s",
        "comprisk/survkit",
        "crr s",
        "crr/survkit",
        "max|b - b_comprisk|",
        "max se rel diff comprisk",
        "max|b - b_crr|",
    ]
    print(f"\nFine-Gray, 4 covariates, full sandwich variance, median of {args.repeats} runs")
    print_table(fg_rows, [c for c in cols if any(c in r for r in fg_rows)])
    if len(fg_rows) >= 2:
        a, b = fg_rows[-2], fg_rows[-1]
        print(
            f"survkit time({b['n']:.0e}) / time({a['n']:.0e}) = "
            f"{b['survkit s'] / a['survkit s']:.1f}"
        )

    aj_rows = []
    sizes = sorted({min(100_000, max(args.sizes)), max(args.sizes)})
    for n in sizes:
        df = make_data(n, seed=1)
        t_sk, _ = median_time(lambda df=df: aalen_johansen(df, "time", "event"), args.repeats)
        t_cr, _ = median_time(
            lambda df=df: CumulativeIncidence().fit(df["time"].to_numpy(), df["event"].to_numpy()),
            args.repeats,
        )
        row = {"n": n, "survkit s": t_sk, "comprisk s": t_cr, "comprisk/survkit": t_cr / t_sk}
        if n <= 100_000:
            from lifelines import AalenJohansenFitter

            def lifelines_aj(df=df):
                for cause in (1, 2):
                    AalenJohansenFitter(calculate_variance=True, seed=0).fit(
                        df["time"], df["event"], event_of_interest=cause
                    )

            t_ll, _ = median_time(lifelines_aj, 1)
            row["lifelines s"] = t_ll
            row["lifelines/survkit"] = t_ll / t_sk
        if have_r() and not args.no_r:
            r = r_times(df, args.repeats, crr=False)
            row["cuminc s"] = r["cuminc"][0]
            row["cuminc/survkit"] = r["cuminc"][0] / t_sk
        aj_rows.append(row)
        print(f"Aalen-Johansen done n={n}", file=sys.stderr)
    cols = [
        "n",
        "survkit s",
        "comprisk s",
        "comprisk/survkit",
        "cuminc s",
        "cuminc/survkit",
        "lifelines s",
        "lifelines/survkit",
    ]
    print(f"\nAalen-Johansen with variance, both causes, median of {args.repeats} runs")
    print_table(aj_rows, [c for c in cols if any(c in r for r in aj_rows)])


if __name__ == "__main__":
    main()
