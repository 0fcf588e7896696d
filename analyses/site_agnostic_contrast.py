"""Site-specific versus site-agnostic dormancy: what changes, side by side.

    python analyses/site_agnostic_contrast.py --out DIR [--n 4000] [--seed 1]

The two built-in scenarios share covariates, effects, death, censoring and the
15-year incidence of relapse in each organ (both calibrated to the same
targets); they differ only in dormancy: organ-specific in
``breast_site_dormancy`` (bone late, visceral early), one shared bimodal
distribution in ``site_agnostic`` (Demicheli et al. 2008). The report shows the incidence
curves, the timing of relapses per organ, and the cause-specific Cox and
Fine-Gray estimates of each scenario. It exits non-zero unless (1) bone
relapses come later than lung relapses by a clearly larger margin under
site-specific dormancy, and (2) the cause-specific log hazard ratios of the two
scenarios agree (their differences are within a Bonferroni-corrected 5 %
family-wise limit) -- the effects are identical by construction, only the
baseline timing differs.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
from matplotlib.figure import Figure as MplFigure
from scipy import stats

from survkit import aalen_johansen
from survkit.organs.site_models import fit_sites
from survkit.report.content import Figure, Report, Section, Table
from survkit.report.render import write_atomically
from synthetic import load_scenario, simulate_cohort

SCENARIOS = ("breast_site_dormancy", "site_agnostic")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    cohorts = {s: simulate_cohort(s, n=args.n, seed=args.seed) for s in SCENARIOS}
    organs = list(load_scenario(SCENARIOS[0]).site_names)
    data0 = cohorts[SCENARIOS[0]].data
    terms = [c for c in data0.columns if c not in ("patient_id", "time", "event")]
    formula = " + ".join(terms)

    curves, timing, fits = {}, [], {}
    for s, cohort in cohorts.items():
        df = cohort.data
        curves[s] = aalen_johansen(df, "time", "event", censor_value="censored")
        ev = df["event"].astype(str)
        for organ in organs:
            t = df.loc[ev == organ, "time"]
            timing.append(
                {
                    "scenario": s,
                    "organ": organ,
                    "relapses": len(t),
                    "median_years": float(t.median()),
                    "quartile_1": float(t.quantile(0.25)),
                    "quartile_3": float(t.quantile(0.75)),
                }
            )
        fits[s] = fit_sites(df, "time", "event", formula, sites=organs, censor_value="censored")
    timing = pd.DataFrame(timing).set_index(["organ", "scenario"]).sort_index()

    at = pd.concat(
        aalen_johansen(c.data, "time", "event", censor_value="censored", times=[2, 5, 10]).assign(
            scenario=s
        )
        for s, c in cohorts.items()
    )
    at = at[at["cause"].isin(organs)].set_index(["cause", "time", "scenario"]).sort_index()

    fig = MplFigure(figsize=(12, 3.2), layout="constrained")
    axes = fig.subplots(1, len(organs), sharey=False)
    for ax, organ in zip(axes, organs, strict=True):
        for k, s in enumerate(SCENARIOS):
            c = curves[s][curves[s]["cause"] == organ]
            ax.step(c["time"], c["cif"], where="post", color=f"C{k}", label=s)
            ax.fill_between(
                c["time"], c["lower"], c["upper"], step="post", color=f"C{k}", alpha=0.2
            )
        ax.set_title(organ)
        ax.set_xlabel("years")
    axes[0].set_ylabel("cumulative incidence")
    axes[-1].legend(fontsize=8)

    side = []
    for s in SCENARIOS:
        t = fits[s].table.assign(scenario=s)
        side.append(t)
    side = pd.concat(side)
    side["site"] = side["site"].astype(str)
    wide = side.pivot_table(
        index=["site", "model", "covariate"], columns="scenario", values=["HR", "se"]
    )
    wide.columns = [f"{a} {b}" for a, b in wide.columns]

    cs = side[side["model"] == "cause_specific"].set_index(["site", "covariate", "scenario"])
    a = cs.xs(SCENARIOS[0], level="scenario")
    b = cs.xs(SCENARIOS[1], level="scenario").loc[a.index]
    z = (a["coef"] - b["coef"]) / np.sqrt(a["se"] ** 2 + b["se"] ** 2)
    z_crit = float(stats.norm.ppf(1 - 0.025 / len(z)))
    med = timing["median_years"]
    gap_specific = med.loc[("bone", SCENARIOS[0])] - med.loc[("lung", SCENARIOS[0])]
    gap_agnostic = med.loc[("bone", SCENARIOS[1])] - med.loc[("lung", SCENARIOS[1])]

    paras = [
        f"Both cohorts: n = {args.n}, seed = {args.seed}; with the same seed they share every "
        "patient's covariates (the generator draws each component from its own stream), so "
        "the differences below isolate the effect of dormancy. Under site-specific dormancy the "
        f"median time to a bone relapse is {gap_specific:.1f} years later than to a lung "
        f"relapse; with one shared dormancy distribution the gap is {gap_agnostic:.1f} years.",
        "The cause-specific hazard ratios are the same in both scenarios (the generator uses "
        f"identical effects): the largest standardised difference is {np.max(np.abs(z)):.2f} "
        f"(family-wise limit {z_crit:.2f}). What dormancy changes is when relapses happen, "
        "and with it the Fine-Gray (subdistribution) estimates, which depend on the timing of "
        "the competing organs and of death.",
    ]
    fg = side[side["model"] == "fine_gray"].set_index(["site", "covariate", "scenario"])["coef"]
    fg_diff = fg.xs(SCENARIOS[0], level="scenario") - fg.xs(SCENARIOS[1], level="scenario")
    paras.append(
        f"Fine-Gray log hazard ratios differ between scenarios by up to "
        f"{np.max(np.abs(fg_diff)):.2f} (cause-specific: "
        f"{np.max(np.abs(a['coef'] - b['coef'])):.2f})."
    )
    report = Report(
        title="Site-specific versus site-agnostic dormancy",
        subtitle="survkit analysis: " + " vs ".join(SCENARIOS),
        sections=[
            Section(
                "What changes",
                paras,
                figures=[
                    Figure(
                        "incidence_by_scenario",
                        fig,
                        "Cumulative incidence per organ under each scenario",
                    )
                ],
                tables=[
                    Table("relapse_timing", timing, "Observed relapse times per organ"),
                    Table("incidence", at, "Cumulative incidence at 2, 5, 10 years"),
                ],
            ),
            Section(
                "Estimates side by side",
                [],
                tables=[Table("estimates", wide, "Hazard ratios (and SE of log-HR)")],
            ),
        ],
    )
    path = write_atomically(report, args.out)
    print(f"wrote {path / 'report.html'}")
    for p in paras:
        print(p)
    problems = []
    if not gap_specific > gap_agnostic + 0.5:
        problems.append(
            f"bone-lung timing gap {gap_specific:.2f} y (site-specific) is not "
            f"clearly larger than {gap_agnostic:.2f} y (site-agnostic)"
        )
    if np.max(np.abs(z)) >= z_crit:
        problems.append("cause-specific estimates differ between scenarios beyond chance")
    for p in problems:
        print(f"FAILED: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
