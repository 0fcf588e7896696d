"""Cross-validation helper, the report's performance table, the calibration plot, and a
synthetic check: on a cohort with known truth, the correctly specified model
discriminates better than a misspecified one and is calibrated (slope near 1)
on an independent cohort."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold

from survkit import CauseSpecificCox, CoxPH, metrics, outcome
from survkit.plots import plot_calibration
from synthetic import DEFAULT_SCENARIO, load_scenario, simulate_cohort

from .reference_cases import data

COVARIATES = ["age", "male", "hgb", "creat", "mspike"]


@pytest.fixture(scope="module")
def mgus():
    df = data("score_mgus2.csv")
    return df, df[COVARIATES], outcome(df, "time", "event")


def test_cross_validate_is_seeded_and_pools_out_of_fold_predictions(mgus):
    df, X, y = mgus
    a = metrics.cross_validate(CauseSpecificCox(), X, y, times=[60, 120], cause=2, cv=3, seed=3)
    b = metrics.cross_validate(CauseSpecificCox(), X, y, times=[60, 120], cause=2, cv=3, seed=3)
    c = metrics.cross_validate(CauseSpecificCox(), X, y, times=[60, 120], cause=2, cv=3, seed=4)
    pd.testing.assert_frame_equal(a.folds, b.folds)
    assert not np.allclose(a.risk, c.risk)
    assert sorted(a.folds["fold"].unique()) == [1, 2, 3]
    # pooled = the metrics of the out-of-fold predictions, refit by hand
    risk = np.empty((len(df), 2))
    for train, test in KFold(3, shuffle=True, random_state=3).split(X):
        model = CauseSpecificCox().fit(X.iloc[train], y[train])
        risk[test] = model.predict_cumulative_incidence(X.iloc[test], [60, 120], cause=2).T
    np.testing.assert_allclose(a.risk, risk, rtol=1e-12)
    auc = metrics.time_dependent_auc(y, risk, [60, 120], cause=2)
    np.testing.assert_allclose(a.pooled["auc"], auc["auc"], rtol=1e-12)
    # the DataFrame form gives the same folds and predictions
    d = metrics.cross_validate(
        CauseSpecificCox(),
        df,
        None,
        times=[60, 120],
        cause=2,
        cv=3,
        seed=3,
        fit_kwargs={"duration_col": "time", "event_col": "event", "formula": COVARIATES},
    )
    np.testing.assert_allclose(d.risk, a.risk, rtol=1e-12)
    single = metrics.cross_validate(
        CoxPH(), X, outcome(df, "time", "status"), times=[60], cv=KFold(3), seed=None
    )
    assert single.folds.shape[0] == 3 and 0.5 < single.pooled["auc"].iloc[0] < 1


def _bone_data(cohort):
    df = cohort.data
    numeric = [
        c
        for c in df.columns
        if c not in ("patient_id", "time", "event") and pd.api.types.is_numeric_dtype(df[c])
    ]
    other = [c for c in df.columns if c not in numeric and c not in ("patient_id", "time", "event")]
    X = pd.get_dummies(df[numeric + other], columns=other, drop_first=True, dtype=float)
    return X, outcome(df, "time", "event")


def test_true_model_beats_misspecified_and_is_calibrated():
    scenario = load_scenario(DEFAULT_SCENARIO)
    X, y = _bone_data(simulate_cohort(scenario, n=3000, seed=11))
    X_new, y_new = _bone_data(simulate_cohort(scenario, n=3000, seed=12))
    bone = y["event"] == "bone"
    horizon = float(np.median(y["time"][bone]))
    true = CauseSpecificCox(horizon=horizon, cause="bone")
    true.fit(X, y, censor_value="censored")
    wrong = CauseSpecificCox(horizon=horizon, cause="bone")
    wrong.fit(X[["age"]], y, censor_value="censored")
    auc_true = metrics.time_dependent_auc(
        y_new, true.predict(X_new), [horizon], cause="bone", censor_value="censored"
    )
    auc_wrong = metrics.time_dependent_auc(
        y_new, wrong.predict(X_new[["age"]]), [horizon], cause="bone", censor_value="censored"
    )
    gap = auc_true["auc"].iloc[0] - auc_wrong["auc"].iloc[0]
    assert gap > 3 * np.hypot(auc_true["se"].iloc[0], auc_wrong["se"].iloc[0])
    cal = metrics.calibration(
        y_new, true.predict(X_new), horizon, cause="bone", censor_value="censored"
    )
    # on independent data a correct model has slope 1 and intercept 0 up to noise
    assert abs(cal.slope - 1) < 0.2 and abs(cal.intercept) < 0.4
    assert 0.85 < cal.observed_expected < 1.15


def test_prediction_performance_table_and_calibration_figure(mgus):
    df, _, _ = mgus
    perf = metrics.prediction_performance(
        df, "time", "event", COVARIATES, [60, 120], n_folds=3, seed=1
    )
    t = perf.table
    assert set(t["estimate"]) == {"apparent", "cross-validated"}
    assert set(t["cause"]) == {1, 2} and len(t) == 2 * 2 * 2
    apparent = t[(t.estimate == "apparent") & (t.cause == 1)]
    # the apparent AUC is that of R's CSC predictions (the same model), stored in the data
    expected = metrics.time_dependent_auc(
        outcome(df, "time", "event"), df[["risk1_1", "risk1_2"]], [60, 120], cause=1
    )
    np.testing.assert_allclose(apparent["auc"], expected["auc"], rtol=1e-5)
    assert perf.calibration_time == 120 and set(perf.calibration) == {1, 2}
    fig = plot_calibration(list(perf.calibration.values()), labels=["progression", "death"])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Predicted risk by t = 120" and len(ax.lines) == 5
    with pytest.raises(ValueError, match="labels has 1 names for 2 results"):
        plot_calibration(list(perf.calibration.values()), labels=["x"])
