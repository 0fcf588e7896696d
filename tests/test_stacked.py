"""Stacked (Lunn-McNeil) cause-specific model against R (tests/reference/results/stacked.json)."""

import numpy as np
import pandas as pd
import pytest

from survkit import CoxPH
from survkit.organs.stacked import fit_stacked, stack_causes

from .cox_case_asserts import assert_cox_case
from .reference_cases import (
    RTOL_COEF,
    RTOL_LOGLIK,
    RTOL_SE,
    RTOL_STAT,
    cases,
    cox_kwargs,
    data,
    results,
)

STK = cases("stacked")
EQUALITY = results("stacked")["equality_tests"]
FIT = {"tol": 1e-12, "max_iter": 100}


def our_name(r_name: str) -> str:
    return r_name.replace(":strata(cause)cause=", ":cause=")


@pytest.fixture(scope="module")
def full():
    return fit_stacked(data("mgus2.csv"), "etime", "event", ["age", "male"], **FIT)


@pytest.fixture(scope="module")
def common_age():
    return fit_stacked(data("mgus2.csv"), "etime", "event", "age + male", common=["age"], **FIT)


def test_stacking_reproduces_r_data():
    ref = data("mgus2_stacked.csv")
    ours = stack_causes(data("mgus2.csv"), "etime", "event")
    for col in ref.columns:
        np.testing.assert_array_equal(ours[col].to_numpy(), ref[col].to_numpy(), err_msg=col)


@pytest.mark.parametrize("name", ["mgus2_stacked_full", "mgus2_stacked_common_age"])
def test_stacked_fits_match_r(name, full, common_age):
    case = STK[name]
    fit = full if name == "mgus2_stacked_full" else common_age
    assert case["strata"] == ["cause"]
    assert_cox_case(fit.model, case, names=[our_name(n) for n in case["coef_names"]])


@pytest.mark.parametrize("name", ["mgus2_cs1", "mgus2_cs2"])
def test_separate_cause_specific_fits_match_r(name):
    case = STK[name]
    model = CoxPH(**FIT).fit(data(case["data"]), **cox_kwargs(case))
    assert_cox_case(model, case)


def test_stacked_fit_equals_separate_fits(full):
    # identity: strata by cause make the stacked likelihood the sum of the
    # cause-specific ones, with a block-diagonal information
    b, V = full.model.params_, full.model.variance_
    loglik = 0.0
    for k in (1, 2):
        sep = CoxPH(**FIT).fit(
            data("mgus2.csv"), "etime", "event", ["age", "male"], cause=k, censor_value=0
        )
        names = [f"age:cause={k}", f"male:cause={k}"]
        np.testing.assert_allclose(b[names], sep.params_, rtol=1e-9)
        np.testing.assert_allclose(V.loc[names, names], sep.variance_, rtol=1e-9)
        loglik += sep.log_likelihood_
        other = [n for n in b.index if n not in names]
        assert np.abs(V.loc[names, other].to_numpy()).max() < 1e-12
    assert full.model.log_likelihood_ == pytest.approx(loglik, rel=RTOL_LOGLIK)
    coefs = full.coefficients()
    assert list(coefs.columns) == [1, 2] and list(coefs.index) == ["age", "male"]
    np.testing.assert_allclose(coefs.loc["age", 2], b["age:cause=2"])


@pytest.mark.parametrize("covariate", ["age", "male"])
def test_between_organ_contrast_matches_r(full, covariate):
    ref = EQUALITY[f"{covariate}_equal_wald"]
    assert our_name(ref["coef_1"]) == f"{covariate}:cause=1"
    c = full.contrast(covariate, 1, 2)
    assert c["estimate"] == pytest.approx(ref["estimate"], rel=RTOL_COEF)
    assert c["se"] == pytest.approx(ref["se"], rel=RTOL_SE)
    assert c["z"] == pytest.approx(ref["z"], rel=RTOL_STAT)
    assert c["wald_chisq"] == pytest.approx(ref["wald_chisq"], rel=RTOL_STAT)
    assert c["df"] == ref["df"]
    assert c["p"] == pytest.approx(ref["p"], rel=RTOL_STAT)
    assert c["lower"] == pytest.approx(ref["lower_95"], rel=RTOL_SE)
    assert c["upper"] == pytest.approx(ref["upper_95"], rel=RTOL_SE)
    # with two organs the all-equal Wald test is the same test
    table = full.equality_tests()
    assert table.loc[covariate, "chisq"] == pytest.approx(ref["wald_chisq"], rel=RTOL_STAT)
    assert table.loc[covariate, "p"] == pytest.approx(ref["p"], rel=RTOL_STAT)


def test_common_effect_likelihood_ratio_matches_r(full):
    ref = EQUALITY["age_equal_lr"]
    assert (ref["full"], ref["reduced"]) == ("mgus2_stacked_full", "mgus2_stacked_common_age")
    test = full.common_effect_test("age")
    assert test.statistic == pytest.approx(ref["statistic"], rel=RTOL_STAT)
    assert test.df == ref["df"]
    assert test.p_value == pytest.approx(ref["p"], rel=RTOL_STAT)


def test_three_organs_string_causes_and_a_factor_term():
    df = data("synth3.csv")
    df["organ"] = df["cause"].map({0: "censored", 1: "bone", 2: "lung", 3: "brain"})
    fit = fit_stacked(df, "time", "organ", "x1 + C(g3)", censor_value="censored", **FIT)
    assert fit.causes == ["bone", "brain", "lung"]
    assert fit.coef_names[("x1", "bone")] == "x1:cause_=bone"  # df already has "cause"
    table = fit.equality_tests()
    assert list(table.index) == ["x1", "C(g3)"]
    assert list(table["df"]) == [2, 4]
    # the stacked coefficients are the per-organ fits
    for organ in fit.causes:
        sep = CoxPH(**FIT).fit(
            df, "time", "organ", "x1 + C(g3)", cause=organ, censor_value="censored"
        )
        names = [fit.coef_names[(c, organ)] for c in fit.covariates]
        np.testing.assert_allclose(fit.model.params_[names], sep.params_, rtol=1e-8)
    # the joint test is the Wald test of all pairwise differences (any contrast basis)
    b = fit.model.params_
    V = fit.model.variance_
    names = [fit.coef_names[("x1", k)] for k in fit.causes]
    L = np.array([[0.0, 1.0, -1.0], [1.0, 0.0, -1.0]])
    d = L @ b[names].to_numpy()
    chisq = d @ np.linalg.solve(L @ V.loc[names, names].to_numpy() @ L.T, d)
    assert table.loc["x1", "chisq"] == pytest.approx(chisq, rel=1e-10)


def test_bad_input():
    df = data("mgus2.csv")
    with pytest.raises(ValueError, match=r"causes \[7\] never occur"):
        fit_stacked(df, "etime", "event", ["age"], causes=[1, 7])
    with pytest.raises(ValueError, match="at least two distinct causes"):
        fit_stacked(df, "etime", "event", ["age"], causes=[1])
    with pytest.raises(ValueError, match=r"common: 1 covariate\(s\)/term\(s\) not in the model"):
        fit_stacked(df, "etime", "event", ["age"], common=["sex"])
    fit = fit_stacked(df, "etime", "event", ["age", "male"], **FIT)
    with pytest.raises(ValueError, match="not in the model: 'hgb'"):
        fit.contrast("hgb", 1, 2)
    with pytest.raises(ValueError, match="not in the model: 3"):
        fit.contrast("age", 1, 3)
    with pytest.raises(ValueError, match="already exists"):
        stack_causes(df.assign(cause=1), "etime", "event")
    assert isinstance(fit.data, pd.DataFrame) and len(fit.data) == 2 * len(df)
