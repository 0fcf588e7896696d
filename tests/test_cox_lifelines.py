"""survkit against lifelines, an independent implementation (rossi, Stanford heart)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, CoxTimeVaryingFitter
from lifelines.datasets import load_rossi, load_stanford_heart_transplants
from sklearn.exceptions import ConvergenceWarning

from survkit import CoxPH

ROSSI_X = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


@pytest.fixture(scope="module")
def rossi():
    return load_rossi()


def test_rossi_efron_matches_lifelines(rossi):
    ours = CoxPH().fit(rossi, "week", "arrest", formula=ROSSI_X)
    theirs = CoxPHFitter().fit(rossi, "week", "arrest")
    np.testing.assert_allclose(ours.params_[ROSSI_X], theirs.params_[ROSSI_X], rtol=1e-5)
    np.testing.assert_allclose(
        ours.standard_errors_[ROSSI_X], theirs.standard_errors_[ROSSI_X], rtol=1e-5
    )
    assert ours.log_likelihood_ == pytest.approx(theirs.log_likelihood_, rel=1e-8)
    assert ours.concordance_ == pytest.approx(theirs.concordance_index_, abs=1e-10)
    # (lifelines' baseline hazard uses Breslow increments even for an Efron fit,
    # so baselines are checked against R's basehaz in test_cox_reference.py)


def test_rossi_strata_matches_lifelines(rossi):
    ours = CoxPH().fit(
        rossi, "week", "arrest", formula=["age", "prio", "paro"], strata=["fin", "race"]
    )
    theirs = CoxPHFitter().fit(
        rossi[["week", "arrest", "age", "prio", "paro", "fin", "race"]],
        "week",
        "arrest",
        strata=["fin", "race"],
    )
    np.testing.assert_allclose(ours.params_, theirs.params_[ours.params_.index], rtol=1e-5)
    assert ours.log_likelihood_ == pytest.approx(theirs.log_likelihood_, rel=1e-8)


def test_stanford_counting_process_matches_lifelines():
    heart = load_stanford_heart_transplants()
    ours = CoxPH().fit(
        heart,
        duration_col="stop",
        event_col="event",
        entry_col="start",
        formula=["age", "year", "surgery", "transplant"],
    )
    ctv = CoxTimeVaryingFitter().fit(
        heart, id_col="id", event_col="event", start_col="start", stop_col="stop"
    )
    np.testing.assert_allclose(ours.params_, ctv.params_[ours.params_.index], rtol=1e-5)
    np.testing.assert_allclose(
        ours.standard_errors_, ctv.standard_errors_[ours.params_.index], rtol=1e-5
    )
    assert ours.log_likelihood_ == pytest.approx(ctv.log_likelihood_, rel=1e-8)


def test_monotone_likelihood_names_the_covariate():
    rng = np.random.default_rng(7)
    n = 80
    df = pd.DataFrame({"x": rng.normal(size=n), "g": (np.arange(n) < 20).astype(float)})
    df["time"] = rng.exponential(1, n)
    df["status"] = np.where(df["g"] == 1, 0, rng.binomial(1, 0.8, n))  # no events when g = 1
    with pytest.warns(ConvergenceWarning, match=r"before coefficient\(s\) g;"):
        m = CoxPH().fit(df, "time", "status", formula=["x", "g"])
    assert m.params_["g"] < -5  # heading to -infinity
    # issue 11 item 5: a coefficient heading to infinity means not converged
    assert m.converged_ is False


def test_too_few_iterations_warns_and_flags():
    rossi = load_rossi()
    with pytest.warns(ConvergenceWarning, match=r"did not converge in max_iter=1"):
        m = CoxPH(max_iter=1).fit(rossi, "week", "arrest", formula=ROSSI_X)
    assert m.converged_ is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert CoxPH().fit(rossi, "week", "arrest", formula=ROSSI_X).converged_


def test_predict_survival_consistent_with_baseline(rossi):
    m = CoxPH().fit(rossi, "week", "arrest", formula=ROSSI_X)
    new = rossi.head(3)
    times = [1.0, 10.5, 52.0]
    surv = m.predict_survival(new, times)
    H0 = m.baseline_cumulative_hazard_["baseline"]
    for t in times:
        h0 = H0[H0.index <= t].iloc[-1] if (H0.index <= t).any() else 0.0
        expected = np.exp(-h0 * m.predict_partial_hazard(new))
        np.testing.assert_allclose(surv.loc[t], expected, rtol=1e-12)
    assert list(surv.columns) == list(new.index)
