"""Truth recovery on a large simulated multi-state cohort.

Every later-transition log hazard ratio within 4 SE of the truth (19
coefficients: the chance that a correct estimator fails this is about 1e-3),
the first-organ effect within 4 SE, and the Aalen-Johansen state occupation
within Monte Carlo error of the truth from the Kolmogorov equations. The
first-event hazards are the base scenario's, whose recovery is tested in
tests/synthetic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survkit import multistate as ms
from synthetic.multistate import simulate_multistate

NAME = "breast_site_dormancy_progression"


@pytest.fixture(scope="module")
def fitted():
    cohort = simulate_multistate(NAME, n=20000, seed=2026)
    tm = ms.transition_matrix(cohort.states, cohort.pairs)
    h = cohort.histories()
    h["her2"] = (h["subtype"] == "her2").astype(float)
    h["basal"] = (h["subtype"] == "basal").astype(float)
    data = ms.read_histories(h.drop(columns="subtype"), tm, id_col="patient_id")
    return cohort, data


def test_later_transition_log_hazard_ratios_within_4_se(fitted):
    cohort, data = fitted
    truth = cohort.truth
    later = truth[(truth["from"] != "no_relapse") & (truth["log_hr"] != 0)]
    rename = {"subtype[T.her2]": "her2", "subtype[T.basal]": "basal"}
    terms = {}
    for (a, b), rows in later.groupby(["from", "to"], sort=False):
        terms[(a, b)] = [rename.get(c, c) for c in rows["covariate"]]
    model = ms.MultiStateCox().fit(data, terms)
    summary = model.summary
    assert len(summary) == 19
    expected = {
        (a, b, rename.get(c, c)): v
        for a, b, c, v in later[["from", "to", "covariate", "log_hr"]].itertuples(index=False)
    }
    z = [
        (row.coef - expected[(row[1], row[2], row.covariate)]) / row.se
        for row in summary[["from", "to", "covariate", "coef", "se"]].itertuples()
    ]
    assert np.max(np.abs(z)) < 4, summary.assign(z=z)


def test_first_organ_effect_within_4_se(fitted):
    _, data = fitted
    table, test = ms.origin_effect(data, "liver", ["liver_nk_activity", "her2"])
    assert test["reference"] == "bone"
    # lung first versus bone first: log(0.06 / 0.12)
    truth = np.log(0.06 / 0.12)
    row = table.loc["from[lung]"]
    assert abs(row["coef"] - truth) < 4 * row["se"]
    assert test["p_value"] < 1e-3  # the effect is detectable at this size


def test_state_occupation_within_monte_carlo_error(fitted):
    cohort, data = fitted
    times = [1.0, 3.0, 6.0, 10.0]
    occ = ms.state_occupation(data)
    # the truth averaged over an independent sample of patients, with its own
    # Monte Carlo error (the spread of the patients' probabilities / sqrt(m))
    other = simulate_multistate(NAME, n=800, seed=7).first.data
    each = cohort.true_occupation(times, data=other, rtol=1e-7, individual=True)
    truth = each.groupby(level="time").mean()
    truth_se = each.groupby(level="time").std() / np.sqrt(len(other))
    _occupation_cells_within_4_sd(occ, truth, truth_se, times, cohort.states)


def _occupation_cells_within_4_sd(occ, truth, truth_se, times, states):
    """Assert each (time, state) estimate lies within 4 combined SDs of the truth
    (its SE and the truth's Monte Carlo error); return (t, state, estimate, sd) per cell."""
    cells = []
    for t in times:
        at = occ[occ["time"] <= t].groupby("state").tail(1).set_index("state")
        for state in states:
            est, se = at.loc[state, "pstate"], at.loc[state, "std_err"]
            sd = np.hypot(se, truth_se.loc[t, state])
            assert abs(est - truth.loc[t, state]) < 4 * sd, (t, state, est, truth.loc[t, state], se)
            cells.append((t, state, est, sd))
    return cells


def test_semi_markov_variant_recovered_on_the_reset_clock():
    import tomllib

    from synthetic.multistate_file import multistate_directory, parse_multistate

    raw = tomllib.loads((multistate_directory() / f"{NAME}.toml").read_text())
    for entry in raw["transitions"]:
        entry["clock"] = "reset"
    scenario = parse_multistate(raw, source="reset variant", name="reset")
    cohort = simulate_multistate(scenario, n=12000, seed=99)
    forward = simulate_multistate(NAME, n=12000, seed=99)
    # same first events, different later paths
    first = cohort.events.groupby("patient_id").head(1).reset_index(drop=True)
    first_forward = forward.events.groupby("patient_id").head(1).reset_index(drop=True)
    np.testing.assert_array_equal(first["time"], first_forward["time"])
    assert not cohort.events.equals(forward.events)
    from synthetic.multistate_truth import occupation_probabilities

    with pytest.raises(ValueError, match="semi-Markov"):
        occupation_probabilities(scenario, cohort.first.data.head(2), [1.0], method="kolmogorov")
    h = cohort.histories()
    h["her2"] = (h["subtype"] == "her2").astype(float)
    h["basal"] = (h["subtype"] == "basal").astype(float)
    tm = ms.transition_matrix(cohort.states, cohort.pairs)
    data = ms.read_histories(h.drop(columns="subtype"), tm, id_col="patient_id")
    truth = cohort.truth
    later = truth[(truth["from"] != "no_relapse") & (truth["log_hr"] != 0)]
    rename = {"subtype[T.her2]": "her2", "subtype[T.basal]": "basal"}
    terms = {}
    for (a, b), rows in later.groupby(["from", "to"], sort=False):
        terms[(a, b)] = [rename.get(c, c) for c in rows["covariate"]]
    model = ms.MultiStateCox(clock="reset").fit(data, terms)
    expected = {
        (a, b, rename.get(c, c)): v
        for a, b, c, v in later[["from", "to", "covariate", "log_hr"]].itertuples(index=False)
    }
    s = model.summary
    z = [
        (row.coef - expected[(row[1], row[2], row.covariate)]) / row.se
        for row in s[["from", "to", "covariate", "coef", "se"]].itertuples()
    ]
    assert np.max(np.abs(z)) < 4, s.assign(z=z)
    with pytest.raises(ValueError, match="clock-forward"):
        model.predict_occupation(h.head(1))


def test_semi_markov_occupation_within_monte_carlo_error():
    # Hazards that change with time since relapse (Gompertz growth), on a reset
    # clock: the truth comes from the convolution (not the Kolmogorov equations),
    # and the Aalen-Johansen occupation, consistent also for non-Markov data,
    # must agree with it within Monte Carlo error. The same hazards on the
    # forward clock give a different truth, so the check can tell them apart.
    import tomllib

    from synthetic.multistate_file import multistate_directory, parse_multistate
    from synthetic.multistate_truth import occupation_probabilities

    raw = tomllib.loads((multistate_directory() / f"{NAME}.toml").read_text())
    for entry in raw["transitions"]:
        entry["gompertz"]["growth_per_year"] = 0.2 if entry["to"] == "death" else 0.3
    forward = parse_multistate(raw, source="growing hazards", name="forward")
    for entry in raw["transitions"]:
        entry["clock"] = "reset"
    reset = parse_multistate(raw, source="growing hazards, reset", name="reset")
    cohort = simulate_multistate(reset, n=12000, seed=31)
    tm = ms.transition_matrix(cohort.states, cohort.pairs)
    data = ms.read_histories(cohort.histories(), tm, id_col="patient_id", keep=[])
    occ = ms.state_occupation(data)
    times = [2.0, 5.0, 9.0]
    other = simulate_multistate(reset, n=400, seed=8).first.data
    # 500 steps: the mean is accurate to about 3e-6, far inside the Monte Carlo error
    each = occupation_probabilities(reset, other, times, individual=True, steps=500)
    truth = pd.DataFrame(each.mean(axis=0), index=times, columns=cohort.states)
    truth_se = pd.DataFrame(
        each.std(axis=0, ddof=1) / np.sqrt(len(other)), index=times, columns=cohort.states
    )
    markov = pd.DataFrame(
        occupation_probabilities(forward, other, times, method="convolution", steps=500),
        index=times,
        columns=cohort.states,
    )
    apart = 0
    for t, state, est, sd in _occupation_cells_within_4_sd(
        occ, truth, truth_se, times, cohort.states
    ):
        apart += abs(est - markov.loc[t, state]) > 4 * sd
    assert apart >= 3  # the forward-clock truth is rejected somewhere


def test_simulation_study_takes_the_semi_markov_truth(tmp_path):
    # run_multistate_study's estimands on a clock-reset scenario file: the truth is
    # the convolution's (the Kolmogorov solver used to refuse it), averaged over the
    # reference cohort with its Monte Carlo error
    from survkit.simstudy import MultiStateStudy
    from survkit.simstudy.multistate_methods import (
        multistate_estimands,
        pstate_id,
        reference_seed,
    )
    from synthetic.multistate_file import load_multistate_scenario, multistate_directory
    from synthetic.multistate_truth import occupation_probabilities

    states = ["no_relapse", "bone", "lung", "liver", "brain", "death"]
    growing = (multistate_directory() / f"{NAME}.toml").read_text()
    growing = growing.replace("growth_per_year = 0.0", "growth_per_year = 0.3")
    path = tmp_path / "reset.toml"
    path.write_text(growing.replace("[[transitions]]\n", '[[transitions]]\nclock = "reset"\n'))
    study = MultiStateStudy(
        scenario=str(path), methods=("state_occupation",), times=(1.0, 4.0), reference_n=100
    )
    truth = multistate_estimands(study).set_index("estimand")
    assert len(truth) == 12 and (truth["kind"] == "pstate").all()
    np.testing.assert_allclose(truth.groupby("time")["true_value"].sum(), 1.0, atol=1e-4)
    assert (truth["true_value_mcse"] > 0).all()
    # the convolution's average over the study's reference cohort
    reference = simulate_multistate(path, 100, reference_seed(study.seed, 0)).first.data
    reset = occupation_probabilities(load_multistate_scenario(path), reference, [4.0])
    np.testing.assert_allclose(
        [truth.loc[pstate_id(s, 4.0), "true_value"] for s in states], reset[0], rtol=1e-12
    )


def test_first_event_cohort_data_gives_the_competing_risks_incidence():
    # Cohort.data (first events only) as multi-state data: occupying a relapse
    # state at t is having had that first event by t, so the Aalen-Johansen
    # occupation equals the competing-risks cumulative incidence.
    from survkit import aalen_johansen
    from synthetic import simulate_cohort

    df = simulate_cohort("breast_site_dormancy", n=3000, seed=4).data
    sites = ["bone", "lung", "liver", "brain"]
    tm = ms.transition_matrix(["no_relapse", *sites, "death"], {"no_relapse": [*sites, "death"]})
    data = ms.from_events(df, tm, "patient_id", "time", "event", keep=["age"])
    occ = ms.state_occupation(data)
    times = [1.0, 2.5, 5.0, 9.0]
    cif = aalen_johansen(df, "time", "event", censor_value="censored", times=times)
    for cause in [*sites, "death"]:
        curve = occ[occ["state"] == cause]
        ours = [curve[curve["time"] <= t]["pstate"].iloc[-1] for t in times]
        expected = cif[cif["cause"] == cause]["cif"].to_numpy()
        np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)
