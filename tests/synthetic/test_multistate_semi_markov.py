"""The convolution that gives the true occupation of clock-reset (semi-Markov) scenarios.

Checked here against the Kolmogorov solution on Markov scenarios (the
convolution solves those too), for constant hazards on a reset clock (where
the two clocks give the same process) and on its own argument checks; its
agreement with a simulated semi-Markov cohort is in
tests/test_multistate_truth_recovery.py.
"""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from synthetic.multistate import simulate_multistate
from synthetic.multistate_file import multistate_directory, parse_multistate
from synthetic.multistate_truth import occupation_probabilities

NAME = "breast_site_dormancy_progression"


def _variant(growth: float, clock: str, death_clock: str | None = None):
    """The built-in scenario with every later hazard growing at ``growth`` per year of
    its clock; ``death_clock`` sets the transitions into death apart (constant there)."""
    raw = tomllib.loads((multistate_directory() / f"{NAME}.toml").read_text())
    for entry in raw["transitions"]:
        entry["gompertz"]["growth_per_year"] = growth
        entry["clock"] = clock
        if death_clock is not None and entry["to"] == "death":
            entry["gompertz"]["growth_per_year"] = 0.0
            entry["clock"] = death_clock
    return parse_multistate(raw, source=f"{clock}, growth {growth}", name=clock)


@pytest.fixture(scope="module")
def patients():
    return simulate_multistate(NAME, n=12, seed=12).first.data


def test_convolution_equals_kolmogorov_on_a_markov_scenario(patients):
    scenario = _variant(0.25, "forward")  # time-varying hazards, forward clock
    times = [0.3, 1.0, 2.5, 6.0, 10.0]
    ode = occupation_probabilities(scenario, patients, times, individual=True, rtol=1e-7)
    coarse, fine = (
        occupation_probabilities(
            scenario, patients, times, individual=True, method="convolution", steps=steps
        )
        for steps in (500, 1000)
    )
    # measured: 5.6e-5 at 500 steps, 1.4e-5 at 1000 (second order)
    np.testing.assert_allclose(coarse, ode, rtol=0, atol=1e-4)
    assert np.abs(fine - ode).max() < np.abs(coarse - ode).max() / 3
    conv = fine
    # mass is kept only up to the discretisation error (midpoint survival times
    # exact increments): measured 1.5e-5 here
    np.testing.assert_allclose(conv.sum(axis=2), 1.0, atol=5e-5)


def test_mixed_clocks_equal_the_forward_clock_when_the_reset_hazards_are_constant(patients):
    # forward transitions with growing hazards and reset ones with constant hazards
    # (where the clock does not matter): the direct sum for a state with both clocks
    # against the forward-only recursion (itself checked against Kolmogorov above)
    times = [0.7, 3.0, 9.0]
    mixed = _variant(0.25, "forward", death_clock="reset")
    markov = _variant(0.25, "forward", death_clock="forward")
    small = patients.head(10)
    forward = occupation_probabilities(
        markov, small, times, individual=True, method="convolution", steps=400
    )
    conv = occupation_probabilities(mixed, small, times, individual=True, steps=400)
    # the same grid: only round-off and the different sums separate them
    np.testing.assert_allclose(conv, forward, rtol=0, atol=1e-12)


def test_constant_hazards_give_the_same_occupation_on_either_clock(patients):
    # the forward-clock values by the convolution too (checked against Kolmogorov above)
    times = [1.0, 4.0, 8.0]
    conv = {"method": "convolution"}
    forward = occupation_probabilities(_variant(0.0, "forward"), patients, times, **conv)
    reset = occupation_probabilities(_variant(0.0, "reset"), patients, times)
    np.testing.assert_allclose(reset, forward, rtol=0, atol=3e-6)
    growing = occupation_probabilities(_variant(0.3, "reset"), patients, times)
    markov = occupation_probabilities(_variant(0.3, "forward"), patients, times, **conv)
    assert np.abs(growing - markov).max() > 1e-2  # the clock matters (measured 0.04)


def test_arguments_are_checked(patients):
    reset = _variant(0.3, "reset")
    with pytest.raises(ValueError, match="method="):
        occupation_probabilities(reset, patients, [1.0], method="euler")
    with pytest.raises(ValueError, match="steps="):
        occupation_probabilities(reset, patients, [1.0], steps=3)
    at_zero = occupation_probabilities(reset, patients, [0.0])
    np.testing.assert_array_equal(at_zero[0], np.eye(len(reset.states))[0])
