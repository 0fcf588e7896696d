"""Per-patient predicted incidence per organ."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..models.cause_specific import CauseSpecificCox
from .content import Figure, Section, Table
from .spec import ReportSpec


def risk_profile_section(spec: ReportSpec) -> Section:
    causes = spec.organs + spec.competing
    csc = CauseSpecificCox().fit(
        spec.df,
        spec.duration_col,
        spec.event_col,
        formula=spec.formula,
        censor_value=spec.censor_value,
        causes=None,
    )
    # three example patients: low, typical and high relapse hazard, ranked by the
    # summed cause-specific cumulative hazard of relapse at the last horizon
    # (O(n), unlike the full absolute-risk profile of every patient)
    horizon = max(spec.horizons)
    total = sum(
        csc.models_[o].predict_cumulative_hazard(spec.df, [horizon]).iloc[0] for o in spec.organs
    )
    ranks = total.sort_values(kind="stable")
    picks = {
        "lower risk (10th percentile)": ranks.index[int(0.1 * (len(ranks) - 1))],
        "typical (median)": ranks.index[int(0.5 * (len(ranks) - 1))],
        "higher risk (90th percentile)": ranks.index[int(0.9 * (len(ranks) - 1))],
    }
    examples = spec.df.loc[list(picks.values())]
    risk = csc.predict_risk_profile(examples, list(spec.horizons))
    rows = []
    for label, idx in picks.items():
        for cause in causes:
            for t in spec.horizons:
                rows.append(
                    {
                        "patient": label,
                        "row": idx,
                        "event": str(cause),
                        "time": t,
                        "cumulative_incidence": risk[cause].loc[t, idx],
                    }
                )
    table = pd.DataFrame(rows).pivot_table(
        index=["patient", "event"], columns="time", values="cumulative_incidence", sort=False
    )
    table.columns = [f"{t:g} {spec.time_unit}" for t in table.columns]
    covs = examples[[c for c in spec.terms if c in examples.columns]].copy()
    covs.index = list(picks)
    covs.index.name = "patient"
    grid = np.linspace(0, horizon, 61)
    curves = csc.predict_risk_profile(examples, grid)
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(11, 3.4), layout="constrained")
    axes = fig.subplots(1, len(picks), sharey=True)
    for ax, (label, idx) in zip(axes, picks.items(), strict=True):
        for k, cause in enumerate(causes):
            ax.step(grid, curves[cause][idx], where="post", label=str(cause), color=f"C{k}")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(f"time ({spec.time_unit})")
    axes[0].set_ylabel("cumulative incidence")
    axes[-1].legend(fontsize=8)
    return Section(
        "Individual risk profiles",
        [
            "Predicted cumulative incidence of first relapse in each organ (and of the competing "
            "events) for three patients of this cohort (at the 10th, 50th and 90th percentile of "
            "the summed cause-specific cumulative hazard of relapse at "
            f"{horizon:g} {spec.time_unit}), from cause-specific Cox models combined "
            "by the Aalen-Johansen formula (as riskRegression's predictRisk). Such per-organ "
            "profiles are what organ-specific follow-up or treatment would be based on."
        ],
        tables=[
            Table("risk_profile_patients", covs, "The example patients' covariates"),
            Table("risk_profiles", table, "Predicted cumulative incidence by time"),
        ],
        figures=[Figure("risk_profiles", fig, "Predicted incidence per organ for three patients")],
    )
