"""synthetic.calibrate: recovery of known parameters, published targets, refusals,
the written TOML, and the TARGETS.toml reader."""

from __future__ import annotations

import copy
import re
import tomllib

import numpy as np
import pytest
from scipy import optimize

from synthetic import calibrate, load_scenario, read_targets, simulate_cohort
from synthetic.scenario_file import parse_scenario, scenario_directory

DEFAULT = load_scenario("breast_site_dormancy")
SITES = list(DEFAULT.site_names)
TARGETS = scenario_directory().parent / "calibration_targets"
PATIENTS = 400  # recovery is exact for any reference sample; small keeps it fast


def perturbed(pi_factors: dict, scale_factors: dict):
    """The default scenario with seeding fractions and dormancy time scales changed."""
    raw = copy.deepcopy(DEFAULT.raw)
    for site, factor in pi_factors.items():
        raw["sites"][site]["seeding_fraction"] *= factor
    for site, factor in scale_factors.items():
        dormancy = raw["sites"][site]["dormancy"]
        for part in dormancy.get("components", [dormancy]):
            part["median_years"] *= factor
            part["iqr_years"] *= factor
    return parse_scenario(raw, source="perturbed", name="perturbed")


def test_known_seeding_fractions_and_time_scales_are_recovered():
    # Targets computed exactly from the default scenario: incidence at 5 and
    # 15 years in every organ (8 targets, 8 parameters).
    truth = simulate_cohort(DEFAULT, PATIENTS, 3).true_cif([5.0, 15.0])
    targets = [
        {"site": site, "cumulative_incidence": truth.loc[t, site], "at_years": t}
        for site in SITES
        for t in (5.0, 15.0)
    ]
    start = perturbed(
        {"bone": 1.3, "lung": 0.7, "liver": 1.2, "brain": 0.8},
        {"bone": 0.8, "lung": 1.25, "liver": 0.85, "brain": 1.2},
    )
    result = calibrate(start, targets, seed=3, reference_patients=PATIENTS)
    for site in SITES:
        original = DEFAULT.cause(site).baseline
        fitted = result.fitted.loc[site]
        assert fitted["seeding_fraction"] == pytest.approx(original.seeding_fraction, rel=0.01)
        assert fitted["seeding_fraction_before"] != pytest.approx(fitted["seeding_fraction"])
        # the perturbed scale was 0.8 etc.: the fit undoes it
        dormancy = result.scenario.cause(site).baseline.dormancy
        assert dormancy.median == pytest.approx(original.dormancy.median, rel=0.01)
    # Beyond the 1 % the issue asks: the solve is exact to optimiser precision.
    assert result.table["relative_error"].abs().max() < 1e-8
    assert result.table["met"].all()


def test_berman_four_15_year_incidences_are_met_within_0_2_points():
    spec = read_targets(TARGETS / "berman_2013.toml")
    assert [t.site for t in spec.targets] == SITES
    result = calibrate(spec.scenario, spec.targets, seed=spec.seed, reference_patients=500)
    berman = {"bone": 5.9, "lung": 5.9 * 22.4 / 41.1, "liver": 5.9 * 7.3 / 41.1}
    berman["brain"] = berman["liver"]
    cohort = simulate_cohort(result.scenario, 500, spec.seed)
    achieved = 100 * cohort.true_cif([15.0]).loc[15.0, SITES]  # independent of the fit's table
    for site in SITES:
        assert abs(achieved[site] - berman[site]) < 0.2, (site, achieved[site])
        assert abs(achieved[site] - berman[site]) < 1e-4  # in fact exactly
    # Berman's level of risk needs about a third of the default's seeding fractions.
    assert (result.fitted["seeding_fraction"] < result.fitted["seeding_fraction_before"]).all()


def lung_median_within(cohort, horizon: float) -> float:
    """Root of F_lung(t) = F_lung(horizon) / 2, found on the exact incidence."""
    half = cohort.true_cif([horizon]).loc[horizon, "lung"] / 2
    return optimize.brentq(
        lambda t: cohort.true_cif([t]).iloc[0]["lung"] - half, 0.05, horizon, xtol=1e-10
    )


def test_median_and_yearly_hazard_targets_recover_a_known_scenario():
    truth = perturbed({"lung": 1.2, "liver": 0.9}, {"lung": 1.1, "liver": 1.15})
    cohort = simulate_cohort(truth, PATIENTS, 5)
    at = cohort.true_cif([1.0, 2.0, 10.0])
    liver_hazard = (at.loc[2.0, "liver"] - at.loc[1.0, "liver"]) / (1 - at.loc[1.0].sum())
    targets = [
        {"site": "lung", "cumulative_incidence": at.loc[10.0, "lung"], "at_years": 10},
        {"site": "lung", "median_years": lung_median_within(cohort, 10.0), "within_years": 10},
        {"site": "liver", "cumulative_incidence": at.loc[10.0, "liver"], "at_years": 10},
        {"site": "liver", "yearly_hazard": liver_hazard, "from_years": 1, "to_years": 2},
    ]
    result = calibrate(DEFAULT, targets, seed=5, reference_patients=PATIENTS)
    assert result.table["met"].all()
    # The median is read off an interpolated grid: still within 1e-4 of the root.
    assert result.table["relative_error"].abs().max() < 1e-4
    for site in ("lung", "liver"):
        expected = truth.cause(site).baseline
        fitted = result.scenario.cause(site).baseline
        assert fitted.seeding_fraction == pytest.approx(expected.seeding_fraction, rel=0.01)
        assert fitted.dormancy.median == pytest.approx(expected.dormancy.median, rel=0.01)
    assert list(result.fitted.index) == ["lung", "liver"]  # organs without targets untouched
    assert result.scenario.cause("bone").baseline == DEFAULT.cause("bone").baseline


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        (
            [
                {"site": "bone", "cumulative_incidence": 0.6, "at_years": 10},
                {"site": "lung", "cumulative_incidence": 0.5, "at_years": 10},
            ],
            "sum to 1.1",
        ),
        (
            [
                {"site": "bone", "cumulative_incidence": 0.10, "at_years": 5},
                {"site": "bone", "cumulative_incidence": 0.08, "at_years": 10},
            ],
            "only grows with time",
        ),
        ([{"site": "kidney", "cumulative_incidence": 0.1, "at_years": 5}], "not an organ"),
        (
            [
                {"site": "bone", "cumulative_incidence": 0.1, "at_years": 5},
                {"site": "bone", "cumulative_incidence": 0.1, "at_years": 5},
            ],
            "repeat",
        ),
        ([{"site": "bone", "cumulative_incidence": 8, "at_years": 5}], "out of range"),
        ([{"site": "bone", "median_years": 12, "within_years": 10}], "not below"),
        ([], "empty"),
    ],
)
def test_targets_that_cannot_hold_are_refused_before_fitting(targets, message):
    with pytest.raises(ValueError, match=message):
        calibrate(DEFAULT, targets, reference_patients=50)


def test_unreachable_targets_are_refused_with_the_best_reachable_values():
    # Brain in 60 % of patients within a year: even if every patient carried
    # cells there, the dormancy distribution (median 2.5 years) forbids it.
    targets = [{"site": "brain", "cumulative_incidence": 0.6, "at_years": 1}]
    with pytest.raises(ValueError, match="cannot be met together") as caught:
        calibrate(DEFAULT, targets, reference_patients=200)
    assert "best reachable" in str(caught.value)
    assert "brain cumulative_incidence (at_years = 1)" in str(caught.value)


def test_written_scenario_round_trips_and_records_its_targets(tmp_path):
    targets = [
        {"site": "liver", "cumulative_incidence": 0.02, "at_years": 10, "source": "table 2"},
    ]
    result = calibrate(DEFAULT, targets, reference_patients=300)
    path = result.write(tmp_path / "liver.toml")
    loaded = load_scenario(path)
    assert (
        loaded.cause("liver").baseline.seeding_fraction
        == result.fitted.loc["liver"]["seeding_fraction"]
    )
    assert loaded.cause("bone").baseline == DEFAULT.cause("bone").baseline  # untouched
    raw = tomllib.loads(path.read_text())
    recorded = raw["calibration"]["targets"][0]
    assert recorded["value"] == 0.02 and recorded["source"] == "table 2"
    assert recorded["achieved"] == pytest.approx(0.02, rel=1e-3)
    text = path.read_text()
    assert "CALIBRATED" in text and "ASSUMPTION" in text
    # The fitted scenario reproduces the target when simulated afresh.
    assert simulate_cohort(loaded, 300, 1).true_cif([10.0]).loc[10.0, "liver"] == (
        pytest.approx(0.02, rel=1e-3)
    )


def test_write_keeps_an_existing_file_unless_forced(tmp_path):
    result = calibrate(
        DEFAULT,
        [{"site": "lung", "cumulative_incidence": 0.05, "at_years": 10}],
        reference_patients=100,
    )
    path = tmp_path / "mine.toml"
    path.write_text("my own notes\n")
    with pytest.raises(ValueError, match="already exists"):
        result.write(path)
    assert path.read_text() == "my own notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml"]  # no leftovers
    result.write(path, force=True)
    assert load_scenario(path).cause("lung").baseline.seeding_fraction == pytest.approx(
        result.fitted.loc["lung", "seeding_fraction"]
    )


def test_read_targets_validates_the_file(tmp_path):
    def write(text):
        path = tmp_path / "targets.toml"
        path.write_text(text)
        return path

    good = 'scenario = "breast_site_dormancy"\n[[targets]]\nsite = "bone"\n'
    spec = read_targets(write(good + "cumulative_incidence = 0.1\nat_years = 10\n"))
    assert spec.scenario == "breast_site_dormancy" and spec.seed == 1
    assert spec.targets[0].value == 0.1 and spec.targets[0].times == (10.0,)
    for text, message in [
        (good + "cumulative_incidence = 0.1\n", "targets[0].at_years is missing"),
        (good + "incidence = 0.1\nat_years = 10\n", "names 0 kinds"),
        (good + "cumulative_incidence = 0.1\nat_years = 10\ncode = 1\n", "not a known key"),
        ('scenario = "x"\nseed = -1\n[[targets]]\n', "seed"),
        ('scenario = "x"\n', "targets is missing"),
        ("scenario = \n", "not valid TOML"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            read_targets(write(text))


def test_relative_scenario_path_is_resolved_beside_the_targets_file(tmp_path):
    (tmp_path / "mine.toml").write_text(
        (scenario_directory() / "breast_site_dormancy.toml").read_text()
    )
    path = tmp_path / "targets.toml"
    path.write_text(
        'scenario = "mine.toml"\n[[targets]]\nsite = "bone"\n'
        "cumulative_incidence = 0.1\nat_years = 10\n"
    )
    assert read_targets(path).scenario == str(tmp_path / "mine.toml")
    assert np.isfinite(read_targets(path).tolerance)


def test_a_false_minimum_is_left_by_restarting_from_other_time_scales():
    # One seeding fraction (x[0]) and one log time scale (x[1]); the scale's
    # residual has a false minimum at log s = 0.6 (a local solve from s = 1,
    # log s = 0, ends there) and its root at s = 0.25. A bone median within a
    # horizon behaves like this (see synthetic/calibration.py, _solve).
    from synthetic.calibration import _solve

    root = np.log(0.25)

    def residuals(x):
        u = x[1]
        scale_residual = (u - root) * ((u - 0.6) ** 2 + 0.05)
        return np.array([x[0] - 0.3, scale_residual])

    from_one = optimize.least_squares(residuals, np.array([0.0, 0.0]))
    assert abs(from_one.fun[1]) > 0.01  # the false minimum
    solution = _solve(residuals, np.array([0.0, 0.0]), 1, 1, tolerance=1e-9)
    assert np.exp(solution.x[1]) == pytest.approx(0.25, rel=1e-9)
    assert np.max(np.abs(solution.fun)) < 1e-9
