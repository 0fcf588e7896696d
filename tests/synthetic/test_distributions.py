"""Closed-form baselines: distribution functions agree with scipy.stats, and
the inverse cumulative hazards really invert."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from synthetic.distributions import DormancyBaseline, DormancyDistribution, GompertzBaseline
from synthetic.dormancy_mixture import MixtureDormancy

FAMILIES = ["lognormal", "weibull", "gamma"]


def scipy_equivalent(d: DormancyDistribution):
    if d.family == "lognormal":
        return stats.lognorm(s=d.shape, scale=d.scale)
    if d.family == "weibull":
        return stats.weibull_min(c=d.shape, scale=d.scale)
    return stats.gamma(a=d.shape, scale=d.scale)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("median", "iqr"), [(5.0, 6.0), (2.0, 0.5), (1.0, 8.0)])
def test_dormancy_matches_scipy_and_keeps_median_and_iqr(family, median, iqr):
    d = DormancyDistribution.from_median_iqr(family, median, iqr)
    reference = scipy_equivalent(d)
    assert reference.median() == pytest.approx(median, rel=1e-10)
    assert reference.ppf(0.75) - reference.ppf(0.25) == pytest.approx(iqr, rel=1e-9)
    t = np.array([1e-3, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 40.0])
    np.testing.assert_allclose(d.cdf(t), reference.cdf(t), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(d.sf(t), reference.sf(t), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(d.logpdf(t), reference.logpdf(t), rtol=1e-10)
    p = np.array([1e-12, 1e-4, 0.1, 0.5, 0.9])
    np.testing.assert_allclose(d.ppf(p), reference.ppf(p), rtol=1e-9)
    np.testing.assert_allclose(d.isf(p), reference.isf(p), rtol=1e-9)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("pi", [0.01, 0.3, 1.0])
def test_dormancy_baseline_inverts_and_differentiates(family, pi):
    baseline = DormancyBaseline(pi, DormancyDistribution.from_median_iqr(family, 3.0, 4.0))
    t = np.geomspace(1e-3, 60.0, 200)
    h = baseline.cumulative(t)
    assert np.all(np.diff(h) >= 0)
    recovered = baseline.inverse_cumulative(h)
    resolvable = h < 0.999 * baseline.supremum  # the inverse is ill-conditioned at sup
    np.testing.assert_allclose(recovered[resolvable], t[resolvable], rtol=1e-7)
    # hazard = dH0/dt (central differences, relative step 1e-6)
    step = t * 1e-6
    difference = baseline.cumulative(t + step) - baseline.cumulative(t - step)
    numeric = difference / (2 * step)
    keep = difference > 1e-7 * h  # else round-off in H0 swamps the difference
    np.testing.assert_allclose(baseline.hazard(t)[keep], numeric[keep], rtol=1e-5)
    # Beyond the supremum the cells never wake.
    if pi < 1:
        assert baseline.supremum == pytest.approx(-np.log1p(-pi))
        assert np.all(np.isinf(baseline.inverse_cumulative(baseline.supremum * np.array([1, 2]))))
    else:
        assert np.isinf(baseline.supremum)


def test_zero_seeding_fraction_never_wakes():
    baseline = DormancyBaseline(0.0, DormancyDistribution.from_median_iqr("lognormal", 2, 2))
    assert baseline.supremum == 0
    assert np.all(baseline.cumulative([0.5, 5.0]) == 0)
    assert np.all(np.isinf(baseline.inverse_cumulative([1e-9, 3.0])))


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(1e-4, 1.0), growth=st.floats(0.0, 0.3), h=st.floats(1e-9, 50.0))
def test_gompertz_inverse_is_exact(rate, growth, h):
    baseline = GompertzBaseline(rate, growth)
    t = baseline.inverse_cumulative(h)
    assert float(baseline.cumulative(t)) == pytest.approx(h, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(1e-3, 1.0), growth=st.floats(-0.5, -1e-6), u=st.floats(1e-6, 0.999))
def test_gompertz_inverse_with_a_falling_hazard(rate, growth, u):
    # growth < 0: H0 rises to rate / |growth| and never reaches it (multi-state
    # scenario files allow it); the inverse used a small-growth series for every y < 0
    baseline = GompertzBaseline(rate, growth)
    assert baseline.supremum == pytest.approx(rate / -growth)
    h = u * baseline.supremum
    t = baseline.inverse_cumulative(h)
    assert float(baseline.cumulative(t)) == pytest.approx(h, rel=1e-8)
    assert np.isinf(baseline.inverse_cumulative(baseline.supremum * 1.0001))


@settings(max_examples=60, deadline=None)
@given(
    family=st.sampled_from(FAMILIES),
    median=st.floats(0.2, 20.0),
    ratio=st.floats(0.1, 3.0),
    pi=st.floats(0.001, 1.0),
    u=st.floats(1e-6, 0.999),
)
def test_dormancy_inverse_is_exact(family, median, ratio, pi, u):
    baseline = DormancyBaseline(
        pi, DormancyDistribution.from_median_iqr(family, median, ratio * median)
    )
    h = u * baseline.supremum if pi < 1 else -np.log1p(-u)
    t = baseline.inverse_cumulative(h)
    assert np.isfinite(t)
    assert float(baseline.cumulative(t)) == pytest.approx(h, rel=1e-6)


MIXTURE_PARTS = [
    ("lognormal", 2.0, 1.5, 0.5),
    ("weibull", 12.0, 14.0, 0.3),
    ("gamma", 5.0, 9.0, 0.2),
]


def make_mixture(parts=MIXTURE_PARTS) -> MixtureDormancy:
    components = tuple(DormancyDistribution.from_median_iqr(f, m, i) for f, m, i, _ in parts)
    return MixtureDormancy(components, tuple(w for *_, w in parts))


def test_mixture_matches_the_weighted_scipy_components():
    mixture = make_mixture()
    references = [scipy_equivalent(c) for c in mixture.components]
    weights = mixture.weights
    t = np.array([1e-3, 0.1, 1.0, 2.0, 5.0, 10.0, 40.0, 200.0])
    cdf = sum(w * r.cdf(t) for w, r in zip(weights, references, strict=True))
    sf = sum(w * r.sf(t) for w, r in zip(weights, references, strict=True))
    pdf = sum(w * r.pdf(t) for w, r in zip(weights, references, strict=True))
    np.testing.assert_allclose(mixture.cdf(t), cdf, rtol=1e-10)
    np.testing.assert_allclose(mixture.sf(t), sf, rtol=1e-9)
    np.testing.assert_allclose(np.exp(mixture.logpdf(t)), pdf, rtol=1e-10)
    # Quantiles invert the distribution functions, in both tails.
    p = np.array([1e-12, 1e-6, 0.01, 0.25, 0.5, 0.9, 0.999])
    np.testing.assert_allclose(mixture.cdf(mixture.ppf(p)), p, rtol=1e-12)
    np.testing.assert_allclose(mixture.sf(mixture.isf(p)), p, rtol=1e-12)
    assert mixture.ppf(0.0) == 0 and np.isinf(mixture.ppf(1.0)) and np.isinf(mixture.isf(0.0))
    assert mixture.median == pytest.approx(float(mixture.ppf(0.5)))


def test_scaling_a_mixture_scales_every_duration():
    mixture = make_mixture()
    doubled = mixture.scaled(2.0)
    t = np.array([0.5, 3.0, 30.0])
    np.testing.assert_allclose(doubled.cdf(2.0 * t), mixture.cdf(t), rtol=1e-12)
    assert [c.median for c in doubled.components] == [4.0, 24.0, 10.0]


@settings(max_examples=40, deadline=None)
@given(
    weight=st.floats(0.05, 0.95),
    late=st.floats(1.5, 30.0),
    pi=st.floats(0.001, 1.0),
    u=st.floats(1e-6, 0.999),
)
def test_mixture_dormancy_inverse_is_exact(weight, late, pi, u):
    parts = [("weibull", 2.0, 1.5, weight), ("lognormal", late, late, 1.0 - weight)]
    baseline = DormancyBaseline(pi, make_mixture(parts))
    h = u * baseline.supremum if pi < 1 else -np.log1p(-u)
    t = baseline.inverse_cumulative(h)
    assert np.isfinite(t)
    assert float(baseline.cumulative(t)) == pytest.approx(h, rel=1e-9)
