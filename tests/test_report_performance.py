"""The metrics behind the report's "How well do the models predict?": a faster risk
function gives the same numbers, and the logit-scale calibration curve."""

import numpy as np
import pandas as pd
import pytest

from survkit import metrics, outcome
from survkit.report.risk_profiles import absolute_risks

from .reference_cases import data

COVARIATES = ["age", "male", "hgb", "creat", "mspike"]


@pytest.fixture(scope="module")
def mgus():
    return data("score_mgus2.csv").iloc[:500]


def _performance(df, **kw):
    return metrics.prediction_performance(
        df, "time", "event", COVARIATES, [60, 120], n_folds=3, seed=2, **kw
    )


def test_a_risk_function_replaces_predict_risk_profile(mgus):
    slow = _performance(mgus)
    fast = _performance(mgus, risk_profile=absolute_risks)
    pd.testing.assert_frame_equal(slow.table, fast.table, rtol=1e-10, atol=1e-12)
    assert set(fast.table["estimate"]) == {"apparent", "cross-validated"}
    for cause, result in slow.calibration.items():
        assert fast.calibration[cause].slope == pytest.approx(result.slope, rel=1e-10)

    def wrong_shape(model, df, times):
        return {k: v.T for k, v in absolute_risks(model, df, times).items()}

    with pytest.raises(ValueError, match=r"shape \(\d+, 2\) for cause 1"):
        _performance(mgus, risk_profile=wrong_shape)

    def one_cause(model, df, times):
        return {1: absolute_risks(model, df, times)[1]}

    with pytest.raises(ValueError, match=r"no risks for causes \[2\]"):
        _performance(mgus, risk_profile=one_cause)


def _calibrated(n=4000, seed=3):
    """Perfectly calibrated, skewed risks of a rare event, status known for everyone."""
    rng = np.random.default_rng(seed)
    risk = 1 / (1 + np.exp(-rng.normal(-3.0, 1.0, n)))
    case = rng.random(n) < risk
    y = outcome(time=np.where(case, 1.0, 2.0), event=case)
    return y, risk


def test_logit_scale_curve_follows_a_calibrated_model_without_zigzags():
    y, risk = _calibrated()
    logit = metrics.calibration(y, risk, 1.5, scale="logit")
    plain = metrics.calibration(y, risk, 1.5)
    # same groups, slope and ratio: only the smoothed curve depends on the scale
    pd.testing.assert_frame_equal(logit.groups, plain.groups)
    assert logit.slope == plain.slope and 0.85 < logit.slope < 1.15
    curve = logit.curve
    assert curve["predicted"].is_monotonic_increasing
    assert curve["predicted"].min() >= risk.min() and curve["predicted"].max() <= risk.max()
    # within the central 90% of predictions the curve lies near the diagonal (0.05: about
    # two binomial SEs of a local average near the 95th percentile, risk 0.2, ~200 patients;
    # seeds 3, 4, 5 give 0.024, 0.015, 0.036) ...
    lo, hi = np.quantile(risk, [0.05, 0.95])
    mid = curve[curve["predicted"].between(lo, hi)]
    assert np.abs(mid["observed"] - mid["predicted"]).max() < 0.05
    # ... and it is smoother than the risk-scale curve (its total variation is smaller)
    assert np.abs(np.diff(curve["observed"])).sum() < np.abs(np.diff(plain.curve["observed"])).sum()
    with pytest.raises(ValueError, match="scale='log' must be 'risk' or 'logit'"):
        metrics.calibration(y, risk, 1.5, scale="log")
