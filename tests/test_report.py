"""The default report (the main job): content, self-containment, atomic writing.

The default report is produced once, by analyses/site_specific_relapse.py in a
subprocess exactly as CI runs it, and its files are checked here.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from survkit.report import write_atomically
from survkit.report.content import Figure, Report, Section

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def default_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("default") / "report"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "analyses" / "site_specific_relapse.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.perf_counter() - start
    return proc, out, seconds


def test_the_analysis_passes_its_own_checks(default_report):
    proc, _, seconds = default_report
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert seconds < 60  # issue 6: the main job within a minute on 2 cores


def test_double_agent_found_and_truth_consistent(default_report):
    _, out, _ = default_report
    checks = json.loads((out / "checks.json").read_text())
    agents = {(a["site"], a["covariate"]): a for a in checks["double_agents"]}
    agent = agents[("brain", "brain_astrocyte_reactivity")]
    assert 1.5 < agent["change_point"] < 3.5  # the true change point is 2.5 years
    assert agent["hr_early"] < 1 < agent["hr_late"]
    assert checks["truth_consistent"]
    assert checks["truth_max_abs_z"] < checks["truth_z_critical"]


def test_every_section_a_clinician_needs(default_report):
    _, out, _ = default_report
    html = (out / "report.html").read_text()
    for needed in [
        "Cohort",
        "Cumulative incidence of relapse per organ",
        "Hazard ratios per organ",
        "Does an effect differ between organs?",
        "Effects that change over time",
        "Individual risk profiles",
        "How well do the models predict?",
        "Estimates against the truth",
        "Methods and reproducibility",
        "Gray&#x27;s test",
        "DOUBLE AGENT",
        "site_specific_relapse.py",
    ]:
        assert needed in html, needed
    # self-contained: every figure embedded, nothing fetched from elsewhere
    assert html.count("data:image/png;base64,") == len(list((out / "figures").glob("*.png")))
    assert not re.search(r"(src|href)=['\"]https?://", html)
    md = (out / "report.md").read_text()
    assert "## Estimates against the truth" in md
    for table in [
        "hazard_ratios",
        "organ_heterogeneity",
        "ph_tests",
        "risk_profiles",
        "prediction_performance",
        "truth_cause_specific",
        "truth_incidence",
    ]:
        assert (out / "tables" / f"{table}.csv").exists(), table


def test_prediction_performance_per_organ(default_report):
    _, out, _ = default_report
    checks = json.loads((out / "checks.json").read_text())
    perf = checks["prediction_performance"]
    organs = ["bone", "lung", "liver", "brain"]
    assert perf["time"] == max(checks["horizons"]) and perf["n_folds"] == 5
    for key in ("auc_apparent", "auc_cross_validated", "ipa_cross_validated"):
        assert list(perf[key]) == organs, key
    for organ in organs:
        # the covariates carry signal for every organ: better than chance, far from perfect
        assert 0.55 < perf["auc_cross_validated"][organ] < 0.9
        assert 0.55 < perf["auc_apparent"][organ] < 0.9
        assert 0 < perf["ipa_cross_validated"][organ] < 0.5
        assert 0.5 < perf["calibration_slope"][organ] < 1.5
    assert perf["risks_clipped"] == 0
    table = pd.read_csv(out / "tables" / "prediction_performance.csv")
    assert len(table) == len(organs) * len(checks["horizons"]) * 2  # apparent and CV
    assert set(table["estimate"]) == {"apparent", "cross-validated"}
    assert table["auc_se"].between(0.001, 0.1).all() and table["brier"].between(0, 0.25).all()
    assert (out / "figures" / "calibration.png").exists()
    md = (out / "report.md").read_text()
    section = md[md.index("## How well do the models predict?") :]
    section = section[: section.index("\n## ")]
    assert f"Cross-validated AUC by {perf['time']:g} years: bone" in section
    assert "5-fold (shuffled, seed 1)" in section


def test_interrupted_write_leaves_the_old_report(tmp_path):
    out = tmp_path / "rep"
    write_atomically(Report("t", "s", [Section("a", ["first"])]), out)

    class Boom:
        def savefig(self, *a, **k):
            raise KeyboardInterrupt

    broken = Report("t", "s", [Section("b", ["second"], figures=[Figure("f", Boom(), "c")])])
    with pytest.raises(KeyboardInterrupt):
        write_atomically(broken, out)
    assert "first" in (out / "report.html").read_text()
    assert [p for p in os.listdir(tmp_path) if p != "rep"] == []
