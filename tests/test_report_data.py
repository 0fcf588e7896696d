"""The report on a user's own data (issue 12): horizons, event roles, covariate coding,
risk profiles, change-point intervals, small cohorts, memory guard, fit --competing."""

import warnings
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from survkit import CauseSpecificCox
from survkit.cli import main
from survkit.cli.memory import check_memory
from survkit.organs.change_point import estimate_change_point
from survkit.organs.change_point_bootstrap import default_beta, fast_profile
from survkit.organs.time_varying import time_varying_effect
from survkit.report import report_for_data
from survkit.report.covariates import code_covariates
from survkit.report.horizons import check_horizons, choose_horizons
from survkit.report.risk_profiles import absolute_risks, model_intervals

DATA = Path(__file__).resolve().parents[1] / "analyses" / "data"


def _cohort(n=600, seed=3, follow_up=8.0):
    """Two competing events; x's effect on event 1 changes sign at t = 2."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    z = rng.binomial(1, 0.5, n).astype(float)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    # event 1: hazard 0.15 exp(-x) before t = 2, 0.15 exp(x) after; event 2: 0.05 exp(0.5 z)
    e1 = rng.exponential(1 / (0.15 * np.exp(-x)))
    late = e1 > 2
    e1[late] = 2 + rng.exponential(1 / (0.15 * np.exp(x[late])))
    e2 = rng.exponential(1 / (0.05 * np.exp(0.5 * z)))
    cens = rng.uniform(1, follow_up, n)
    time = np.minimum.reduce([e1, e2, cens])
    event = np.select([time == e1, time == e2], [1, 2], 0)
    return pd.DataFrame({"time": time, "event": event, "x": x, "z": z, "group": group})


def test_horizons_follow_the_data_and_its_unit():
    rot = pd.read_csv(DATA / "rotterdam.csv")
    assert choose_horizons(rot["time"], "days") == (800, 2000, 3000)
    assert choose_horizons(rot["time"] / 365.25, "years") == (2, 5, 8)
    assert choose_horizons(pd.read_csv(DATA / "mgus2.csv")["etime"], "months") == (36, 84, 144)
    eight = _cohort(follow_up=8.0)["time"]
    chosen = choose_horizons(eight, "years")
    assert all(0 < h <= eight.max() for h in chosen) and list(chosen) == sorted(set(chosen))
    with pytest.raises(ValueError, match=r"--horizons \[10.0\] lie outside the follow-up"):
        check_horizons([2, 10], eight, "years")
    assert check_horizons([5, 1], eight, "years") == (1, 5)


def test_reference_levels_are_stated_and_chosen_one_way():
    df = pd.DataFrame(
        {
            "text": ["b", "a", "b", "c", "b", "a"],
            "cat": pd.Categorical(["x", "y", "y", "y", "x", "z"], categories=["z", "y", "x"]),
            "num": [3, 2, 2, 3, 3, 4],
            "flag": [0, 1, 1, 0, 1, 0],
        }
    )
    d = code_covariates(df, ["text", "cat", "C(num)", "flag"])
    refs = d.references()["reference level"].to_dict()
    # most frequent text level; first category; smallest number
    assert refs == {"text": "b", "cat": "z", "num": "2"}
    assert [c.contrast for c in d.of_term("text")] == ["text: a vs b", "text: c vs b"]
    assert d.of_column("flag").contrast == "flag: 1 vs 0"
    assert d.data["text[T.a]"].tolist() == [0, 1, 0, 0, 0, 1]
    assert code_covariates(df, ["text"], {"text": "c"}).of_term("text")[0].reference == "c"
    with pytest.raises(ValueError, match="reference level 'q' of 'text' does not occur"):
        code_covariates(df, ["text"], {"text": "q"})
    with pytest.raises(ValueError, match=r"reference levels given for \['nope'\]"):
        code_covariates(df, ["text"], {"nope": "a"})
    with pytest.raises(ValueError, match="'log\\(num\\)' is not a column"):
        code_covariates(df, ["log(num)"])


def test_risk_profile_intervals_are_the_models_standard_error_limits():
    # the report's limits are predict_risk_profile(se=True)'s, reshaped to (times, rows)
    df = _cohort()
    csc = CauseSpecificCox().fit(df, "time", "event", formula=["x", "z"], causes=[1, 2])
    rows = df.iloc[[0, 5, 17]]
    times = [0.5, 2.0]
    lower, upper, method = model_intervals(csc, rows, [1, 2], times)
    ref = csc.predict_risk_profile(rows, times, se=True)
    point = absolute_risks(csc, rows, times)
    assert method == "delta"  # Efron ties: the delta method
    for cause in (1, 2):
        table = ref[cause].set_index(["row", "time"])
        for j, label in enumerate(rows.index):
            for i, t in enumerate(times):
                assert lower[cause][i, j] == table.loc[(label, t), "lower"]
                assert upper[cause][i, j] == table.loc[(label, t), "upper"]
                assert lower[cause][i, j] < point[cause][i, j] < upper[cause][i, j]


def test_change_point_interval_is_an_interval_and_covers_the_truth():
    df = _cohort(n=1000, seed=5, follow_up=10.0)
    args = dict(formula=["z"], cause=1, seed=2, n_candidates=9, bootstrap_replicates=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp = estimate_change_point(df, "x", "time", "event", **args)
    assert cp.interval == "bootstrap"
    assert cp.lower < cp.upper
    assert cp.lower <= 2.0 <= cp.upper
    assert cp.lower <= cp.estimate <= cp.upper
    # same seed, same interval
    again = estimate_change_point(df, "x", "time", "event", **args)
    assert (again.lower, again.upper) == (cp.lower, cp.upper)


def test_fast_profile_matches_the_exact_fit_at_its_cut():
    df = _cohort(n=800, seed=9)
    cut = 2.0
    exact = time_varying_effect(df, "x", [cut], "time", "event", formula=["z"], cause=1)
    status = (df["event"] == 1).to_numpy().astype(int)
    offset = df["z"].to_numpy() * exact.model.params_["z"]
    x = df["x"].to_numpy()
    # coefficients at the exact ones: the fast profile equals the exact log-likelihood
    b = exact.periods["coef"].to_numpy()
    at_exact = fast_profile(df["time"].to_numpy(), status, x, offset, [cut], np.array(b))
    # with a grid, it can only be lower: each period's coefficient is maximised on the grid
    # (the exact values are a grid point here), so it equals the exact maximum
    assert at_exact[0] == pytest.approx(exact.model.log_likelihood_, abs=1e-8)
    grid = np.sort(np.r_[default_beta(x), b])
    on_grid = fast_profile(df["time"].to_numpy(), status, x, offset, [cut], grid)
    assert on_grid[0] == pytest.approx(exact.model.log_likelihood_, abs=1e-8)


def test_roles_labels_and_wording_on_a_data_file():
    df = _cohort()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = report_for_data(
            df, "time", "event", ["x", "z", "group"], labels={1: "relapse", 2: "death"}
        )
    roles = next(s for s in rep.sections if s.title == "Cohort")
    text = " ".join(roles.paragraphs)
    assert "No event code was named as a competing event" in text and "--competing" in text
    table = roles.tables[0].frame
    assert table.loc["2", "role set by"] == "not named: treated as of interest"
    assert table.loc["1", "name"] == "relapse"
    html_titles = [s.title for s in rep.sections]
    assert "Cumulative incidence per event type" in html_titles
    assert not any("organ" in t for t in html_titles)
    # named competing: one event of interest, no heterogeneity section, its name in titles
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = report_for_data(
            df,
            "time",
            "event",
            ["x", "z", "group"],
            competing=[2],
            labels={1: "relapse", 2: "death"},
            horizons=(1, 3),
        )
    titles = [s.title for s in rep.sections]
    assert "Cumulative incidence of relapse" in titles
    assert not any(t.startswith("Does an effect differ") for t in titles)
    hr = next(s for s in rep.sections if s.title == "Hazard ratios")
    wide = hr.tables[0].frame
    assert {"CS HR", "CS p (BH)", "FG sHR", "FG p (BH)"} <= set(wide.columns)
    assert "group: b vs a" in wide.index.get_level_values("contrast")
    assert rep.checks["horizons"] == [1, 3] and rep.checks["horizons_source"] == "given"
    inc = next(s for s in rep.sections if s.title == "Cumulative incidence of relapse")
    assert list(inc.tables[0].frame.columns[:2]) == ["cumulative incidence", "SE"]
    with pytest.raises(ValueError, match="labels name code\\(s\\) \\[7\\]"):
        report_for_data(df, "time", "event", ["x"], labels={7: "x"})


def test_a_small_cohort_gets_a_report_with_reasons():
    df = _cohort(n=120, seed=1)
    df.loc[df["event"] == 2, "event"] = 0
    df.loc[df.index[:3], "event"] = 2  # 3 competing events: too few for their model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = report_for_data(df, "time", "event", ["x", "z"], competing=[2])
    risk = next(s for s in rep.sections if s.title == "Individual risk profiles")
    assert "could not be estimated" in risk.paragraphs[0] and "fewer than 10" in risk.paragraphs[0]
    performance = next(s for s in rep.sections if s.title == "How well do the models predict?")
    assert "could not be estimated" in performance.paragraphs[0]
    assert "fewer than 10" in performance.paragraphs[0] and not performance.figures
    assert rep.checks["skipped_sections"] == [
        "Individual risk profiles",
        "How well do the models predict?",
    ]
    assert "prediction_performance" not in rep.checks


def test_huge_n_is_refused_with_the_memory_it_needs(tmp_path):
    with pytest.raises(click.UsageError, match=r"--n 1000000000 needs about .*TB.* available"):
        check_memory(10**9, "report", available=8 * 2**30)
    check_memory(4000, "report", available=8 * 2**30)  # fits
    runner = CliRunner()
    for args in (
        ["simulate", "--n", str(10**12), "--seed", "1", "--out", str(tmp_path / "x.csv")],
        ["report", "--n", str(10**12), "--out", str(tmp_path / "r")],
        ["simstudy", "--n", str(10**12), "--reps", "2", "--seed", "1", "--out", str(tmp_path)],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "of memory" in result.output and "Use a smaller --n" in result.output
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "r").exists()


def test_fit_sites_takes_competing(tmp_path):
    path = tmp_path / "d.csv"
    _cohort().to_csv(path, index=False)
    base = ["fit", "--data", str(path), "--duration-col", "time", "--event-col", "event"]
    base += ["--formula", "x + z", "--model", "sites", "--out", str(tmp_path)]
    result = CliRunner().invoke(main, [*base, "--competing", "2"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "sites.csv")
    assert set(table["site"]) == {1}
    # BH over the one site's tests only: 2 tests per model
    cs = table[table["model"] == "cause_specific"]
    assert len(cs) == 2
    result = CliRunner().invoke(main, [*base, "--competing", "9"])
    assert result.exit_code == 2 and "do not occur" in result.output
