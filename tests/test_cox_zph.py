"""cox_zph against R's cox.zph (tests/reference/results/zph.json): every stored value."""

import time

import numpy as np
import pandas as pd
import pytest

from survkit import CoxPH
from survkit.diagnostics.cox_zph import cox_zph, cox_zph_details

from .reference_cases import RTOL_STAT, cases, cox_kwargs, data, matrix, with_dummies

ZPH = cases("zph")
COX = cases("cox")
RTOL_RESID = 1e-8  # scaled residuals: relative to each column's largest value


def fit_for(zcase):
    case = COX[zcase["cox_case"]]
    df = data(case["data"])
    kw = cox_kwargs(case)
    if case["factors"] and zcase["terms"]:
        # a factor through the formula is one term with three columns, as in R
        levels = case["factors"]["celltype"]
        kw["formula"] = f"trt + karno + diagtime + age + prior + C(celltype, levels={levels!r})"
    else:
        df = with_dummies(df, case["factors"])
    return CoxPH(ties=case["ties"], tol=1e-12, max_iter=100).fit(df, **kw)


@pytest.fixture(scope="module")
def models():
    return {}


@pytest.fixture(params=list(ZPH))
def result(request, models):
    zcase = ZPH[request.param]
    key = (zcase["cox_case"], zcase["terms"])
    if key not in models:
        models[key] = fit_for(zcase)
    model = models[key]
    return zcase, model, cox_zph_details(model, zcase["transform"], terms=zcase["terms"])


def r_names(zcase, names):
    # survkit names the factor term by its formula; R by its variable
    return [("celltype" if n.startswith("C(celltype") else n) for n in names]


def test_table(result):
    zcase, model, z = result
    ref = zcase["table"]
    assert r_names(zcase, list(z.table.index)) == ref["rows"]
    assert z.table.index[-1] == "GLOBAL"
    np.testing.assert_allclose(z.table["chisq"], ref["chisq"], rtol=RTOL_STAT)
    np.testing.assert_array_equal(z.table["df"], ref["df"])
    np.testing.assert_allclose(z.table["p"], ref["p"], rtol=RTOL_STAT)
    table = cox_zph(model, zcase["transform"], terms=zcase["terms"])
    assert isinstance(table, pd.DataFrame) and list(table.columns) == ["chisq", "df", "p"]
    pd.testing.assert_frame_equal(table, z.table)


def test_times_and_transformed_times(result):
    zcase, _, z = result
    np.testing.assert_array_equal(z.time, zcase["time"])
    np.testing.assert_allclose(z.x, zcase["x"], rtol=1e-12, atol=1e-15)
    assert z.transform == zcase["transform"]
    if zcase["strata"] is None:
        assert z.strata is None
    else:
        assert list(z.strata) == zcase["strata"]


def test_scaled_residuals_and_var(result):
    zcase, _, z = result
    assert r_names(zcase, list(z.y.columns)) == zcase["y_colnames"]
    ref = matrix(zcase["y"])
    ours = z.y.to_numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    ok = ~np.isnan(ref)
    scale = np.nanmax(np.abs(ref), axis=0)
    np.testing.assert_allclose(
        np.where(ok, ours, 0), np.where(ok, ref, 0), rtol=1e-7, atol=RTOL_RESID * scale.max()
    )
    var = matrix(zcase["var"])
    np.testing.assert_allclose(z.var.to_numpy(), var, rtol=1e-7, atol=1e-12 * np.abs(var).max())


def test_terms_mapping_and_covariate_subset():
    zcase = ZPH["veteran_efron_terms_false__km"]
    model = fit_for(zcase)
    cell = ["celltypesmallcell", "celltypeadeno", "celltypelarge"]
    # grouping the dummy columns by hand reproduces R's terms=TRUE test
    z = cox_zph_details(model, "km", terms={"celltype": cell})
    joint = ZPH["veteran_efron__km"]["table"]
    assert list(z.table.index) == ["celltype", "trt", "karno", "diagtime", "age", "prior", "GLOBAL"]
    ours = z.table.loc[joint["rows"]]
    np.testing.assert_allclose(ours["chisq"], joint["chisq"], rtol=RTOL_STAT)
    sub = cox_zph(model, "km", terms=False, covariates=["karno", "age"])
    assert list(sub.index) == ["karno", "age", "GLOBAL"]


def test_a_covariate_constant_within_a_stratum_gets_missing_residuals():
    df = data("lung.csv")
    # ph_ecog is constant among women: R sets its scaled residuals there to NA
    df.loc[df["sex"] == 2, "ph_ecog"] = 1
    model = CoxPH().fit(df, "time", "status", formula=["age", "ph_ecog"], strata="sex")
    z = cox_zph_details(model, "identity")
    women = np.asarray(z.strata) == "sex=2"
    assert z.y.loc[women, "ph_ecog"].isna().all()
    assert z.y.loc[~women, "ph_ecog"].notna().all()
    assert z.y["age"].notna().all()


def test_errors():
    model = fit_for(ZPH["lung_efron__km"])
    with pytest.raises(ValueError, match=r"covariate\(s\)/term\(s\) not in the model: 'karno'"):
        cox_zph(model, covariates=["karno"])
    with pytest.raises(ValueError, match="transform='sqrt' is not supported"):
        cox_zph(model, transform="sqrt")
    with pytest.raises(ValueError, match="not fitted yet"):
        cox_zph(CoxPH())
    with pytest.raises(ValueError, match="terms\\['x'\\]: 1 covariate"):
        cox_zph(model, terms={"x": ["nope"]})
    with pytest.raises(ValueError, match="one finite value per time"):
        cox_zph(model, transform=lambda t: t[:3])


@pytest.mark.parametrize("name", ["heart_efron__rank", "lung_strata_sex__km"])
def test_row_order_does_not_matter(name):
    zcase = ZPH[name]
    case = COX[zcase["cox_case"]]
    df = data(case["data"])
    shuffled = df.sample(frac=1.0, random_state=7).reset_index(drop=True)
    kw = cox_kwargs(case)
    a = cox_zph_details(CoxPH(tol=1e-12).fit(df, **kw), zcase["transform"])
    b = cox_zph_details(CoxPH(tol=1e-12).fit(shuffled, **kw), zcase["transform"])
    np.testing.assert_allclose(a.table.to_numpy(), b.table.to_numpy(), rtol=1e-9)
    # tied events are listed by data row, so only the multiset of rows per time agrees
    np.testing.assert_array_equal(a.time, b.time)
    key = np.lexsort((a.y.iloc[:, 0].to_numpy(), a.time))
    key_b = np.lexsort((b.y.iloc[:, 0].to_numpy(), b.time))
    np.testing.assert_allclose(a.y.to_numpy()[key], b.y.to_numpy()[key_b], rtol=1e-7, atol=1e-10)


def test_user_transform_equals_named_one():
    model = fit_for(ZPH["lung_efron__log"])
    a = cox_zph(model, transform=np.log)
    b = cox_zph(model, transform="log")
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-13)


def test_linear_time_on_many_rows():
    # cox_zph costs about one Newton iteration: far below the fit itself
    rng = np.random.default_rng(0)
    n, p = 200_000, 5
    X = rng.standard_normal((n, p))
    t = rng.exponential(np.exp(-X @ np.linspace(-0.3, 0.3, p)))
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["time"] = np.ceil(t * 1000) / 1000
    df["status"] = (rng.random(n) < 0.7).astype(int)
    cols = list(df.columns[:p])
    model = CoxPH().fit(df, "time", "status", formula=cols)
    cox_zph(model)  # warm-up (compilation)
    t0 = time.perf_counter()
    CoxPH().fit(df, "time", "status", formula=cols)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    cox_zph(model)
    t_zph = time.perf_counter() - t0
    assert t_zph < 3 * t_fit + 0.2
