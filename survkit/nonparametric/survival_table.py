"""The risk table behind Kaplan-Meier and Nelson-Aalen: one row per (group, distinct time).

``read_survival_table`` validates the columns (the shared ``validation``
rules), sorts once by (group, stop time) and aggregates with ``reduceat``:
n_risk, n_event and n_censor are weighted sums, as R's ``survfit``. With
entry times (counting-process data, (entry, stop] rows) the risk set at t is
the rows with entry < t <= stop, so rows enter the table as they enter
follow-up. The table keeps each row's time, entry, status and weight in
sorted order because the infinitesimal-jackknife variance (non-integer
weights) needs them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.survival_data import group_codes
from ..data.validation import (
    check_columns,
    check_dataframe,
    check_finite_numeric,
    check_times,
    check_weights,
    encode_events,
)

__all__ = ["GroupTable", "SurvivalTable", "read_survival_table"]


@dataclass
class GroupTable:
    """One group's distinct stop times and counts, plus its rows (sorted by stop)."""

    label: object
    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    row_time: np.ndarray
    row_entry: np.ndarray | None
    row_event: np.ndarray  # 0/1
    row_weight: np.ndarray
    n_rows: int


@dataclass
class SurvivalTable:
    groups: list[GroupTable]
    has_group: bool
    integer_weights: bool  # R's survfit switches to the robust variance otherwise
    weighted: bool


def read_survival_table(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str | None = None,
    entry_col: str | None = None,
    weights_col: str | None = None,
    censor_value: object = 0,
) -> SurvivalTable:
    """Validate, sort and aggregate. Every non-censoring event code is an event."""
    check_dataframe(df)
    check_columns(
        df,
        {
            "duration_col": [duration_col],
            "event_col": [event_col],
            "group_col": [group_col] if group_col is not None else [],
            "entry_col": [entry_col] if entry_col is not None else [],
            "weights_col": [weights_col] if weights_col is not None else [],
        },
    )
    if len(df) == 0:
        raise ValueError("df has 0 rows; there is nothing to estimate.")
    stop = check_finite_numeric(df[duration_col], duration_col)
    entry = None
    if entry_col is not None:
        entry = check_finite_numeric(df[entry_col], entry_col)
    check_times(stop, duration_col, entry, entry_col)
    event = event_indicator(df[event_col], event_col, censor_value).astype(np.float64)
    if weights_col is not None:
        weight = check_finite_numeric(df[weights_col], weights_col)
        check_weights(weight, weights_col)
    else:
        weight = np.ones(len(df))
    group, labels = group_codes(df, group_col, "group")

    # the counts only aggregate within tied times, so the faster unstable sort
    # is fine; a stable sort by group afterwards keeps each group time-ordered
    order = np.argsort(stop)
    if len(labels) > 1:
        order = order[np.argsort(group[order], kind="stable")]
    t = stop[order]
    g = group[order]
    e = event[order]
    w = weight[order]
    bounds = np.searchsorted(g, np.arange(len(labels) + 1)) if len(labels) > 1 else [0, len(t)]
    tables = []
    for k, label in enumerate(labels):
        lo, hi = bounds[k], bounds[k + 1]
        tables.append(
            _group_table(
                label,
                t[lo:hi],
                None if entry is None else entry[order[lo:hi]],
                e[lo:hi],
                w[lo:hi],
            )
        )
    return SurvivalTable(
        groups=tables,
        has_group=group_col is not None,
        integer_weights=bool(np.all(weight == np.floor(weight))),
        weighted=weights_col is not None,
    )


def event_indicator(events: pd.Series, column: str, censor_value: object) -> np.ndarray:
    """1 where a row has an event (any non-censoring code), else 0.

    A 0/1 column with ``censor_value=0`` is read as an indicator, so data
    without censoring (all 1) is accepted; any other coding goes through the
    shared rules of ``encode_events``.
    """
    if censor_value is not None and not isinstance(censor_value, str) and censor_value == 0:
        values = pd.unique(events)
        if pd.Series(values).isin([0, 1]).all() and not events.isna().any():
            return encode_events(events, column).status
    coding = encode_events(events, column, cause=True, censor_value=censor_value)
    return (coding.cause_index > 0).astype(np.int8)


def _group_table(label, t, entry, e, w) -> GroupTable:
    first = np.flatnonzero(np.concatenate(([True], t[1:] != t[:-1])))
    time = t[first]
    we = w * e
    n_event = np.add.reduceat(we, first)
    n_censor = np.add.reduceat(w - we, first)
    # weight of rows with stop >= u: a reverse cumulative sum over the distinct times
    leaving = n_event + n_censor
    n_risk = np.cumsum(leaving[::-1])[::-1]
    if entry is not None:
        # minus the rows that have not entered yet (entry >= u)
        eo = np.argsort(entry)
        es = entry[eo]
        cum = np.concatenate(([0.0], np.cumsum(w[eo])))
        n_risk = n_risk - (cum[-1] - cum[np.searchsorted(es, time, side="left")])
    return GroupTable(
        label=label,
        time=time,
        n_risk=n_risk,
        n_event=n_event,
        n_censor=n_censor,
        row_time=t,
        row_entry=entry,
        row_event=e,
        row_weight=w,
        n_rows=int(t.shape[0]),
    )


def jackknife_variance(gt: GroupTable, increment: np.ndarray, event_term: np.ndarray) -> np.ndarray:
    """Sum over rows of (w_i * influence_i(t))^2 at each distinct time t.

    The influence of row i on a cumulative sum of ``increment`` (per distinct
    time) over its risk interval, minus ``event_term`` at its own event time,
    is A(min(t, T_i)) - A(E_i) - delta_i event_term(T_i) 1{T_i <= t}, with A
    the cumulative ``increment``. Rows that ended by t contribute a constant;
    rows still at risk contribute (A(t) - A(E_i))^2, expanded so that the
    three sums over rows are cumulative sums: O(n) after the sort.
    """
    time = gt.time
    A = np.cumsum(increment)
    # index of each row's distinct stop time
    first = np.concatenate(([True], gt.row_time[1:] != gt.row_time[:-1]))
    row_k = np.cumsum(first) - 1
    w2 = gt.row_weight**2
    if gt.row_entry is None:
        a_entry = np.zeros_like(w2)
    else:
        idx = np.searchsorted(time, gt.row_entry, side="right") - 1
        a_entry = np.where(idx >= 0, A[np.clip(idx, 0, None)], 0.0)
    c = A[row_k] - a_entry - gt.row_event * event_term[row_k]
    starts = np.flatnonzero(first)
    ended = np.cumsum(np.add.reduceat(w2 * c * c, starts))

    def at_risk_sum(values):
        # sum over rows with entry < t, minus those with stop <= t
        done = np.cumsum(np.add.reduceat(values, starts))
        if gt.row_entry is None:
            return values.sum() - done
        eo = np.argsort(gt.row_entry)
        cum = np.concatenate(([0.0], np.cumsum(values[eo])))
        return cum[np.searchsorted(gt.row_entry[eo], time, side="left")] - done

    s0 = at_risk_sum(w2)
    s1 = at_risk_sum(w2 * a_entry)
    s2 = at_risk_sum(w2 * a_entry * a_entry)
    return ended + A * A * s0 - 2.0 * A * s1 + s2
