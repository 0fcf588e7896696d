"""Multi-state plots and the report-section tables."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from survkit import multistate as ms
from survkit.plots import plot_state_occupation, plot_transition_diagram
from synthetic.multistate import simulate_multistate

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def data():
    cohort = simulate_multistate("breast_site_dormancy_progression", n=3000, seed=5)
    tm = ms.transition_matrix(cohort.states, cohort.pairs)
    return ms.read_histories(cohort.histories(), tm, id_col="patient_id")


def test_stacked_occupation_bands_add_up_to_one(data):
    occ = ms.state_occupation(data, group_col="er_positive")
    fig = plot_state_occupation(occ)
    assert len(fig.axes) == 2
    panel = fig.axes[0]
    assert len(panel.collections) == len(data.transitions.states)
    top = panel.collections[-1].get_paths()[0].vertices[:, 1]
    np.testing.assert_allclose(top.max(), 1.0, atol=1e-12)
    assert [t.get_text() for t in fig.axes[-1].get_legend().get_texts()] == list(
        data.transitions.states
    )
    with pytest.raises(ValueError, match="nowhere"):
        plot_state_occupation(occ, states=["nowhere"])


def test_transition_diagram_labels_counts(data):
    fig = plot_transition_diagram(data)
    texts = [t.get_text() for t in fig.axes[0].texts]
    counts = data.counts()
    for state in data.transitions.states:
        assert state in texts
    for n in counts["n"]:
        assert str(n) in texts
    labels = [t for t in texts if t]
    arrows = [t for t in fig.axes[0].texts if getattr(t, "arrow_patch", None) is not None]
    assert len(labels) == len(counts) + len(data.transitions.states)
    assert len(arrows) == len(counts)


def test_overview_tables(data):
    tables = ms.overview_tables(data, ["age", "er_positive"], times=[2.0, 5.0, 40.0])
    occ = tables["occupation"]
    at5 = occ[occ["time"] == 5.0]
    np.testing.assert_allclose(at5["pstate"].sum(), 1.0, atol=1e-12)
    assert occ[occ["time"] == 40.0]["pstate"].isna().all()  # beyond follow-up
    assert set(tables["origin_tests"]["target"]) == {
        "liver",
        "brain",
        "death",
    }  # lung: from bone only
    assert (tables["origin_tests"]["df"] >= 1).all()
    hr = tables["hazard_ratios"]
    assert len(hr) == 2 * data.transitions.n_transitions
    assert tables["transitions"]["n"].sum() == int(data.histories["status"].sum())
