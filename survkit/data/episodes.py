"""Episode splitting (R's ``survSplit``) and the period-specific covariate columns built on it.

Splitting a row's follow-up (entry, stop] at cut times changes nothing in a Cox
model by itself (the risk sets are the same), but lets a covariate's
coefficient differ between periods: x_k = x * [episode == k] gives one
coefficient per period, a step function beta(t).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .validation import (
    check_columns,
    check_cut_points,
    check_dataframe,
    check_finite_numeric,
    check_times,
)

__all__ = [
    "censor_early_pieces",
    "period_columns",
    "period_labels",
    "split_at",
    "split_episodes",
]


def split_episodes(
    df: pd.DataFrame,
    cuts,
    duration_col: str,
    event_col: str,
    entry_col: str | None = None,
    episode_col: str = "episode",
    id_col: str | None = None,
    censor_value: object = 0,
    start_col: str = "tstart",
) -> pd.DataFrame:
    """Split every row's (entry, stop] at ``cuts``, like R's ``survSplit``.

    A row becomes one row per period it spans: (entry, c1], (c1, c2], ...,
    (ck, stop], keeping only cuts strictly inside its interval. The event stays
    on the last piece; earlier pieces get ``censor_value``. ``episode_col``
    numbers the period of the cut grid each piece lies in (1 = up to the first
    cut), as survSplit's ``episode``. Without ``entry_col`` a new entry column
    ``start_col`` (R's default name "tstart") starting at 0 is added. With
    ``id_col`` naming a column not in ``df``, it is created holding the
    original row position (0-based), so pieces of a subject can be collapsed.
    Rows come out grouped by original row, then episode (R's order).

    Cuts must be > 0, strictly increasing and strictly inside follow-up
    (earliest entry < cut < last stop time); otherwise ``ValueError``.
    """
    check_dataframe(df)
    check_columns(
        df,
        {
            "duration_col": [duration_col],
            "event_col": [event_col],
            "entry_col": [entry_col] if entry_col is not None else [],
        },
    )
    stop = check_finite_numeric(df[duration_col], duration_col)
    start = (
        np.zeros(len(df)) if entry_col is None else check_finite_numeric(df[entry_col], entry_col)
    )
    check_times(stop, duration_col, None if entry_col is None else start, entry_col)
    cuts = check_cut_points(cuts, float(start.min()), float(stop.max()))
    new_cols = [episode_col] + ([start_col] if entry_col is None else [])
    clash = [c for c in new_cols if c in df.columns]
    if clash:
        raise ValueError(
            f"split_episodes would overwrite column(s) {clash}; pass another episode_col / "
            "start_col name."
        )
    rows, piece_start, piece_stop, episode, last = split_at(start, stop, cuts)

    out = df.iloc[rows].reset_index(drop=True)
    if id_col is not None and id_col not in df.columns:
        out.insert(0, id_col, rows)
    entry_name = start_col if entry_col is None else entry_col
    out[entry_name] = piece_start
    out[duration_col] = piece_stop
    out[event_col] = censor_early_pieces(out[event_col], last, censor_value, event_col)
    out[episode_col] = episode
    if entry_col is None:
        # put the new entry column next to the duration, as survSplit does
        cols = [c for c in out.columns if c != entry_name]
        cols.insert(cols.index(duration_col), entry_name)
        out = out[cols]
    return out


def censor_early_pieces(
    events: pd.Series, last: np.ndarray, censor_value: object, event_col: str
) -> pd.Series:
    """The event stays on a row's last piece; earlier pieces are censored."""
    if last.all():
        return events
    if isinstance(events.dtype, pd.CategoricalDtype) and censor_value not in events.cat.categories:
        raise ValueError(
            f"censor_value={censor_value!r} is not a category of event column "
            f"{event_col!r}; pass the code that marks censoring."
        )
    return events.where(last, censor_value)


def split_at(start: np.ndarray, stop: np.ndarray, cuts: np.ndarray):
    """Vectorised splitting: (source row, piece start, piece stop, episode, is last piece).

    Each row spans the cuts with start < c < stop; a row is never split at
    its own end points, so no zero-length piece appears.
    """
    first = np.searchsorted(cuts, start, side="right")  # first cut > start
    past = np.searchsorted(cuts, stop, side="left")  # cuts < stop end here
    n_pieces = np.maximum(past - first, 0) + 1
    rows = np.repeat(np.arange(start.shape[0]), n_pieces)
    # position of each piece within its row
    offsets = np.cumsum(n_pieces) - n_pieces
    k = np.arange(rows.shape[0]) - np.repeat(offsets, n_pieces)
    fr = first[rows]
    is_first = k == 0
    is_last = k == n_pieces[rows] - 1
    edges = np.r_[cuts, np.inf]
    piece_start = np.where(is_first, start[rows], edges[np.maximum(fr + k - 1, 0)])
    piece_stop = np.where(is_last, stop[rows], edges[np.minimum(fr + k, cuts.shape[0])])
    episode = fr + k + 1
    return rows, piece_start, piece_stop, episode.astype(np.int64), is_last


def period_labels(cuts) -> list[str]:
    """Human-readable period intervals: "(0, 2.5]", "(2.5, inf)"."""
    edges = [0.0, *[float(c) for c in cuts]]
    labels = [f"({edges[k]:g}, {edges[k + 1]:g}]" for k in range(len(edges) - 1)]
    return [*labels, f"({edges[-1]:g}, inf)"]


def period_columns(
    df: pd.DataFrame, covariate: str, n_periods: int, episode_col: str = "episode"
) -> tuple[pd.DataFrame, list[str]]:
    """Add x_k = x * [episode == k] for k = 1..n_periods; returns (copy, new names).

    The names are ``<covariate>_period<k>``; each gets period k's coefficient
    when all of them replace the covariate in a Cox model.
    """
    check_columns(df, {"covariate": [covariate], "episode_col": [episode_col]})
    x = check_finite_numeric(df[covariate], covariate)
    ep = df[episode_col].to_numpy()
    names = [f"{covariate}_period{k}" for k in range(1, n_periods + 1)]
    clash = [nm for nm in names if nm in df.columns]
    if clash:
        raise ValueError(f"period columns {clash} already exist in the data; rename them first.")
    out = df.copy()
    for k, nm in enumerate(names, start=1):
        out[nm] = np.where(ep == k, x, 0.0)
    return out, names
