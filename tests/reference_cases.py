"""Load the committed R reference values (tests/reference) and build the matching fits.

Tolerances are those of DESIGN.md; every test module imports them from here so
they are written down once.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

REFERENCE = Path(__file__).parent / "reference"

RTOL_COEF = 1e-6
RTOL_SE = 1e-5
RTOL_LOGLIK = 1e-8
RTOL_CURVE = 1e-6  # cumulative incidence, baseline hazards, survival
RTOL_STAT = 1e-5  # test statistics
RTOL_VAR = 1e-5  # variances of incidence
RTOL_CONCORDANCE = 1e-8


@cache
def results(name: str) -> dict:
    with open(REFERENCE / "results" / f"{name}.json") as fh:
        return json.load(fh)


def cases(name: str) -> dict:
    return results(name)["cases"]


@cache
def _data(file: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "data" / file)


def data(file: str) -> pd.DataFrame:
    return _data(file).copy()


def with_dummies(df: pd.DataFrame, factors: dict | None) -> pd.DataFrame:
    """Treatment-coded columns named as R names them (``celltypesmallcell``)."""
    if not factors:
        return df
    df = df.copy()
    for col, levels in factors.items():
        for level in levels[1:]:
            df[f"{col}{level}"] = (df[col].astype(str) == str(level)).astype(float)
    return df


def cox_kwargs(case: dict) -> dict:
    """Arguments of survkit's CoxPH.fit equivalent to an R coxph case."""
    kw = {
        "duration_col": case["duration"],
        "event_col": case["event"],
        "formula": list(case["coef_names"]),
        "entry_col": case["entry"],
        "strata": case["strata"],
        "weights_col": case["weights"],
        "offset_col": case["offset"],
        "cluster_col": case["cluster"],
    }
    if case.get("cause") is not None:
        kw["cause"] = case["cause"]
        kw["censor_value"] = case["censor_value"]
    return kw


def matrix(rows) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


def vector(values) -> np.ndarray:
    if isinstance(values, dict):
        values = list(values.values())
    return np.array([np.nan if v is None else v for v in values], dtype=float)
