"""The outcome ``y`` of scikit-learn's ``fit(X, y)``: ``survkit.outcome`` and its reader.

``y`` is a NumPy structured array with fields ``event`` and ``time`` -- the layout
of scikit-survival's ``Surv.from_arrays`` -- where ``event`` is boolean (event /
censored) or holds event codes (integers or strings, ``censor_value`` meaning
censored) for competing risks. A two-column DataFrame (event, time) is accepted
too. Everything here only reads and validates; nothing is recoded silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .validation import EventCoding, check_finite_numeric, check_times, encode_events

__all__ = ["Outcome", "is_outcome_like", "outcome", "read_outcome"]


def outcome(
    df: pd.DataFrame | None = None,
    duration_col: str = "time",
    event_col: str = "status",
    *,
    time=None,
    event=None,
) -> np.ndarray:
    """Build ``y`` for ``fit(X, y)``: a structured array with fields ``event`` and ``time``.

    Either from a DataFrame's columns (``outcome(df, "time", "status")``) or from
    arrays (``outcome(time=t, event=e)``). Boolean or 0/1 events stay boolean
    (as ``sksurv.util.Surv.from_arrays``, so scikit-survival's metrics accept
    it); other integer codes and string codes (organ names) are kept as they
    are, for competing-risk models.
    """
    if df is not None:
        if time is not None or event is not None:
            raise ValueError("pass either df (with column names) or time= and event=, not both.")
        for arg, col in (("duration_col", duration_col), ("event_col", event_col)):
            if col not in df.columns:
                raise ValueError(f"{arg}={col!r} is not a column of df; pass an existing column.")
        time, event = df[duration_col].to_numpy(), df[event_col].to_numpy()
    if time is None or event is None:
        raise ValueError("outcome needs df and column names, or both time= and event=.")
    t = check_finite_numeric(np.asarray(time).ravel(), "time")
    check_times(t, "time")
    e = np.asarray(event).ravel()
    if e.shape[0] != t.shape[0]:
        raise ValueError(
            f"event has {e.shape[0]} values but time has {t.shape[0]}; pass one event per time."
        )
    if pd.isna(pd.Series(e)).any():
        n_missing = int(pd.isna(pd.Series(e)).sum())
        raise ValueError(
            f"event has {n_missing} missing value(s); code censoring explicitly (e.g. 0)."
        )
    if e.dtype == bool or set(pd.unique(e)) <= {0, 1}:
        e = e.astype(bool)
        event_dtype = np.dtype(bool)
    elif e.dtype.kind in "iu":
        event_dtype = np.dtype(np.int64)
    elif e.dtype.kind == "f":
        if not np.all(e == np.round(e)):
            raise ValueError("event has non-integer codes; use integers or strings.")
        e = e.astype(np.int64)
        event_dtype = np.dtype(np.int64)
    else:
        e = e.astype(str)
        event_dtype = np.dtype(f"U{max(1, max(len(v) for v in e))}")
    y = np.empty(t.shape[0], dtype=[("event", event_dtype), ("time", np.float64)])
    y["event"] = e
    y["time"] = t
    return y


@dataclass(frozen=True)
class Outcome:
    """``y`` read into arrays: times, raw event codes and whether events are boolean."""

    time: np.ndarray
    event: np.ndarray  # raw codes (bool for a single event)
    boolean: bool

    def coding(self, cause: object = None, censor_value: object = 0) -> EventCoding:
        """Event coding as the models read it (``encode_events``)."""
        events = pd.Series(self.event.astype(np.int8) if self.boolean else self.event)
        if self.boolean:
            return encode_events(events, "event", None if cause in (None, 1, True) else cause, 0)
        return encode_events(events, "event", cause, censor_value)


def is_outcome_like(y: object) -> bool:
    """True for the forms ``read_outcome`` accepts (used to tell ``fit(X, y)`` from
    ``fit(df, duration_col, ...)``)."""
    if isinstance(y, np.ndarray) and y.dtype.names is not None:
        return True
    return isinstance(y, pd.DataFrame)


def read_outcome(y: object, argument: str = "y") -> Outcome:
    """Read ``y`` (structured array with fields event and time, or a two-column
    DataFrame event, time) into validated arrays."""
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 2:
            raise ValueError(
                f"{argument} is a DataFrame with {y.shape[1]} columns; pass two columns "
                "(event, time) or build it with survkit.outcome(df, 'time', 'status')."
            )
        cols = list(y.columns)
        names = {str(c).lower(): c for c in cols}
        if "event" in names and "time" in names:
            event, time = y[names["event"]].to_numpy(), y[names["time"]].to_numpy()
        else:
            event, time = y[cols[0]].to_numpy(), y[cols[1]].to_numpy()
    elif isinstance(y, np.ndarray) and y.dtype.names is not None:
        fields = y.dtype.names
        if len(fields) != 2:
            raise ValueError(
                f"{argument} has {len(fields)} fields {fields}; pass two (event, time), e.g. "
                "from survkit.outcome(df, 'time', 'status')."
            )
        event, time = y[fields[0]], y[fields[1]]
    else:
        raise ValueError(
            f"{argument} must be a structured array (event, time) or a two-column DataFrame, "
            f"got {type(y).__name__}; build it with survkit.outcome(df, 'time', 'status')."
        )
    y_arr = outcome(time=time, event=event)
    return Outcome(y_arr["time"], y_arr["event"], y_arr["event"].dtype == bool)
