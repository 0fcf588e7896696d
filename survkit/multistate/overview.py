"""The tables of a multi-state report section: ``overview_tables``.

Transitions observed, state occupation at chosen times (overall or by group),
per-transition hazard ratios of the covariates, and for every state entered
from two or more relapse states the test "does the first organ change what
comes next?". Figures: ``survkit.plots.plot_state_occupation`` and
``plot_transition_diagram``.
"""

from __future__ import annotations

import pandas as pd

from .cox import MultiStateCox
from .histories import MultiStateData
from .occupation import state_occupation
from .origin import origin_effect

__all__ = ["overview_tables"]


def overview_tables(
    data: MultiStateData,
    covariates: list[str],
    times,
    group_col: str | None = None,
    cox_covariates=None,
    clock: str = "forward",
) -> dict[str, pd.DataFrame]:
    """Tables for a report: ``transitions``, ``occupation``, ``hazard_ratios``, ``origin_tests``.

    ``occupation`` holds P(state at t) with standard errors at ``times``
    (the step function's value; NaN after the last follow-up time).
    ``origin_tests`` has one row per target state reached from at least two
    non-initial states: the Wald test of equal hazards by origin, with the
    ``covariates`` as shared effects. ``cox_covariates`` (a list, or a mapping
    from transition to list, as ``MultiStateCox.fit``) replaces ``covariates``
    in the per-transition Cox models, e.g. to leave out a transition with too
    few events to estimate effects. ``clock`` is ``MultiStateCox``'s time scale of
    the per-transition models ("forward" or "reset").
    """
    occ = state_occupation(data, group_col=group_col)
    keys = ["group"] if group_col is not None else []
    rows = []
    for _, curve in occ.groupby(keys, sort=False) if keys else [(None, occ)]:
        last = curve["time"].max()
        for t in times:
            before = curve[curve["time"] <= t]
            if before.empty:
                continue
            at = before[before["time"] == before["time"].max()]
            at = at.assign(time=float(t))
            if t > last:
                at = at.assign(pstate=float("nan"), std_err=float("nan"))
            rows.append(at[[*keys, "time", "state", "pstate", "std_err"]])
    occupation = pd.concat(rows, ignore_index=True)
    model = MultiStateCox(clock=clock).fit(
        data, covariates if cox_covariates is None else cox_covariates
    )
    return {
        "transitions": data.counts(),
        "occupation": occupation,
        "hazard_ratios": _with_convergence(model),
        "origin_tests": origin_tests(data, covariates),
    }


def origin_tests(data: MultiStateData, covariates: list[str], include_start: bool = False):
    """One row per state entered from two or more origins: ``origin_effect``'s Wald
    test of equal hazards by origin, the ``covariates`` as shared effects. The
    starting state counts as an origin only with ``include_start`` (on a scenario
    the question is about relapse states; on the user's data every state is one)."""
    tm = data.transitions
    rows = []
    for target in tm.states:
        origins = [a for a, b in tm.pairs if b == target and (include_start or a != tm.states[0])]
        if len(origins) < 2:
            continue
        _, test = origin_effect(data, target, covariates, origins=origins)
        rows.append(
            {
                "target": target,
                "origins": ", ".join(map(str, origins)),
                "reference": test["reference"],
                "statistic": test["statistic"],
                "df": test["df"],
                "p_value": test["p_value"],
            }
        )
    return pd.DataFrame(
        rows, columns=["target", "origins", "reference", "statistic", "df", "p_value"]
    )


def _with_convergence(model) -> pd.DataFrame:
    """``model.summary`` with ``converged``: whether the row's transition fit converged
    (False under monotone likelihood, where a coefficient and its SE are not estimates)."""
    table = model.summary.reset_index()
    fits = model.transition_models_
    table["converged"] = [
        bool(fits[k].converged_) if k in fits else True for k in table["transition"]
    ]
    return table
