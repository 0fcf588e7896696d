"""The building blocks of a report: sections holding text, tables and figures."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Table:
    name: str  # file stem for tables/<name>.csv
    frame: pd.DataFrame
    caption: str
    digits: int = 3
    csv: pd.DataFrame | None = None  # what tables/<name>.csv holds, when not ``frame``


@dataclass
class Figure:
    name: str  # file stem for figures/<name>.png
    figure: object  # matplotlib Figure
    caption: str


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section]
    checks: dict = field(default_factory=dict)  # machine-readable findings (for analyses/tests)
