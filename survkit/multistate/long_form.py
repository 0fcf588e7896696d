"""The long counting-process form, one row per transition at risk (``mstate::msprep``).

Each history interval (tstart, tstop] spent in state ``from`` becomes one row
per transition out of ``from``: ``id, from, to, trans, Tstart, Tstop, time,
status`` (status 1 only on the transition that happened), plus the
covariates; ``expand_covariates`` adds one column per covariate and
transition (``mstate::expand.covs``), which is how a stratified Cox model on
this form gets transition-specific effects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import check_columns, check_finite_numeric
from .histories import MultiStateData
from .transitions import TransitionMatrix

__all__ = ["expand_covariates", "long_form"]


def long_form(data: MultiStateData) -> pd.DataFrame:
    """mstate's ``msdata`` layout: id, from, to, trans, Tstart, Tstop, time, status, covariates.

    Rows are ordered by id, Tstart, then transition number; a patient in an
    absorbing state has no rows there.
    """
    tm = data.transitions
    h = data.histories
    # per-row work is done on state codes with lookup tables (no Python loop
    # over rows): at 10^6 patients the long form has millions of rows
    states = list(tm.states)
    out_of = [[tm.number(s, b) for b in tm.targets(s)] for s in states]
    n_out = np.array([len(numbers) for numbers in out_of], dtype=np.int64)
    table = np.zeros((len(states), max(int(n_out.max()), 1)), dtype=np.int64)
    for i, numbers in enumerate(out_of):
        table[i, : len(numbers)] = numbers
    number = np.zeros((len(states), len(states) + 1), dtype=np.int64)  # last: not a state
    for k, (a, b) in enumerate(tm.pairs, start=1):
        number[states.index(a), states.index(b)] = k
    from_code = _state_codes(h["from"], states)
    to_code = _state_codes(h["to"], states)
    counts = n_out[from_code]
    rows = np.repeat(np.arange(len(h)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    trans = table[from_code[rows], np.arange(len(rows)) - first]
    targets = np.array([b for _, b in tm.pairs], dtype=object)
    long = pd.DataFrame(
        {
            "id": h["id"].to_numpy()[rows],
            "from": h["from"].to_numpy()[rows],
            "to": targets[trans - 1],
            "trans": trans,
            "Tstart": h["tstart"].to_numpy()[rows],
            "Tstop": h["tstop"].to_numpy()[rows],
        }
    )
    long["time"] = long["Tstop"] - long["Tstart"]
    happened_number = np.where(h["status"].to_numpy() == 1, number[from_code, to_code], 0)
    long["status"] = (happened_number[rows] == trans).astype(np.int8)
    for col in data.covariates:
        long[col] = h[col].to_numpy()[rows]
    return long


def _state_codes(column: pd.Series, states: list) -> np.ndarray:
    """Position of each value in ``states``; len(states) for anything else (censored)."""
    codes, uniques = pd.factorize(column)
    lookup = np.array([states.index(u) if u in states else len(states) for u in uniques])
    return lookup[codes] if len(uniques) else np.zeros(len(column), dtype=np.int64)


def expand_covariates(
    long: pd.DataFrame, covariates: list[str], transitions: TransitionMatrix | None = None
) -> pd.DataFrame:
    """Add ``<covariate>.<k>`` = covariate on rows of transition k, 0 elsewhere.

    As ``mstate::expand.covs`` for numeric covariates (dummy-code categorical
    ones first, e.g. with ``pandas.get_dummies``). With ``transitions`` every
    transition gets its columns, otherwise those up to the largest ``trans``
    present. Returns a new DataFrame.
    """
    check_columns(long, {"long": ["trans"], "covariates": list(covariates)})
    trans = long["trans"].to_numpy()
    k_max = int(trans.max()) if transitions is None else transitions.n_transitions
    out = long.copy()
    for col in covariates:
        values = check_finite_numeric(long[col], col)
        for k in range(1, k_max + 1):
            name = f"{col}.{k}"
            if name in long.columns:
                raise ValueError(
                    f"expand_covariates: column {name!r} already exists; rename it first."
                )
            out[name] = np.where(trans == k, values, 0.0)
    return out
