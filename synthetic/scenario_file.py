"""Reading and validating scenario TOML files.

Layout of a scenario file (see ``scenarios/breast_site_dormancy.toml``)::

    description = "one line"

    [censoring]
    accrual_years = 5.0            # uniform accrual over [0, accrual_years]
    study_end_years = 15.0         # analysis date, counted from the first accrual
    dropout_rate_per_year = 0.02   # exponential drop-out (0 for none)

    [covariates.<name>]            # in the order they should appear in the data
    distribution = "normal"        # normal | lognormal | bernoulli | poisson | categorical
    mean = 0.0                     # normal: mean, sd; lognormal: median, sdlog;
    sd = 1.0                       # bernoulli: p; poisson: mean;
                                   # categorical: levels, probabilities (first = reference)
    center = 0.0                   # optional; effects act on (x - center)
    organ = "bone"                 # optional; marks a microenvironment covariate
    description = "..."            # optional

    [[correlations]]               # Gaussian-copula correlation of latent normals
    between = ["a", "b"]
    rho = 0.3

    [sites.<organ>]                # in order; "death" and "censored" are reserved
    seeding_fraction = 0.2         # π in [0, 1]
    dormancy = { distribution = "lognormal", median_years = 4.0, iqr_years = 5.0 }

    [death]
    gompertz = { rate_per_year = 0.006, growth_per_year = 0.09 }

    [effects.<organ or death>]     # log hazard ratios; unspecified terms are 0
    age = 0.09                                            # constant
    astro = { change_points = [3.0], log_hr = [-0.9, 0.9] }  # piecewise
    subtype = { her2 = 0.8, basal = { change_points = [2.0], log_hr = [1.0, 0.2] } }

Every error is a ValueError naming the file, the key and a fix.
"""

from __future__ import annotations

import itertools
import keyword
import math
import re
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np

from synthetic.covariates import COVARIATE_FAMILIES, CovariateSpec
from synthetic.distributions import (
    DORMANCY_FAMILIES,
    DormancyBaseline,
    DormancyDistribution,
    GompertzBaseline,
    iqr_ratio_range,
)
from synthetic.scenario import CauseModel, Censoring, Effect, Scenario

DEFAULT_SCENARIO = "breast_site_dormancy"
RESERVED_NAMES = ("death", "censored", "patient_id", "time", "event")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_COVARIATE_PARAMS = {
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sdlog"),
    "bernoulli": ("p",),
    "poisson": ("mean",),
    "categorical": ("levels", "probabilities"),
}
_COVARIATE_OPTIONAL = ("distribution", "center", "organ", "description")


class _Checker:
    """Builds error messages that name the file, the key and a fix."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, problem: str, fix: str):
        raise ValueError(f"{self.source}: {key} {problem}; {fix}")

    def table(self, parent: dict, key: str, path: str, *, required: bool = True) -> dict:
        value = parent.get(key)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            self.fail(path, "is missing or not a table", f"add a [{path}] table")
        return value

    def known_keys(self, table: dict, allowed, path: str):
        for key in table:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.fail(where, "is not a known key", f"use one of {sorted(allowed)}")

    def number(self, table: dict, key: str, path: str, *, default=None, **bounds) -> float:
        where = f"{path}.{key}" if path else key
        if key not in table:
            if default is not None:
                return default
            self.fail(where, "is missing", "add it (a number)")
        return self.value(table[key], where, **bounds)

    def value(self, value, where: str, *, low=None, high=None, low_open=False) -> float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            self.fail(where, f"= {value!r} is not a finite number", "give a number")
        too_low = low is not None and (value < low or (low_open and value == low))
        if too_low or (high is not None and value > high):
            opening = "(" if low_open else "["
            if low is not None and high is not None:
                bound = f"in {opening}{low:g}, {high:g}]"
            elif low is not None:
                bound = f"> {low:g}" if low_open else f">= {low:g}"
            else:
                bound = f"<= {high:g}"
            self.fail(where, f"= {value!r} is out of range", f"it must be {bound}")
        return float(value)

    def string(self, table: dict, key: str, path: str, *, default=None) -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(
                f"{path}.{key}" if path else key,
                "is missing or not a string",
                "give a non-empty string",
            )
        return value


def scenario_directory() -> Path:
    return Path(str(resources.files("synthetic") / "scenarios"))


def list_scenarios() -> dict[str, str]:
    """Built-in scenario names mapped to their one-line descriptions."""
    return {
        path.stem: load_scenario(path).description
        for path in sorted(scenario_directory().glob("*.toml"))
    }


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a built-in scenario by name, or any scenario TOML file by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and not path.exists():
        path = scenario_directory() / f"{name_or_path}.toml"
        if not path.exists():
            available = sorted(p.stem for p in scenario_directory().glob("*.toml"))
            raise ValueError(
                f"scenario {str(name_or_path)!r} is neither a built-in scenario nor a file; "
                f"use one of {available} or a path to a .toml file"
            )
    source = str(path)
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ValueError(f"{source}: file not found; check the path") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{source}: not valid TOML ({error}); fix the syntax") from None
    return parse_scenario(raw, source=source, name=path.stem)


def parse_scenario(raw: dict, *, source: str, name: str) -> Scenario:
    """Validate a scenario mapping (as read from TOML) and build the Scenario."""
    check = _Checker(source)
    check.known_keys(
        raw,
        {"description", "censoring", "covariates", "correlations", "sites", "death", "effects"},
        "",
    )
    description = check.string(raw, "description", "")
    if "\n" in description.strip():
        check.fail("description", "spans several lines", "keep it to one line")
    censoring = _parse_censoring(check, check.table(raw, "censoring", "censoring"))
    site_tables = check.table(raw, "sites", "sites")
    if not site_tables:
        check.fail("sites", "is empty", "declare at least one [sites.<organ>] table")
    covariates = _parse_covariates(
        check, check.table(raw, "covariates", "covariates"), site_names=tuple(site_tables)
    )
    correlation = _parse_correlations(check, raw.get("correlations", []), covariates)
    effect_tables = check.table(raw, "effects", "effects", required=False)
    cause_names = (*site_tables, "death")
    for cause in effect_tables:
        if cause not in cause_names:
            check.fail(
                f"effects.{cause}",
                f"refers to unknown site {cause!r}",
                f"use one of {list(cause_names)} or declare [sites.{cause}]",
            )
    sites = tuple(
        CauseModel(
            organ,
            _parse_site(check, table, f"sites.{organ}"),
            _parse_effects(check, effect_tables.get(organ, {}), f"effects.{organ}", covariates),
        )
        for organ, table in site_tables.items()
    )
    death = CauseModel(
        "death",
        _parse_death(check, check.table(raw, "death", "death")),
        _parse_effects(check, effect_tables.get("death", {}), "effects.death", covariates),
    )
    return Scenario(
        name=name,
        description=description.strip(),
        source=source,
        covariates=covariates,
        correlation=correlation,
        sites=sites,
        death=death,
        censoring=censoring,
    )


def _parse_censoring(check: _Checker, table: dict) -> Censoring:
    path = "censoring"
    check.known_keys(table, {"accrual_years", "study_end_years", "dropout_rate_per_year"}, path)
    accrual = check.number(table, "accrual_years", path, low=0.0)
    end = check.number(table, "study_end_years", path, low=0.0, low_open=True)
    if end <= accrual:
        check.fail(
            f"{path}.study_end_years",
            f"= {end} does not exceed accrual_years = {accrual}",
            "end the study after the last patient is accrued",
        )
    dropout = check.number(table, "dropout_rate_per_year", path, low=0.0)
    return Censoring(accrual, end, dropout)


def _parse_covariates(check: _Checker, tables: dict, site_names) -> tuple[CovariateSpec, ...]:
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
    return tuple(specs)


def _parse_covariate_params(check: _Checker, family: str, table: dict, path: str) -> dict:
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
        return {"p": check.number(table, "p", path, low=0.0, high=1.0)}
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


def _parse_correlations(check: _Checker, entries, covariates) -> np.ndarray:
    names = [spec.name for spec in covariates]
    matrix = np.eye(len(names))
    if not isinstance(entries, list):
        check.fail("correlations", "is not an array of tables", "write [[correlations]] blocks")
    for i, entry in enumerate(entries):
        path = f"correlations[{i}]"
        if not isinstance(entry, dict):
            check.fail(path, "is not a table", "write [[correlations]] blocks")
        check.known_keys(entry, {"between", "rho"}, path)
        pair = entry.get("between")
        if not isinstance(pair, list) or len(pair) != 2 or pair[0] == pair[1]:
            check.fail(
                f"{path}.between",
                "must name two different covariates",
                'write between = ["a", "b"]',
            )
        for member in pair:
            if member not in names:
                check.fail(
                    f"{path}.between",
                    f"refers to unknown covariate {member!r}",
                    f"use one of {names}",
                )
        rho = check.number(entry, "rho", path, low=-1.0, high=1.0)
        a, b = names.index(pair[0]), names.index(pair[1])
        if matrix[a, b] != 0.0:
            check.fail(f"{path}.between", f"repeats the pair {pair}", "give each pair once")
        matrix[a, b] = matrix[b, a] = rho
    if np.linalg.eigvalsh(matrix).min() <= 1e-10:
        check.fail(
            "correlations",
            "do not form a positive-definite correlation matrix",
            "weaken the correlations",
        )
    return matrix


def _parse_site(check: _Checker, table: dict, path: str) -> DormancyBaseline:
    if not isinstance(table, dict):
        check.fail(path, "is not a table", f"write it as [{path}]")
    if path.split(".", 1)[1] in RESERVED_NAMES:
        check.fail(path, "uses a reserved name", f"rename it; {list(RESERVED_NAMES)} are reserved")
    check.known_keys(table, {"seeding_fraction", "dormancy", "description"}, path)
    pi = check.number(table, "seeding_fraction", path, low=0.0, high=1.0)
    dormancy = check.table(table, "dormancy", f"{path}.dormancy")
    dpath = f"{path}.dormancy"
    check.known_keys(dormancy, {"distribution", "median_years", "iqr_years"}, dpath)
    family = check.string(dormancy, "distribution", dpath)
    if family not in DORMANCY_FAMILIES:
        check.fail(
            f"{dpath}.distribution",
            f"= {family!r} is not a known distribution",
            f"use one of {list(DORMANCY_FAMILIES)}",
        )
    median = check.number(dormancy, "median_years", dpath, low=0.0, low_open=True)
    iqr = check.number(dormancy, "iqr_years", dpath, low=0.0, low_open=True)
    low, high = iqr_ratio_range(family)
    if not low < iqr / median < high:
        check.fail(
            f"{dpath}.iqr_years",
            f"= {iqr} gives iqr/median = {iqr / median:.4g}, which a {family} cannot have",
            f"keep iqr/median in ({low:.3g}, {high:.3g})",
        )
    return DormancyBaseline(pi, DormancyDistribution.from_median_iqr(family, median, iqr))


def _parse_death(check: _Checker, table: dict) -> GompertzBaseline:
    check.known_keys(table, {"gompertz", "description"}, "death")
    gompertz = check.table(table, "gompertz", "death.gompertz")
    check.known_keys(gompertz, {"rate_per_year", "growth_per_year"}, "death.gompertz")
    rate = check.number(gompertz, "rate_per_year", "death.gompertz", low=0.0, low_open=True)
    growth = check.number(gompertz, "growth_per_year", "death.gompertz", low=0.0, high=1.0)
    return GompertzBaseline(rate, growth)


def _parse_effects(check: _Checker, table: dict, path: str, covariates) -> tuple[Effect, ...]:
    by_name = {spec.name: spec for spec in covariates}
    effects = []
    for name, value in table.items():
        where = f"{path}.{name}"
        spec = by_name.get(name)
        if spec is None:
            check.fail(
                where,
                f"refers to unknown covariate {name!r}",
                f"declare [covariates.{name}] or use one of {list(by_name)}",
            )
        if spec.family != "categorical":
            effects.append(_parse_one_effect(check, value, where, name))
            continue
        if not isinstance(value, dict):
            check.fail(
                where,
                "must map non-reference levels to log hazard ratios",
                f"write {name} = {{ {spec.levels[1]} = 0.5 }}",
            )
        for level, level_value in value.items():
            if level == spec.levels[0]:
                check.fail(
                    f"{where}.{level}",
                    "is the reference level",
                    f"give effects only for {list(spec.levels[1:])}",
                )
            if level not in spec.levels:
                check.fail(
                    f"{where}.{level}",
                    f"is not a level of {name}",
                    f"use one of {list(spec.levels[1:])}",
                )
            effects.append(
                _parse_one_effect(check, level_value, f"{where}.{level}", f"{name}[T.{level}]")
            )
    # Effects follow the covariate order so linear predictors sum in a fixed order.
    order = {term: i for i, term in enumerate(t for s in covariates for t in s.design_terms)}
    return tuple(sorted(effects, key=lambda effect: order[effect.term]))


def _parse_one_effect(check: _Checker, value, where: str, term: str) -> Effect:
    if not isinstance(value, dict):
        return Effect(term, (check.value(value, where),))
    check.known_keys(value, {"change_points", "log_hr"}, where)
    points, betas = value.get("change_points"), value.get("log_hr")
    if not isinstance(points, list) or not points:
        check.fail(
            f"{where}.change_points",
            "must be a non-empty list of years",
            "write change_points = [3.0], or give a plain number for a constant effect",
        )
    for i, point in enumerate(points):
        check.value(point, f"{where}.change_points[{i}]", low=0.0, low_open=True)
    if any(b <= a for a, b in itertools.pairwise(points)):
        check.fail(
            f"{where}.change_points",
            f"= {points} are not in increasing order",
            "list change points strictly increasing",
        )
    if not isinstance(betas, list) or len(betas) != len(points) + 1:
        check.fail(
            f"{where}.log_hr",
            f"needs {len(points) + 1} values (one per piece between change points {points})",
            "give one log hazard ratio per piece",
        )
    for i, beta in enumerate(betas):
        check.value(beta, f"{where}.log_hr[{i}]")
    return Effect(term, tuple(float(b) for b in betas), tuple(float(p) for p in points))
