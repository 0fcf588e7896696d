"""The test-side estimators (conftest.py) agree with lifelines and with Monte Carlo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter, CoxPHFitter

from synthetic import load_scenario, simulate_cohort


@pytest.fixture(scope="module")
def small_cohort():
    return simulate_cohort(load_scenario("breast_site_dormancy"), n=3000, seed=20240)


def test_aalen_johansen_matches_lifelines(small_cohort, aj):
    data = small_cohort.data
    times = [1.0, 3.0, 6.0, 10.0]
    ours, _ = aj(data["time"], data["event"], ["bone", "death"], times)
    codes = data["event"].cat.codes.to_numpy() + 1
    codes[data["event"].to_numpy() == "censored"] = 0
    for cause in ["bone", "death"]:
        code = list(data["event"].cat.categories).index(cause) + 1
        fitter = AalenJohansenFitter(calculate_variance=False)
        fitter.fit(data["time"], codes, event_of_interest=code)
        curve = fitter.cumulative_density_.iloc[:, 0]
        theirs = [curve.loc[:t].iloc[-1] for t in times]
        np.testing.assert_allclose(ours[cause].to_numpy(), theirs, rtol=0, atol=1e-12)


def test_aalen_johansen_standard_error_matches_replication_spread(aj):
    # 200 independent cohorts: the mean delta-method SE should match the
    # empirical SD of the estimates. The SD of 200 draws has relative Monte
    # Carlo error about 1/sqrt(400) = 5 %, so +-17 % is more than 3 such errors.
    scenario = load_scenario("breast_site_dormancy")
    estimates, errors = [], []
    for seed in range(200):
        data = simulate_cohort(scenario, n=1500, seed=seed).data
        cif, se = aj(data["time"], data["event"], ["bone", "lung"], [5.0])
        estimates.append(cif.iloc[0].to_numpy())
        errors.append(se.iloc[0].to_numpy())
    ratio = np.mean(errors, axis=0) / np.std(estimates, axis=0, ddof=1)
    assert np.all(np.abs(ratio - 1.0) < 0.17), ratio


def test_cox_helper_matches_lifelines(small_cohort, cox):
    X = small_cohort.design_matrix()
    data = small_cohort.data
    event = (data["event"] == "lung").to_numpy()
    coef, se = cox(X, data["time"], event)
    reference = CoxPHFitter().fit(
        pd.concat([X, data["time"]], axis=1).assign(event=event),
        "time",
        "event",
        fit_options={"precision": 1e-12},
    )
    np.testing.assert_allclose(coef, reference.params_[coef.index], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(se, reference.standard_errors_[se.index], rtol=1e-5)


def test_split_fit_without_time_varying_terms_equals_unsplit_fit(small_cohort, cox, split):
    # Splitting follow-up into episodes must not change a Cox fit.
    data = small_cohort.data
    X = small_cohort.design_matrix()
    event = (data["event"] == "bone").to_numpy()
    rows = small_cohort.truth.query("site == 'bone'")
    Xs, start, stop, events, _ = split(rows, X, data["time"], event, extra_cuts=(2.0, 4.0))
    assert len(Xs) > len(X)
    split_coef, split_se = cox(Xs, stop, events, start)
    coef, se = cox(X, data["time"], event)
    np.testing.assert_allclose(split_coef, coef[split_coef.index], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(split_se, se[split_se.index], rtol=1e-8)
