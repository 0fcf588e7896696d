"""Multi-state estimators against R's survival 3.5 (tests/reference/make_reference_multistate.R).

Every stored value is asserted: state occupation (pstate), its infinitesimal-
jackknife standard error, numbers at risk and events, confidence limits; the
multi-state Cox coefficients, robust and naive variances and log-likelihoods.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survkit import multistate as ms

REF = Path(__file__).parent / "reference"
CASES = json.loads((REF / "results" / "multistate.json").read_text())["cases"]
CURVE_TOL = 1e-6  # curves (tolerance of the project for incidence curves)
SE_TOL = 1e-5

STATES = {
    "ms_mgus2_long.csv": ["mgus", "pcm", "death"],
    "ms_rotterdam_long.csv": ["primary", "relapse", "death"],
    "ms_synth_long.csv": ["free", "bone", "liver", "death"],
    "ms_synth_mixed.csv": ["free", "bone", "liver", "death"],
}


def _transitions(states):
    # every forward transition: each state to every later one (the R data use these)
    return ms.transition_matrix(states, {a: states[i + 1 :] for i, a in enumerate(states[:-1])})


def _data(file):
    states = STATES[file]
    df = pd.read_csv(REF / "data" / file)
    return ms.read_histories(df, _transitions(states), censor_value="censor")


def _wide(occ, value, states):
    return occ.pivot(index="time", columns="state", values=value)[states]


@pytest.mark.parametrize("case", [k for k in CASES if k.startswith("aj_")])
def test_state_occupation_equals_survfit(case):
    c = CASES[case]
    data = _data(c["data"])
    occ = ms.state_occupation(
        data,
        group_col=c["group"],
        start_time=c.get("start_time"),
        landmark_state=c.get("landmark_state"),
        p0=c.get("p0"),
    )
    states = c["states"]
    ours = list(data.transitions.states)
    assert [st for st in ours if st in states] == states
    # R leaves out states nobody can be in (e.g. 'primary' for a landmark in relapse)
    empty = occ[~occ["state"].isin(states)]
    assert (empty["pstate"] == 0).all() and (empty["std_err"] == 0).all()
    if c["group"] is None:
        blocks = [(occ, slice(None))]
    else:
        sizes = c["strata"]["sizes"]
        bounds = np.cumsum([0, *sizes])
        levels = sorted(occ["group"].unique())
        assert [str(v) for v in levels] == c["strata"]["names"]
        blocks = [
            (occ[occ["group"] == g], slice(bounds[i], bounds[i + 1])) for i, g in enumerate(levels)
        ]
    for block, rows in blocks:
        time = np.array(c["time"])[rows]
        np.testing.assert_array_equal(_wide(block, "pstate", states).index, time)
        np.testing.assert_allclose(
            _wide(block, "pstate", states), np.array(c["pstate"])[rows], rtol=0, atol=CURVE_TOL
        )
        np.testing.assert_allclose(
            _wide(block, "std_err", states), np.array(c["std_err"])[rows], rtol=0, atol=SE_TOL
        )
        np.testing.assert_array_equal(_wide(block, "n_risk", states), np.array(c["n_risk"])[rows])
        np.testing.assert_array_equal(_wide(block, "n_event", states), np.array(c["n_event"])[rows])
        for side in ("lower", "upper"):
            ours = _wide(block, side, states).to_numpy()
            ref = np.array(c[side], dtype=float)[rows]  # null (R's NA) -> nan
            np.testing.assert_allclose(ours, ref, rtol=0, atol=SE_TOL, equal_nan=True)
    assert c["conf_type"] == "log"
    assert c["warnings"] == []
    if c["std_err_without_p0"] is not None:
        # survival 3.5's default leaves the influence of an estimated p0 out
        assert c["influence"] is True
        plain = ms.state_occupation(data, group_col=c["group"], p0_variance=False)
        np.testing.assert_allclose(
            _wide(plain, "std_err", states),
            np.array(c["std_err_without_p0"]),
            rtol=0,
            atol=SE_TOL,
        )
        np.testing.assert_array_equal(plain["pstate"], occ["pstate"])


COEF_RTOL = 1e-6
LOGLIK_TOL = 1e-8


@pytest.mark.parametrize("method", ["separate", "stacked"])
@pytest.mark.parametrize("case", [k for k in CASES if k.startswith("cox_")])
def test_multistate_cox_equals_coxph(case, method):
    c = CASES[case]
    assert c["robust"] is True
    data = _data(c["data"])
    model = ms.MultiStateCox(ties=c["method"], method=method, tol=1e-12, max_iter=50)
    shared = None
    if c.get("shared"):  # R's "1:3 + 2:3" -> (from, to) pairs by state position
        st = c["states"]
        shared = {
            v: [tuple(st[int(i) - 1] for i in part.strip().split(":")) for part in r.split("+")]
            for v, r in c["shared"].items()
        }
    groups = None
    if c.get("shared_baseline"):  # R's "1:3 + 2:3 ~ 1 / shared" -> [[(from, to), ...]]
        st = c["states"]
        groups = [
            [tuple(st[int(i) - 1] for i in part.strip().split(":"))]
            for part in c["shared_baseline"].split("+")
        ]
        groups = [[pair for group in groups for pair in group]]
    if (shared or groups) and method == "separate":
        with pytest.raises(ValueError, match="stacked"):
            model.fit(data, c["covariates"], shared=shared, shared_baseline=groups)
        return
    model.fit(data, c["covariates"], shared=shared, shared_baseline=groups)
    names = list(c["coef"])
    assert sorted(names) == sorted(model.params_.index)
    np.testing.assert_allclose(model.params_[names], list(c["coef"].values()), rtol=COEF_RTOL)
    np.testing.assert_allclose(model.standard_errors_[names], c["se"], rtol=SE_TOL)
    np.testing.assert_allclose(model.naive_standard_errors_[names], c["naive_se"], rtol=SE_TOL)
    np.testing.assert_allclose(
        model.variance_.loc[names, names], np.array(c["var"]), rtol=0, atol=1e-10
    )
    np.testing.assert_allclose(
        model.naive_variance_.loc[names, names], np.array(c["naive_var"]), rtol=0, atol=1e-10
    )
    loglik = np.array([model.log_likelihood_null_, model.log_likelihood_])
    np.testing.assert_allclose(loglik, c["loglik"], rtol=LOGLIK_TOL, atol=0)
    # R's n is the number of history rows, nevent the transitions
    assert len(data.histories) == c["n"]
    assert int(data.histories["status"].sum()) == c["nevent"]
    assert c["warnings"] == []
    summary = model.summary
    first = names[0]
    k = int(summary.loc[first, "transition"])
    assert (summary.loc[first, "from"], summary.loc[first, "to"]) == data.transitions.pairs[k - 1]


def test_transition_specific_covariates_and_their_errors():
    data = _data("ms_synth_long.csv")
    full = ms.MultiStateCox().fit(data, ["x1", "x2"])
    # a covariate on one transition only: that transition's fit is unchanged
    one = ms.MultiStateCox().fit(data, {("free", "bone"): ["x1", "x2"], 6: "x1"})
    assert list(one.params_.index) == ["x1_1:2", "x2_1:2", "x1_3:4"]
    np.testing.assert_allclose(
        one.params_[["x1_1:2", "x2_1:2"]], full.params_[["x1_1:2", "x2_1:2"]]
    )
    with pytest.raises(ValueError, match="not kept columns"):
        ms.MultiStateCox().fit(data, ["x3"])
    with pytest.raises(ValueError, match="does not exist"):
        ms.MultiStateCox().fit(data, {9: ["x1"]})
    with pytest.raises(ValueError, match="not allowed"):
        ms.MultiStateCox().fit(data, {("liver", "bone"): ["x1"]})


@pytest.mark.parametrize("case", [k for k in CASES if k.startswith("pred_")])
def test_predicted_occupation_equals_survfit_coxph(case):
    c = CASES[case]
    data = _data(c["data"])
    if c.get("shared_baseline"):  # "1:3 + 2:3": transitions 2 and 3 (mgus, pcm -> death)
        assert c["shared_baseline"] == "1:3 + 2:3" and c["states"] == ["mgus", "pcm", "death"]
        model = ms.MultiStateCox(method="stacked", tol=1e-12, max_iter=50)
        model.fit(data, c["covariates"], shared_baseline=[[("mgus", "death"), ("pcm", "death")]])
    else:
        model = ms.MultiStateCox(tol=1e-12, max_iter=50).fit(data, c["covariates"])
    new = pd.DataFrame(c["newdata"])
    start = c.get("start_time")  # transition probabilities from `initial` at start_time
    kw = {} if start is None else {"start_time": start, "initial_state": c["initial"]}
    later = model.follow_up_times_[model.follow_up_times_ > (start or -1.0)]
    np.testing.assert_array_equal(later, c["time"])
    for stype, key in ((2, "pstate"), (1, "pstate_stype1")):
        pred = model.predict_occupation(new, times=c["time"], stype=stype, **kw)
        np.testing.assert_array_equal(np.unique(pred["time"]), c["time"])
        for i, expected in enumerate(c[key]):
            ours = pred[pred["row"] == i].pivot(index="time", columns="state", values="pstate")
            np.testing.assert_allclose(
                ours[c["states"]], np.array(expected), rtol=0, atol=CURVE_TOL
            )
    # R's cumulative hazards per transition, in R's transition order (by target state)
    position = {s: i + 1 for i, s in enumerate(c["states"])}
    order = sorted(data.transitions.pairs, key=lambda p: (position[p[1]], position[p[0]]))
    for i, expected in enumerate(c["cumhaz"]):
        row = new.iloc[[i]]
        for j, (a, b) in enumerate(order):
            k = data.transitions.number(a, b)
            ref = np.array(expected)[:, j]
            time = np.array(c["time"])
            if model.method == "stacked":
                from survkit.multistate.prediction import _stacked_hazard

                t, dH, risk = _stacked_hazard(model, k, row)
                # the hazard of a transition in a shared stratum runs on to the
                # stratum's last follow-up time (R's too)
                inside = time <= t.max()
                at = np.searchsorted(t, time[inside], side="right") - 1
                ours = np.where(at >= 0, np.cumsum(dH)[np.maximum(at, 0)], 0.0) * risk[0]
                assert start is None
            else:
                fitted = model.transition_models_[k]
                inside = time <= fitted.baseline_cumulative_hazard_.index.max()
                ours = fitted.predict_cumulative_hazard(row, time[inside]).to_numpy().ravel()
                if start is not None:  # R's hazard accumulates from start.time
                    ours = ours - fitted.predict_cumulative_hazard(row, [start]).to_numpy()[0, 0]
            np.testing.assert_allclose(ours, ref[inside], rtol=0, atol=CURVE_TOL)
            # after the transition's last follow-up time R carries the value forward
            np.testing.assert_array_equal(ref[~inside], ref[inside][-1])
    assert c["warnings"] == []


def test_origin_effect_equals_coxph_with_origin_indicator():
    c = CASES["origin_mgus2_death"]
    data = _data(c["data"])
    table, test = ms.origin_effect(data, c["target"], c["covariates"], origins=c["origins"])
    model = test["model"]
    names = [f"from[{o}]" for o in c["origins"][1:]] + c["covariates"]
    np.testing.assert_allclose(model.params_[names], list(c["coef"].values()), rtol=COEF_RTOL)
    np.testing.assert_allclose(model.standard_errors_[names], c["se"], rtol=SE_TOL)
    np.testing.assert_allclose(table["coef"], list(c["coef"].values())[: len(table)])
    np.testing.assert_allclose(test["statistic"], c["wald"]["statistic"], rtol=SE_TOL)
    assert test["df"] == c["wald"]["df"]
    np.testing.assert_allclose(test["p_value"], c["wald"]["p"], rtol=1e-4)
    assert test["reference"] == c["origins"][0]
    assert c["warnings"] == []


def test_prediction_with_a_transition_without_covariates_uses_nelson_aalen():
    from survkit.multistate.prediction import _nelson_aalen

    data = _data("ms_synth_long.csv")
    model = ms.MultiStateCox().fit(data, {k: ["x1"] for k in range(1, 6)})  # not 6 = liver -> death
    assert 6 not in model.transition_models_
    rows = model.long_[model.long_["trans"] == 6]
    times, increments = _nelson_aalen(rows)
    # plain count: events at t over rows with Tstart < t <= Tstop
    for t, dh in zip(times, increments, strict=True):
        at_risk = ((rows["Tstart"] < t) & (rows["Tstop"] >= t)).sum()
        events = ((rows["Tstop"] == t) & (rows["status"] == 1)).sum()
        assert dh == events / at_risk
    pred = model.predict_occupation(pd.DataFrame({"x1": [0.0, 1.0]}), times=[1.0, 3.0, 6.0])
    sums = pred.groupby(["row", "time"])["pstate"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-12)
    dead = pred[(pred["state"] == "death") & (pred["time"] == 6.0)]["pstate"].to_numpy()
    assert (dead > 0).all() and (dead < 1).all()


@pytest.mark.parametrize("scale", [1e-3, 0.4, 5.0, 60.0])
def test_small_matrix_exponential_equals_scipy(scale):
    from scipy.linalg import expm

    from survkit.multistate.prediction import _expm

    rng = np.random.default_rng(int(scale * 1000))
    A = rng.random((6, 5, 5)) * scale
    diag = np.arange(5)
    A[:, diag, diag] = 0.0
    A[:, diag, diag] = -A.sum(axis=2)  # generator: rows add to 0
    ours = _expm(A)
    for i in range(len(A)):
        np.testing.assert_allclose(ours[i], expm(A[i]), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ours.sum(axis=2), 1.0, atol=1e-12)


def test_shared_baseline_groups_and_their_errors():
    data = _data("ms_synth_long.csv")  # free, bone, liver, death
    to_death = [("free", "death"), ("bone", "death"), ("liver", "death")]
    model = ms.MultiStateCox(method="stacked").fit(data, ["x1"], shared_baseline=[to_death])
    assert model.shared_baseline_ == [[3, 5, 6]]
    assert list(model.params_.index[-2:]) == ["ph(2:4/1:4)", "ph(3:4/1:4)"]
    summary = model.summary.loc[["ph(2:4/1:4)", "ph(3:4/1:4)"]]
    assert list(summary["transition"]) == [5, 6] and list(summary["covariate"]) == ["ph", "ph"]
    with pytest.raises(ValueError, match="stacked"):
        ms.MultiStateCox().fit(data, ["x1"], shared_baseline=[to_death])
    with pytest.raises(ValueError, match="two or more"):
        ms.MultiStateCox(method="stacked").fit(data, ["x1"], shared_baseline=[[3]])
    with pytest.raises(ValueError, match="in two groups"):
        ms.MultiStateCox(method="stacked").fit(data, ["x1"], shared_baseline=[[3, 5], [5, 6]])
    with pytest.raises(ValueError, match="not a group"):
        ms.MultiStateCox(method="stacked").fit(data, ["x1"], shared_baseline=[("free", "death")])
