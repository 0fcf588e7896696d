"""Stable text identifiers of estimands, shared by the methods and the estimand table.

A module of its own so that ``methods`` (which reports estimates under these
ids) and ``estimands`` (which computes their true values) need not import each
other.
"""

from __future__ import annotations

__all__ = ["cif_id", "log_hr_id", "sd_log_hr_id"]


def log_hr_id(site: str, covariate: str, start: float, end: float) -> str:
    return f"log_hr[{site}, {covariate}, {start:g}-{end:g}]"


def cif_id(cause: str, time: float) -> str:
    return f"cif[{cause}, t={time:g}]"


def sd_log_hr_id(site: str, covariate: str) -> str:
    return f"sd_log_hr[{site}, {covariate}]"
