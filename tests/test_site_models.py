"""fit_sites: per-organ cause-specific Cox and Fine-Gray fits in one call."""

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from survkit import CoxPH
from survkit.organs.site_models import fit_sites

from .reference_cases import RTOL_COEF, RTOL_SE, cases, data, vector

CSC = cases("csc")["mgus2_csc_efron"]
CRR = cases("crr")
COVS = ["age", "male", "hgb", "creat", "mspike"]
FIT = {"tol": 1e-12, "max_iter": 100}


@pytest.fixture(scope="module")
def cause_specific():
    return fit_sites(data("mgus2.csv"), "etime", "event", COVS, models="cause_specific", **FIT)


def test_cause_specific_fits_match_r(cause_specific):
    assert CSC["covariates"] == COVS and CSC["ties"] == "efron"
    table = cause_specific.table
    assert list(table.columns) == [
        "site",
        "model",
        "covariate",
        "coef",
        "HR",
        "lower",
        "upper",
        "se",
        "z",
        "p",
        "p_adj",
    ]
    for cause in (1, 2):
        ref = CSC["models"][str(cause)]
        rows = table[table["site"] == cause]
        assert list(rows["covariate"]) == COVS
        np.testing.assert_allclose(rows["coef"], vector(ref["coef"]), rtol=RTOL_COEF)
        np.testing.assert_allclose(rows["se"], vector(ref["se"]), rtol=RTOL_SE)
        np.testing.assert_allclose(rows["HR"], np.exp(vector(ref["coef"])), rtol=RTOL_COEF)
        model = cause_specific.models[(cause, "cause_specific")]
        assert isinstance(model, CoxPH)
        assert model.log_likelihood_ == pytest.approx(ref["loglik"], rel=1e-8)
        summary = model.summary
        np.testing.assert_allclose(rows["lower"], summary["lower 0.95"], rtol=1e-12)
        np.testing.assert_allclose(rows["p"], summary["p"], rtol=1e-12)
    assert list(cause_specific.events) == [112, 838]
    assert cause_specific.skipped.empty


def test_benjamini_hochberg_over_every_site_and_covariate(cause_specific):
    table = cause_specific.table
    assert len(table) == 10
    np.testing.assert_allclose(table["p_adj"], multipletests(table["p"], method="fdr_bh")[1])
    assert (table["p_adj"] >= table["p"]).all()


def test_fine_gray_fits_match_crr():
    fits = fit_sites(data("mgus2.csv"), "etime", "event", COVS, **FIT)
    assert set(fits.table["model"]) == {"cause_specific", "fine_gray"}
    for cause in (1, 2):
        ref = CRR[f"mgus2_fc{cause}"]
        assert ref["covariates"] == COVS
        rows = fits.table[(fits.table["site"] == cause) & (fits.table["model"] == "fine_gray")]
        np.testing.assert_allclose(rows["coef"], vector(ref["coef"]), rtol=RTOL_COEF)
        np.testing.assert_allclose(rows["se"], vector(ref["se"]), rtol=RTOL_SE)
    # BH runs within each model family
    for _, rows in fits.table.groupby("model"):
        np.testing.assert_allclose(rows["p_adj"], multipletests(rows["p"], method="fdr_bh")[1])


def test_sites_with_too_few_events_are_skipped_with_a_warning():
    df = data("synth3.csv")
    df["organ"] = df["cause"].map({0: "censored", 1: "bone", 2: "lung", 3: "brain"})
    with pytest.warns(
        UserWarning, match=r"site 'brain' has 57 event\(s\), fewer than min_events=60"
    ):
        fits = fit_sites(
            df,
            "time",
            "organ",
            "x1 + x2 + C(g3)",
            models=["cause_specific"],
            censor_value="censored",
            min_events=60,
        )
    assert fits.skipped.to_dict("records") == [
        {"site": "brain", "events": 57, "reason": "fewer than 60 events"}
    ]
    assert sorted(fits.table["site"].unique()) == ["bone", "lung"]
    assert set(fits.models) == {("bone", "cause_specific"), ("lung", "cause_specific")}
    assert fits.events.to_dict() == {"bone": 181, "brain": 57, "lung": 119}


def test_explicit_sites_and_bad_input():
    df = data("mgus2.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fits = fit_sites(df, "etime", "event", ["age"], sites=[2], models=["cause_specific"])
    assert list(fits.table["site"]) == [2]
    with pytest.raises(ValueError, match=r"sites \[5\] never occur"):
        fit_sites(df, "etime", "event", ["age"], sites=[5])
    with pytest.raises(ValueError, match="models='cox' is not supported"):
        fit_sites(df, "etime", "event", ["age"], models=["cox"])
    with pytest.raises(ValueError, match="min_events=0"):
        fit_sites(df, "etime", "event", ["age"], min_events=0)
    with pytest.raises(
        ValueError, match=r"site 1, cause_specific model: covariate 'k' is constant"
    ):
        fit_sites(df.assign(k=1.0), "etime", "event", ["age", "k"], models="cause_specific")
    assert isinstance(fits.skipped, pd.DataFrame)
