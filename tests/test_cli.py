"""The survkit command line: each command, its outputs and its error exits."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from survkit.cli import main

from .reference_cases import REFERENCE


@pytest.fixture
def runner():
    return CliRunner()


def test_scenarios_lists_both(runner):
    result = runner.invoke(main, ["scenarios"])
    assert result.exit_code == 0
    assert "breast_site_dormancy" in result.output and "site_agnostic" in result.output


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_simulate_writes_the_cohort(runner, tmp_path, suffix):
    out = tmp_path / f"cohort.{suffix}"
    result = runner.invoke(main, ["simulate", "--n", "300", "--seed", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out) if suffix == "csv" else pd.read_parquet(out)
    assert len(df) == 300 and {"time", "event", "patient_id"} <= set(df.columns)
    from synthetic import simulate_cohort

    expected = simulate_cohort("breast_site_dormancy", 300, 4).data
    np.testing.assert_allclose(df["time"], expected["time"])


def test_fit_models(runner, tmp_path):
    data = REFERENCE / "data" / "bmt.csv"
    base = [
        "fit",
        "--data",
        str(data),
        "--duration-col",
        "time",
        "--event-col",
        "cause",
        "--formula",
        "platelet + age + tcell",
        "--out",
        str(tmp_path),
    ]
    result = runner.invoke(main, [*base, "--model", "finegray", "--cause", "1"])
    assert result.exit_code == 0, result.output
    assert "Fine-Gray" in result.output
    table = pd.read_csv(tmp_path / "finegray.csv", index_col=0)
    from survkit import FineGray

    ref = FineGray().fit(
        pd.read_csv(data), "time", "cause", cause=1, formula="platelet + age + tcell"
    )
    np.testing.assert_allclose(table["coef"], ref.params_, rtol=1e-12)
    result = runner.invoke(main, [*base, "--model", "cox", "--cause", "2"])
    assert result.exit_code == 0 and "cause = 2" in result.output
    result = runner.invoke(main, [*base, "--model", "sites"])
    assert result.exit_code == 0
    assert set(pd.read_csv(tmp_path / "sites.csv")["site"]) == {1, 2}


def test_user_errors_are_one_line(runner, tmp_path):
    data = REFERENCE / "data" / "bmt.csv"
    result = runner.invoke(main, ["report", "--scenario", "nope", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "unknown scenario 'nope'" in result.output
    result = runner.invoke(
        main,
        [
            "fit",
            "--data",
            str(tmp_path / "missing.csv"),
            "--duration-col",
            "t",
            "--event-col",
            "e",
            "--formula",
            "x",
        ],
    )
    assert result.exit_code == 2 and "does not exist" in result.output
    # data errors: exit 1, one line, no traceback
    result = runner.invoke(
        main,
        [
            "fit",
            "--data",
            str(data),
            "--duration-col",
            "time",
            "--event-col",
            "cause",
            "--formula",
            "platelet + agee",
            "--cause",
            "1",
        ],
    )
    assert result.exit_code == 1
    assert "'agee'" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(main, ["simulate", "--n", "10", "--seed", "1", "--out", "x.txt"])
    assert result.exit_code == 2 and ".csv or .parquet" in result.output
    # --debug shows the exception itself
    result = runner.invoke(
        main,
        [
            "--debug",
            "fit",
            "--data",
            str(data),
            "--duration-col",
            "time",
            "--event-col",
            "cause",
            "--formula",
            "agee",
        ],
    )
    assert isinstance(result.exception, ValueError)


def test_report_on_a_data_file(runner, tmp_path):
    out = tmp_path / "mgus_report"
    data = REFERENCE / "data" / "mgus2.csv"
    result = runner.invoke(
        main,
        [
            "report",
            "--data",
            str(data),
            "--duration-col",
            "etime",
            "--event-col",
            "event",
            "--formula",
            "age + male + hgb",
            "--competing",
            "2",
            "--group",
            "male",
            "--time-unit",
            "months",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    assert "Cumulative incidence of event 1" in html  # one event of interest, no organ wording
    assert "organ" not in html.split("Methods and reproducibility")[0].lower()
    assert "Estimates against the truth" not in html  # real data: no truth section
    assert (out / "tables" / "hazard_ratios.csv").exists()
    assert (out / "report.md").exists()
