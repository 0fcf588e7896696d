"""Invariances the Cox partial likelihood must have (hypothesis property tests).

Each property is an exact identity of the estimator, so the tolerances only
absorb floating-point rounding and the Newton stopping rule (tol = 1e-12).
"""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survkit import CoxPH

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TIES = st.sampled_from(["efron", "breslow"])


@st.composite
def cohorts(draw, min_n=25, max_n=60):
    """Small cohorts with many tied times, two covariates and >= 5 events."""
    n = draw(st.integers(min_n, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, size=n).astype(float)
    t = rng.exponential(np.exp(-0.5 * x1 + 0.4 * x2))
    time = np.ceil(t * 4) / 4  # quarter units: plenty of ties
    status = rng.binomial(1, 0.75, size=n)
    status[:5] = 1
    if x2.min() == x2.max():
        x2[0] = 1 - x2[0]
    return pd.DataFrame({"time": time, "status": status, "x1": x1, "x2": x2})


def fit(df, ties, **kw):
    return CoxPH(ties=ties, tol=1e-12, max_iter=50).fit(
        df,
        duration_col=kw.pop("duration_col", "time"),
        event_col="status",
        formula=kw.pop("formula", ["x1", "x2"]),
        **kw,
    )


def assert_same_fit(a, b, rtol=1e-7):
    np.testing.assert_allclose(a.params_, b.params_, rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(a.standard_errors_, b.standard_errors_, rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(a.log_likelihood_, b.log_likelihood_, rtol=1e-10)


@SETTINGS
@given(df=cohorts(), ties=TIES, seed=st.integers(0, 1000))
def test_row_order_does_not_matter(df, ties, seed):
    shuffled = df.sample(frac=1, random_state=seed)
    assert_same_fit(fit(df, ties), fit(shuffled, ties))


@SETTINGS
@given(df=cohorts(), k=st.integers(1, 10))
def test_duplicated_rows_equal_weight_two(df, k):
    # Breslow only: under Efron, R and survkit treat a case weight as a weight on
    # the tied group's mean, so k copies of a tied death are not the same as
    # weight k (documented in R's coxph; the identity holds only for Breslow).
    dup = pd.concat([df, df.iloc[:k]], ignore_index=True)
    weighted = df.assign(w=np.where(np.arange(len(df)) < k, 2.0, 1.0))
    a = fit(dup, "breslow")
    b = fit(weighted, "breslow", weights_col="w")
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(a.log_likelihood_, b.log_likelihood_, rtol=1e-10)
    np.testing.assert_allclose(a.naive_standard_errors_, b.naive_standard_errors_, rtol=1e-7)


@SETTINGS
@given(df=cohorts(), ties=TIES, c=st.floats(0.01, 100))
def test_scaling_a_covariate_divides_its_coefficient(df, ties, c):
    a = fit(df, ties)
    b = fit(df.assign(x1=df["x1"] * c), ties)
    np.testing.assert_allclose(b.params_["x1"], a.params_["x1"] / c, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(b.params_["x2"], a.params_["x2"], rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(b.log_likelihood_, a.log_likelihood_, rtol=1e-10)


@SETTINGS
@given(df=cohorts(), ties=TIES, transform=st.sampled_from(["log", "sqrt", "affine", "exp"]))
def test_increasing_transform_of_time_changes_nothing(df, ties, transform):
    f = {"log": np.log1p, "sqrt": np.sqrt, "affine": lambda t: 3 * t + 7, "exp": np.exp}[transform]
    a = fit(df, ties)
    b = fit(df.assign(time=f(df["time"])), ties)
    assert_same_fit(a, b)
    assert a.concordance_ == pytest.approx(b.concordance_, abs=1e-14)


@SETTINGS
@given(df=cohorts(), ties=TIES, seed=st.integers(0, 10_000))
def test_splitting_rows_into_episodes_changes_nothing(df, ties, seed):
    rng = np.random.default_rng(seed)
    pieces = []
    for i, row in df.iterrows():
        n_cuts = rng.integers(0, 3)
        # cut at other rows' times too: exercises an entry exactly at an event time
        candidates = np.concatenate([rng.uniform(0, row.time, 2), df["time"].to_numpy()])
        cuts = np.unique(candidates[(candidates > 0) & (candidates < row.time)])
        cuts = rng.choice(cuts, size=min(n_cuts, cuts.size), replace=False) if cuts.size else cuts
        bounds = np.concatenate([[0.0], np.sort(cuts), [row.time]])
        for lo, hi in itertools.pairwise(bounds):
            pieces.append(
                {
                    "id": i,
                    "start": lo,
                    "time": hi,
                    "x1": row.x1,
                    "x2": row.x2,
                    "status": int(row.status) if hi == row.time else 0,
                }
            )
    split = pd.DataFrame(pieces)
    a = fit(df, ties)
    b = fit(split, ties, entry_col="start")
    assert_same_fit(a, b)
    assert a.concordance_ == pytest.approx(b.concordance_, abs=1e-12)
    # robust variance clustered on the patient equals the unsplit robust variance
    ra = fit(df, ties, robust=True)
    rb = fit(split, ties, entry_col="start", cluster_col="id")
    np.testing.assert_allclose(ra.standard_errors_, rb.standard_errors_, rtol=1e-7)
    pd.testing.assert_frame_equal(
        a.baseline_cumulative_hazard_.loc[df["time"].unique()].sort_index(),
        b.baseline_cumulative_hazard_.loc[df["time"].unique()].sort_index(),
        rtol=1e-8,
    )
