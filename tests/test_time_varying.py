"""Time-varying effects against R (tests/reference/results/timevarying.json) and on
synthetic data whose double agent is known."""

import numpy as np
import pandas as pd
import pytest

from survkit import CoxPH
from survkit.data.episodes import split_episodes
from survkit.organs.smooth_effect import fit_smooth_effect
from survkit.organs.time_varying import detect_double_agents, time_varying_effect

from .cox_case_asserts import assert_cox_case
from .reference_cases import RTOL_COEF, RTOL_SE, RTOL_STAT, cases, data, matrix, vector

TV = cases("timevarying")
FIT = {"tol": 1e-12, "max_iter": 100}


def test_unsplit_fit_matches_r():
    case = TV["veteran_unsplit"]
    model = CoxPH(**FIT).fit(data("veteran.csv"), "time", "status", formula=case["coef_names"])
    assert_cox_case(model, case)


@pytest.mark.parametrize("source", ["r_split", "our_split"])
def test_split_fit_without_interaction_equals_unsplit(source):
    # identity: splitting follow-up changes no risk set, so the fit is the same
    case = TV["vet2_split"]
    if source == "r_split":
        df = data("vet2.csv")
    else:
        df = split_episodes(
            data("veteran.csv"), case_cuts(), "time", "status", episode_col="tgroup"
        )
    model = CoxPH(**FIT).fit(df, "time", "status", formula=case["coef_names"], entry_col="tstart")
    assert_cox_case(model, case)
    unsplit = TV["veteran_unsplit"]
    np.testing.assert_allclose(model.params_, vector(unsplit["coef"]), rtol=RTOL_COEF)
    np.testing.assert_allclose(model.variance_, matrix(unsplit["var"]), rtol=RTOL_SE)
    assert model.log_likelihood_ == pytest.approx(unsplit["loglik"], rel=1e-10)


def case_cuts():
    return TV["vet2_step"]["cuts"]


def test_step_function_coefficients_match_r():
    case = TV["vet2_step"]
    assert case["step_covariate"] == "karno" and case["period_column"] == "tgroup"
    effect = time_varying_effect(
        data("veteran.csv"),
        "karno",
        case["cuts"],
        "time",
        "status",
        formula=["trt", "prior"],
        **FIT,
    )
    names = ["trt", "prior", "karno_period1", "karno_period2", "karno_period3"]
    r_names = [n.replace("karno:strata(tgroup)tgroup=", "karno_") for n in case["coef_names"]]
    assert r_names == [n.replace("_period", "_") for n in names]
    assert_cox_case(effect.model, case, names=names)
    wald = case["equal_periods_wald"]
    assert effect.equal_test.statistic == pytest.approx(wald["statistic"], rel=RTOL_STAT)
    assert effect.equal_test.df == wald["df"]
    assert effect.equal_test.p_value == pytest.approx(wald["p"], rel=RTOL_STAT)
    assert wald["contrast"] == [[1, -1, 0], [0, 1, -1]]
    periods = effect.periods
    coefs = vector(case["coef"])[2:]
    ses = vector(case["se"])[2:]
    np.testing.assert_allclose(periods["coef"], coefs, rtol=RTOL_COEF)
    np.testing.assert_allclose(periods["hr"], np.exp(coefs), rtol=RTOL_COEF)
    np.testing.assert_allclose(periods["lower"], np.exp(coefs - 1.959963984540054 * ses), rtol=1e-5)
    assert list(periods["period"]) == ["(0, 90]", "(90, 180]", "(180, inf)"]
    assert periods["events"].sum() == case["nevent"]
    # karno is protective early and null later: no sign change, no double agent
    assert not effect.double_agent and not effect.sign_change


def test_smooth_effect_matches_r_tt():
    case = TV["veteran_tt"]
    assert case["tt_function"] == "x * log(t + 20)"
    smooth = fit_smooth_effect(
        data("veteran.csv"),
        "karno",
        "time",
        "status",
        transform=lambda t: np.log(t + 20),
        formula=["trt", "prior"],
        **FIT,
    )
    # R counts the 137 patients; survkit's model sees the split pieces. R's
    # means and stored concordance are over its own tt expansion, a different
    # set of rows, so they are not comparable.
    assert_cox_case(smooth.model, case, check_n=False, check_concordance=False, check_means=False)
    assert len(data("veteran.csv")) == case["n"]
    b = vector(case["coef"])
    V = matrix(case["var"])
    hr = smooth.hazard_ratio([10.0, 100.0])
    g = np.log(np.array([10.0, 100.0]) + 20)
    np.testing.assert_allclose(hr["log_hr"], b[2] + b[3] * g, rtol=RTOL_COEF)
    se = np.sqrt(V[2, 2] + 2 * g * V[2, 3] + g * g * V[3, 3])
    np.testing.assert_allclose(hr["se"], se, rtol=RTOL_SE)
    assert smooth.slope_test.statistic == pytest.approx(b[3] ** 2 / V[3, 3], rel=RTOL_STAT)


def test_smooth_effect_refuses_huge_expansions_and_bad_transform():
    vet = data("veteran.csv")
    with pytest.raises(ValueError, match=r"into \d+ pieces .* max_rows=100"):
        fit_smooth_effect(vet, "karno", "time", "status", formula=["trt"], max_rows=100)
    with pytest.raises(ValueError, match="transform='sqrt' is not supported"):
        fit_smooth_effect(vet, "karno", "time", "status", transform="sqrt")


def test_covariate_in_formula_is_refused():
    with pytest.raises(ValueError, match="'karno' is also in formula"):
        time_varying_effect(data("veteran.csv"), "karno", [90], "time", "status", "trt + karno")


def test_bad_cut_points_are_refused():
    vet = data("veteran.csv")
    with pytest.raises(ValueError, match="not strictly increasing"):
        time_varying_effect(vet, "karno", [180, 90], "time", "status")
    with pytest.raises(ValueError, match="outside follow-up"):
        time_varying_effect(vet, "karno", [90, 5000], "time", "status")


# ------------------------------------------------------------ synthetic truth
SITE, AGENT = "brain", "brain_astrocyte_reactivity"
ADJUST = "age + tumour_size_cm + positive_nodes + er_positive + C(subtype)"


@pytest.fixture(scope="module")
def cohort():
    synthetic = pytest.importorskip("synthetic")
    return synthetic.simulate_cohort(
        synthetic.load_scenario("breast_site_dormancy"), n=4000, seed=1
    )


def truth_pieces(cohort):
    truth = cohort.truth
    rows = truth[(truth["site"] == SITE) & (truth["covariate"] == AGENT)].sort_values("start")
    return rows["start"].to_numpy()[1:], rows["log_hr"].to_numpy()


def test_double_agent_is_flagged_and_its_period_hrs_cover_the_truth(cohort):
    cuts, true_log_hr = truth_pieces(cohort)
    assert true_log_hr[0] < 0 < true_log_hr[-1]  # the scenario's double agent
    kw = dict(formula=ADJUST, cause=SITE, censor_value="censored")
    effect = time_varying_effect(cohort.data, AGENT, cuts, "time", "event", **kw)
    assert effect.double_agent and effect.pattern == "protective then promoting"
    assert effect.equal_test.p_value < 1e-6
    per = effect.periods
    assert per["upper"].iloc[0] < 1 < per["lower"].iloc[-1]
    # Coverage of the truth, as one family-wise statement over the two periods:
    # each true HR inside its Bonferroni-adjusted (97.5 %) interval. (Over 40
    # seeds, scenarios of issue 17: mean z 0.16 early, 0.25 late, no bias
    # beyond Monte Carlo error; 95 % CIs covered 97.5 % and 92.5 % of the
    # time. At this seed the late estimate lies 1.66 SE above the truth.)
    level = 1 - 0.05 / len(true_log_hr)
    wide = time_varying_effect(cohort.data, AGENT, cuts, "time", "event", conf_level=level, **kw)
    assert wide.double_agent
    lower, upper = wide.periods["lower"].to_numpy(), wide.periods["upper"].to_numpy()
    assert ((lower <= np.exp(true_log_hr)) & (np.exp(true_log_hr) <= upper)).all()


def test_scan_flags_only_the_double_agent(cohort):
    cuts, _ = truth_pieces(cohort)
    scan = detect_double_agents(
        cohort.data,
        [AGENT, "lung_net_score", "er_positive"],
        cuts,
        "time",
        "event",
        formula=f"{ADJUST} + {AGENT} + lung_net_score",
        sites=["bone", "lung", SITE],
        censor_value="censored",
    )
    table = scan.table
    assert len(table) == 9
    flagged = table[table["double_agent"]]
    assert list(zip(flagged["site"], flagged["covariate"], strict=True)) == [(SITE, AGENT)]
    from statsmodels.stats.multitest import multipletests

    np.testing.assert_allclose(table["p_adj"], multipletests(table["p"], method="fdr_bh")[1])
    assert isinstance(scan.effects[(SITE, AGENT)].periods, pd.DataFrame)


def test_smooth_effect_sees_the_sign_change(cohort):
    # beta0 + beta1 log(t) for the brain double agent: rising, crossing zero
    # between the truth's two pieces (the data are split at ~100 brain event times)
    smooth = fit_smooth_effect(
        cohort.data,
        AGENT,
        "time",
        "event",
        transform="log",
        formula=ADJUST,
        cause=SITE,
        censor_value="censored",
    )
    assert smooth.slope_test.p_value < 1e-6
    hr = smooth.hazard_ratio([0.5, 10.0])
    assert hr["upper"].iloc[0] < 1 < hr["lower"].iloc[-1]
    assert smooth.model.n_events_ == int((cohort.data["event"] == SITE).sum())
