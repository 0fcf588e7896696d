"""Multi-state data in the event-history form, checked: ``MultiStateData``.

One row per patient and interval: ``id, tstart, tstop, from, to, status``
(``to`` is the state entered at ``tstop``, or the censoring value with
``status = 0``), plus the patient's covariates. This is the data of R's
``survfit(Surv(tstart, tstop, to) ~ 1, id = id, istate = from)``; the long
form with one row per transition at risk (``mstate::msprep``) is derived from
it (``long_form``). Three ways in:

* ``read_histories``: a table already in this form (checked, as R's ``survcheck``);
* ``from_events``: one row per event per patient (``Cohort.data`` has one:
  the first event);
* ``from_wide``: one time and one status column per state (``mstate::msprep``).

Impossible paths are refused with a ValueError that names the problem, the
number of patients and the first one: a transition that the transition
matrix does not allow, time going backwards (or a gap between intervals), an
event after an absorbing state (death).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.validation import check_columns, check_dataframe, check_finite_numeric
from .transitions import TransitionMatrix

__all__ = ["MultiStateData", "read_histories"]

HISTORY_COLUMNS = ("id", "tstart", "tstop", "from", "to", "status")


@dataclass
class MultiStateData:
    """Checked event histories and the transition matrix they follow.

    ``histories`` is sorted by id, then tstart; ``covariates`` are the kept
    patient columns (constant within an interval).
    """

    histories: pd.DataFrame
    transitions: TransitionMatrix
    censor_value: object
    covariates: tuple

    @property
    def n_patients(self) -> int:
        return int(self.histories["id"].nunique())

    def counts(self) -> pd.DataFrame:
        """Observed transitions: trans, from, to and n, one row per allowed
        transition (the counts of R's ``survcheck`` transition table)."""
        h = self.histories
        moved = h[h["status"] == 1]
        observed = moved.groupby(["from", "to"], sort=False).size()
        table = self.transitions.table()
        table["n"] = [
            int(observed.get((a, b), 0)) for a, b in zip(table["from"], table["to"], strict=True)
        ]
        return table


def _first_bad(ids: np.ndarray, mask: np.ndarray) -> tuple[int, object]:
    bad = np.unique(ids[mask])
    return len(bad), _plain(bad[0])


def _plain(value):
    """A numpy scalar as the Python value it holds: messages say 1, not np.int64(1)."""
    return value.item() if isinstance(value, np.generic) else value


def read_histories(
    df: pd.DataFrame,
    transitions: TransitionMatrix,
    id_col: str = "id",
    start_col: str = "tstart",
    stop_col: str = "tstop",
    from_col: str = "from",
    to_col: str = "to",
    censor_value: object = "censored",
    keep: list[str] | None = None,
) -> MultiStateData:
    """Check a table in event-history form and return ``MultiStateData``.

    ``keep`` lists covariate columns to carry (default: every other column).
    Intervals of one patient must follow each other without gaps or overlaps;
    a censored interval followed by another of the same patient (a split for
    a time-varying covariate) keeps the state.
    """
    check_dataframe(df)
    names = {
        "id_col": id_col,
        "start_col": start_col,
        "stop_col": stop_col,
        "from_col": from_col,
        "to_col": to_col,
    }
    check_columns(df, {k: [v] for k, v in names.items()})
    used = set(names.values())
    keep = [c for c in df.columns if c not in used] if keep is None else list(keep)
    check_columns(df, {"keep": keep})
    clash = [c for c in keep if c in HISTORY_COLUMNS]
    if clash:
        raise ValueError(
            f"keep: column(s) {clash} would overwrite the history columns {HISTORY_COLUMNS}; "
            "rename them first."
        )
    if df[id_col].isna().any():
        raise ValueError(f"column {id_col!r} has {int(df[id_col].isna().sum())} missing ids.")
    start = check_finite_numeric(df[start_col], start_col)
    stop = check_finite_numeric(df[stop_col], stop_col)
    out = pd.DataFrame(
        {
            "id": df[id_col].to_numpy(),
            "tstart": start,
            "tstop": stop,
            "from": df[from_col].to_numpy(dtype=object),
            "to": df[to_col].to_numpy(dtype=object),
        }
    )
    out["status"] = (out["to"] != censor_value).astype(np.int8)
    for col in keep:
        out[col] = df[col].array  # .array keeps categorical dtypes
    out = out.sort_values(["id", "tstart"], kind="stable").reset_index(drop=True)
    check_histories(out, transitions, censor_value, from_col, to_col)
    return MultiStateData(out, transitions, censor_value, tuple(keep))


def check_histories(
    h: pd.DataFrame,
    transitions: TransitionMatrix,
    censor_value: object,
    from_col: str = "from",
    to_col: str = "to",
) -> None:
    """Every rule a multi-state history must follow (``h`` sorted by id, tstart)."""
    ids = h["id"].to_numpy()
    states = set(transitions.states)
    bad = ~h["from"].isin(states).to_numpy()
    if bad.any():
        n, first = _first_bad(ids, bad)
        raise ValueError(
            f"column {from_col!r}: {n} patient(s) have a state that is not in the transition "
            f"matrix (first: id {first!r}, state {h['from'].to_numpy()[bad][0]!r}); states are "
            f"{list(transitions.states)}."
        )
    moved = h["status"].to_numpy() == 1
    bad = moved & ~h["to"].isin(states).to_numpy()
    if bad.any():
        n, first = _first_bad(ids, bad)
        raise ValueError(
            f"column {to_col!r}: {n} patient(s) enter a state that is not in the transition "
            f"matrix (first: id {first!r}, value {h['to'].to_numpy()[bad][0]!r}); use one of "
            f"{list(transitions.states)} or the censoring value {censor_value!r}."
        )
    start = h["tstart"].to_numpy()
    stop = h["tstop"].to_numpy()
    bad = start >= stop
    if bad.any():
        n, first = _first_bad(ids, bad)
        raise ValueError(
            f"{n} patient(s) have an interval with tstart >= tstop (first: id {first!r}); "
            "time must go forwards within every interval. Fix the times or drop "
            "zero-length intervals."
        )
    final = [s for s in transitions.states if transitions.is_absorbing(s)]
    absorbing = h["from"].isin(final).to_numpy()
    if absorbing.any():
        n, first = _first_bad(ids, absorbing)
        raise ValueError(
            f"{n} patient(s) have follow-up after entering an absorbing state such as death "
            f"(first: id {first!r}, state {h['from'].to_numpy()[absorbing][0]!r}); an event "
            "after death is impossible. Drop those rows or fix the states."
        )
    code = {s: i for i, s in enumerate(transitions.states)}
    n_states = len(code)
    allowed = [code[a] * n_states + code[b] for a, b in transitions.pairs]
    pair = h["from"][moved].map(code).to_numpy() * n_states + h["to"][moved].map(code).to_numpy()
    ok = np.isin(pair, allowed)
    if not ok.all():
        where = np.flatnonzero(moved)[~ok]
        mask = np.zeros(len(h), dtype=bool)
        mask[where] = True
        n, first = _first_bad(ids, mask)
        a, b = _plain(h["from"].to_numpy()[where[0]]), _plain(h["to"].to_numpy()[where[0]])
        raise ValueError(
            f"{n} patient(s) make a transition that the transition matrix does not allow "
            f"(first: id {first!r}, {a!r} -> {b!r}; allowed from {a!r}: "
            f"{transitions.targets(a)}). Add the transition or fix the data."
        )
    same = ids[1:] == ids[:-1]
    backwards = same & (start[1:] < stop[:-1])
    if backwards.any():
        n, first = _first_bad(ids[1:], backwards)
        raise ValueError(
            f"{n} patient(s) have time going backwards: an interval starts before the "
            f"previous one ends (first: id {first!r}). Intervals must not overlap."
        )
    gap = same & (start[1:] > stop[:-1])
    if gap.any():
        n, first = _first_bad(ids[1:], gap)
        raise ValueError(
            f"{n} patient(s) have a gap between intervals (first: id {first!r}); the "
            "state during a gap is unknown. Close the gap or split the patient."
        )
    prev_state = np.where(moved[:-1], h["to"].to_numpy()[:-1], h["from"].to_numpy()[:-1])
    jump = same & (h["from"].to_numpy()[1:] != prev_state)
    if jump.any():
        n, first = _first_bad(ids[1:], jump)
        raise ValueError(
            f"{n} patient(s) start an interval in a state other than the one the previous "
            f"interval ended in (first: id {first!r}); 'from' must follow 'to'."
        )
