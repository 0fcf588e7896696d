"""metrics.calibration(method="nne") against riskRegression::plotCalibration's default
curve (tests/reference/results/score_calibration.json), every stored value: the
rounded predictions, the local Aalen-Johansen / Kaplan-Meier risks and the
bandwidth (KernSmooth::dpik through prodlim::neighborhood)."""

import numpy as np
import pytest

from survkit import metrics, outcome
from survkit.metrics.calibration_nne import dpik_box

from .reference_cases import cases, data

RTOL_CURVE = 1e-6  # curves and incidences (DESIGN)
CASES = cases("score_calibration")
FILES = {
    "mgus2_cause1": ("score_mgus2.csv", "event"),
    "mgus2_cause2": ("score_mgus2.csv", "event"),
    "rotterdam": ("score_rotterdam.csv", "status"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_nne_curve_equals_plot_calibration(name):
    case = CASES[name]
    file, event = FILES[name]
    df = data(file)
    result = metrics.calibration(
        outcome(df, "time", event),
        df[case["risk"]],
        case["time"],
        cause=case["cause"] if case["competing_risks"] else None,
        method="nne",
    )
    assert result.method == "nne"
    assert result.bandwidth == pytest.approx(case["bandwidth"], rel=1e-12)
    np.testing.assert_array_equal(result.curve["predicted"], case["predicted"])
    np.testing.assert_allclose(result.curve["observed"], case["observed"], rtol=RTOL_CURVE)


def test_one_point_without_spread_and_bad_input():
    with pytest.raises(ValueError, match="no spread"):
        dpik_box(np.ones(10))
    df = data("score_mgus2.csv")
    y = outcome(df, "time", "event")
    with pytest.raises(ValueError, match="method='loess' must be 'kernel' or 'nne'"):
        metrics.calibration(y, df["risk1_2"], 120, cause=1, method="loess")
    # a bandwidth of the whole sample: one point, the mean prediction and the overall risk
    one = metrics.calibration(y, df["risk1_2"], 120, cause=1, method="nne", bandwidth=1.0)
    assert len(one.curve) == 1
    assert one.curve["predicted"].iloc[0] == pytest.approx(df["risk1_2"].mean())
