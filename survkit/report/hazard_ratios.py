"""Per-organ hazard ratios and the test of the same effect in every organ."""

from __future__ import annotations

from statsmodels.stats.multitest import multipletests

from ..organs.site_models import fit_sites
from ..organs.stacked import fit_stacked
from ..plots import plot_forest
from .content import Figure, Section, Table
from .spec import ReportSpec, hr_text


def hazard_ratio_section(spec: ReportSpec):
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
            f"({hr_text(r.HR, r.lower, r.upper)}, BH-adjusted p = {r.p_adj:.2g})."
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


def heterogeneity_section(spec: ReportSpec) -> Section:
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
