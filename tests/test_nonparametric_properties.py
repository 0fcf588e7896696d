"""Identities of the nonparametric estimators (hypothesis) and their input checks.

- integer case weights equal duplicated rows (Kaplan-Meier with Greenwood
  SE, Nelson-Aalen, with and without delayed entry);
- Kaplan-Meier equals 1 - Aalen-Johansen when there is one cause;
- row order does not matter;
- lifelines' KaplanMeierFitter and logrank_test agree (independent peer).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survkit import (
    aalen_johansen,
    kaplan_meier,
    logrank_test,
    nelson_aalen,
    restricted_mean_survival,
    survival_quantiles,
)

SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KM_COLS = ["time", "n_risk", "n_event", "n_censor", "survival", "std_err", "lower", "upper"]


@st.composite
def survival_frames(draw, entry: bool = False):
    n = draw(st.integers(5, 40))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    stop = rng.integers(1, 12, n).astype(float)  # few distinct times: many ties
    event = rng.integers(0, 2, n)
    event[0] = 1
    df = pd.DataFrame(
        {
            "time": stop,
            "status": event,
            "g": rng.integers(0, 2, n),
            "w": rng.integers(1, 4, n),
        }
    )
    if entry:
        df["entry"] = np.floor(rng.uniform(0, 1, n) * stop)
    return df


def _duplicated(df: pd.DataFrame) -> pd.DataFrame:
    return df.loc[df.index.repeat(df["w"])].reset_index(drop=True)


def _assert_frames(a: pd.DataFrame, b: pd.DataFrame, cols) -> None:
    for c in cols:
        np.testing.assert_allclose(
            a[c].to_numpy(dtype=float),
            b[c].to_numpy(dtype=float),
            rtol=1e-10,
            atol=1e-12,
            equal_nan=True,
            err_msg=c,
        )


@SETTINGS
@given(survival_frames(), st.sampled_from(["log", "log-log", "plain"]))
def test_integer_weights_equal_duplicated_rows(df, conf_type):
    kw = dict(duration_col="time", event_col="status", group_col="g", conf_type=conf_type)
    weighted = kaplan_meier(df, weights_col="w", **kw)
    repeated = kaplan_meier(_duplicated(df), **kw)
    _assert_frames(weighted, repeated, KM_COLS)
    na_w = nelson_aalen(df, "time", "status", weights_col="w")
    na_r = nelson_aalen(_duplicated(df), "time", "status")
    _assert_frames(na_w, na_r, ["cumhaz", "std_err", "survival", "lower", "upper"])


@SETTINGS
@given(survival_frames(entry=True))
def test_integer_weights_equal_duplicated_rows_with_entry(df):
    kw = dict(duration_col="time", event_col="status", entry_col="entry")
    weighted = kaplan_meier(df, weights_col="w", **kw)
    repeated = kaplan_meier(_duplicated(df), **kw)
    _assert_frames(weighted, repeated, KM_COLS)


@SETTINGS
@given(survival_frames())
def test_kaplan_meier_is_one_minus_aalen_johansen_with_one_cause(df):
    km = kaplan_meier(df, "time", "status", group_col="g")
    # aalen_johansen wants censor_value=None when nothing is censored
    censor = 0 if (df["status"] == 0).any() else None
    aj = aalen_johansen(
        df, "time", "status", group_col="g", times=km["time"].unique(), censor_value=censor
    )
    for g, curve in km.groupby("group"):
        inc = aj[aj["group"] == g].set_index("time")["cif"]
        inc = inc.reindex(curve["time"].to_numpy())
        np.testing.assert_allclose(1 - curve["survival"].to_numpy(), inc.to_numpy(), atol=1e-12)


@SETTINGS
@given(survival_frames(), st.integers(0, 2**31 - 1))
def test_row_order_does_not_matter(df, seed):
    shuffled = df.sample(frac=1.0, random_state=seed % (2**32))
    kw = dict(duration_col="time", event_col="status", group_col="g", weights_col="w")
    _assert_frames(kaplan_meier(df, **kw), kaplan_meier(shuffled, **kw), KM_COLS)
    a = logrank_test(df.assign(g=df["g"].where(df.index % 3 > 0, 2)), "time", "status", "g")
    b_df = shuffled.assign(g=shuffled["g"].where(shuffled.index % 3 > 0, 2))
    b = logrank_test(b_df, "time", "status", "g")
    assert a.statistic == pytest.approx(b.statistic, rel=1e-10, abs=1e-12)


def test_non_integer_weights_use_the_jackknife_not_greenwood():
    # scaling every (non-integer) weight leaves the jackknife variance of S
    # unchanged; Greenwood on weighted counts (integer weights) scales as 1/c
    df = pd.DataFrame({"time": [1, 2, 2, 3, 4, 5.0], "status": [1, 1, 0, 1, 0, 1]})
    a = kaplan_meier(df.assign(w=0.5), "time", "status", weights_col="w")
    b = kaplan_meier(df.assign(w=1.5), "time", "status", weights_col="w")
    np.testing.assert_allclose(a["std_err"], b["std_err"], rtol=1e-12)
    g = kaplan_meier(df, "time", "status")
    d = kaplan_meier(df.assign(w=3), "time", "status", weights_col="w")
    np.testing.assert_allclose(d["std_err"], g["std_err"] / np.sqrt(3), rtol=1e-12)


def test_lifelines_agrees():
    lifelines = pytest.importorskip("lifelines")
    from lifelines.statistics import logrank_test as ll_logrank

    rng = np.random.default_rng(3)
    n = 300
    df = pd.DataFrame(
        {
            "time": np.ceil(rng.exponential(5, n)),  # ties
            "status": rng.integers(0, 2, n),
            "g": rng.integers(0, 2, n),
        }
    )
    km = kaplan_meier(df, "time", "status")
    kmf = lifelines.KaplanMeierFitter().fit(df["time"], df["status"])
    theirs = kmf.survival_function_.iloc[:, 0].reindex(km["time"].to_numpy())
    np.testing.assert_allclose(km["survival"].to_numpy(), theirs.to_numpy(), rtol=1e-12)
    a, b = df[df["g"] == 0], df[df["g"] == 1]
    ll = ll_logrank(a["time"], b["time"], a["status"], b["status"])
    ours = logrank_test(df, "time", "status", "g")
    assert ours.statistic == pytest.approx(ll.test_statistic, rel=1e-9)
    # lifelines' median: first time S <= 0.5; R (and survkit) take the midpoint
    # of a flat stretch exactly at 0.5, so compare only when there is none
    if not np.isclose(km["survival"], 0.5).any():
        med = survival_quantiles(km, probs=[0.5])["quantile"].iloc[0]
        assert med == kmf.median_survival_time_


def test_restricted_mean_of_exponential_data_is_close_to_truth():
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"time": rng.exponential(2.0, 20000), "status": 1})
    rm = restricted_mean_survival(kaplan_meier(df, "time", "status"), tau=3.0)
    truth = 2.0 * (1 - np.exp(-3.0 / 2.0))
    assert abs(rm["rmst"].iloc[0] - truth) < 4 * rm["std_err"].iloc[0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(conf_type="logit"), "conf_type"),
        (dict(conf_level=1.5), "conf_level"),
        (dict(weights_col="bad_w"), "zero or negative"),
        (dict(group_col="nope"), "group_col"),
        (dict(times=[-1.0]), "negative"),
        (dict(entry_col="late"), "entry < stop"),
    ],
)
def test_kaplan_meier_refuses_bad_input(kwargs, message):
    df = pd.DataFrame(
        {
            "time": [1.0, 2.0, 3.0],
            "status": [1, 0, 1],
            "bad_w": [1.0, 0.0, 2.0],
            "late": [0.0, 2.0, 0.5],
        }
    )
    with pytest.raises(ValueError, match=message):
        kaplan_meier(df, "time", "status", **kwargs)


def test_other_functions_refuse_bad_input():
    df = pd.DataFrame({"time": [1.0, 2.0, 3.0, 4.0], "status": [1, 0, 1, 1], "g": [1, 1, 1, 1]})
    with pytest.raises(ValueError, match="at least 2 groups"):
        logrank_test(df, "time", "status", "g")
    with pytest.raises(ValueError, match="rho"):
        logrank_test(df.assign(g=[0, 1, 0, 1]), "time", "status", "g", rho=-1)
    with pytest.raises(ValueError, match="ctype"):
        nelson_aalen(df, "time", "status", ctype=3)
    with pytest.raises(ValueError, match="ctype=2"):
        nelson_aalen(df.assign(w=0.5), "time", "status", weights_col="w", ctype=2)
    km = kaplan_meier(df, "time", "status")
    with pytest.raises(ValueError, match="probs"):
        survival_quantiles(km, probs=[1.5])
    with pytest.raises(ValueError, match="tau"):
        restricted_mean_survival(km, tau=-1)
    with pytest.raises(ValueError, match="missing"):
        kaplan_meier(df.assign(time=[1.0, np.nan, 2.0, 3.0]), "time", "status")


def test_times_beyond_follow_up_are_missing_not_extrapolated():
    df = pd.DataFrame({"time": [1.0, 2.0, 3.0], "status": [1, 1, 0]})
    at = kaplan_meier(df, "time", "status", times=[0.5, 2.5, 10.0])
    assert at["survival"].iloc[0] == 1.0 and at["lower"].iloc[0] == 1.0
    assert at["survival"].iloc[1] == pytest.approx(1 / 3)
    assert np.isnan(at["survival"].iloc[2]) and at["n_risk"].iloc[2] == 0
