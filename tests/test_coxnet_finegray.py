"""FineGrayNet: against R (tests/reference/results/glmnet_finegray.json), against
FineGray's own pseudo-likelihood (KKT conditions, cross-validated deviances), inputs.

Every stored value is asserted, with reference_cases' tolerances.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import PredefinedSplit

from survkit import FineGray, FineGrayNet
from survkit.data.survival_data import read_survival_data
from survkit.engine.risk_set import RiskSetProblem, evaluate
from survkit.models.baseline import BaselineHazard
from survkit.models.fine_gray_weights import FineGrayExtension, censoring_weights

from .reference_cases import RTOL_COEF, RTOL_LOGLIK, cases, data

REF = cases("glmnet_finegray")
COVS = REF["covariates"]


@pytest.fixture(scope="module")
def mg():
    return data("glmnet_finegray_mgus2.csv")


def _fit(df, **params):
    return FineGrayNet(**params).fit(df, "etime", "event", cause=1, formula=COVS)


@pytest.mark.parametrize("ties", ["crr", "finegray"])
def test_unpenalised_end_equals_crr_and_coxph_on_finegray_data(mg, ties):
    """lambda = 0: crr's estimate with crr's censoring-tie convention, coxph on
    survival::finegray output with finegray's; the two differ on mgus2 (ties)."""
    m = _fit(mg, lambdas=[0.0], tol=1e-20, censoring_ties=ties)
    ref = REF["unpenalised_" + ties]
    np.testing.assert_allclose(m.params_, ref["coef"], rtol=RTOL_COEF)
    if ties == "crr":
        assert m.log_likelihood_ == pytest.approx(ref["loglik"], rel=RTOL_LOGLIK)
        fg = FineGray(tol=1e-12).fit(mg, "etime", "event", cause=1, formula=COVS)
        np.testing.assert_allclose(m.params_, fg.params_, rtol=RTOL_COEF)
    else:
        assert m.log_likelihood_null_ == pytest.approx(ref["loglik"][0], rel=RTOL_LOGLIK)
        assert m.log_likelihood_ == pytest.approx(ref["loglik"][1], rel=RTOL_LOGLIK)
    other = REF["unpenalised_" + ({"crr": "finegray", "finegray": "crr"}[ties])]["coef"]
    assert np.max(np.abs(m.params_.to_numpy() / np.array(other) - 1)) > 1e-4


@pytest.mark.parametrize("name", ["lasso_finegray", "enet_finegray"])
def test_path_matches_r_kkt_solutions(mg, name):
    case = REF[name]
    pf = case["penalty_factor"]
    m = _fit(
        mg,
        l1_ratio=case["alpha"],
        lambdas=case["lambda"],
        penalty_factor=pf,
        censoring_ties="finegray",
        tol=1e-16,
    )
    assert m.converged_
    assert list(m.coef_path_.columns) == COVS
    R = np.array(case["coef"])
    ours = m.coef_path_.to_numpy()
    at_max = case["lambda"][0] == case["lambda_max"]
    if at_max:
        # the first lambda is R's lambda_max: exactly there the leading coefficient
        # sits at zero up to the last bits of lambda (ours 3e-16 where R's is 0)
        assert (R[0] == 0).all() and np.abs(ours[0]).max() < 1e-12
    first = 1 if at_max else 0
    np.testing.assert_array_equal(ours[first:] == 0, R[first:] == 0)
    # relative to the covariate's largest value along the path (as for glmnet:
    # a coefficient that has just left zero has few relative digits at any tol)
    scale = np.abs(R).max(axis=0)
    scale[scale == 0] = 1.0
    np.testing.assert_allclose(ours / scale, R / scale, rtol=0, atol=RTOL_COEF)
    np.testing.assert_allclose(m.log_likelihood_path_, case["loglik"], rtol=RTOL_LOGLIK)
    np.testing.assert_allclose(m.lambdas_, case["lambda"], rtol=1e-15)
    assert case["max_kkt_violation"] < 1e-10  # R's solutions are exact to this
    # the default grid starts at R's lambda_max (the null score in closed form)
    grid = _fit(mg, l1_ratio=case["alpha"], penalty_factor=pf, censoring_ties="finegray",
                n_lambdas=3)  # fmt: skip
    assert grid.lambdas_[0] == pytest.approx(case["lambda_max"], rel=1e-10)
    assert (grid.coef_path_.iloc[0] == 0).all()


@pytest.mark.parametrize("k", [0, 1])
def test_ridge_matches_coxph_on_finegray_data(mg, k):
    case = REF["ridge_finegray"][k]
    m = _fit(
        mg,
        l1_ratio=0,
        standardize=False,
        lambdas=[case["lambda"]],
        censoring_ties="finegray",
        tol=1e-22,  # a ridge path converges linearly in the outer steps (see CoxNet's tests)
    )
    np.testing.assert_allclose(m.params_, case["coef"], rtol=RTOL_COEF)
    np.testing.assert_allclose(m.log_likelihood_null_, case["loglik"][0], rtol=RTOL_LOGLIK)
    np.testing.assert_allclose(m.log_likelihood_, case["loglik"][1], rtol=RTOL_LOGLIK)
    np.testing.assert_allclose(
        m.log_likelihood_ - m.penalized_log_likelihood_, case["penalty"][0], rtol=1e-7
    )
    assert case["theta"] == pytest.approx(len(mg) * case["lambda"], rel=1e-15)


def _synthetic(n=400, seed=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 6))
    t1 = rng.exponential(np.exp(-(0.7 * X[:, 0] - 0.5 * X[:, 1])) * 2)
    t2 = rng.exponential(np.exp(-0.4 * X[:, 2]) * 2)
    c = rng.uniform(0.5, 4, n)
    t = np.minimum(np.minimum(t1, t2), c)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(6)])
    df["time"] = np.ceil(t * 10) / 10  # ties, also between events and censorings
    df["event"] = np.where(t == c, 0, np.where(t1 < t2, 1, 2))
    df["grp"] = rng.integers(0, 2, n)
    return df


def _fg_pieces(df, rows=None, cengroup=None):
    """FineGray's own problem and risk-set extension (crr's convention) on some rows."""
    df = df if rows is None else df.iloc[rows]
    cols = [f"x{j}" for j in range(6)]
    d = read_survival_data(df, duration_col="time", event_col="event", formula=cols, cause=1)
    prob = RiskSetProblem.build(d.X, d.stop, d.status)
    cens = d.events.censored[prob.order]
    status = d.status[prob.order]
    groups = np.zeros(len(df), dtype=np.int64) if cengroup is None else df[cengroup].to_numpy()
    n_groups = int(groups.max()) + 1
    w = censoring_weights(prob, cens, groups[prob.order], n_groups)
    return prob, FineGrayExtension(w, ~cens & (status == 0))


def test_kkt_conditions_with_fine_grays_own_score():
    """The exact optimality conditions, with FineGray's pseudo-likelihood score
    (the engine's full evaluation with FineGray's extension), censoring groups."""
    df = _synthetic()
    cols = [f"x{j}" for j in range(6)]
    pf = {"x0": 0.0, "x3": 2.0}
    m = FineGrayNet(l1_ratio=0.7, tol=1e-18, n_lambdas=25, penalty_factor=pf)
    m.fit(df, "time", "event", cause=1, formula=cols, cengroup_col="grp")
    assert m.converged_
    prob, ext = _fg_pieces(df, cengroup="grp")
    n = len(df)
    sd = np.sqrt((prob.X**2).mean(axis=0))
    pfv, a = m.penalty_factor_.to_numpy(), m.l1_ratio
    worst = 0.0
    for lam, b in zip(m.lambdas_, m.coef_path_.to_numpy(), strict=True):
        ev = evaluate(prob, b, False, extension=ext)
        u = ev.score / n
        nz = b != 0
        need = lam * pfv * (a * sd * np.sign(b) + (1 - a) * sd**2 * b)
        worst = max(worst, np.max(np.abs(u[nz] - need[nz]), initial=0) / lam)
        slack = np.abs(u[~nz]) - lam * a * pfv[~nz] * sd[~nz]
        worst = max(worst, np.max(slack, initial=0) / lam)
        assert ev.loglik == pytest.approx(m.log_likelihood_path_[list(m.lambdas_).index(lam)],
                                          rel=1e-12)  # fmt: skip
    assert worst < 1e-6
    assert m.coef_path_.iloc[0]["x0"] != 0 and (m.coef_path_.iloc[0].drop("x0") == 0).all()
    assert m.n_competing_ == int((df["event"] == 2).sum())


def test_cv_fold_deviance_is_fine_grays_pseudo_likelihood_difference():
    """Fold k's value: (deviance of all rows - deviance of the training rows) at the
    fold's coefficients / the fold's events, each with censoring weights estimated on
    its own rows (computed here with FineGray's evaluation, not the path's)."""
    df = _synthetic()
    cols = [f"x{j}" for j in range(6)]
    fold = np.arange(len(df)) % 3
    m = FineGrayNet(n_lambdas=8, tol=1e-14, cv=PredefinedSplit(fold), select="min")
    m.fit(df, "time", "event", cause=1, formula=cols)
    k = 1
    train = np.flatnonzero(fold != k)
    sub = FineGrayNet(lambdas=m.lambdas_, tol=1e-14).fit(
        df.iloc[train], "time", "event", cause=1, formula=cols
    )

    def deviance(rows, b):
        prob, ext = _fg_pieces(df, rows)
        ev = evaluate(prob, b, False, extension=ext)
        dead = prob.dead.astype(bool)
        _, wd = np.unique(prob.stop[dead], return_counts=True)
        n = len(prob.stop)
        # cv.glmnet rescales the weights to sum to the rows of the subset: all 1 here
        return 2 * (-np.sum(wd * np.log(wd)) - ev.loglik), n

    events_test = int(((df["event"] == 1) & (fold == k)).sum())
    for j, b in enumerate(sub.coef_path_.to_numpy()):
        full, _ = deviance(None, b)
        part, _ = deviance(train, b)
        assert m.cv_fold_values_[k, j] == pytest.approx((full - part) / events_test, rel=1e-6)
    assert m.lambda_ == m.lambda_min_
    assert m.lambda_1se_ >= m.lambda_min_
    again = FineGrayNet(n_lambdas=8, tol=1e-14, cv=PredefinedSplit(fold), select="min")
    again.fit(df, "time", "event", cause=1, formula=cols)
    np.testing.assert_array_equal(again.cv_fold_values_, m.cv_fold_values_)


def test_cv_by_concordance_is_wolbers_c_of_the_held_out_rows():
    """cv_measure="C": fold k's value is survkit.metrics.competing_risks_concordance
    (pec's cindex with a cause) of the held-out rows at their last time, for the
    fold fit's linear predictor (recomputed here by a separate fit
    on the training rows, not the path's)."""
    from survkit import outcome
    from survkit.metrics import competing_risks_concordance

    df = _synthetic()
    cols = [f"x{j}" for j in range(6)]
    fold = np.arange(len(df)) % 3
    m = FineGrayNet(n_lambdas=8, tol=1e-14, cv=PredefinedSplit(fold), cv_measure="C")
    m.fit(df, "time", "event", cause=1, formula=cols)
    for k in range(3):
        train, test = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        sub = FineGrayNet(lambdas=m.lambdas_, tol=1e-14).fit(
            df.iloc[train], "time", "event", cause=1, formula=cols
        )
        held = df.iloc[test]
        y = outcome(held, "time", "event")
        horizon = float(held["time"].max())  # every case of the fold by then
        for j, b in enumerate(sub.coef_path_.to_numpy()):
            lp = held[cols].to_numpy() @ b
            c = competing_risks_concordance(y, lp, [horizon], cause=1).iloc[0]
            assert m.cv_fold_values_[k, j] == pytest.approx(c, rel=1e-9)
    table = m.cv_results_
    best = table["mean"].max()
    assert m.lambda_min_ == table.loc[table["mean"] == best, "lambda"].max()
    assert m.lambda_1se_ >= m.lambda_min_
    with pytest.raises(ValueError, match="cv_measure"):
        FineGrayNet(cv_measure="auc").fit(df, "time", "event", cause=1, formula=cols)


def test_sklearn_form_and_refusals():
    from survkit import outcome

    df = _synthetic()
    cols = [f"x{j}" for j in range(6)]
    y = outcome(df, "time", "event")
    a = FineGrayNet(n_lambdas=6).fit(df[cols], y, cause=1)
    b = FineGrayNet(n_lambdas=6).fit(df, "time", "event", cause=1, formula=cols)
    np.testing.assert_allclose(a.coef_path_.to_numpy(), b.coef_path_.to_numpy())
    np.testing.assert_allclose(a.predict(df[cols]), df[cols].to_numpy() @ b.params_.to_numpy())
    # an array X is read as it is (no DataFrame copy): the same path bit for bit
    arr = FineGrayNet(n_lambdas=6).fit(df[cols].to_numpy(), y, cause=1)
    np.testing.assert_array_equal(arr.coef_path_.to_numpy(), b.coef_path_.to_numpy())
    assert clone(a).get_params() == a.get_params()
    with pytest.raises(ValueError, match="censoring_ties"):
        FineGrayNet(censoring_ties="r").fit(df, "time", "event", formula=cols)
    with pytest.raises(ValueError, match="cengroup_col"):
        FineGrayNet().fit(df[cols], y, cengroup_col="grp")
    with pytest.raises(ValueError, match=r"horizon=.*competing_risks_concordance"):
        a.score(df[cols], y)
    with pytest.raises(ValueError, match="cause"):
        FineGrayNet().fit(df, "time", "event", cause=7, formula=cols)


def test_horizon_predict_and_score_at_lambda_zero_equal_fine_grays(mg):
    """With horizon=, predict is the cumulative incidence by then and score its
    time-dependent AUC: at lambda = 0 both equal FineGray's (its own predict and
    score at the same horizon), in the DataFrame and the scikit-learn forms."""
    from survkit import outcome

    for horizon in (24.0, 120.0):
        fg = FineGray(tol=1e-12, horizon=horizon).fit(mg, "etime", "event", cause=1, formula=COVS)
        m = FineGrayNet(lambdas=[0.0], tol=1e-20, horizon=horizon).fit(
            mg, "etime", "event", cause=1, formula=COVS
        )
        risk = m.predict(mg)
        np.testing.assert_allclose(risk, fg.predict(mg), rtol=1e-6)
        np.testing.assert_allclose(
            risk, m.predict_cumulative_incidence(mg, [horizon]).to_numpy()[0], rtol=1e-15
        )
        y = outcome(mg, "etime", "event")
        assert m.score(mg, y) == pytest.approx(fg.score(mg, y), abs=1e-9)
        assert 0.5 < m.score(mg, y) < 1.0
        a = FineGrayNet(lambdas=[0.0], tol=1e-20, horizon=horizon).fit(mg[COVS], y, cause=1)
        np.testing.assert_allclose(a.predict(mg[COVS].to_numpy()), risk, rtol=1e-12)
    with pytest.raises(ValueError, match="horizon"):
        FineGrayNet(lambdas=[0.0], horizon=-1.0).fit(
            mg, "etime", "event", cause=1, formula=COVS
        ).predict(mg)


def test_cumulative_incidence_at_lambda_zero_equals_fine_gray(mg):
    fg = FineGray(tol=1e-12).fit(mg, "etime", "event", cause=1, formula=COVS)
    m = _fit(mg, lambdas=[0.0], tol=1e-20)
    new = mg.iloc[[0, 5, 17]]
    times = [12.0, 60.0, 200.0]
    np.testing.assert_allclose(
        m.predict_cumulative_incidence(new, times), fg.predict_cumulative_incidence(new, times),
        rtol=1e-6,
    )  # fmt: skip
    np.testing.assert_allclose(
        m.baseline_cumulative_hazard_.to_numpy(), fg.baseline_cumulative_hazard_.to_numpy(),
        rtol=1e-6,
    )  # fmt: skip
    # at a penalised lambda: Breslow's estimator of FineGray's engine at those coefficients
    lasso = _fit(mg, lambdas=[0.02])
    assert (lasso.params_ == 0).any()
    d = read_survival_data(mg, duration_col="etime", event_col="event", formula=COVS, cause=1)
    prob = RiskSetProblem.build(d.X, d.stop, d.status)
    cens = d.events.censored[prob.order]
    w = censoring_weights(prob, cens, np.zeros(len(mg), dtype=np.int64), 1)
    ext = FineGrayExtension(w, ~cens & (d.status[prob.order] == 0))
    ev = evaluate(prob, lasso.params_.to_numpy(), False, extension=ext)
    ref = BaselineHazard.from_fit(prob, ev, []).table()
    np.testing.assert_allclose(lasso.baseline_cumulative_hazard_, ref, rtol=1e-10)
