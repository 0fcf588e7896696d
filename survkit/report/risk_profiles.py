"""Per-patient predicted incidence per organ, with confidence intervals from standard errors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..models.cause_specific import CauseSpecificCox
from .content import Figure, Section, Table
from .hazard_ratios import MIN_EVENTS
from .spec import ReportSpec


def absolute_risks(csc: CauseSpecificCox, df: pd.DataFrame, times) -> dict:
    """Cumulative incidence of every cause at ``times`` for every row: cause -> (times, n).

    ``CauseSpecificCox.predict_risk_profile`` (product-limit) as arrays, the
    form the report's ranking, curves and scoring use.
    """
    return {k: v.to_numpy() for k, v in csc.predict_risk_profile(df, times).items()}


def model_intervals(csc: CauseSpecificCox, examples: pd.DataFrame, causes: list, horizons):
    """95% limits of the example patients' risks at the horizons: cause -> (times, rows).

    ``CauseSpecificCox.predict_risk_profile(se=True)``: riskRegression's
    influence-function standard errors for Breslow fits, otherwise the delta
    method (the report's models use Efron's ties), with log(-log) limits.
    Returns (lower, upper, method).
    """
    profile = csc.predict_risk_profile(examples, horizons, se=True)
    lower, upper, method = {}, {}, ""
    for k in causes:
        table = profile[k]
        shape = (len(horizons), len(examples))
        # rows come patient by patient, each with every horizon
        lower[k] = table["lower"].to_numpy().reshape(shape[1], shape[0]).T
        upper[k] = table["upper"].to_numpy().reshape(shape[1], shape[0]).T
        method = table.attrs.get("se_method", "")
    return lower, upper, method


def _rounded(value: object) -> object:
    if isinstance(value, (float, np.floating)):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return value


def modelled_events(spec: ReportSpec) -> list:
    """Every first event (organs, then competing), each with enough events for its model.

    Absolute risks combine the models of every first event, so one with fewer
    than ``MIN_EVENTS`` events stops them (ValueError saying which).
    """
    causes = [*spec.organs, *spec.competing]
    counts = spec.df[spec.event_col].value_counts()
    few = [c for c in causes if counts.get(c, 0) < MIN_EVENTS]
    if few:
        raise ValueError(
            "an absolute risk needs a model for every first event, and "
            + ", ".join(f"{spec.label(c)} has {int(counts.get(c, 0))}" for c in few)
            + f" event(s) (fewer than {MIN_EVENTS}); a larger cohort is needed."
        )
    return causes


def risk_profile_section(spec: ReportSpec) -> Section:
    causes = modelled_events(spec)
    csc = CauseSpecificCox().fit(
        spec.data,
        spec.duration_col,
        spec.event_col,
        formula=spec.columns,
        censor_value=spec.censor_value,
        causes=causes,
    )
    horizon = max(spec.horizons)
    # every patient ranked by the predicted absolute risk of any event of interest
    # at the last horizon (the sum of the organs' cumulative incidences)
    risk_all = absolute_risks(csc, spec.data, [horizon])
    if not all(m.converged_ for m in csc.models_.values()) or not all(
        np.isfinite(r).all() for r in risk_all.values()
    ):
        bad = [spec.label(c) for c, m in csc.models_.items() if not m.converged_]
        raise ValueError(
            "the cause-specific models did not all converge"
            + (f" ({', '.join(bad)})" if bad else "")
            + ", so predicted risks would be meaningless."
        )
    any_event = pd.Series(sum(risk_all[o][0] for o in spec.organs), index=spec.data.index)
    ranks = any_event.sort_values(kind="stable")
    picks = {
        "lower risk (10th percentile)": ranks.index[int(0.1 * (len(ranks) - 1))],
        "typical (median)": ranks.index[int(0.5 * (len(ranks) - 1))],
        "higher risk (90th percentile)": ranks.index[int(0.9 * (len(ranks) - 1))],
    }
    examples = spec.data.loc[list(picks.values())]
    risk = absolute_risks(csc, examples, spec.horizons)
    lower, upper, method = model_intervals(csc, examples, causes, spec.horizons)
    rows, shown = [], []
    for j, (label, idx) in enumerate(picks.items()):
        for cause in causes:
            row = {"patient": label, "event": spec.label(cause)}
            for i, t in enumerate(spec.horizons):
                est = risk[cause][i, j]
                lo = np.nan if lower is None else lower[cause][i, j]
                hi = np.nan if upper is None else upper[cause][i, j]
                rows.append({**row, "row": idx, "time": t, "risk": est, "lower": lo, "upper": hi})
                ci = "" if lower is None else f" ({100 * lo:.1f}-{100 * hi:.1f})"
                row[spec.at(t)] = f"{100 * est:.1f}%{ci}"
            shown.append(row)
    long = pd.DataFrame(rows).set_index(["patient", "event", "time"])
    table = pd.DataFrame(shown).set_index(["patient", "event"])
    raw_terms = [t for t in spec.design.terms if t in spec.df.columns]
    covs = spec.df.loc[list(picks.values()), raw_terms].astype(object).map(_rounded)
    covs.index = pd.Index(list(picks), name="patient")
    covs.insert(
        0,
        f"predicted {spec.outcome} risk by {spec.at(horizon)}",
        [f"{100 * any_event[i]:.1f}%" for i in picks.values()],
    )
    spec.checks["risk_profile_any_event"] = {k: float(any_event[i]) for k, i in picks.items()}
    fig = _figure(spec, csc, examples, picks, causes, horizon)
    what = (
        f"first {spec.outcome} in each {spec.kind} (and of the competing events)"
        if spec.organ_data
        else "each first event"
    )
    how = {
        "delta": "the delta method on the cause-specific models' coefficients and baseline hazards",
        "riskRegression": "riskRegression's influence function",
    }.get(method, method)
    boot = f"95% intervals from standard errors by {how}, with log(-log) limits."
    return Section(
        "Individual risk profiles",
        [
            f"Predicted cumulative incidence of {what} for three patients of this cohort: "
            "those at the 10th, 50th "
            f"and 90th percentile of the predicted absolute risk of any {spec.outcome} by "
            f"{spec.at(horizon)}, from cause-specific Cox models combined by the Aalen-Johansen "
            "formula (as riskRegression's predictRisk). " + boot,
        ],
        tables=[
            Table("risk_profile_patients", covs, "The example patients' covariates"),
            Table(
                "risk_profiles",
                table,
                "Predicted cumulative incidence (95% confidence interval) by time",
                csv=long,
            ),
        ],
        figures=[
            Figure("risk_profiles", fig, f"Predicted incidence per {spec.kind} for three patients")
        ],
    )


def _figure(spec, csc, examples, picks, causes, horizon):
    from matplotlib.figure import Figure as MplFigure

    grid = np.linspace(0, horizon, 121)
    curves = absolute_risks(csc, examples, grid)
    fig = MplFigure(figsize=(11, 3.4), layout="constrained")
    axes = fig.subplots(1, len(picks), sharey=True)
    for j, (ax, label) in enumerate(zip(axes, picks, strict=True)):
        for k, cause in enumerate(causes):
            ax.step(grid, curves[cause][:, j], where="post", label=spec.label(cause), color=f"C{k}")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(f"time ({spec.time_unit})")
    axes[0].set_ylabel("cumulative incidence")
    axes[-1].legend(fontsize=8)
    return fig
