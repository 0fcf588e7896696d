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
    out_of = {s: [tm.number(s, b) for b in tm.targets(s)] for s in tm.states}
    counts = h["from"].map(lambda s: len(out_of[s])).to_numpy()
    rows = np.repeat(np.arange(len(h)), counts)
    trans = np.concatenate([out_of[s] for s in h["from"]]) if len(rows) else np.array([], int)
    to = np.array([tm.pairs[k - 1][1] for k in trans], dtype=object)
    long = pd.DataFrame(
        {
            "id": h["id"].to_numpy()[rows],
            "from": h["from"].to_numpy()[rows],
            "to": to,
            "trans": trans.astype(np.int64),
            "Tstart": h["tstart"].to_numpy()[rows],
            "Tstop": h["tstop"].to_numpy()[rows],
        }
    )
    long["time"] = long["Tstop"] - long["Tstart"]
    happened = (h["status"].to_numpy()[rows] == 1) & (h["to"].to_numpy()[rows] == to)
    long["status"] = happened.astype(np.int8)
    for col in data.covariates:
        long[col] = h[col].to_numpy()[rows]
    return long


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
