"""Competing risks: identities between routes, string causes, bad input, invariances."""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survkit import CauseSpecificCox, CoxPH, FineGray, aalen_johansen, gray_test

from .reference_cases import data


def finegray_expand(df, time, event, cause, covariates, censoring_after_events=False):
    """R's ``finegray``: (start, stop] rows with censoring weights (quadratic; tests only).

    A subject failing from a competing cause at T stays at risk after T, with
    weight G(t-)/G(T-) on each interval between censoring times; G is the
    Kaplan-Meier of the censoring distribution. Where an event and a censoring
    share a time, crr's G keeps the failures in the censoring risk set
    (``censoring_after_events=False``); R's ``finegray`` removes them, which is
    the convention under which its weighted KM equals Aalen-Johansen exactly.
    """
    t = df[time].to_numpy(float)
    e = df[event].to_numpy()
    cens_times = np.unique(t[e == 0])
    u = np.unique(t)
    at_risk = np.array([(t >= v).sum() for v in u])
    if censoring_after_events:
        at_risk = at_risk - np.array([((t == v) & (e != 0)).sum() for v in u])
    n_cens = np.array([((t == v) & (e == 0)).sum() for v in u])
    G_after = np.cumprod(1 - n_cens / at_risk)

    def G(x, left):
        idx = np.searchsorted(u, x, side="left" if left else "right")
        return 1.0 if idx == 0 else G_after[idx - 1]

    rows = []
    t_max = t.max()
    for i in range(len(df)):
        base = {c: df[c].iloc[i] for c in covariates}
        if e[i] == 0 or e[i] == cause:
            rows.append(
                {**base, "start": 0.0, "stop": t[i], "status": int(e[i] == cause), "w": 1.0}
            )
            continue
        rows.append({**base, "start": 0.0, "stop": t[i], "status": 0, "w": 1.0})
        g_den = G(t[i], left=True)
        knots = np.concatenate([[t[i]], cens_times[cens_times > t[i]], [t_max]])
        for lo, hi in itertools.pairwise(knots):
            weight = G(lo, left=False) / g_den
            if hi > lo and weight > 0:
                rows.append({**base, "start": lo, "stop": hi, "status": 0, "w": weight})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def bmt():
    return data("bmt.csv")


def test_fine_gray_equals_weighted_cox_on_expanded_data(bmt):
    covs = ["platelet", "age", "tcell"]
    fg = FineGray(tol=1e-12).fit(bmt, "time", "cause", cause=1, formula=covs)
    expanded = finegray_expand(bmt, "time", "cause", 1, covs)
    cox = CoxPH(ties="breslow", tol=1e-12).fit(
        expanded, "stop", "status", formula=covs, entry_col="start", weights_col="w"
    )
    np.testing.assert_allclose(fg.params_, cox.params_, rtol=1e-9)
    np.testing.assert_allclose(fg.naive_variance_, cox.naive_variance_, rtol=1e-8)
    assert fg.log_likelihood_ == pytest.approx(cox.log_likelihood_, rel=1e-12)


def test_weighted_km_on_expanded_data_equals_aalen_johansen(bmt):
    expanded = finegray_expand(bmt, "time", "cause", 1, [], censoring_after_events=True)
    times = np.unique(bmt.loc[bmt["cause"] == 1, "time"])
    surv = 1.0
    km = []
    for t in times:
        at_risk = expanded[(expanded["start"] < t) & (expanded["stop"] >= t)]["w"].sum()
        d = ((expanded["stop"] == t) & (expanded["status"] == 1)).sum()
        surv *= 1 - d / at_risk
        km.append(1 - surv)
    aj = aalen_johansen(bmt, "time", "cause", cause=1, times=times)
    np.testing.assert_allclose(aj["cif"], km, rtol=1e-12)


def test_string_causes_end_to_end(bmt):
    names = {0: "censored", 1: "relapse", 2: "death"}
    coded = bmt.assign(cause=bmt["cause"].map(names))
    covs = ["platelet", "age", "tcell"]
    kw = dict(formula=covs)
    pairs = [
        (
            FineGray().fit(bmt, "time", "cause", cause=1, **kw),
            FineGray().fit(coded, "time", "cause", cause="relapse", censor_value="censored", **kw),
        ),
        (
            CoxPH().fit(bmt, "time", "cause", cause=2, **kw),
            CoxPH().fit(coded, "time", "cause", cause="death", censor_value="censored", **kw),
        ),
    ]
    for a, b in pairs:
        np.testing.assert_allclose(a.params_, b.params_, rtol=1e-12)
        np.testing.assert_allclose(a.standard_errors_, b.standard_errors_, rtol=1e-12)
    a = aalen_johansen(bmt, "time", "cause", group_col="tcell")
    b = aalen_johansen(coded, "time", "cause", group_col="tcell", censor_value="censored")
    assert set(b["cause"]) == {"death", "relapse"}
    np.testing.assert_allclose(
        a[a["cause"] == 1]["cif"].to_numpy(), b[b["cause"] == "relapse"]["cif"].to_numpy()
    )
    ga = gray_test(bmt, "time", "cause", "tcell")
    gb = gray_test(coded, "time", "cause", "tcell", censor_value="censored")
    assert gb.loc["relapse", "statistic"] == pytest.approx(ga.loc[1, "statistic"], rel=1e-12)
    csc = CauseSpecificCox().fit(coded, "time", "cause", formula=covs, censor_value="censored")
    assert csc.causes_ == ["death", "relapse"]
    risk = csc.predict_risk_profile(coded.head(3), [6.0, 12.0])
    total = risk["death"] + risk["relapse"]
    assert ((total > 0) & (total < 1)).all().all()


def test_profile_and_overall_survival_add_up(bmt):
    # sum over causes of the product-limit CIF = 1 - product-limit all-cause survival
    covs = ["platelet", "age", "tcell"]
    csc = CauseSpecificCox().fit(bmt, "time", "cause", formula=covs)
    new = bmt.head(4)
    grid = [0.5, 3.0, 12.0, 60.0]
    risk = csc.predict_risk_profile(new, grid)
    dH = sum(
        np.diff(
            m.predict_cumulative_hazard(new, np.unique(bmt["time"][bmt["time"] <= 60])).to_numpy(),
            axis=0,
            prepend=0,
        )
        for m in csc.models_.values()
    )
    surv = np.cumprod(1 - dH, axis=0)[-1]
    np.testing.assert_allclose((risk[1] + risk[2]).loc[60.0].to_numpy(), 1 - surv, rtol=1e-12)


# ------------------------------------------------------------------ bad input
def test_errors(bmt):
    covs = ["platelet", "age"]
    with pytest.raises(ValueError, match=r"cause=3 never occurs in column 'cause'"):
        FineGray().fit(bmt, "time", "cause", cause=3, formula=covs)
    with pytest.raises(ValueError, match=r"cause=3 never occurs"):
        aalen_johansen(bmt, "time", "cause", cause=3)
    frac = bmt.assign(cause=bmt["cause"].astype(float))
    frac.loc[[0, 1], "cause"] = 1.5
    with pytest.raises(ValueError, match=r"has 2 value\(s\) that are not integer codes"):
        aalen_johansen(frac, "time", "cause")
    with pytest.raises(ValueError, match=r"censor_value=9 never occurs.*censor_value=None"):
        FineGray().fit(bmt, "time", "cause", cause=1, formula=covs, censor_value=9)
    with pytest.raises(ValueError, match=r"group column 'one' has a single level"):
        gray_test(bmt.assign(one=1), "time", "cause", "one")
    bad = bmt.copy()
    bad.loc[[3, 4, 5], "time"] = -1
    with pytest.raises(ValueError, match=r"time has 3 negative value"):
        aalen_johansen(bad, "time", "cause")
    bad = bmt.copy()
    bad.loc[[3], "age"] = np.nan
    with pytest.raises(ValueError, match=r"column 'age' has 1 missing"):
        FineGray().fit(bad, "time", "cause", cause=1, formula=covs)
    with pytest.raises(ValueError, match=r"'tcel'"):
        gray_test(bmt, "time", "cause", "tcel")


def test_prediction_beyond_follow_up_is_refused(bmt):
    covs = ["platelet", "age"]
    fg = FineGray().fit(bmt, "time", "cause", cause=1, formula=covs)
    last = bmt["time"].max()
    with pytest.raises(ValueError, match=r"beyond the last follow-up time"):
        fg.predict_cumulative_incidence(bmt.head(2), [1.0, last + 1])
    csc = CauseSpecificCox().fit(bmt, "time", "cause", formula=covs)
    with pytest.raises(ValueError, match=r"beyond the last follow-up time"):
        csc.predict_cumulative_incidence(bmt.head(2), [last * 2], cause=1)
    # at the last follow-up time itself it is allowed, and constant after the last event
    assert fg.predict_cumulative_incidence(bmt.head(1), [last]).shape == (1, 1)


def test_aalen_johansen_nan_beyond_group_follow_up(bmt):
    last = bmt.groupby("tcell")["time"].max()
    t = (last.min() + last.max()) / 2
    res = aalen_johansen(bmt, "time", "cause", group_col="tcell", times=[1.0, t])
    short = last.idxmin()
    sel = res[(res["group"] == short) & (res["time"] == t)]
    assert sel["cif"].isna().all() and sel["lower"].isna().all()
    assert res[res["group"] != short]["cif"].notna().all()


# ------------------------------------------------------------------ invariances
@st.composite
def competing_cohorts(draw):
    n = draw(st.integers(30, 80))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=n)
    time = np.ceil(rng.exponential(1, n) * 5) / 5
    event = rng.choice([0, 1, 2], size=n, p=[0.3, 0.4, 0.3])
    event[:3] = [0, 1, 2]
    return pd.DataFrame({"time": time, "event": event, "x": x, "g": rng.integers(0, 2, n)})


SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(df=competing_cohorts(), seed=st.integers(0, 1000))
def test_row_order_and_time_transform_invariance(df, seed):
    shuffled = df.sample(frac=1, random_state=seed)
    a = FineGray(tol=1e-12).fit(df, "time", "event", cause=1, formula=["x"])
    b = FineGray(tol=1e-12).fit(shuffled, "time", "event", cause=1, formula=["x"])
    c = FineGray(tol=1e-12).fit(
        df.assign(time=np.log1p(df["time"])), "time", "event", cause=1, formula=["x"]
    )
    for other in (b, c):
        np.testing.assert_allclose(a.params_, other.params_, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(a.standard_errors_, other.standard_errors_, rtol=1e-8)
    aj = aalen_johansen(df, "time", "event", group_col="g")
    aj2 = aalen_johansen(shuffled, "time", "event", group_col="g")
    pd.testing.assert_frame_equal(aj, aj2)


@SETTINGS
@given(df=competing_cohorts())
def test_incidences_and_survival_sum_to_one(df):
    times = np.sort(df["time"].unique())
    aj = aalen_johansen(df, "time", "event", times=times)
    total = aj.groupby("time")["cif"].sum().to_numpy()
    # all-cause Kaplan-Meier
    surv, km = 1.0, []
    for t in times:
        at_risk = (df["time"] >= t).sum()
        d = ((df["time"] == t) & (df["event"] != 0)).sum()
        surv *= 1 - d / at_risk
        km.append(surv)
    np.testing.assert_allclose(total + np.array(km), 1.0, rtol=1e-12)
