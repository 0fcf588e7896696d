"""Covariates to a design matrix, and the same coding again for new data.

A model is given either a formulaic right-hand side (``"age + C(subtype)"``)
or a list of numeric column names. Formulas are coded *with* an intercept that
is then dropped, exactly as R's ``coxph`` does, so a categorical variable gets
treatment (reduced-rank) coding and a column per non-reference level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .validation import check_columns, check_no_missing, numeric_matrix

__all__ = ["Design", "build_design"]


@dataclass
class Design:
    """The coding of covariates learnt at fit time, re-applicable to new rows."""

    names: list[str]
    columns: list[str]  # data columns the design reads
    model_spec: object | None = None  # formulaic ModelSpec when a formula was used

    def matrix(
        self, df: pd.DataFrame, argument: str = "df", rows: np.ndarray | None = None
    ) -> np.ndarray:
        """Code ``df`` exactly as at fit time; refuse missing or non-finite values.

        ``rows`` (positions) returns the rows in that order, without a second
        full-size copy on the column route.
        """
        check_columns(df, {argument: self.columns})
        if self.model_spec is None:
            if not self.columns:
                return np.zeros((len(df), 0))
            return numeric_matrix(df, self.columns, rows)
        for col in self.columns:
            check_no_missing(df[col], col)
        mm = self.model_spec.get_model_matrix(df, na_action="raise")
        X = np.asarray(mm, dtype=float)
        names = list(mm.columns)
        keep = [i for i, nm in enumerate(names) if nm != "Intercept"]
        X = X[:, keep] if rows is None else X[np.ix_(rows, keep)]
        n_bad = int((~np.isfinite(X)).sum())
        if n_bad:
            raise ValueError(
                f"the formula produced {n_bad} non-finite value(s) (e.g. log of 0); "
                "transform or filter the data first."
            )
        return np.ascontiguousarray(X)


def build_design(
    df: pd.DataFrame,
    formula: str | Sequence[str] | None,
    argument: str = "formula",
    rows: np.ndarray | None = None,
) -> tuple[Design, np.ndarray]:
    """Build the design from a formula string or a list of columns (rows in ``rows`` order)."""
    if formula is None:
        raise ValueError(
            "formula is required: pass a right-hand side such as 'age + C(subtype)' "
            "or a list of numeric column names."
        )
    if isinstance(formula, str):
        return _from_formula(df, formula, argument, rows)
    columns = list(formula)
    if not columns:
        raise ValueError(f"{argument} is an empty list; name at least one covariate column.")
    check_columns(df, {argument: columns})
    if len(set(columns)) != len(columns):
        raise ValueError(f"{argument} names a column more than once: {columns}.")
    design = Design(names=[str(c) for c in columns], columns=columns)
    return design, design.matrix(df, argument, rows)


def _from_formula(
    df: pd.DataFrame, formula: str, argument: str, rows: np.ndarray | None
) -> tuple[Design, np.ndarray]:
    from formulaic import Formula

    rhs = formula.split("~", 1)[1] if "~" in formula else formula
    if not rhs.strip():
        raise ValueError(f"{argument} {formula!r} has an empty right-hand side.")
    try:
        parsed = Formula(rhs)
    except Exception as exc:  # formulaic raises several parser exception types
        raise ValueError(f"{argument} {formula!r} could not be parsed: {exc}") from None
    required = sorted(str(v) for v in parsed.required_variables)
    check_columns(df, {argument: required})
    columns = required
    for col in columns:
        check_no_missing(df[col], col)
    try:
        mm = parsed.get_model_matrix(df, na_action="raise")
    except Exception as exc:
        raise ValueError(f"{argument} {formula!r} could not be evaluated: {exc}") from None
    names = [str(nm) for nm in mm.columns]
    keep = [i for i, nm in enumerate(names) if nm != "Intercept"]
    X = np.asarray(mm, dtype=float)
    X = X[:, keep] if rows is None else X[np.ix_(rows, keep)]
    names = [names[i] for i in keep]
    if not names:
        raise ValueError(f"{argument} {formula!r} has no covariates after coding.")
    n_bad = int((~np.isfinite(X)).sum())
    if n_bad:
        raise ValueError(
            f"{argument} {formula!r} produced {n_bad} non-finite value(s) (e.g. log of 0); "
            "transform or filter the data first."
        )
    design = Design(names=names, columns=columns, model_spec=mm.model_spec)
    return design, np.ascontiguousarray(X)
