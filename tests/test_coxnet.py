"""CoxNet's behaviour: KKT conditions on every data form, path identities, inputs."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from survkit import CoxNet
from survkit.data.survival_data import read_survival_data
from survkit.engine.risk_set import RiskSetProblem, evaluate

COVS = [f"x{j}" for j in range(8)]


def _data(n=300, seed=3, counting=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, len(COVS))) * np.linspace(0.5, 3, len(COVS))
    beta = np.array([0.6, -0.4, 0.2, 0, 0, 0, 0.1, 0]) / np.linspace(0.5, 3, len(COVS))
    t = rng.exponential(np.exp(-X @ beta))
    c = rng.exponential(1.5, n)
    df = pd.DataFrame(X, columns=COVS)
    df["time"] = np.ceil(np.minimum(t, c) * 20) / 20  # ties
    df["status"] = (t <= c).astype(int)
    df["w"] = rng.uniform(0.5, 2, n)
    df["site"] = rng.choice([0, 1, 2], n)  # 0 censored-like code only where status 0
    df.loc[df["status"] == 0, "site"] = 0
    df.loc[(df["status"] == 1) & (df["site"] == 0), "site"] = 1
    df["g"] = rng.integers(0, 2, n)
    if counting:
        df["start"] = np.round(rng.uniform(0, 0.5, n) * df["time"], 3)
    return df


def _kkt(model, df, efron, **kw):
    """max over lambdas and covariates of the KKT violation, on the scale of lambda."""
    data = read_survival_data(df, duration_col="time", event_col="status", formula=COVS, **kw)
    prob = RiskSetProblem.build(
        data.X, data.stop, data.status, start=data.start, strata=data.strata_codes,
        weights=data.weights,
    )  # fmt: skip
    w = prob.weights
    sd = np.sqrt(w @ prob.X**2 / w.sum())  # prob.X is centred
    pf = model.penalty_factor_.to_numpy()
    a = model.l1_ratio
    worst = 0.0
    for lam, b in zip(model.lambdas_, model.coef_path_.to_numpy(), strict=True):
        u = evaluate(prob, b, efron).score / w.sum()
        nz = b != 0
        need = lam * pf * (a * sd * np.sign(b) + (1 - a) * sd**2 * b)
        worst = max(worst, np.max(np.abs(u[nz] - need[nz]), initial=0) / lam)
        zero_slack = np.abs(u[~nz]) - lam * a * pf[~nz] * sd[~nz]
        worst = max(worst, np.max(zero_slack, initial=0) / lam)
    return worst


@pytest.mark.parametrize(
    "ties,l1,kw",
    [
        ("breslow", 1.0, {}),
        ("efron", 1.0, {"strata": "g", "weights_col": "w"}),
        ("efron", 0.5, {"entry_col": "start"}),
        ("breslow", 0.3, {"strata": "g", "entry_col": "start", "weights_col": "w"}),
    ],
)
def test_kkt_conditions_hold_along_the_path(ties, l1, kw):
    """The exact optimality conditions of the penalised partial likelihood, checked
    with CoxPH's own score (the engine's full evaluation), at every lambda."""
    df = _data(counting="entry_col" in kw)
    pf = {"x0": 0.0, "x3": 2.0}
    m = CoxNet(l1_ratio=l1, ties=ties, tol=1e-18, n_lambdas=30, penalty_factor=pf)
    m.fit(df, formula=COVS, **kw)
    assert m.converged_
    assert _kkt(m, df, ties == "efron", **kw) < 1e-6
    # x0 is unpenalised: non-zero from the first lambda on; everything else zero there
    first = m.coef_path_.iloc[0]
    assert first["x0"] != 0 and (first.drop("x0") == 0).all()
    assert (m.n_nonzero_[1:] >= 2).all()  # lambda_max is exact: something enters next


def test_path_point_equals_single_lambda_fit():
    df = _data()
    # both converged (the path's point starts from an extrapolation, the single
    # fit from zero: at tol = 1e-13 each stops within ~3e-6 of the solution)
    path = CoxNet(tol=1e-18, n_lambdas=20).fit(df, formula=COVS)
    k = 12
    one = CoxNet(tol=1e-18, lambdas=[path.lambdas_[k]]).fit(df, formula=COVS)
    np.testing.assert_allclose(one.params_, path.coef_path_.iloc[k], rtol=1e-6, atol=1e-9)


def test_overshooting_steps_are_halved_back_to_the_same_path(monkeypatch):
    """Step halving never triggers on ordinary data, so force it: every
    coordinate-descent step is stretched fourfold (beta and eta together). The
    objective check must halve each one back, keep eta equal to X beta, and the
    path must still reach the KKT conditions of the exact problem."""
    import survkit.engine.elastic_net as en

    real = en.solve_quadratic
    stretched = {"steps": 0}

    def overshoot(Xt, W, resid, beta, xv, cols, l1, l2, tol, max_passes, eta):
        beta0, eta0 = beta.copy(), eta.copy()
        out = real(Xt, W, resid, beta, xv, cols, l1, l2, tol, max_passes, eta)
        if out[1] >= 1e-8:  # a step that moved far: stretch it (small ones converge)
            beta[:] = beta0 + 4 * (beta - beta0)
            eta[:] = eta0 + 4 * (eta - eta0)
            stretched["steps"] += 1
        return out

    scans = {"n": 0}
    real_scan = en._PathState.scan

    def counting_scan(self):
        scans["n"] += 1
        return real_scan(self)

    df = _data()
    plain = CoxNet(tol=1e-18, n_lambdas=15).fit(df, formula=COVS)
    monkeypatch.setattr(en, "solve_quadratic", overshoot)
    monkeypatch.setattr(en._PathState, "scan", counting_scan)
    forced = CoxNet(tol=1e-18, n_lambdas=15).fit(df, formula=COVS)
    assert stretched["steps"] > 0
    assert scans["n"] > int(forced.n_iter_.sum()) + len(forced.lambdas_)  # halvings scanned
    assert forced.converged_
    assert _kkt(forced, df, efron=False) < 1e-6
    np.testing.assert_allclose(forced.coef_path_, plain.coef_path_, rtol=1e-6, atol=1e-9)


def test_duplicated_rows_equal_weight_two_and_row_order():
    df = _data(n=150)
    twice = pd.concat([df, df], ignore_index=True)
    w2 = df.assign(two=2.0)
    kw = dict(formula=COVS)
    a = CoxNet(tol=1e-18, n_lambdas=15).fit(twice, **kw)
    b = CoxNet(tol=1e-18, lambdas=a.lambdas_).fit(w2, weights_col="two", **kw)
    np.testing.assert_allclose(a.coef_path_, b.coef_path_, rtol=1e-6, atol=1e-10)
    shuffled = df.sample(frac=1, random_state=1)
    c = CoxNet(tol=1e-13, n_lambdas=15).fit(shuffled, **kw)
    d = CoxNet(tol=1e-13, n_lambdas=15).fit(df, **kw)
    np.testing.assert_allclose(c.coef_path_, d.coef_path_, rtol=1e-8, atol=1e-12)


def test_cause_specific_equals_recoded_fit():
    df = _data()
    m = CoxNet(n_lambdas=10, tol=1e-12).fit(df, event_col="site", formula=COVS, cause=2)
    recoded = df.assign(status=(df["site"] == 2).astype(int))
    r = CoxNet(n_lambdas=10, tol=1e-12).fit(recoded, formula=COVS)
    np.testing.assert_allclose(m.coef_path_, r.coef_path_, rtol=1e-10, atol=1e-14)
    assert m.cause_ == 2


def test_sklearn_form_matches_dataframe_form_and_scores():
    df = _data()
    y = np.zeros(len(df), dtype=[("event", bool), ("time", float)])
    y["event"], y["time"] = df["status"] == 1, df["time"]
    a = CoxNet(n_lambdas=10).fit(df[COVS].to_numpy(), y)
    b = CoxNet(n_lambdas=10).fit(df, formula=COVS)
    np.testing.assert_allclose(a.coef_path_.to_numpy(), b.coef_path_.to_numpy())
    lp = a.predict(df[COVS].to_numpy())
    np.testing.assert_allclose(lp, df[COVS].to_numpy() @ b.params_.to_numpy())
    c = a.score(df[COVS].to_numpy(), y)
    assert c == pytest.approx(b.concordance_, rel=1e-12)
    assert 0.5 < c < 1
    assert clone(a).get_params() == a.get_params()


def test_sklearn_form_reads_the_array_itself_whatever_its_layout():
    # fit(X, y) gathers the design straight from X (no DataFrame copy first): the
    # path equals the DataFrame form's bit for bit on every memory layout of X,
    # X is left as it was, and a non-finite cell is refused by column name
    df = _data()
    y = np.zeros(len(df), dtype=[("event", bool), ("time", float)])
    y["event"], y["time"] = df["status"] == 1, df["time"]
    ref = CoxNet(n_lambdas=10).fit(df, formula=COVS).coef_path_.to_numpy()
    wide = np.zeros((len(df), 2 * len(COVS)))
    wide[:, ::2] = df[COVS].to_numpy()
    layouts = {
        "C": np.ascontiguousarray(df[COVS].to_numpy()),
        "F": np.asfortranarray(df[COVS].to_numpy()),
        "strided": wide[:, ::2],
    }
    for name, X in layouts.items():
        before = X.copy()
        got = CoxNet(n_lambdas=10).fit(X, y).coef_path_.to_numpy()
        np.testing.assert_array_equal(got, ref, err_msg=name)
        np.testing.assert_array_equal(X, before, err_msg=name)
    bad = layouts["C"].copy()
    bad[[4, 9], 3] = np.nan
    with pytest.raises(ValueError, match=r"'x3' has 2 missing"):
        CoxNet(n_lambdas=10).fit(bad, y)


def test_refit_forgets_and_cv_attributes():
    df = _data()
    m = CoxNet(n_lambdas=12, cv=4, seed=1).fit(df, formula=COVS)
    assert m.lambda_1se_ >= m.lambda_min_
    assert m.lambda_ == m.lambda_1se_
    assert m.cv_results_.shape == (len(m.lambdas_), 6)
    again = CoxNet(n_lambdas=12, cv=4, seed=1).fit(df, formula=COVS)
    np.testing.assert_array_equal(again.cv_fold_values_, m.cv_fold_values_)
    m.set_params(cv=None).fit(df, formula=COVS)
    assert not hasattr(m, "lambda_1se_")
    assert m.lambda_ == m.lambdas_[-1]


@pytest.mark.parametrize(
    "params,match",
    [
        ({"l1_ratio": 1.5}, "l1_ratio"),
        ({"penalty_factor": [1, 2]}, "penalty_factor has 2 values for 8"),
        ({"penalty_factor": {"nope": 1}}, "not covariates"),
        ({"penalty_factor": [0] * 8}, "every covariate"),
        ({"lambdas": [0.1, 0.2]}, "decreasing"),
        ({"cv": 1}, "at least 2"),
        ({"ties": "exact"}, "ties"),
        ({"cv_measure": "auc"}, "cv_measure"),
    ],
)
def test_bad_input_is_refused(params, match):
    with pytest.raises(ValueError, match=match):
        CoxNet(**params).fit(_data(n=60), formula=COVS)


def test_non_convergence_warns_and_is_recorded():
    from sklearn.exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="did not converge"):
        m = CoxNet(max_iter=1, tol=1e-20, n_lambdas=5).fit(_data(), formula=COVS)
    assert m.converged_ is False
