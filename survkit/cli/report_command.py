"""``survkit report``: the report on a scenario (the main job) or on a data file."""

from __future__ import annotations

import click

from .inputs import command_line, event_code, formula_terms, progress_bar, read_table
from .memory import check_memory
from .messages import NONE_WORD
from .scenario_commands import named_scenario

STEPS = [
    "cohort",
    "incidence",
    "hazard ratios",
    "organ heterogeneity",
    "time-varying effects",
    "risk profiles",
    "prediction performance",
    "truth",
    "methods",
]


def _pairs(values, option: str) -> list[tuple[str, str]]:
    out = []
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise click.UsageError(
                f"{option} {v!r}: write it as KEY=VALUE, e.g. {option} 1=relapse."
            )
        out.append((key.strip(), val.strip()))
    return out


def _horizons(text: str | None):
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise click.UsageError(
            f"--horizons {text!r}: give numbers, e.g. --horizons 1,3,5."
        ) from None
    if not values:
        raise click.UsageError("--horizons is empty; give numbers, e.g. --horizons 1,3,5.")
    return tuple(values)


@click.command()
@click.option(
    "--scenario",
    default=None,
    help="Scenario name or TOML path (default: breast_site_dormancy, unless --data is given).",
)
@click.option(
    "--multistate",
    is_flag=True,
    help="The multi-state report (after the first relapse) on a multi-state scenario "
    "(default: breast_site_dormancy_progression), or with --data on a file of histories "
    "(see --id-col; covariates in --formula as plain column names).",
)
@click.option("--n", "n", type=click.IntRange(min=50), default=None, help="Patients (4000).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (1).")
@click.option("--data", "data_path", default=None, help="Analyse a data file instead.")
@click.option("--duration-col", default=None)
@click.option("--event-col", default=None)
@click.option(
    "--formula",
    default=None,
    help="Covariates (with --data): column names or C(column), joined by +, e.g. "
    '"age + C(subtype)"; `backticks` quote a name with spaces. The report reads these '
    "names itself and evaluates nothing; derived covariates (log(x), ...) go in the data.",
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
    help="Event codes that are not events of interest, e.g. death (--data; repeatable).",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="CODE=NAME",
    help="Name an event code in the report, e.g. --label 1=relapse (--data; repeatable).",
)
@click.option(
    "--reference",
    "references",
    multiple=True,
    metavar="COLUMN=LEVEL",
    help="Reference level of a categorical covariate (default: the most frequent; repeatable).",
)
@click.option(
    "--sites",
    is_flag=True,
    help="The events of interest are relapse sites (organ wording; --data).",
)
@click.option(
    "--group",
    "group_col",
    default=None,
    help="Column whose groups Gray's test compares (default for scenarios: er_positive).",
)
@click.option(
    "--id-col",
    default=None,
    help="--multistate --data: patient id column (default id). The file has one row per "
    "patient and interval: id, tstart, tstop, from (the state on the interval), to (the state "
    "entered at tstop, or the --censor-value), covariates: R's Surv(tstart, tstop, to) with "
    "id= and istate=from.",
)
@click.option("--start-col", default=None, help="--multistate --data: start (default tstart).")
@click.option("--stop-col", default=None, help="--multistate --data: stop (default tstop).")
@click.option("--from-col", default=None, help="--multistate --data: state column (from).")
@click.option("--to-col", default=None, help="--multistate --data: next-state column (to).")
@click.option(
    "--states",
    default=None,
    help="--multistate --data: the states in order, first = the starting state, e.g. "
    "mgus,pcm,death (default: from the transitions in the file).",
)
@click.option(
    "--absorbing",
    default=None,
    help="--multistate --data: states nobody leaves, e.g. death (comma-separated): a row "
    "that starts in one is an error (default: whatever the file shows is allowed).",
)
@click.option("--time-unit", default="years", show_default=True)
@click.option(
    "--horizons",
    default=None,
    help="Times for incidence and risk tables, e.g. 1,3,5 (default: from the follow-up).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Report folder: new, empty, or an earlier survkit report.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a non-empty folder that is not a survkit report (only the report's "
    "own files are written; nothing else is touched).",
)
def report(
    scenario,
    multistate,
    n,
    seed,
    data_path,
    duration_col,
    event_col,
    formula,
    censor_value,
    competing,
    labels,
    references,
    sites,
    group_col,
    id_col,
    start_col,
    stop_col,
    from_col,
    to_col,
    states,
    absorbing,
    time_unit,
    horizons,
    out_dir,
    force,
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
    from ..report.destination import check_destination

    inputs = [data_path] if data_path is not None else []
    check_destination(out_dir, inputs, force)  # refuse before any work is done
    horizon_values = _horizons(horizons)
    bar = progress_bar(len(STEPS), "report")

    def progress(step: str) -> None:
        bar.set_postfix_str(step)
        bar.update(1)

    history_columns = {
        "id_col": id_col,
        "start_col": start_col,
        "stop_col": stop_col,
        "from_col": from_col,
        "to_col": to_col,
    }
    if not multistate:
        used = [f"--{k[:-4]}-col" for k, v in history_columns.items() if v is not None]
        used += [o for o, v in (("--states", states), ("--absorbing", absorbing)) if v]
        if used:
            raise click.UsageError(f"{', '.join(used)}: only with --multistate --data.")
    if multistate:
        bar.close()
        given = {
            "--label": labels,
            "--competing": competing,
            "--reference": references,
            "--sites": sites,
            "--group": group_col,
            "--duration-col": duration_col,
            "--event-col": event_col,
        }
        extra = [o for o, v in given.items() if v]
        if extra:
            raise click.UsageError(f"{', '.join(extra)}: not with --multistate.")
        if data_path is not None and (scenario is not None or n is not None or seed is not None):
            raise click.UsageError("pass either --scenario/--n/--seed or --data, not both.")
        if data_path is None:
            result = _multistate_report(
                scenario,
                n,
                seed,
                horizon_values,
                history_columns,
                {"--formula": formula, "--states": states, "--absorbing": absorbing},
            )
        else:
            from .multistate_data import multistate_data_report

            result = multistate_data_report(
                data_path,
                history_columns,
                formula,
                censor_value,
                states,
                absorbing,
                time_unit,
                horizon_values,
            )
    elif data_path is not None:
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
        column = df[event_col]
        result = report_for_data(
            df,
            duration_col,
            event_col,
            formula_terms(formula),
            censor_value=event_code(censor_value, column, NONE_WORD),
            competing=[event_code(c, column) for c in competing] if competing else None,
            group_col=group_col,
            source=f"data file {data_path}",
            command=command_line(),
            horizons=horizon_values,
            time_unit=time_unit,
            labels={event_code(k, column): v for k, v in _pairs(labels, "--label")},
            reference=dict(_pairs(references, "--reference")),
            organ_data=sites,
            progress=progress,
        )
    else:
        given = (
            ("--label", labels),
            ("--competing", competing),
            ("--reference", references),
            ("--sites", sites),
        )
        extra = [o for o, v in given if v]
        if extra:
            raise click.UsageError(
                f"{', '.join(extra)}: only with --data (a scenario names its own events)."
            )
        check_memory(n or DEFAULT_N, "report")
        name = scenario or DEFAULT_SCENARIO
        named_scenario(name)
        result = report_for_scenario(
            name,
            n=n or DEFAULT_N,
            seed=DEFAULT_SEED if seed is None else seed,
            command=command_line(),
            group_col=group_col or "er_positive",
            progress=progress,
            horizons=horizon_values,
        )
    bar.close()
    path = write_atomically(result, out_dir, inputs=inputs, force=force)
    click.echo(f"wrote {path / 'report.html'}")
    for line in _headline(result.checks):
        click.echo(line)


def _multistate_report(scenario, n, seed, horizons, columns, data_options):
    from ..report import DEFAULT_MULTISTATE_SCENARIO, report_for_multistate

    used = [f"--{k[:-4]}-col" for k, v in columns.items() if v is not None]
    used += [o for o, v in data_options.items() if v is not None]
    if used:
        raise click.UsageError(
            f"{', '.join(used)}: only with --data (a scenario names its own states and covariates)."
        )
    check_memory(n or 4000, "report")
    return report_for_multistate(
        scenario or DEFAULT_MULTISTATE_SCENARIO,
        n=n or 4000,
        seed=1 if seed is None else seed,
        times=horizons,
        command=command_line(),
    )


def _headline(checks: dict) -> list[str]:
    lines = []
    for agent in checks.get("double_agents", []):
        lines.append(
            f"double agent: {agent['covariate']} in {agent['site']} "
            f"(changes near {agent['change_point']:.3g})"
        )
    for title in checks.get("skipped_sections", []):
        lines.append(f"skipped (cannot be estimated): {title}")
    if "truth_consistent" in checks:
        lines.append(
            "estimates consistent with the truth: "
            + ("yes" if checks["truth_consistent"] else "NO")
        )
    return lines
