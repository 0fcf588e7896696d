"""The report's section "does the first organ change what comes next?".

For every state entered from two or more states, a Cox model of the
transitions into it with one hazard ratio per origin and a robust Wald test
(``survkit.multistate.origin_effect``). On a scenario the origins are the
relapse states (the first event's baseline has another shape) and each
estimate stands beside the scenario's truth; on the user's data the starting
state is an origin too (mgus2: death from mgus or after a progression), and
the wording speaks of states, not organs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..multistate import MultiStateData
from ..multistate.origin import origin_effect
from ..multistate.overview import origin_tests as overview_origin_tests
from .content import Section, Table
from .multistate_checks import true_origin_log_hr
from .spec import Z95

__all__ = ["ORIGIN_TITLE", "origin_section", "origin_tests"]

ORIGIN_TITLE = "Does the first organ change what comes next?"
GENERIC_TITLE = "Does the state a patient came from change what comes next?"
_WITHIN_SE = 4.0


def origin_tests(data: MultiStateData, covariates: list[str]) -> pd.DataFrame:
    """The origin tests with the starting state among the origins (user data)."""
    return overview_origin_tests(data, covariates, include_start=True)


def origin_section(data, tests, covariates, cohort=None, generic=False) -> Section:
    """The section; ``generic`` words it for any states (user data), not organs."""
    title = GENERIC_TITLE if generic else ORIGIN_TITLE
    came_from = "the state" if generic else "the organ"
    among = "states" if generic else "relapse states"
    bullets, tables = [], []
    # the table shows states as text: map them back to the data's own values (1, 2, ...)
    state = {str(s): s for s in data.transitions.states}
    for row in tests.itertuples(index=False):
        table, _ = origin_effect(
            data,
            state[str(row.target)],
            covariates,
            origins=[state[o.strip()] for o in row.origins.split(",")],
        )
        hr = np.exp(table["coef"])
        parts = [
            f"from {o} rather than from {row.reference}: HR {h:.2f} "
            f"(95% CI {np.exp(b - Z95 * s):.2f}-{np.exp(b + Z95 * s):.2f})"
            for o, h, b, s in zip(table["origin"], hr, table["coef"], table["se"], strict=True)
        ]
        verdict = (
            f"{came_from} a patient came from changes the hazard"
            if row.p_value < 0.05
            else f"no evidence that {came_from} a patient came from changes the hazard"
        )
        bullets.append(
            f"Entering {row.target} {'; '.join(parts)}. Test of no difference: Wald "
            f"{row.statistic:.2f} on {row.df} df, p = {row.p_value:.2g}: {verdict} "
            "(at the 5% level)."
        )
        shown = table.assign(HR=hr)
        if cohort is not None:
            true = [
                true_origin_log_hr(cohort, row.target, o, row.reference) for o in shown["origin"]
            ]
            shown["true log HR"] = [v for v, _ in true]
            shown["within 4 SE"] = [
                abs(b - v) <= _WITHIN_SE * se if np.isfinite(v) else np.nan
                for b, se, (v, _) in zip(shown["coef"], shown["se"], true, strict=True)
            ]
            shown["note"] = [why for _, why in true]
        tables.append(
            Table(
                f"origin_{row.target}",
                shown.set_index("origin"),
                f"Entering {row.target}: log HR by origin versus {row.reference}",
            )
        )
    if tests.empty:
        return Section(
            title,
            [f"No state is entered from two or more {among}: there is nothing to compare."],
        )
    return Section(
        title,
        [
            f"For every state entered from two or more {among}, a Cox model of the "
            "transitions into it with a shared baseline (time since "
            f"{'time 0 of the data' if generic else 'diagnosis'}), shared covariate "
            "effects and one hazard ratio per origin state; robust Wald test that all origins "
            "have the same hazard."
            + (
                " The scenario's true log HR by origin stands beside each estimate where its "
                "hazards by origin are proportional (else there is no single true value)."
                if cohort is not None
                else ""
            ),
        ],
        bullets=bullets,
        tables=[
            Table("origin_tests", tests.set_index("target"), "Tests of equal hazard by origin"),
            *tables,
        ],
    )
