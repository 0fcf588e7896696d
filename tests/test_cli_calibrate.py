"""``survkit scenarios calibrate``: writes the calibrated scenario, keeps existing files."""

import tomllib

import pytest
from click.testing import CliRunner

from survkit.cli import main

TARGETS = """
scenario = "breast_site_dormancy"
seed = 2
reference_patients = 200

[[targets]]
site = "brain"
cumulative_incidence = 0.02
at_years = 10
source = "a registry table"
"""


@pytest.fixture
def targets_file(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(TARGETS)
    return path


def test_calibrate_writes_a_loadable_scenario(tmp_path, targets_file):
    out = tmp_path / "sub" / "brain.toml"
    result = CliRunner().invoke(
        main, ["scenarios", "calibrate", str(targets_file), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "brain cumulative_incidence (at_years = 10): target 0.02, achieved 0.02" in result.output
    from synthetic import load_scenario, simulate_cohort

    scenario = load_scenario(out)
    achieved = simulate_cohort(scenario, 200, 2).true_cif([10.0]).loc[10.0, "brain"]
    assert achieved == pytest.approx(0.02, rel=1e-3)
    recorded = tomllib.loads(out.read_text())["calibration"]
    assert recorded["targets"][0]["source"] == "a registry table"
    assert recorded["seed"] == 2 and recorded["reference_patients"] == 200


def test_calibrate_keeps_an_existing_file_unless_forced(tmp_path, targets_file):
    out = tmp_path / "mine.toml"
    out.write_text("# my scenario\n")
    command = ["scenarios", "calibrate", str(targets_file), "--out", str(out)]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2 and "already exists" in result.output
    assert out.read_text() == "# my scenario\n"
    result = CliRunner().invoke(main, [*command, "--force"])
    assert result.exit_code == 0, result.output
    assert "[calibration]" in out.read_text()


def test_calibrate_reports_impossible_targets_in_one_line(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(
        TARGETS.replace("0.02", "0.7")
        + '\n[[targets]]\nsite = "bone"\ncumulative_incidence = 0.5\nat_years = 10\n'
    )
    out = tmp_path / "never.toml"
    result = CliRunner().invoke(main, ["scenarios", "calibrate", str(path), "--out", str(out)])
    assert result.exit_code == 1
    assert "sum to 1.2" in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_scenarios_without_a_subcommand_still_lists(tmp_path):
    result = CliRunner().invoke(main, ["scenarios"])
    assert result.exit_code == 0 and "site_agnostic" in result.output
