"""``survkit scenarios calibrate TARGETS.toml --out NEW.toml``.

Fits a scenario's seeding fractions (and dormancy time scales) to published
targets with ``synthetic.calibrate`` and writes the calibrated scenario. The
targets file is data: it is parsed as TOML and every value is checked as a
number or a name; nothing in it is evaluated.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("targets_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="Calibrated scenario (.toml)."
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def calibrate(targets_file: str, out: str, force: bool) -> None:
    """Calibrate a scenario to the targets in TARGETS_FILE (layout: synthetic.targets)."""
    from synthetic import calibrate as fit_scenario
    from synthetic.targets import read_targets

    destination = Path(out)
    if destination.suffix.lower() != ".toml":
        raise click.UsageError(f"--out {out!r}: use a .toml file name.")
    # Checked before the fit as well as at writing: refuse early, keep the file.
    if destination.exists() and not force:
        raise click.UsageError(
            f"--out {out!r} already exists; choose another path or pass --force to replace it."
        )
    spec = read_targets(targets_file)
    result = fit_scenario(
        spec.scenario,
        spec.targets,
        seed=spec.seed,
        reference_patients=spec.reference_patients,
        tolerance=spec.tolerance,
    )
    destination.parent.mkdir(parents=True, exist_ok=True)
    result.write(destination, force=force)
    click.echo(f"wrote {destination}")
    for row in result.table.itertuples():
        click.echo(
            f"  {row.target}: target {row.value:.6g}, achieved {row.achieved:.6g} "
            f"(relative error {row.relative_error:+.1e})"
        )
    for site, row in result.fitted.iterrows():
        click.echo(
            f"  {site}: seeding fraction {row.seeding_fraction_before:.6g} -> "
            f"{row.seeding_fraction:.6g}, dormancy time scale x{row.time_scale:.6g}"
        )
