"""Per-organ hazard ratios and the test of the same effect in every organ."""

from __future__ import annotations

import dataclasses

import pandas as pd
from statsmodels.stats.multitest import multipletests

from ..organs.site_models import fit_sites
from ..organs.stacked import fit_stacked
from ..plots import plot_forest
from .content import Figure, Section, Table
from .spec import ReportSpec, hr_text

MIN_EVENTS = 10  # per organ, for a model (fit_sites' default)


def wide_table(spec: ReportSpec, table: pd.DataFrame) -> pd.DataFrame:
    """Cause-specific HR and Fine-Gray subdistribution HR side by side, one row per
    (organ, contrast); the contrast names its reference level."""
    out = []
    for (site, column), rows in table.groupby(["site", "covariate"], sort=False):
        row = {spec.kind: spec.label(site), "contrast": spec.design.of_column(column).contrast}
        for kind, tag, ratio in (("cause_specific", "CS", "HR"), ("fine_gray", "FG", "sHR")):
            r = rows[rows["model"] == kind]
            if len(r):
                r = r.iloc[0]
                row.update(
                    {
                        f"{tag} {ratio}": r["HR"],
                        f"{tag} lower": r["lower"],
                        f"{tag} upper": r["upper"],
                        f"{tag} p": r["p"],
                        f"{tag} p (BH)": r["p_adj"],
                    }
                )
        out.append(row)
    return pd.DataFrame(out).set_index([spec.kind, "contrast"])


def hazard_ratio_section(spec: ReportSpec):
    fits = fit_sites(
        spec.data,
        spec.duration_col,
        spec.event_col,
        spec.columns,
        sites=spec.organs,
        censor_value=spec.censor_value,
        min_events=MIN_EVENTS,
    )
    if not fits.models:
        raise ValueError(
            f"no {spec.kind} has {MIN_EVENTS} or more events ("
            + ", ".join(f"{spec.label(s)}: {int(n)}" for s, n in fits.events.items())
            + "); hazard ratios cannot be estimated. A larger cohort is needed."
        )
    table = fits.table
    spec.checks["hazard_ratios"] = [
        {
            "site": str(r.site),
            "model": r.model,
            "covariate": r.covariate,
            "coef": float(r.coef),
            "se": float(r.se),
            "p": float(r.p),
            "p_adj": float(r.p_adj),
        }
        for r in table.itertuples()
    ]
    cs = table[(table["model"] == "cause_specific") & (table["p_adj"] < spec.alpha)]
    bullets = []
    for r in cs.itertuples():
        cov = spec.design.of_column(r.covariate)
        direction = "raises" if r.HR > 1 else "lowers"
        where_site = f"{spec.label(r.site)}: " if spec.per_kind else ""
        bullets.append(
            f"{where_site}{cov.effect_words(direction)} the {spec.outcome} hazard "
            f"({hr_text(r.HR, r.lower, r.upper)}, BH-adjusted p = {r.p_adj:.2g})."
        )
    n_tests = int((table["model"] == "cause_specific").sum())
    where = (
        f" in that {spec.kind}" if spec.organ_data else (" of that type" if spec.per_kind else "")
    )
    one_per = f"one per {spec.kind}, " if spec.per_kind else ""
    family = f"{spec.kind} x covariate" if spec.per_kind else "covariate"
    paras = [
        f"Cause-specific Cox models (CS; {one_per}other first events censored) give "
        f"the hazard ratio (HR): how a factor shifts the rate of {spec.outcome}{where} among "
        "patients still free of any event. Fine-Gray models (FG) give the subdistribution "
        f"hazard ratio (sHR): its effect on the cumulative incidence of {spec.outcome}{where}. "
        f"Benjamini-Hochberg (BH) adjusted p-values control the false discovery rate at "
        f"{spec.alpha:g} across the {n_tests} {family} tests of each model; an "
        f"effect is called clear when its BH-adjusted p < {spec.alpha:g}. Each contrast names "
        "its reference level; numeric covariates are per unit."
    ]
    if bullets:
        paras.append(f"Factors with a clear effect on the {spec.outcome} hazard (CS):")
    else:
        paras.append(f"No factor has a clear effect (BH-adjusted p < {spec.alpha:g}).")
    unconverged = [
        f"{spec.label(site)} ({'cause-specific' if kind == 'cause_specific' else 'Fine-Gray'})"
        for (site, kind), m in fits.models.items()
        if not getattr(m, "converged_", True)
    ]
    if unconverged:
        paras.append(
            "Did not converge (a coefficient heads to infinity, e.g. a level without events; "
            "read those rows with caution): " + ", ".join(unconverged) + "."
        )
    if len(fits.skipped):
        paras.append(
            f"Not fitted (fewer than {MIN_EVENTS} events): "
            + ", ".join(f"{spec.label(r.site)} ({r.events})" for r in fits.skipped.itertuples())
        )
    forest = table.assign(
        site=[spec.label(s) for s in table["site"]],
        covariate=[spec.design.of_column(c).contrast for c in table["covariate"]],
    )
    section = Section(
        f"Hazard ratios{spec.per_kind}",
        paras,
        bullets=bullets,
        tables=[
            Table(
                "hazard_ratios",
                wide_table(spec, table),
                f"Cause-specific HR and Fine-Gray subdistribution HR (sHR){spec.per_kind}, "
                "95% CIs, p-values raw and BH-adjusted",
            )
        ],
        figures=[
            Figure(
                "forest",
                plot_forest(forest),
                f"Hazard ratios (95% CI) by {spec.kind} and covariate (cause-specific and "
                "Fine-Gray subdistribution)",
            )
        ],
    )
    return section, fits


def heterogeneity_section(spec: ReportSpec, fits) -> Section:
    title = f"Does an effect differ between {spec.kind}s?"
    fitted = [s for s in spec.organs if (s, "cause_specific") in fits.models]
    if len(fitted) < 2:
        spec.checks["heterogeneous_terms"] = []
        return Section(
            title,
            [
                f"Fewer than two {spec.kind}s with {MIN_EVENTS} or more events "
                f"({', '.join(spec.label(s) for s in fitted) or 'none'}): nothing to compare."
            ],
        )
    stacked = fit_stacked(
        spec.data,
        spec.duration_col,
        spec.event_col,
        spec.columns,
        causes=fitted,
        censor_value=spec.censor_value,
    )
    # test each covariate jointly over its columns (all levels of a categorical term)
    grouped = {t: [c.column for c in spec.design.of_term(t)] for t in spec.design.terms}
    tests = dataclasses.replace(stacked, terms=grouped).equality_tests().copy()
    tests["p_adj"] = multipletests(tests["p"], method="fdr_bh")[1]
    differ = tests[tests["p_adj"] < spec.alpha]
    table = fits.table[fits.table["model"] == "cause_specific"]
    bullets = []
    for term in differ.index:
        words = []
        for cov in spec.design.of_term(term):
            rows = table[table["covariate"] == cov.column]
            up = [spec.label(r.site) for r in rows.itertuples() if r.lower > 1]
            down = [spec.label(r.site) for r in rows.itertuples() if r.upper < 1]
            if up:
                words.append(f"{cov.effect_words('raises')} the hazard in {', '.join(up)}")
            if down:
                obj = "it" if up else "the hazard"
                words.append(f"{cov.effect_words('lowers')} {obj} in {', '.join(down)}")
        detail = (
            " " + "; ".join(words) + " (organs whose own 95% CI excludes 1)."
            if words
            else f" No single {spec.kind}'s own 95% CI excludes 1."
        )
        bullets.append(
            f"{term}: its effect differs between {spec.kind}s (Wald chi2 = "
            f"{tests.loc[term, 'chisq']:.1f} on {int(tests.loc[term, 'df'])} df, "
            f"BH-adjusted p = {tests.loc[term, 'p_adj']:.2g}).{detail}"
        )
    spec.checks["heterogeneous_terms"] = list(differ.index)
    return Section(
        title,
        [
            f"A stacked (Lunn-McNeil) cause-specific model, stratified by {spec.kind} with a "
            f"covariate x {spec.kind} interaction for every term, tests for each covariate the "
            f"hypothesis that its hazard ratio is the same in every {spec.kind} (all levels of a "
            "categorical covariate jointly); p-values BH-adjusted across covariates. Directions "
            f"are named only for {spec.kind}s whose own cause-specific 95% CI excludes 1."
        ],
        bullets=bullets,
        tables=[
            Table(
                "organ_heterogeneity",
                tests,
                f"Same effect in every {spec.kind}? (Wald tests, "
                f"{', '.join(spec.label(s) for s in fitted)})",
            )
        ],
    )
