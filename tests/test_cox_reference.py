"""CoxPH against R's coxph (tests/reference/results/cox.json), every stored value."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from survkit import CoxPH
from survkit.engine.concordance import concordance_counts

from .reference_cases import (
    RTOL_COEF,
    RTOL_CONCORDANCE,
    RTOL_CURVE,
    RTOL_LOGLIK,
    RTOL_SE,
    RTOL_STAT,
    cases,
    cox_kwargs,
    data,
    matrix,
    vector,
    with_dummies,
)

COX = cases("cox")
REGULAR = [name for name in COX if name != "monotone_infinite"]


def fit_case(case, robust=None, **extra):
    df = with_dummies(data(case["data"]), case["factors"])
    kw = cox_kwargs(case)
    if robust is None:
        robust = case["robust"] and case["cluster"] is None
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = CoxPH(ties=case["ties"], tol=1e-12, max_iter=100, **extra)
        return model.fit(df, robust=robust, **kw), df


@pytest.fixture(scope="module", params=REGULAR)
def fitted(request):
    case = COX[request.param]
    model, df = fit_case(case)
    return case, model, df


def test_coefficients(fitted):
    case, model, _ = fitted
    assert list(model.params_.index) == case["coef_names"]
    np.testing.assert_allclose(model.params_, vector(case["coef"]), rtol=RTOL_COEF, atol=1e-12)


def test_standard_errors_and_variance(fitted):
    case, model, _ = fitted
    np.testing.assert_allclose(model.standard_errors_, vector(case["se"]), rtol=RTOL_SE)
    np.testing.assert_allclose(model.variance_, matrix(case["var"]), rtol=RTOL_SE, atol=1e-14)
    if case["naive_se"] is not None:
        np.testing.assert_allclose(
            model.naive_standard_errors_, vector(case["naive_se"]), rtol=RTOL_SE
        )
        np.testing.assert_allclose(
            model.naive_variance_, matrix(case["naive_var"]), rtol=RTOL_SE, atol=1e-14
        )


def test_log_likelihoods_and_tests(fitted):
    case, model, _ = fitted
    assert model.log_likelihood_ == pytest.approx(case["loglik"], rel=RTOL_LOGLIK)
    assert model.log_likelihood_null_ == pytest.approx(case["loglik_null"], rel=RTOL_LOGLIK)
    tests = case["tests"]
    for ours, key in [
        (model.likelihood_ratio_test_, "likelihood_ratio"),
        (model.wald_test_, "wald"),
        (model.score_test_, "score"),
    ]:
        assert ours.statistic == pytest.approx(tests[key]["statistic"], rel=RTOL_STAT)
        assert ours.df == tests[key]["df"]
        assert ours.p_value == pytest.approx(tests[key]["p"], rel=RTOL_STAT)
    if case["rscore"] is not None:
        rs = model.robust_score_test_
        assert rs.statistic == pytest.approx(case["rscore"], rel=RTOL_STAT)
        assert rs.p_value == pytest.approx(tests["robust_score"]["p"], rel=RTOL_STAT)


def test_iterations_counts_and_means(fitted):
    case, model, _ = fitted
    # same algorithm and stopping rule as R (eps = 1e-12): same iteration count
    assert model.n_iter_ == case["iter"]
    assert model.n_observations_ == case["n"]
    assert model.n_events_ == case["nevent"]
    # R reports 0 as the "mean" of 0/1 columns (survival 3.x); ours are the
    # weighted means used for centring, so compare the other columns
    df = with_dummies(data(case["data"]), case["factors"])
    binary = [c for c in case["coef_names"] if set(np.unique(df[c])) <= {0, 1}]
    r_means = pd.Series(vector(case["means"]), index=case["coef_names"])
    assert (r_means[binary] == 0).all()
    others = [c for c in case["coef_names"] if c not in binary]
    if case["entry"] is not None and case["weights"] is not None:
        # R's (start, stop] fitter reports unweighted means; ours stay weighted
        r_means[others] = np.average(df[others], axis=0, weights=df[case["weights"]])
    np.testing.assert_allclose(model.means_[others], r_means[others], rtol=1e-12)


def test_concordance(fitted):
    case, model, _ = fitted
    conc = case["concordance"]
    assert model.concordance_ == pytest.approx(conc["concordance"], rel=RTOL_CONCORDANCE)
    problem = model._problem
    counts = concordance_counts(problem, problem.X @ model.params_.to_numpy() + problem.offset)
    ours = [counts.concordant, counts.discordant, counts.tied_x, counts.tied_y, counts.tied_xy]
    theirs = [conc["count"][k] for k in ["concordant", "discordant", "tied.x", "tied.y", "tied.xy"]]
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_baseline_cumulative_hazard(fitted):
    case, model, _ = fitted
    bh = case["basehaz"]
    table = model.baseline_cumulative_hazard_
    # R centres an offset at its mean: its baseline is at offset = mean(offset)
    scale = np.exp(case.get("offset_mean") or 0.0)
    strata = bh["strata"] or ["baseline"] * len(bh["time"])
    expected = pd.DataFrame({"time": bh["time"], "H": bh["hazard"], "s": strata})
    for label, grp in expected.groupby("s"):
        ours = table[label].loc[grp["time"].to_numpy()].to_numpy() * scale
        np.testing.assert_allclose(ours, grp["H"], rtol=RTOL_CURVE, atol=1e-15)
    assert set(table.columns) == set(strata)


def test_predictions_for_new_rows(fitted):
    case, model, _ = fitted
    new = with_dummies(pd.DataFrame(case["newdata"]), case["factors"])
    lp = model.predict_log_partial_hazard(new).to_numpy()
    offset = new[case["offset"]].to_numpy() if case["offset"] else 0.0
    np.testing.assert_allclose(lp - offset, case["xbeta_new"], rtol=RTOL_COEF, atol=1e-12)
    times = np.asarray(case["times"])
    # survkit refuses times beyond a stratum's follow-up (R carries the last
    # value forward); compare within follow-up and check the refusal beyond
    follow_up = model.baseline_cumulative_hazard_.index.max()
    if case["strata"]:
        labels = model.baseline_.strata_codes_for(new, case["strata"])
        follow_up = min(model.baseline_.times[k][-1] for k in labels)
    inside = times <= follow_up
    surv = model.predict_survival(new, times[inside])
    cumhaz = model.predict_cumulative_hazard(new, times[inside])
    expected_surv = matrix(case["surv_new"])[:, inside]
    np.testing.assert_allclose(surv.T.to_numpy(), expected_surv, rtol=RTOL_CURVE)
    np.testing.assert_allclose(
        cumhaz.T.to_numpy(), matrix(case["cumhaz_new"])[:, inside], rtol=RTOL_CURVE, atol=1e-15
    )
    if not inside.all():
        with pytest.raises(ValueError, match="beyond the last follow-up time"):
            model.predict_survival(new, times)


@pytest.mark.parametrize("name", ["lung_weighted", "heart_weighted_strata"])
def test_r_default_robust_for_fractional_weights_is_our_robust_true(name):
    # survival >= 3 turns on the sandwich variance by default when a case weight
    # is not an integer; survkit does it only on request (robust=True). Both
    # numbers are checked: the R default equals our robust=True, R's naive
    # variance equals our default.
    case = COX[name]
    assert case["robust_by_default"]
    plain, _ = fit_case(case, robust=False)
    np.testing.assert_allclose(plain.standard_errors_, vector(case["naive_se"]), rtol=RTOL_SE)
    robust, _ = fit_case(case, robust=True)
    np.testing.assert_allclose(robust.standard_errors_, vector(case["se"]), rtol=RTOL_SE)


def test_factor_through_formula_matches_r_coding():
    case = COX["veteran_efron"]
    df = data(case["data"])
    levels = case["factors"]["celltype"]
    formula = f"trt + karno + diagtime + age + prior + C(celltype, levels={levels!r})"
    model = CoxPH(tol=1e-12, max_iter=100).fit(df, "time", "status", formula=formula)
    np.testing.assert_allclose(model.params_, vector(case["coef"]), rtol=RTOL_COEF)
    assert model.params_.index[-1].endswith("[T.large]")


def test_monotone_likelihood_like_r():
    case = COX["monotone_infinite"]
    assert "coefficient may be infinite" in case["warnings"][0]
    df = data(case["data"])
    with pytest.warns(ConvergenceWarning, match=r"before coefficient\(s\) x;"):
        model = CoxPH(tol=1e-12, max_iter=100).fit(df, "time", "status", formula=["x", "z"])
    # the log-likelihood converges to its supremum; the diverging coefficient's
    # value depends on where the iterations stop, so it is not compared
    assert model.log_likelihood_ == pytest.approx(case["loglik"], rel=RTOL_LOGLIK)
    assert model.log_likelihood_null_ == pytest.approx(case["loglik_null"], rel=RTOL_LOGLIK)
    assert model.params_["z"] == pytest.approx(case["coef"]["z"], rel=1e-3)
    assert model.params_["x"] > 15
