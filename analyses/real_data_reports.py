"""The survkit report on real data from R's datasets, with findings R confirms.

    python analyses/real_data_reports.py --dataset rotterdam|rotterdam_years|mgus2|colon --out DIR

Data: analyses/data/*.csv, written with their sources by analyses/data/make_data.R
(survival::rotterdam, survival::mgus2, survival::colon; competing first events:
1 the event of interest, 2 death without it, 0 censored). The same script wrote
analyses/data/r_findings.json: R's cmprsk::cuminc curves, coxph (Efron) and
crr fits. This script writes the report for one data set (plus a section on
its agreement with R) and exits non-zero unless

1. every incidence in the report (at its data-driven horizons) equals R's
   cuminc at those times (estimate 1e-6 absolute, SE 1e-5 relative);
2. every cause-specific and Fine-Gray coefficient and SE in the report equals
   R's coxph and crr (coefficients 1e-6 relative, SE 1e-5);
3. the dataset's stated findings hold, in the report and in R alike (for
   example: in rotterdam, more positive nodes raise the relapse hazard).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from survkit.report import report_for_data, write_atomically
from survkit.report.content import Section, Table

DATA = Path(__file__).resolve().parent / "data"
ROTTERDAM_TERMS = [
    "age",
    "meno",
    "size",
    "C(grade)",
    "nodes",
    "er_positive",
    "pgr_positive",
    "hormon",
    "chemo",
]
# (dataset, report arguments, R case, time scale to R's, R name of each factor term,
#  findings: (model column, expected direction of the cause-specific HR))
DATASETS = {
    "rotterdam": dict(
        file="rotterdam.csv",
        case="rotterdam",
        scale=1.0,
        args=dict(duration_col="time", terms=ROTTERDAM_TERMS, time_unit="days", group_col="hormon"),
        labels={1: "relapse", 2: "death"},
        r_terms={"grade": "factor(grade)"},
        findings=[("nodes", "raises"), ("size[T.>50]", "raises"), ("age", "lowers")],
    ),
    "rotterdam_years": dict(
        file="rotterdam.csv",
        case="rotterdam",
        scale=365.25,
        args=dict(
            duration_col="time", terms=ROTTERDAM_TERMS, time_unit="years", group_col="hormon"
        ),
        labels={1: "relapse", 2: "death"},
        r_terms={"grade": "factor(grade)"},
        findings=[("nodes", "raises"), ("size[T.>50]", "raises")],
    ),
    "mgus2": dict(
        file="mgus2.csv",
        case="mgus2",
        scale=1.0,
        args=dict(
            duration_col="etime",
            terms=["age", "sex", "hgb", "creat", "mspike"],
            time_unit="months",
            group_col="sex",
        ),
        labels={1: "progression", 2: "death"},
        r_terms={},
        findings=[("mspike", "raises")],
    ),
    "colon": dict(
        file="colon.csv",
        case="colon",
        scale=1.0,
        args=dict(
            duration_col="time",
            terms=["rx", "sex", "age", "nodes", "extent", "obstruct"],
            time_unit="days",
            group_col="rx",
        ),
        labels={1: "recurrence", 2: "death"},
        r_terms={},
        findings=[("rx[T.Lev+5FU]", "lowers"), ("nodes", "raises"), ("extent", "raises")],
    ),
}


def _r_name(column: str, r_terms: dict) -> str:
    """survkit's model column -> R's coefficient name (size[T.>50] -> size>50)."""
    if "[T." not in column:
        return column
    term, level = column[:-1].split("[T.", 1)
    return r_terms.get(term, term) + level


def _step_at(curve: dict, key: str, t: float) -> float:
    times = np.asarray(curve["time"], float)
    values = np.asarray(curve[key], float)
    k = np.searchsorted(times, t, side="right") - 1
    return float(values[k]) if k >= 0 else 0.0


def compare_with_r(name: str, checks: dict) -> pd.DataFrame:
    setup = DATASETS[name]
    r = json.loads((DATA / "r_findings.json").read_text())["cases"][setup["case"]]
    rows = []
    names = {v: str(k) for k, v in setup["labels"].items()}
    for item in checks["incidence"]:
        curve = r["cuminc"][names[item["event"]]]
        t = item["time"] * setup["scale"]
        est, var = _step_at(curve, "est", t), _step_at(curve, "var", t)
        rows.append((f"cuminc {item['event']} at {item['time']:g}", abs(item["cif"] - est), 1e-6))
        rows.append(
            (
                f"cuminc SE {item['event']} at {item['time']:g}",
                abs(item["se"] - np.sqrt(var)) / max(np.sqrt(var), 1e-300),
                1e-5,
            )
        )
    hr = pd.DataFrame(checks["hazard_ratios"])
    for model, key in (("cause_specific", "coxph"), ("fine_gray", "crr")):
        ours = hr[(hr["site"] == "1") & (hr["model"] == model)]
        ref = pd.DataFrame({"coef": r[key]["coef"], "se": r[key]["se"]}, index=r[key]["names"])
        ours = ours.set_index(pd.Index([_r_name(c, setup["r_terms"]) for c in ours["covariate"]]))
        if set(ours.index) != set(ref.index):
            rows.append((f"{key} names {sorted(ours.index)} vs {sorted(ref.index)}", np.inf, 0))
            continue
        ref = ref.loc[ours.index]
        rel_b = np.max(np.abs(ours["coef"] - ref["coef"]) / np.abs(ref["coef"]))
        rel_se = np.max(np.abs(ours["se"] - ref["se"]) / ref["se"])
        rows.append((f"{key} coefficients (max relative difference)", rel_b, 1e-6))
        rows.append((f"{key} standard errors (max relative difference)", rel_se, 1e-5))
    cox = pd.DataFrame(
        {"coef": r["coxph"]["coef"], "p": r["coxph"]["p"]}, index=r["coxph"]["names"]
    )
    ours = hr[(hr["site"] == "1") & (hr["model"] == "cause_specific")].set_index("covariate")
    for column, direction in setup["findings"]:
        rn = _r_name(column, setup["r_terms"])
        sign = 1 if direction == "raises" else -1
        holds_r = bool(np.sign(cox.loc[rn, "coef"]) == sign and cox.loc[rn, "p"] < 0.05)
        holds_us = bool(
            np.sign(ours.loc[column, "coef"]) == sign and ours.loc[column, "p_adj"] < 0.05
        )
        rows.append(
            (
                f"finding: {column} {direction} the hazard (R p = {cox.loc[rn, 'p']:.2g})",
                0.0 if holds_r and holds_us else np.inf,
                0.0,
            )
        )
    table = pd.DataFrame(rows, columns=["check", "difference", "tolerance"])
    table["agrees"] = table["difference"] <= table["tolerance"]
    return table.set_index("check")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    setup = DATASETS[args.dataset]
    df = pd.read_csv(DATA / setup["file"])
    if setup["scale"] != 1.0:
        df[setup["args"]["duration_col"]] = df[setup["args"]["duration_col"]] / setup["scale"]
    command = "python analyses/real_data_reports.py " + " ".join(sys.argv[1:])
    report = report_for_data(
        df,
        event_col="event",
        competing=[2],
        labels=setup["labels"],
        source=f"R's survival::{setup['case']} ({setup['file']}, analyses/data/make_data.R)",
        command=command,
        **setup["args"],
    )
    agreement = compare_with_r(args.dataset, report.checks)
    n_ok = int(agreement["agrees"].sum())
    r_version = json.loads((DATA / "r_findings.json").read_text())["meta"]["R"]
    report.sections.insert(
        -1,
        Section(
            "Agreement with R",
            [
                f"{n_ok} of {len(agreement)} checks agree with R (cmprsk::cuminc at the report's "
                "horizons, coxph and crr for the event of interest, and the stated findings), "
                f"from analyses/data/r_findings.json ({r_version})."
            ],
            tables=[Table("agreement_with_r", agreement, "survkit report versus R")],
        ),
    )
    path = write_atomically(report, args.out)
    print(f"wrote {path / 'report.html'}")
    print(agreement.to_string())
    bad = agreement[~agreement["agrees"]]
    for check in bad.index:
        print(f"FAILED: {check}", file=sys.stderr)
    return 1 if len(bad) else 0


if __name__ == "__main__":
    sys.exit(main())
