"""Competing risks against R: cuminc, Gray's test, crr and riskRegression's CSC.

Every stored value of cuminc.json, crr.json and csc.json is asserted with the
tolerances of DESIGN.md.
"""

import numpy as np
import pandas as pd
import pytest

from survkit import CauseSpecificCox, FineGray, aalen_johansen, gray_test

from .reference_cases import (
    RTOL_COEF,
    RTOL_CURVE,
    RTOL_LOGLIK,
    RTOL_SE,
    RTOL_STAT,
    RTOL_VAR,
    cases,
    data,
    matrix,
    vector,
    with_dummies,
)

CUMINC = cases("cuminc")
CRR = cases("crr")
CSC = cases("csc")


def _curve_rows(result, case, curve):
    sel = result[result["cause"].astype(str) == curve["cause"]]
    if case["group"] is not None:
        sel = sel[sel["group"].astype(str) == curve["group"]]
    return sel


@pytest.mark.parametrize("name", list(CUMINC))
def test_cuminc_curves_every_corner(name):
    case = CUMINC[name]
    df = data(case["data"])
    result = aalen_johansen(df, case["duration"], case["event"], group_col=case["group"])
    for curve in case["curves"]:
        rows = _curve_rows(result, case, curve)
        t, est, var = (np.asarray(curve[k], dtype=float) for k in ("time", "est", "var"))
        # cuminc lists each jump twice (before/after); our knots are the values after
        # each jump, plus time 0 and the last follow-up time: the same step function
        after = np.unique(np.concatenate([[0], np.arange(2, len(t) - 1, 2), [len(t) - 1]]))
        if len(after) > 1 and t[after[-1]] == t[after[-2]]:  # last jump at the last time
            after = after[:-1]
        np.testing.assert_array_equal(rows["time"].to_numpy(), t[after])
        np.testing.assert_allclose(rows["cif"], est[after], rtol=RTOL_CURVE, atol=1e-15)
        np.testing.assert_allclose(rows["variance"], var[after], rtol=RTOL_VAR, atol=1e-15)
        # the value before each jump is the previous knot's: the step function is equal
        before = np.arange(1, len(t) - 1, 2)
        prev = np.searchsorted(rows["time"].to_numpy(), t[before], side="left") - 1
        np.testing.assert_allclose(rows["cif"].to_numpy()[prev], est[before], rtol=RTOL_CURVE)
        assert (rows["lower"] <= rows["cif"]).all() and (rows["cif"] <= rows["upper"]).all()


@pytest.mark.parametrize("name", list(CUMINC))
def test_cuminc_timepoints(name):
    case = CUMINC[name]
    tp = case["timepoints"]
    df = data(case["data"])
    result = aalen_johansen(
        df, case["duration"], case["event"], group_col=case["group"], times=tp["times"]
    )
    for row, curve in enumerate(case["curves"]):
        assert tp["rows"][row] == curve["name"]
        rows = _curve_rows(result, case, curve)
        est, var = vector(tp["est"][row]), vector(tp["var"][row])
        # NaN beyond the group's follow-up, exactly where cmprsk gives NA
        np.testing.assert_array_equal(np.isnan(rows["cif"].to_numpy()), np.isnan(est))
        np.testing.assert_allclose(rows["cif"], est, rtol=RTOL_CURVE, atol=1e-15)
        np.testing.assert_allclose(rows["variance"], var, rtol=RTOL_VAR, atol=1e-15)


@pytest.mark.parametrize("name", [n for n, c in CUMINC.items() if c["group"] is not None])
def test_gray_test(name):
    case = CUMINC[name]
    df = data(case["data"])
    result = gray_test(
        df, case["duration"], case["event"], case["group"], strata_col=case["strata"]
    )
    tests = case["tests"]
    assert [str(c) for c in result.index] == tests["cause"]
    np.testing.assert_allclose(result["statistic"], tests["stat"], rtol=RTOL_STAT)
    np.testing.assert_allclose(result["p_value"], tests["pv"], rtol=RTOL_STAT)
    np.testing.assert_array_equal(result["df"], tests["df"])


@pytest.fixture(scope="module", params=list(CRR))
def crr_fit(request):
    case = CRR[request.param]
    df = with_dummies(data(case["data"]), case["factors"])
    model = FineGray(tol=1e-12, max_iter=100).fit(
        df,
        case["duration"],
        case["event"],
        cause=case["failcode"],
        formula=case["coef_names"],
        censor_value=case["cencode"],
        cengroup_col=case["cengroup"],
    )
    return case, model


def test_crr_coefficients_variance_loglik(crr_fit):
    case, model = crr_fit
    # mgus2_fc2 and synth3_fc3: crr stops where its line search cannot improve
    # the log pseudo-likelihood in floating point (gradient ~1e-9); its
    # coefficients there are within ~1e-10 of the optimum, far inside 1e-6
    assert list(model.params_.index) == case["coef_names"]
    np.testing.assert_allclose(model.params_, vector(case["coef"]), rtol=RTOL_COEF)
    np.testing.assert_allclose(model.standard_errors_, vector(case["se"]), rtol=RTOL_SE)
    np.testing.assert_allclose(model.variance_, matrix(case["var"]), rtol=RTOL_SE, atol=1e-14)
    np.testing.assert_allclose(
        np.linalg.inv(model.naive_variance_.to_numpy()), matrix(case["inf"]), rtol=RTOL_SE
    )
    assert model.log_likelihood_ == pytest.approx(case["loglik"], rel=RTOL_LOGLIK)
    assert model.log_likelihood_null_ == pytest.approx(case["loglik_null"], rel=RTOL_LOGLIK)
    lr = case["lr_test"]
    assert model.likelihood_ratio_test_.statistic == pytest.approx(lr["statistic"], rel=RTOL_STAT)
    assert model.likelihood_ratio_test_.p_value == pytest.approx(lr["p"], rel=RTOL_STAT)
    assert model.likelihood_ratio_test_.df == lr["df"]
    assert model.n_observations_ == case["n"] and case["n_missing"] == 0
    assert model.converged_
    # crr's score at its estimate is ~0; so is ours at the same point
    assert np.max(np.abs(vector(case["score"]))) < 1e-6


def test_crr_baseline_and_prediction(crr_fit):
    case, model = crr_fit
    H0 = model.baseline_cumulative_hazard_["baseline"]
    uftime = np.asarray(case["uftime"])
    jumps = np.diff(H0.loc[uftime].to_numpy(), prepend=0.0)
    np.testing.assert_allclose(jumps, case["bfitj"], rtol=RTOL_CURVE)
    # no jumps anywhere else
    assert H0.loc[H0.index < uftime[0]].eq(0).all()
    new = pd.DataFrame(matrix(case["newcov"]), columns=case["covariates"])
    cif = model.predict_cumulative_incidence(new, case["predict"]["time"])
    np.testing.assert_allclose(cif.T.to_numpy(), matrix(case["predict"]["cif"]), rtol=RTOL_CURVE)
    grid = model.predict_cumulative_incidence(new, case["grid"])
    np.testing.assert_allclose(grid.T.to_numpy(), matrix(case["cif_grid"]), rtol=RTOL_CURVE)


def _csc_factors(case):
    return {"g3": ["a", "b", "c"]} if "g3" in case["covariates"] else None


@pytest.mark.parametrize("name", list(CSC))
def test_cause_specific_cox_models_and_absolute_risk(name):
    case = CSC[name]
    factors = _csc_factors(case)
    df = with_dummies(data(case["data"]), factors)
    first = next(iter(case["models"].values()))
    model = CauseSpecificCox(ties=case["ties"], tol=1e-12, max_iter=100).fit(
        df, case["duration"], case["event"], formula=list(first["coef"]), censor_value=0
    )
    assert [str(c) for c in model.causes_] == case["causes"]
    for cause, fitted in model.models_.items():
        ref = case["models"][str(cause)]
        np.testing.assert_allclose(fitted.params_, vector(ref["coef"]), rtol=RTOL_COEF)
        np.testing.assert_allclose(fitted.standard_errors_, vector(ref["se"]), rtol=RTOL_SE)
        np.testing.assert_allclose(fitted.variance_, matrix(ref["var"]), rtol=RTOL_SE)
        assert fitted.log_likelihood_ == pytest.approx(ref["loglik"], rel=RTOL_LOGLIK)
        assert fitted.log_likelihood_null_ == pytest.approx(ref["loglik_null"], rel=RTOL_LOGLIK)
        assert fitted.n_events_ == ref["nevent"] and fitted.n_iter_ == ref["iter"]
        H0 = fitted.baseline_cumulative_hazard_["baseline"]
        np.testing.assert_allclose(
            H0.loc[ref["basehaz"]["time"]],
            ref["basehaz"]["hazard"],
            rtol=RTOL_CURVE,
            atol=1e-15,
        )
    new = with_dummies(pd.DataFrame(case["newdata"]), factors)
    for cause in model.causes_:
        for product_limit, key in [(True, "product_limit"), (False, "exponential")]:
            expected = matrix(case["risk"][f"cause_{cause}_{key}"])
            got = model.predict_cumulative_incidence(
                new, case["times"], cause=cause, product_limit=product_limit
            )
            np.testing.assert_allclose(got.T.to_numpy(), expected, rtol=RTOL_CURVE)
