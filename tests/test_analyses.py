"""The analyses/ scripts run end to end (as in CI) and pass their own checks.

(analyses/site_specific_relapse.py, the main job, runs in test_report.py.) They
run in this process, as ``python analyses/<script>`` would run them (``__main__``,
their own argv): a new interpreter per script spent about 3 s each on start-up
and imports, a tenth of the suite's budget.
"""

import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "script, args, outputs",
    [
        ("site_agnostic_contrast.py", ["--n", "2000"], ["report.html", "report.md"]),
        ("mgus2_competing_risks.py", [], ["report.html", "report.md"]),
        # the report on R's datasets, each checked against R (analyses/data/r_findings.json)
        ("real_data_reports.py", ["--dataset", "rotterdam"], ["report.html", "checks.json"]),
        # (--dataset rotterdam_years, the same data in years, is left to manual runs:
        # 10 s of the suite's budget; the horizons' unit rule has its own unit test)
        ("real_data_reports.py", ["--dataset", "mgus2"], ["report.html", "checks.json"]),
        ("real_data_reports.py", ["--dataset", "colon"], ["report.html", "checks.json"]),
        # its defaults are the small CI study (30 replicates)
        ("simulation_study.py", [], ["performance.csv", "coverage.png"]),
    ],
)
def test_analysis_script(script, args, outputs, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", [script, "--out", str(out), *args])
    with pytest.raises(SystemExit) as ended:
        runpy.run_path(str(ROOT / "analyses" / script), run_name="__main__")
    printed = capsys.readouterr()
    assert ended.value.code in (0, None), printed.out + printed.err
    for name in outputs:
        assert (out / name).exists(), name
