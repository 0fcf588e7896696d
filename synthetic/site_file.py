"""Parsing the ``[sites.<organ>]`` and ``[death]`` tables of a scenario file.

A site's dormancy is one distribution given by its median and interquartile
range, or a mixture of such components with weights::

    [sites.bone]
    seeding_fraction = 0.1
    dormancy = { distribution = "lognormal", median_years = 5.0, iqr_years = 6.0 }

    [sites.bone.dormancy]          # or, for a mixture:
    distribution = "mixture"
    components = [
      { weight = 0.6, distribution = "lognormal", median_years = 2.0, iqr_years = 2.0 },
      { weight = 0.4, distribution = "weibull", median_years = 12.0, iqr_years = 14.0 },
    ]
"""

from __future__ import annotations

from synthetic.distributions import (
    DORMANCY_FAMILIES,
    DormancyBaseline,
    DormancyDistribution,
    GompertzBaseline,
    iqr_ratio_range,
)
from synthetic.dormancy_mixture import MixtureDormancy
from synthetic.toml_checker import Checker

RESERVED_NAMES = ("death", "censored", "patient_id", "time", "event")
# Weights are read as given; they must sum to 1 up to TOML's decimal rounding.
_WEIGHT_SUM_TOLERANCE = 1e-9


def parse_site(check: Checker, table: dict, path: str) -> DormancyBaseline:
    if not isinstance(table, dict):
        check.fail(path, "is not a table", f"write it as [{path}]")
    if path.split(".", 1)[1] in RESERVED_NAMES:
        check.fail(path, "uses a reserved name", f"rename it; {list(RESERVED_NAMES)} are reserved")
    check.known_keys(table, {"seeding_fraction", "dormancy", "description"}, path)
    pi = check.number(table, "seeding_fraction", path, low=0.0, high=1.0)
    dpath = f"{path}.dormancy"
    dormancy = check.table(table, "dormancy", dpath)
    if dormancy.get("distribution") == "mixture":
        return DormancyBaseline(pi, _parse_mixture(check, dormancy, dpath))
    return DormancyBaseline(pi, _parse_dormancy(check, dormancy, dpath, set()))


def _parse_dormancy(check: Checker, table: dict, path: str, extra: set) -> DormancyDistribution:
    check.known_keys(table, {"distribution", "median_years", "iqr_years", *extra}, path)
    family = check.string(table, "distribution", path)
    if family not in DORMANCY_FAMILIES:
        check.fail(
            f"{path}.distribution",
            f"= {family!r} is not a known distribution",
            f"use one of {[*DORMANCY_FAMILIES, 'mixture']}",
        )
    median = check.number(table, "median_years", path, low=0.0, low_open=True)
    iqr = check.number(table, "iqr_years", path, low=0.0, low_open=True)
    low, high = iqr_ratio_range(family)
    if not low < iqr / median < high:
        check.fail(
            f"{path}.iqr_years",
            f"= {iqr} gives iqr/median = {iqr / median:.4g}, which a {family} cannot have",
            f"keep iqr/median in ({low:.3g}, {high:.3g})",
        )
    return DormancyDistribution.from_median_iqr(family, median, iqr)


def _parse_mixture(check: Checker, table: dict, path: str) -> MixtureDormancy:
    check.known_keys(table, {"distribution", "components"}, path)
    entries = table.get("components")
    if not isinstance(entries, list) or len(entries) < 2:
        check.fail(
            f"{path}.components",
            "must list at least two components",
            'give e.g. components = [{ weight = 0.6, distribution = "lognormal", '
            "median_years = 2.0, iqr_years = 2.0 }, { weight = 0.4, ... }]",
        )
    components, weights = [], []
    for i, entry in enumerate(entries):
        where = f"{path}.components[{i}]"
        if not isinstance(entry, dict):
            check.fail(where, "is not a table", "write each component as { weight = ..., ... }")
        weights.append(check.number(entry, "weight", where, low=0.0, high=1.0, low_open=True))
        components.append(_parse_dormancy(check, entry, where, {"weight"}))
    total = sum(weights)
    if abs(total - 1.0) > _WEIGHT_SUM_TOLERANCE:
        check.fail(f"{path}.components", f"weights sum to {total!r}", "make them sum to 1")
    return MixtureDormancy(tuple(components), tuple(weights))


def parse_death(check: Checker, table: dict) -> GompertzBaseline:
    check.known_keys(table, {"gompertz", "description"}, "death")
    gompertz = check.table(table, "gompertz", "death.gompertz")
    check.known_keys(gompertz, {"rate_per_year", "growth_per_year"}, "death.gompertz")
    rate = check.number(gompertz, "rate_per_year", "death.gompertz", low=0.0, low_open=True)
    growth = check.number(gompertz, "growth_per_year", "death.gompertz", low=0.0, high=1.0)
    return GompertzBaseline(rate, growth)
