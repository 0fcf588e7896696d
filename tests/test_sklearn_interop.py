"""scikit-learn's form of the estimators: fit(X, y), predict, score, and the tools
built on them (clone, Pipeline, GridSearchCV, cross_val_score), plus
scikit-survival's metrics on survkit's predictions.

``check_estimator`` as a whole cannot apply: its checks fit on generated
classification/regression targets (plain float or integer ``y``), and a survival
estimator needs an outcome (event, time). The checks that never fit -- or that
only inspect parameters -- are run one by one below; the fit-related rules they
would test (fit returns self, refit forgets, n_features_in_, predict before fit
and with the wrong number of columns fails) are tested directly.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import estimator_checks as checks
from sksurv.metrics import brier_score as sksurv_brier
from sksurv.metrics import concordance_index_censored
from sksurv.metrics import integrated_brier_score as sksurv_ibs
from sksurv.util import Surv

from survkit import CauseSpecificCox, CoxPH, FineGray, metrics, outcome

from .reference_cases import data

COVARIATES = ["age", "male", "hgb", "creat", "mspike"]


@pytest.fixture(scope="module")
def mgus():
    df = data("score_mgus2.csv")
    return df, df[COVARIATES], outcome(df, "time", "event"), outcome(df, "time", "status")


def test_outcome_matches_scikit_survival_layout():
    t = np.array([5.0, 3.0, 8.0])
    e = np.array([1, 0, 1])
    y = outcome(time=t, event=e)
    ref = Surv.from_arrays(event=e.astype(bool), time=t)
    assert y.dtype.names == ("event", "time") and y["event"].dtype == bool
    np.testing.assert_array_equal(y["event"], ref[ref.dtype.names[0]])
    np.testing.assert_array_equal(y["time"], ref[ref.dtype.names[1]])
    organs = outcome(time=t, event=np.array(["bone", "censored", "brain"]))
    assert organs["event"].tolist() == ["bone", "censored", "brain"]
    codes = outcome(pd.DataFrame({"t": t, "s": [2, 0, 1]}), "t", "s")
    assert codes["event"].tolist() == [2, 0, 1]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"time": [1.0, -2.0], "event": [1, 0]}, "negative"),
        ({"time": [1.0, 2.0], "event": [1]}, "event has 1 values"),
        ({"time": [1.0, np.nan], "event": [1, 0]}, "missing"),
        ({"time": [1.0, 2.0], "event": [1.5, 0]}, "non-integer"),
    ],
)
def test_outcome_refuses_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        outcome(**kwargs)


def test_sklearn_form_equals_dataframe_form(mgus):
    df, X, y, y_any = mgus
    a = CoxPH().fit(X, y_any)
    b = CoxPH().fit(df, "time", "status", formula=COVARIATES)
    np.testing.assert_allclose(a.params_.to_numpy(), b.params_.to_numpy(), rtol=1e-12)
    assert list(a.params_.index) == COVARIATES and a.n_features_in_ == 5
    assert list(a.feature_names_in_) == COVARIATES
    np.testing.assert_allclose(a.predict(X), b.predict_log_partial_hazard(df).to_numpy())
    fg = FineGray().fit(X.to_numpy(), y, cause=2)
    fg_df = FineGray().fit(df, "time", "event", cause=2, formula=COVARIATES)
    np.testing.assert_allclose(fg.params_.to_numpy(), fg_df.params_.to_numpy(), rtol=1e-12)
    assert list(fg.params_.index) == [f"x{j}" for j in range(5)]
    cs = CauseSpecificCox().fit(X, y)
    cs_df = CauseSpecificCox().fit(df, "time", "event", formula=COVARIATES)
    for k in (1, 2):
        np.testing.assert_allclose(cs.models_[k].params_, cs_df.models_[k].params_, rtol=1e-12)


def test_string_event_codes_and_competing_risk_predict(mgus):
    df, X, y, _ = mgus
    names = np.array(["censored", "progression", "death"])[df["event"].to_numpy()]
    y_str = outcome(time=df["time"], event=names)
    fg = FineGray(horizon=120).fit(X, y_str, cause="progression", censor_value="censored")
    fg_int = FineGray(horizon=120).fit(X, y, cause=1)
    np.testing.assert_allclose(fg.predict(X), fg_int.predict(X), rtol=1e-10)
    np.testing.assert_allclose(fg.score(X, y_str), fg_int.score(X, y), rtol=1e-12)
    risk = fg.predict(X)
    assert risk.shape == (len(df),) and np.all((risk > 0) & (risk < 1))


def test_competing_risk_score_is_the_time_dependent_auc(mgus):
    df, X, y, _ = mgus
    cs = CauseSpecificCox(horizon=120, cause=2).fit(X, y)
    expected = metrics.time_dependent_auc(y, cs.predict(X), [120], cause=2)["auc"].iloc[0]
    assert cs.score(X, y) == pytest.approx(expected, rel=1e-12)
    # the same absolute risks R's CSC/predictRisk gave (stored in the data), same AUC
    np.testing.assert_allclose(cs.predict(X), df["risk2_2"], rtol=1e-6)
    with pytest.raises(ValueError, match="horizon"):
        CauseSpecificCox().fit(X, y).predict(X)


def test_coxph_score_is_harrell_c_and_sksurv_agrees(mgus):
    _, X, _, y_any = mgus
    m = CoxPH().fit(X, y_any)
    c = concordance_index_censored(y_any["event"], y_any["time"], m.predict(X))[0]
    assert m.score(X, y_any) == pytest.approx(c, rel=1e-12)
    assert m.score(X, y_any) == pytest.approx(m.concordance_, rel=1e-12)


def test_sksurv_brier_score_accepts_survkit_predictions():
    # continuous times (no event tied with a censoring), where scikit-survival's
    # G(T_i) and Score's G(T_i-) coincide
    rng = np.random.default_rng(3)
    n = 400
    x = rng.normal(size=(n, 2))
    t_event = rng.exponential(np.exp(-x @ [0.7, -0.4]))
    t_cens = rng.exponential(1.5, size=n)
    y = outcome(time=np.minimum(t_event, t_cens), event=t_event <= t_cens)
    m = CoxPH().fit(x, y)
    times = np.quantile(y["time"], [0.25, 0.5, 0.75])
    surv = m.predict_survival(pd.DataFrame(x, columns=["x0", "x1"]), times).to_numpy().T
    _, theirs = sksurv_brier(y, y, surv, times)
    ours = metrics.brier_score(y, 1 - surv, times)["brier"].to_numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    ibs = metrics.integrated_brier_score(y, 1 - surv, times)
    assert ibs == pytest.approx(sksurv_ibs(y, y, surv, times), rel=1e-10)


def test_clone_and_parameters():
    est = FineGray(horizon=60, tol=1e-9)
    copy = clone(est)
    assert copy.get_params() == est.get_params() and copy is not est
    for Est in (CoxPH, FineGray, CauseSpecificCox):
        name = Est.__name__
        for check in (
            checks.check_get_params_invariance,
            checks.check_set_params,
            checks.check_no_attributes_set_in_init,
            checks.check_parameters_default_constructible,
            checks.check_estimator_repr,
        ):
            check(name, Est())


def test_fit_rules(mgus):
    df, X, _, y_any = mgus
    m = CoxPH()
    with pytest.raises(ValueError, match="not fitted"):
        m.predict(X)
    assert m.fit(X, y_any) is m
    first = m.params_.copy()
    m.fit(X[["age", "hgb"]].to_numpy(), y_any)  # refit forgets names and the old fit
    assert not hasattr(m, "feature_names_in_") and m.n_features_in_ == 2
    assert not np.allclose(first.to_numpy()[:2], m.params_.to_numpy())
    unnamed = pd.DataFrame(X[["age", "hgb"]].to_numpy())  # integer column labels
    np.testing.assert_allclose(CoxPH().fit(unnamed, y_any).predict(unnamed), m.predict(unnamed))
    with pytest.raises(ValueError, match="3 columns but the model was fitted on 2"):
        m.predict(X[["age", "hgb", "male"]].to_numpy())
    X_before = X.copy()
    CoxPH().fit(X, y_any)
    pd.testing.assert_frame_equal(X, X_before)
    with pytest.raises(ValueError, match="non-numeric"):
        CoxPH().fit(df.assign(sex=np.where(df.male == 1, "M", "F"))[["age", "sex"]], y_any)
    with pytest.raises(ValueError, match="rows"):
        CoxPH().fit(X.iloc[:10], y_any)
    # column options of the DataFrame form are refused, not ignored
    with pytest.raises(ValueError, match="strata, weights_col given with fit"):
        CoxPH().fit(X, y_any, strata="male", weights_col="age")
    with pytest.raises(ValueError, match="formula given with fit"):
        CauseSpecificCox().fit(X, y_any, formula="age")


def test_pipeline_with_scaler_and_one_hot_encoder(mgus):
    df, _, _, y_any = mgus
    frame = df[["age", "hgb"]].assign(band=pd.cut(df.creat, [0, 1, 1.5, 100], labels=list("abc")))
    frame["band"] = frame["band"].astype(str)
    pipe = make_pipeline(
        ColumnTransformer(
            [
                ("num", StandardScaler(), ["age", "hgb"]),
                ("cat", OneHotEncoder(drop="first"), ["band"]),
            ]
        ),
        CoxPH(),
    ).fit(frame, y_any)
    formula = CoxPH().fit(
        df.assign(band=frame["band"]), "time", "status", formula="age + hgb + C(band)"
    )
    cox = pipe[-1]
    assert cox.log_likelihood_ == pytest.approx(formula.log_likelihood_, rel=1e-10)
    # scaling divides the coefficient by the standard deviation
    sd = frame["age"].std(ddof=0)
    assert cox.params_.iloc[0] / sd == pytest.approx(formula.params_["age"], rel=1e-8)
    assert pipe.score(frame, y_any) == pytest.approx(formula.concordance_, rel=1e-12)


def test_grid_search_and_cross_val_score(mgus):
    _, X, y, y_any = mgus
    cv = KFold(4, shuffle=True, random_state=0)
    grid = GridSearchCV(
        make_pipeline(StandardScaler(), CoxPH()), {"coxph__ties": ["efron", "breslow"]}, cv=cv
    ).fit(X, y_any)
    assert grid.best_params_["coxph__ties"] in ("efron", "breslow")
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    scores = cross_val_score(CauseSpecificCox(horizon=120, cause=2), X, y, cv=cv)
    by_hand = []
    for train, test in cv.split(X):
        m = CauseSpecificCox(horizon=120, cause=2).fit(X.iloc[train], y[train])
        by_hand.append(m.score(X.iloc[test], y[test]))
    np.testing.assert_allclose(scores, by_hand, rtol=1e-12)
    assert np.all((scores > 0.6) & (scores < 1))  # death: a strong signal
