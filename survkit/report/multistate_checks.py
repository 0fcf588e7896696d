"""What the multi-state report checks each estimate against: the scenario's truth, and
whether a coefficient can be estimated at all."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..multistate import MultiStateData

__all__ = ["no_events_level", "true_log_hr", "true_origin_log_hr"]


def no_events_level(data: MultiStateData, summary: pd.DataFrame) -> list[str]:
    """Why a coefficient cannot be estimated ('' if it can): a 0/1 covariate
    whose events in that transition all have the same value (the likelihood
    is monotone, the estimate is infinite)."""
    h = data.histories
    why = []
    for a, b, c in zip(summary["from"], summary["to"], summary["covariate"], strict=True):
        col = h[c]
        if not set(pd.unique(col)) <= {0, 1}:
            why.append("")
            continue
        events = col[(h["from"] == a) & (h["to"] == b) & (h["status"] == 1)]
        ones = int(events.sum())
        if ones == 0 or ones == len(events):
            value = 0 if ones == 0 else 1
            why.append(f"not estimable: no event in this transition with {c} = {value}")
        else:
            why.append("")
    return why


def true_log_hr(truth: pd.DataFrame | None, term: dict, row) -> tuple[float, str]:
    """The true log HR of a summary row, or (NaN, why not)."""
    if truth is None:
        return float("nan"), ""
    rows = truth[
        (truth["from"] == row["from"])
        & (truth["to"] == row["to"])
        & (truth["covariate"] == term[row["covariate"]])
    ]
    if len(rows) == 1:
        return float(rows["log_hr"].iloc[0]), ""
    if len(rows) > 1:
        pieces = "; ".join(
            f"{r.log_hr:g} on [{r.start:g}, {r.end:g})" for r in rows.itertuples(index=False)
        )
        return float("nan"), f"changes over time: {pieces}"
    return float("nan"), "not in the truth table"


def true_origin_log_hr(cohort, target, origin, reference) -> tuple[float, str]:
    """The true log HR of entering ``target`` from ``origin`` versus ``reference``: a single
    number only when the two transition hazards are proportional (same baseline shape,
    same covariate effects, clock forward), as the origin model assumes."""
    if cohort is None:
        return float("nan"), ""
    by_pair = {(t.origin, t.target): t for t in cohort.scenario.transitions}
    a, b = by_pair.get((origin, target)), by_pair.get((reference, target))
    if a is None or b is None:
        return float("nan"), "not in the scenario"
    base_a, base_b = a.model.baseline, b.model.baseline
    same_shape = (
        type(base_a) is type(base_b)
        and hasattr(base_a, "rate")
        and getattr(base_a, "growth", None) == getattr(base_b, "growth", None)
    )
    same_effects = set(a.model.effects) == set(b.model.effects)
    if not (same_shape and same_effects and a.clock == b.clock == "forward"):
        return float("nan"), "no single true HR (the hazards by origin are not proportional)"
    return float(np.log(base_a.rate / base_b.rate)), ""
