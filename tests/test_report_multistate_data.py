"""``survkit report --multistate --data FILE``: the multi-state report on the user's histories.

On R's mgus2 (tests/reference/data/ms_mgus2_long.csv) the report's tables equal
R's multi-state survfit, coxph and the origin test (results/multistate.json);
an odd file with one transition observed once still gives a report; every
input error names the option, the count and a fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from survkit.cli import main

REF = Path(__file__).parent / "reference"
CASES = json.loads((REF / "results" / "multistate.json").read_text())["cases"]
MGUS2 = str(REF / "data" / "ms_mgus2_long.csv")

ODD = """pid,start,stop,state,next,age
1,0,5,healthy,ill,50
1,5,9,ill,dead,50
2,0,7,healthy,dead,61
3,0,10,healthy,censor,45
4,0,3,healthy,censor,70
5,0,8,healthy,dead,66
6,0,12,healthy,censor,55
7,0,4,healthy,dead,72
8,0,11,healthy,censor,48
"""
ODD_COLUMNS = [
    *("--id-col", "pid", "--start-col", "start", "--stop-col", "stop"),
    *("--from-col", "state", "--to-col", "next", "--censor-value", "censor"),
]


def _run(args):
    return CliRunner().invoke(main, ["report", "--multistate", *args])


def test_mgus2_report_equals_r(tmp_path):
    out = tmp_path / "mgus2"
    args = ["--data", MGUS2, "--formula", "age + male", "--censor-value", "censor"]
    result = _run([*args, "--time-unit", "months", "--horizons", "12,60,120", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "1384 patients" in html and "after the first relapse" not in html
    # state occupation = R's survfit(Surv(tstart, tstop, to) ~ 1, id = id, istate = from)
    aj = CASES["aj_mgus2"]
    occ = pd.read_csv(out / "tables" / "occupation.csv")
    time = np.array(aj["time"])
    for t in (12.0, 60.0, 120.0):
        row = np.searchsorted(time, t, side="right") - 1
        at = occ[occ["time"] == t].set_index("state").loc[aj["states"]]
        np.testing.assert_allclose(at["estimate"], aj["pstate"][row], rtol=0, atol=1e-6)
        np.testing.assert_allclose(at["SE"], aj["std_err"][row], rtol=0, atol=1e-5)
    # hazard ratios = R's coxph(..., id = id, istate = from), Breslow, robust SE
    cox = CASES["cox_mgus2"]
    hr = pd.read_csv(out / "tables" / "hazard_ratios.csv")
    position = {s: i + 1 for i, s in enumerate(cox["states"])}
    names = [
        f"{c}_{position[a]}:{position[b]}" for a, b, c in hr[["from", "to", "covariate"]].values
    ]
    assert sorted(names) == sorted(cox["coef"])
    np.testing.assert_allclose(hr["log HR"], [cox["coef"][n] for n in names], rtol=1e-6)
    se = dict(zip(cox["coef"], cox["se"], strict=True))
    np.testing.assert_allclose(hr["SE"], [se[n] for n in names], rtol=1e-5)
    # death from pcm versus from mgus: R's Cox model with an origin indicator
    origin = CASES["origin_mgus2_death"]
    checks = json.loads((out / "checks.json").read_text())
    (test,) = checks["origin_tests"]
    assert test["target"] == "death" and test["reference"] == "mgus"
    np.testing.assert_allclose(test["statistic"], origin["wald"]["statistic"], rtol=1e-5)
    assert "Does the state a patient came from change what comes next?" in html


def test_odd_file_with_one_transition_seen_once_and_states_coded_as_numbers(tmp_path):
    # 1 = healthy, 2 = ill, 3 = dead, 0 = censored (the default --censor-value)
    coded = ODD.replace("healthy", "1").replace("ill", "2").replace("dead", "3")
    data = tmp_path / "odd.csv"
    data.write_text(coded.replace("censor", "0"))
    out = tmp_path / "odd"
    columns = [c for c in ODD_COLUMNS if c not in ("--censor-value", "censor")]
    args = ["--data", str(data), "--formula", "age", *columns, "--absorbing", "3"]
    result = _run([*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    checks = json.loads((out / "checks.json").read_text())
    assert checks["source"] == f"data file {data} (8 patients)"
    assert "skipped_sections" not in checks
    (thin,) = checks["transitions_without_covariates"]
    assert thin.startswith("2 -> 3 (1 event: covariate 'age' is constant")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Fitted without covariates" in html and "could not be estimated" not in html
    transitions = pd.read_csv(out / "tables" / "transitions.csv")
    assert list(transitions["n"]) == [1, 3, 1]
    assert sorted(pd.read_csv(out / "tables" / "hazard_ratios.csv")["to"]) == [2, 3]
    # the origin test reads the states back as numbers
    (test,) = checks["origin_tests"]
    assert (test["target"], test["origins"], test["reference"]) == (3, "1, 2", 1)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--formula", "age", "--censor-value", "censor"], "--id-col: 1 column(s) not in the data"),
        (["--formula", "agee", *ODD_COLUMNS], "--formula: 1 term(s) are not columns"),
        (["--formula", "C(age)", *ODD_COLUMNS], "Give plain column names"),
        (
            ["--formula", "age", *ODD_COLUMNS[:-2]],
            "--censor-value '0' does not occur in column 'next'",
        ),
        (
            ["--formula", "age", *ODD_COLUMNS, "--states", "healthy,ill"],
            "--states: 1 state(s) of the data are not listed: ['dead']",
        ),
        (["--formula", "pid", *ODD_COLUMNS], "--formula names history column(s) ['pid']"),
        (ODD_COLUMNS, "needs --formula"),
        (
            ["--formula", "age", *ODD_COLUMNS, "--absorbing", "ill,dead"],
            "--absorbing: 1 row(s) start in absorbing state 'ill' (first: row 1)",
        ),
        (["--formula", "age", *ODD_COLUMNS, "--n", "100"], "not both"),
    ],
)
def test_input_errors_name_the_option(tmp_path, args, message):
    data = tmp_path / "odd.csv"
    data.write_text(ODD)
    result = _run(["--data", str(data), *args, "--out", str(tmp_path / "r")])
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert not (tmp_path / "r").exists()


def test_history_options_only_with_multistate_data(tmp_path):
    run = CliRunner().invoke
    result = run(main, ["report", "--id-col", "pid", "--out", str(tmp_path / "a")])
    assert result.exit_code != 0 and "--id-col: only with --multistate --data" in result.output
    result = run(main, ["report", "--multistate", "--states", "a,b", "--out", str(tmp_path / "b")])
    assert result.exit_code != 0 and "--states: only with --data" in result.output
    result = run(main, ["report", "--multistate", "--absorbing", "b", "--out", str(tmp_path / "c")])
    assert result.exit_code != 0 and "--absorbing: only with --data" in result.output
