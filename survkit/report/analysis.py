"""The analysis behind ``survkit report``: from a cohort to the report's sections.

Every number in the report comes from survkit's public estimators; on a
synthetic cohort the truth is consulted only in the section that compares
estimates with it (the estimation never peeks).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from ..aalen_johansen import aalen_johansen
from ..cause_specific import CauseSpecificCox
from ..change_point import estimate_change_point
from ..cox_zph import cox_zph
from ..gray_test import gray_test
from ..plots import plot_cumulative_incidence, plot_forest, plot_schoenfeld
from ..site_models import fit_sites
from ..stacked import fit_stacked
from .content import Figure, Report, Section, Table
from .truth import truth_sections

Z95 = 1.959963984540054


@dataclass
class ReportSpec:
    """What to analyse. ``terms`` are formula terms (columns, or e.g. ``C(x)``)."""

    df: pd.DataFrame
    duration_col: str
    event_col: str
    terms: list[str]
    organs: list
    competing: list
    censor_value: object
    source: str
    command: str
    group_col: str | None = None
    cohort: object | None = None  # synthetic.Cohort when the truth is known
    horizons: tuple = (2.0, 5.0, 10.0)
    time_unit: str = "years"
    alpha: float = 0.05
    checks: dict = field(default_factory=dict)

    @property
    def formula(self) -> str:
        return " + ".join(self.terms)


def _hr(hr: float, lo: float, hi: float) -> str:
    return f"HR {hr:.2f} (95% CI {lo:.2f}-{hi:.2f})"


def _cohort_section(spec: ReportSpec) -> Section:
    df = spec.df
    counts = df[spec.event_col].astype(object).value_counts()
    n = len(df)
    rows = [
        {"outcome": str(k), "patients": int(v), "percent": 100 * v / n} for k, v in counts.items()
    ]
    table = pd.DataFrame(rows).set_index("outcome")
    # median follow-up by the reverse Kaplan-Meier (censoring as the event)
    censored = (df[spec.event_col].astype(object) == spec.censor_value).to_numpy()
    t = df[spec.duration_col].to_numpy(float)
    order = np.argsort(t)
    ts, cs = t[order], censored[order]
    at_risk = n - np.arange(n)
    surv = np.cumprod(1 - cs / at_risk)
    below = np.flatnonzero(surv <= 0.5)
    median_fu = ts[below[0]] if below.size else np.nan
    organ_events = int(sum(counts.get(o, 0) for o in spec.organs))
    para = (
        f"{n} patients from {spec.source}. Median follow-up {median_fu:.1f} {spec.time_unit} "
        f"(reverse Kaplan-Meier). {organ_events} first distant relapses "
        f"({', '.join(f'{o}: {int(counts.get(o, 0))}' for o in spec.organs)}); "
        + ", ".join(f"{c}: {int(counts.get(c, 0))}" for c in spec.competing)
        + (" (competing events)" if spec.competing else "")
        + f"; {int(censored.sum())} censored."
    )
    spec.checks["median_follow_up"] = float(median_fu)
    return Section(
        "Cohort",
        [para],
        tables=[Table("cohort_outcomes", table, "First event per patient", digits=1)],
    )


def _incidence_section(spec: ReportSpec) -> Section:
    df = spec.df
    cif = aalen_johansen(df, spec.duration_col, spec.event_col, censor_value=spec.censor_value)
    at = aalen_johansen(
        df,
        spec.duration_col,
        spec.event_col,
        censor_value=spec.censor_value,
        times=list(spec.horizons),
    )
    at = at[at["cause"].isin(spec.organs + spec.competing)]
    table = at.assign(cause=at["cause"].astype(str)).set_index(["cause", "time"])
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(10, 4), layout="constrained")
    panels = fig.subplots(1, 2 if spec.competing else 1, squeeze=False)[0]
    plot_cumulative_incidence(cif, causes=spec.organs, ax=panels[0])
    panels[0].set_title("relapse, by organ")
    if spec.competing:
        plot_cumulative_incidence(cif, causes=spec.competing, ax=panels[1])
        panels[1].set_title("competing events")
    for ax in panels:
        ax.set_xlabel(f"time ({spec.time_unit})")
    paras = []
    last = max(spec.horizons)
    at_last = at[at["time"] == last]
    if at_last["cif"].notna().any():
        parts = [
            f"{r.cause} {100 * r.cif:.1f}% ({100 * r.lower:.1f}-{100 * r.upper:.1f})"
            for r in at_last.itertuples()
            if r.cause in spec.organs
        ]
        paras.append(
            f"Estimated cumulative incidence of first relapse by {last:g} {spec.time_unit}: "
            + "; ".join(parts)
            + ". Aalen-Johansen estimates, treating other first events as competing; "
            "95% pointwise limits on the log(-log) scale."
        )
    section = Section(
        "Cumulative incidence of relapse per organ",
        paras,
        tables=[Table("cumulative_incidence", table, "Cumulative incidence at chosen times")],
        figures=[Figure("cumulative_incidence", fig, "Cumulative incidence per organ (95% bands)")],
    )
    if spec.group_col is not None:
        tests = gray_test(
            df, spec.duration_col, spec.event_col, spec.group_col, censor_value=spec.censor_value
        )
        tests.index = tests.index.astype(str)
        section.tables.append(
            Table("gray_test", tests, f"Gray's test: equal incidence across {spec.group_col}")
        )
        by_group = aalen_johansen(
            df,
            spec.duration_col,
            spec.event_col,
            group_col=spec.group_col,
            censor_value=spec.censor_value,
        )
        section.figures.append(
            Figure(
                "cumulative_incidence_by_group",
                plot_cumulative_incidence(by_group, causes=spec.organs),
                f"Cumulative incidence per organ by {spec.group_col}",
            )
        )
    return section


def _hazard_ratio_section(spec: ReportSpec):
    fits = fit_sites(
        spec.df,
        spec.duration_col,
        spec.event_col,
        spec.formula,
        sites=spec.organs,
        censor_value=spec.censor_value,
    )
    table = fits.table.copy()
    table["site"] = table["site"].astype(str)
    shown = table.set_index(["site", "model", "covariate"])[["HR", "lower", "upper", "p", "p_adj"]]
    cs = table[(table["model"] == "cause_specific") & (table["p_adj"] < spec.alpha)]
    bullets = []
    for r in cs.itertuples():
        direction = "raises" if r.HR > 1 else "lowers"
        bullets.append(
            f"{r.site}: higher {r.covariate} {direction} the relapse hazard "
            f"({_hr(r.HR, r.lower, r.upper)}, BH-adjusted p = {r.p_adj:.2g})."
        )
    paras = [
        "Cause-specific Cox models (one per organ; other first events censored) describe how "
        "each factor shifts the rate of relapse in that organ among patients still free of "
        "any event; Fine-Gray models describe its effect on the cumulative incidence of relapse "
        "in that organ. P-values are Benjamini-Hochberg adjusted across every organ x "
        "covariate test of the same model."
    ]
    if bullets:
        paras.append("Factors with a clear effect on an organ's relapse hazard:")
    if len(fits.skipped):
        paras.append(
            "Not fitted (too few events): "
            + ", ".join(f"{r.site} ({r.events})" for r in fits.skipped.itertuples())
        )
    fig = plot_forest(fits.table)
    section = Section(
        "Hazard ratios per organ",
        paras,
        bullets=bullets,
        tables=[Table("hazard_ratios", shown, "Hazard ratios per organ, covariate and model")],
        figures=[Figure("forest", fig, "Hazard ratios (95% CI) by organ and covariate")],
    )
    return section, fits


def _heterogeneity_section(spec: ReportSpec) -> Section:
    if len(spec.organs) < 2:
        spec.checks["heterogeneous_terms"] = []
        return Section(
            "Does an effect differ between organs?",
            [f"Only one relapse site ({spec.organs[0]}): there is nothing to compare."],
        )
    stacked = fit_stacked(
        spec.df,
        spec.duration_col,
        spec.event_col,
        spec.formula,
        causes=spec.organs,
        censor_value=spec.censor_value,
    )
    tests = stacked.equality_tests().copy()
    tests["p_adj"] = multipletests(tests["p"], method="fdr_bh")[1]
    coefs = stacked.coefficients()
    differ = tests[tests["p_adj"] < spec.alpha]
    bullets = []
    for term in differ.index:
        signs = ""
        columns = stacked.terms.get(term, [])
        if len(columns) == 1:  # a single column: compare the signs of its log-HRs
            logs = coefs.loc[columns[0]]
            if (logs > 0).any() and (logs < 0).any():
                up = ", ".join(str(c) for c in logs[logs > 0].index)
                down = ", ".join(str(c) for c in logs[logs < 0].index)
                signs = f" It raises the hazard in {up} but lowers it in {down}."
        bullets.append(
            f"{term}: its effect differs between organs (Wald chi2 = "
            f"{tests.loc[term, 'chisq']:.1f} on {int(tests.loc[term, 'df'])} df, "
            f"BH-adjusted p = {tests.loc[term, 'p_adj']:.2g}).{signs}"
        )
    spec.checks["heterogeneous_terms"] = list(differ.index)
    return Section(
        "Does an effect differ between organs?",
        [
            "A stacked (Lunn-McNeil) cause-specific model, stratified by organ with a "
            "covariate x organ interaction for every term, tests for each covariate the "
            "hypothesis that its hazard ratio is the same in every organ."
        ],
        bullets=bullets,
        tables=[Table("organ_heterogeneity", tests, "Same effect in every organ? (Wald tests)")],
    )


def _time_varying_section(spec: ReportSpec, fits) -> Section:
    rows = []
    for site in spec.organs:
        model = fits.models.get((site, "cause_specific"))
        if model is None:
            continue
        zph = cox_zph(model)
        for term, r in zph.drop(index="GLOBAL").iterrows():
            rows.append(
                {"site": str(site), "term": term, "chisq": r["chisq"], "df": r["df"], "p": r["p"]}
            )
    zph_table = pd.DataFrame(rows)
    zph_table["p_adj"] = multipletests(zph_table["p"], method="fdr_bh")[1]
    numeric = set(spec.df.select_dtypes("number").columns)
    site_of = {str(s): s for s in spec.organs}
    flagged = zph_table[(zph_table["p_adj"] < spec.alpha) & zph_table["term"].isin(numeric)]
    effects, figures, bullets, found = [], [], [], []
    for r in flagged.itertuples():
        site = site_of[r.site]
        others = [t for t in spec.terms if t != r.term]
        cp = estimate_change_point(
            spec.df,
            r.term,
            spec.duration_col,
            spec.event_col,
            formula=" + ".join(others),
            cause=site,
            censor_value=spec.censor_value,
        )
        per = cp.effect.periods
        first, last = per.iloc[0], per.iloc[-1]
        effects.append(
            pd.DataFrame(
                {
                    "site": r.site,
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
        agent = bool(cp.effect.double_agent)
        words = (
            f"{r.site} - {r.term}: the effect changes over time (PH test p_adj = {r.p_adj:.2g}); "
            f"best single change point {cp.estimate:.1f} {spec.time_unit} (approximate 95% "
            f"profile-likelihood interval {cp.lower:.1f}-{cp.upper:.1f}). Before it "
            f"{_hr(first.hr, first.lower, first.upper)}, after it "
            f"{_hr(last.hr, last.lower, last.upper)}."
        )
        if agent:
            words += (
                f" DOUBLE AGENT: higher {r.term} protects against {r.site} relapse early "
                f"but promotes it later."
            )
            found.append(
                {
                    "site": site,
                    "covariate": r.term,
                    "change_point": cp.estimate,
                    "hr_early": float(first.hr),
                    "hr_late": float(last.hr),
                }
            )
        bullets.append(words)
        figures.append(
            Figure(
                f"schoenfeld_{r.site}_{r.term}",
                plot_schoenfeld(
                    fits.models[(site, "cause_specific")],
                    r.term,
                    transform="identity",
                    step=cp.effect,
                ),
                f"{r.site}: scaled Schoenfeld residuals of {r.term} against time "
                f"({spec.time_unit}), lowess smooth and the fitted step function",
            )
        )
    spec.checks["double_agents"] = found
    tables = [
        Table(
            "ph_tests",
            zph_table.set_index(["site", "term"]),
            "Proportional-hazards tests (R's cox.zph, KM time scale)",
        )
    ]
    if effects:
        tables.append(
            Table(
                "time_varying_effects",
                pd.concat(effects).set_index(["site", "covariate", "period"]),
                "Hazard ratios before and after the change point",
            )
        )
    paras = [
        "For each organ's cause-specific model, a score test on scaled Schoenfeld residuals "
        "(as R's cox.zph) asks whether a hazard ratio drifts over time; p-values are BH "
        "adjusted across organs and covariates. Where one does, the change point is placed by "
        "profile likelihood and the hazard ratio is estimated before and after it."
    ]
    if not bullets:
        paras.append("No covariate shows a clear departure from proportional hazards.")
    return Section(
        "Effects that change over time", paras, bullets=bullets, tables=tables, figures=figures
    )


def _risk_profile_section(spec: ReportSpec) -> Section:
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


def _methods_section(spec: ReportSpec) -> Section:
    import matplotlib
    import numba
    import scipy

    from .. import __version__

    versions = {
        "survkit": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "numba": numba.__version__,
        "matplotlib": matplotlib.__version__,
    }
    table = pd.DataFrame({"version": versions}).rename_axis("software")
    return Section(
        "Methods and reproducibility",
        [
            "Cause-specific Cox models: partial likelihood with Efron's ties, Newton-Raphson as "
            "R's coxph (numbers checked against R survival 3.5). Fine-Gray: cmprsk::crr's "
            "estimating equation (Breslow ties, Kaplan-Meier censoring weights G(t-)) and its "
            "sandwich variance including the censoring term. Aalen-Johansen incidence with "
            "cmprsk::cuminc's variance. Proportional hazards: R survival 3.x's cox.zph score "
            "test. Multiple testing: Benjamini-Hochberg (statsmodels).",
            f"Formula: {spec.formula}. Organs: {', '.join(map(str, spec.organs))}; competing "
            f"events: {', '.join(map(str, spec.competing)) or 'none'}. Data: {spec.source}.",
            f"Command: {spec.command}",
            f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        ],
        tables=[Table("software", table, "Software versions")],
    )


def build_report(spec: ReportSpec, progress: Callable[[str], None] | None = None) -> Report:
    """Run every analysis step; ``progress(step_name)`` is called before each."""
    steps = [
        ("cohort", lambda: [_cohort_section(spec)]),
        ("incidence", lambda: [_incidence_section(spec)]),
    ]
    sections: list[Section] = []
    note = progress or (lambda _name: None)
    for name, step in steps:
        note(name)
        sections += step()
    note("hazard ratios")
    hr_section, fits = _hazard_ratio_section(spec)
    sections.append(hr_section)
    note("organ heterogeneity")
    sections.append(_heterogeneity_section(spec))
    note("time-varying effects")
    sections.append(_time_varying_section(spec, fits))
    note("risk profiles")
    sections.append(_risk_profile_section(spec))
    if spec.cohort is not None:
        note("truth")
        sections += truth_sections(spec, fits)
    note("methods")
    sections.append(_methods_section(spec))
    return Report(
        title="Site-specific metastatic relapse",
        subtitle=f"{spec.source} - survkit report",
        sections=sections,
        checks=spec.checks,
    )
