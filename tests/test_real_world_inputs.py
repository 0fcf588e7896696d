"""Issue 11: real-world inputs give a right answer or a clear ValueError, never silent garbage.

One test (or a few) per item of the issue; the item number is in each name.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from survkit import CoxPH, FineGray, cox_zph, fit_sites


@pytest.fixture
def df() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 120
    out = pd.DataFrame(
        {
            "age": rng.normal(60, 10, n),
            "grade": rng.choice(["low", "mid", "high"], n),
            "time": np.round(rng.exponential(2.0, n), 2) + 0.01,
            "status": rng.binomial(1, 0.7, n),
        }
    )
    out["event"] = out["status"] * rng.integers(1, 3, n)
    return out


# ------------------------------------------------------------- item 2
@pytest.mark.parametrize("stray", [".", "12,5", "NA "])
@pytest.mark.parametrize("formula", ["age + nodes", ["age", "nodes"]])
def test_item2_stray_text_cell_in_numeric_column_is_refused(df, stray, formula):
    bad = df.assign(nodes=df["age"].round(1).astype(str))
    bad.loc[[4, 9], "nodes"] = stray
    with pytest.raises(
        ValueError,
        match=rf"column 'nodes' is numeric except for 2 cell\(s\) that are not numbers "
        rf"\(first: '{stray}'\).*C\(nodes\)",
    ):
        CoxPH().fit(bad, "time", "status", formula=formula)


def test_item2_numbers_as_text_refused_but_explicit_c_is_categorical(df):
    text = df.assign(stage=np.where(df["age"] > 60, "2", "1"))
    with pytest.raises(ValueError, match=r"column 'stage' holds numbers stored as text"):
        CoxPH().fit(text, "time", "status", formula="age + stage")
    m = CoxPH().fit(text, "time", "status", formula="age + C(stage)")
    assert list(m.params_.index) == ["age", "C(stage)[T.2]"]
    # a column of words stays categorical, by formula or by list
    words = CoxPH().fit(df, "time", "status", formula=["age", "grade"])
    assert list(words.params_.index) == ["age", "grade[T.low]", "grade[T.mid]"]


# ------------------------------------------------------------- item 3
@pytest.mark.parametrize("formula", ["age + grade", ["age", "grade"], "age + C(grade)"])
def test_item3_unseen_level_at_prediction_is_refused(df, formula):
    m = CoxPH().fit(df, "time", "status", formula=formula)
    new = df.head(3).assign(grade=["low", "extreme", "extreme"])
    with pytest.raises(
        ValueError, match=r"column 'grade' has 1 level\(s\) not seen.*'extreme'; 2 row\(s\)"
    ):
        m.predict_partial_hazard(new)
    fg = FineGray().fit(df, "time", "event", cause=1, formula=formula)
    with pytest.raises(ValueError, match=r"column 'grade' has 1 level\(s\) not seen"):
        fg.predict_cumulative_incidence(new, [1.0])


def test_item10_formulaic_errors_at_prediction_become_value_errors(df):
    m = CoxPH().fit(df, "time", "status", formula="age + np.log(age)")
    with pytest.raises(ValueError, match=r"could not be evaluated"):
        m.predict_partial_hazard(df.head(2).assign(age=[{"a": 1}, {"b": 2}]))


# ------------------------------------------------------------- item 4
def test_item4_residuals_follow_the_callers_index(df):
    sub = df[df["age"] > 55].copy()
    sub.index = sub.index * 10 + 7  # filtered and relabelled
    m = CoxPH().fit(sub, "time", "status", formula=["age"])
    for kind in ("martingale", "deviance", "score", "dfbeta"):
        r = m.residuals(kind)
        assert r.index.equals(sub.index), kind
    # assignment aligns with the rows they belong to
    sub["r"] = m.residuals()
    positional = CoxPH().fit(sub.reset_index(drop=True), "time", "status", formula=["age"])
    np.testing.assert_allclose(sub["r"].to_numpy(), positional.residuals().to_numpy())
    # Schoenfeld: one row per event, labelled with the event row's index label
    sch = m.residuals("schoenfeld")
    rows = sch.index.get_level_values("row")
    assert set(rows) <= set(sub.index)
    np.testing.assert_allclose(sub.loc[rows, "time"].to_numpy(), sch.index.get_level_values("time"))
    assert (sub.loc[rows, "status"] == 1).all()


# ------------------------------------------------------------- item 5
def _monotone(df):
    out = df.copy()
    out["g"] = (np.arange(len(out)) < 30).astype(float)
    out.loc[out["g"] == 1, "status"] = 0  # no events when g = 1
    return out


def test_item5_monotone_likelihood_sets_converged_false_and_names_it(df):
    with pytest.warns(ConvergenceWarning, match=r"before coefficient\(s\) g;.*converged_ is False"):
        m = CoxPH().fit(_monotone(df), "time", "status", formula=["age", "g"])
    assert m.converged_ is False


def test_item5_non_convergence_names_the_coefficients(df):
    with pytest.warns(ConvergenceWarning, match=r"max_iter=1 .*still changing: .*age"):
        m = CoxPH(max_iter=1).fit(df, "time", "status", formula=["age", "grade"])
    assert m.converged_ is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert CoxPH().fit(df, "time", "status", formula=["age", "grade"]).converged_ is True


# ------------------------------------------------------------- item 7
def test_item7_backtick_names_with_dots_and_spaces(df):
    dotted = df.rename(columns={"age": "age.at.dx"}).assign(**{"tumour grade": df["grade"]})
    m = CoxPH().fit(dotted, "time", "status", formula="`age.at.dx` + `tumour grade`")
    ref = CoxPH().fit(df, "time", "status", formula="age + grade")
    np.testing.assert_allclose(m.params_.to_numpy(), ref.params_.to_numpy(), rtol=1e-10)
    assert m.params_.index[0] == "age.at.dx"
    # a quoted dotted name next to a real column named like its head
    both = dotted.assign(age=np.random.default_rng(0).normal(size=len(df)))
    m2 = CoxPH().fit(both, "time", "status", formula="`age.at.dx` + age")
    assert list(m2.params_.index) == ["age.at.dx", "age"]
    with pytest.raises(ValueError, match=r"column\(s\) not in the data: 'age.at.diagnosis'"):
        CoxPH().fit(dotted, "time", "status", formula="`age.at.diagnosis`")


# ------------------------------------------------------------- item 9
def test_item9_unused_categories_are_dropped_once_with_a_warning(df):
    sub = df.assign(grade=pd.Categorical(df["grade"], categories=["low", "mid", "high", "iv"]))
    with pytest.warns(UserWarning, match=r"level\(s\) with no rows.*'grade': 'iv'"):
        m = CoxPH().fit(sub, "time", "status", formula="age + grade")
    assert list(m.params_.index) == ["age", "grade[T.mid]", "grade[T.high]"]
    with pytest.warns(UserWarning, match=r"'grade': 'iv'"):
        listed = CoxPH().fit(sub, "time", "status", formula=["age", "grade"])
    np.testing.assert_allclose(listed.params_.to_numpy(), m.params_.to_numpy())


# ------------------------------------------------------------- item 10
def test_item10_cox_zph_with_one_event(df):
    one = df.assign(status=0)
    one.loc[3, "status"] = 1
    m = CoxPH().fit(one, "time", "status", formula=["age"])
    with pytest.raises(ValueError, match=r"cox_zph: the model has 1 event\(s\) at 1 distinct"):
        cox_zph(m)


def test_item10_duplicated_column_names(df):
    dup = pd.concat([df, df[["age"]]], axis=1)
    for formula in (["age"], "age"):
        with pytest.raises(ValueError, match=r"df has 1 duplicated column name\(s\) \('age'\)"):
            CoxPH().fit(dup, "time", "status", formula=formula)


def test_item10_fit_sites_with_pd_na(df):
    ev = df.assign(event=pd.array(df["event"], dtype="Int64"))
    ev.loc[2, "event"] = pd.NA
    with pytest.raises(ValueError, match=r"event column 'event' has 1 missing value"):
        fit_sites(ev, "time", "event", ["age"])
    with pytest.raises(ValueError, match=r"censor_value=<NA> is a missing value"):
        fit_sites(df, "time", "event", ["age"], censor_value=pd.NA)


def test_item10_duplicated_index_in_report_for_data(df):
    from survkit.report import report_for_data

    dup = df.set_axis(np.r_[np.arange(60), np.arange(60)])
    with pytest.raises(ValueError, match=r"df has 60 duplicated index label.*reset_index"):
        report_for_data(dup, "time", "event", ["age"], censor_value=0)


@pytest.mark.parametrize(
    ("params", "match"),
    [({"max_iter": -1}, r"max_iter=-1 must be a non-negative integer"), ({"tol": -5}, r"tol=-5")],
)
def test_item10_fine_gray_checks_its_settings(df, params, match):
    with pytest.raises(ValueError, match=match):
        FineGray(**params).fit(df, "time", "event", cause=1, formula=["age"])


def test_item10_cause_true_is_not_an_event_code(df):
    for model in (CoxPH(), FineGray()):
        with pytest.raises(ValueError, match=r"cause=True is not an event code"):
            model.fit(df, "time", "event", formula=["age"], cause=True)


def test_item10_duration_error_does_not_suggest_c(df):
    with pytest.raises(ValueError, match=r"column 'time' is not numeric") as info:
        CoxPH().fit(df.assign(time=df["time"].astype(str)), "time", "status", formula=["age"])
    assert "C(time)" not in str(info.value) and "to_numeric" in str(info.value)
