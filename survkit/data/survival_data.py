"""Read a DataFrame into validated arrays for the survival models.

One function reads the time, event, entry, strata, weight, cluster and offset
columns and the covariates for every model, so they all apply the same rules
(see ``validation``). The caller's DataFrame is never modified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from .columns_first import first_constant_column
from .design import Design, build_design
from .validation import (
    EventCoding,
    array_matrix,
    as_column_list,
    check_columns,
    check_dataframe,
    check_finite_numeric,
    check_times,
    check_weights,
    encode_events,
)

__all__ = [
    "SurvivalData",
    "check_design",
    "group_codes",
    "read_survival_data",
    "row_strata_labels",
    "strata_codes",
]


@dataclass
class SurvivalData:
    X: np.ndarray  # (n, p); (p, n) when read with columns_first
    design: Design
    stop: np.ndarray
    start: np.ndarray | None
    status: np.ndarray
    events: EventCoding
    strata_codes: np.ndarray | None
    strata_labels: list[str]
    strata_cols: list[str]
    weights: np.ndarray | None
    cluster: np.ndarray | None
    offset: np.ndarray | None
    duration_col: str
    event_col: str
    entry_col: str | None
    offset_col: str | None
    order: np.ndarray | None = None  # caller's row of each row here, when sorted
    index: pd.Index | None = None  # the caller's row labels (positions follow ``order``)


def group_codes(df: pd.DataFrame, col: str | None, what: str) -> tuple[np.ndarray, list]:
    """Integer codes 0..G-1 of a grouping column (sorted levels) and the levels.

    ``what`` names the argument in the error for missing values ("group", ...).
    Without a column, every row is in one group labelled None.
    """
    if col is None:
        return np.zeros(len(df), dtype=np.int64), [None]
    n_missing = int(df[col].isna().sum())
    if n_missing:
        raise ValueError(
            f"{what} column {col!r} has {n_missing} missing value(s); give them a level of "
            "their own or drop those rows."
        )
    codes, uniques = pd.factorize(df[col], sort=True)
    return codes.astype(np.int64), [u.item() if hasattr(u, "item") else u for u in uniques]


def strata_codes(df: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, list[str]]:
    """Integer codes 0..S-1 for the combinations of ``cols`` (sorted), and R-style labels."""
    for col in cols:
        n_missing = int(df[col].isna().sum())
        if n_missing:
            raise ValueError(
                f"strata column {col!r} has {n_missing} missing value(s); give them a level "
                "of their own or drop those rows."
            )
    grouped = df.groupby(cols, sort=True, observed=True)
    codes = grouped.ngroup().to_numpy().astype(np.int64)
    keys = list(grouped.groups.keys())
    labels = []
    for key in keys:
        values = key if isinstance(key, tuple) else (key,)
        labels.append(", ".join(f"{c}={_plain(v)}" for c, v in zip(cols, values, strict=True)))
    return codes, labels


def row_strata_labels(df: pd.DataFrame, cols: list[str]) -> list[str]:
    """The R-style label ("sex=1, ecog=0") of each row's stratum, as ``strata_codes``."""
    parts = [[f"{c}={_plain(v)}" for v in df[c].tolist()] for c in cols]
    return [", ".join(items) for items in zip(*parts, strict=True)]


def _plain(value: object) -> object:
    if isinstance(value, (np.floating, float)) and float(value).is_integer():
        return int(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


@njit(cache=True)
def _first_constant_column(X):
    """The first column of the row-major ``X`` whose values are all equal, or -1;
    rows are read only until every column has differed from the first row."""
    n, p = X.shape
    varies = np.zeros(p, dtype=np.bool_)
    left = p
    for i in range(1, n):
        for j in range(p):
            if not varies[j] and X[i, j] != X[0, j]:
                varies[j] = True
                left -= 1
        if left == 0:
            return -1
    for j in range(p):
        if not varies[j]:
            return j
    return -1


def check_design(X: np.ndarray, names: list[str], columns_first: bool = False) -> None:
    """Refuse constant covariates, naming them (collinearity is checked on the
    information matrix by the engine, see ``validation.check_identifiable``).
    ``columns_first``: ``X`` is (p, n)."""
    p, n = X.shape if columns_first else X.shape[::-1]
    if p == 0:
        return
    j = first_constant_column(X) if columns_first else _first_constant_column(X)
    if j >= 0:
        value = X[j, 0] if columns_first else X[0, j]
        raise ValueError(
            f"covariate {names[j]!r} is constant (all {n} rows equal {value:g}); it "
            "has no effect to estimate. Remove it from the formula."
        )


def sort_order(stop: np.ndarray, strata: np.ndarray | None) -> np.ndarray:
    """The engine's row order: stratum ascending, then stop time descending.

    Only the grouping of tied times matters to the engine, not the order
    within a tie, so the faster unstable sort is used when there are no strata
    (it is deterministic: the same data always give the same order).
    """
    if strata is None or not strata.any():
        return np.argsort(-stop)
    return np.lexsort((-stop, strata))


def read_survival_data(
    df: pd.DataFrame,
    *,
    duration_col: str,
    event_col: str,
    formula,
    entry_col: str | None = None,
    strata=None,
    weights_col: str | None = None,
    cluster_col: str | None = None,
    offset_col: str | None = None,
    cause: object = None,
    censor_value: object = 0,
    require_covariates: bool = True,
    sort_rows: bool = False,
    columns_first: bool = False,
    covariate_values: np.ndarray | None = None,
) -> SurvivalData:
    """Validate and read the columns a survival model uses.

    With ``sort_rows`` every array comes back in the engine's risk-set order
    (stratum, then stop time descending) and ``order`` maps back to the caller's
    rows; the design matrix is then built directly in that order, so it exists
    only once in memory. With ``columns_first`` ``X`` is (p, n), one covariate
    per row (``CoxNet``'s coordinate descent reads it that way).
    ``covariate_values``: the covariates ``formula`` names (a list), already one
    float array (n, p) row for row with ``df`` (the scikit-learn form's ``X``,
    from which ``df`` was built): the design is read from it, without pandas
    copying the columns out of ``df`` first.
    """
    check_dataframe(df)
    strata_cols = as_column_list(strata)
    check_columns(
        df,
        {
            "duration_col": [duration_col],
            "event_col": [event_col],
            "entry_col": as_column_list(entry_col),
            "strata": strata_cols,
            "weights_col": as_column_list(weights_col),
            "cluster_col": as_column_list(cluster_col),
            "offset_col": as_column_list(offset_col),
        },
    )
    if isinstance(cause, (bool, np.bool_)):
        raise ValueError(
            f"cause={cause!r} is not an event code; pass the code of the event of interest "
            "(e.g. cause=1 or cause='bone'), or cause=None when the event column is a 0/1 "
            "indicator."
        )
    stop = check_finite_numeric(df[duration_col], duration_col)
    start = None if entry_col is None else check_finite_numeric(df[entry_col], entry_col)
    check_times(stop, duration_col, start, entry_col)
    events = encode_events(df[event_col], event_col, cause=cause, censor_value=censor_value)
    if not events.status.any():
        raise ValueError(
            f"event column {event_col!r} has no events (all {len(df)} rows censored); "
            "a Cox model needs at least one event."
        )
    weights = None
    if weights_col is not None:
        weights = check_finite_numeric(df[weights_col], weights_col)
        check_weights(weights, weights_col)
    offset = None if offset_col is None else check_finite_numeric(df[offset_col], offset_col)
    cluster = None
    if cluster_col is not None:
        n_missing = int(df[cluster_col].isna().sum())
        if n_missing:
            raise ValueError(
                f"cluster column {cluster_col!r} has {n_missing} missing value(s); every row "
                "needs a cluster id."
            )
        cluster = pd.factorize(df[cluster_col], sort=True)[0].astype(np.int64)
    codes, labels = (None, []) if not strata_cols else strata_codes(df, strata_cols)
    order = None
    if sort_rows:
        order = sort_order(stop, codes)
        events = EventCoding(
            events.status[order],
            events.censored[order],
            events.cause,
            events.labels,
            events.cause_index[order],
        )
        stop = stop[order]
        start, weights, offset, cluster, codes = (
            None if a is None else a[order] for a in (start, weights, offset, cluster, codes)
        )
    if formula is None and not require_covariates:
        design = Design(names=[], columns=[])
        X = np.zeros((0, len(df)) if columns_first else (len(df), 0))
    elif covariate_values is not None:
        if formula is None or isinstance(formula, str):
            raise ValueError("covariate_values needs formula as the list of its column names.")
        columns = list(formula)
        design = Design(names=[str(c) for c in columns], columns=columns)
        X = array_matrix(covariate_values, design.names, order, columns_first)
        check_design(X, design.names, columns_first)
    else:
        design, X = build_design(df, formula, rows=order, columns_first=columns_first)
        check_design(X, design.names, columns_first)
    return SurvivalData(
        X=X,
        design=design,
        stop=stop,
        start=start,
        status=events.status,
        events=events,
        strata_codes=codes,
        strata_labels=labels,
        strata_cols=strata_cols,
        weights=weights,
        cluster=cluster,
        offset=offset,
        duration_col=duration_col,
        event_col=event_col,
        entry_col=entry_col,
        offset_col=offset_col,
        order=order,
        index=df.index,
    )
