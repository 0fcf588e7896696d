"""Issue 11 items 6, 8 and 11: names from files are never run as code, gray_test refuses
a continuous grouping column, and the CLI speaks in its own options.

The hostile name below is a formulaic ``{...}`` block: were it ever joined into
a formula string, formulaic would run it as Python and create the marker file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from survkit import CoxPH, fit_sites, fit_stacked, gray_test, time_varying_effect
from survkit.cli import main
from survkit.report import ReportSpec


def _hostile(marker: Path) -> str:
    return "{__import__('pathlib').Path(" + repr(str(marker)) + ").touch()}"


@pytest.fixture
def df() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    n = 150
    out = pd.DataFrame(
        {
            "age": rng.normal(60, 10, n),
            "x": rng.normal(size=n),
            "time": np.round(rng.exponential(3.0, n), 2) + 0.01,
            "event": rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3]),
        }
    )
    out["status"] = (out["event"] > 0).astype(int)
    return out


def test_item6_hostile_csv_header_is_fitted_as_a_name(df, tmp_path):
    marker = tmp_path / "pwned"
    name = _hostile(marker)
    path = tmp_path / "hostile.csv"
    df.rename(columns={"x": name}).to_csv(path, index=False)
    data = pd.read_csv(path)
    assert name in data.columns
    ref = CoxPH().fit(df, "time", "status", formula=["age", "x"])

    m = CoxPH().fit(data, "time", "status", formula=["age", name])
    np.testing.assert_allclose(m.params_.to_numpy(), ref.params_.to_numpy(), rtol=1e-10)
    assert list(m.params_.index) == ["age", name]
    # the report passes its terms as a column list, never as formula code
    spec = ReportSpec(data, "time", "event", ["age", name], [1], [2], 0, "test", "")
    assert spec.formula == ["age", name]
    assert spec.formula_of([name]) == [name]
    sites = fit_sites(data, "time", "event", spec.formula, sites=[1])
    assert set(sites.table["covariate"]) == {"age", name}
    stacked = fit_stacked(data, "time", "event", spec.formula, causes=[1, 2])
    assert name in stacked.covariates
    # time_varying appends the generated names to a formula *string*: quoted, not run
    eff = time_varying_effect(data, name, [2.0], "time", "status", formula="age")
    assert len(eff.periods) == 2
    assert not marker.exists()


def test_item6_a_name_a_backtick_could_break_out_of_is_refused(df):
    name = "x` + {print('boo')} + `y"
    data = df.rename(columns={"x": name})
    with pytest.raises(ValueError, match=r"contains a backtick .* pass formula as a list"):
        time_varying_effect(data, name, [2.0], "time", "status", formula="age")
    eff = time_varying_effect(data, name, [2.0], "time", "status", formula=["age"])
    assert len(eff.periods) == 2


def test_item6_names_with_spaces_work_as_a_list(df):
    from survkit.cli.inputs import formula_terms

    data = df.rename(columns={"x": "tumour grade"})
    m = CoxPH().fit(data, "time", "status", formula=["age", "tumour grade"])
    ref = CoxPH().fit(df, "time", "status", formula=["age", "x"])
    np.testing.assert_allclose(m.params_.to_numpy(), ref.params_.to_numpy(), rtol=1e-10)
    # the report's route: terms -> formula -> per-site fits (joined, this failed to parse)
    terms = formula_terms("age + `tumour grade`")
    assert terms == ["age", "tumour grade"]
    spec = ReportSpec(data, "time", "event", terms, [1], [2], 0, "test", "")
    sites = fit_sites(data, "time", "event", spec.formula, sites=[1])
    assert sites.table["covariate"].unique().tolist() == ["age", "tumour grade"]
    # user-typed expressions are still the user's formula
    assert ReportSpec(data, "time", "event", ["age", "C(event)"], [1], [2], 0, "", "").formula == (
        "age + C(event)"
    )


def _hostile_scenario(tmp_path: Path, marker: Path) -> Path:
    from synthetic.scenario_file import scenario_directory

    text = (scenario_directory() / "breast_site_dormancy.toml").read_text()
    key = '"' + _hostile(marker).replace("\\", "\\\\").replace('"', '\\"') + '"'
    text = text.replace("[covariates.age]", f"[covariates.{key}]")
    text = "\n".join(
        (key + line[3:]) if line.startswith("age = ") else line for line in text.splitlines()
    )
    path = tmp_path / "hostile.toml"
    path.write_text(text)
    return path


def test_item6_hostile_scenario_toml_is_refused_and_runs_nothing(tmp_path):
    from synthetic import load_scenario

    marker = tmp_path / "pwned"
    path = _hostile_scenario(tmp_path, marker)
    with pytest.raises(ValueError, match=r"covariates\..*not a plain identifier.*underscores"):
        load_scenario(path)
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main, ["report", "--scenario", str(path), "--n", "200", "--out", str(out)]
    )
    assert result.exit_code != 0
    assert "not a plain identifier" in result.output
    assert not marker.exists()
    assert not out.exists()


def test_item6_formula_help_says_it_is_code():
    # fit hands --formula to formulaic: the user's own code, and the help says so
    result = CliRunner().invoke(main, ["fit", "--help"])
    assert "formulas you wrote yourself" in " ".join(result.output.split())
    # the report reads names and C(name) itself and evaluates nothing
    result = CliRunner().invoke(main, ["report", "--help"])
    assert "evaluates nothing" in " ".join(result.output.split())


# ------------------------------------------------------------- item 8
def test_item8_gray_test_refuses_a_continuous_group(df):
    rng = np.random.default_rng(1)
    data = pd.concat([df] * 3, ignore_index=True).assign(z=rng.normal(size=3 * len(df)))
    with pytest.raises(ValueError, match=r"group column 'z' has 450 distinct values.*qcut"):
        gray_test(data, "time", "event", "z")
    groups = data.assign(g=pd.qcut(data["z"], 4, labels=False))
    assert len(gray_test(groups, "time", "event", "g")) == 2
    many = data.assign(g=np.arange(len(data)) % 60)
    assert len(gray_test(many, "time", "event", "g", max_groups=60)) == 2


# ------------------------------------------------------------- item 11
def test_item11_cli_errors_name_the_cli_options(df, tmp_path):
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    args = ["fit", "--data", str(path), "--duration-col", "time", "--event-col", "event"]
    result = CliRunner().invoke(
        main, [*args, "--formula", "age", "--cause", "1", "--censor-value", "9"]
    )
    assert result.exit_code == 1
    assert "--censor-value 9 never occurs" in result.output
    assert "--censor-value none if no observation is censored" in result.output
    assert "censor_value" not in result.output
    result = CliRunner().invoke(main, [*args, "--formula", "agee", "--cause", "1"])
    assert (
        result.exit_code == 1 and "--formula: 1 column(s) not in the data: 'agee'" in result.output
    )
    # and the option really accepts the word it suggests
    uncensored = df[df["event"] > 0]
    uncensored.to_csv(path, index=False)
    ok = CliRunner().invoke(
        main, [*args, "--formula", "age", "--cause", "1", "--censor-value", "none"]
    )
    assert ok.exit_code == 0, ok.output
    assert "age" in ok.output
