"""Reading what the user typed: data files, event codes, formula terms, progress bars."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click
import pandas as pd


def progress_bar(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not sys.stderr.isatty(), leave=False)


def command_line() -> str:
    return "survkit " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def read_table(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise click.UsageError(f"data file {path!r} does not exist.")
    if p.suffix.lower() == ".csv":
        return pd.read_csv(p)
    if p.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(p)
    raise click.UsageError(f"data file {path!r}: use a .csv or .parquet file.")


def event_code(value: str | None, column: pd.Series, none_word: str | None = None) -> object:
    """A code typed on the command line, converted to the column's type.

    ``none_word`` (e.g. "none" for --censor-value) means Python's None, unless
    the column really holds that code.
    """
    if value is None:
        return None
    if none_word is not None and value.strip().lower() == none_word:
        if not column.astype(str).eq(value).any():
            return None
    if pd.api.types.is_numeric_dtype(column):
        try:
            return int(value)
        except ValueError:
            raise click.UsageError(
                f"{value!r} is not a code of numeric column {column.name!r}."
            ) from None
    return value


def formula_terms(formula: str) -> list[str]:
    """Top-level '+' terms of a formula right-hand side (the user's own code).

    A term that is just a backtick-quoted name (`tumour grade`) comes back as
    the bare column name, so the report passes it as a column, not as code.
    """
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
    terms = [_unquoted(t) for t in terms if t]
    if not terms:
        raise click.UsageError(f"--formula {formula!r} has no terms.")
    return terms


def _unquoted(term: str) -> str:
    if len(term) > 2 and term[0] == term[-1] == "`" and "`" not in term[1:-1]:
        return term[1:-1]
    return term
