"""Cox diagnostics speed: cox_zph and every residual type vs the fit's own time, and R.

    python benchmarks/diagnostics.py [--sizes 100000 1000000] [--repeats 3] [--no-r]

Data: n rows x 10 standard-normal covariates, exponential event times rounded
to 0.01 (heavy ties), ~60 % events, Efron ties (as benchmarks/cox.py). Each
time is the median of ``--repeats`` runs after a warm-up run (numba
compilation is not timed). R's ``coxph``, ``cox.zph`` and ``residuals`` are
timed inside R on the same data (``system.time``), and the GLOBAL chi-square
of both implementations is compared. R's score-type residuals (score, dfbeta,
dfbetas) take time quadratic in n in survival 3.5 (45 s at n = 10^5), so R
times them only up to ``--r-score-max`` rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from _common import have_r, median_time, print_table, run_r
from cox import COLS, P, make_data  # the same data as the fit benchmark

from survkit import CoxPH
from survkit.diagnostics.cox_zph import cox_zph

KINDS = ["martingale", "deviance", "score", "schoenfeld", "scaledsch", "dfbeta", "dfbetas"]


def bench_r(df: pd.DataFrame, repeats: int, with_score: bool) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as fh:
        path = fh.name
    df.to_csv(path, index=False)
    rhs = " + ".join(COLS)
    kinds = [k for k in KINDS if with_score or k not in ("score", "dfbeta", "dfbetas")]
    kinds = ", ".join(f'"{k}"' for k in kinds)
    script = f"""
suppressMessages(library(survival))
d <- data.table::fread("{path}", data.table = FALSE)
tm <- function(f) {{ invisible(f()); median(replicate({repeats}, system.time(f())[["elapsed"]])) }}
fit <- coxph(Surv(time, event) ~ {rhs}, data = d, ties = "efron", x = TRUE, y = TRUE)
cat("fit", tm(function() coxph(Surv(time, event) ~ {rhs}, data = d, ties = "efron")), "\\n")
for (tr in c("km", "identity"))
  cat(paste0("zph_", tr), tm(function() cox.zph(fit, transform = tr)), "\\n")
for (k in c({kinds})) cat(k, tm(function() residuals(fit, type = k)), "\\n")
cat("global", format(cox.zph(fit)$table["GLOBAL", "chisq"], digits = 17), "\\n")
"""
    try:
        out = run_r(script)
    finally:
        os.unlink(path)
    return {line.split()[0]: float(line.split()[1]) for line in out.strip().splitlines()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--r-score-max", type=int, default=20_000)
    args = ap.parse_args()

    rows = []
    for n in args.sizes:
        df = make_data(n)
        t_fit, model = median_time(
            lambda df=df: CoxPH().fit(df, "time", "event", formula=COLS), args.repeats
        )
        r = {}
        if have_r() and not args.no_r:
            r = bench_r(df, args.repeats, with_score=n <= args.r_score_max)
        tasks = (
            [("fit", None)]
            + [(f"zph_{t}", t) for t in ("km", "identity")]
            + [(k, k) for k in KINDS]
        )
        global_ours = None
        for name, arg in tasks:
            if name == "fit":
                t_ours = t_fit
            elif name.startswith("zph_"):
                t_ours, table = median_time(
                    lambda arg=arg, model=model: cox_zph(model, transform=arg), args.repeats
                )
                if arg == "km":
                    global_ours = table.loc["GLOBAL", "chisq"]
            else:
                t_ours, _ = median_time(
                    lambda arg=arg, model=model: model.residuals(arg), args.repeats
                )
            row = {"n": n, "task": name, "survkit s": t_ours, "/ survkit fit": t_ours / t_fit}
            if name in r:
                row["R s"] = r[name]
                row["R / survkit"] = r[name] / t_ours
            rows.append(row)
        if "global" in r:
            rel = abs(global_ours - r["global"]) / abs(r["global"])
            print(
                f"n={n}: GLOBAL chisq survkit {global_ours:.10g}, R {r['global']:.10g}, "
                f"relative difference {rel:.2e}",
                file=sys.stderr,
            )
        print(f"done n={n}", file=sys.stderr)

    print(f"\nCox diagnostics, {P} covariates, Efron ties, median of {args.repeats} runs")
    cols = ["n", "task", "survkit s", "/ survkit fit", "R s", "R / survkit"]
    print_table(rows, [c for c in cols if any(c in r for r in rows)])


if __name__ == "__main__":
    main()
