"""Covariates to a design matrix, and the same coding again for new data.

A model is given either a formulaic right-hand side (``"age + C(subtype)"``)
or a list of column names. Formulas are coded *with* an intercept that is then
dropped, exactly as R's ``coxph`` does, so a categorical variable gets
treatment (reduced-rank) coding and a column per non-reference level.

Safe names. A formula string is code: formulaic evaluates ``{...}`` blocks and
function calls as Python. A formula typed by the user is the user's own code;
names that come from data (CSV headers, scenario files) must never be joined
into one. A *list* of column names is therefore never parsed: numeric columns
are read directly, and when a categorical column is among them the formula is
written over placeholder names (``_v0 + _v1``) on a copy of just those
columns, so no column name ever reaches formulaic's parser. Any name works
this way, spaces and dots included.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .column_kinds import drop_unused_levels, refuse_numbers_as_text
from .validation import check_columns, check_no_missing, column_dtypes, numeric_matrix

__all__ = ["Design", "build_design"]


@dataclass
class Design:
    """The coding of covariates learnt at fit time, re-applicable to new rows."""

    names: list[str]
    columns: list[str]  # data columns the design reads
    model_spec: object | None = None  # formulaic ModelSpec when formulaic coded the data
    aliases: dict | None = None  # column -> placeholder the ModelSpec knows it by
    terms: dict[str, list[str]] = field(default_factory=dict)  # term -> design columns

    def __post_init__(self):
        if not self.terms:
            self.terms = {str(c): [c] for c in self.names}

    def matrix(
        self,
        df: pd.DataFrame,
        argument: str = "df",
        rows: np.ndarray | None = None,
        columns_first: bool = False,
    ) -> np.ndarray:
        """Code ``df`` exactly as at fit time; refuse missing or non-finite values
        and category levels the fit never saw.

        ``rows`` (positions) returns the rows in that order, without a second
        full-size copy on the column route. ``columns_first`` returns the
        transpose, (p, n) C-ordered (coordinate descent reads it column by column).
        """
        check_columns(df, {argument: self.columns})
        if self.model_spec is None:
            if not self.columns:
                n = len(df) if rows is None else rows.shape[0]
                return np.zeros((0, n) if columns_first else (n, 0))
            return numeric_matrix(df, self.columns, rows, columns_first)
        for col in self.columns:
            check_no_missing(df[col], col)
        frame = _aliased(df, self.aliases)
        mm = _model_matrix(self.model_spec, frame, argument, self.aliases)
        X = np.asarray(mm, dtype=float)
        keep = [i for i, nm in enumerate(mm.columns) if nm != "Intercept"]
        X = X[:, keep] if rows is None else X[np.ix_(rows, keep)]
        n_bad = int((~np.isfinite(X)).sum())
        if n_bad:
            raise ValueError(
                f"{argument}: the formula produced {n_bad} non-finite value(s) (e.g. log of "
                "0); transform or filter the data first."
            )
        return np.ascontiguousarray(X.T if columns_first else X)


def build_design(
    df: pd.DataFrame,
    formula: str | Sequence[str] | None,
    argument: str = "formula",
    rows: np.ndarray | None = None,
    columns_first: bool = False,
) -> tuple[Design, np.ndarray]:
    """Build the design from a formula string or a list of columns (rows in ``rows``
    order); ``columns_first``: the matrix transposed, (p, n) (``Design.matrix``)."""
    if formula is None:
        raise ValueError(
            "formula is required: pass a right-hand side such as 'age + C(subtype)' "
            "or a list of column names."
        )
    if isinstance(formula, str):
        design, X = _from_formula(df, formula, argument, rows)
        return design, np.ascontiguousarray(X.T) if columns_first else X
    columns = list(formula)
    if not columns:
        raise ValueError(f"{argument} is an empty list; name at least one covariate column.")
    check_columns(df, {argument: columns})
    if len(set(columns)) != len(columns):
        raise ValueError(f"{argument} names a column more than once: {columns}.")
    dtypes = column_dtypes(df)
    categorical = [c for c in columns if _categorical_in_list(dtypes[c])]
    if not categorical:
        design = Design(names=[str(c) for c in columns], columns=columns)
        return design, design.matrix(df, argument, rows, columns_first)
    design, X = _from_column_list(df, columns, argument, rows)
    return design, np.ascontiguousarray(X.T) if columns_first else X


def _categorical_in_list(dtype) -> bool:
    """A listed column is coded as categories when pandas says it is categorical
    or it is text (mostly-numeric text is refused later, naming the cells)."""
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return False  # plain numbers: the common case, without pandas' slower checks
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def _from_column_list(
    df: pd.DataFrame, columns: list, argument: str, rows: np.ndarray | None
) -> tuple[Design, np.ndarray]:
    """Code a list of columns with formulaic, without parsing any column name."""
    from formulaic import Formula

    for col in columns:
        check_no_missing(df[col], col)
    refuse_numbers_as_text(df, columns, None, argument)
    aliases = {col: f"_v{j}" for j, col in enumerate(columns)}
    frame = _aliased(drop_unused_levels(df, columns, argument), aliases)
    parsed = Formula(" + ".join(aliases.values()))  # placeholders only
    mm = _model_matrix(parsed, frame, argument, aliases)
    original = {alias: col for col, alias in aliases.items()}
    colnames = [str(nm) for nm in mm.columns]
    names = list(colnames)
    terms: dict[str, list[str]] = {}
    for term, idx in mm.model_spec.term_indices.items():
        alias = str(term)
        if alias not in original:
            continue  # the intercept
        col = original[alias]
        for i in idx:
            names[i] = str(col) + colnames[i][len(alias) :]
        terms[str(col)] = [names[i] for i in idx]
    return _finish(mm, names, columns, argument, rows, aliases, terms)


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
    columns = required_columns(parsed, rhs)
    check_columns(df, {argument: columns})
    for col in columns:
        check_no_missing(df[col], col)
    refuse_numbers_as_text(df, columns, rhs, argument)
    frame = drop_unused_levels(df, columns, argument)
    mm = _model_matrix(parsed, frame, argument, None, formula)
    names = [str(nm) for nm in mm.columns]
    terms = {str(t): [names[i] for i in idx] for t, idx in mm.model_spec.term_indices.items()}
    return _finish(mm, names, columns, argument, rows, None, terms, formula)


def required_columns(parsed, rhs: str) -> list[str]:
    """The data columns a parsed formula reads.

    formulaic reports a backtick-quoted name with dots (age.at.dx in backticks,
    common in R exports) as the head of an attribute chain ("age"); the quoted
    name itself is the column, so quoted names are read from the text, and a
    head is dropped unless it is also used unquoted.
    """
    quoted = set(re.findall(r"`([^`]+)`", rhs))
    unquoted_text = re.sub(r"`[^`]*`", " ", rhs)
    heads = {q.split(".", 1)[0] for q in quoted if "." in q}
    found = {str(v) for v in parsed.required_variables}

    def used_unquoted(v: str) -> bool:
        return re.search(rf"(?<![\w.]){re.escape(v)}(?![\w`])", unquoted_text) is not None

    return sorted(quoted | {v for v in found if v not in heads or used_unquoted(v)})


def _finish(mm, names, columns, argument, rows, aliases, terms, formula=None):
    keep = [i for i, nm in enumerate(names) if nm != "Intercept"]
    X = np.asarray(mm, dtype=float)
    X = X[:, keep] if rows is None else X[np.ix_(rows, keep)]
    names = [names[i] for i in keep]
    what = f"{argument} {formula!r}" if formula is not None else argument
    if not names:
        raise ValueError(f"{what} has no covariates after coding.")
    n_bad = int((~np.isfinite(X)).sum())
    if n_bad:
        raise ValueError(
            f"{what} produced {n_bad} non-finite value(s) (e.g. log of 0); "
            "transform or filter the data first."
        )
    terms = {t: [c for c in cols if c != "Intercept"] for t, cols in terms.items()}
    terms = {t: cols for t, cols in terms.items() if cols}
    design = Design(
        names=names, columns=columns, model_spec=mm.model_spec, aliases=aliases, terms=terms
    )
    return design, np.ascontiguousarray(X)


def _aliased(df: pd.DataFrame, aliases: dict | None) -> pd.DataFrame:
    """The listed columns under their placeholder names (a copy of those columns only)."""
    if aliases is None:
        return df
    frame = df[list(aliases)]
    frame.columns = list(aliases.values())
    return frame


def _model_matrix(spec, frame: pd.DataFrame, argument: str, aliases, formula=None):
    """formulaic's model matrix, with its exceptions and its warning about unseen
    category levels (which it would code as the reference level) turned into
    ValueErrors that name the column."""
    from formulaic.errors import DataMismatchWarning

    what = f"{argument} {formula!r}" if formula is not None else argument
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataMismatchWarning)
        try:
            mm = spec.get_model_matrix(frame, na_action="raise")
        except Exception as exc:  # formulaic's evaluation/encoding errors, TypeError, ...
            raise ValueError(
                f"{what} could not be evaluated on these data ({type(exc).__name__}: {exc}); "
                "check the column types and values."
            ) from None
    for item in caught:
        if issubclass(item.category, DataMismatchWarning):
            _refuse_unseen_levels(spec, frame, argument, aliases, str(item.message))
        warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    return mm


def _refuse_unseen_levels(spec, frame, argument, aliases, message: str) -> None:
    """Raise naming the column and the levels that were not in the fitted data."""
    model_spec = getattr(spec, "encoder_state", None)
    original = {a: c for c, a in (aliases or {}).items()}
    for factor, (_kind, state) in (model_spec or {}).items():
        categories = state.get("categories") if isinstance(state, dict) else None
        if categories is None:
            continue
        name = str(factor)
        match = re.fullmatch(r"C\(\s*`?([^,`]+?)`?\s*(,.*)?\)", name)
        col = match.group(1) if match else name
        if col not in frame.columns:
            continue
        values = frame[col].dropna()
        new = [v for v in pd.unique(values) if v not in set(categories)]
        if new:
            label = original.get(col, col)
            n_rows = int(values.isin(new).sum())
            shown = ", ".join(repr(v) for v in new[:5])
            seen = ", ".join(repr(v) for v in list(categories)[:8])
            raise ValueError(
                f"{argument}: column {label!r} has {len(new)} level(s) not seen when the model "
                f"was fitted ({shown}; {n_rows} row(s)); they would silently be predicted "
                f"as the reference level. Levels at fit time: {seen}. Drop or recode those "
                "rows."
            )
    raise ValueError(f"{argument}: {message}")
