"""The certified gradient bounds of the elastic-net path: sound, used, and invisible in the fit."""

import numpy as np
import pandas as pd

from survkit import CoxNet
from survkit.engine import gradient_bounds
from survkit.engine.gradient_bounds import GradientBounds


def test_bounds_hold_and_skip_columns():
    rng = np.random.default_rng(7)
    p, n = 60, 400
    Xt = rng.standard_normal((p, n))
    bounds = GradientBounds(Xt, np.sqrt((Xt**2).sum(1)))
    g = rng.standard_normal(n) / n
    threshold = np.full(p, 0.15)
    skip = np.zeros(p, bool)
    skip[:3] = True
    for _ in range(25):
        out = bounds.gradient(g, skip, threshold)
        exact = Xt @ g
        assert np.all(out[skip] == 0)
        read = ~skip & (bounds.length_then == bounds.length)  # read exactly at this call
        certified = ~skip & ~read
        np.testing.assert_allclose(out[read], exact[read], rtol=1e-12, atol=1e-15)
        # a certified column's bound lies above its exact value and below the threshold
        assert np.all(out[certified] >= np.abs(exact[certified]))
        assert np.all(out[certified] < threshold[certified])
        # a column at or above the threshold is always read
        assert not np.any(certified & (np.abs(exact) >= threshold))
        g = g + rng.standard_normal(n) * 2e-5
    # the point of the bounds: far fewer reads than 25 full gradients
    assert bounds.n_read < 0.5 * 25 * (p - 3)


def test_path_is_the_one_the_exact_gradient_gives(monkeypatch):
    rng = np.random.default_rng(11)
    n, p = 600, 80
    X = rng.standard_normal((n, p))
    t = rng.exponential(np.exp(-X[:, :4] @ np.array([0.6, -0.4, 0.3, 0.2])))
    c = rng.exponential(1.5, n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["time"] = np.ceil(np.minimum(t, c) * 50) / 50
    df["status"] = (t <= c).astype(int)
    cols = [f"x{j}" for j in range(p)]
    fast = CoxNet(lambda_min_ratio=0.02).fit(df, "time", "status", formula=cols)

    exact = GradientBounds.gradient

    def read_everything(self, g, skip, threshold):
        return exact(self, g, skip, -np.inf)

    monkeypatch.setattr(gradient_bounds.GradientBounds, "gradient", read_everything)
    slow = CoxNet(lambda_min_ratio=0.02).fit(df, "time", "status", formula=cols)
    np.testing.assert_array_equal(fast.lambdas_, slow.lambdas_)
    np.testing.assert_array_equal(fast.coef_path_.to_numpy(), slow.coef_path_.to_numpy())
