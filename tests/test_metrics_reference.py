"""survkit.metrics against R (tests/reference/results/score.json), every stored value.

R: riskRegression::Score(cens.model = "km") for AUC, Brier, IPA and their
influence-function standard errors (conservative = FALSE and TRUE),
survival::concordance for Harrell's C and its infinitesimal-jackknife SE,
pec::cindex for Wolbers' competing-risks concordance. The predicted risks were
computed in R and stored in the data CSVs, so only the metrics are compared.
"""

import numpy as np
import pytest

from survkit import metrics, outcome

from .reference_cases import cases, data

RTOL_POINT = 1e-6  # point estimates (DESIGN: curves and incidences 1e-6)
RTOL_SE = 1e-4  # influence-function standard errors (issue 14)

SCORE = cases("score")
FILES = {
    "rotterdam": ("score_rotterdam.csv", "status", ["risk1", "risk2", "risk3"]),
    "lung_ties": ("score_lung.csv", "status", ["score"] * 3),
    "mgus2_cause1": ("score_mgus2.csv", "event", ["risk1_1", "risk1_2", "risk1_3"]),
    "mgus2_cause2": ("score_mgus2.csv", "event", ["risk2_1", "risk2_2", "risk2_3"]),
}


def _inputs(name):
    file, event, cols = FILES[name]
    df = data(file)
    case = SCORE[name]
    cause = case["cause"] if case["competing_risks"] else None
    return outcome(df, "time", event), df[cols].to_numpy(), case, cause


@pytest.mark.parametrize("name", list(FILES))
def test_auc_and_standard_errors_equal_score(name):
    y, risk, case, cause = _inputs(name)
    full = metrics.time_dependent_auc(y, risk, case["times"], cause=cause)
    cons = metrics.time_dependent_auc(y, risk, case["times"], cause=cause, conservative=True)
    np.testing.assert_allclose(full.index, case["times"])
    np.testing.assert_allclose(full["auc"], case["auc"], rtol=RTOL_POINT)
    np.testing.assert_allclose(full["se"], case["auc_se"], rtol=RTOL_SE)
    np.testing.assert_allclose(cons["se"], case["auc_se_conservative"], rtol=RTOL_SE)


@pytest.mark.parametrize("name", list(FILES))
def test_brier_ipa_and_null_model_equal_score(name):
    y, risk, case, cause = _inputs(name)
    full = metrics.brier_score(y, risk, case["times"], cause=cause)
    cons = metrics.brier_score(y, risk, case["times"], cause=cause, conservative=True)
    np.testing.assert_allclose(full["brier"], case["brier"], rtol=RTOL_POINT)
    np.testing.assert_allclose(full["se"], case["brier_se"], rtol=RTOL_SE)
    np.testing.assert_allclose(cons["se"], case["brier_se_conservative"], rtol=RTOL_SE)
    np.testing.assert_allclose(full["brier_null"], case["brier_null"], rtol=RTOL_POINT)
    np.testing.assert_allclose(full["se_null"], case["brier_null_se"], rtol=RTOL_SE)
    np.testing.assert_allclose(full["ipa"], case["ipa"], rtol=RTOL_POINT)


@pytest.mark.parametrize(
    "name, column, key",
    [
        ("rotterdam", "lp", "harrell_c"),
        ("lung_ties", "score", "harrell_c"),
        ("lung_ties", "age", "harrell_c_age"),
    ],
)
def test_harrell_c_and_jackknife_se_equal_concordance(name, column, key):
    file, event, _ = FILES[name]
    df = data(file)
    result = metrics.concordance_index(outcome(df, "time", event), df[column])
    case = SCORE[name]
    np.testing.assert_allclose(result.concordance, case[key], rtol=1e-8)
    np.testing.assert_allclose(result.se, case[f"{key}_se"], rtol=RTOL_SE)
    assert result.lower < result.concordance < result.upper


@pytest.mark.parametrize("name", ["mgus2_cause1", "mgus2_cause2"])
def test_wolbers_concordance_equals_pec(name):
    y, risk, case, cause = _inputs(name)
    c = metrics.competing_risks_concordance(y, risk, case["times"], cause=cause)
    np.testing.assert_allclose(c.to_numpy(), case["wolbers_c"], rtol=RTOL_POINT)


@pytest.mark.parametrize("name", ["mgus2_cause1", "mgus2_cause2", "rotterdam"])
def test_calibration_groups_equal_plot_calibration(name):
    case = SCORE["calibration"][name]
    file, event, _ = FILES[name]
    df = data(file)
    cause = case["cause"] if case["competing_risks"] else None
    result = metrics.calibration(
        outcome(df, "time", event),
        df[case["risk"]],
        case["time"],
        cause=cause,
        n_groups=case["q"],
    )
    np.testing.assert_allclose(result.groups["predicted"], case["predicted"], rtol=RTOL_POINT)
    np.testing.assert_allclose(result.groups["observed"], case["observed"], rtol=RTOL_POINT)
    assert result.groups["n"].sum() == len(df)


def test_cox_censoring_model_equals_score_cens_model_cox():
    case = SCORE["mgus2_cox_censoring"]
    df = data("score_mgus2.csv")
    y = outcome(df, "time", "event")
    risk = df[["risk1_1", "risk1_2", "risk1_3"]].to_numpy()
    covariates = df[case["censoring_covariates"]]
    kw = {"cause": 1, "conservative": True, "censoring_covariates": covariates}
    auc = metrics.time_dependent_auc(y, risk, case["times"], **kw)
    brier = metrics.brier_score(y, risk, case["times"], **kw)
    # R fits the censoring model with rms::cph(eps = 1e-6): agreement ~1e-7
    np.testing.assert_allclose(auc["auc"], case["auc"], rtol=RTOL_POINT)
    np.testing.assert_allclose(auc["se"], case["auc_se_conservative"], rtol=RTOL_SE)
    np.testing.assert_allclose(brier["brier"], case["brier"], rtol=RTOL_POINT)
    np.testing.assert_allclose(brier["se"], case["brier_se_conservative"], rtol=RTOL_SE)
    np.testing.assert_allclose(brier["brier_null"], case["brier_null"], rtol=RTOL_POINT)
    # IPA = 1 - B/B0 turns the ~1e-7 relative error of R's censoring fit into an
    # absolute one (IPA ~ 0.05 here, so its relative error is ~20 times larger)
    np.testing.assert_allclose(brier["ipa"], case["ipa"], rtol=0, atol=1e-7)
    # the full (conservative = FALSE) standard errors: tests/test_metrics_score_cox.py
