"""Input checks shared by every model.

Every model in survkit goes through these functions, so the same data gets the
same verdict everywhere (entry < stop for Cox, Fine-Gray and the incidence
estimators alike). Each error is a ``ValueError`` naming the argument or column,
how many values are affected, and what to do about it. Nothing here modifies
the caller's DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "EventCoding",
    "as_column_list",
    "check_columns",
    "check_finite_numeric",
    "check_identifiable",
    "check_no_missing",
    "check_times",
    "check_weights",
    "encode_events",
    "numeric_matrix",
]


def as_column_list(cols: str | Sequence[str] | None) -> list[str]:
    """Normalise a column argument (``None``, one name or a list) to a list."""
    if cols is None:
        return []
    if isinstance(cols, str):
        return [cols]
    return list(cols)


def check_dataframe(df: object, argument: str = "df") -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"{argument} must be a pandas DataFrame, got {type(df).__name__}; "
            "wrap arrays with pandas.DataFrame(...) and name the columns."
        )
    if len(df) == 0:
        raise ValueError(f"{argument} has 0 rows; there is nothing to fit.")
    return df


def check_columns(df: pd.DataFrame, columns: dict[str, Iterable[str]]) -> None:
    """Raise if any named column is absent. ``columns`` maps argument -> names."""
    for argument, names in columns.items():
        missing = [c for c in names if c not in df.columns]
        if missing:
            shown = ", ".join(repr(c) for c in missing)
            available = ", ".join(repr(c) for c in list(df.columns)[:12])
            more = " ..." if df.shape[1] > 12 else ""
            raise ValueError(
                f"{argument}: {len(missing)} column(s) not in the data: {shown}. "
                f"Available columns: {available}{more}."
            )


def check_no_missing(values: pd.Series, column: str) -> None:
    n = int(values.isna().sum())
    if n:
        raise ValueError(
            f"column {column!r} has {n} missing (NaN) value(s); survkit never drops rows "
            f"silently. Remove or impute them first, e.g. df.dropna(subset=[{column!r}])."
        )


def check_finite_numeric(values: pd.Series | np.ndarray, column: str) -> np.ndarray:
    """Return ``values`` as float64, refusing non-numeric, NaN and infinite entries."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        raise ValueError(
            f"column {column!r} is not numeric (dtype {series.dtype}); "
            "convert it, or use a formula such as "
            f"'C({column})' to dummy-code a categorical column."
        )
    check_no_missing(series, column)
    arr = series.to_numpy(dtype=float, na_value=np.nan)
    bad_inf = int(np.isinf(arr).sum())
    if bad_inf:
        raise ValueError(
            f"column {column!r} has {bad_inf} infinite value(s); replace them with finite "
            "values or drop those rows."
        )
    return arr


def numeric_matrix(
    df: pd.DataFrame, columns: list[str], rows: np.ndarray | None = None
) -> np.ndarray:
    """The named columns as one C-ordered float64 matrix, rows taken in ``rows`` order.

    Filled column by column, so the only full-size allocation is the result;
    non-numeric, missing and infinite values are refused with the column named.
    """
    n = len(df) if rows is None else rows.shape[0]
    X = np.empty((n, len(columns)))
    for j, col in enumerate(columns):
        values = df[col]
        dtype = values.dtype
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            check_finite_numeric(values, col)  # raises the non-numeric message
        arr = values.to_numpy(dtype=float, na_value=np.nan)
        if not np.isfinite(arr).all():
            check_finite_numeric(arr, col)  # raises, naming the count
        X[:, j] = arr if rows is None else arr[rows]
    return X


def check_times(
    stop: np.ndarray,
    stop_name: str,
    start: np.ndarray | None = None,
    start_name: str | None = None,
) -> None:
    """Durations must be >= 0 and, with entry times, entry < stop on every row."""
    n_negative = int((stop < 0).sum())
    if n_negative:
        raise ValueError(f"{stop_name} has {n_negative} negative value(s); durations must be >= 0.")
    if start is not None:
        n_neg_start = int((start < 0).sum())
        if n_neg_start:
            raise ValueError(
                f"{start_name} has {n_neg_start} negative value(s); entry times must be >= 0."
            )
        n_bad = int((start >= stop).sum())
        if n_bad:
            raise ValueError(
                f"{n_bad} row(s) have {start_name} >= {stop_name}; every (entry, stop] "
                "interval must have entry < stop. Drop zero-length intervals or fix the times."
            )


def check_weights(weights: np.ndarray, column: str) -> None:
    n_bad = int((weights <= 0).sum())
    if n_bad:
        raise ValueError(
            f"weights column {column!r} has {n_bad} zero or negative value(s); case weights "
            "must be > 0. Drop rows that should not count instead of giving them weight 0."
        )


@dataclass(frozen=True)
class EventCoding:
    """How the event column was read.

    ``status`` is 1 where the event of interest happened, ``censored`` marks
    censoring, and ``codes``/``labels`` give every non-censoring code (the
    competing events are the codes other than ``cause``).
    """

    status: np.ndarray
    censored: np.ndarray
    cause: object
    labels: tuple


def _normalise_code(value: object, column: str, what: str) -> object:
    """Integers stored as floats (1.0) compare equal to ints; other floats are refused."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value) or value != np.round(value):
            raise ValueError(
                f"{what} {value!r} in column {column!r} is not an integer code; event codes "
                "must be integers or strings (e.g. 0 = censored, 1 = bone, 2 = death)."
            )
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def encode_events(
    events: pd.Series,
    column: str,
    cause: object = None,
    censor_value: object = 0,
) -> EventCoding:
    """Read an event column into a 0/1 status for ``cause``.

    With ``cause=None`` the column must be a 0/1 (or boolean) indicator.
    With ``cause`` given, codes equal to ``censor_value`` are censored, codes equal
    to ``cause`` are events, every other code is a competing event (censored for a
    cause-specific model). Codes may be integers or strings.
    """
    if events.isna().any():
        n = int(events.isna().sum())
        raise ValueError(
            f"event column {column!r} has {n} missing value(s); code censoring explicitly "
            "(e.g. 0) instead of leaving it missing."
        )
    values = events.to_numpy()
    if values.dtype.kind == "f":
        frac = values != np.round(values)
        if np.isinf(values).any() or frac.any():
            n = int(frac.sum() + np.isinf(values).sum())
            raise ValueError(
                f"event column {column!r} has {n} value(s) that are not integer codes; "
                "event codes must be integers or strings."
            )
        values = values.astype(np.int64)
    elif values.dtype.kind == "b":
        values = values.astype(np.int64)

    uniques = pd.unique(values)
    if cause is None:
        allowed = {0, 1}
        try:
            bad = [u for u in uniques if u not in allowed]
        except TypeError:  # unhashable or odd types
            bad = list(uniques)
        if bad:
            shown = ", ".join(repr(_normalise_code(b, column, "code")) for b in bad[:5])
            n_bad = int(np.isin(values, bad).sum())
            raise ValueError(
                f"event column {column!r} has {n_bad} value(s) other than 0/1 ({shown}); with "
                "cause=None the event column must be a 0/1 indicator (1 = event). For coded "
                "outcomes pass cause=<code of interest> and censor_value=<censoring code>."
            )
        status = (values == 1).astype(np.int8)
        return EventCoding(status=status, censored=status == 0, cause=1, labels=(1,))

    cause = _normalise_code(cause, column, "cause")
    if censor_value is not None:
        censor_value = _normalise_code(censor_value, column, "censor_value")
        if censor_value == cause:
            raise ValueError(
                f"cause and censor_value are both {cause!r}; the censoring code must differ "
                "from the event of interest."
            )
    status = (values == cause).astype(np.int8)
    if not status.any():
        shown = ", ".join(repr(_normalise_code(u, column, "code")) for u in uniques[:8])
        raise ValueError(
            f"cause={cause!r} never occurs in column {column!r} (values present: {shown}); "
            "pass one of the codes present."
        )
    if censor_value is None:
        censored = np.zeros(len(values), dtype=bool)
    else:
        censored = values == censor_value
        if not censored.any():
            shown = ", ".join(repr(_normalise_code(u, column, "code")) for u in uniques[:8])
            raise ValueError(
                f"censor_value={censor_value!r} never occurs in column {column!r} (values "
                f"present: {shown}); pass the code used for censoring, or censor_value=None "
                "if no observation is censored."
            )
    labels = tuple(
        sorted(
            {_normalise_code(u, column, "code") for u in uniques} - {censor_value},
            key=lambda v: (isinstance(v, str), v),
        )
    )
    return EventCoding(status=status, censored=censored, cause=cause, labels=labels)


def check_identifiable(information: np.ndarray, names: Sequence[str]) -> None:
    """Refuse covariates whose coefficient the data cannot identify, naming them.

    Works on the information matrix at the start of the fit (a weighted
    covariance of the covariates within the risk sets): a covariate with no
    variation there, or one that is a linear combination of earlier ones, has a
    zero pivot. Scaled to a correlation matrix, a pivot below 1e-11 is zero.
    """
    p = information.shape[0]
    diag = np.diag(information)
    for j in range(p):
        if not diag[j] > 0:
            raise ValueError(
                f"covariate {names[j]!r} does not vary among the subjects at risk at any event "
                "time; its coefficient is not identifiable. Remove it from the formula."
            )
    scale = np.sqrt(diag)
    corr = information / np.outer(scale, scale)
    kept: list[int] = []
    for j in range(p):
        coef = np.linalg.solve(corr[np.ix_(kept, kept)], corr[kept, j]) if kept else np.zeros(0)
        pivot = 1.0 - corr[kept, j] @ coef if kept else 1.0
        if pivot < 1e-11:
            partners = [names[kept[i]] for i in np.flatnonzero(np.abs(coef) > 1e-6)]
            shown = ", ".join(repr(nm) for nm in partners) or "earlier covariates"
            raise ValueError(
                f"covariate {names[j]!r} is perfectly collinear with {shown}; its coefficient "
                "is not identifiable. Remove one of them from the formula."
            )
        kept.append(j)
