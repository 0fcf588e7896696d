"""Standard errors of predicted state occupation (MultiStateCox.predict_occupation(se=True)).

R's survfit(<multi-state coxph>, newdata) gives none (survival 3.5-3 sets
se.fit <- FALSE), so the infinitesimal-jackknife standard errors are checked
where R gives the same quantity, and by their definition otherwise:

- no covariates on any transition: R's multi-state survfit std.err (Aalen-Johansen
  IJ) on mgus2 and rotterdam (tests/reference/results/multistate.json);
- one origin, absorbing targets: CauseSpecificCox's exact influence-function se
  (product limit), near riskRegression's predict(CSC, se = TRUE) (survfit.json);
- the influence function equals a numerical derivative of the prediction with
  respect to each patient's case weight, for both stype, on tied data.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survkit import CauseSpecificCox
from survkit import multistate as ms
from survkit.models.coxph import CoxPH

REF = Path(__file__).parent / "reference"
MS = json.loads((REF / "results" / "multistate.json").read_text())["cases"]
CSC = json.loads((REF / "results" / "survfit.json").read_text())["cases"]["csc"]
SE_TOL = 1e-5


def _forward(states):
    return ms.transition_matrix(states, {a: states[i + 1 :] for i, a in enumerate(states[:-1])})


@pytest.mark.parametrize(
    "case, file, states",
    [
        ("aj_mgus2", "ms_mgus2_long.csv", ["mgus", "pcm", "death"]),
        ("aj_rotterdam", "ms_rotterdam_long.csv", ["primary", "relapse", "death"]),
    ],
)
def test_without_covariates_equals_survfit_aalen_johansen(case, file, states):
    c = MS[case]
    data = ms.read_histories(
        pd.read_csv(REF / "data" / file), _forward(states), censor_value="censor"
    )
    model = ms.MultiStateCox().fit(data, {1: ["age"]})
    # drop the one Cox fit: every transition then predicts with its Nelson-Aalen
    # increments, so the prediction is the Aalen-Johansen estimate (stype 1)
    model.transition_models_.clear()
    # the grid: every 7th R time plus the last, to keep the test short
    rows = np.unique(np.append(np.arange(0, len(c["time"]), 7), len(c["time"]) - 1))
    grid = np.array(c["time"])[rows]
    pred = model.predict_occupation(pd.DataFrame({"age": [0.0]}), times=grid, stype=1, se=True)
    for value, key, tol in (("pstate", "pstate", 1e-6), ("std_err", "std_err", SE_TOL)):
        ours = pred.pivot(index="time", columns="state", values=value)[c["states"]]
        np.testing.assert_allclose(ours, np.array(c[key])[rows], rtol=0, atol=tol)


def test_competing_risks_equals_cause_specific_cox_influence():
    # one origin, absorbing targets: the product-limit (stype 1) prediction is the
    # cause-specific Cox absolute risk, and its IJ standard error is that of
    # CauseSpecificCox(se_method="influence"), itself checked against numerical
    # derivatives. riskRegression's product-limit se differentiates the exponential
    # form instead (see risk_profile_variance): close to it, not equal.
    case = CSC["synth_untied"]
    df = pd.read_csv(REF / "data" / f"{case['data']}.csv")
    to = df["event"].map({0: "censor", 1: "cause1", 2: "cause2"})
    hist = pd.DataFrame(
        {"id": df["id"], "tstart": 0.0, "tstop": df["time"], "from": "free", "to": to}
    ).join(df[["x1", "x2"]])
    tm = ms.transition_matrix(["free", "cause1", "cause2"], {"free": ["cause1", "cause2"]})
    data = ms.read_histories(hist, tm, censor_value="censor")
    model = ms.MultiStateCox(tol=1e-12, max_iter=50).fit(data, ["x1", "x2"])
    new = pd.DataFrame(case["newdata"])
    pred = model.predict_occupation(new, times=case["times"], stype=1, se=True)
    csc = CauseSpecificCox(ties="breslow", tol=1e-12, max_iter=50).fit(
        df, "time", "event", formula=["x1", "x2"]
    )
    exact = csc.predict_risk_profile(new, case["times"], se=True, se_method="influence")
    shape = (len(new), len(case["times"]))
    for cause in case["causes"]:
        ref = case["risk"][f"cause_{cause}_product_limit"]
        ours = pred[pred["state"] == f"cause{cause}"]
        risk = ours["pstate"].to_numpy().reshape(shape)
        se = ours["std_err"].to_numpy().reshape(shape)
        np.testing.assert_allclose(risk, np.array(ref["absRisk"]), rtol=1e-6)
        np.testing.assert_allclose(
            se, exact[int(cause)]["std_err"].to_numpy().reshape(shape), rtol=1e-8
        )
        # riskRegression (R): measured within 1.2 % here, growing with the risk
        np.testing.assert_allclose(se, np.array(ref["se"]), rtol=0.02)


def _illness_death(n, seed):
    """Small illness-death histories with tied times (rounded to 0.25)."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=n), 2)
    rows = []
    for i in range(n):
        ill = rng.exponential(1 / (0.5 * np.exp(0.6 * x[i])))
        die = rng.exponential(1 / 0.2)
        cens = rng.uniform(1, 5)
        t1 = np.ceil(min(ill, die, cens) * 4) / 4
        if cens <= min(ill, die):
            rows.append((i, 0.0, t1, "well", "censor"))
        elif die < ill:
            rows.append((i, 0.0, t1, "well", "dead"))
        else:
            rows.append((i, 0.0, t1, "well", "ill"))
            t2 = t1 + np.ceil(rng.exponential(1 / (0.4 * np.exp(0.3 * x[i]))) * 4) / 4
            rows.append((i, t1, min(t2, t1 + 3.0), "ill", "dead" if t2 < t1 + 3.0 else "censor"))
    hist = pd.DataFrame(rows, columns=["id", "tstart", "tstop", "from", "to"])
    hist["x"] = x[hist["id"]]
    tm = ms.transition_matrix(["well", "ill", "dead"], {"well": ["ill", "dead"], "ill": ["dead"]})
    return ms.read_histories(hist, tm, censor_value="censor")


def _weighted_prediction(model, weights, new, times, stype, **kw):
    """The prediction after refitting every transition with patient case weights."""
    twin = copy.deepcopy(model)
    long = model.long_.assign(w=model.long_["id"].map(weights).to_numpy())
    if model.method == "stacked":
        design = model.stacked_design_
        frame = pd.concat([long[["Tstart", "Tstop", "status", "w"]], design], axis=1)
        refit = CoxPH(ties="breslow", tol=1e-13, max_iter=50).fit(
            frame,
            duration_col="Tstop",
            entry_col="Tstart",
            event_col="status",
            formula=list(design.columns[:-1]),
            strata="baseline.stratum",
            weights_col="w",
        )
        twin.transition_models_["stacked"] = refit
        twin.params_ = pd.Series(refit.params_.to_numpy(), index=model.params_.index)
        return twin.predict_occupation(new, times=times, stype=stype, **kw)["pstate"].to_numpy()
    for k in model.transition_models_:
        rows = long[long["trans"] == k]
        twin.transition_models_[k] = CoxPH(ties="breslow", tol=1e-13, max_iter=50).fit(
            rows,
            duration_col="Tstop",
            entry_col="Tstart",
            event_col="status",
            formula=list(model.terms_[k]),
            weights_col="w",
        )
    return twin.predict_occupation(new, times=times, stype=stype, **kw)["pstate"].to_numpy()


SHARED = {"shared_baseline": [[("well", "dead"), ("ill", "dead")]]}


@pytest.mark.parametrize(
    "stype, stacked",
    [(2, None), (2, SHARED), (1, {**SHARED, "shared": {"x": [1, 3]}})],
)
def test_influence_is_the_derivative_of_the_prediction(stype, stacked):
    # per-transition fits, and stacked fits with a shared baseline (and a shared
    # coefficient): R's "1:3 + 2:3 ~ 1 / shared" and "~ x / common"
    data = _illness_death(20, seed=5)
    if stacked is None:
        model = ms.MultiStateCox(tol=1e-13, max_iter=50).fit(data, ["x"])
    else:
        terms = {2: ["x"]} if "shared" in stacked else ["x"]
        model = ms.MultiStateCox(method="stacked", tol=1e-13, max_iter=50)
        model.fit(data, terms, **stacked)
    new = pd.DataFrame({"x": [-0.5, 1.0]})
    times = [0.5, 1.25, 2.0, 3.5]
    ids = data.histories["id"].unique()
    ones = dict.fromkeys(ids, 1.0)
    base = _weighted_prediction(model, ones, new, times, stype)
    eps = 1e-6
    numeric = np.array(
        [
            (_weighted_prediction(model, {**ones, i: 1 + eps}, new, times, stype) - base) / eps
            for i in ids
        ]
    )
    pred = model.predict_occupation(new, times=times, stype=stype, se=True)
    np.testing.assert_allclose(pred["pstate"], base, rtol=0, atol=1e-12)
    expected = np.sqrt((numeric**2).sum(axis=0))
    assert (expected[pred["time"].to_numpy() >= 1.25] > 0).all()
    np.testing.assert_allclose(pred["std_err"], expected, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("initial", ["well", "ill"])
def test_influence_from_a_later_start_is_the_derivative_too(initial):
    # transition probabilities P(s, t | x) from `initial` at s = 1: only the
    # increments after s carry influence (the start is given)
    data = _illness_death(20, seed=5)
    model = ms.MultiStateCox(tol=1e-13, max_iter=50).fit(data, ["x"])
    new = pd.DataFrame({"x": [-0.5, 1.0]})
    times = [1.0, 1.25, 2.0, 3.5]
    kw = {"start_time": 1.0, "initial_state": initial}
    ids = data.histories["id"].unique()
    ones = dict.fromkeys(ids, 1.0)
    base = _weighted_prediction(model, ones, new, times, 2, **kw)
    eps = 1e-6
    numeric = np.array(
        [
            (_weighted_prediction(model, {**ones, i: 1 + eps}, new, times, 2, **kw) - base) / eps
            for i in ids
        ]
    )
    pred = model.predict_occupation(new, times=times, se=True, **kw)
    np.testing.assert_allclose(pred["pstate"], base, rtol=0, atol=1e-12)
    at_start = pred["time"].to_numpy() == 1.0
    assert (pred.loc[at_start, "std_err"] == 0).all()
    np.testing.assert_allclose(
        pred.loc[at_start & (pred["state"] == initial), "pstate"], 1.0, rtol=0, atol=0
    )
    expected = np.sqrt((numeric**2).sum(axis=0))
    assert (expected[pred["time"].to_numpy() >= 2.0] > 0).any()
    np.testing.assert_allclose(pred["std_err"], expected, rtol=1e-4, atol=1e-8)
    with pytest.raises(ValueError, match="before start_time"):
        model.predict_occupation(new, times=[0.5, 2.0], **kw)


def test_stacked_fit_gives_the_separate_fits_standard_errors():
    # the same model fitted two ways (stacked: one stratified fit)
    data = _illness_death(30, seed=5)
    new = pd.DataFrame({"x": [-0.5, 1.0]})
    times = [0.5, 1.25, 2.0, 3.5]
    separate = ms.MultiStateCox(tol=1e-13, max_iter=50).fit(data, ["x"])
    stacked = ms.MultiStateCox(method="stacked", tol=1e-13, max_iter=50).fit(data, ["x"])
    a = separate.predict_occupation(new, times=times, se=True)
    b = stacked.predict_occupation(new, times=times, se=True)
    np.testing.assert_allclose(b["pstate"], a["pstate"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(b["std_err"], a["std_err"], rtol=1e-7, atol=1e-12)
    # a transition without covariates: Nelson-Aalen in both fits
    one = {1: ["x"]}
    a = ms.MultiStateCox(tol=1e-13).fit(data, one).predict_occupation(new, times, se=True)
    b = ms.MultiStateCox(method="stacked", tol=1e-13).fit(data, one)
    b = b.predict_occupation(new, times, se=True)
    np.testing.assert_allclose(b["pstate"], a["pstate"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(b["std_err"], a["std_err"], rtol=1e-7, atol=1e-12)


def test_se_needs_breslow_and_the_covariates():
    data = _illness_death(30, seed=5)
    efron = ms.MultiStateCox(ties="efron").fit(data, ["x"])
    with pytest.raises(ValueError, match="ties='breslow'"):
        efron.predict_occupation(pd.DataFrame({"x": [0.0]}), times=[1.0], se=True)
    breslow = ms.MultiStateCox().fit(data, ["x"])
    with pytest.raises(ValueError, match="'x'"):
        breslow.predict_occupation(pd.DataFrame({"z": [0.0]}), times=[1.0], se=True)
    stacked = ms.MultiStateCox(method="stacked").fit(data, ["x"], **SHARED)
    for model in (breslow, stacked):
        with pytest.raises(ValueError, match="column 'x' has 1 missing"):
            model.predict_occupation(pd.DataFrame({"x": [np.nan]}), times=[1.0], se=True)
