"""The Fine & Gray (1999) design: cause 1's subdistribution hazard is exactly
proportional with the stated β."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic import fine_gray_design

Z = 4.0


def test_without_censoring_a_cox_fit_of_the_improper_time_recovers_beta(cox):
    # With no censoring the Fine–Gray estimator needs no weights: T* = T for
    # cause-1 events and T* = inf (never fails) otherwise, and the
    # subdistribution hazard is the ordinary hazard of T*. An ordinary Cox fit
    # of T* therefore estimates β with correct model-based SEs.
    design = fine_gray_design(20_000, seed=1999, censoring_max=None)
    data = design.data
    assert set(data["event"].unique()) == {1, 2}
    cause1 = (data["event"] == 1).to_numpy()
    improper = np.where(cause1, data["time"], data["time"].max() + 1.0)
    coef, se = cox(data[list(design.beta.index)], improper, cause1)
    z = (coef - design.beta) / se
    assert (z.abs() < Z).all(), pd.DataFrame({"coef": coef, "se": se, "truth": design.beta})


def test_censored_data_follow_the_true_cumulative_incidences(aj):
    design = fine_gray_design(100_000, seed=2024)
    data = design.data
    assert 0.1 < (data["event"] == 0).mean() < 0.6
    times = [0.1, 0.3, 0.7, 1.2, 2.0, 2.8]
    estimate, se = aj(data["time"], data["event"], [1, 2], times, censored=0)
    true = design.true_cif(times)
    z = (estimate - true) / se
    assert (z.abs() < Z).all().all(), z.round(2)


def test_true_cif_has_exactly_proportional_subdistribution_hazards():
    design = fine_gray_design(10, seed=0, beta=(0.8, -0.3), p=0.4)
    data, beta = design
    assert data is design.data and list(beta) == [0.8, -0.3]
    times = np.array([0.2, 1.0, 5.0])
    rows = pd.DataFrame({"z1": [0.0, 1.0, -2.0], "z2": [0.0, 0.5, 1.0]})
    cumulative_subdistribution_hazard = [
        -np.log1p(-design.true_cif(times, rows.iloc[[i]])[1].to_numpy()) for i in range(3)
    ]
    for i in (1, 2):
        ratio = cumulative_subdistribution_hazard[i] / cumulative_subdistribution_hazard[0]
        np.testing.assert_allclose(ratio, np.exp(rows.iloc[i] @ design.beta), rtol=1e-10)
    limit = design.true_cif([1e3], rows.iloc[[0]])
    assert limit[1].item() == pytest.approx(0.4) and limit.sum(axis=1).item() == pytest.approx(1)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"p": 1.5}, "p = "),
        ({"beta": (0.5,), "beta_cause2": (0.5, 0.5)}, "beta"),
        ({"censoring_max": -1.0}, "censoring_max"),
    ],
)
def test_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        fine_gray_design(10, seed=0, **kwargs)
