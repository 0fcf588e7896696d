"""CoxPH.score of a stratified fit counts pairs within strata, as R's concordance(fit)."""

import numpy as np
import pytest

from survkit import CoxPH, outcome
from survkit.models.sklearn_api import harrell_c

from .reference_cases import RTOL_CONCORDANCE, cases, cox_kwargs, data, with_dummies

COX = cases("cox")
# the stratified R cases without delayed entry or weights (score takes (time, event) only)
STRATIFIED = ["lung_strata_sex", "veteran_strata_trt_prior", "pbc_strata_trt"]


@pytest.mark.parametrize("name", STRATIFIED)
def test_score_of_a_stratified_fit_is_r_concordance(name):
    case = COX[name]
    assert case["strata"] and case["entry"] is None and case["weights"] is None
    df = with_dummies(data(case["data"]), case["factors"])
    kw = cox_kwargs(case)
    model = CoxPH(ties=case["ties"], tol=1e-12, max_iter=100).fit(df, **kw)
    y = outcome(df, kw["duration_col"], kw["event_col"])
    r_value = case["concordance"]["concordance"]  # R: concordance(fit), within strata
    assert model.score(df, y) == pytest.approx(r_value, rel=RTOL_CONCORDANCE)
    assert model.concordance_ == pytest.approx(r_value, rel=RTOL_CONCORDANCE)
    # counting across strata (the old score) gives another number
    across = harrell_c(y, model.predict(df))
    assert abs(across - r_value) > 1e-4
    # shuffled rows, same value: the strata travel with their rows
    order = np.random.default_rng(0).permutation(len(df))
    shuffled = df.iloc[order]
    y_shuffled = outcome(shuffled, kw["duration_col"], kw["event_col"])
    assert model.score(shuffled, y_shuffled) == pytest.approx(r_value, rel=RTOL_CONCORDANCE)


def test_score_of_a_stratified_fit_needs_the_strata_columns():
    case = COX["lung_strata_sex"]
    df = with_dummies(data(case["data"]), case["factors"])
    kw = cox_kwargs(case)
    model = CoxPH().fit(df, **kw)
    y = outcome(df, kw["duration_col"], kw["event_col"])
    with pytest.raises(ValueError, match="sex"):
        model.score(df.drop(columns="sex"), y)
    holed = df.astype({"sex": float})
    holed.loc[holed.index[:2], "sex"] = np.nan
    with pytest.raises(ValueError, match="2 row\\(s\\) with a missing value in the strata"):
        model.score(holed, y)
