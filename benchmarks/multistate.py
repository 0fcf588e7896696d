"""Multi-state speed: survkit vs R's survival (survfit and coxph with id=, istate=), one run.

    python benchmarks/multistate.py [--sizes 10000 100000] [--repeats 3] [--r-survfit-max 20000]

Data: ``simulate_multistate("breast_site_dormancy_progression", n, seed=1)``:
6 states, 15 transitions, about 0.8 transitions per patient. Timed (medians
of ``--repeats`` runs after a warm-up; R timed inside R on the same CSV):

* Aalen-Johansen state occupation with infinitesimal-jackknife standard
  errors: ``state_occupation`` vs ``survfit(Surv(tstart, tstop, to) ~ 1,
  id = id, istate = from)``. R's survfit updates every patient's influence
  at every transition time (O(n T)), so it runs only up to
  ``--r-survfit-max`` patients;
* transition-specific Cox (age, er_positive on every transition, Breslow,
  robust variance): ``MultiStateCox`` (separate and stacked) vs multi-state
  ``coxph``;
* the generator itself: ``simulate_multistate`` plus the event-history table.

R runs with ``timefix = FALSE``: simulated continuous times put some second
transitions within rounding distance of the first, which R's default
``aeqSurv`` would merge (or refuse as zero-length intervals).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import have_r, median_time, parse_r_timings, print_table, run_r

from survkit import multistate as ms
from synthetic.multistate import simulate_multistate

SCENARIO = "breast_site_dormancy_progression"
COVARIATES = ["age", "er_positive"]


def make_data(n: int):
    cohort = simulate_multistate(SCENARIO, n, seed=1)
    tm = ms.transition_matrix(cohort.states, cohort.pairs)
    h = cohort.histories()[["patient_id", "tstart", "tstop", "from", "to", *COVARIATES]]
    h = h.rename(columns={"patient_id": "id"})
    return cohort, ms.read_histories(h, tm), h


def r_times(h, states, repeats: int, survfit: bool) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as fh:
        path = fh.name
    h.to_csv(path, index=False)
    levels = ", ".join(f'"{s}"' for s in states)
    survfit_part = ""
    if survfit:
        survfit_part = f"""
fsf <- function() survfit(Surv(tstart, tstop, to) ~ 1, data = d, id = id, istate = from,
                          timefix = FALSE)
invisible(fsf())
tt <- replicate({repeats}, system.time(sf <<- fsf())[["elapsed"]])
cat("survfit", median(tt), sf$pstate[nrow(sf$pstate), ], sf$std.err[nrow(sf$pstate), ], "\\n")
"""
    script = f"""
suppressMessages(library(survival))
d <- data.table::fread("{path}", data.table = FALSE)
d$to <- factor(d$to, levels = c("censored", {levels})[-2])
d$from <- factor(d$from, levels = c({levels}))
fcx <- function() coxph(Surv(tstart, tstop, to) ~ age + er_positive, data = d, id = id,
                        istate = from, ties = "breslow",
                        control = coxph.control(timefix = FALSE))
invisible(fcx())
tt <- replicate({repeats}, system.time(cx <<- fcx())[["elapsed"]])
cat("coxph", median(tt), "\\n")
cat("coxph_coef", 0, cx$coefficients, "\\n")
cat("coxph_se", 0, sqrt(diag(cx$var)), "\\n")
{survfit_part}
"""
    try:
        text = run_r(script)
    finally:
        os.unlink(path)
    return parse_r_timings(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--r-survfit-max", type=int, default=20_000)
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args()

    rows = []
    for n in args.sizes:
        t_sim, (cohort, data, h) = median_time(lambda n=n: make_data(n), args.repeats)
        n_moves = int(data.histories["status"].sum())
        t_aj, occ = median_time(lambda d=data: ms.state_occupation(d), args.repeats)
        t_sep, sep = median_time(lambda d=data: ms.MultiStateCox().fit(d, COVARIATES), args.repeats)
        t_stk, stk = median_time(
            lambda d=data: ms.MultiStateCox(method="stacked").fit(d, COVARIATES), args.repeats
        )
        row = {
            "patients": n,
            "transitions": n_moves,
            "simulate s": t_sim,
            "AJ s": t_aj,
            "Cox sep s": t_sep,
            "Cox stacked s": t_stk,
            "max|b sep - b stacked|": float(
                np.max(np.abs(sep.params_ - stk.params_[sep.params_.index]))
            ),
        }
        if have_r() and not args.no_r:
            r = r_times(h, list(cohort.states), args.repeats, n <= args.r_survfit_max)
            row["coxph s"] = r["coxph"][0]
            row["coxph/survkit"] = r["coxph"][0] / t_sep
            # R orders coefficients by target state then origin; compare sorted values
            row["max|b - b_R|"] = float(
                np.max(np.abs(np.sort(sep.params_.to_numpy()) - np.sort(r["coxph_coef"][1])))
            )
            if "survfit" in r:
                last = occ[occ["time"] == occ["time"].max()]
                k = len(cohort.states)
                row["survfit s"] = r["survfit"][0]
                row["survfit/survkit"] = r["survfit"][0] / t_aj
                row["max|p - p_R|"] = float(
                    np.max(np.abs(last["pstate"].to_numpy() - r["survfit"][1][:k]))
                )
                row["max|se - se_R|"] = float(
                    np.max(np.abs(last["std_err"].to_numpy() - r["survfit"][1][k:]))
                )
        rows.append(row)
        print(f"done n={n}", file=sys.stderr)
    cols = [
        "patients",
        "transitions",
        "simulate s",
        "AJ s",
        "survfit s",
        "survfit/survkit",
        "max|p - p_R|",
        "max|se - se_R|",
        "Cox sep s",
        "Cox stacked s",
        "coxph s",
        "coxph/survkit",
        "max|b - b_R|",
        "max|b sep - b stacked|",
    ]
    print(f"\nMulti-state ({SCENARIO}), median of {args.repeats} runs")
    print_table(rows, [c for c in cols if any(c in r for r in rows)])


if __name__ == "__main__":
    main()
