"""How well do the models predict? AUC, Brier score and IPA per organ, and calibration.

The predictions scored are those of the risk-profile section: cause-specific
Cox models of every first event combined into absolute risks (computed by
``absolute_risks``, on the event times only, which is what keeps this section
cheap). ``survkit.metrics.prediction_performance`` refits them on each
cross-validation fold and scores apparent and out-of-fold predictions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import prediction_performance
from ..plots import plot_calibration
from .content import Figure, Section, Table
from .risk_profiles import absolute_risks, modelled_events
from .spec import Z95, ReportSpec

TITLE = "How well do the models predict?"
N_FOLDS = 5  # cross-validation folds (each refits every cause-specific model)
ESTIMATES = ("apparent", "cross-validated")  # prediction_performance's labels


class _Risks:
    """The report's absolute risks for ``prediction_performance``: refused for a model
    (full data or a fold) that did not converge, and clipped to [0, 1], counting
    the patients clipped so the report can say so."""

    def __init__(self):
        self.clipped = 0  # patients with a risk outside [0, 1], over the fit and the folds
        self.excess = 0.0  # the largest distance outside [0, 1]

    def __call__(self, model, df: pd.DataFrame, times) -> dict:
        bad = [c for c, m in model.models_.items() if not m.converged_]
        if bad:
            raise ValueError(
                f"the cause-specific model of {', '.join(map(str, bad))} did not converge (on "
                "the cohort or on a cross-validation fold), so its predictions cannot be scored."
            )
        risks = absolute_risks(model, df, times)
        # a patient whose summed hazard jump exceeds 1 at some time (an extreme
        # relative hazard where few are at risk) gets a product-limit survival below 0
        outside = np.zeros(len(df), dtype=bool)
        for r in risks.values():
            outside |= ((r < 0) | (r > 1)).any(axis=0)
            self.excess = max(self.excess, float(np.max(np.maximum(r - 1, -r), initial=0.0)))
        self.clipped += int(outside.sum())
        return {k: np.clip(r, 0.0, 1.0) for k, r in risks.items()}


def _wide(spec: ReportSpec, table: pd.DataFrame) -> pd.DataFrame:
    """One row per (organ, horizon): AUC, Brier and IPA, apparent and cross-validated."""
    unit = f"time ({spec.time_unit})"
    rows = []
    for (cause, t), part in table.groupby(["cause", "time"], sort=False):
        row = {spec.kind: spec.label(cause), unit: spec.time(t)}
        for metric, name in (("auc", "AUC"), ("brier", "Brier"), ("ipa", "IPA")):
            for estimate in ESTIMATES:
                value = part.loc[part["estimate"] == estimate, metric]
                row[f"{name} {estimate}"] = float(value.iloc[0]) if len(value) else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index([spec.kind, unit])


def _listing(spec: ReportSpec, values: dict, fmt: str = "{:.2f}") -> str:
    """'bone 0.92; lung 0.88', or just '0.79' with a single event of interest."""
    if len(values) == 1 and len(spec.organs) == 1:
        return fmt.format(next(iter(values.values())))
    return "; ".join(f"{spec.label(c)} {fmt.format(v)}" for c, v in values.items())


def performance_section(spec: ReportSpec) -> Section:
    modelled_events(spec)  # every first event needs its model (else ValueError: skipped)
    last = float(max(spec.horizons))
    risks = _Risks()
    perf = prediction_performance(
        spec.data,
        spec.duration_col,
        spec.event_col,
        spec.columns,
        list(spec.horizons),
        causes=list(spec.organs),
        censor_value=spec.censor_value,
        n_folds=N_FOLDS,
        seed=spec.seed,
        calibration_time=last,
        risk_profile=risks,
        calibration_scale="logit",  # rare organs: skewed risks, a risk-scale kernel zigzags
    )
    table = perf.table
    at_last = table[np.isclose(table["time"], last)].set_index(["estimate", "cause"])
    cv_auc = at_last.loc["cross-validated", "auc"]
    apparent_auc = at_last.loc["apparent", "auc"]
    cv_se = at_last.loc["cross-validated", "auc_se"]
    cv_ipa = at_last.loc["cross-validated", "ipa"]
    cal = perf.calibration
    spec.checks["prediction_performance"] = {
        "time": last,
        "n_folds": N_FOLDS,
        "auc_apparent": {spec.label(c): float(v) for c, v in apparent_auc.items()},
        "auc_cross_validated": {spec.label(c): float(v) for c, v in cv_auc.items()},
        "ipa_cross_validated": {spec.label(c): float(v) for c, v in cv_ipa.items()},
        "calibration_slope": {spec.label(c): float(r.slope) for c, r in cal.items()},
        "risks_clipped": risks.clipped,
    }
    paragraphs = [_method_text(spec), _findings_text(spec, last, apparent_auc, cv_auc, cv_se)]
    paragraphs += _undefined_text(spec, table)
    if risks.clipped:
        paragraphs.append(
            f"For {risks.clipped} prediction(s) (a patient in the full fit or in a fold), the "
            "cause-specific hazards summed to a jump above 1 at some time, and the product-limit "
            f"formula gave a risk outside [0, 1] (by at most {risks.excess:.2g}); these risks "
            "are clipped to [0, 1]."
        )
    paragraphs.append(_ipa_text(spec, last, cv_ipa))
    paragraphs.append(_calibration_text(spec, last, cal))
    long = table.assign(cause=[spec.label(c) for c in table["cause"]]).rename(
        columns={"cause": spec.kind, "time": f"time ({spec.time_unit})"}
    )
    return Section(
        TITLE,
        paragraphs,
        tables=[
            Table(
                "prediction_performance",
                _wide(spec, table),
                "Time-dependent AUC (higher is better), Brier score (lower is better) and IPA "
                "(higher is better), apparent and cross-validated",
                csv=long.set_index([spec.kind, f"time ({spec.time_unit})", "estimate"]),
            )
        ],
        figures=[
            Figure(
                "calibration",
                _calibration_figure(spec, cal, last),
                f"Calibration of the cross-validated predicted risk by {spec.at(last)}"
                f"{spec.per_kind}: observed against predicted, risk groups (tenths of predicted "
                "risk) and a curve smoothed on the logit scale; dashed: perfect calibration",
            )
        ],
    )


def _method_text(spec: ReportSpec) -> str:
    what = f"{spec.outcome} in each {spec.kind}" if spec.organ_data else "each event of interest"
    if not spec.organ_data and len(spec.organs) == 1:
        what = spec.outcome
    return (
        f"The cause-specific Cox models of the risk profiles predict each patient's absolute risk "
        f"of {what} by each horizon. Discrimination: the time-dependent AUC, the probability "
        f"that a patient with the event by that time has a higher predicted risk than one "
        "without it (event-free, or a competing event first); 0.5 is chance, 1 perfect. "
        "Accuracy: the Brier score (mean squared error of the predicted risk) and the IPA "
        "(index of prediction accuracy: 1 - Brier / Brier of the null model that gives every "
        "patient the cohort's cumulative incidence; 0 is no better than that, 1 perfect). "
        "Censoring is handled by inverse-probability-of-censoring weights (Kaplan-Meier), as "
        "riskRegression::Score. Apparent: models fitted and scored on the same patients "
        f"(optimistic). Cross-validated: {N_FOLDS}-fold (shuffled, seed {spec.seed}); each "
        "patient's risk comes from models fitted on the other folds, without that patient."
    )


def _findings_text(spec, last, apparent_auc, cv_auc, cv_se) -> str:
    lower = (cv_auc - Z95 * cv_se).clip(lower=0.0)
    upper = (cv_auc + Z95 * cv_se).clip(upper=1.0)
    shown = {
        c: f"{v:.2f} ({lower[c]:.2f}-{upper[c]:.2f})" for c, v in cv_auc.items() if np.isfinite(v)
    }
    gap = (apparent_auc - cv_auc).dropna()
    text = (
        f"Cross-validated AUC by {spec.at(last)}: "
        + _listing(spec, shown, "{}")
        + " (95% limits treat the "
        "out-of-fold predictions as fixed, so they are somewhat too narrow)."
    )
    if len(gap) > 1:
        lo, hi = gap.idxmin(), gap.idxmax()
        text += (
            f" Apparent minus cross-validated AUC ranges from {gap[lo]:.3f} "
            f"({spec.label(lo)}) to {gap[hi]:.3f} ({spec.label(hi)})"
        )
    elif len(gap) == 1:
        text += f" Apparent minus cross-validated AUC is {gap.iloc[0]:.3f}"
    if len(gap):
        text += (
            ", the optimism of scoring models on the patients they were fitted to."
            if gap.max() > 0.02
            else ", little optimism."
        )
    return text


def _undefined_text(spec: ReportSpec, table: pd.DataFrame) -> list[str]:
    """Horizons with no event of interest yet (no cases: AUC undefined), said by name."""
    empty = table[table["auc"].isna() & (table["estimate"] == "apparent")]
    if not len(empty):
        return []
    return [
        "No AUC where nobody has had the event yet: "
        + "; ".join(f"{spec.event_name(r.cause)} by {spec.at(r.time)}" for r in empty.itertuples())
        + "."
    ]


def _ipa_text(spec: ReportSpec, last: float, cv_ipa: pd.Series) -> str:
    text = f"Cross-validated IPA by {spec.at(last)}: " + _listing(
        spec, cv_ipa.dropna().to_dict(), "{:.3f}"
    )
    worse = [spec.label(c) for c, v in cv_ipa.items() if v <= 0]
    if worse:
        return text + (
            f". For {', '.join(worse)} the predictions are no more accurate than the cohort's "
            "overall incidence given to everyone."
        )
    return text + "."


def _calibration_text(spec: ReportSpec, last: float, cal: dict) -> str:
    slopes = _listing(spec, {c: r.slope for c, r in cal.items()})
    ratios = _listing(spec, {c: r.observed_expected for c, r in cal.items()})
    return (
        f"Calibration of the cross-validated predictions by {spec.at(last)} (figure): slope "
        f"{slopes} (1 is ideal; below 1 the predictions are too extreme, above 1 too timid); "
        f"observed / expected risk {ratios} (1 is ideal)."
    )


def _calibration_figure(spec: ReportSpec, cal: dict, last: float):
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.ticker import MaxNLocator

    ncols = min(2, len(cal))
    nrows = -(-len(cal) // ncols)
    fig = MplFigure(figsize=(4.6 * ncols, 4.2 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (cause, result) in zip(axes, cal.items(), strict=False):
        plot_calibration([result], labels=[""], ax=ax)
        # room for the whole curve, and a few readable ticks in a small panel
        top = 1.05 * max(
            result.curve[["predicted", "observed"]].to_numpy().max(),
            result.groups[["predicted", "observed"]].to_numpy().max(),
        )
        top = min(1.0, top)
        ax.plot([0, top], [0, top], color="0.6", lw=0.8, ls="--")  # the diagonal to the edge
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.set_title(spec.label(cause))
        ax.set_xlabel(f"predicted risk by {spec.at(last)}")
        ax.set_ylabel(f"observed {spec.event_name(cause)} by {spec.at(last)}")
    for ax in axes[len(cal) :]:
        ax.set_visible(False)
    return fig
