"""Standard error of Uno's C (concordance_index_ipcw(se=True)): no R or scikit-survival
function gives one, so it is checked by simulation, against the spread of the estimate
over independent samples and by the coverage of its Wald interval."""

import numpy as np
import pytest

from survkit import metrics, outcome

TAU = 1.5


def _sample(n, rng):
    x = rng.normal(size=n)
    t = rng.exponential(1 / np.exp(0.8 * x))
    c = rng.exponential(1.2, n)  # about 45 % censored before tau
    y = outcome(time=np.minimum(t, c), event=(t <= c).astype(int))
    return y, x + 0.5 * rng.normal(size=n)


def test_standard_error_matches_the_spread_and_covers():
    rng = np.random.default_rng(20261130)
    # the population value: two samples of 100,000 (their SE is about 0.002)
    truth = np.mean(
        [metrics.concordance_index_ipcw(*_sample(100_000, rng), tau=TAU) for _ in range(2)]
    )
    reps = [
        metrics.concordance_index_ipcw(*_sample(200, rng), tau=TAU, se=True) for _ in range(300)
    ]
    c = np.array([r.concordance for r in reps])
    se = np.array([r.se for r in reps])
    # 300 replicates: the empirical SD is known to about 4 %; bounds at about 3.5 SD
    ratio = np.sqrt(np.mean(se**2)) / np.std(c, ddof=1)
    assert 0.86 < ratio < 1.14, ratio
    cover = np.mean([r.lower <= truth <= r.upper for r in reps])
    # binomial(300, 0.95): 0.91-0.98 holds with probability > 0.99
    assert 0.91 <= cover <= 0.98, cover


def test_se_option_keeps_the_estimate_and_refuses_a_separate_training_sample():
    y, r = _sample(300, np.random.default_rng(3))
    plain = metrics.concordance_index_ipcw(y, r, tau=TAU)
    full = metrics.concordance_index_ipcw(y, r, tau=TAU, se=True)
    assert full.concordance == plain and full.lower < plain < full.upper
    with pytest.raises(ValueError, match="se=True needs y_train=None"):
        metrics.concordance_index_ipcw(y, r, tau=TAU, y_train=y, se=True)
