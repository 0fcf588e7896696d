"""Performance measures and Monte Carlo SEs against values worked out by hand.

Formulas: Morris, White & Crowther (2019, Stat Med 38:2074), Table 6, as in
R's rsimsum. The example: estimates (1, 2, 3, 6), truth 2, model SEs
(1, 1, 2, 2), 95 % intervals (z = 1.959964), so n = 4 and the mean is 3.

    bias      = 3 - 2 = 1;      Σ(θ̂ - θ̄)² = 4 + 1 + 0 + 9 = 14
    bias MCSE = sqrt(14 / (4·3)) = sqrt(7/6)
    empSE     = sqrt(14 / 3);   its MCSE = sqrt(14/3) / sqrt(2·3) = sqrt(7/9)
    MSE       = (1 + 0 + 1 + 16) / 4 = 4.5
    MSE MCSE  = sqrt(((1-4.5)² + (0-4.5)² + (1-4.5)² + (16-4.5)²) / (4·3)) = sqrt(177/12)
    s²        = (1, 1, 4, 4): mean 2.5, sample variance 9/3 = 3
    modelSE   = sqrt(2.5);      its MCSE = sqrt(3 / (4·4·2.5)) = sqrt(3/40)
    relerror  = 100 (sqrt(2.5) / sqrt(14/3) - 1) = 100 (sqrt(15/28) - 1)
    its MCSE  = 100 sqrt(15/28) sqrt(3 / (4·4·2.5²) + 1 / (2·3)) = 100 sqrt(15/28) sqrt(0.03 + 1/6)
    intervals [-0.96, 2.96] [0.04, 3.96] [-0.92, 6.92] [2.08, 9.92]
    cover     = 3/4 (the last misses 2), MCSE sqrt(0.75·0.25/4)
    becover   = 3/4 (the first misses θ̄ = 3), same MCSE
    rejection = |θ̂|/s = 1, 2, 1.5, 3 -> 2 of 4 reach 1.96: 0.5, MCSE sqrt(0.25/4) = 0.25
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from survkit.simstudy import failure_summary, performance, performance_measures

EXAMPLE = {"estimates": [1.0, 2.0, 3.0, 6.0], "se": [1.0, 1.0, 2.0, 2.0], "true": 2.0}
EXPECTED = {
    "n_ok": 4,
    "mean_estimate": 3.0,
    "bias": 1.0,
    "bias_mcse": math.sqrt(7 / 6),
    "empse": math.sqrt(14 / 3),
    "empse_mcse": math.sqrt(7 / 9),
    "mse": 4.5,
    "mse_mcse": math.sqrt(177 / 12),
    "modelse": math.sqrt(2.5),
    "modelse_mcse": math.sqrt(3 / 40),
    "relerror": 100 * (math.sqrt(15 / 28) - 1),
    "relerror_mcse": 100 * math.sqrt(15 / 28) * math.sqrt(0.03 + 1 / 6),
    "cover": 0.75,
    "cover_mcse": math.sqrt(0.75 * 0.25 / 4),
    "becover": 0.75,
    "becover_mcse": math.sqrt(0.75 * 0.25 / 4),
    "rejection": 0.5,
    "rejection_mcse": 0.25,
}


def test_every_measure_and_mcse_matches_the_hand_computation():
    got = performance_measures(EXAMPLE["estimates"], EXAMPLE["se"], EXAMPLE["true"])
    assert set(EXPECTED) <= set(got)
    for key, value in EXPECTED.items():
        assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key


def test_numbers_written_out():
    # the same values as decimals, so a wrong closed form above cannot hide
    got = performance_measures(EXAMPLE["estimates"], EXAMPLE["se"], EXAMPLE["true"])
    assert got["bias_mcse"] == pytest.approx(1.0801234497, rel=1e-9)
    assert got["empse"] == pytest.approx(2.1602468995, rel=1e-9)
    assert got["mse_mcse"] == pytest.approx(3.8405728739, rel=1e-9)
    assert got["modelse_mcse"] == pytest.approx(0.2738612788, rel=1e-9)
    assert got["relerror"] == pytest.approx(-26.8074945, rel=1e-7)
    assert got["relerror_mcse"] == pytest.approx(32.4587651, rel=1e-7)


def test_level_changes_the_critical_value():
    # z(0.90) = 1.6449: |θ̂|/s = 1.5 still below, coverage interval of the 4th
    # replicate [2.71, 9.29] still misses 2; the 1st [-0.64, 2.64] still covers.
    got = performance_measures(EXAMPLE["estimates"], EXAMPLE["se"], 2.0, level=0.90)
    assert got["cover"] == 0.75
    assert got["rejection"] == 0.5
    got = performance_measures(EXAMPLE["estimates"], EXAMPLE["se"], 2.0, level=0.50)
    # z = 0.6745: intervals 1±0.67, 2±0.67, 3±1.35, 6±1.35 -> only the 2nd and 3rd cover 2
    assert got["cover"] == 0.5
    assert got["rejection"] == 1.0


def test_without_standard_errors_only_point_measures():
    got = performance_measures([1.0, 2.0, 3.0, 6.0], [np.nan] * 4, 2.0)
    assert got["bias"] == 1.0
    assert got["empse"] == pytest.approx(math.sqrt(14 / 3))
    for key in ("modelse", "relerror", "cover", "becover", "rejection"):
        assert np.isnan(got[key]) and np.isnan(got[f"{key}_mcse"])


def test_without_truth_no_bias_mse_or_coverage():
    got = performance_measures(EXAMPLE["estimates"], EXAMPLE["se"], np.nan)
    for key in ("bias", "mse", "cover"):
        assert np.isnan(got[key])
    assert got["becover"] == 0.75
    assert got["empse"] == pytest.approx(math.sqrt(14 / 3))


def test_degenerate_sizes():
    assert np.isnan(performance_measures([], [], 0.0)["bias"])
    one = performance_measures([1.5], [0.5], 1.0)
    assert one["bias"] == 0.5 and one["cover"] == 1.0
    assert np.isnan(one["empse"]) and np.isnan(one["bias_mcse"])


def test_failed_replicates_are_counted_beside_the_measures():
    rows = []
    for rep, (est, se) in enumerate(zip(EXAMPLE["estimates"], EXAMPLE["se"], strict=True)):
        rows.append(("d", rep, "m", "e", est, se, "ok", "", False))
    rows.append(("d", 4, "m", "e", np.nan, np.nan, "failed", "did not converge: x", False))
    rows.append(("d", 5, "m", "e", np.nan, np.nan, "failed", "too few events: 3", False))
    estimates = pd.DataFrame(
        rows,
        columns=[
            "dgm",
            "rep",
            "method",
            "estimand",
            "estimate",
            "se",
            "status",
            "reason",
            "misspecified",
        ],
    )
    truth = pd.DataFrame(
        [("d", "e", "log_hr", "bone", "x", 0.0, np.inf, np.nan, 2.0, 0.0)],
        columns=[
            "dgm",
            "estimand",
            "kind",
            "site",
            "covariate",
            "start",
            "end",
            "time",
            "true_value",
            "true_value_mcse",
        ],
    )
    table = performance(estimates, truth)
    row = table.iloc[0]
    assert (row["n_reps"], row["n_ok"], row["n_failed"]) == (6, 4, 2)
    for key, value in EXPECTED.items():
        assert row[key] == pytest.approx(value, rel=1e-12), key
    failures = failure_summary(estimates)
    assert list(failures["reason"]) == ["did not converge: x", "too few events: 3"]
    assert list(failures["replicates"]) == [1, 1]


def test_zip_plot_ranks_intervals_by_their_z():
    from matplotlib.figure import Figure

    from survkit.simstudy import zip_plot

    frame = pd.DataFrame({"estimate": EXAMPLE["estimates"], "se": EXAMPLE["se"]})
    fig = zip_plot(frame, true_value=2.0, title="example")
    assert isinstance(fig, Figure)
    covering, missing = fig.axes[0].collections[:2]
    # |z| = 1, 0, 0.5, 2: the miss (6 ± 3.9) is ranked last, at the 100th centile
    assert len(covering.get_segments()) == 3
    (segment,) = missing.get_segments()
    assert segment[0][1] == 100.0
    with pytest.raises(ValueError, match="no replicate"):
        zip_plot(frame.assign(se=np.nan), true_value=2.0)
