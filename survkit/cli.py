"""The ``survkit`` command line: scenarios, simulate, fit, report, simstudy.

User errors (a missing file, an unknown column, a bad formula, an unknown
scenario) print one line and exit with 2 (usage) or 1 (data); ``--debug``
shows the traceback instead. Progress bars appear only on a terminal.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click
import pandas as pd

from . import __version__
from .cli_simstudy import simstudy

DATA_ERRORS = (ValueError, KeyError, OSError, TypeError)


class _Group(click.Group):
    """Turns data errors into one-line messages (exit 1) unless --debug."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except (click.ClickException, click.Abort):
            raise
        except DATA_ERRORS as exc:
            if ctx.params.get("debug"):
                raise
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise click.ClickException(f"{type(exc).__name__}: {message}") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(__version__, prog_name="survkit")
def main(debug: bool) -> None:
    """Cox and competing-risks models for site-specific metastatic relapse."""


def _progress(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not sys.stderr.isatty(), leave=False)


def _command_line() -> str:
    return "survkit " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _read_table(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise click.UsageError(f"data file {path!r} does not exist.")
    if p.suffix.lower() == ".csv":
        return pd.read_csv(p)
    if p.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(p)
    raise click.UsageError(f"data file {path!r}: use a .csv or .parquet file.")


def _code(value: str | None, column: pd.Series) -> object:
    """A code typed on the command line, converted to the column's type."""
    if value is None:
        return None
    if pd.api.types.is_numeric_dtype(column):
        try:
            return int(value)
        except ValueError:
            raise click.UsageError(
                f"{value!r} is not a code of numeric column {column.name!r}."
            ) from None
    return value


def _terms(formula: str) -> list[str]:
    """Top-level '+' terms of a formula right-hand side."""
    rhs = formula.split("~", 1)[-1]
    terms, depth, current = [], 0, []
    for ch in rhs:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "+" and depth == 0:
            terms.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    terms.append("".join(current).strip())
    terms = [t for t in terms if t]
    if not terms:
        raise click.UsageError(f"--formula {formula!r} has no terms.")
    return terms


@main.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    from synthetic import list_scenarios

    for name, description in list_scenarios().items():
        click.echo(f"{name:24s} {description}")


@main.command()
@click.option(
    "--scenario",
    default="breast_site_dormancy",
    show_default=True,
    help="Built-in scenario name or path to a TOML scenario.",
)
@click.option("--n", "n", type=click.IntRange(min=1), required=True, help="Number of patients.")
@click.option("--seed", type=click.IntRange(min=0), required=True, help="Random seed.")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="Output file (.csv or .parquet)."
)
def simulate(scenario: str, n: int, seed: int, out: str) -> None:
    """Simulate a cohort and write one row per patient."""
    from synthetic import simulate_cohort

    suffix = Path(out).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise click.UsageError(f"--out {out!r}: use a .csv or .parquet file name.")
    cohort = simulate_cohort(_scenario(scenario), n=n, seed=seed)
    data = cohort.data
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        data.to_csv(out, index=False)
    else:
        data.to_parquet(out, index=False)
    counts = data["event"].astype(str).value_counts()
    click.echo(
        f"wrote {len(data)} patients to {out} ("
        + ", ".join(f"{k}: {v}" for k, v in counts.items())
        + ")"
    )


def _scenario(name: str):
    from synthetic import list_scenarios, load_scenario

    if not name.endswith(".toml") and name not in list_scenarios():
        raise click.UsageError(
            f"unknown scenario {name!r}; built-in scenarios: {', '.join(list_scenarios())} "
            "(or pass a path to a .toml file)."
        )
    return load_scenario(name)


@main.command()
@click.option("--data", "data_path", required=True, help="Data file (.csv or .parquet).")
@click.option("--duration-col", required=True)
@click.option("--event-col", required=True)
@click.option("--formula", required=True, help='Right-hand side, e.g. "age + C(subtype)".')
@click.option(
    "--model", type=click.Choice(["cox", "finegray", "sites"]), default="cox", show_default=True
)
@click.option("--cause", default=None, help="Event code of interest (cox: cause-specific).")
@click.option("--censor-value", default="0", show_default=True, help="Censoring code.")
@click.option("--strata", multiple=True, help="Stratification column (cox; repeatable).")
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder for the result CSV.",
)
def fit(
    data_path, duration_col, event_col, formula, model, cause, censor_value, strata, out_dir
) -> None:
    """Fit a model and print its summary table."""
    from . import CoxPH, FineGray
    from .site_models import fit_sites

    df = _read_table(data_path)
    if event_col not in df.columns:
        raise click.UsageError(f"--event-col {event_col!r} is not a column of {data_path}.")
    censor = _code(censor_value, df[event_col])
    code = _code(cause, df[event_col])
    if model == "cox":
        est = CoxPH().fit(
            df,
            duration_col,
            event_col,
            formula=formula,
            strata=list(strata) or None,
            cause=code,
            censor_value=censor,
        )
        click.echo(est.summary_text())
        table = est.summary
    elif model == "finegray":
        if code is None:
            raise click.UsageError("--model finegray needs --cause (the event code of interest).")
        est = FineGray().fit(
            df, duration_col, event_col, cause=code, formula=formula, censor_value=censor
        )
        click.echo(est.summary_text())
        table = est.summary
    else:
        fits = fit_sites(df, duration_col, event_col, formula, censor_value=censor)
        table = fits.table
        click.echo(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        path = Path(out_dir) / f"{model}.csv"
        table.to_csv(path)
        click.echo(f"wrote {path}")


@main.command()
@click.option(
    "--scenario",
    default=None,
    help="Scenario name or TOML path (default: breast_site_dormancy, unless --data is given).",
)
@click.option("--n", "n", type=click.IntRange(min=50), default=None, help="Patients (4000).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (1).")
@click.option("--data", "data_path", default=None, help="Analyse a data file instead.")
@click.option("--duration-col", default=None)
@click.option("--event-col", default=None)
@click.option("--formula", default=None, help="Covariates (with --data).")
@click.option("--censor-value", default="0", show_default=True, help="Censoring code (--data).")
@click.option(
    "--competing",
    multiple=True,
    help="Event codes that are not relapses, e.g. death (--data; repeatable).",
)
@click.option(
    "--group",
    "group_col",
    default=None,
    help="Column whose groups Gray's test compares (default for scenarios: er_positive).",
)
@click.option("--time-unit", default="years", show_default=True)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Report folder (written atomically).",
)
def report(
    scenario,
    n,
    seed,
    data_path,
    duration_col,
    event_col,
    formula,
    censor_value,
    competing,
    group_col,
    time_unit,
    out_dir,
) -> None:
    """Write the HTML/Markdown report (default: the built-in default scenario)."""
    from .report import (
        DEFAULT_N,
        DEFAULT_SCENARIO,
        DEFAULT_SEED,
        report_for_data,
        report_for_scenario,
        write_atomically,
    )

    steps = [
        "cohort",
        "incidence",
        "hazard ratios",
        "organ heterogeneity",
        "time-varying effects",
        "risk profiles",
        "truth",
        "methods",
    ]
    bar = _progress(len(steps), "report")

    def progress(step: str) -> None:
        bar.set_postfix_str(step)
        bar.update(1)

    if data_path is not None:
        if scenario is not None or n is not None or seed is not None:
            raise click.UsageError("pass either --scenario/--n/--seed or --data, not both.")
        missing = [
            o
            for o, v in (
                ("--duration-col", duration_col),
                ("--event-col", event_col),
                ("--formula", formula),
            )
            if v is None
        ]
        if missing:
            raise click.UsageError(f"--data needs {', '.join(missing)}.")
        df = _read_table(data_path)
        if event_col not in df.columns:
            raise click.UsageError(f"--event-col {event_col!r} is not a column of {data_path}.")
        result = report_for_data(
            df,
            duration_col,
            event_col,
            _terms(formula),
            censor_value=_code(censor_value, df[event_col]),
            competing=[_code(c, df[event_col]) for c in competing],
            group_col=group_col,
            source=f"data file {data_path}",
            command=_command_line(),
            time_unit=time_unit,
            progress=progress,
        )
    else:
        name = scenario or DEFAULT_SCENARIO
        _scenario(name)
        result = report_for_scenario(
            name,
            n=n or DEFAULT_N,
            seed=DEFAULT_SEED if seed is None else seed,
            command=_command_line(),
            group_col=group_col or "er_positive",
            progress=progress,
        )
    bar.close()
    path = write_atomically(result, out_dir)
    click.echo(f"wrote {path / 'report.html'}")
    for line in _headline(result.checks):
        click.echo(line)


def _headline(checks: dict) -> list[str]:
    lines = []
    for agent in checks.get("double_agents", []):
        lines.append(
            f"double agent: {agent['covariate']} in {agent['site']} "
            f"(changes near {agent['change_point']:.1f})"
        )
    if "truth_consistent" in checks:
        lines.append(
            "estimates consistent with the truth: "
            + ("yes" if checks["truth_consistent"] else "NO")
        )
    return lines


main.add_command(simstudy)


if __name__ == "__main__":  # pragma: no cover
    main()
