"""The report's covariates: one numeric model column per contrast, each with its wording.

The report codes categorical covariates itself instead of passing a formula,
so that (1) the reference level is the same in every model, table and
sentence, and is stated; (2) names read from data are never joined into a
formula string (only lists of column names reach the models).

A term is a column name or ``C(column)``. Reference levels: the first category
of a pandas Categorical; the smallest value of a numeric column in ``C()``;
otherwise the most frequent level (ties broken by sorted order), unless the
user names one (``reference={"size": "<=20"}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Covariate", "CovariateDesign", "code_covariates"]

_CATEGORICAL = re.compile(r"^C\(\s*([^()]+?)\s*\)$")


@dataclass(frozen=True)
class Covariate:
    column: str  # the model column (a data column, or term[T.level] for a level)
    term: str  # the data column it comes from
    kind: str  # "numeric", "binary" (0/1) or "level" (a level of a categorical term)
    level: object = None
    reference: object = None

    @property
    def contrast(self) -> str:
        """What its hazard ratio compares, in words."""
        if self.kind == "level":
            return f"{self.term}: {self.level} vs {self.reference}"
        if self.kind == "binary":
            return f"{self.term}: 1 vs 0"
        return f"{self.term}: per unit"

    def effect_words(self, direction: str) -> str:
        """E.g. 'subtype her2 (vs luminal_a) raises' or 'higher age lowers'."""
        if self.kind == "level":
            return f"{self.term} {self.level} (vs {self.reference}) {direction}"
        if self.kind == "binary":
            return f"{self.term} = 1 (vs 0) {direction}"
        return f"higher {self.term} {direction}"


@dataclass
class CovariateDesign:
    data: pd.DataFrame  # the data with one numeric column per model column
    covariates: list[Covariate]

    @property
    def columns(self) -> list[str]:
        return [c.column for c in self.covariates]

    def of_column(self, column: str) -> Covariate | None:
        return next((c for c in self.covariates if c.column == column), None)

    def of_term(self, term: str) -> list[Covariate]:
        return [c for c in self.covariates if c.term == term]

    @property
    def terms(self) -> list[str]:
        return list(dict.fromkeys(c.term for c in self.covariates))

    def references(self) -> pd.DataFrame:
        """One row per categorical term: its reference level and the other levels."""
        rows = {}
        for c in self.covariates:
            if c.kind == "level":
                rows.setdefault(c.term, {"reference": str(c.reference), "levels": []})
                rows[c.term]["levels"].append(str(c.level))
        return pd.DataFrame(
            [
                {
                    "covariate": t,
                    "reference level": r["reference"],
                    "compared levels": ", ".join(r["levels"]),
                }
                for t, r in rows.items()
            ],
            columns=["covariate", "reference level", "compared levels"],
        ).set_index("covariate")


def _levels(series: pd.Series, term: str, reference: dict) -> tuple[list, object]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().unique())
        levels = [c for c in series.cat.categories if c in present]
        default = levels[0] if levels else None
    else:
        counts = series.value_counts()
        if pd.api.types.is_numeric_dtype(series):
            levels = sorted(counts.index)
            default = levels[0] if levels else None
        else:
            levels = sorted(counts.index, key=str)
            default = min(levels, key=lambda v: (-counts[v], str(v))) if levels else None
    ref = default
    if term in reference:
        wanted = reference[term]
        match = [v for v in levels if str(v) == str(wanted)]
        if not match:
            raise ValueError(
                f"reference level {wanted!r} of {term!r} does not occur; its levels are "
                f"{[str(v) for v in levels]}."
            )
        ref = match[0]
    return levels, ref


def code_covariates(
    df: pd.DataFrame, terms: list[str], reference: dict | None = None
) -> CovariateDesign:
    """Code ``terms`` (columns or ``C(column)``) as numeric model columns."""
    reference = dict(reference or {})
    named = {
        (m.group(1) if (m := _CATEGORICAL.match(str(t).strip())) else str(t).strip()) for t in terms
    }
    unused = [c for c in reference if c not in named]
    if unused:
        raise ValueError(
            f"reference levels given for {unused}, which are not covariates of the report "
            f"(covariates: {sorted(named)}); name a covariate's column, e.g. size=<=20."
        )
    data = df.copy()
    covariates: list[Covariate] = []
    for raw in terms:
        term = str(raw).strip()
        m = _CATEGORICAL.match(term)
        name = m.group(1) if m else term
        if name not in df.columns:
            raise ValueError(
                f"report term {term!r} is not a column of the data (columns: "
                f"{list(df.columns)[:12]}); the report takes column names or C(column). "
                "For a transformed covariate, add it to the data as a column first."
            )
        series = df[name]
        n_missing = int(series.isna().sum())
        if n_missing:
            raise ValueError(
                f"column {name!r} has {n_missing} missing value(s); the report analyses complete "
                "cases only: drop or impute those rows first."
            )
        categorical = bool(m) or not pd.api.types.is_numeric_dtype(series) or name in reference
        if not categorical:
            values = set(np.unique(series.to_numpy(float)))
            kind = "binary" if values == {0.0, 1.0} else "numeric"
            data[name] = series.astype(float)
            covariates.append(Covariate(name, name, kind))
            continue
        levels, ref = _levels(series, name, reference)
        if len(levels) < 2:
            raise ValueError(
                f"categorical covariate {name!r} has {len(levels)} level(s); it needs at least "
                "two. Drop it from the formula."
            )
        for level in levels:
            if level == ref:
                continue
            column = f"{name}[T.{level}]"
            data[column] = (series == level).astype(float)
            covariates.append(Covariate(column, name, "level", level, ref))
    return CovariateDesign(data=data, covariates=covariates)
