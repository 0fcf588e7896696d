"""Standard errors of Uno's C (concordance_index_ipcw(se=True)) and of Wolbers'
competing-risks C (competing_risks_concordance(se=True)). No R or scikit-survival
function gives them, so they are checked two ways: each subject's influence against
its jackknife pseudo-value (n - 1)(C - C without it), which re-estimates the
censoring Kaplan-Meier too, and by simulation (SE against the spread of the
estimate, coverage of the Wald interval)."""

import numpy as np
import pytest

import survkit.metrics.concordance as uno_module
import survkit.metrics.wolbers as wolbers_module
from survkit import metrics, outcome
from survkit.engine.ipcw import CensoringKM
from survkit.metrics.inputs import read_inputs

TAU = 1.5
HORIZON = 1.0


def _single(n, rng):
    x = rng.normal(size=n)
    t = rng.exponential(1 / np.exp(0.8 * x))
    c = rng.exponential(1.2, n)  # about 45 % censored before tau
    y = outcome(time=np.minimum(t, c), event=(t <= c).astype(int))
    return y, x + 0.5 * rng.normal(size=n)


def _competing(n, rng):
    x = rng.normal(size=n)
    t1 = rng.exponential(1 / (0.5 * np.exp(0.8 * x)))
    t2 = rng.exponential(1 / (0.4 * np.exp(-0.3 * x)))
    c = rng.exponential(2.0, n)
    t = np.minimum(np.minimum(t1, t2), c)
    event = np.where(t == c, 0, np.where(t1 < t2, 1, 2))
    return t, event, 1 / (1 + np.exp(-(x + 0.5 * rng.normal(size=n))))


def _uno_influence(y, r):
    out = read_inputs(y, None, 0)
    km = CensoringKM.fit(out.time, out.censored)
    use = (out.cause_index == 1) & (out.time < TAU)
    g = km.at(out.time)
    pair_w = np.where(use, 1 / np.where(g > 0, g, 1.0) ** 2, 0.0)
    return uno_module._uno_influence(out, km, use, r, pair_w)[2]


def _wolbers_influence(t, event, r):
    captured = []
    original = wolbers_module._wolbers_influence

    def keep(*args):
        captured.append(original(*args))
        return captured[-1]

    wolbers_module._wolbers_influence = keep
    try:
        metrics.competing_risks_concordance(
            outcome(time=t, event=event), r, [HORIZON], cause=1, se=True
        )
    finally:
        wolbers_module._wolbers_influence = original
    return captured[0]


def _jackknife(statistic, n):
    full = statistic(np.ones(n, bool))
    keep = np.ones(n, bool)
    out = np.empty(n)
    for i in range(n):
        keep[i] = False
        out[i] = (n - 1) * (full - statistic(keep))
        keep[i] = True
    return out


@pytest.mark.parametrize("which", ["uno", "wolbers"])
def test_influence_equals_the_jackknife_pseudo_values(which, monkeypatch):
    t, event, r = _competing(150, np.random.default_rng(1))
    if which == "uno":
        single = (event == 1).astype(int)

        def stat(k):
            return metrics.concordance_index_ipcw(
                outcome(time=t[k], event=single[k]), r[k], tau=TAU
            )

        def influence():
            return _uno_influence(outcome(time=t, event=single), r)

        module = uno_module
    else:

        def stat(k):
            y = outcome(time=t[k], event=event[k])
            return metrics.competing_risks_concordance(y, r[k], [HORIZON], cause=1).iloc[0]

        def influence():
            return _wolbers_influence(t, event, r)

        module = wolbers_module
    jack = _jackknife(stat, t.size)
    found = influence()
    assert np.corrcoef(found, jack)[0, 1] > 0.999
    # the censored subjects' influence is the Kaplan-Meier term's: without it they are
    # far further from their pseudo-values
    monkeypatch.setattr(module, "censoring_influence", lambda km, c, v, p: np.zeros(km.n))
    without = influence()
    censored = event == 0
    gap, gap_without = (np.abs(f - jack)[censored].max() for f in (found, without))
    assert gap < 0.3 * gap_without, (gap, gap_without)


def test_uno_standard_error_matches_the_spread_and_covers():
    rng = np.random.default_rng(20261130)
    # the population value: two samples of 100,000 (their SE is about 0.002)
    truth = np.mean(
        [metrics.concordance_index_ipcw(*_single(100_000, rng), tau=TAU) for _ in range(2)]
    )
    reps = [
        metrics.concordance_index_ipcw(*_single(200, rng), tau=TAU, se=True) for _ in range(200)
    ]
    c = np.array([r.concordance for r in reps])
    se = np.array([r.se for r in reps])
    # 200 replicates: the empirical SD is known to about 5 %; bounds at about 3.5 SD
    ratio = np.sqrt(np.mean(se**2)) / np.std(c, ddof=1)
    assert 0.83 < ratio < 1.17, ratio
    cover = np.mean([r.lower <= truth <= r.upper for r in reps])
    # binomial(200, 0.95): 0.905-0.98 holds with probability > 0.99
    assert 0.905 <= cover <= 0.98, cover


def test_se_options_keep_the_estimates_and_refuse_a_separate_training_sample():
    y, r = _single(300, np.random.default_rng(3))
    plain = metrics.concordance_index_ipcw(y, r, tau=TAU)
    full = metrics.concordance_index_ipcw(y, r, tau=TAU, se=True)
    assert full.concordance == plain and full.lower < plain < full.upper
    with pytest.raises(ValueError, match="se=True needs y_train=None"):
        metrics.concordance_index_ipcw(y, r, tau=TAU, y_train=y, se=True)
    t, event, risk = _competing(300, np.random.default_rng(4))
    y = outcome(time=t, event=event)
    plain = metrics.competing_risks_concordance(y, risk, [0.5, 1.0], cause=1)
    table = metrics.competing_risks_concordance(y, risk, [0.5, 1.0], cause=1, se=True)
    np.testing.assert_array_equal(table["concordance"], plain)
    assert (table["lower"] < table["concordance"]).all() and (table["se"] > 0).all()
