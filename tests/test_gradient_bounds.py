"""The certified gradient bounds of the elastic-net path: sound, used, and invisible in the fit."""

import numpy as np
import pandas as pd

from survkit import CoxNet
from survkit.engine import gradient_bounds
from survkit.engine.elastic_net import StandardisedDesign
from survkit.engine.gradient_bounds import GradientBounds


def _bounds(Xt):
    return GradientBounds(Xt, np.sqrt((Xt**2).sum(1)), Xt.astype(np.float32))


def _random_problem(seed, p, n):
    """A standard-normal design (p, n), its bounds and a gradient of the path's scale."""
    rng = np.random.default_rng(seed)
    Xt = rng.standard_normal((p, n))
    return rng, Xt, _bounds(Xt), rng.standard_normal(n) / n


def test_bounds_hold_and_skip_columns():
    p, n = 60, 400
    rng, Xt, bounds, g = _random_problem(7, p, n)
    threshold = np.full(p, 0.15)
    second = np.full(p, 0.12)
    skip = np.zeros(p, bool)
    skip[:3] = True
    for _ in range(25):
        out = bounds.gradient(g, skip, (threshold, second))
        exact = Xt @ g
        assert np.all(out[skip] == 0)
        read = ~skip & (bounds.length_then == bounds.length)  # read exactly at this call
        certified = ~skip & ~read
        # read in single precision: within 2^-24 ||x|| ||g|| (and rounding) of exact
        err = 2.0**-23 * bounds.norms * np.linalg.norm(g)
        assert np.all(np.abs(out[read] - exact[read]) <= err[read])
        # ... and on the same side of both thresholds as the exact value
        for t in (threshold, second):
            assert np.array_equal(np.abs(out[read]) >= t[read], np.abs(exact[read]) >= t[read])
        # a certified column's bound lies above its exact value and below the thresholds
        assert np.all(out[certified] >= np.abs(exact[certified]))
        assert np.all(out[certified] < second[certified])
        # a column at or above a threshold is always read
        assert not np.any(certified & (np.abs(exact) >= second))
        g = g + rng.standard_normal(n) * 2e-5
    # the point of the bounds: far fewer reads than 25 full gradients
    assert bounds.n_read < 0.5 * 25 * (p - 3)
    # the first call reads everything; afterwards no value came near a threshold,
    # so every later read settled both comparisons in single precision
    assert bounds.n_exact == 0


def test_a_value_at_a_threshold_is_read_in_double_precision():
    p, n = 8, 300
    _, Xt, bounds, g = _random_problem(3, p, n)
    exact = Xt @ g
    # thresholds a hair (1e-12 relative) from columns 2 and 5: single precision
    # cannot tell the side, so those two are read again in double precision
    t = np.full(p, 1e-6)
    t[2] = abs(exact[2]) * (1 + 1e-12)
    t[5] = abs(exact[5]) * (1 - 1e-12)
    out = bounds.gradient(g, None, (t,))
    assert bounds.n_exact == 2
    np.testing.assert_allclose(out[[2, 5]], exact[[2, 5]], rtol=1e-13)
    assert abs(out[2]) < t[2] and abs(out[5]) >= t[5]
    # without thresholds (lambda_max) every read is in double precision
    before = bounds.n_exact
    out = bounds.gradient(g, None)
    np.testing.assert_allclose(out, exact, rtol=1e-12)
    assert bounds.n_exact - before == p


def test_the_single_precision_copy_is_the_design_rounded_or_none():
    rng = np.random.default_rng(5)
    Xt = rng.standard_normal((4, 50)) * 3 + 1
    design = StandardisedDesign.build(Xt.copy(), np.ones(50), standardize=True)
    np.testing.assert_array_equal(design.single, design.Xt.astype(np.float32))
    # unstandardised data beyond float32's range: no copy, every read in double
    Xt[1, 7] = 1e100
    design = StandardisedDesign.build(Xt.copy(), np.ones(50), standardize=False)
    assert design.single is None
    bounds = GradientBounds(design.Xt, design.norms, design.single)
    g = rng.standard_normal(50) / 50
    out = bounds.gradient(g, None, (np.full(4, 1e-3),))
    np.testing.assert_allclose(out, design.Xt @ g, rtol=1e-12)
    assert bounds.n_exact == 4


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

    def read_everything(self, g, skip, thresholds):
        return exact(self, g, skip)  # no thresholds: every column, double precision

    monkeypatch.setattr(gradient_bounds.GradientBounds, "gradient", read_everything)
    slow = CoxNet(lambda_min_ratio=0.02).fit(df, "time", "status", formula=cols)
    np.testing.assert_array_equal(fast.lambdas_, slow.lambdas_)
    np.testing.assert_array_equal(fast.coef_path_.to_numpy(), slow.coef_path_.to_numpy())
