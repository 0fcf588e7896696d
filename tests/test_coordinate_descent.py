"""The blocked coordinate-descent kernel equals a plain one-coordinate-at-a-time pass."""

import numpy as np
import pytest

from survkit.engine.coordinate_descent import solve_quadratic


def _plain(Xt, W, resid, beta, cols, l1, l2, tol, max_passes):
    """glmnet's cycle written out: full pass, passes over non-zeros, then a
    confirming pass over the coordinates those passes did not sweep."""
    xv = np.zeros(Xt.shape[0])

    def sweep(idx, fresh):
        dlx = 0.0
        for j in idx:
            if fresh:
                xv[j] = np.sum(W * Xt[j] ** 2)
            u = Xt[j] @ resid + xv[j] * beta[j]
            a = abs(u) - l1[j]
            new = np.sign(u) * a / (xv[j] + l2[j]) if a > 0 else 0.0
            d = new - beta[j]
            beta[j] = new
            resid[:] -= W * Xt[j] * d
            dlx = max(dlx, xv[j] * d * d)
        return dlx

    passes = 0
    while passes < max_passes:
        passes += 1
        dlx = sweep(cols, passes == 1)
        if dlx < tol:
            break
        nz = [j for j in cols if beta[j] != 0]
        while passes < max_passes:
            passes += 1
            dlx = sweep(nz, False)
            if dlx < tol:
                break
        if dlx >= tol:
            break
        rest = [j for j in cols if j not in nz]
        if not rest:
            break
        passes += 1
        if sweep(rest, False) < tol:
            break
    return passes, xv


@pytest.mark.parametrize("k", [1, 3, 4, 7, 9, 13])
@pytest.mark.parametrize("ridge", [0.0, 0.5])
def test_blocked_pass_equals_plain_pass(k, ridge):
    rng = np.random.default_rng(k)
    p, n = 16, 300
    Xt = rng.standard_normal((p, n)) + 0.3 * rng.standard_normal(n)  # correlated columns
    W = rng.uniform(0.2, 1.0, n) / n
    g = rng.standard_normal(n) / n
    cols = np.sort(rng.choice(p, k, replace=False)).astype(np.int64)
    lam = 0.004
    l1 = np.full(p, lam * (1 - ridge))
    l2 = np.full(p, lam * ridge)
    beta0 = np.zeros(p)
    beta0[cols[::2]] = 0.05
    b1, r1, xv1 = beta0.copy(), g.copy(), np.zeros(p)
    eta0 = rng.standard_normal(n)
    eta = eta0.copy()
    passes, _ = solve_quadratic(Xt, W, r1, b1, xv1, cols, l1, l2, 1e-14, 1000, eta)
    b2, r2 = beta0.copy(), g.copy()
    passes2, xv2 = _plain(Xt, W, r2, b2, cols, l1, l2, 1e-14, 1000)
    assert passes == passes2
    np.testing.assert_allclose(b1, b2, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r1, r2, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(xv1[cols], xv2[cols], rtol=1e-12)
    # the linear predictor moved with the coefficients
    np.testing.assert_allclose(eta, eta0 + Xt.T @ (b1 - beta0), rtol=1e-12, atol=1e-13)
    assert np.count_nonzero(b1[cols]) > 0  # the penalty leaves something to fit
