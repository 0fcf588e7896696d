"""Bad input to CoxPH: every error names the column, the count and a fix."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from survkit import CoxPH


@pytest.fixture
def df():
    rng = np.random.default_rng(3)
    n = 60
    out = pd.DataFrame(
        {
            "time": rng.exponential(1, n).round(2) + 0.01,
            "status": rng.integers(0, 2, n),
            "age": rng.normal(60, 8, n),
            "nodes": rng.poisson(2, n).astype(float),
            "grp": rng.choice(["a", "b", "c"], n),
        }
    )
    out.loc[0, "status"] = 1
    return out


def fit(df, **kw):
    args = dict(duration_col="time", event_col="status", formula="age + nodes")
    args.update(kw)
    return CoxPH().fit(df, **args)


def test_missing_column(df):
    with pytest.raises(ValueError, match=r"duration_col: 1 column\(s\) not in the data: 'tiem'"):
        fit(df, duration_col="tiem")
    with pytest.raises(ValueError, match=r"formula: 1 column\(s\) not in the data: 'ages'"):
        fit(df, formula="ages + nodes")


def test_nan_in_covariate_is_refused_not_dropped(df):
    bad = df.copy()
    bad.loc[[3, 7], "age"] = np.nan
    with pytest.raises(ValueError, match=r"column 'age' has 2 missing \(NaN\) value"):
        fit(bad, formula=["age", "nodes"])
    with pytest.raises(ValueError, match=r"column .age. has 2 missing \(NaN\) value"):
        fit(bad)


def test_inf_in_duration(df):
    bad = df.copy()
    bad.loc[2, "time"] = np.inf
    with pytest.raises(ValueError, match=r"column 'time' has 1 infinite value"):
        fit(bad)


def test_negative_durations(df):
    bad = df.copy()
    bad.loc[[1, 2, 3], "time"] = -1.0
    with pytest.raises(ValueError, match=r"time has 3 negative value\(s\); durations must be >= 0"):
        fit(bad)


def test_entry_not_before_stop(df):
    bad = df.assign(entry=df["time"] / 2)
    bad.loc[[4, 5], "entry"] = bad.loc[[4, 5], "time"]
    with pytest.raises(ValueError, match=r"2 row\(s\) have entry >= time"):
        fit(bad, entry_col="entry")


def test_event_not_binary_without_cause(df):
    bad = df.copy()
    bad.loc[[0, 1], "status"] = 2
    with pytest.raises(ValueError, match=r"has 2 value\(s\) other than 0/1 \(2\).*cause="):
        fit(bad)


def test_cause_absent(df):
    with pytest.raises(ValueError, match=r"cause=3 never occurs in column 'status'"):
        fit(df, cause=3)


def test_censor_value_absent(df):
    coded = df.assign(status=np.where(df["status"] == 1, "bone", "censored"))
    with pytest.raises(ValueError, match=r"censor_value=0 never occurs.*censor_value="):
        fit(coded, cause="bone")


def test_bad_weights(df):
    bad = df.assign(w=1.0)
    bad.loc[[1, 2], "w"] = 0.0
    bad.loc[3, "w"] = -1.0
    with pytest.raises(ValueError, match=r"weights column 'w' has 3 zero or negative value"):
        fit(bad, weights_col="w")
    bad.loc[[1, 2, 3], "w"] = np.nan
    with pytest.raises(ValueError, match=r"column 'w' has 3 missing"):
        fit(bad, weights_col="w")


def test_no_events(df):
    with pytest.raises(ValueError, match=r"has no events \(all 60 rows censored\)"):
        fit(df.assign(status=0))


def test_constant_covariate(df):
    with pytest.raises(ValueError, match=r"covariate 'one' is constant \(all 60 rows equal 1\)"):
        fit(df.assign(one=1.0), formula=["age", "one"])


def test_collinear_covariate_named(df):
    bad = df.assign(age2=2 * df["age"] - df["nodes"])
    with pytest.raises(
        ValueError, match=r"covariate 'age2' is perfectly collinear with 'age', 'nodes'"
    ):
        fit(bad, formula=["age", "nodes", "age2"])


def test_non_numeric_column_without_formula(df):
    # issue 11: a listed text column is coded as categories, exactly as the
    # formula "age + grp" codes it (the list is never parsed as a formula)
    listed = fit(df, formula=["age", "grp"])
    assert list(listed.params_.index) == ["age", "grp[T.b]", "grp[T.c]"]
    by_formula = fit(df, formula="age + grp")
    np.testing.assert_allclose(listed.params_.to_numpy(), by_formula.params_.to_numpy())
    # the formula route codes it
    m = fit(df, formula="age + C(grp)")
    assert list(m.params_.index) == ["age", "C(grp)[T.b]", "C(grp)[T.c]"]


def test_caller_dataframe_untouched(df):
    before = df.copy(deep=True)
    fit(df.assign(s=df["nodes"] > 1), formula="age + C(grp)", strata="s")
    pd.testing.assert_frame_equal(df, before)


def test_bad_params(df):
    with pytest.raises(ValueError, match="ties='exact' is not supported"):
        CoxPH(ties="exact").fit(df, "time", "status", formula=["age"])
    with pytest.raises(ValueError, match=r"conf_level=1\.5"):
        CoxPH(conf_level=1.5).fit(df, "time", "status", formula=["age"])


def test_not_fitted():
    with pytest.raises(ValueError, match="not fitted yet"):
        CoxPH().summary  # noqa: B018


def test_sklearn_conventions(df):
    model = CoxPH(ties="breslow", conf_level=0.9)
    assert model.get_params() == {"ties": "breslow", "conf_level": 0.9, "tol": 1e-9, "max_iter": 20}
    assert clone(model).get_params() == model.get_params()
    assert model.fit(df, "time", "status", formula=["age"]) is model
    # refitting forgets the old fit
    model.fit(df, "time", "status", formula=["nodes"])
    assert list(model.params_.index) == ["nodes"]
    assert "lower 0.9" in model.summary.columns


def test_strata_with_missing(df):
    bad = df.assign(s=np.where(np.arange(60) < 5, np.nan, 1.0))
    with pytest.raises(ValueError, match=r"strata column 's' has 5 missing"):
        fit(bad, strata="s")


def test_prediction_outside_follow_up(df):
    m = fit(df)
    last = df["time"].max()
    with pytest.raises(ValueError, match=r"1 value\(s\) beyond the last follow-up time"):
        m.predict_survival(df.head(2), [0.5, last + 1])
    with pytest.raises(ValueError, match=r"negative or missing"):
        m.predict_survival(df.head(2), [-1.0])
