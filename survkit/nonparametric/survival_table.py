"""The risk table behind Kaplan-Meier and Nelson-Aalen: one row per (group, distinct time).

``read_survival_table`` validates the columns (the shared ``validation``
rules) and aggregates: n_risk, n_event and n_censor are weighted sums, as R's
``survfit``. Two routes give the same table:

- counting (default): the stop times are hashed and each row is added to its
  (group, time) cell in one pass (``time_counts``); n_risk is a reverse
  cumulative sum. No sort of the rows.
- sorted rows: with entry times (counting-process data, (entry, stop] rows;
  the risk set at t is the rows with entry < t <= stop) or non-integer
  weights, the rows are sorted by (group, stop) and kept, because the
  infinitesimal-jackknife variance (``jackknife_variance``) and the risk sets
  at arbitrary times need them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from ..data.survival_data import group_codes
from ..data.validation import (
    check_columns,
    check_dataframe,
    check_finite_numeric,
    check_times,
    check_weights,
    encode_events,
)
from .time_counts import count_by_time

__all__ = ["GroupTable", "SurvivalTable", "read_survival_table"]


@dataclass
class GroupTable:
    """One group's distinct stop times and counts, plus its rows (sorted by stop)."""

    label: object
    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    n_event_rows: np.ndarray  # unweighted count of event rows per time
    # the rows sorted by stop time; None unless kept (see read_survival_table)
    row_time: np.ndarray | None
    row_entry: np.ndarray | None
    row_event: np.ndarray | None  # 0/1
    row_weight: np.ndarray | None
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
    keep_rows: bool | None = None,
) -> SurvivalTable:
    """Validate and aggregate. Every non-censoring event code is an event.

    ``keep_rows`` keeps each group's rows sorted by stop time (the
    jackknife variance and delayed entry need them); by default only when
    there are entry times or non-integer weights. Without them the table is
    built by hashing the stop times and counting (O(n), no sort of the rows).
    """
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
    event = event_indicator(df[event_col], event_col, censor_value)
    if weights_col is not None:
        weight = check_finite_numeric(df[weights_col], weights_col)
        check_weights(weight, weights_col)
    else:
        weight = None
    integer_weights = weight is None or bool(np.all(weight == np.floor(weight)))
    if keep_rows is None:
        keep_rows = entry is not None or not integer_weights
    if keep_rows:
        group, labels = fast_group_codes(df, group_col)
        w = np.ones(len(df)) if weight is None else weight
        tables = _sorted_tables(stop, entry, event.astype(np.float64), w, group, labels)
    else:
        tables = _hashed_tables(stop, event, weight, *group_slots(df, group_col))
    return SurvivalTable(
        groups=tables,
        has_group=group_col is not None,
        integer_weights=integer_weights,
        weighted=weights_col is not None,
    )


def event_indicator(events: pd.Series, column: str, censor_value: object) -> np.ndarray:
    """1 where a row has an event (any non-censoring code), else 0.

    A 0/1 column with ``censor_value=0`` is read as an indicator, so data
    without censoring (all 1) is accepted; any other coding goes through the
    shared rules of ``encode_events``.
    """
    if censor_value is not None and not isinstance(censor_value, str) and censor_value == 0:
        if pd.api.types.is_integer_dtype(events.dtype):
            v = events.to_numpy()
            if _is_indicator(v):  # a 0/1 column: used as it is, no copy
                return v
        elif pd.api.types.is_numeric_dtype(events.dtype) or pd.api.types.is_bool_dtype(
            events.dtype
        ):
            v = events.to_numpy()
            if ((v == 0) | (v == 1)).all():  # a 0/1 indicator (NaN fails this test)
                return (v == 1).astype(np.int8)
        values = pd.unique(events)
        if pd.Series(values).isin([0, 1]).all() and not events.isna().any():
            return encode_events(events, column).status
    coding = encode_events(events, column, cause=True, censor_value=censor_value)
    return (coding.cause_index > 0).astype(np.int8)


@njit(cache=True)
def _is_indicator(v):
    for x in v:
        if x != 0 and x != 1:
            return False
    return True


@njit(cache=True)
def _int_range(v):
    lo = v[0]
    hi = v[0]
    for x in v:
        if x < lo:
            lo = x
        elif x > hi:
            hi = x
    return lo, hi


def group_slots(df: pd.DataFrame, col: str | None):
    """(values, offset, n_slots, labels_of_slot) for counting groups in one pass.

    Integer columns in a small range are used directly (slot = value -
    offset; empty slots are dropped after counting); other columns get the
    codes of ``group_codes``.
    """
    if col is not None and pd.api.types.is_integer_dtype(df[col].dtype):
        v = df[col].to_numpy().astype(np.int64, copy=False)
        lo, hi = _int_range(v)
        if hi - lo < 1_000_000:
            return v, int(lo), int(hi - lo + 1), [int(x) for x in range(lo, hi + 1)]
    codes, labels = group_codes(df, col, "group")
    return codes, 0, len(labels), labels


def fast_group_codes(df: pd.DataFrame, col: str | None) -> tuple[np.ndarray, list]:
    """``group_codes`` (codes of the sorted levels), counting instead of hashing
    when the column holds integers in a small range (the usual arm/sex codes)."""
    if col is not None and pd.api.types.is_integer_dtype(df[col].dtype):
        v = df[col].to_numpy()
        lo, hi = int(v.min()), int(v.max())
        if hi - lo < 1_000_000:
            present = np.bincount(v - lo, minlength=hi - lo + 1) > 0
            remap = np.cumsum(present) - 1
            return remap[v - lo].astype(np.int64), [int(x) for x in np.flatnonzero(present) + lo]
    return group_codes(df, col, "group")


def _sorted_tables(stop, entry, event, weight, group, labels) -> list[GroupTable]:
    # the counts only aggregate within tied times, so the faster unstable sort
    # is fine; a stable sort by group afterwards keeps each group time-ordered
    order = np.argsort(stop)
    if len(labels) > 1:
        order = order[np.argsort(group[order], kind="stable")]
    t, g, e, w = stop[order], group[order], event[order], weight[order]
    bounds = np.searchsorted(g, np.arange(len(labels) + 1)) if len(labels) > 1 else [0, len(t)]
    tables = []
    for k, label in enumerate(labels):
        lo, hi = bounds[k], bounds[k + 1]
        ent = None if entry is None else entry[order[lo:hi]]
        tables.append(_group_table(label, t[lo:hi], ent, e[lo:hi], w[lo:hi]))
    return tables


def _hashed_tables(stop, event, weight, group, offset, n_slots, slot_labels) -> list[GroupTable]:
    """Counts per (group, distinct time) in one hashing pass (``time_counts``)."""
    times, n_rows, event_rows, n_event, n_all = count_by_time(
        stop, group, offset, n_slots, event, weight
    )
    used = n_rows.sum(axis=1) > 0
    labels = [slot_labels[k] for k in np.flatnonzero(used)]
    tables = []
    for k, label in zip(np.flatnonzero(used), labels, strict=True):
        present = n_rows[k] > 0
        d = n_event[k][present]
        leaving = n_all[k][present]
        tables.append(
            GroupTable(
                label=label,
                time=times[present],
                n_risk=np.cumsum(leaving[::-1])[::-1],
                n_event=d,
                n_censor=leaving - d,
                n_event_rows=event_rows[k][present],
                row_time=None,
                row_entry=None,
                row_event=None,
                row_weight=None,
                n_rows=int(n_rows[k].sum()),
            )
        )
    return tables


def _group_table(label, t, entry, e, w) -> GroupTable:
    first = np.flatnonzero(np.concatenate(([True], t[1:] != t[:-1])))
    time = t[first]
    we = w * e
    n_event = np.add.reduceat(we, first)
    n_censor = np.add.reduceat(w - we, first)
    n_event_rows = np.add.reduceat(e, first)
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
        n_event_rows=n_event_rows,
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
