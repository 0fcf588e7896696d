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
    sd = 1.0                       # bernoulli: p (or given = "<categorical>" and
                                   #   p = { <level> = p, ... }, one p per level);
                                   # poisson: mean;
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

    [calibration]                  # optional; written by synthetic.calibrate
    ...                            # (targets and achieved values; not read)

    [effects.<organ or death>]     # log hazard ratios; unspecified terms are 0
    age = 0.09                                            # constant
    astro = { change_points = [3.0], log_hr = [-0.9, 0.9] }  # piecewise
    subtype = { her2 = 0.8, basal = { change_points = [2.0], log_hr = [1.0, 0.2] } }

Every error is a ValueError naming the file, the key and a fix.
"""

from __future__ import annotations

import copy
import itertools
from importlib import resources
from pathlib import Path

import numpy as np

from synthetic.covariate_file import parse_covariates
from synthetic.scenario import CauseModel, Censoring, Effect, Scenario
from synthetic.site_file import parse_death, parse_site
from synthetic.toml_checker import Checker, read_toml, resolve_named_file

DEFAULT_SCENARIO = "breast_site_dormancy"


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
    path = resolve_named_file(name_or_path, scenario_directory(), "scenario")
    raw = read_toml(path)
    source = str(path)
    return parse_scenario(raw, source=source, name=path.stem)


def parse_scenario(raw: dict, *, source: str, name: str) -> Scenario:
    """Validate a scenario mapping (as read from TOML) and build the Scenario."""
    check = Checker(source)
    check.known_keys(
        raw,
        {
            "description",
            "censoring",
            "covariates",
            "correlations",
            "sites",
            "death",
            "effects",
            "calibration",
        },
        "",
    )
    # [calibration] records how synthetic.calibrate fitted the file (targets
    # beside achieved values); the model does not read it.
    check.table(raw, "calibration", "calibration", required=False)
    description = check.string(raw, "description", "")
    if "\n" in description.strip():
        check.fail("description", "spans several lines", "keep it to one line")
    censoring = _parse_censoring(check, check.table(raw, "censoring", "censoring"))
    site_tables = check.table(raw, "sites", "sites")
    if not site_tables:
        check.fail("sites", "is empty", "declare at least one [sites.<organ>] table")
    covariates = parse_covariates(
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
            parse_site(check, table, f"sites.{organ}"),
            _parse_effects(check, effect_tables.get(organ, {}), f"effects.{organ}", covariates),
        )
        for organ, table in site_tables.items()
    )
    death = CauseModel(
        "death",
        parse_death(check, check.table(raw, "death", "death")),
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
        raw=copy.deepcopy(raw),
    )


def _parse_censoring(check: Checker, table: dict) -> Censoring:
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


def _parse_correlations(check: Checker, entries, covariates) -> np.ndarray:
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
            if member in names and "given" in covariates[names.index(member)].params:
                check.fail(
                    f"{path}.between",
                    f"includes {member!r}, whose dependence is set by its given covariate",
                    "remove this correlation; the per-level probabilities p define it",
                )
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


def _parse_effects(check: Checker, table: dict, path: str, covariates) -> tuple[Effect, ...]:
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


def _parse_one_effect(check: Checker, value, where: str, term: str) -> Effect:
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
