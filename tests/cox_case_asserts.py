"""Assert every stored value of an R coxph case object (tests/reference/README.md) on a
CoxPH fitted by a data transformation (episode splitting, stacking, tt).

``names`` maps R's coefficient names to survkit's, position by position.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survkit.engine.concordance import concordance_counts

from .reference_cases import (
    RTOL_COEF,
    RTOL_CONCORDANCE,
    RTOL_CURVE,
    RTOL_LOGLIK,
    RTOL_SE,
    RTOL_STAT,
    matrix,
    vector,
)


def assert_cox_case(
    model,
    case: dict,
    names: list[str] | None = None,
    data: pd.DataFrame | None = None,
    check_n: bool = True,
    check_concordance: bool = True,
    check_means: bool = True,
) -> None:
    names = list(case["coef_names"]) if names is None else names
    assert list(model.params_.index) == names
    assert case["warnings"] == []
    np.testing.assert_allclose(model.params_, vector(case["coef"]), rtol=RTOL_COEF, atol=1e-12)
    np.testing.assert_allclose(model.standard_errors_, vector(case["se"]), rtol=RTOL_SE)
    np.testing.assert_allclose(model.variance_, matrix(case["var"]), rtol=RTOL_SE, atol=1e-14)
    assert case["naive_se"] is None and not case["robust"]
    assert model.log_likelihood_ == pytest.approx(case["loglik"], rel=RTOL_LOGLIK)
    assert model.log_likelihood_null_ == pytest.approx(case["loglik_null"], rel=RTOL_LOGLIK)
    assert model.likelihood_ratio_test_.statistic == pytest.approx(case["lr_test"], rel=RTOL_STAT)
    assert model.wald_test_.statistic == pytest.approx(case["wald_test"], rel=RTOL_STAT)
    assert model.score_test_.statistic == pytest.approx(case["score_test"], rel=RTOL_STAT)
    for ours, key in [
        (model.likelihood_ratio_test_, "likelihood_ratio"),
        (model.wald_test_, "wald"),
        (model.score_test_, "score"),
    ]:
        ref = case["tests"][key]
        assert ours.statistic == pytest.approx(ref["statistic"], rel=RTOL_STAT)
        assert ours.df == ref["df"]
        assert ours.p_value == pytest.approx(ref["p"], rel=RTOL_STAT)
    assert case["tests"]["robust_score"] is None and case["rscore"] is None
    assert model.n_iter_ == case["iter"]
    assert model.n_events_ == case["nevent"]
    if check_n:
        assert model.n_observations_ == case["n"]
    if check_means:
        # R reports 0 as the "mean" of 0/1 columns; the others are the centring means
        r_means = vector(case["means"])
        ours = model.means_.to_numpy()
        X = model._problem.X + model._problem.center
        binary = np.array([set(np.unique(X[:, j])) <= {0.0, 1.0} for j in range(X.shape[1])])
        assert (r_means[binary] == 0).all()
        np.testing.assert_allclose(ours[~binary], r_means[~binary], rtol=1e-12)
    if check_concordance and "count" in case["concordance"]:
        conc = case["concordance"]
        assert model.concordance_ == pytest.approx(conc["concordance"], rel=RTOL_CONCORDANCE)
        problem = model._problem
        counts = concordance_counts(problem, problem.X @ model.params_.to_numpy())
        ours = [counts.concordant, counts.discordant, counts.tied_x, counts.tied_y, counts.tied_xy]
        keys = ["concordant", "discordant", "tied.x", "tied.y", "tied.xy"]
        np.testing.assert_allclose(ours, [conc["count"][k] for k in keys], rtol=1e-10)
        coxph_conc = conc["coxph_concordance"]
        assert model.concordance_ == pytest.approx(coxph_conc["concordance"], rel=RTOL_CONCORDANCE)
    if case.get("basehaz") is not None:
        bh = case["basehaz"]
        table = model.baseline_cumulative_hazard_
        assert bh["strata"] is None
        ours = table.iloc[:, 0].loc[bh["time"]].to_numpy()
        np.testing.assert_allclose(ours, bh["hazard"], rtol=RTOL_CURVE, atol=1e-15)
    if case.get("newdata") is not None:
        new = pd.DataFrame(case["newdata"])
        lp = model.predict_log_partial_hazard(new).to_numpy()
        np.testing.assert_allclose(lp, case["xbeta_new"], rtol=RTOL_COEF, atol=1e-12)
        np.testing.assert_allclose(lp, case["lp_new"], rtol=RTOL_COEF, atol=1e-12)
        times = np.asarray(case["times"], dtype=float)
        inside = times <= model.baseline_cumulative_hazard_.index.max()
        surv = model.predict_survival(new, times[inside]).T.to_numpy()
        cumhaz = model.predict_cumulative_hazard(new, times[inside]).T.to_numpy()
        np.testing.assert_allclose(surv, matrix(case["surv_new"])[:, inside], rtol=RTOL_CURVE)
        np.testing.assert_allclose(
            cumhaz, matrix(case["cumhaz_new"])[:, inside], rtol=RTOL_CURVE, atol=1e-15
        )
