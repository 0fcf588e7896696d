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
    horizons: tuple | None = None  # None: chosen from the data (report.horizons)
    time_unit: str = "years"
    alpha: float = 0.05
    checks: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)  # event code -> name shown in the report
    roles_stated: bool = True  # False: no code was named competing, every code is of interest
    reference: dict = field(default_factory=dict)  # column -> reference level
    organ_data: bool = True  # the events of interest are organs (site-specific relapse)
    bootstrap_replicates: int = 25  # risk-profile confidence intervals (each refits every model)
    seed: int = 1
    design: object | None = None  # covariates.CovariateDesign, set by build_report
    notes: list = field(default_factory=list)  # sections skipped and why

    def label(self, code: object) -> str:
        """The name shown for an event code (its label, or the code itself)."""
        return str(self.labels.get(code, code))

    @property
    def columns(self) -> list[str]:
        """The numeric model columns (a list: nothing is joined into a formula)."""
        return self.design.columns

    @property
    def data(self) -> pd.DataFrame:
        """The data with the model columns added."""
        return self.design.data

    @property
    def kind(self) -> str:
        """What the events of interest are called: 'organ' or 'event type'."""
        return "organ" if self.organ_data else "event type"

    @property
    def outcome(self) -> str:
        """'relapse' for organs; the name of the one event of interest; else 'event'."""
        if self.organ_data:
            return "relapse"
        if len(self.organs) > 1:
            return "event"
        code = self.organs[0]
        # a bare number reads badly in a sentence ("incidence of 1"): "event 1"
        return self.label(code) if code in self.labels or isinstance(code, str) else f"event {code}"

    @property
    def per_kind(self) -> str:
        """' per organ' / ' per event type', or '' with a single event of interest."""
        return f" per {self.kind}" if self.organ_data or len(self.organs) > 1 else ""

    @property
    def incidence_title(self) -> str:
        """'Cumulative incidence of relapse per organ', '... of relapse', '... per event type'."""
        if not self.organ_data and len(self.organs) > 1:
            return "Cumulative incidence per event type"
        return f"Cumulative incidence of {self.outcome}{self.per_kind}"

    def event_name(self, code: object) -> str:
        """'brain relapse' for an organ, else the event's name."""
        return f"{self.label(code)} relapse" if self.organ_data else self.label(code)

    def time(self, t: float) -> str:
        """A time in the data's unit without spurious decimals: 2.47, 538, 3387."""
        return f"{t:.0f}" if abs(t) >= 100 else f"{t:.3g}"

    def at(self, t: float) -> str:
        """A time with its unit: '5 years', '538 days'."""
        return f"{self.time(t)} {self.time_unit}"

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
