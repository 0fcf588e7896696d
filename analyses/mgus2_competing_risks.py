"""Real data: progression versus death in R's mgus2, checked against R.

    python analyses/mgus2_competing_risks.py --out DIR

Data: survival::mgus2 (Kyle et al. 2002; 1384 patients with monoclonal
gammopathy of undetermined significance), exported with its derivation by
tests/reference/make_reference.R to tests/reference/data/mgus2.csv (complete
cases; event 0 censored, 1 progression to plasma-cell malignancy, 2 death
without progression; time in months). Incidence by sex with Gray's test,
Fine-Gray and cause-specific Cox models for both events, and predicted
incidence for three patients. Every number that R also computed
(tests/reference/results) is compared, and the script exits non-zero if any
differs beyond DESIGN.md's tolerances.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from survkit import CauseSpecificCox, FineGray, aalen_johansen, gray_test
from survkit.plots import plot_cumulative_incidence
from survkit.report.content import Figure, Report, Section, Table
from survkit.report.render import write_atomically

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"
COVARIATES = ["age", "male", "hgb", "creat", "mspike"]
EVENTS = {1: "progression", 2: "death"}


def _case(file: str, name: str) -> dict:
    return json.loads((REFERENCE / "results" / file).read_text())["cases"][name]


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(b)
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    df = pd.read_csv(REFERENCE / "data" / "mgus2.csv")
    months = [12, 60, 120, 240, 360]

    cif = aalen_johansen(df, "etime", "event", group_col="male", times=months)
    curves = aalen_johansen(df, "etime", "event", group_col="male")
    gray = gray_test(df, "etime", "event", "male")
    fg = {k: FineGray().fit(df, "etime", "event", cause=k, formula=COVARIATES) for k in EVENTS}
    csc = CauseSpecificCox().fit(df, "etime", "event", formula=COVARIATES)
    ref_csc = _case("csc.json", "mgus2_csc_efron")
    new = pd.DataFrame(ref_csc["newdata"])
    risk = csc.predict_risk_profile(new, ref_csc["times"])

    # agreement with R, quantity by quantity (max relative difference)
    checks = []
    ref = _case("cuminc.json", "mgus2_by_male")
    tp = ref["timepoints"]
    for row, curve in enumerate(ref["curves"]):
        sel = cif[
            (cif["cause"].astype(str) == curve["cause"])
            & (cif["group"].astype(str) == curve["group"])
        ]
        est = [np.nan if v is None else v for v in tp["est"][row]]
        var = [np.nan if v is None else v for v in tp["var"][row]]
        checks.append(("cuminc estimate " + curve["name"], _rel(sel["cif"], est), 1e-6))
        checks.append(("cuminc variance " + curve["name"], _rel(sel["variance"], var), 1e-5))
    checks.append(("Gray's statistics", _rel(gray["statistic"], ref["tests"]["stat"]), 1e-5))
    for k in EVENTS:
        r = _case("crr.json", f"mgus2_fc{k}")
        checks.append(
            (f"crr coef ({EVENTS[k]})", _rel(fg[k].params_, list(r["coef"].values())), 1e-6)
        )
        checks.append(
            (f"crr se ({EVENTS[k]})", _rel(fg[k].standard_errors_, list(r["se"].values())), 1e-5)
        )
        checks.append(
            (f"crr loglik ({EVENTS[k]})", _rel([fg[k].log_likelihood_], [r["loglik"]]), 1e-8)
        )
        checks.append(
            (
                f"predictRisk CSC ({EVENTS[k]})",
                _rel(risk[k].T.to_numpy(), ref_csc["risk"][f"cause_{k}_product_limit"]),
                1e-6,
            )
        )
    agreement = pd.DataFrame(checks, columns=["quantity", "max relative difference", "tolerance"])
    agreement["within tolerance"] = agreement["max relative difference"] <= agreement["tolerance"]

    fig = plot_cumulative_incidence(
        curves.assign(
            cause=curves["cause"].map(EVENTS), group=curves["group"].map({0: "female", 1: "male"})
        )
    )
    for ax in fig.axes:
        ax.set_xlabel("months")
    fg_table = pd.concat({EVENTS[k]: m.summary for k, m in fg.items()}, names=["event"])
    cs_table = csc.summary.rename(index=EVENTS, level=0)
    profile = pd.concat(
        {
            EVENTS[k]: risk[k].T.set_axis([f"{t:g} months" for t in ref_csc["times"]], axis=1)
            for k in EVENTS
        },
        names=["event", "patient"],
    )
    g = gray.rename(index=EVENTS)
    at10 = cif[cif["time"] == 120]
    paras = [
        f"{len(df)} patients; {int((df['event'] == 1).sum())} progressions, "
        f"{int((df['event'] == 2).sum())} deaths without progression. By 10 years, "
        + "; ".join(
            f"{EVENTS[r.cause]} {'male' if r.group == 1 else 'female'} {100 * r.cif:.1f}%"
            for r in at10.itertuples()
        )
        + f". Gray's test by sex: progression p = {g.loc['progression', 'p_value']:.2g}, "
        f"death p = {g.loc['death', 'p_value']:.2g}.",
        f"Every number R also computed agrees within tolerance: "
        f"{int(agreement['within tolerance'].sum())} of {len(agreement)} checks.",
    ]
    report = Report(
        title="MGUS: progression versus death",
        subtitle="survkit analysis of survival::mgus2, checked against R",
        sections=[
            Section(
                "Incidence by sex",
                paras[:1],
                tables=[
                    Table(
                        "incidence",
                        cif.set_index(["cause", "group", "time"]),
                        "Cumulative incidence by sex (months)",
                    ),
                    Table("gray_test", g, "Gray's test by sex"),
                ],
                figures=[Figure("incidence", fig, "Cumulative incidence by sex")],
            ),
            Section(
                "Regression",
                [],
                tables=[
                    Table("fine_gray", fg_table, "Fine-Gray models"),
                    Table("cause_specific", cs_table, "Cause-specific Cox models"),
                    Table(
                        "risk_profiles",
                        profile,
                        "Predicted incidence for three patients (as R's newdata)",
                    ),
                ],
            ),
            Section(
                "Agreement with R",
                paras[1:],
                tables=[
                    Table(
                        "agreement_with_r",
                        agreement.set_index("quantity"),
                        "survkit versus R (cmprsk, riskRegression)",
                        digits=3,
                    )
                ],
            ),
        ],
    )
    path = write_atomically(report, args.out)
    print(f"wrote {path / 'report.html'}")
    print(agreement.to_string(index=False))
    bad = agreement[~agreement["within tolerance"]]
    for q in bad["quantity"]:
        print(f"FAILED: {q} differs from R beyond tolerance", file=sys.stderr)
    return 1 if len(bad) else 0


if __name__ == "__main__":
    sys.exit(main())
