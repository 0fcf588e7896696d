"""Reading the design column by column (CoxNet's layout) gives the row-major design, transposed."""

import numpy as np
import pandas as pd
import pytest

from survkit.data.survival_data import read_survival_data


def _frame(layout):
    rng = np.random.default_rng(5)
    n = 40
    values = rng.standard_normal((n, 3))
    if layout == "F":
        values = np.asfortranarray(values)
    df = pd.DataFrame(values, columns=["a", "b", "c"])
    df["grade"] = rng.choice(["I", "II", "III"], n)
    df["time"] = rng.exponential(1, n).round(2) + 0.01
    df["status"] = rng.integers(0, 2, n)
    df.loc[0, "status"] = 1
    return df


FORMULAS = [["a", "b", "c"], ["a", "grade"], "a + np.log(b**2) + C(grade)"]


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("sort_rows", [False, True])
def test_columns_first_is_the_transpose(layout, formula, sort_rows):
    df = _frame(layout)
    kw = dict(duration_col="time", event_col="status", formula=formula, sort_rows=sort_rows)
    rows = read_survival_data(df, **kw)
    cols = read_survival_data(df, columns_first=True, **kw)
    assert cols.X.flags.c_contiguous
    assert cols.X.shape == rows.X.shape[::-1]
    np.testing.assert_array_equal(cols.X, rows.X.T)
    assert cols.design.names == rows.design.names


@pytest.mark.parametrize("columns_first", [False, True])
def test_a_constant_covariate_is_refused_by_name(columns_first):
    df = _frame("C")
    df["k"] = 2.5
    df["m"] = -1.0
    # equal to the first row except in the last: varies, so not refused
    df["late"] = 0.0
    df.loc[39, "late"] = 1e-300
    kw = dict(duration_col="time", event_col="status", columns_first=columns_first)
    read_survival_data(df, formula=["a", "late"], **kw)
    # the first constant covariate of the formula is named, with its value
    with pytest.raises(ValueError, match=r"covariate 'k' is constant \(all 40 rows equal 2.5\)"):
        read_survival_data(df, formula=["a", "late", "k", "m"], **kw)
    with pytest.raises(ValueError, match=r"covariate 'm' is constant \(all 40 rows equal -1\)"):
        read_survival_data(df, formula=["m", "a", "k"], **kw)


def test_columns_first_names_a_missing_cell():
    df = _frame("C")
    df.loc[3, "b"] = np.nan
    with pytest.raises(ValueError, match="'b'"):
        read_survival_data(
            df, duration_col="time", event_col="status", formula=["a", "b"], columns_first=True
        )


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("n", [6, 8, 21])  # below, at and across the 8-row tiles
def test_gather_from_either_layout(order, n):
    from survkit.data.columns_first import gather_columns_first

    A = np.asarray(np.arange(n * 4.0).reshape(n, 4), order=order)
    rows = np.random.default_rng(n).permutation(n)
    Xt, finite = gather_columns_first(A, rows)
    np.testing.assert_array_equal(Xt, A[rows].T)
    assert Xt.flags.c_contiguous and finite is True
    Xt, finite = gather_columns_first(A, None)
    np.testing.assert_array_equal(Xt, A.T)
    for bad in (np.nan, np.inf, -np.inf):
        B = A.copy(order=order)
        B[n - 1, 3] = bad  # in the last tile's last column
        Xt, finite = gather_columns_first(B, rows)
        assert finite is False
        np.testing.assert_array_equal(Xt, B[rows].T)


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_columns_first_names_an_infinite_cell(bad):
    df = _frame("C")
    df.loc[2, "a"] = bad
    with pytest.raises(ValueError, match="'a' has 1 infinite"):
        read_survival_data(
            df, duration_col="time", event_col="status", formula=["a", "b"], columns_first=True
        )
