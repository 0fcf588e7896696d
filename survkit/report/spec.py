"""What a report analyses: the data, its columns and event roles, horizons and units."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

Z95 = 1.959963984540054


@dataclass
class ReportSpec:
    """What to analyse. ``terms`` are formula terms (columns, or e.g. ``C(x)``)."""

    df: pd.DataFrame
    duration_col: str
    event_col: str
    terms: list[str]
    organs: list
    competing: list
    censor_value: object
    source: str
    command: str
    group_col: str | None = None
    cohort: object | None = None  # synthetic.Cohort when the truth is known
    horizons: tuple = (2.0, 5.0, 10.0)
    time_unit: str = "years"
    alpha: float = 0.05
    checks: dict = field(default_factory=dict)

    @property
    def formula(self) -> str | list[str]:
        return self.formula_of(self.terms)

    def formula_of(self, terms: list[str]) -> str | list[str] | None:
        """The model formula for ``terms`` (None when there are none).

        Terms that are all column names (always so for a scenario, whose names
        come from a file) are passed as a list, which survkit never parses as
        formula code. Anything else (``C(x)``, ``log(x)``) was typed by the user
        as a formula and is their own code; only then are terms joined.
        """
        if not terms:
            return None
        if all(t in self.df.columns for t in terms):
            return list(terms)
        return " + ".join(terms)


def hr_text(hr: float, lo: float, hi: float) -> str:
    return f"HR {hr:.2f} (95% CI {lo:.2f}-{hi:.2f})"
