"""The analyses/ scripts run end to end (as in CI) and pass their own checks."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "script, args",
    [
        # site_specific_relapse.py runs in test_report.py (it is the main job)
        ("site_agnostic_contrast.py", ["--n", "2000"]),
        ("mgus2_competing_risks.py", []),
    ],
)
def test_analysis_script(script, args, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "analyses" / script), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "report.html").exists() and (out / "report.md").exists()
