"""The O(n log n) metrics against their O(n^2) definitions, scikit-survival, and bad input.

Brute-force versions below are written straight from the definitions (pairs
and sums over subjects) on small data with ties in time and in the score and
with competing events; the fast versions must agree to rounding.
"""

import numpy as np
import pytest
from sksurv.metrics import concordance_index_ipcw as sksurv_uno

from survkit import metrics, outcome
from survkit.engine.ipcw import CensoringKM, censoring_influence


def _data(seed, n=60, competing=True):
    rng = np.random.default_rng(seed)
    time = rng.integers(1, 15, size=n).astype(float)  # many ties
    event = rng.choice([0, 1, 2] if competing else [0, 1], size=n, p=None)
    risk = np.round(rng.uniform(size=(n, 3)), 1)  # ties in the score
    return time, event, risk


def _G(time, event):
    """Reverse Kaplan-Meier with events leaving first at ties (prodlim's), by the definition."""
    grid = np.unique(time)
    surv, s = {}, 1.0
    for u in grid:
        cens = np.sum((time == u) & (event == 0))
        risk_set = np.sum(time > u) + cens
        s *= 1 - cens / risk_set if cens else 1.0
        surv[u] = s

    def at(t, strict=False):
        keys = [u for u in grid if (u < t if strict else u <= t)]
        return surv[keys[-1]] if keys else 1.0

    return at


def _naive_auc(time, event, risk, h, cause):
    G = _G(time, event)
    num = den = 0.0
    for i in range(len(time)):
        if not (time[i] <= h and event[i] == cause):
            continue
        wi = 1 / G(time[i], strict=True)
        for j in range(len(time)):
            if time[j] > h:
                wj = 1 / G(h)
            elif event[j] not in (0, cause):
                wj = 1 / G(time[j], strict=True)
            else:
                continue
            k = 1.0 if risk[i] > risk[j] else 0.5 if risk[i] == risk[j] else 0.0
            num += wi * wj * k
            den += wi * wj
    return num / den


def _naive_brier(time, event, risk, h, cause):
    G = _G(time, event)
    res = []
    for t, e, r in zip(time, event, risk, strict=True):
        if t <= h and e != 0:
            res.append(((e == cause) - r) ** 2 / G(t, strict=True))
        elif t > h:
            res.append(r**2 / G(h))
        else:
            res.append(0.0)
    return np.mean(res)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_auc_and_brier_equal_their_definitions(seed):
    time, event, risk = _data(seed)
    y = outcome(time=time, event=event)
    times = [4.0, 8.0, 12.0]
    for cause in (1, 2):
        auc = metrics.time_dependent_auc(y, risk, times, cause=cause)["auc"]
        brier = metrics.brier_score(y, risk, times, cause=cause)["brier"]
        for j, h in enumerate(times):
            assert auc.iloc[j] == pytest.approx(_naive_auc(time, event, risk[:, j], h, cause))
            assert brier.iloc[j] == pytest.approx(_naive_brier(time, event, risk[:, j], h, cause))


def test_censoring_influence_equals_its_definition():
    time, event, _ = _data(4)
    censored = event == 0
    km = CensoringKM.fit(time, censored)
    rng = np.random.default_rng(0)
    values = rng.normal(size=time.size)
    positions = km.position(time, strict=True)
    positions[::3] = km.position(np.array([7.0]))[0]
    n = time.size
    grid = km.grid
    lam = np.cumsum(n * km.n_censored / km.at_risk**2)
    expected = np.zeros(n)
    for k in range(n):
        qk = np.searchsorted(grid, time[k])
        for i in range(n):
            p = positions[i]
            if p < 0:
                continue
            f = (censored[k] and qk <= p) * n / km.at_risk[qk] - lam[min(qk, p)]
            expected[k] += values[i] * f / n
    got = censoring_influence(km, censored, values, positions)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def _naive_harrell(time, status, risk):
    conc = disc = tied = 0.0
    for i in range(len(time)):
        if not status[i]:
            continue
        for j in range(len(time)):
            if time[j] > time[i] or (time[j] == time[i] and not status[j]):
                conc += risk[i] > risk[j]
                disc += risk[i] < risk[j]
                tied += risk[i] == risk[j]
    return (conc + tied / 2) / (conc + disc + tied)


def test_harrell_c_equals_its_definition_and_jackknife():
    time, event, risk = _data(5, n=40, competing=False)
    y = outcome(time=time, event=event)
    result = metrics.concordance_index(y, risk[:, 0])
    assert result.concordance == pytest.approx(_naive_harrell(time, event, risk[:, 0]))
    # infinitesimal jackknife = derivative of C in each subject's case weight
    eps = 1e-6
    grads = []
    for k in range(len(time)):
        w = np.ones(len(time))
        w[k] += eps
        num = den = 0.0
        for i in range(len(time)):
            if not event[i]:
                continue
            for j in range(len(time)):
                if time[j] > time[i] or (time[j] == time[i] and not event[j]):
                    ww = w[i] * w[j]
                    r_i, r_j = risk[i, 0], risk[j, 0]
                    num += ww * (1.0 if r_i > r_j else 0.5 if r_i == r_j else 0.0)
                    den += ww
        grads.append((num / den - result.concordance) / eps)
    assert result.se == pytest.approx(np.sqrt(np.sum(np.square(grads))), rel=1e-4)


def test_wolbers_concordance_equals_its_definition():
    time, event, risk = _data(6)
    y = outcome(time=time, event=event)
    G = _G(time, event)
    h = 9.0
    got = metrics.competing_risks_concordance(y, risk[:, 1], [h], cause=1).iloc[0]
    num = den = 0.0
    for i in range(len(time)):
        if not (event[i] == 1 and time[i] <= h):
            continue
        for j in range(len(time)):
            if time[i] < time[j] or (time[i] == time[j] and event[j] == 0):
                w = 1 / (G(time[i], True) * G(time[i]))
            elif event[j] == 2:
                w = 1 / (G(time[i], True) * G(time[j], True))
            else:
                continue
            k = 1.0 if risk[i, 1] > risk[j, 1] else 0.5 if risk[i, 1] == risk[j, 1] else 0.0
            num += w * k
            den += w
    assert got == pytest.approx(num / den)


@pytest.mark.parametrize("tau", [None, 10.0])
def test_uno_c_equals_scikit_survival(tau):
    time, event, risk = _data(7, n=200, competing=False)
    event[time == time.max()] = 1  # else G = 0 at the last time and both refuse tau=None
    y = outcome(time=time, event=event)
    ours = metrics.concordance_index_ipcw(y, risk[:, 2], tau=tau)
    theirs = sksurv_uno(y, y, risk[:, 2], tau=tau)[0]
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_row_order_does_not_matter():
    time, event, risk = _data(8)
    perm = np.random.default_rng(1).permutation(len(time))
    y, y_perm = outcome(time=time, event=event), outcome(time=time[perm], event=event[perm])
    a = metrics.time_dependent_auc(y, risk, [3, 6, 9], cause=2)
    b = metrics.time_dependent_auc(y_perm, risk[perm], [3, 6, 9], cause=2)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda y, r: metrics.brier_score(y, r, [99.0], cause=1), "outside"),
        (lambda y, r: metrics.brier_score(y, r[:5], [3.0], cause=1), "one value per subject"),
        (lambda y, r: metrics.time_dependent_auc(y, r, [3.0, 4.0]), "pass cause="),
        (lambda y, r: metrics.time_dependent_auc(y, r, [3.0], cause=7), "never occurs"),
        (lambda y, r: metrics.brier_score(y, r[:, :2], [3.0, 4.0, 5.0], cause=1), "2 columns"),
        (lambda y, r: metrics.calibration(y, r[:, 0] * 3, 3.0, cause=1), "outside"),
    ],
)
def test_bad_input_names_the_problem(call, message):
    time, event, risk = _data(9)
    with pytest.raises(ValueError, match=message):
        call(outcome(time=time, event=event), risk)


def test_dataframe_predictions_are_matched_by_time():
    import pandas as pd

    time, event, risk = _data(10)
    y = outcome(time=time, event=event)
    frame = pd.DataFrame(risk.T, index=pd.Index([3.0, 6.0, 9.0], name="time"))
    a = metrics.brier_score(y, frame, [9.0, 3.0], cause=1)
    b = metrics.brier_score(y, risk[:, [2, 0]], [9.0, 3.0], cause=1)
    pd.testing.assert_frame_equal(a, b)
