"""metrics.population_performance: the population value of AUC, Brier, IPA and the
calibration coefficients when each patient's true risk is known.

Checked against the definitions written out pair by pair, against the average of
the sample metrics over many simulated outcome vectors (what the population value
means), and for its Monte Carlo standard error against the spread of the value
over resampled populations."""

import numpy as np
import pytest

from survkit.engine.ipcw import weighted_auc
from survkit.metrics.population import population_performance


def _population(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    true = 1 / (1 + np.exp(-(-1.5 + x)))
    risk = 1 / (1 + np.exp(-(-1.0 + 0.6 * x + 0.5 * rng.normal(size=n))))
    return true, risk


def test_equals_the_pairwise_definition():
    F, r = _population(300, 1)
    r[:40] = r[40:80]  # ties in the prediction count 1/2
    out = population_performance(F, r)
    pairs = F[:, None] * (1 - F)[None, :]
    np.fill_diagonal(pairs, 0.0)
    order = (r[:, None] > r[None, :]) + 0.5 * (r[:, None] == r[None, :])
    assert out["auc"][0] == pytest.approx((pairs * order).sum() / pairs.sum(), rel=1e-13)
    brier = np.mean(F * (1 - r) ** 2 + (1 - F) * r**2)
    assert out["brier"][0] == pytest.approx(brier, rel=1e-13)
    assert out["ipa"][0] == pytest.approx(1 - brier / (F.mean() * (1 - F.mean())), rel=1e-13)
    # the calibration coefficients solve the expected logistic score equations
    a, b = out["calibration_intercept"][0], out["calibration_slope"][0]
    lr = np.log(r / (1 - r))
    resid = F - 1 / (1 + np.exp(-(a + b * lr)))
    np.testing.assert_allclose([resid.sum(), (resid * lr).sum()], 0, atol=1e-9)
    # the true risk is perfectly calibrated in the population
    own = population_performance(F, F)
    assert own["calibration_slope"][0] == pytest.approx(1, abs=1e-10)
    assert own["calibration_intercept"][0] == pytest.approx(0, abs=1e-10)


def test_is_the_mean_of_the_sample_metrics_over_outcomes():
    # with outcomes D_i ~ Bernoulli(F_i) (no censoring) the sample AUC and Brier
    # average to the population values; 400 outcome vectors, n = 2000
    F, r = _population(2000, 2)
    out = population_performance(F, r)
    rng = np.random.default_rng(3)
    aucs, briers = [], []
    for _ in range(400):
        D = (rng.random(F.size) < F).astype(float)
        aucs.append(weighted_auc(r, D, 1 - D))
        briers.append(np.mean((D - r) ** 2))
    for name, values in (("auc", aucs), ("brier", briers)):
        mcse = np.std(values, ddof=1) / np.sqrt(len(values))
        # the sample AUC is a ratio (bias O(1/n)), well below 4 MCSEs here
        assert abs(np.mean(values) - out[name][0]) < 4 * mcse, name


def test_monte_carlo_se_matches_the_spread_over_populations():
    values = {m: [] for m in ("auc", "brier", "ipa", "calibration_slope")}
    ses = {m: [] for m in values}
    for seed in range(60):
        out = population_performance(*_population(1500, 100 + seed))
        for m in values:
            values[m].append(out[m][0])
            ses[m].append(out[m][1])
    for m in values:
        ratio = np.mean(ses[m]) / np.std(values[m], ddof=1)
        # 60 populations: the SD's own relative error is about 9 %
        assert 0.75 < ratio < 1.3, (m, ratio)


def test_refuses_bad_input():
    with pytest.raises(ValueError, match="risk has 1 value"):
        population_performance([0.1, 0.2], [0.1, 1.2])
    with pytest.raises(ValueError, match="true_risk has 2 values but risk has 3"):
        population_performance([0.1, 0.2], [0.1, 0.2, 0.3])


def test_calibration_coefficients_are_those_of_calibration():
    from survkit import metrics, outcome

    from .reference_cases import data

    df = data("score_mgus2.csv")
    y = outcome(df, "time", "event")
    full = metrics.calibration(y, df["risk1_2"], 120, cause=1)
    found = metrics.calibration_coefficients(y, df["risk1_2"], 120, cause=1)
    assert found == (full.intercept, full.slope)
    with pytest.raises(ValueError, match="risk has 1 value"):
        metrics.calibration_coefficients(y, df["risk1_2"] + (df.index == 0), 120, cause=1)
