"""The truth: the effect table's shape, cumulative hazards in closed form, and
the numerical accuracy of the true cumulative incidences."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from formulaic import model_matrix
from scipy import integrate

from synthetic import load_scenario, simulate_cohort
from synthetic import truth as truth_module
from synthetic.scenario_file import scenario_directory

SCENARIO = load_scenario("breast_site_dormancy")


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(SCENARIO, n=1500, seed=31)


@pytest.fixture(scope="module")
def awkward_scenario(tmp_path_factory):
    """Weibull and gamma dormancy with shape < 1 (singular density at 0), a
    sharp Weibull peak, a mixture of such components and seeding fraction 1:
    the hard cases for quadrature."""
    text = (scenario_directory() / "breast_site_dormancy.toml").read_text()
    bone = text[text.index("components = [") : text.index("]\n\n[sites.lung]")]
    bone_seeding = re.search(r"\[sites\.bone\]\nseeding_fraction = [0-9.]+", text).group()
    awkward_bone = (
        "components = [\n"
        '  { weight = 0.4, distribution = "weibull", median_years = 5.0, iqr_years = 12.0 },\n'
        '  { weight = 0.6, distribution = "weibull", median_years = 1.0, iqr_years = 0.2 },\n'
    )
    visceral = 'dormancy = { distribution = "weibull", median_years = 2.5, iqr_years = 1.5 }'
    replacements = [
        (bone, awkward_bone),
        # lung: gamma with shape 0.57
        (visceral, 'dormancy = { distribution = "gamma", median_years = 2.5, iqr_years = 6.0 }'),
        # liver: Weibull with shape 6.2 (a sharp peak)
        (visceral, 'dormancy = { distribution = "weibull", median_years = 2.0, iqr_years = 0.5 }'),
        (bone_seeding, "[sites.bone]\nseeding_fraction = 1.0"),
    ]
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path_factory.mktemp("scenarios") / "awkward.toml"
    path.write_text(text)
    scenario = load_scenario(path)
    bone_parts = scenario.sites[0].baseline.dormancy.components
    shapes = [bone_parts[0].shape, bone_parts[1].shape]
    shapes += [site.baseline.dormancy.shape for site in scenario.sites[1:3]]
    assert shapes[0] < 1 and shapes[1] > 5 and shapes[2] < 1 and shapes[3] > 5
    assert scenario.sites[0].baseline.seeding_fraction == 1.0
    return scenario


def test_truth_table_has_one_row_per_piece_for_every_cause_and_term(cohort):
    truth = cohort.truth
    assert list(truth.columns) == ["site", "covariate", "start", "end", "log_hr"]
    assert list(truth["site"].unique()) == ["bone", "lung", "liver", "brain", "death"]
    terms = list(SCENARIO.design_terms)
    assert "subtype[T.her2]" in terms and "subtype[T.luminal_a]" not in terms
    counts = truth.groupby(["site", "covariate"], sort=False).size()
    assert counts.loc[("brain", "brain_astrocyte_reactivity")] == 2
    assert (counts.drop(("brain", "brain_astrocyte_reactivity")) == 1).all()
    assert len(counts) == 5 * len(terms)
    astro = truth.query("site == 'brain' and covariate == 'brain_astrocyte_reactivity'")
    assert astro[["start", "end", "log_hr"]].to_numpy().tolist() == [
        [0.0, 2.5, -0.9],
        [2.5, np.inf, 0.9],
    ]
    constant = truth.drop(astro.index)
    assert (constant["start"] == 0).all() and np.isinf(constant["end"]).all()
    assert truth.query("site == 'death' and covariate == 'age'")["log_hr"].item() == 0.09
    assert truth.query("site == 'lung' and covariate == 'bone_tgfb2_score'")["log_hr"].item() == 0


def test_design_matrix_names_line_up_with_formulaic(cohort):
    # A user fitting the formula term `subtype` (a Categorical column) gets
    # exactly the truth's covariate names, with the same reference level.
    formula = " + ".join(spec.name for spec in SCENARIO.covariates)
    matrix = model_matrix(formula, cohort.data).drop(columns="Intercept")
    assert list(matrix.columns) == list(SCENARIO.design_terms)
    np.testing.assert_array_equal(matrix.to_numpy(), cohort.design_matrix().to_numpy())


def test_data_columns(cohort):
    data = cohort.data
    assert list(data.columns) == [
        "patient_id",
        *(s.name for s in SCENARIO.covariates),
        "time",
        "event",
    ]
    assert list(data["event"].cat.categories) == [*SCENARIO.cause_names, "censored"]
    assert list(data["subtype"].cat.categories) == ["luminal_a", "luminal_b", "her2", "basal"]
    assert set(data["er_positive"].unique()) <= {0, 1}
    assert (data["time"] > 0).all()
    assert list(cohort.latent.columns) == [*SCENARIO.cause_names, "censored"]


def test_cumulative_hazard_is_closed_form_with_the_change_point(cohort):
    rows = cohort.data.iloc[:5]
    times = [1.0, 2.5, 4.0]
    result = cohort.true_cumulative_hazard("brain", times, rows)
    assert list(result.index) == times and list(result.columns) == list(rows.index)
    brain = SCENARIO.cause("brain")
    design = cohort.design_matrix(rows)
    base = design.drop(columns="brain_astrocyte_reactivity")
    effects = {e.term: e for e in brain.effects}
    common = sum(
        effects[t].log_hrs[0] * (base[t] - _center(t)) for t in base.columns if t in effects
    )
    astro = design["brain_astrocyte_reactivity"]
    h0 = brain.baseline.cumulative
    early = np.exp(common - 0.9 * astro)
    late = np.exp(common + 0.9 * astro)
    expected_4 = early * h0(2.5) + late * (h0(4.0) - h0(2.5))
    np.testing.assert_allclose(result.loc[1.0], early * h0(1.0), rtol=1e-12)
    np.testing.assert_allclose(result.loc[2.5], early * h0(2.5), rtol=1e-12)
    np.testing.assert_allclose(result.loc[4.0], expected_4, rtol=1e-12)


def _center(term):
    name = term.split("[")[0]
    spec = next(s for s in SCENARIO.covariates if s.name == name)
    return spec.center if spec.family != "categorical" else 0.0


def test_true_cif_shape_order_and_basic_laws(cohort):
    times = [10.0, 0.0, 2.5, 5.0, 2.5]
    cif = cohort.true_cif(times)
    assert list(cif.index) == times
    assert list(cif.columns) == list(SCENARIO.cause_names)
    assert (cif.loc[0.0] == 0).all()
    ordered = cohort.true_cif([0.5, 1, 2, 4, 8, 16, 40])
    assert (ordered.diff().iloc[1:] >= 0).all().all()
    assert ordered.sum(axis=1).max() < 1
    # All-cause incidence equals 1 - mean survival, an identity the quadrature does not use.
    t = np.array([3.0, 12.0])
    survival = np.exp(
        -sum(cohort.true_cumulative_hazard(c, t).to_numpy() for c in SCENARIO.cause_names)
    ).mean(axis=1)
    np.testing.assert_allclose(cohort.true_cif(t).sum(axis=1), 1 - survival, atol=1e-10)


def test_individual_cif_averages_to_the_cohort_cif(cohort):
    rows = cohort.data.iloc[:40]
    times = [1.0, 6.0]
    individual = cohort.true_cif(times, rows, individual=True)
    assert individual.index.nlevels == 2 and len(individual) == 80
    average = individual.groupby(level="time").mean()
    np.testing.assert_allclose(
        average.to_numpy(), cohort.true_cif(times, rows).to_numpy(), atol=1e-14
    )
    one = cohort.true_cif(times, rows.iloc[[3]])
    np.testing.assert_allclose(one.to_numpy(), individual.loc[rows.index[3]].to_numpy(), atol=1e-14)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["default", "awkward"])
def test_quadrature_is_accurate_to_well_below_1e_6(which, awkward_scenario):
    scenario = SCENARIO if which == "default" else awkward_scenario
    cohort = simulate_cohort(scenario, n=400, seed=2)
    times = np.array([0.3, 1.0, 2.5, 6.0, 15.0, 30.0])
    design = truth_module.design_from_data(scenario, cohort.data)
    default = truth_module.cumulative_incidence(scenario, design, 400, times, individual=True)
    refined = truth_module.cumulative_incidence(
        scenario, design, 400, times, individual=True, refinement=4
    )
    assert np.abs(default - refined).max() < 1e-8
    # Independent check with scipy's adaptive quadrature (all causes at once)
    # for the riskiest patient and a typical one.
    risk = sum(np.abs(column) for column in design.values())
    change_points = sorted({c for cause in scenario.causes for c in cause.change_points})
    for row, checked in [(int(np.argmax(risk)), (5,)), (0, (2, 5))]:
        single = {term: values[row : row + 1] for term, values in design.items()}
        etas = [cause.linear_predictors(single, 1) for cause in scenario.causes]

        def integrand(u, etas=etas):
            at = np.array([u])
            survival = np.exp(
                -sum(
                    cause.cumulative_hazard(at, eta)[0, 0]
                    for cause, eta in zip(scenario.causes, etas, strict=True)
                )
            )
            hazards = [
                np.exp(eta[sum(u >= c for c in cause.change_points)][0]) * cause.baseline.hazard(u)
                for cause, eta in zip(scenario.causes, etas, strict=True)
            ]
            return survival * np.array(hazards)

        for j in checked:
            breaks = [c for c in change_points if c < times[j]] or None
            value, _ = integrate.quad_vec(
                integrand, 0.0, times[j], points=breaks, epsabs=1e-12, epsrel=1e-12, limit=2000
            )
            np.testing.assert_allclose(value, default[row, j], rtol=0, atol=1e-8)


def test_bad_inputs_raise_value_errors(cohort):
    with pytest.raises(ValueError, match="negative or non-finite"):
        cohort.true_cif([-1.0, 2.0])
    with pytest.raises(ValueError, match="negative or non-finite"):
        cohort.true_cif([np.inf])
    with pytest.raises(ValueError, match="lacks 1 covariate"):
        cohort.true_cif([1.0], cohort.data.drop(columns="age"))
    with pytest.raises(ValueError, match="site 'kidney'"):
        cohort.true_cumulative_hazard("kidney", [1.0])
    bad = cohort.data.iloc[:3].assign(subtype=["basal", "luminal_c", "her2"])
    with pytest.raises(ValueError, match="1 values outside its levels"):
        cohort.true_cif([1.0], bad)


def test_categorical_given_as_plain_strings_is_accepted(cohort):
    rows = cohort.data.iloc[:20]
    as_strings = rows.assign(subtype=rows["subtype"].astype(str))
    pd.testing.assert_frame_equal(cohort.true_cif([2.0], rows), cohort.true_cif([2.0], as_strings))
