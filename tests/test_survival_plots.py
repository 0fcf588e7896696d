"""Survival plots and numbers at risk: the plotted data and the written counts."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from survkit import CoxPH, aalen_johansen, kaplan_meier, plot_cumulative_incidence, plot_survival
from survkit.plots.at_risk import add_at_risk_counts, at_risk_counts

from .reference_cases import data


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_at_risk_counts_are_the_kaplan_meier_risk_sets():
    heart = data("heart.csv")
    times = np.array([1.0, 30.0, 100.0, 400.0])
    counts = at_risk_counts(heart, "stop", times, group_col="surgery", entry_col="start")
    km = kaplan_meier(heart, "stop", "event", group_col="surgery", entry_col="start", times=times)
    for g in (0, 1):
        np.testing.assert_array_equal(
            counts.loc[g].to_numpy(), km[km["group"] == g]["n_risk"].to_numpy()
        )
    # without entry times: everyone with stop >= t
    lung = data("lung.csv")
    plain = at_risk_counts(lung, "time", [0.0, 200.0])
    assert plain.loc["all"].tolist() == [len(lung), int((lung["time"] >= 200).sum())]


def test_plot_survival_draws_steps_bands_and_at_risk_rows():
    lung = data("lung.csv")
    km = kaplan_meier(lung, "time", "status", group_col="sex")
    times = [0, 250, 500, 750]
    fig = plot_survival(
        km, at_risk={"df": lung, "duration_col": "time", "group_col": "sex", "times": times}
    )
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["1", "2"]
    for ln, g in zip(lines, [1, 2], strict=True):
        curve = km[km["group"] == g]
        np.testing.assert_array_equal(ln.get_xdata()[1:], curve["time"])
        np.testing.assert_array_equal(ln.get_ydata()[1:], curve["survival"])
        assert ln.get_xdata()[0] == 0 and ln.get_ydata()[0] == 1
        assert ln.get_drawstyle() == "steps-post"
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 2
    texts = _texts(ax)
    assert texts[0] == "Number at risk"
    counts = at_risk_counts(lung, "time", times, group_col="sex")
    expected = []
    for g in (1, 2):
        expected += [str(g)] + [str(int(n)) for n in counts.loc[g]]
    assert texts[1:] == expected
    np.testing.assert_array_equal(ax.get_xticks(), times)


def test_plot_survival_of_cox_predictions_long_and_wide():
    lung = data("lung.csv")
    model = CoxPH().fit(lung, "time", "status", formula=["age", "sex"])
    new = pd.DataFrame({"age": [50, 70], "sex": [1, 2]})
    times = np.linspace(10, 800, 20)
    long = model.predict_survival(new, times, conf_level=0.95)
    fig = plot_survival(long)
    ax = fig.axes[0]
    assert [ln.get_label() for ln in ax.get_lines()] == ["0", "1"]
    np.testing.assert_allclose(
        ax.get_lines()[1].get_ydata()[1:], long[long["row"] == 1]["survival"]
    )
    wide = model.predict_survival(new, times)
    fig2 = plot_survival(wide, groups=[1])
    (line,) = fig2.axes[0].get_lines()
    np.testing.assert_allclose(line.get_ydata()[1:], wide[1].to_numpy())
    assert not fig2.axes[0].collections  # no band without limits
    with pytest.raises(ValueError, match="groups"):
        plot_survival(wide, groups=["nope"])


def test_cumulative_incidence_with_at_risk_counts():
    mgus = data("mgus2.csv")
    cif = aalen_johansen(mgus, "etime", "event", group_col="male")
    times = [0, 100, 200, 300]
    fig = plot_cumulative_incidence(
        cif, at_risk={"df": mgus, "duration_col": "etime", "group_col": "male", "times": times}
    )
    counts = at_risk_counts(mgus, "etime", times, group_col="male")
    for ax in fig.axes:
        texts = _texts(ax)
        assert texts[0] == "Number at risk"
        assert texts[1:6] == ["0"] + [str(int(n)) for n in counts.loc[0]]


def test_add_at_risk_counts_defaults_to_the_visible_ticks_and_renames_groups():
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 10], [1, 0], label="treated")
    ax.set_xlim(0, 10)
    df = pd.DataFrame({"t": [1.0, 4.0, 6.0, 9.0], "arm": ["a", "a", "b", "b"]})
    counts = add_at_risk_counts(ax, df, "t", group_col="arm", labels={"a": "treated"})
    assert list(counts.columns) == [t for t in ax.get_xticks()]
    assert (counts.columns >= 0).all() and (counts.columns <= 10).all()
    assert "treated" in _texts(ax)
    label = next(t for t in ax.texts if t.get_text() == "treated")
    assert matplotlib.colors.to_hex(label.get_color()) == "#1f77b4"  # the line's colour
