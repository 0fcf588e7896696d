"""Scenario files: the built-ins load, and every invalid spec fails with a
ValueError that names the file and the offending key."""

from __future__ import annotations

import json
import re
import tomllib

import numpy as np
import pytest

from synthetic import DEFAULT_SCENARIO, list_scenarios, load_scenario
from synthetic.scenario_file import scenario_directory

DEFAULT_TEXT = (scenario_directory() / f"{DEFAULT_SCENARIO}.toml").read_text()


def write_variant(tmp_path, old: str, new: str, name="variant"):
    assert old in DEFAULT_TEXT, f"test fixture out of date: {old!r} not in the default scenario"
    path = tmp_path / f"{name}.toml"
    path.write_text(DEFAULT_TEXT.replace(old, new, 1))
    return path


def assert_rejected(path, key: str, *words: str):
    with pytest.raises(ValueError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert str(path) in message, message
    assert key in message, message
    for word in words:
        assert word in message, message
    assert ";" in message  # problem; fix


def test_builtin_scenarios_are_listed_with_one_line_descriptions():
    scenarios = list_scenarios()
    assert set(scenarios) == {"breast_site_dormancy", "site_agnostic"}
    for description in scenarios.values():
        assert description and "\n" not in description


def test_load_by_name_and_by_path_agree():
    by_name = load_scenario("breast_site_dormancy")
    by_path = load_scenario(scenario_directory() / "breast_site_dormancy.toml")
    assert by_name.site_names == by_path.site_names == ("bone", "lung", "liver", "brain")
    assert by_name.cause_names[-1] == "death"


def test_site_agnostic_differs_from_default_only_in_dormancy_and_seeding():
    default = tomllib.loads(DEFAULT_TEXT)
    agnostic = tomllib.loads((scenario_directory() / "site_agnostic.toml").read_text())
    for key in ("censoring", "covariates", "correlations", "death", "effects"):
        assert agnostic[key] == default[key], key
    dormancies = {
        json.dumps(site["dormancy"], sort_keys=True) for site in agnostic["sites"].values()
    }
    assert len(dormancies) == 1
    assert list(agnostic["sites"]) == list(default["sites"])


def test_every_scenario_number_is_commented():
    # Each numeric assignment either carries a comment or sits under a comment
    # block that documents it; the file's header names the sources.
    for path in scenario_directory().glob("*.toml"):
        text = path.read_text()
        assert "ASSUMPTION" in text and "Berman" in text, path


def test_unknown_dormancy_distribution(tmp_path):
    path = write_variant(
        tmp_path,
        'dormancy = { distribution = "weibull", median_years = 2.5, iqr_years = 1.5 }',
        'dormancy = { distribution = "cauchy", median_years = 2.5, iqr_years = 1.5 }',
    )
    assert_rejected(path, "sites.lung.dormancy.distribution", "cauchy", "mixture")


def test_unknown_covariate_distribution(tmp_path):
    path = write_variant(tmp_path, 'distribution = "poisson"', 'distribution = "zipf"')
    assert_rejected(path, "covariates.positive_nodes.distribution", "zipf")


@pytest.mark.parametrize("value", ["1.2", "-0.1"])
def test_seeding_fraction_outside_unit_interval(tmp_path, value):
    path = write_variant(tmp_path, "seeding_fraction = 0.04228", f"seeding_fraction = {value}")
    assert_rejected(path, "sites.lung.seeding_fraction", "out of range")


def test_negative_median(tmp_path):
    path = write_variant(
        tmp_path,
        'dormancy = { distribution = "weibull", median_years = 2.5,',
        'dormancy = { distribution = "weibull", median_years = -2.5,',
    )
    assert_rejected(path, "sites.lung.dormancy.median_years", "out of range")


def test_change_points_out_of_order(tmp_path):
    path = write_variant(
        tmp_path,
        "change_points = [2.5], log_hr = [-0.9, 0.9]",
        "change_points = [4.0, 2.5], log_hr = [-0.9, 0.0, 0.9]",
    )
    assert_rejected(path, "effects.brain.brain_astrocyte_reactivity.change_points", "increasing")


def test_change_points_and_log_hr_lengths_disagree(tmp_path):
    path = write_variant(
        tmp_path,
        "change_points = [2.5], log_hr = [-0.9, 0.9]",
        "change_points = [2.5], log_hr = [-0.9]",
    )
    assert_rejected(path, "effects.brain.brain_astrocyte_reactivity.log_hr", "2 values")


def test_effect_on_unknown_covariate(tmp_path):
    path = write_variant(tmp_path, "bone_tgfb2_score = -0.5", "bone_tgf_score = -0.5")
    assert_rejected(path, "effects.bone.bone_tgf_score", "unknown covariate")


def test_effect_on_unknown_site(tmp_path):
    path = write_variant(tmp_path, "[effects.liver]", "[effects.kidney]")
    assert_rejected(path, "effects.kidney", "unknown site", "bone")


def test_microenvironment_covariate_on_unknown_organ(tmp_path):
    path = write_variant(tmp_path, 'organ = "liver"', 'organ = "spleen"')
    assert_rejected(path, "covariates.liver_nk_activity.organ", "unknown site")


def test_effect_on_reference_level(tmp_path):
    path = write_variant(
        tmp_path,
        "subtype = { luminal_b = 0.3, her2 = 0.2, basal = -0.7 }",
        "subtype = { luminal_a = 0.3 }",
    )
    assert_rejected(path, "effects.bone.subtype.luminal_a", "reference level")


def test_misspelt_key(tmp_path):
    path = write_variant(tmp_path, "seeding_fraction = 0.299666", "sedding_fraction = 0.299666")
    assert_rejected(path, "sites.bone.sedding_fraction", "not a known key")


def test_correlation_matrix_not_positive_definite(tmp_path):
    extra = (
        '[[correlations]]\nbetween = ["age", "tumour_size_cm"]\nrho = 0.99\n'
        '[[correlations]]\nbetween = ["age", "positive_nodes"]\nrho = 0.99\n'
        '[[correlations]]\nbetween = ["tumour_size_cm", "positive_nodes"]'
    )
    path = write_variant(
        tmp_path, '[[correlations]]\nbetween = ["tumour_size_cm", "positive_nodes"]', extra
    )
    assert_rejected(path, "correlations", "positive-definite")


def test_study_end_before_accrual_ends(tmp_path):
    path = write_variant(tmp_path, "study_end_years = 15.0", "study_end_years = 4.0")
    assert_rejected(path, "censoring.study_end_years", "accrual")


def test_invalid_toml_names_the_file(tmp_path):
    path = write_variant(tmp_path, "[censoring]", "[censoring")
    assert_rejected(path, "", "not valid TOML")


def test_unknown_builtin_name_lists_the_choices():
    with pytest.raises(ValueError, match=re.escape("breast_site_dormancy")):
        load_scenario("breast_dormancy_typo")


def test_categorical_probabilities_must_sum_to_one(tmp_path):
    path = write_variant(
        tmp_path,
        "probabilities = [0.55, 0.193, 0.145, 0.112]",
        "probabilities = [0.55, 0.193, 0.145, 0.1]",
    )
    assert_rejected(path, "covariates.subtype.probabilities", "sum")


@pytest.mark.parametrize("family", ["lognormal", "weibull", "gamma"])
def test_every_dormancy_family_loads_and_keeps_its_median_and_iqr(tmp_path, family):
    path = write_variant(
        tmp_path,
        'dormancy = { distribution = "weibull", median_years = 2.5, iqr_years = 1.5 }',
        f'dormancy = {{ distribution = "{family}", median_years = 2.5, iqr_years = 1.5 }}',
    )
    dormancy = load_scenario(path).cause("lung").baseline.dormancy
    q25, q50, q75 = dormancy.ppf(np.array([0.25, 0.5, 0.75]))
    assert q50 == pytest.approx(2.5, rel=1e-10)
    assert q75 - q25 == pytest.approx(1.5, rel=1e-9)


def test_iqr_that_a_family_cannot_have(tmp_path):
    path = write_variant(
        tmp_path,
        'dormancy = { distribution = "weibull", median_years = 2.5, iqr_years = 1.5 }',
        'dormancy = { distribution = "weibull", median_years = 2.5, iqr_years = 0.001 }',
    )
    assert_rejected(path, "sites.lung.dormancy.iqr_years", "weibull")


def test_mixture_weights_must_sum_to_one(tmp_path):
    path = write_variant(tmp_path, "{ weight = 0.85,", "{ weight = 0.8,")
    assert_rejected(path, "sites.bone.dormancy.components", "sum to 0.95")


def test_mixture_needs_two_components(tmp_path):
    old = DEFAULT_TEXT[
        DEFAULT_TEXT.index("components = [") : DEFAULT_TEXT.index("]\n\n[sites.lung]")
    ]
    path = write_variant(tmp_path, old, "components = [")
    assert_rejected(path, "sites.bone.dormancy.components", "at least two")


def test_mixture_component_is_checked_like_a_distribution(tmp_path):
    path = write_variant(
        tmp_path,
        'distribution = "weibull", median_years = 25.0',
        'distribution = "weibull", median_years = -25.0',
    )
    assert_rejected(path, "sites.bone.dormancy.components[1].median_years", "out of range")


def test_mixture_loads_with_its_weights_and_components():
    dormancy = load_scenario(DEFAULT_SCENARIO).cause("bone").baseline.dormancy
    assert dormancy.family == "mixture" and dormancy.weights == (0.15, 0.85)
    assert [c.median for c in dormancy.components] == [2.5, 25.0]
    # the mixture's distribution function is the weighted sum of its components'
    t = np.array([1.0, 5.0, 20.0])
    np.testing.assert_allclose(
        dormancy.cdf(t), 0.15 * dormancy.components[0].cdf(t) + 0.85 * dormancy.components[1].cdf(t)
    )


def test_bernoulli_given_an_unknown_categorical(tmp_path):
    path = write_variant(tmp_path, 'given = "subtype"', 'given = "age"')
    assert_rejected(path, "covariates.er_positive.given", "not a categorical", "subtype")


def test_bernoulli_given_needs_every_level(tmp_path):
    path = write_variant(tmp_path, "her2 = 0.706, basal = 0.0 }", "her2 = 0.706, triple = 0.0 }")
    assert_rejected(path, "covariates.er_positive.p", "['basal']", "['triple']")


def test_bernoulli_given_needs_a_table_of_probabilities(tmp_path):
    old = "p = { luminal_a = 0.96, luminal_b = 0.96, her2 = 0.706, basal = 0.0 }"
    path = write_variant(tmp_path, old, "p = 0.8")
    assert_rejected(path, "covariates.er_positive.p", "each level")


def test_bernoulli_given_cannot_also_be_in_the_copula(tmp_path):
    extra = '[[correlations]]\nbetween = ["er_positive", "age"]\nrho = 0.2\n[[correlations]]'
    path = write_variant(tmp_path, "[[correlations]]", extra)
    assert_rejected(path, "correlations[0].between", "er_positive", "remove this correlation")
