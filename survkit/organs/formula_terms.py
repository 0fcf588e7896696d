"""Formula terms for the time-varying fits: adding, finding and dropping covariates.

The fits replace a covariate by derived columns (one per period, or x and
x g(t)); these helpers add those columns to the user's formula, which may be a
list of column names or a formula string the user typed. Column names are
data, so a name is only ever added as a quoted variable name, never as code.
"""

from __future__ import annotations

import keyword

import pandas as pd

__all__ = [
    "check_not_in_formula",
    "drop_from_formula",
    "extend_formula",
    "formula_variables",
    "free_name",
    "quote",
]


def quote(name: str) -> str:
    """``name`` as a formula term that formulaic reads as a name, never as code.

    Identifiers stand as they are; other names go in backticks (which formulaic
    treats as one variable name); a name that a backtick could break out of is
    refused, since it would be appended to the user's formula string.
    """
    if name.isidentifier() and not keyword.iskeyword(name):
        return name
    if "`" in name or "\n" in name:
        raise ValueError(
            f"column name {name!r} contains a backtick or a line break, so it cannot be "
            "added to the formula string safely; rename the column, or pass formula as a "
            "list of column names."
        )
    return f"`{name}`"


def extend_formula(formula, names: list[str]):
    if formula is None:
        return list(names)
    if isinstance(formula, str):
        rhs = formula.split("~", 1)[1] if "~" in formula else formula
        return " + ".join([rhs.strip(), *(quote(n) for n in names)])
    return [*formula, *names]


def formula_variables(formula) -> set[str]:
    if formula is None:
        return set()
    if isinstance(formula, str):
        from formulaic import Formula

        from ..data.design import required_columns

        rhs = formula.split("~", 1)[1] if "~" in formula else formula
        return set(required_columns(Formula(rhs), rhs))
    return set(formula)


def check_not_in_formula(covariate: str, formula) -> None:
    if covariate in formula_variables(formula):
        raise ValueError(
            f"covariate {covariate!r} is also in formula {formula!r}; its time-varying columns "
            "replace it, so remove it from the formula."
        )


def drop_from_formula(formula, covariate: str):
    """The formula without ``covariate`` (a term list or a '+'-separated string)."""
    if formula is None:
        return None
    if isinstance(formula, str):
        rhs = formula.split("~", 1)[1] if "~" in formula else formula
        kept = [t.strip() for t in rhs.split("+") if t.strip() != covariate]
        return " + ".join(kept) if kept else None
    kept = [c for c in formula if c != covariate]
    return kept or None


def free_name(df: pd.DataFrame, base: str) -> str:
    name = base
    while name in df.columns:
        name = f"{name}_"
    return name
