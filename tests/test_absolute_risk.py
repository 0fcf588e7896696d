"""The chunked Aalen-Johansen combination behind CauseSpecificCox.predict_risk_profile.

Checked against the textbook formula written out row by row from each cause's
predicted cumulative hazard (the route predict_risk_profile took before it was
made fast), with strata whose follow-up ends at different times, both forms of
survival, and chunks smaller than a stratum.
"""

import numpy as np
import pandas as pd
import pytest

from survkit import CauseSpecificCox
from survkit.models.absolute_risk import aalen_johansen_risks


def _cohort(n=400, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    group = rng.choice(["a", "b"], size=n)
    e1 = rng.exponential(1 / (0.2 * np.exp(0.5 * x)))
    e2 = rng.exponential(1 / (0.1 * np.exp(-0.3 * x)))
    # stratum b is followed for less time than a
    cens = np.where(group == "a", rng.uniform(2, 9, n), rng.uniform(1, 5, n))
    time = np.round(np.minimum.reduce([e1, e2, cens]), 2)  # tied times
    event = np.select([time == np.round(e1, 2), time == np.round(e2, 2)], [1, 2], 0)
    return pd.DataFrame({"time": time, "event": event, "x": x, "group": group})


def _by_hand(csc, rows, times, product_limit):
    """F_k(t) = sum_{t_j <= t} S(t_j-) dH_k(t_j) over every distinct time, row by row."""
    tables = [m.baseline_cumulative_hazard_ for m in csc.models_.values()]
    grid = np.unique(np.concatenate([t.index for t in tables]))
    grid = grid[grid <= max(times)]
    dH = {
        k: np.diff(m.predict_cumulative_hazard(rows, grid).to_numpy(), axis=0, prepend=0.0)
        for k, m in csc.models_.items()
    }
    total = sum(dH.values())
    if product_limit:
        surv = np.cumprod(1 - total, axis=0)
    else:
        surv = np.exp(-np.cumsum(total, axis=0))
    before = np.vstack([np.ones((1, len(rows))), surv[:-1]])
    out = {}
    for k, inc in dH.items():
        F = np.cumsum(before * inc, axis=0)
        pos = np.searchsorted(grid, times, side="right") - 1
        out[k] = np.where(pos[:, None] >= 0, F[np.maximum(pos, 0)], 0.0)
    return out


@pytest.mark.parametrize("product_limit", [True, False])
def test_risk_profile_equals_the_row_by_row_formula_with_strata(product_limit):
    df = _cohort()
    csc = CauseSpecificCox().fit(df, "time", "event", formula=["x"], strata=["group"])
    rows = df.iloc[::37]
    last_b = df.loc[df.group == "b", "time"].max()
    times = [0.0, 0.01, 0.7, 1.5, last_b]  # 0: before every event
    got = csc.predict_risk_profile(rows, times, product_limit=product_limit)
    want = _by_hand(csc, rows, np.array(times), product_limit)
    for k in (1, 2):
        np.testing.assert_allclose(got[k].to_numpy(), want[k], rtol=1e-12, atol=1e-15)
        assert list(got[k].columns) == list(rows.index)
        assert (got[k].iloc[0] == 0).all()


def test_chunks_do_not_change_the_answer():
    rng = np.random.default_rng(3)
    increments = rng.uniform(0, 0.02, size=(2, 50, 3))
    codes = rng.integers(0, 2, size=23)
    relative = rng.uniform(0.2, 3.0, size=(23, 3))
    idx = np.array([-1, 0, 10, 49])
    whole = aalen_johansen_risks(increments, codes, relative, idx, chunk=1000)
    for chunk in (1, 2, 5):
        # BLAS may round a 1-row product differently from a 23-row one: 1e-14, not bits
        np.testing.assert_allclose(
            aalen_johansen_risks(increments, codes, relative, idx, chunk=chunk), whole, rtol=1e-14
        )
    assert (whole[:, 0] == 0).all()  # idx -1: before the first grid time
