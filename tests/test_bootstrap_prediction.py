"""Seeded bootstrap of predictions (the Fine-Gray incidence limits use it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survkit import CoxPH, FineGray, bootstrap_prediction, fine_gray_incidence_ci

from .reference_cases import data

FG_KW = {"duration_col": "etime", "event_col": "event", "cause": 1, "formula": ["age", "male"]}


def _mgus_small() -> pd.DataFrame:
    return data("mgus2.csv").iloc[:400]


def test_fine_gray_limits_are_reproducible_and_bracket_the_estimate():
    mg = _mgus_small()
    new = pd.DataFrame({"age": [60.0, 75.0], "male": [0, 1]})
    a = fine_gray_incidence_ci(FineGray(), mg, FG_KW, new, [60.0, 120.0], n_bootstrap=20, seed=3)
    b = fine_gray_incidence_ci(FineGray(), mg, FG_KW, new, [60.0, 120.0], n_bootstrap=20, seed=3)
    c = fine_gray_incidence_ci(FineGray(), mg, FG_KW, new, [60.0, 120.0], n_bootstrap=20, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["std_err"], c["std_err"])
    point = FineGray().fit(mg, **FG_KW).predict_cumulative_incidence(new, [60.0, 120.0])
    np.testing.assert_allclose(a["cif"], point.to_numpy().T.ravel())
    assert (a["std_err"] > 0).all()
    assert (a["lower"] <= a["cif"]).all() and (a["cif"] <= a["upper"]).all()
    assert a.attrs == {
        "method": "bootstrap (log-log limits)",
        "seed": 3,
        "n_bootstrap": 20,
        "n_failed": 0,
    }


def test_bootstrap_standard_error_is_close_to_the_analytic_one():
    # on a Cox prediction, whose analytic standard error equals R's survfit.coxph
    lung = data("lung.csv")
    new = pd.DataFrame({"age": [60.0], "sex": [1], "ph_ecog": [1]})
    kw = {"duration_col": "time", "event_col": "status", "formula": ["age", "sex", "ph_ecog"]}
    model = CoxPH().fit(lung, **kw)
    analytic = model.predict_survival(new, [180.0, 365.0], conf_level=0.95)["std_err"]
    boot = bootstrap_prediction(
        CoxPH(),
        lung,
        kw,
        lambda m: m.predict_survival(new, [180.0, 365.0]).to_numpy().ravel(),
        n_bootstrap=100,
        seed=11,
    )
    # 100 replicates: the bootstrap SE has a relative Monte Carlo error of about 7 %
    np.testing.assert_allclose(boot.std_err, analytic.to_numpy(), rtol=0.25)


def test_failures_are_counted_and_too_many_raise():
    mg = _mgus_small()
    new = pd.DataFrame({"age": [60.0], "male": [0]})
    last = mg["etime"].max()
    with pytest.raises(ValueError, match="bootstrap replicates failed"):
        fine_gray_incidence_ci(FineGray(), mg, FG_KW, new, [last], n_bootstrap=20, seed=1)


def test_bad_arguments():
    lung = data("lung.csv")
    kw = {"duration_col": "time", "event_col": "status", "formula": ["age"]}

    def predict(m):
        return m.params_.to_numpy()

    with pytest.raises(ValueError, match="seed"):
        bootstrap_prediction(CoxPH(), lung, kw, predict)
    with pytest.raises(ValueError, match="n_bootstrap"):
        bootstrap_prediction(CoxPH(), lung, kw, predict, n_bootstrap=5, seed=1)


def test_cluster_resampling_keeps_a_patients_rows_together():
    heart = data("heart.csv")
    kw = {
        "duration_col": "stop",
        "event_col": "event",
        "entry_col": "start",
        "formula": ["age", "surgery", "transplant"],
    }
    sizes = []

    def predict(m):
        sizes.append(m.n_observations_)
        return m.params_.to_numpy()

    boot = bootstrap_prediction(
        CoxPH(), heart, kw, predict, n_bootstrap=20, seed=5, cluster_col="id"
    )
    assert boot.replicates.shape == (20, 3)
    # resampled patients bring all their rows: the row counts vary around the total
    assert len(set(sizes[1:])) > 1 and sizes[0] == len(heart)
