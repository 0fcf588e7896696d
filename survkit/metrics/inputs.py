"""Read the arguments every metric shares: the outcome, the cause and the predictions.

The outcome is what ``survkit.outcome`` builds (or a two-column DataFrame, or a
``(time, event)`` pair). Events are coded as in the models: ``censor_value``
marks censoring, ``cause`` is the event of interest and every other code a
competing event. Predictions are a risk score per subject (1-D), one column
per time (n x len(times)), or a DataFrame as the models' ``predict_*`` methods
return it (index = times, one column per subject).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.outcome import outcome, read_outcome

__all__ = ["EventData", "read_inputs", "read_risk", "read_times"]


@dataclass(frozen=True)
class EventData:
    """time; cause_index (0 censored, k = k-th event type); ``cause`` the index of
    the event of interest; ``labels`` the event codes in that order."""

    time: np.ndarray
    cause_index: np.ndarray
    cause: int
    labels: tuple
    cause_label: object

    @property
    def n(self) -> int:
        return int(self.time.shape[0])

    @property
    def censored(self) -> np.ndarray:
        return self.cause_index == 0


def read_inputs(y, cause: object = None, censor_value: object = 0) -> EventData:
    """Read ``y`` and resolve the event of interest (``cause=None`` is allowed only
    when there is a single event type)."""
    if isinstance(y, tuple) and len(y) == 2:
        y = outcome(time=y[0], event=y[1])
    out = read_outcome(y)
    if out.boolean:
        coding = out.coding(None)
    else:
        coding = out.coding(True, censor_value)
    labels = tuple(coding.labels)
    if cause is None:
        if len(labels) > 1:
            raise ValueError(
                f"the outcome has {len(labels)} event types {list(labels)[:6]}; pass cause= "
                "(the event of interest; the others are competing events)."
            )
        k = 1
    elif out.boolean:
        if cause not in (1, True):
            raise ValueError(
                f"cause={cause!r}: the outcome is a single event (True/False); "
                "use cause=None or cause=1."
            )
        k = 1
    else:
        k = coding.index_of(cause, "event")
    return EventData(out.time, coding.cause_index.astype(np.int64), k, labels, labels[k - 1])


def read_times(times, y: EventData, argument: str = "times") -> np.ndarray:
    """Evaluation times, in the caller's order: finite and inside (0, last follow-up]."""
    t = np.atleast_1d(np.asarray(times, dtype=float)).ravel()
    if t.size == 0:
        raise ValueError(f"{argument} is empty; pass at least one time.")
    if not np.isfinite(t).all():
        raise ValueError(f"{argument} has non-finite values; pass finite times.")
    last = float(y.time.max())
    n_out = int(((t <= 0) | (t > last)).sum())
    if n_out:
        raise ValueError(
            f"{argument} has {n_out} value(s) outside (0, {last:g}] (the last follow-up "
            "time); metrics beyond follow-up are not estimable."
        )
    return t


def read_risk(risk, n: int, times: np.ndarray | None, argument: str = "risk") -> np.ndarray:
    """Predictions as an (n, len(times)) array (a 1-D score is used at every time)."""
    if isinstance(risk, pd.DataFrame):
        if times is not None and risk.shape[1] == n and risk.shape[0] != n:
            index = risk.index.to_numpy(dtype=float)
            pos = [np.flatnonzero(np.isclose(index, t, rtol=0, atol=1e-12)) for t in times]
            missing = [float(t) for t, p in zip(times, pos, strict=True) if p.size == 0]
            if missing:
                raise ValueError(
                    f"{argument} (index = times) has no row for time(s) {missing[:5]}; "
                    "predict at the evaluation times."
                )
            return risk.to_numpy(dtype=float)[[p[0] for p in pos]].T.copy()
        risk = risk.to_numpy(dtype=float)
    arr = np.asarray(risk, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ValueError(
            f"{argument} has shape {np.shape(risk)}; pass one value per subject ({n}), "
            f"or an array with {n} rows and one column per time."
        )
    k = 1 if times is None else times.size
    if arr.shape[1] == 1 and k > 1:
        arr = np.repeat(arr, k, axis=1)
    if arr.shape[1] != k:
        raise ValueError(
            f"{argument} has {arr.shape[1]} columns but there are {k} times; pass one "
            "column per time (or a single score)."
        )
    n_bad = int((~np.isfinite(arr)).sum())
    if n_bad:
        raise ValueError(f"{argument} has {n_bad} missing or infinite value(s).")
    return arr
