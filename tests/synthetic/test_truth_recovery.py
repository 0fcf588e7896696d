"""Statistical checks that simulated cohorts follow their stated truth.

Tolerances are explicit Monte Carlo standard errors, not tuned to the seeds:
each comparison allows 4 SEs (two-sided false-alarm probability 6e-5), so
even the ~60 comparisons of a module together fail by chance well under 1 %
of the time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic import load_scenario, simulate_cohort

Z = 4.0
SCENARIO = load_scenario("breast_site_dormancy")


@pytest.fixture(scope="module")
def large_cohort():
    return simulate_cohort(SCENARIO, n=200_000, seed=8_675_309)


@pytest.fixture(scope="module")
def cox_cohort():
    return simulate_cohort(SCENARIO, n=50_000, seed=4_242)


@pytest.fixture(scope="module")
def cause_specific_fits(cox_cohort, cox, split):
    """Cause-specific Cox fit per cause on data split at that cause's change points."""
    data = cox_cohort.data
    design = cox_cohort.design_matrix()
    fits = {}
    for cause in SCENARIO.cause_names:
        rows = cox_cohort.truth.query("site == @cause")
        X, start, stop, event, truth_of = split(
            rows, design, data["time"], (data["event"] == cause).to_numpy()
        )
        coef, se = cox(X, stop, event, start)
        truth = pd.Series({name: row["log_hr"] for name, row in truth_of.items()})
        fits[cause] = pd.DataFrame({"coef": coef, "se": se, "truth": truth[coef.index]})
    return fits


@pytest.mark.slow
def test_aalen_johansen_matches_true_cumulative_incidence(large_cohort, aj):
    data = large_cohort.data
    times = [0.5, 1.0, 2.0, 2.5, 3.0, 5.0, 7.5, 10.0, 12.5]
    causes = list(SCENARIO.cause_names)
    estimate, se = aj(data["time"], data["event"], causes, times)
    true = large_cohort.true_cif(times)
    z = (estimate - true[causes]) / se
    assert (se > 0).all().all()
    assert (z.abs() < Z).all().all(), z.round(2)


@pytest.mark.parametrize("cause", SCENARIO.cause_names)
def test_latent_times_follow_the_true_cumulative_hazard(large_cohort, cause):
    # P(T_k <= t) = 1 - mean_i exp(-H_k(t | x_i)). The binomial SE with the
    # pooled p bounds the SE given covariates. t = 1e9 checks the fraction of
    # patients whose cells never wake in the organ.
    last = 1e9 if SCENARIO.cause(cause).is_site else 30.0
    times = [0.5, 1.0, 2.5, 4.0, 10.0, last]
    hazard = large_cohort.true_cumulative_hazard(cause, times)
    expected = 1.0 - np.exp(-hazard.to_numpy()).mean(axis=1)
    latent = large_cohort.latent[cause].to_numpy()
    observed = np.array([(latent <= t).mean() for t in times])
    se = np.sqrt(expected * (1 - expected) / latent.size)
    z = (observed - expected) / se
    assert np.all(np.abs(z) < Z), dict(zip(times, z.round(2), strict=True))
    if SCENARIO.cause(cause).is_site:
        assert np.isinf(latent).mean() > 0.5  # most patients never relapse in one organ


def test_censoring_follows_accrual_and_dropout(large_cohort):
    plan = SCENARIO.censoring
    latent = large_cohort.latent["censored"].to_numpy()
    times = np.array([2.0, 8.0, 10.5, 12.0, 14.0, 14.9])
    administrative = np.clip((plan.study_end_years - times) / plan.accrual_years, 0, 1)
    expected = administrative * np.exp(-plan.dropout_rate * times)
    observed = np.array([(latent > t).mean() for t in times])
    se = np.sqrt(expected * (1 - expected) / latent.size)
    assert np.all(np.abs(observed - expected) < Z * se)
    assert latent.max() <= plan.study_end_years


def test_observed_data_are_the_first_latent_event(large_cohort):
    latent = large_cohort.latent
    data = large_cohort.data
    np.testing.assert_array_equal(data["time"].to_numpy(), latent.min(axis=1).to_numpy())
    np.testing.assert_array_equal(
        data["event"].astype(str).to_numpy(), latent.idxmin(axis=1).to_numpy()
    )


@pytest.mark.parametrize("cause", SCENARIO.cause_names)
def test_split_cox_fit_recovers_every_true_log_hazard_ratio(cause_specific_fits, cause):
    fit = cause_specific_fits[cause]
    z = (fit["coef"] - fit["truth"]) / fit["se"]
    assert (z.abs() < Z).all(), fit.assign(z=z).round(3)


def test_death_hazard_has_the_gompertz_age_effect(cause_specific_fits):
    age = cause_specific_fits["death"].loc["age"]
    assert age["truth"] == SCENARIO.death.baseline.growth == 0.09
    assert abs(age["coef"] - age["truth"]) < Z * age["se"]
    assert age["se"] < 0.01  # informative enough to mean something


def test_double_agent_is_detectable_at_n_4000(cause_specific_fits, cox_cohort):
    # The downstream report fits n = 4000. Scale the SEs of the n = 50,000 fit
    # by sqrt(50,000 / 4,000) and require each piece's expected |z| >= 4: then
    # a 5 %-level test detects it with probability above 0.97.
    fit = cause_specific_fits["brain"]
    pieces = fit[fit.index.str.startswith("brain_astrocyte_reactivity@")]
    assert len(pieces) == 2
    assert pieces["truth"].iloc[0] < 0 < pieces["truth"].iloc[1]
    se_4000 = pieces["se"] * np.sqrt(len(cox_cohort.data) / 4000)
    assert (pieces["truth"].abs() / se_4000 >= 4.0).all(), se_4000


def test_opposite_signs_in_two_organs():
    truth = simulate_cohort(SCENARIO, n=10, seed=0).truth
    er = truth.query("covariate == 'er_positive'").set_index("site")["log_hr"]
    assert er["bone"] > 0 > er["brain"]


def test_site_mix_and_timing_follow_the_scenario_documentation(large_cohort):
    # Berman et al. 2013 shares of first metastases (over the whole follow-up)
    # renormalised over bone, lung, liver, brain. The seeding fractions are
    # calibrated to them at 15 years on a reference sample of 20,000 patients;
    # this cohort is another sample of the same covariate distribution, whose
    # sampling error in a share is a few 0.1 percentage points at most.
    cif = large_cohort.true_cif([2.0, 10.0, 15.0])
    sites = list(SCENARIO.site_names)
    share = cif.loc[15.0, sites] / cif.loc[15.0, sites].sum()
    targets = pd.Series({"bone": 41.1, "lung": 22.4, "liver": 7.3, "brain": 7.3})
    assert (share - targets / targets.sum()).abs().max() < 0.005, share
    early_fraction = cif.loc[2.0, sites] / cif.loc[10.0, sites]
    assert early_fraction["bone"] < early_fraction.drop("bone").min()  # bone relapses later


def test_event_counts_at_n_4000_are_workable(large_cohort):
    expected = large_cohort.data["event"].value_counts() * 4000 / len(large_cohort.data)
    assert expected[list(SCENARIO.site_names)].min() >= 80, expected
