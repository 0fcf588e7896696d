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
    def formula(self) -> str:
        return " + ".join(self.terms)


def hr_text(hr: float, lo: float, hi: float) -> str:
    return f"HR {hr:.2f} (95% CI {lo:.2f}-{hi:.2f})"
