"""Reading competing-risks data for the estimators without covariates.

Aalen-Johansen incidence and Gray's test need times, event types and group
labels; they share the validation rules of every other model (``validation``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .survival_data import group_codes
from .validation import (
    check_columns,
    check_dataframe,
    check_finite_numeric,
    check_times,
    encode_events,
)

__all__ = ["CompetingData", "read_competing_data"]


@dataclass
class CompetingData:
    """Rows sorted by stratum, (group,) time ascending: see ``read_competing_data``."""

    time: np.ndarray
    cause_index: np.ndarray  # 0 censored, k for labels[k - 1]
    labels: tuple
    group: np.ndarray  # codes 0..G-1
    group_labels: list
    stratum: np.ndarray  # codes 0..S-1
    order: np.ndarray  # caller's row of each sorted row


def read_competing_data(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    censor_value: object = 0,
    group_col: str | None = None,
    strata_col: str | None = None,
    group_within_stratum: bool = True,
) -> CompetingData:
    """Validate and sort. Rows come sorted by stratum, then (when
    ``group_within_stratum``) group, then time: one group's curve is then a
    contiguous block (Aalen-Johansen); Gray's test wants all groups of a
    stratum interleaved in time order instead."""
    check_dataframe(df)
    check_columns(
        df,
        {
            "duration_col": [duration_col],
            "event_col": [event_col],
            "group_col": [group_col] if group_col is not None else [],
            "strata_col": [strata_col] if strata_col is not None else [],
        },
    )
    time = check_finite_numeric(df[duration_col], duration_col)
    check_times(time, duration_col)
    events = encode_events(df[event_col], event_col, cause=True, censor_value=censor_value)
    group, group_labels = group_codes(df, group_col, "group")
    stratum, _ = group_codes(df, strata_col, "strata")
    keys = [time] + [
        k for k in ((group if group_within_stratum else None), stratum) if k is not None and k.any()
    ]
    # the estimators only count within tied times, so the faster unstable sort
    # is fine (and deterministic for given data)
    order = np.argsort(time) if len(keys) == 1 else np.lexsort(tuple(keys))
    return CompetingData(
        time=time[order],
        cause_index=events.cause_index[order],
        labels=events.labels,
        group=group[order] if group.any() else group,
        group_labels=group_labels,
        stratum=stratum[order] if stratum.any() else stratum,
        order=order,
    )
