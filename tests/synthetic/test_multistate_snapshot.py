"""The multi-state generator reproduces a snapshot frozen before its speed work, bit for bit.

The snapshot (data/multistate_snapshot*.*) was recorded by
make_multistate_snapshot.py from the generator as it was before issue 15's
speed changes; a faster generator must give exactly the same paths at the
same seed (times compared as exact floats, not within a tolerance).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.synthetic.make_multistate_snapshot import (
    LARGE,
    SMALL,
    digest,
    events_table,
    scenarios,
)

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("clock", ["forward", "reset"])
def test_small_cohort_equals_the_frozen_event_log(clock):
    frozen = pd.read_csv(DATA / "multistate_snapshot.csv", keep_default_na=False)
    frozen = frozen[frozen["clock"] == clock].drop(columns="clock").reset_index(drop=True)
    assert len(frozen) > SMALL["n"]  # every patient, and some with later transitions
    now = events_table(scenarios()[clock], **SMALL)
    np.testing.assert_array_equal(now["patient_id"].to_numpy(), frozen["patient_id"].to_numpy())
    np.testing.assert_array_equal(now["event"].to_numpy(), frozen["event"].to_numpy())
    times = np.array([float.fromhex(t) for t in frozen["time_hex"]])
    now_times = np.array([float.fromhex(t) for t in now["time_hex"]])
    assert now_times.tobytes() == times.tobytes()


def test_large_cohorts_equal_the_frozen_digests():
    frozen = dict(
        line.split() for line in (DATA / "multistate_snapshot_digest.txt").read_text().splitlines()
    )
    assert set(frozen) == {"forward", "reset"}
    for clock, scenario in scenarios().items():
        assert digest(scenario, **LARGE) == frozen[clock], clock
