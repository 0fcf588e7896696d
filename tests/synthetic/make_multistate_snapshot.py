"""Record the frozen multi-state generator snapshot (run once, from the code before a change).

    PYTHONPATH=$PWD python tests/synthetic/make_multistate_snapshot.py

Writes tests/synthetic/data/multistate_snapshot.csv: the event log of
``simulate_multistate`` for a small cohort on the built-in scenario (clock
forward) and on its clock-reset variant, times as exact hexadecimal floats, and
multistate_snapshot_digest.txt: SHA-256 digests of larger cohorts' events and
histories. test_multistate_snapshot.py checks that today's generator reproduces
both bit for bit. Recorded from main at d120de2, before issue 15's speed work.
"""

from __future__ import annotations

import hashlib
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from synthetic.multistate import simulate_multistate
from synthetic.multistate_file import multistate_directory, parse_multistate

NAME = "breast_site_dormancy_progression"
HERE = Path(__file__).parent / "data"
SMALL = {"n": 400, "seed": 2026}
LARGE = {"n": 50_000, "seed": 7}


def reset_variant():
    raw = tomllib.loads((multistate_directory() / f"{NAME}.toml").read_text())
    for entry in raw["transitions"]:
        entry["clock"] = "reset"
    return parse_multistate(raw, source="reset variant", name="reset")


def scenarios():
    return {"forward": NAME, "reset": reset_variant()}


def events_table(scenario, n, seed) -> pd.DataFrame:
    e = simulate_multistate(scenario, n=n, seed=seed).events
    return pd.DataFrame(
        {
            "patient_id": e["patient_id"].to_numpy(),
            "time_hex": [float(t).hex() for t in e["time"].to_numpy()],
            "event": e["event"].to_numpy(),
        }
    )


def digest(scenario, n, seed) -> str:
    cohort = simulate_multistate(scenario, n=n, seed=seed)
    h = hashlib.sha256()
    for frame in (cohort.events, cohort.histories()):
        h.update(",".join(frame.columns).encode())
        for column in frame.columns:
            values = frame[column].to_numpy()
            if values.dtype == object:
                h.update("\x1f".join(map(str, values)).encode())
            else:
                h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def main() -> None:
    tables = []
    for label, scenario in scenarios().items():
        t = events_table(scenario, **SMALL)
        t.insert(0, "clock", label)
        tables.append(t)
    pd.concat(tables).to_csv(HERE / "multistate_snapshot.csv", index=False)
    lines = [f"{label} {digest(s, **LARGE)}" for label, s in scenarios().items()]
    (HERE / "multistate_snapshot_digest.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines), file=sys.stderr)


if __name__ == "__main__":
    main()
