"""Does the first organ change what comes next? ``origin_effect``.

For one target state (say liver), the hazards of entering it from different
origin states (bone, lung) are modelled as proportional, with a shared
baseline (time since diagnosis) and shared covariate effects, and one log
hazard ratio per origin against a reference origin. A Wald test of those
log hazard ratios (robust variance, clustered on the patient) answers the
question; it is a Cox model on the long form's rows of the transitions into
the target, on the one Cox engine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..models.coxph import CoxPH
from .histories import MultiStateData
from .long_form import long_form

__all__ = ["origin_effect"]


def origin_effect(
    data: MultiStateData,
    target,
    covariates: list[str] = (),
    origins: list | None = None,
    ties: str = "breslow",
) -> tuple[pd.DataFrame, dict]:
    """Log hazard ratios of entering ``target`` from each origin versus the first.

    ``origins`` defaults to every state with a transition into ``target``
    except the first (initial) state, whose baseline (the first-event
    hazard) is usually of a different shape. Returns (table, test): the table
    has one row per non-reference origin (coef, se (robust), z, p) and
    ``test`` is the joint Wald test {statistic, df, p_value, reference}.
    """
    tm = data.transitions
    if target not in tm.states:
        raise ValueError(f"target={target!r} is not a state ({list(tm.states)}).")
    into = [a for a, b in tm.pairs if b == target]
    if origins is None:
        origins = [a for a in into if a != tm.states[0]]
    bad = [a for a in origins if a not in into]
    if bad:
        raise ValueError(
            f"origins {bad} have no transition into {target!r} (origins that do: {into})."
        )
    if len(origins) < 2:
        raise ValueError(
            f"only {len(origins)} origin(s) lead to {target!r}; comparing origins needs 2 or more."
        )
    long = long_form(data)
    rows = long[(long["to"] == target) & long["from"].isin(origins)].copy()
    names = []
    for origin in origins[1:]:
        name = f"from[{origin}]"
        if name in rows.columns:
            raise ValueError(f"column {name!r} already exists; rename it first.")
        rows[name] = (rows["from"] == origin).astype(float)
        names.append(name)
    model = CoxPH(ties=ties).fit(
        rows,
        duration_col="Tstop",
        entry_col="Tstart",
        event_col="status",
        formula=[*names, *covariates],
        cluster_col="id",
    )
    b = model.params_[names].to_numpy()
    V = model.variance_.loc[names, names].to_numpy()
    se = np.sqrt(np.diag(V))
    table = pd.DataFrame(
        {
            "origin": origins[1:],
            "coef": b,
            "se": se,
            "z": b / se,
            "p": 2 * stats.norm.sf(np.abs(b / se)),
        },
        index=pd.Index(names, name="term"),
    )
    statistic = float(b @ np.linalg.solve(V, b))
    test = {
        "statistic": statistic,
        "df": len(names),
        "p_value": float(stats.chi2.sf(statistic, len(names))),
        "reference": origins[0],
        "model": model,
    }
    return table, test
