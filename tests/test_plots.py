"""Plots: the plotted data, not the pixels (Agg backend, no pyplot state)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from statsmodels.nonparametric.smoothers_lowess import lowess

from survkit import CoxPH
from survkit.diagnostics.cox_zph import cox_zph_details
from survkit.organs.site_models import fit_sites
from survkit.organs.time_varying import time_varying_effect
from survkit.plots import plot_cumulative_incidence, plot_forest, plot_schoenfeld

from .reference_cases import data


def cif_table(grouped: bool) -> pd.DataFrame:
    rows = []
    for group in ["a", "b"] if grouped else [None]:
        for cause in ["bone", "lung"]:
            t = np.array([0.0, 1.0, 2.5, 4.0])
            f = np.array([0.0, 0.1, 0.2, 0.2]) * (2 if group == "b" else 1)
            row = {"cause": cause, "time": t, "cif": f, "variance": f / 100}
            row["lower"], row["upper"] = f * 0.8, f * 1.2
            if group is not None:
                row["group"] = group
            rows.append(pd.DataFrame(row))
    return pd.concat(rows, ignore_index=True)


def test_cumulative_incidence_panels_lines_and_bands():
    table = cif_table(grouped=True)
    fig = plot_cumulative_incidence(table)
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["bone", "lung"]
    for ax, cause in zip(fig.axes, ["bone", "lung"], strict=True):
        lines = ax.get_lines()
        assert [ln.get_label() for ln in lines] == ["a", "b"]
        for ln, group in zip(lines, ["a", "b"], strict=True):
            sel = table[(table["cause"] == cause) & (table["group"] == group)]
            np.testing.assert_array_equal(ln.get_xdata(), sel["time"])
            np.testing.assert_array_equal(ln.get_ydata(), sel["cif"])
            assert ln.get_drawstyle() == "steps-post"
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == 2


def test_cumulative_incidence_from_aalen_johansen_in_one_axes():
    from survkit import aalen_johansen

    table = aalen_johansen(data("mgus2.csv"), "etime", "event")
    fig = Figure()
    ax = fig.subplots()
    out = plot_cumulative_incidence(table, causes=[2], band=False, ax=ax)
    assert out is fig
    (line,) = ax.get_lines()
    sel = table[table["cause"] == 2]
    np.testing.assert_array_equal(line.get_ydata(), sel["cif"])
    assert not ax.collections
    with pytest.raises(ValueError, match="not in the model: 3"):
        plot_cumulative_incidence(table, causes=[3])
    with pytest.raises(ValueError, match="no 'group' column"):
        plot_cumulative_incidence(table, groups=["a"])
    with pytest.raises(ValueError, match="cif: 2 column"):
        plot_cumulative_incidence(table.drop(columns=["lower", "upper"]))


def test_forest_plot_points_and_intervals():
    fits = fit_sites(data("mgus2.csv"), "etime", "event", ["age", "male"])
    fig = plot_forest(fits)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    points = [ln for ln in ax.get_lines() if ln.get_linestyle() == "None"]
    assert [ln.get_label() for ln in points] == ["cause_specific", "fine_gray"]
    table = fits.table
    order = table.assign(c=table["covariate"].map({"age": 0, "male": 1})).sort_values(
        ["c", "site"], kind="stable"
    )
    for ln, model in zip(points, ["cause_specific", "fine_gray"], strict=True):
        expected = order[order["model"] == model]
        np.testing.assert_allclose(ln.get_xdata(), expected["HR"])
    segments = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(segments) == 2
    cs = segments[0].get_segments()
    expected = order[order["model"] == "cause_specific"]
    np.testing.assert_allclose([s[0][0] for s in cs], expected["lower"])
    np.testing.assert_allclose([s[1][0] for s in cs], expected["upper"])
    # one labelled row per (covariate, site); the two models share it
    assert len(ax.get_yticks()) == len(table) // 2
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["age | 1", "age | 2"]
    cs_y = points[0].get_ydata()
    fg_y = points[1].get_ydata()
    np.testing.assert_allclose(np.asarray(fg_y) - np.asarray(cs_y), 0.25)
    # reference line at HR = 1
    refs = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(refs) == 1 and list(refs[0].get_xdata()) == [1, 1]
    only = plot_forest(fits.table, covariates="male", models="fine_gray")
    assert len(only.axes[0].get_yticks()) == 2
    fmt = ax.xaxis.get_major_formatter()
    assert [fmt(v, 0) for v in (0.25, 1.0, 4.0)] == ["0.25", "1", "4"]  # not powers of ten
    with pytest.raises(ValueError, match="not in the model: 'hgb'"):
        plot_forest(fits.table, covariates=["hgb"])


def test_schoenfeld_plot_residuals_smooth_and_step_fit():
    vet = data("veteran.csv")
    model = CoxPH().fit(vet, "time", "status", formula=["karno", "trt", "prior"])
    step = time_varying_effect(vet, "karno", [90, 180], "time", "status", formula=["trt", "prior"])
    fig = plot_schoenfeld(model, "karno", transform="km", step=step)
    (ax,) = fig.axes
    z = cox_zph_details(model, "km")
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels[:3] == ["scaled residual", "lowess", "PH estimate"]
    points, smooth, ph = ax.get_lines()[:3]
    np.testing.assert_allclose(points.get_xdata(), z.x)
    np.testing.assert_allclose(points.get_ydata(), z.y["karno"])
    expected = lowess(z.y["karno"].to_numpy(), z.x, frac=2 / 3)
    np.testing.assert_allclose(smooth.get_ydata(), expected[:, 1])
    np.testing.assert_allclose(ph.get_ydata(), [model.params_["karno"]] * 2)
    steps = ax.get_lines()[3:]
    assert len(steps) == 3
    np.testing.assert_allclose([s.get_ydata()[0] for s in steps], step.periods["coef"])
    # period boundaries mapped to the km scale: 1 - S(90-), 1 - S(180-)
    edges = z.transform_times(np.array([90.0, 180.0]))
    np.testing.assert_allclose([steps[0].get_xdata()[1], steps[1].get_xdata()[1]], edges)
    assert steps[0].get_xdata()[0] == pytest.approx(z.x.min())


def test_schoenfeld_plot_errors():
    with pytest.raises(ValueError, match="not fitted yet"):
        plot_schoenfeld(CoxPH(), "karno")
    vet = data("veteran.csv")
    model = CoxPH().fit(vet, "time", "status", formula=["karno", "trt"])
    with pytest.raises(ValueError, match="not in the model: 'age'"):
        plot_schoenfeld(model, "age")
    step = time_varying_effect(vet, "trt", [90], "time", "status", formula=["karno"])
    with pytest.raises(ValueError, match="fit of 'trt', not of 'karno'"):
        plot_schoenfeld(model, "karno", step=step)
