"""``survkit report --multistate --data FILE``: the multi-state report on the user's histories.

The file is in event-history form, one row per patient and interval (the
data of R's ``survfit(Surv(tstart, tstop, to) ~ 1, id = id, istate = from)``):

    id, tstart, tstop, from, to, covariates...

``from`` is the state occupied on (tstart, tstop], ``to`` the state entered at
tstop, or the censoring code (``--censor-value``) when the interval ends
without a transition. The allowed transitions are those the file shows; the
states come in the order the transitions allow (first = the starting state)
unless ``--states`` lists them; ``--absorbing death`` makes a row that
leaves death an error rather than a transition. ``--formula`` names the covariates (plain
column names joined by +; categorical columns are dummy-coded against their
first level). Column names and cells are data: nothing from the file is
evaluated.
"""

from __future__ import annotations

import click

from .inputs import command_line, event_code, formula_terms, read_table
from .messages import NONE_WORD

_DEFAULTS = {
    "id_col": "id",
    "start_col": "tstart",
    "stop_col": "tstop",
    "from_col": "from",
    "to_col": "to",
}


def multistate_data_report(
    data_path, columns, formula, censor_value, states, absorbing, unit, horizons
):
    """The Report for a histories file (see the module docstring)."""
    from ..data.validation import check_columns
    from ..multistate import read_histories, transitions_from_histories
    from ..report import report_for_multistate

    if formula is None:
        raise click.UsageError(
            "--multistate --data needs --formula naming the covariates, e.g. --formula 'age + sex'."
        )
    cols = {k: (v if v is not None else _DEFAULTS[k]) for k, v in columns.items()}
    df = read_table(data_path)
    check_columns(df, {k: [v] for k, v in cols.items()})
    covariates = formula_terms(formula)
    unknown = [c for c in covariates if c not in df.columns]
    if unknown:
        raise click.UsageError(
            f"--formula: {len(unknown)} term(s) are not columns of {data_path}: {unknown}. "
            "Give plain column names joined by + (categorical columns are dummy-coded "
            "against their first level; derived covariates go in the file). Columns: "
            f"{', '.join(map(str, df.columns[:12]))}."
        )
    clash = [c for c in covariates if c in cols.values()]
    if clash:
        raise click.UsageError(
            f"--formula names history column(s) {clash}; covariates are the other columns."
        )
    to = df[cols["to_col"]]
    censor = event_code(censor_value, to, NONE_WORD)
    order = _codes(states, to)
    final = _codes(absorbing, to)
    tm = transitions_from_histories(
        df, cols["from_col"], cols["to_col"], censor, order, absorbing=final
    )
    data = read_histories(df, tm, **cols, censor_value=censor, keep=covariates)
    return report_for_multistate(
        data,
        covariates=covariates,
        times=horizons,
        time_unit=unit,
        command=command_line(),
        label=f"data file {data_path} ({data.n_patients} patients)",
    )


def _codes(text: str | None, column) -> list | None:
    """A comma-separated list of states typed on the command line, in the column's type."""
    if text is None:
        return None
    return [event_code(s.strip(), column) for s in text.split(",") if s.strip()]
