"""Standard errors of cause-specific Cox absolute risks (CauseSpecificCox.predict_risk_profile).

- against riskRegression's predict(CSC, se = TRUE) (tests/reference/results/survfit.json,
  cases "csc"), untied and tied (mgus2) data, to the usual tolerances; the exact
  influence function (se_method="influence") equals it without ties and differs on
  mgus2 (riskRegression's tie convention for the coefficients' influence);
- the influence function equals a numerical derivative of the estimate with respect
  to each row's case weight (infinitesimal jackknife);
- coverage of the pointwise 95 % limits on data with a known cumulative incidence.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survkit import CauseSpecificCox

REF = Path(__file__).parent / "reference"
CSC = json.loads((REF / "results" / "survfit.json").read_text())["cases"]["csc"]


def _fit(case):
    df = pd.read_csv(REF / "data" / f"{case['data']}.csv")
    return CauseSpecificCox(ties="breslow", tol=1e-12, max_iter=100).fit(
        df, case["duration"], case["event"], formula=case["covariates"]
    )


@pytest.mark.parametrize("name", ["synth_untied", "mgus2_tied"])
def test_matches_risk_regression(name):
    case = CSC[name]
    model = _fit(case)
    newdata = pd.DataFrame(case["newdata"])
    se_tol = {"rtol": 1e-5, "atol": 1e-9}
    for product_limit, label in [(True, "product_limit"), (False, "exponential")]:
        prof = model.predict_risk_profile(
            newdata, case["times"], product_limit=product_limit, se=True
        )
        for cause in case["causes"]:
            ref = case["risk"][f"cause_{cause}_{label}"]
            table = prof[int(cause)]
            assert table.attrs["se_method"] == "riskRegression"
            shape = (len(newdata), len(case["times"]))
            np.testing.assert_allclose(
                table["risk"].to_numpy().reshape(shape), np.array(ref["absRisk"]), rtol=1e-6
            )
            np.testing.assert_allclose(
                table["std_err"].to_numpy().reshape(shape), np.array(ref["se"]), **se_tol
            )
            exact = model.predict_risk_profile(
                newdata, case["times"], product_limit=False, se=True, se_method="influence"
            )[int(cause)]["std_err"].to_numpy()
            if name == "synth_untied" and not product_limit:
                np.testing.assert_allclose(exact.reshape(shape), np.array(ref["se"]), **se_tol)
            elif name == "mgus2_tied" and not product_limit:
                # the exact influence differs with ties (measured: up to 9 %)
                assert not np.allclose(exact.reshape(shape), np.array(ref["se"]), rtol=1e-3)


def test_influence_function_is_the_derivative_of_the_estimate():
    rng = np.random.default_rng(11)
    n = 40
    x = rng.normal(size=n)
    t1 = rng.exponential(1 / (0.4 * np.exp(0.5 * x)))
    t2 = rng.exponential(1 / 0.3, n)
    c = rng.uniform(0, 4, n)
    time = np.ceil(np.minimum.reduce([t1, t2, c]) * 4) / 4  # tied times
    event = np.where(c <= np.minimum(t1, t2), 0, np.where(t1 < t2, 1, 2))
    df = pd.DataFrame({"time": time, "event": event, "x": x})
    new = pd.DataFrame({"x": [0.5]})
    times = [0.5, 1.0]

    def risk(w):
        m = CauseSpecificCox(ties="breslow", tol=1e-13, max_iter=50).fit(
            df.assign(w=w), "time", "event", formula=["x"], weights_col="w"
        )
        return np.concatenate(
            [
                m.predict_risk_profile(new, times, product_limit=pl)[1].to_numpy().ravel()
                for pl in (False, True)
            ]
        )

    base = risk(np.ones(n))
    eps = 1e-6
    numeric = np.array(
        [(risk(np.where(np.arange(n) == i, 1 + eps, 1.0)) - base) / eps for i in range(n)]
    )
    model = CauseSpecificCox(ties="breslow").fit(df, "time", "event", formula=["x"])
    ours = np.concatenate(
        [
            model.predict_risk_profile(
                new, times, product_limit=pl, se=True, se_method="influence"
            )[1]["std_err"].to_numpy()
            for pl in (False, True)
        ]
    )
    np.testing.assert_allclose(ours, np.sqrt((numeric**2).sum(axis=0)), rtol=1e-4)


def test_limits_cover_the_true_incidence():
    # exponential cause-specific hazards: F_1(t | x) = l1/(l1 + l2) (1 - e^{-(l1 + l2) t})
    b1, b2, base1, base2 = 0.7, -0.4, 0.3, 0.2
    x_new, t_eval = 1.0, 1.5
    l1, l2 = base1 * np.exp(b1 * x_new), base2 * np.exp(b2 * x_new)
    truth = l1 / (l1 + l2) * (1 - np.exp(-(l1 + l2) * t_eval))
    rng = np.random.default_rng(2024)
    covered = {"influence": 0, "delta": 0}
    reps = 40
    for _ in range(reps):
        n = 250
        x = rng.integers(0, 2, n).astype(float)
        t1 = rng.exponential(1 / (base1 * np.exp(b1 * x)))
        t2 = rng.exponential(1 / (base2 * np.exp(b2 * x)))
        c = rng.uniform(0, 6, n)
        t = np.minimum.reduce([t1, t2, c])
        event = np.where(c == t, 0, np.where(t1 == t, 1, 2))
        df = pd.DataFrame({"time": t, "event": event, "x": x})
        model = CauseSpecificCox(ties="breslow").fit(df, "time", "event", formula=["x"])
        for method in covered:
            row = model.predict_risk_profile(
                pd.DataFrame({"x": [x_new]}), [t_eval], se=True, se_method=method
            )[1].iloc[0]
            covered[method] += row["lower"] <= truth <= row["upper"]
    # 95 % nominal; 40 replicates give a binomial sd of 0.034 (seeded: deterministic)
    for method, hits in covered.items():
        assert 0.85 <= hits / reps <= 1.0, (method, hits / reps)


def test_se_method_choice_and_refusals():
    mg = pd.read_csv(REF / "data" / "mgus2.csv")
    efron = CauseSpecificCox().fit(mg, "etime", "event", formula=["age", "male"])
    prof = efron.predict_risk_profile(mg.iloc[:2], [12.0, 60.0], se=True)
    assert prof[1].attrs["se_method"] == "delta"
    assert (prof[1]["std_err"] > 0).all()
    assert (prof[1]["lower"] < prof[1]["risk"]).all() and (prof[1]["risk"] < prof[1]["upper"]).all()
    with pytest.raises(ValueError, match="Breslow"):
        efron.predict_risk_profile(mg.iloc[:2], [12.0], se=True, se_method="influence")
    with pytest.raises(ValueError, match="se_method"):
        efron.predict_risk_profile(mg.iloc[:2], [12.0], se=True, se_method="bootstrap")
    # the point estimates are the ones without se
    plain = efron.predict_risk_profile(mg.iloc[:2], [12.0, 60.0])
    np.testing.assert_allclose(prof[2]["risk"].to_numpy(), plain[2].to_numpy().T.ravel())
