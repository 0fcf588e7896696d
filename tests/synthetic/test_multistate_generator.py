"""The multi-state variant of a scenario: first events unchanged, later paths, truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic import simulate_cohort
from synthetic.multistate import simulate_multistate
from synthetic.multistate_file import load_multistate_scenario, parse_multistate

NAME = "breast_site_dormancy_progression"


@pytest.fixture(scope="module")
def cohort():
    return simulate_multistate(NAME, n=3000, seed=11)


def test_first_events_equal_the_base_cohort_exactly(cohort):
    base = simulate_cohort("breast_site_dormancy", n=3000, seed=11)
    pd.testing.assert_frame_equal(cohort.first.data, base.data)
    pd.testing.assert_frame_equal(cohort.first.latent, base.latent)
    # and the multi-state event log starts with exactly those first events
    first_rows = cohort.events.groupby("patient_id").head(1).reset_index(drop=True)
    np.testing.assert_array_equal(first_rows["time"], base.data["time"])
    np.testing.assert_array_equal(first_rows["event"], base.data["event"].astype(str))


def test_the_variant_references_the_base_scenario_by_name():
    scenario = load_multistate_scenario(NAME)
    assert scenario.base.name == "breast_site_dormancy"
    assert scenario.states == ("no_relapse", "bone", "lung", "liver", "brain", "death")
    assert ("bone", "liver") in scenario.pairs and ("liver", "bone") not in scenario.pairs


def test_paths_are_possible_and_reproducible(cohort):
    again = simulate_multistate(NAME, n=3000, seed=11)
    pd.testing.assert_frame_equal(cohort.events, again.events)
    smaller = simulate_multistate(NAME, n=1000, seed=11)
    head = cohort.events[cohort.events["patient_id"] < 1000].reset_index(drop=True)
    pd.testing.assert_frame_equal(smaller.events, head)
    h = cohort.histories()
    allowed = set(cohort.pairs)
    moved = h[h["to"] != "censored"]
    assert all(p in allowed for p in zip(moved["from"], moved["to"], strict=True))
    assert (h["tstart"] < h["tstop"]).all()
    same = h["patient_id"].to_numpy()[1:] == h["patient_id"].to_numpy()[:-1]
    np.testing.assert_array_equal(
        h["tstart"].to_numpy()[1:][same], h["tstop"].to_numpy()[:-1][same]
    )
    # every path stops at death or censoring, never later than the base censoring time
    last = h.groupby("patient_id").tail(1)
    assert last["to"].isin(["death", "censored"]).all()
    censor = cohort.first.latent["censored"].to_numpy()[last["patient_id"].to_numpy()]
    assert (last["tstop"].to_numpy() <= censor).all()
    # several relapse paths happen: a second organ after bone, death after brain
    assert ((moved["from"] == "bone") & (moved["to"] == "liver")).sum() > 10
    assert ((moved["from"] == "brain") & (moved["to"] == "death")).sum() > 10


def test_truth_table_and_occupation(cohort):
    truth = cohort.truth
    row = truth[(truth["from"] == "bone") & (truth["to"] == "liver")].set_index("covariate")
    assert row.loc["liver_nk_activity", "log_hr"] == -0.5
    assert row.loc["subtype[T.her2]", "log_hr"] == 0.6
    assert row.loc["age", "log_hr"] == 0.0
    first = truth[truth["from"] == "no_relapse"]
    assert set(first["to"]) == {"bone", "lung", "liver", "brain", "death"}
    times = [0.0, 0.5, 2.5, 6.0, 12.0]
    some = cohort.first.data.iloc[:150]
    occ = cohort.true_occupation(times, data=some)
    np.testing.assert_allclose(occ.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(occ.iloc[0], [1, 0, 0, 0, 0, 0])
    # no relapse has a closed form: exp(-sum of the first-event cumulative hazards)
    H = sum(
        cohort.first.true_cumulative_hazard(k, times, data=some)
        for k in cohort.scenario.base.cause_names
    )
    np.testing.assert_allclose(occ["no_relapse"], np.exp(-H).mean(axis=1), rtol=0, atol=1e-9)
    # death-without-relapse mass is part of 'death': the first-event incidence of
    # death is a lower bound of P(dead)
    cif = cohort.first.true_cif(times[1:], data=some)
    assert (occ["death"].to_numpy()[1:] >= cif["death"].to_numpy() - 1e-9).all()


def test_scenario_file_errors(tmp_path):
    good = {
        "base": "breast_site_dormancy",
        "transitions": [
            {"from": s, "to": "death", "gompertz": {"rate_per_year": 0.3, "growth_per_year": 0.0}}
            for s in ("bone", "lung", "liver", "brain")
        ],
    }
    parse_multistate(good, source="x.toml", name="x")
    cycle = {
        **good,
        "transitions": good["transitions"]
        + [
            {
                "from": "bone",
                "to": "lung",
                "gompertz": {"rate_per_year": 0.1, "growth_per_year": 0},
            },
            {
                "from": "lung",
                "to": "bone",
                "gompertz": {"rate_per_year": 0.1, "growth_per_year": 0},
            },
        ],
    }
    with pytest.raises(ValueError, match="cycle"):
        parse_multistate(cycle, source="x.toml", name="x")
    with pytest.raises(ValueError, match="none out of 'brain'"):
        parse_multistate({**good, "transitions": good["transitions"][:3]}, source="x", name="x")
    bad = {**good, "transitions": [{**good["transitions"][0], "effects": {"nope": 1.0}}]}
    with pytest.raises(ValueError, match="not a covariate"):
        parse_multistate(bad, source="x", name="x")
    with pytest.raises(ValueError, match="not a site"):
        parse_multistate(
            {**good, "transitions": [{**good["transitions"][0], "from": "skin"}]},
            source="x",
            name="x",
        )
