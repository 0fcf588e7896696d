"""Reading the design column by column (CoxNet's layout) gives the row-major design, transposed."""

import io

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


def _layouts():
    """The same 30 x 4 float columns held by pandas in different ways."""
    rng = np.random.default_rng(11)
    values = rng.standard_normal((30, 4))
    names = ["w", "x", "y", "z"]
    frames = {
        "from a C array": pd.DataFrame(values, columns=names),
        "from an F array": pd.DataFrame(np.asfortranarray(values), columns=names),
        "from a dict": pd.DataFrame({c: values[:, j].copy() for j, c in enumerate(names)}),
        "read from csv": pd.read_csv(
            io.StringIO(pd.DataFrame(values, columns=names).to_csv(index=False))
        ),
    }
    for df in frames.values():
        df["time"] = np.arange(1.0, 31.0)
        df["status"] = np.tile([0, 1], 15)
    return frames


@pytest.mark.parametrize("name", list(_layouts()))
def test_frame_columns_in_place_is_pandas_own_array_or_none(name):
    from survkit.data.columns_first import frame_columns_in_place

    df = _layouts()[name]
    for cols in (["w", "x", "y", "z"], ["x", "y"], ["z"]):
        view = frame_columns_in_place(df, cols)
        assert view is not None, cols
        np.testing.assert_array_equal(view, df[cols].to_numpy())
        for j, c in enumerate(cols):  # the very memory pandas holds the column in
            assert np.shares_memory(view[:, j], df[c].to_numpy())
    # out of order, with a gap, or with a column of another block: no view
    for cols in (["x", "w"], ["w", "y"], ["z", "time"], ["w", "status"]):
        assert frame_columns_in_place(df, cols) is None, cols


@pytest.mark.parametrize("name", list(_layouts()))
def test_reading_in_place_equals_the_copy_and_leaves_the_frame_alone(name, monkeypatch):
    import survkit.data.validation as validation

    df = _layouts()[name]
    before = df.copy()
    kw = dict(duration_col="time", event_col="status", sort_rows=True, columns_first=True)
    in_place = read_survival_data(df, formula=["w", "x", "y"], **kw).X
    monkeypatch.setattr(validation, "frame_columns_in_place", lambda df, columns: None)
    copied = read_survival_data(df, formula=["w", "x", "y"], **kw).X
    np.testing.assert_array_equal(in_place, copied)
    assert not np.shares_memory(in_place, df["w"].to_numpy())
    pd.testing.assert_frame_equal(df, before)
