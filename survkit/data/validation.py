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

from .columns_first import frame_columns_in_place, gather_columns_first

__all__ = [
    "EventCoding",
    "array_matrix",
    "as_column_list",
    "check_choice",
    "check_columns",
    "check_covariate_names",
    "check_cut_points",
    "check_finite_numeric",
    "check_identifiable",
    "check_no_missing",
    "check_times",
    "check_weights",
    "column_dtypes",
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
    column_dtypes(df, argument)  # refuses duplicated names
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


def column_dtypes(df: pd.DataFrame, argument: str = "df") -> dict:
    """Column name -> dtype for the whole frame, in one call (a Series per column
    costs ~10 us each, noticeable at thousands of covariates); refuses duplicated
    names, as ``check_dataframe``, since a dict would keep only the last."""
    duplicated = df.columns[df.columns.duplicated()].unique()
    if len(duplicated):
        shown = ", ".join(repr(c) for c in list(duplicated)[:5])
        raise ValueError(
            f"{argument} has {len(duplicated)} duplicated column name(s) ({shown}); a column "
            "must be named once. Rename or drop the duplicates first."
        )
    return dict(zip(df.columns, df.dtypes, strict=True))


def check_no_missing(values: pd.Series, column: str) -> None:
    n = int(values.isna().sum())
    if n:
        raise ValueError(
            f"column {column!r} has {n} missing (NaN) value(s); survkit never drops rows "
            f"silently. Remove or impute them first, e.g. df.dropna(subset=[{column!r}])."
        )


def check_finite_numeric(
    values: pd.Series | np.ndarray, column: str, covariate: bool = False
) -> np.ndarray:
    """Return ``values`` as float64, refusing non-numeric, NaN and infinite entries.

    ``covariate``: the column is a model covariate, so coding it as categories
    is a possible fix (for a time, weight or offset column it is not).
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        fix = (
            f"convert it, or use a formula such as 'C({column})' to dummy-code a "
            "categorical column."
            if covariate
            else f"it must hold numbers; convert it, e.g. pandas.to_numeric(df[{column!r}])."
        )
        raise ValueError(f"column {column!r} is not numeric (dtype {series.dtype}); {fix}")
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
    df: pd.DataFrame,
    columns: list[str],
    rows: np.ndarray | None = None,
    columns_first: bool = False,
) -> np.ndarray:
    """The named columns as one C-ordered float64 matrix, rows taken in ``rows`` order:
    (n, p), or with ``columns_first`` its transpose (p, n), built in one gather.

    One conversion and one finiteness pass over the whole block; column-wise
    checks only run to name the culprit once something is wrong.
    """
    dtypes = column_dtypes(df)  # one lookup table, not a Series per column
    for col in columns:
        dtype = dtypes[col]
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            continue  # plain numbers, without pandas' slower dtype checks
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            check_finite_numeric(df[col], col, covariate=True)  # raises, naming the column
    if columns_first:
        # the gather reads the columns where pandas holds them, when it can
        A = frame_columns_in_place(df, columns)
        if A is not None:
            return array_matrix(A, columns, rows, columns_first)
    A = df[columns].to_numpy(dtype=float, na_value=np.nan)
    return array_matrix(A, columns, rows, columns_first, owned=True)


def array_matrix(
    A: np.ndarray,
    columns: list[str],
    rows: np.ndarray | None = None,
    columns_first: bool = False,
    owned: bool = False,
) -> np.ndarray:
    """``numeric_matrix`` of covariates already held as one float array (n, p) whose
    columns are ``columns`` (the scikit-learn form's ``X``): rows taken in ``rows``
    order, (n, p) or with ``columns_first`` (p, n); a non-finite value is refused
    naming its column. The result is a new array unless ``owned`` (``A`` is a
    copy the caller made for this): the caller's ``A`` is only read."""
    if A.ndim != 2 or A.shape[1] != len(columns) or A.dtype != np.float64:
        raise ValueError(
            f"covariate values must be a float array with {len(columns)} column(s), "
            f"got {A.dtype} of shape {A.shape}."
        )
    if columns_first:
        Xt, finite = gather_columns_first(A, rows)  # checks finiteness on the way
    else:
        Xt, finite = None, np.isfinite(A).all()
    if not finite:
        for j, col in enumerate(columns):
            check_finite_numeric(A[:, j], col)  # raises, naming the column and count
    if Xt is not None:
        return Xt
    if rows is not None:
        return np.take(A, rows, axis=0)  # a new C-ordered array; A is released
    return np.ascontiguousarray(A) if owned else np.array(A, order="C")


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

    ``labels`` are the non-censoring codes in sorted order (integers first,
    then strings) and ``cause_index`` gives each row 0 when censored or k when
    its code is ``labels[k - 1]``. ``status`` is 1 where the event of interest
    (``cause``) happened; every other non-censoring code is a competing event.
    """

    status: np.ndarray
    censored: np.ndarray
    cause: object
    labels: tuple
    cause_index: np.ndarray

    def index_of(self, cause: object, column: str) -> int:
        """1-based position of ``cause`` among the labels (ValueError if absent)."""
        code = _normalise_code(cause, column, "cause")
        if code not in self.labels:
            shown = ", ".join(repr(v) for v in self.labels[:8])
            raise ValueError(
                f"cause={code!r} never occurs in column {column!r} (event codes present: "
                f"{shown}); pass one of them."
            )
        return self.labels.index(code) + 1


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


def _sort_key(v: object) -> tuple:
    return (isinstance(v, str), v if not isinstance(v, str) else 0, str(v))


def encode_events(
    events: pd.Series,
    column: str,
    cause: object = None,
    censor_value: object = 0,
) -> EventCoding:
    """Read an event column.

    With ``cause=None`` the column must be a 0/1 (or boolean) indicator.
    Otherwise codes equal to ``censor_value`` are censored (``censor_value=None``:
    nothing is), every other code is an event type; ``cause`` (if given) is the
    event of interest and every other code a competing event. Codes may be
    integers or strings; floats must hold integers.
    """
    n_missing = int(events.isna().sum())
    if n_missing:
        raise ValueError(
            f"event column {column!r} has {n_missing} missing value(s); code censoring "
            "explicitly (e.g. 0) instead of leaving it missing."
        )
    raw_codes, uniques = pd.factorize(events, sort=False)
    uniques = list(uniques)
    normalised = []
    for u in uniques:
        try:
            normalised.append(_normalise_code(u, column, "code"))
        except ValueError:
            bad = [
                v
                for v in uniques
                if isinstance(v, (float, np.floating)) and (not np.isfinite(v) or v != round(v))
            ]
            n_bad = int(events.isin(bad).sum())
            raise ValueError(
                f"event column {column!r} has {n_bad} value(s) that are not integer codes "
                f"(e.g. {u!r}); event codes must be integers or strings."
            ) from None

    if cause is None:
        bad = [v for v in normalised if v not in (0, 1)]
        if bad:
            n_bad = int(np.isin(raw_codes, [normalised.index(b) for b in bad]).sum())
            shown = ", ".join(repr(b) for b in bad[:5])
            raise ValueError(
                f"event column {column!r} has {n_bad} value(s) other than 0/1 ({shown}); with "
                "cause=None the event column must be a 0/1 indicator (1 = event). For coded "
                "outcomes pass cause=<code of interest> and censor_value=<censoring code>."
            )
        is_one = np.array([v == 1 for v in normalised], dtype=bool)
        status = is_one[raw_codes].astype(np.int8)
        return EventCoding(status, status == 0, 1, (1,), status.astype(np.int64))

    if censor_value is not None:
        censor_value = _normalise_code(censor_value, column, "censor_value")
        if censor_value not in normalised:
            shown = ", ".join(repr(v) for v in sorted(normalised, key=_sort_key)[:8])
            raise ValueError(
                f"censor_value={censor_value!r} never occurs in column {column!r} (values "
                f"present: {shown}); pass the code used for censoring, or censor_value=None "
                "if no observation is censored."
            )
    labels = tuple(sorted({v for v in normalised if v != censor_value}, key=_sort_key))
    if not labels:
        raise ValueError(
            f"event column {column!r} has no events (all {len(events)} rows censored); "
            "there is nothing to estimate."
        )
    position = {v: k + 1 for k, v in enumerate(labels)}
    lookup = np.array([position.get(v, 0) for v in normalised], dtype=np.int64)
    cause_index = lookup[raw_codes]
    censored = cause_index == 0
    coding = EventCoding(np.zeros(0, np.int8), censored, None, labels, cause_index)
    if cause is True:  # every event type is of interest (all-cause models)
        return coding
    if censor_value is not None and _normalise_code(cause, column, "cause") == censor_value:
        raise ValueError(
            f"cause and censor_value are both {censor_value!r}; the censoring code must differ "
            "from the event of interest."
        )
    k = coding.index_of(cause, column)
    status = (cause_index == k).astype(np.int8)
    return EventCoding(status, censored, labels[k - 1], labels, cause_index)


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


# ------------------------------------------------- diagnostics and episode splitting


def check_choice(value: object, allowed: Sequence[str], argument: str) -> None:
    """``value`` must be one of ``allowed`` (strings)."""
    if not isinstance(value, str) or value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{argument}={value!r} is not supported; use one of {shown}.")


def check_covariate_names(requested: Sequence[str], available: Sequence[str], what: str) -> None:
    """Every requested covariate/term must be in the model, with the model's names shown."""
    missing = [r for r in requested if r not in available]
    if missing:
        shown = ", ".join(repr(m) for m in missing)
        have = ", ".join(repr(a) for a in available)
        raise ValueError(
            f"{what}: {len(missing)} covariate(s)/term(s) not in the model: {shown}. "
            f"The model has: {have}."
        )


def check_cut_points(
    cuts: object, follow_up_start: float, follow_up_end: float, argument: str = "cuts"
) -> np.ndarray:
    """Cut points must be finite, > 0, strictly increasing and inside follow-up.

    "Inside follow-up" means earliest entry < cut < last stop time: a cut at or
    beyond either end would split no row and create an empty period.
    """
    arr = np.atleast_1d(np.asarray(cuts, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{argument} must be a non-empty list of cut times, got {cuts!r}.")
    n_bad = int((~np.isfinite(arr)).sum())
    if n_bad:
        raise ValueError(f"{argument} has {n_bad} missing or infinite value(s); give finite times.")
    n_nonpos = int((arr <= 0).sum())
    if n_nonpos:
        raise ValueError(
            f"{argument} has {n_nonpos} value(s) <= 0 ({arr[arr <= 0].tolist()}); cut times "
            "must be > 0 (time 0 is the start of follow-up)."
        )
    n_unsorted = int((np.diff(arr) <= 0).sum())
    if n_unsorted:
        raise ValueError(
            f"{argument} {arr.tolist()} is not strictly increasing ({n_unsorted} "
            f"out-of-order or repeated value(s)); pass sorted, distinct cut times, "
            f"e.g. {sorted(set(arr.tolist()))}."
        )
    outside = (arr <= follow_up_start) | (arr >= follow_up_end)
    if outside.any():
        raise ValueError(
            f"{argument}: {int(outside.sum())} cut time(s) outside follow-up "
            f"({arr[outside].tolist()}); every cut must lie strictly between the earliest "
            f"entry time ({follow_up_start:g}) and the last follow-up time "
            f"({follow_up_end:g}), otherwise a period would be empty."
        )
    return arr
