"""``survkit scenarios`` and ``survkit simulate``."""

from __future__ import annotations

from pathlib import Path

import click

from .memory import check_memory


@click.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    from synthetic import list_scenarios

    for name, description in list_scenarios().items():
        click.echo(f"{name:24s} {description}")


@click.command()
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

    check_memory(n, "simulate")
    suffix = Path(out).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise click.UsageError(f"--out {out!r}: use a .csv or .parquet file name.")
    cohort = simulate_cohort(named_scenario(scenario), n=n, seed=seed)
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


def named_scenario(name: str):
    """A built-in scenario by name, or a TOML path; a usage error names the built-ins."""
    from synthetic import list_scenarios, load_scenario

    if not name.endswith(".toml") and name not in list_scenarios():
        raise click.UsageError(
            f"unknown scenario {name!r}; built-in scenarios: {', '.join(list_scenarios())} "
            "(or pass a path to a .toml file)."
        )
    return load_scenario(name)
