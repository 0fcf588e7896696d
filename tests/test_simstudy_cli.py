"""``survkit simstudy``: outputs, resuming, and one-line errors."""

from __future__ import annotations

import click
import pandas as pd
from click.testing import CliRunner

from survkit.cli.simstudy_command import simstudy

SMALL = ["--n", "600", "--reps", "2", "--seed", "5"]


def invoke(*args):
    return CliRunner().invoke(simstudy, list(args), catch_exceptions=False)


def test_is_a_click_command():
    assert isinstance(simstudy, click.Command) and simstudy.name == "simstudy"
    for option in (
        "--scenario",
        "--n",
        "--reps",
        "--seed",
        "--workers",
        "--dask",
        "--config",
        "--out",
    ):
        assert option in simstudy.get_help(click.Context(simstudy))


def test_writes_every_output_and_resumes(tmp_path):
    config = tmp_path / "study.toml"
    config.write_text(
        'reps = 3\nseed = 5\n[estimands]\nlog_hr_sites = ["bone"]\ncif_causes = ["bone"]\n'
        "reference_n = 1000\n[methods.cause_specific_cox]\n[methods.aalen_johansen]\n"
    )
    out = tmp_path / "out"
    result = invoke("--config", str(config), "--n", "600", "--reps", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2 replicates run, 0 resumed" in result.output
    for name in (
        "estimates.parquet",
        "performance.csv",
        "failures.csv",
        "estimands.csv",
        "coverage.png",
    ):
        assert (out / name).exists(), name
    estimates = pd.read_parquet(out / "estimates.parquet")
    assert set(estimates["method"]) == {"cause_specific_cox", "aalen_johansen"}
    performance = pd.read_csv(out / "performance.csv")
    assert {"cover", "cover_mcse", "n_failed", "relerror_mcse"} <= set(performance.columns)
    # more replicates resume into the same directory; progress bar stays off (no TTY)
    result = invoke("--config", str(config), "--n", "600", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "resuming: 2 replicates stored, 1 to run" in result.output
    assert "1 replicates run, 2 resumed" in result.output


def test_changed_definition_is_refused_in_one_line(tmp_path):
    out = str(tmp_path / "out")
    config = tmp_path / "study.toml"
    config.write_text(
        "reps = 1\nseed = 5\n[estimands]\nreference_n = 1000\ncif_causes = []\n"
        'log_hr_sites = ["bone"]\n[methods.cause_specific_cox]\n'
    )
    assert invoke("--config", str(config), "--n", "600", "--out", out).exit_code == 0
    result = invoke("--config", str(config), "--n", "700", "--out", out)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "scenarios[0].n 600 -> 700" in lines[0] and "refusing to resume" in lines[0]


def test_usage_errors(tmp_path):
    out = str(tmp_path / "out")
    result = invoke("--n", "600", "--out", out)
    assert result.exit_code == 2
    assert "missing --reps, --seed; give them, or a study definition with --config" in result.output
    result = invoke(*SMALL, "--scenario", "mars", "--out", out)
    assert result.exit_code == 2 and "'mars' is neither a built-in scenario" in result.output
    result = invoke(*SMALL, "--workers", "0", "--out", out)
    assert result.exit_code == 2 and "--workers 0 must be at least 1" in result.output
    result = invoke(*SMALL, "--dask", "tcp://127.0.0.1:1", "--workers", "2", "--out", out)
    assert result.exit_code == 2 and "drop --workers" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text("reps = 3\n")
    result = invoke("--config", str(bad), "--out", out)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {bad}: seed is missing; add seed = <integer>"
