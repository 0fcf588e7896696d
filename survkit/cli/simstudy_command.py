"""``survkit simstudy``: run (or resume) a simulation study and summarise it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from synthetic import DEFAULT_SCENARIO

from .memory import check_memory


@click.command("simstudy")
@click.option(
    "--scenario", default=None, help=f"Built-in scenario or TOML path [{DEFAULT_SCENARIO}]."
)
@click.option("--n", "n", type=int, default=None, help="Patients per simulated cohort.")
@click.option("--reps", type=int, default=None, help="Replicates per scenario.")
@click.option(
    "--seed", type=int, default=None, help="Study seed (each replicate's is spawned from it)."
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker processes (joblib, or the LocalCluster of --dask local) [1; 2 with --dask].",
)
@click.option(
    "--dask",
    "dask_address",
    default=None,
    metavar="local|ADDRESS",
    help="Run on Dask: 'local' starts a LocalCluster, or give a scheduler address.",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    default=None,
    help="Study definition TOML; --scenario/--n/--reps/--seed override its values.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
def simstudy(scenario, n, reps, seed, workers, dask_address, config, out):
    """Simulation study: every method on replicated synthetic cohorts.

    Writes OUT/estimates.parquet (one row per replicate, method and
    estimand, failures with their reason), OUT/performance.csv (bias,
    empirical and model SE, relative error, MSE, coverage, bias-eliminated
    coverage, rejection rate, each with its Monte Carlo SE), failures.csv,
    estimands.csv (the truth) and coverage.png. Rerunning the same command
    resumes an interrupted study; a changed definition is refused.
    """
    from ..simstudy import StudyMismatchError, run_study

    study = _definition(scenario, n, reps, seed, config)
    check_memory(max(d.n for d in study.scenarios), "simstudy", copies=max(workers or 1, 1))
    if workers is not None and workers < 1:
        raise click.UsageError(f"--workers {workers} must be at least 1.")
    if dask_address is not None and dask_address != "local" and workers is not None:
        raise click.UsageError(
            "--workers sets the size of a local cluster; with --dask ADDRESS the "
            "scheduler's workers are used, so drop --workers."
        )
    bar = None

    def start(todo, done):
        nonlocal bar
        if done:
            click.echo(f"resuming: {done} replicates stored, {todo} to run", err=True)
        if sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(total=todo, unit="rep", desc="simstudy", file=sys.stderr)

    try:
        result = run_study(
            study,
            out,
            workers=workers or 1,
            dask=dask_address,
            on_start=start,
            progress=lambda k: bar.update(k) if bar is not None else None,
        )
    except (StudyMismatchError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    finally:
        if bar is not None:
            bar.close()
    failed = result.estimates["status"].ne("ok").sum()
    total = len(result.estimates)
    names = ["performance.csv", "failures.csv", "estimands.csv", "coverage.png"]
    written = [name for name in names if (Path(out) / name).exists()]
    click.echo(
        f"{result.new_reps} replicates run, {result.resumed_reps} resumed; "
        f"{failed} of {total} estimates failed; wrote {out}/estimates.parquet, "
        + ", ".join(written)
    )


def _definition(scenario, n, reps, seed, config):
    from ..simstudy import DataGeneratingMechanism, StudyDefinition, load_study

    if config is not None:
        try:
            study = load_study(config)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    try:
        if config is not None:
            changes = {}
            if reps is not None:
                changes["reps"] = reps
            if seed is not None:
                changes["seed"] = seed
            if scenario is not None or n is not None:
                if len(study.scenarios) != 1:
                    raise click.UsageError(
                        f"{config} defines {len(study.scenarios)} scenarios; --scenario and --n "
                        "can only replace a single one, so edit the file instead."
                    )
                (dgm,) = study.scenarios
                changes["scenarios"] = (
                    DataGeneratingMechanism(
                        scenario if scenario is not None else dgm.scenario,
                        n if n is not None else dgm.n,
                        dgm.overrides,
                        dgm.label,
                    ),
                )
            return study.replace(**changes) if changes else study
        missing = [
            name for name, v in (("--n", n), ("--reps", reps), ("--seed", seed)) if v is None
        ]
        if missing:
            raise click.UsageError(
                f"missing {', '.join(missing)}; give them, or a study definition with --config."
            )
        study = StudyDefinition(
            scenarios=(DataGeneratingMechanism(scenario or DEFAULT_SCENARIO, n),),
            reps=reps,
            seed=seed,
            source="command line",
        )
        study.mechanism_tables()  # a bad --scenario is a usage error, reported now
        return study
    except ValueError as error:
        raise click.UsageError(str(error)) from None
