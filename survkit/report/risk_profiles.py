"""Per-patient predicted incidence per organ, with percentile-bootstrap intervals."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..models.cause_specific import CauseSpecificCox
from .content import Figure, Section, Table
from .hazard_ratios import MIN_EVENTS
from .spec import ReportSpec


def absolute_risks(csc: CauseSpecificCox, df: pd.DataFrame, times, chunk: int = 1000) -> dict:
    """Cumulative incidence of every cause at ``times`` for every row: cause -> (times, n).

    The Aalen-Johansen combination of the cause-specific Cox models, as
    ``CauseSpecificCox.predict_risk_profile`` (product-limit, no strata), computed
    from each model's baseline increments times the rows' relative hazards, in
    chunks of rows so memory stays bounded (every patient is ranked by it).
    """
    times = np.asarray(times, dtype=float)
    models = csc.models_
    # the grid: every time some cause's baseline jumps (event times), up to the last time;
    # between them nothing changes, so censoring-only times are left out (speed)
    jumps = []
    for m in models.values():
        table = m.baseline_cumulative_hazard_
        up = np.diff(table.iloc[:, 0].to_numpy(), prepend=0.0) > 0
        jumps.append(table.index.to_numpy()[up])
    grid = np.unique(np.concatenate(jumps))
    grid = grid[grid <= times.max()]
    keys = list(models)
    if grid.size == 0:  # every time before the first event: no risk yet
        return {k: np.zeros((len(times), len(df))) for k in keys}
    D0 = np.column_stack([np.diff(_baseline_at(models[k], grid), prepend=0.0) for k in keys])
    R = np.vstack([models[k].predict_partial_hazard(df).to_numpy() for k in keys])
    idx = np.searchsorted(grid, times, side="right") - 1
    # W[h, j] = 1 for grid times up to horizon h: F_k(h) = r_k * sum_j W[h, j] dH0_k(j) S(j-)
    W = (np.arange(len(grid))[None, :] <= idx[:, None]).astype(float)
    out = {k: np.zeros((len(times), len(df))) for k in keys}
    for start in range(0, len(df), chunk):
        cols = slice(start, start + chunk)
        total = D0 @ R[:, cols]  # (grid, rows): all causes' hazard increments
        surv = np.cumprod(1.0 - total, axis=0)
        before = np.vstack([np.ones((1, total.shape[1])), surv[:-1]])
        for j, k in enumerate(keys):
            out[k][:, cols] = (W * D0[:, j][None, :]) @ before * R[j, cols][None, :]
    return out


def _baseline_at(model, times: np.ndarray) -> np.ndarray:
    """The model's (unstratified) baseline cumulative hazard, a step function, at ``times``."""
    table = model.baseline_cumulative_hazard_
    pos = np.searchsorted(table.index.to_numpy(), times, side="right") - 1
    values = table.iloc[:, 0].to_numpy()
    return np.where(pos >= 0, values[np.maximum(pos, 0)], 0.0)


def bootstrap_intervals(spec: ReportSpec, examples: pd.DataFrame, causes: list) -> tuple:
    """Percentile-bootstrap 95% limits of the example patients' risks at the horizons.

    Kept in one function so a delta-method interval can replace it. Rows are
    resampled with replacement (seeded); a replicate whose fit fails (a cause
    without events in the resample) is skipped and counted.
    """
    rng = np.random.default_rng(spec.seed)
    draws = {k: [] for k in causes}
    failed = 0
    n = len(spec.data)
    for _ in range(spec.bootstrap_replicates):
        sample = spec.data.iloc[rng.integers(0, n, n)].reset_index(drop=True)
        # a resample whose fit fails or does not converge is counted, not used
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fit = CauseSpecificCox().fit(
                    sample,
                    spec.duration_col,
                    spec.event_col,
                    formula=spec.columns,
                    censor_value=spec.censor_value,
                    causes=causes,
                )
                risk = absolute_risks(fit, examples, spec.horizons)
            except (ValueError, np.linalg.LinAlgError):
                failed += 1
                continue
        converged = all(m.converged_ for m in fit.models_.values())
        if caught or not converged or not all(np.isfinite(r).all() for r in risk.values()):
            failed += 1
            continue
        for k in causes:
            draws[k].append(risk[k])
    if len(draws[causes[0]]) < 2:
        return None, None, failed
    lower = {k: np.quantile(np.stack(v), 0.025, axis=0) for k, v in draws.items()}
    upper = {k: np.quantile(np.stack(v), 0.975, axis=0) for k, v in draws.items()}
    return lower, upper, failed


def _rounded(value: object) -> object:
    if isinstance(value, (float, np.floating)):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return value


def risk_profile_section(spec: ReportSpec) -> Section:
    causes = [*spec.organs, *spec.competing]
    counts = spec.df[spec.event_col].value_counts()
    few = [c for c in causes if counts.get(c, 0) < MIN_EVENTS]
    if few:
        raise ValueError(
            "an absolute risk needs a model for every first event, and "
            + ", ".join(f"{spec.label(c)} has {int(counts.get(c, 0))}" for c in few)
            + f" event(s) (fewer than {MIN_EVENTS}); a larger cohort is needed."
        )
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
    lower, upper, failed = bootstrap_intervals(spec, examples, causes)
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
    used = spec.bootstrap_replicates - failed
    what = (
        f"first {spec.outcome} in each {spec.kind} (and of the competing events)"
        if spec.organ_data
        else "each first event"
    )
    boot = (
        f"95% intervals: percentile bootstrap over {used} resamples of the patients "
        f"(seed {spec.seed}; a modest number so the report stays fast: the limits are rough)"
        + (f"; {failed} resample(s) could not be fitted and were skipped" if failed else "")
        + "."
        if lower is not None
        else "No bootstrap interval: too few resamples could be fitted."
    )
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
                "Predicted cumulative incidence (95% bootstrap interval) by time",
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
