"""Which covariate columns are numbers and which are categories, decided once.

Real files hold surprises: a numeric column with a stray ``"."``, ``"12,5"`` or
``"NA "`` cell arrives as text, and a formula would quietly dummy-code it into
one coefficient per distinct value. The rule here: a column is categorical only
when the user says so (``C(x)`` in a formula), when pandas says so (a
categorical dtype), or when it is text that is mostly not numbers. Text that is
mostly numbers is refused, naming the column, the count and the first
offending cells.

Also here: a categorical column's unused levels (any subgroup of a cohort) are
dropped before coding, with one warning, instead of producing an all-zero
column that would then be refused as "constant".
"""

from __future__ import annotations

import re
import warnings

import pandas as pd

__all__ = ["drop_unused_levels", "explicit_categorical", "refuse_numbers_as_text"]


def explicit_categorical(rhs: str | None, column: str) -> bool:
    """Is ``column`` wrapped in ``C(...)`` in the formula text ``rhs``?"""
    if not rhs:
        return False
    quoted = re.escape(column)
    pattern = rf"\bC\(\s*(?:{quoted}|`{quoted}`)\s*[,)]"
    return re.search(pattern, rhs) is not None


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)


def refuse_numbers_as_text(
    df: pd.DataFrame, columns: list[str], rhs: str | None, argument: str
) -> None:
    """Raise if a text column not marked ``C()`` holds mostly numbers.

    "Mostly": at least half of its cells parse as numbers. Such a column is a
    numeric column with a few damaged cells (or numbers stored as text), never
    a set of categories the user meant.
    """
    for col in columns:
        series = df[col]
        if isinstance(series.dtype, pd.CategoricalDtype) or not _is_text(series):
            continue
        if explicit_categorical(rhs, col):
            continue
        values = series.dropna()
        if values.empty or values.map(lambda v: isinstance(v, bool)).any():
            continue
        parsed = pd.to_numeric(values.astype(str), errors="coerce")
        n_numbers = int(parsed.notna().sum())
        if n_numbers * 2 < len(values):
            continue  # mostly words: a categorical column
        bad = values[parsed.isna()]
        if bad.empty:
            raise ValueError(
                f"{argument}: column {col!r} holds numbers stored as text ({len(values)} "
                f"cells); convert it with pandas.to_numeric(df[{col!r}]), or write "
                f"C({col}) in the formula if it really is categorical."
            )
        shown = ", ".join(repr(v) for v in pd.unique(bad)[:5])
        raise ValueError(
            f"{argument}: column {col!r} is numeric except for {len(bad)} cell(s) that are "
            f"not numbers (first: {shown}); it would otherwise be coded as "
            f"{values.nunique()} categories. Clean those cells (e.g. "
            f"pandas.to_numeric(df[{col!r}], errors='coerce') and then decide what the "
            f"missing values mean), or write C({col}) in the formula if it really is "
            "categorical."
        )


def drop_unused_levels(df: pd.DataFrame, columns: list[str], argument: str) -> pd.DataFrame:
    """``df[columns]`` with unused categories removed (one warning naming them),
    or ``df`` itself when no categorical column has an unused level."""
    unused = {}
    for col in columns:
        series = df[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            present = set(series.dropna().unique())
            missing = [c for c in series.cat.categories if c not in present]
            if missing:
                unused[col] = missing
    if not unused:
        return df
    frame = df[columns].copy()
    for col in unused:
        frame[col] = frame[col].cat.remove_unused_categories()
    shown = "; ".join(
        f"{col!r}: {', '.join(repr(v) for v in levels[:5])}" for col, levels in unused.items()
    )
    warnings.warn(
        f"{argument}: categorical level(s) with no rows in these data were dropped from the "
        f"coding ({shown}); they get no coefficient, and new data with them are refused at "
        "prediction.",
        UserWarning,
        stacklevel=4,
    )
    return frame
