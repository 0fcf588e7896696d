"""Event histories from the two common raw layouts: ``from_events`` and ``from_wide``;
the transitions that a table of histories shows: ``transitions_from_histories``.

``from_events`` reads one row per event per patient (time, the state entered,
or the censoring value), the natural log of a follow-up and what
``Cohort.data`` is (one row per patient: the first event). ``from_wide``
reads one time and one status column per state, as ``mstate::msprep``: from
the current state the next state is the allowed target with status 1 and the
smallest time; with none, the patient is censored at the largest time among
the allowed targets (``msprep`` asks for the censoring time there). A status
of 1 that the path never reaches is an error, never ignored.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..data.validation import check_columns, check_dataframe, check_finite_numeric
from .histories import HISTORY_COLUMNS, MultiStateData, check_histories
from .transitions import TransitionMatrix, transition_matrix

__all__ = ["from_events", "from_wide", "transitions_from_histories"]


def _keep_columns(df: pd.DataFrame, keep, used: set) -> list[str]:
    keep = [] if keep is None else list(keep)
    check_columns(df, {"keep": keep})
    clash = [c for c in keep if c in HISTORY_COLUMNS or c in used]
    if clash:
        raise ValueError(
            f"keep: column(s) {clash} are history or input columns; keep only covariates."
        )
    return keep


def from_events(
    df: pd.DataFrame,
    transitions: TransitionMatrix,
    id_col: str,
    time_col: str,
    event_col: str,
    censor_value: object = "censored",
    initial_state: object = None,
    keep: list[str] | None = None,
) -> MultiStateData:
    """Histories from one row per event (or censoring) per patient.

    Every patient starts in ``initial_state`` (default: the first state) at
    time 0. Each row moves the patient to the state in ``event_col`` at
    ``time_col``; a censoring row, if any, must be the patient's last. The
    covariates in ``keep`` are taken from the patient's first row.
    """
    check_dataframe(df)
    check_columns(df, {"id_col": [id_col], "time_col": [time_col], "event_col": [event_col]})
    keep = _keep_columns(df, keep, {id_col, time_col, event_col})
    initial = transitions.states[0] if initial_state is None else initial_state
    if initial not in transitions.states:
        raise ValueError(f"initial_state={initial!r} is not in states {list(transitions.states)}.")
    if df[id_col].isna().any():
        raise ValueError(f"column {id_col!r} has {int(df[id_col].isna().sum())} missing ids.")
    time = check_finite_numeric(df[time_col], time_col)
    frame = pd.DataFrame(
        {"id": df[id_col].to_numpy(), "tstop": time, "to": df[event_col].to_numpy(dtype=object)}
    )
    for col in keep:
        frame[col] = df[col].array  # .array keeps categorical dtypes
    frame = frame.sort_values(["id", "tstop"], kind="stable").reset_index(drop=True)
    ids = frame["id"].to_numpy()
    first = np.ones(len(frame), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    last = np.ones(len(frame), dtype=bool)
    last[:-1] = ids[1:] != ids[:-1]
    censored = (frame["to"] == censor_value).to_numpy()
    early = censored & ~last
    if early.any():
        bad = np.unique(ids[early])
        raise ValueError(
            f"{len(bad)} patient(s) have an event after being censored (first: id "
            f"{bad[0]!r}); a censoring row must be a patient's last."
        )
    stop = frame["tstop"].to_numpy()
    start = np.zeros(len(frame))
    start[~first] = stop[np.flatnonzero(~first) - 1]
    origin = np.empty(len(frame), dtype=object)
    origin[first] = initial
    origin[~first] = frame["to"].to_numpy()[np.flatnonzero(~first) - 1]
    frame.insert(1, "tstart", start)
    frame.insert(3, "from", origin)
    frame["status"] = (~censored).astype(np.int8)
    frame = frame[[*HISTORY_COLUMNS, *keep]]
    source = np.flatnonzero(first)[np.cumsum(first) - 1]  # the patient's first row
    for col in keep:  # column by column, so numeric and categorical dtypes survive
        frame[col] = frame[col].take(source).array
    check_histories(frame, transitions, censor_value, "from", event_col)
    return MultiStateData(frame, transitions, censor_value, tuple(keep))


def from_wide(
    df: pd.DataFrame,
    transitions: TransitionMatrix,
    time_cols: Mapping[object, str],
    status_cols: Mapping[object, str],
    id_col: str | None = None,
    keep: list[str] | None = None,
    censor_value: object = "censored",
) -> MultiStateData:
    """Histories from one time and one status column per state (``mstate::msprep``).

    ``time_cols`` / ``status_cols`` map each state that can be entered to its
    columns (status 1 = entered at that time, 0 = not entered, followed until
    that time). Every patient starts in the first state at time 0. ``id_col``
    defaults to the row position (0, 1, ...).
    """
    check_dataframe(df)
    targets = [s for s in transitions.states if any(b == s for _, b in transitions.pairs)]
    missing = [s for s in targets if s not in time_cols or s not in status_cols]
    if missing:
        raise ValueError(
            f"time_cols/status_cols: no columns for state(s) {missing}, which transitions "
            "enter; give a time and a status column for each."
        )
    check_columns(
        df,
        {
            "time_cols": [time_cols[s] for s in targets],
            "status_cols": [status_cols[s] for s in targets],
            "id_col": [id_col] if id_col is not None else [],
        },
    )
    used = {time_cols[s] for s in targets} | {status_cols[s] for s in targets}
    keep = _keep_columns(df, keep, used | ({id_col} if id_col else set()))
    n = len(df)
    times = np.column_stack([check_finite_numeric(df[time_cols[s]], time_cols[s]) for s in targets])
    status = np.column_stack(
        [check_finite_numeric(df[status_cols[s]], status_cols[s]) for s in targets]
    )
    bad = ~np.isin(status, (0.0, 1.0))
    if bad.any():
        j = int(np.flatnonzero(bad.any(axis=0))[0])
        raise ValueError(
            f"status column {status_cols[targets[j]]!r} has {int(bad[:, j].sum())} value(s) "
            "other than 0 and 1; code entered as 1 and not entered as 0."
        )
    ids = np.arange(n) if id_col is None else df[id_col].to_numpy()
    col_of = {s: j for j, s in enumerate(targets)}
    current = np.full(n, transitions.states[0], dtype=object)
    now = np.zeros(n)
    active = np.ones(n, dtype=bool)
    visited = np.zeros(times.shape, dtype=bool)
    pieces = []
    for _ in range(len(transitions.states)):
        if not active.any():
            break
        next_time = np.full(n, np.inf)
        next_state = np.full(n, None, dtype=object)
        censor_time = np.full(n, -np.inf)
        for origin in transitions.states:
            here = active & (current == origin)
            if not here.any():
                continue
            for target in transitions.targets(origin):
                j = col_of[target]
                entered = here & (status[:, j] == 1)
                backwards = entered & (times[:, j] <= now)
                if backwards.any():
                    raise ValueError(
                        f"{int(backwards.sum())} patient(s) enter {target!r} at or before the "
                        f"time they entered {origin!r} (first: id {ids[backwards][0]!r}); time "
                        "must go forwards along a path. Fix the times."
                    )
                sooner = entered & (times[:, j] < next_time)
                next_time[sooner] = times[sooner, j]
                next_state[sooner] = target
                censor_time[here] = np.maximum(censor_time[here], times[here, j])
        moves = active & (next_state != None)  # noqa: E711 (element-wise)
        stop = np.where(moves, next_time, censor_time)
        short = active & (stop <= now)
        if short.any():
            raise ValueError(
                f"{int(short.sum())} patient(s) are censored at or before the time they "
                f"entered their current state (first: id {ids[short][0]!r}); the follow-up "
                "time must be later than every entry time."
            )
        rows = np.flatnonzero(active)
        pieces.append(
            pd.DataFrame(
                {
                    "row": rows,
                    "tstart": now[rows],
                    "tstop": stop[rows],
                    "from": current[rows],
                    "to": np.where(moves[rows], next_state[rows], censor_value),
                    "status": moves[rows].astype(np.int8),
                }
            )
        )
        for s, j in col_of.items():
            visited[moves & (next_state == s), j] = True
        now = np.where(moves, next_time, now)
        current = np.where(moves, next_state, current)
        final = [s for s in transitions.states if transitions.is_absorbing(s)]
        absorbed = moves & np.isin(current, final)
        active = moves & ~absorbed
    unreached = (status == 1) & ~visited
    if unreached.any():
        i = int(np.flatnonzero(unreached.any(axis=1))[0])
        j = int(np.flatnonzero(unreached[i])[0])
        n_bad = int(unreached.any(axis=1).sum())
        after_absorbing = transitions.is_absorbing(current[i]) and times[i, j] > now[i]
        what = (
            f"an event after the absorbing state {current[i]!r} (entered at {now[i]:g}, "
            f"{targets[j]!r} at {times[i, j]:g})"
            if after_absorbing
            else f"status 1 for {targets[j]!r}, which their path cannot reach: the transition "
            f"into {targets[j]!r} from the states they were in is not allowed"
        )
        raise ValueError(
            f"{n_bad} patient(s) have {what} (first: id {ids[i]!r}). Fix the data or add "
            "the transition to the transition matrix."
        )
    h = pd.concat(pieces, ignore_index=True)
    h.insert(0, "id", ids[h["row"].to_numpy()])
    for col in keep:
        h[col] = df[col].take(h["row"].to_numpy()).array
    h = h.drop(columns="row").sort_values(["id", "tstart"], kind="stable").reset_index(drop=True)
    check_histories(h, transitions, censor_value)
    return MultiStateData(h, transitions, censor_value, tuple(keep))


def transitions_from_histories(
    df: pd.DataFrame,
    from_col: str = "from",
    to_col: str = "to",
    censor_value: object = "censored",
    states: list | None = None,
    absorbing: list | None = None,
) -> TransitionMatrix:
    """The transitions observed in a table in event-history form (as R's ``survcheck``).

    Every (from, to) pair on a row whose ``to`` is not ``censor_value`` is
    allowed. ``states`` fixes their order (the first is where patients
    start); by default states come in the order the transitions allow (each
    origin before its targets), ties by first appearance in the table.
    ``absorbing`` names states nobody may leave (death): a row that leaves
    one, or is at risk in one, is an error instead of a new transition.
    """
    check_dataframe(df)
    check_columns(df, {"from_col": [from_col], "to_col": [to_col]})
    for col in (from_col, to_col):
        missing = int(df[col].isna().sum())
        if missing:
            raise ValueError(
                f"column {col!r} ({'from' if col == from_col else 'to'}_col) has {missing} "
                "missing value(s); every interval needs its state and what ended it."
            )
    origin = df[from_col].to_numpy(dtype=object)
    target = df[to_col].to_numpy(dtype=object)
    moved = target != censor_value
    if censor_value is not None and not (~moved).any():
        shown = ", ".join(repr(v) for v in pd.unique(target)[:8])
        raise ValueError(
            f"censor_value={censor_value!r} does not occur in column {to_col!r} (values: "
            f"{shown}); give the code that marks a censored interval, or censor_value=None "
            "if no interval is censored."
        )
    for state in absorbing or []:
        leaving = origin == state
        if leaving.any():
            raise ValueError(
                f"absorbing: {int(leaving.sum())} row(s) start in absorbing state {state!r} "
                f"(first: row {int(np.flatnonzero(leaving)[0])}); nobody leaves it. Remove "
                "those rows or fix the states."
            )
    pairs = list(dict.fromkeys(zip(origin[moved], target[moved], strict=True)))
    if not pairs:
        raise ValueError(
            f"column {to_col!r} shows no transition: all {len(df)} rows are censored "
            f"(censor_value={censor_value!r})."
        )
    seen = list(dict.fromkeys([*origin, *target[moved]]))
    if states is None:
        states = _forward_order(seen, pairs)
    else:
        states = list(states)
        absent = [s for s in seen if s not in states]
        if absent:
            raise ValueError(
                f"states: {len(absent)} state(s) of the data are not listed: {absent}; "
                f"list every state (the data have {', '.join(map(str, seen))})."
            )
    allowed: dict = {}
    for a, b in pairs:
        allowed.setdefault(a, []).append(b)
    return transition_matrix(states, allowed)


def _forward_order(seen: list, pairs: list) -> list:
    """States with every origin before its targets where possible (Kahn's order, ties by
    first appearance); states on a cycle keep their order of appearance."""
    remaining = list(seen)
    done = []
    while remaining:
        ready = [s for s in remaining if not any(b == s and a in remaining for a, b in pairs)]
        pick = ready[0] if ready else remaining[0]
        done.append(pick)
        remaining.remove(pick)
    return done
