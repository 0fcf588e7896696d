"""``survkit report``: the report on a scenario (the main job) or on a data file."""

from __future__ import annotations

import click

from .inputs import command_line, event_code, formula_terms, progress_bar, read_table
from .messages import NONE_WORD
from .scenario_commands import named_scenario


@click.command()
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
@click.option(
    "--formula",
    default=None,
    help='Covariates (with --data), e.g. "age + C(subtype)". A formula is code that '
    "formulaic evaluates (as Python inside {...}): pass only formulas you wrote yourself.",
)
@click.option(
    "--censor-value",
    default="0",
    show_default=True,
    help="Censoring code (--data; 'none' when no row is censored).",
)
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
    from ..report import (
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
    bar = progress_bar(len(steps), "report")

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
        df = read_table(data_path)
        if event_col not in df.columns:
            raise click.UsageError(f"--event-col {event_col!r} is not a column of {data_path}.")
        result = report_for_data(
            df,
            duration_col,
            event_col,
            formula_terms(formula),
            censor_value=event_code(censor_value, df[event_col], NONE_WORD),
            competing=[event_code(c, df[event_col]) for c in competing],
            group_col=group_col,
            source=f"data file {data_path}",
            command=command_line(),
            time_unit=time_unit,
            progress=progress,
        )
    else:
        name = scenario or DEFAULT_SCENARIO
        named_scenario(name)
        result = report_for_scenario(
            name,
            n=n or DEFAULT_N,
            seed=DEFAULT_SEED if seed is None else seed,
            command=command_line(),
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
