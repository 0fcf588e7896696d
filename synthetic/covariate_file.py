"""Parsing the ``[covariates.<name>]`` tables of a scenario file.

Each covariate names its marginal family and parameters (see
``scenario_file``); a bernoulli covariate may instead be ``given`` a
categorical one, with one probability per level.
"""

from __future__ import annotations

import keyword
import re

from synthetic.covariates import COVARIATE_FAMILIES, CovariateSpec
from synthetic.site_file import RESERVED_NAMES
from synthetic.toml_checker import Checker

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_COVARIATE_PARAMS = {
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sdlog"),
    "bernoulli": ("p", "given"),
    "poisson": ("mean",),
    "categorical": ("levels", "probabilities"),
}
_COVARIATE_OPTIONAL = ("distribution", "center", "organ", "description")


def parse_covariates(check: Checker, tables: dict, site_names) -> tuple[CovariateSpec, ...]:
    specs = []
    for name, table in tables.items():
        path = f"covariates.{name}"
        if not _IDENTIFIER.fullmatch(name) or keyword.iskeyword(name):
            # a covariate name becomes a data column and a model term; names from
            # a file must never be able to act as formula code
            check.fail(
                path,
                f"has the name {name!r}, which is not a plain identifier",
                "use letters, digits and underscores only, starting with a letter or "
                "underscore (e.g. tumour_grade)",
            )
        if name in RESERVED_NAMES or name in site_names:
            check.fail(path, f"uses the reserved name {name!r}", "rename the covariate")
        if not isinstance(table, dict):
            check.fail(path, "is not a table", f"write it as [{path}]")
        family = check.string(table, "distribution", path)
        if family not in COVARIATE_FAMILIES:
            check.fail(
                f"{path}.distribution",
                f"= {family!r} is not a known distribution",
                f"use one of {list(COVARIATE_FAMILIES)}",
            )
        needed = _COVARIATE_PARAMS[family]
        check.known_keys(table, set(needed) | set(_COVARIATE_OPTIONAL), path)
        params = _parse_covariate_params(check, family, table, path)
        organ = table.get("organ")
        if organ is not None and organ not in site_names:
            check.fail(
                f"{path}.organ",
                f"refers to unknown site {organ!r}",
                f"use one of {list(site_names)}",
            )
        if family == "categorical" and "center" in table:
            check.fail(
                f"{path}.center",
                "is not allowed for a categorical covariate",
                "remove it; the first level is the reference",
            )
        center = check.number(table, "center", path, default=0.0)
        specs.append(
            CovariateSpec(name, family, params, center, organ, str(table.get("description", "")))
        )
    if not specs:
        check.fail("covariates", "is empty", "declare at least one [covariates.<name>] table")
    _check_conditionals(check, specs)
    return tuple(specs)


def _check_conditionals(check: Checker, specs: list[CovariateSpec]) -> None:
    """A bernoulli ``given`` a categorical needs one probability per level."""
    by_name = {spec.name: spec for spec in specs}
    for spec in specs:
        given = spec.params.get("given") if spec.family == "bernoulli" else None
        if given is None:
            continue
        path = f"covariates.{spec.name}"
        parent = by_name.get(given)
        if parent is None or parent.family != "categorical":
            categoricals = [s.name for s in specs if s.family == "categorical"]
            check.fail(
                f"{path}.given",
                f"= {given!r} is not a categorical covariate of this scenario",
                f"use one of {categoricals}",
            )
        levels = set(parent.levels)
        if set(spec.params["p"]) != levels:
            missing = sorted(levels - set(spec.params["p"]))
            unknown = sorted(set(spec.params["p"]) - levels)
            check.fail(
                f"{path}.p",
                f"lacks levels {missing} and has unknown levels {unknown}",
                f"give one probability for each of {list(parent.levels)}",
            )


def _parse_covariate_params(check: Checker, family: str, table: dict, path: str) -> dict:
    if family == "normal":
        return {
            "mean": check.number(table, "mean", path),
            "sd": check.number(table, "sd", path, low=0.0, low_open=True),
        }
    if family == "lognormal":
        return {
            "median": check.number(table, "median", path, low=0.0, low_open=True),
            "sdlog": check.number(table, "sdlog", path, low=0.0, low_open=True),
        }
    if family == "bernoulli":
        if "given" not in table:
            return {"p": check.number(table, "p", path, low=0.0, high=1.0)}
        given = check.string(table, "given", path)
        by_level = table.get("p")
        if not isinstance(by_level, dict) or not by_level:
            check.fail(
                f"{path}.p",
                f"must map each level of {given!r} to a probability when given is set",
                f"write p = {{ <level> = 0.9, ... }} for every level of {given!r}",
            )
        return {
            "given": given,
            "p": {
                level: check.value(p, f"{path}.p.{level}", low=0.0, high=1.0)
                for level, p in by_level.items()
            },
        }
    if family == "poisson":
        return {"mean": check.number(table, "mean", path, low=0.0, low_open=True, high=1e6)}
    levels = table.get("levels")
    if (
        not isinstance(levels, list)
        or len(levels) < 2
        or not all(isinstance(v, str) and v for v in levels)
        or len(set(levels)) != len(levels)
    ):
        check.fail(
            f"{path}.levels",
            "must list at least two distinct level names",
            'write e.g. levels = ["luminal_a", "basal"] (the first is the reference)',
        )
    probabilities = table.get("probabilities")
    if not isinstance(probabilities, list) or len(probabilities) != len(levels):
        check.fail(
            f"{path}.probabilities",
            f"must have one entry per level ({len(levels)})",
            "give one probability per level",
        )
    for i, p in enumerate(probabilities):
        check.value(p, f"{path}.probabilities[{i}]", low=0.0, high=1.0)
    if abs(sum(probabilities) - 1.0) > 1e-9:
        check.fail(f"{path}.probabilities", f"sum to {sum(probabilities)!r}", "make them sum to 1")
    return {"levels": tuple(levels), "probabilities": tuple(float(p) for p in probabilities)}
