"""CoxPH.residuals against R's residuals.coxph (tests/reference/results/residuals.json)."""

import numpy as np
import pandas as pd
import pytest

from survkit import CoxPH
from survkit.diagnostics.residuals import RESIDUAL_KINDS, cox_residuals
from survkit.engine.moments import risk_set_moments

from .reference_cases import cases, cox_kwargs, data, matrix, with_dummies

RES = cases("residuals")
COX = cases("cox")
# residuals are sums of O(n) terms of either sign: compare relative to the
# largest value of each column (elementwise relative error is meaningless near 0)
RTOL_RESID = 1e-8


def fit(name):
    case = COX[RES[name]["cox_case"]]
    df = with_dummies(data(case["data"]), case["factors"])
    model = CoxPH(ties=case["ties"], tol=1e-12, max_iter=100)
    return model.fit(df, robust=case["robust"] and case["cluster"] is None, **cox_kwargs(case))


@pytest.fixture(scope="module", params=list(RES))
def fitted(request):
    return RES[request.param], fit(request.param)


def assert_close(ours, ref):
    ours = np.asarray(ours, dtype=float)
    ref = np.asarray(ref, dtype=float)
    if ours.ndim == 2 and ref.ndim == 1:
        ref = ref[:, None]
    assert ours.shape == ref.shape
    scale = np.max(np.abs(ref), axis=0)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=RTOL_RESID * np.max(scale))
    # and elementwise wherever a value is not a near-cancellation
    big = np.abs(ref) > 1e-6 * scale
    np.testing.assert_allclose(ours[big], ref[big], rtol=1e-6)


@pytest.mark.parametrize("kind", ["martingale", "deviance"])
def test_per_row_vectors(fitted, kind):
    ref, model = fitted
    res = model.residuals(kind)
    assert isinstance(res, pd.Series) and res.name == kind
    assert len(res) == ref["n"]
    # rows are in data-file order: the stored ids are the file's
    assert data(ref["data"])["id"].tolist() == ref["id"]
    assert_close(res, ref[kind])


@pytest.mark.parametrize("kind", ["score", "dfbeta", "dfbetas"])
def test_per_row_matrices(fitted, kind):
    ref, model = fitted
    res = model.residuals(kind)
    assert list(res.columns) == ref["coef_names"]
    assert_close(res, matrix(ref[kind]) if isinstance(ref[kind][0], list) else ref[kind])


@pytest.mark.parametrize("kind", ["schoenfeld", "scaledsch"])
def test_schoenfeld_rows_in_r_order(fitted, kind):
    ref, model = fitted
    res = model.residuals(kind)
    assert list(res.columns) == ref["coef_names"]
    assert_close(res, matrix(ref[kind]) if isinstance(ref[kind][0], list) else ref[kind])
    np.testing.assert_array_equal(res.index.get_level_values("time"), ref["schoenfeld_time"])
    np.testing.assert_array_equal(res.index.get_level_values("row") + 1, ref["schoenfeld_row"])
    if ref.get("schoenfeld_strata") is not None:
        assert list(res.index.get_level_values("stratum")) == ref["schoenfeld_strata"]
    else:
        assert res.index.names == ["time", "row"]


def test_relations_between_types(fitted):
    _, model = fitted
    w = model._problem.weights[np.argsort(model._problem.order)]
    score = model.residuals("score").to_numpy()
    # weighted score residuals sum to the score at the estimate, ~ 0
    assert np.abs(w @ score).max() < 1e-6 * np.abs(score).max() * len(w)
    V = model.naive_variance_.to_numpy()
    np.testing.assert_allclose(model.residuals("dfbeta"), (score @ V) * w[:, None], atol=1e-15)
    np.testing.assert_allclose(
        model.residuals("martingale", weighted=True), model.residuals("martingale") * w
    )
    # Schoenfeld residuals sum to the unweighted score's death part: with
    # weights, their weighted sum is the score (0 at the estimate)
    sch = model.residuals("schoenfeld", weighted=True).to_numpy()
    assert np.abs(sch.sum(axis=0)).max() < 1e-8 * np.abs(sch).max() * len(sch)


def test_moment_reconstruction_gives_the_engine_information(fitted):
    _, model = fitted
    mom = risk_set_moments(model._problem, model.params_.to_numpy(), model.ties == "efron")
    info = mom.evaluation.information
    np.testing.assert_allclose(mom.information(), info, rtol=1e-10, atol=1e-12 * np.abs(info).max())


def test_row_order_follows_the_callers_rows():
    case = COX["lung_efron"]
    df = data(case["data"])
    kw = cox_kwargs(case)
    shuffled = df.sample(frac=1.0, random_state=3).reset_index(drop=True)
    a = CoxPH(tol=1e-12).fit(df, **kw)
    b = CoxPH(tol=1e-12).fit(shuffled, **kw)
    pos = df.reset_index().merge(shuffled.reset_index(), on=list(df.columns))
    ra, rb = a.residuals("martingale"), b.residuals("martingale")
    np.testing.assert_allclose(ra.to_numpy()[pos["index_x"]], rb.to_numpy()[pos["index_y"]])


def test_bad_kind_and_unfitted_model():
    with pytest.raises(ValueError, match="kind='pearson' is not supported; use one of"):
        fit("lung_efron").residuals("pearson")
    with pytest.raises(ValueError, match="not fitted yet"):
        CoxPH().residuals()
    with pytest.raises(ValueError, match="needs a fitted survkit CoxPH"):
        cox_residuals(object(), "score")
    assert set(RESIDUAL_KINDS) == {
        "martingale",
        "deviance",
        "score",
        "schoenfeld",
        "scaledsch",
        "dfbeta",
        "dfbetas",
    }
