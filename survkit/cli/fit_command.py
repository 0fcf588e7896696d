"""``survkit fit``: one model on a data file, its summary printed and optionally written."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from .inputs import event_code, read_table
from .messages import NONE_WORD


@click.command()
@click.option("--data", "data_path", required=True, help="Data file (.csv or .parquet).")
@click.option("--duration-col", required=True)
@click.option("--event-col", required=True)
@click.option(
    "--formula",
    required=True,
    help='Right-hand side, e.g. "age + C(subtype)". A formula is code that formulaic '
    "evaluates (as Python inside {...}): pass only formulas you wrote yourself. "
    "Quote names with spaces or dots in backticks: `tumour grade`.",
)
@click.option(
    "--model", type=click.Choice(["cox", "finegray", "sites"]), default="cox", show_default=True
)
@click.option("--cause", default=None, help="Event code of interest (cox: cause-specific).")
@click.option(
    "--censor-value",
    default="0",
    show_default=True,
    help="Censoring code ('none' when no row is censored).",
)
@click.option("--strata", multiple=True, help="Stratification column (cox; repeatable).")
@click.option(
    "--competing",
    multiple=True,
    help="Event codes that are not sites, e.g. death (sites; repeatable): not fitted as a "
    "site nor counted in the Benjamini-Hochberg family.",
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder for the result CSV.",
)
def fit(
    data_path,
    duration_col,
    event_col,
    formula,
    model,
    cause,
    censor_value,
    strata,
    competing,
    out_dir,
) -> None:
    """Fit a model and print its summary table."""
    from ..data.validation import encode_events
    from ..models.coxph import CoxPH
    from ..models.fine_gray import FineGray
    from ..organs.site_models import fit_sites

    df = read_table(data_path)
    if event_col not in df.columns:
        raise click.UsageError(f"--event-col {event_col!r} is not a column of {data_path}.")
    censor = event_code(censor_value, df[event_col], NONE_WORD)
    code = event_code(cause, df[event_col])
    other = [event_code(c, df[event_col]) for c in competing]
    if other and model != "sites":
        raise click.UsageError(
            "--competing applies to --model sites; for cox and finegray, --cause names the "
            "event of interest and every other code is competing."
        )
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
        first = next((v for v in pd.unique(df[event_col]) if v != censor), None)
        if first is None:
            raise click.UsageError(f"{event_col!r} holds only the censoring code {censor!r}.")
        codes = list(encode_events(df[event_col], event_col, first, censor).labels)
        unknown = [c for c in other if c not in codes]
        if unknown:
            raise click.UsageError(
                f"--competing {unknown} do not occur in {event_col!r} (codes: {codes})."
            )
        sites = [c for c in codes if c not in other]
        if not sites:
            raise click.UsageError("every event code was named --competing; no site is left.")
        fits = fit_sites(df, duration_col, event_col, formula, sites=sites, censor_value=censor)
        table = fits.table
        click.echo(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        path = Path(out_dir) / f"{model}.csv"
        table.to_csv(path)
        click.echo(f"wrote {path}")
