"""Proportional-hazards checks, change points and double agents."""

from __future__ import annotations

import pandas as pd
from statsmodels.stats.multitest import multipletests

from ..diagnostics.cox_zph import cox_zph
from ..organs.change_point import estimate_change_point
from ..plots import plot_schoenfeld
from .content import Figure, Section, Table
from .spec import ReportSpec, hr_text

CHANGE_POINT_REPLICATES = 100
CHANGE_POINT_TERMS = 4  # at most this many flagged effects get a change point (speed)
CHANGE_POINT_GRID = 9  # exact fits on the coarse grid of event-time quantiles


def ph_table(spec: ReportSpec, fits) -> pd.DataFrame:
    """cox.zph per organ: every term and the GLOBAL test; BH over the term tests."""
    rows = []
    for site in spec.organs:
        model = fits.models.get((site, "cause_specific"))
        if model is None:
            continue
        for term, r in cox_zph(model).iterrows():
            cov = spec.design.of_column(term)
            rows.append(
                {
                    spec.kind: spec.label(site),
                    "term": cov.contrast if cov is not None else term,
                    "column": term,
                    "site": site,
                    "chisq": r["chisq"],
                    "df": int(r["df"]),
                    "p": r["p"],
                }
            )
    table = pd.DataFrame(rows)
    terms = table["column"] != "GLOBAL"
    table["p_adj"] = float("nan")
    table.loc[terms, "p_adj"] = multipletests(table.loc[terms, "p"], method="fdr_bh")[1]
    return table


def time_varying_section(spec: ReportSpec, fits) -> Section:
    zph_table = ph_table(spec, fits)
    flagged = zph_table[(zph_table["p_adj"] < spec.alpha) & (zph_table["column"] != "GLOBAL")]
    flagged = flagged.sort_values("p_adj", kind="stable")
    effects, figures, bullets, found = [], [], [], []
    rest = flagged.iloc[CHANGE_POINT_TERMS:]
    if len(rest):
        bullets.append(
            f"Also not proportional (PH test p_adj < {spec.alpha:g}); change points are "
            f"estimated only for the {CHANGE_POINT_TERMS} clearest: "
            + "; ".join(f"{spec.label(r.site)} - {r.term}" for r in rest.itertuples())
            + "."
        )
    for r in flagged.iloc[:CHANGE_POINT_TERMS].itertuples():
        site, column = r.site, r.column
        others = [c for c in spec.columns if c != column]
        try:
            cp = estimate_change_point(
                spec.data,
                column,
                spec.duration_col,
                spec.event_col,
                formula=others,
                cause=site,
                censor_value=spec.censor_value,
                bootstrap_replicates=CHANGE_POINT_REPLICATES,
                n_candidates=CHANGE_POINT_GRID,
                seed=spec.seed,
            )
        except ValueError as exc:
            bullets.append(
                f"{spec.label(site)} - {r.term}: the effect changes over time (PH test "
                f"p_adj = {r.p_adj:.2g}); no change point estimated: {exc}"
            )
            continue
        per = cp.effect.periods
        first, last = per.iloc[0], per.iloc[-1]
        effects.append(
            pd.DataFrame(
                {
                    spec.kind: spec.label(site),
                    "covariate": r.term,
                    "change_point": cp.estimate,
                    "cp_lower": cp.lower,
                    "cp_upper": cp.upper,
                    "period": per["period"],
                    "HR": per["hr"],
                    "lower": per["lower"],
                    "upper": per["upper"],
                    "p": per["p"],
                }
            )
        )
        words = (
            f"{spec.label(site)} - {r.term}: the effect changes over time (PH test p_adj = "
            f"{r.p_adj:.2g}); best single change point {spec.at(cp.estimate)} "
            f"(95% bootstrap interval {spec.time(cp.lower)}-{spec.at(cp.upper)}). "
            f"Before it {hr_text(first.hr, first.lower, first.upper)}, "
            f"after it {hr_text(last.hr, last.lower, last.upper)}."
        )
        # a double agent: clearly protective in one period and clearly harmful later
        if cp.effect.double_agent:
            cov = spec.design.of_column(column)
            subject = cov.effect_words("").strip() if cov is not None else column
            words += (
                f" DOUBLE AGENT: {subject} protects against {spec.event_name(site)} early "
                "but promotes it later."
            )
            found.append(
                {
                    "site": site,
                    "covariate": column,
                    "change_point": cp.estimate,
                    "cp_lower": cp.lower,
                    "cp_upper": cp.upper,
                    "hr_early": float(first.hr),
                    "hr_late": float(last.hr),
                }
            )
        bullets.append(words)
        figures.append(
            Figure(
                f"schoenfeld_{spec.label(site)}_{column}",
                plot_schoenfeld(
                    fits.models[(site, "cause_specific")],
                    column,
                    transform="identity",
                    step=cp.effect,
                ),
                f"{spec.label(site)}: scaled Schoenfeld residuals of {r.term} against time "
                f"({spec.time_unit}), lowess smooth and the fitted step function",
            )
        )
    spec.checks["double_agents"] = found
    tables = [
        Table(
            "ph_tests",
            zph_table.drop(columns=["column", "site"]).set_index([spec.kind, "term"]),
            f"Proportional-hazards tests per {spec.kind}, each with its GLOBAL test "
            "(R's cox.zph, KM time scale; BH over the term tests)",
        )
    ]
    if effects:
        tables.append(
            Table(
                "time_varying_effects",
                pd.concat(effects).set_index([spec.kind, "covariate", "period"]),
                "Hazard ratios before and after the change point",
            )
        )
    paras = [
        f"For each {spec.kind}'s cause-specific model, a score test on scaled Schoenfeld "
        "residuals (as R's cox.zph) asks whether a hazard ratio drifts over time; p-values are "
        f"BH adjusted across {spec.kind}s and covariates. Where one does, a single change point "
        "is placed by profile likelihood and the hazard ratio is estimated before and after it. "
        "The profile likelihood is a step function of the change point (it changes only at "
        "event times), so it is computed at the event times themselves: exactly on a coarse grid "
        f"of {CHANGE_POINT_GRID} event-time quantiles, then every event time in the region the "
        "grid cannot rule out is scored with the other coefficients held fixed and the best "
        "five are fitted exactly. "
        "The profile is jagged, so a chi-square cut-off often keeps one event time alone; the "
        f"interval is instead a percentile bootstrap ({CHANGE_POINT_REPLICATES} resamples of "
        f"the patients, seed {spec.seed}), re-estimating the change point over every event "
        "time in each resample with the other covariates' coefficients held at their "
        "full-data values."
    ]
    if not bullets:
        paras.append("No covariate shows a clear departure from proportional hazards.")
    return Section(
        "Effects that change over time", paras, bullets=bullets, tables=tables, figures=figures
    )
