"""Multi-state speed: survkit vs R's survival (survfit and coxph with id=, istate=), one run.

    python benchmarks/multistate.py [--sizes 20000 200000 1370000] [--repeats 3]
        [--r-survfit-max 20000] [--r-robust-max 40000] [--stacked-max 200000]

Data: ``simulate_multistate("breast_site_dormancy_progression", n, seed=1)``:
6 states, 15 transitions, about 0.73 transitions per patient, so 1.37 million
patients give 10^6 transitions (1.85 million history rows; 8.5 million rows at
risk in the long form). Timed: medians of ``--repeats`` runs after a warm-up
(one run, no warm-up, from ``--large`` patients on); R timed inside R, on the
same CSV, in the same run, without a warm-up (it compiles nothing; one
warm-up call would add a quarter to the run).

* Aalen-Johansen state occupation with infinitesimal-jackknife standard
  errors: ``state_occupation`` vs ``survfit(Surv(tstart, tstop, to) ~ 1,
  id = id, istate = from)``. R's survfit updates every patient's influence at
  every transition time (O(n T): quadratic), so with standard errors it runs
  only up to ``--r-survfit-max`` patients. At every size R also runs with
  ``se.fit = FALSE`` (state probabilities only, no variance), compared with
  ``state_occupation(se=False)`` (like with like) and with survkit's full
  computation.
* transition-specific Cox (age, er_positive on every transition, Breslow):
  ``MultiStateCox`` (separate, the default; stacked up to ``--stacked-max``)
  vs multi-state ``coxph``. Like with like: naive variance on both sides
  (``coxph(robust = FALSE)``, ``fit(robust=False)``) at every size; robust
  variance clustered on the patient (R's default with ``id``) up to
  ``--r-robust-max`` patients, because survival 3.5's ``residuals.coxph``
  (agscore2, called for the robust variance) is quadratic in the rows: it
  took 85 % of the time at 10,000 patients.
* the generator itself: ``simulate_multistate``, and with the event-history
  table and its checks.

Sizes R is not run at are shown as "-": the last lines print R's measured
growth between the two largest sizes it ran, as a measured exponent, never as
an invented time. R runs with ``timefix = FALSE``: simulated continuous times
put some second transitions within rounding distance of the first, which R's
default ``aeqSurv`` would merge (or refuse as zero-length intervals).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

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


def once(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def r_times(h, states, repeats: int, survfit_se: bool, robust: bool) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as fh:
        path = fh.name
    h.to_csv(path, index=False)
    levels = ", ".join(f'"{s}"' for s in states)

    def timed(name: str, call: str, after: str) -> str:
        return f"""
f <- function() {call}
tt <- replicate({repeats}, system.time(res <<- f())[["elapsed"]])
cat("{name}", median(tt), {after}, "\\n")
"""

    cox = (
        "coxph(Surv(tstart, tstop, to) ~ age + er_positive, data = d, id = id, istate = from, "
        'ties = "breslow", robust = {robust}, control = coxph.control(timefix = FALSE))'
    )
    sf = (
        "survfit(Surv(tstart, tstop, to) ~ 1, data = d, id = id, istate = from, "
        "timefix = FALSE, se.fit = {se})"
    )
    last = "res$pstate[nrow(res$pstate), ]"
    parts = [
        timed("coxph_naive", cox.format(robust="FALSE"), "res$coefficients, sqrt(diag(res$var))"),
        timed("survfit_nose", sf.format(se="FALSE"), last),
    ]
    if robust:
        parts.append(
            timed(
                "coxph_robust", cox.format(robust="TRUE"), "res$coefficients, sqrt(diag(res$var))"
            )
        )
    if survfit_se:
        parts.append(
            timed("survfit_se", sf.format(se="TRUE"), f"{last}, res$std.err[nrow(res$pstate), ]")
        )
    script = f"""
suppressMessages(library(survival))
d <- data.table::fread("{path}", data.table = FALSE)
d$to <- factor(d$to, levels = c("censored", {levels})[-2])
d$from <- factor(d$from, levels = c({levels}))
cat("#", R.version.string, "survival", format(packageVersion("survival")), "\\n")
{"".join(parts)}
"""
    try:
        text = run_r(script, timeout=4 * 3600)
    finally:
        os.unlink(path)
    versions = [x[2:] for x in text.splitlines() if x.startswith("# ")]
    timings = parse_r_timings("\n".join(x for x in text.splitlines() if not x.startswith("#")))
    return timings, versions[0] if versions else "R"


def max_gap(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000, 1_370_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--large", type=int, default=500_000)
    ap.add_argument("--r-survfit-max", type=int, default=20_000)
    ap.add_argument("--r-robust-max", type=int, default=40_000)
    ap.add_argument("--stacked-max", type=int, default=200_000)
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args()

    rows = []
    r_version = "R not run"
    for n in args.sizes:
        repeats = args.repeats if n < args.large else 1

        def timing(fn, repeats=repeats):
            return median_time(fn, repeats) if repeats > 1 else once(fn)

        t_gen, _ = timing(lambda n=n: simulate_multistate(SCENARIO, n, seed=1))
        t_data, (cohort, data, h) = timing(lambda n=n: make_data(n))
        n_moves = int(data.histories["status"].sum())
        t_aj, occ = timing(lambda d=data: ms.state_occupation(d))
        t_aj0, occ0 = timing(lambda d=data: ms.state_occupation(d, se=False))
        t_sep, sep = timing(lambda d=data: ms.MultiStateCox().fit(d, COVARIATES))
        t_naive, naive = timing(lambda d=data: ms.MultiStateCox().fit(d, COVARIATES, robust=False))
        row = {
            "patients": n,
            "transitions": n_moves,
            "rows": len(h),
            "simulate s": t_gen,
            "+histories s": t_data,
            "AJ+SE s": t_aj,
            "AJ noSE s": t_aj0,
            "Cox naive s": t_naive,
            "Cox robust s": t_sep,
        }
        if n <= args.stacked_max:
            t_stk, stk = timing(
                lambda d=data: ms.MultiStateCox(method="stacked").fit(d, COVARIATES)
            )
            row["stacked robust s"] = t_stk
            row["|b sep - b stk|"] = max_gap(sep.params_, stk.params_[sep.params_.index])
        if have_r() and not args.no_r:
            k = len(cohort.states)
            r, r_version = r_times(
                h, list(cohort.states), repeats, n <= args.r_survfit_max, n <= args.r_robust_max
            )
            p = len(naive.params_)
            # R orders coefficients by target state then origin; compare sorted values
            b_r = r["coxph_naive"][1][:p]
            row["R coxph naive s"] = r["coxph_naive"][0]
            row["naive ratio"] = r["coxph_naive"][0] / t_naive
            row["|b - b_R|"] = max_gap(np.sort(naive.params_.to_numpy()), np.sort(b_r))
            last = occ[occ["time"] == occ["time"].max()]
            row["R survfit noSE s"] = r["survfit_nose"][0]
            row["AJ+SE / noSE ratio"] = r["survfit_nose"][0] / t_aj
            row["noSE ratio"] = r["survfit_nose"][0] / t_aj0
            last0 = occ0[occ0["time"] == occ0["time"].max()]  # like with like
            row["|p - p_R|"] = max_gap(last0["pstate"], r["survfit_nose"][1][:k])
            if "coxph_robust" in r:
                row["R coxph robust s"] = r["coxph_robust"][0]
                row["robust ratio"] = r["coxph_robust"][0] / t_sep
                order = np.argsort(sep.params_.to_numpy())
                se_r = r["coxph_robust"][1][p:][np.argsort(r["coxph_robust"][1][:p])]
                row["|se - se_R| rel"] = float(
                    np.max(np.abs(sep.standard_errors_.to_numpy()[order] / se_r - 1))
                )
            if "survfit_se" in r:
                row["R survfit SE s"] = r["survfit_se"][0]
                row["AJ+SE ratio"] = r["survfit_se"][0] / t_aj
                row["|se_AJ - se_R|"] = max_gap(last["std_err"], r["survfit_se"][1][k:])
        rows.append(row)
        print(f"done n={n} ({time.strftime('%H:%M:%S')})", file=sys.stderr, flush=True)

    load = os.getloadavg()
    print(f"\nMulti-state ({SCENARIO}); medians of {args.repeats} runs below {args.large:,}")
    print(f"patients, a single run above; load average at the end {load[0]:.1f} {load[1]:.1f}")
    print(r_version)
    groups = [
        ["patients", "transitions", "rows", "simulate s", "+histories s"],
        ["patients", "AJ+SE s", "R survfit SE s", "AJ+SE ratio", "|se_AJ - se_R|"],
        ["patients", "AJ noSE s", "R survfit noSE s", "noSE ratio", "|p - p_R|"],
        ["patients", "AJ+SE s", "R survfit noSE s", "AJ+SE / noSE ratio"],
        ["patients", "Cox naive s", "R coxph naive s", "naive ratio", "|b - b_R|"],
        ["patients", "Cox robust s", "R coxph robust s", "robust ratio", "|se - se_R| rel"],
        ["patients", "Cox robust s", "stacked robust s", "|b sep - b stk|"],
    ]
    for cols in groups:
        print()
        print_table(rows, cols)
    for name, col in [
        ("survfit with SE", "R survfit SE s"),
        ("coxph robust", "R coxph robust s"),
        ("survfit without SE", "R survfit noSE s"),
        ("coxph naive", "R coxph naive s"),
    ]:
        ran = [r for r in rows if col in r]
        if len(ran) >= 2:
            a, b = ran[-2], ran[-1]
            slope = np.log(b[col] / a[col]) / np.log(b["patients"] / a["patients"])
            print(
                f"R {name}: {a[col]:.3g} s at {a['patients']:,} -> {b[col]:.3g} s at "
                f"{b['patients']:,} patients: time grows like n^{slope:.2f} (measured)"
            )


if __name__ == "__main__":
    main()
