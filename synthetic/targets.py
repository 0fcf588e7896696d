"""Published targets a scenario can be calibrated to, and the TARGETS.toml file.

A target is one number about first relapses in one organ, for the scenario's
own covariate distribution (the average over a seeded reference sample of
patients, as a registry's or a paper's table would report):

``cumulative_incidence``
    F_k(t) = P(first event by t is relapse in organ k), death competing.
``median_years``
    the time by which half of the first relapses in organ k that occur within
    ``within_years`` have occurred: F_k(m) = F_k(within) / 2 (what the median
    of observed relapse times estimates when follow-up is ``within_years``).
``yearly_hazard``
    the average yearly risk of a first relapse in organ k over
    [from_years, to_years] for patients alive and event-free at from_years:
    (F_k(b) - F_k(a)) / (1 - Σ_j F_j(a)) / (b - a).

TARGETS.toml::

    scenario = "breast_site_dormancy"   # built-in name, or a path relative to this file
    seed = 1                            # optional: reference sample of patients
    reference_patients = 10000          # optional
    tolerance = 0.001                   # optional: largest |achieved - target| / target

    [[targets]]
    site = "bone"
    cumulative_incidence = 0.08
    at_years = 10
    source = "my registry, table 2"     # optional, recorded in the output

    [[targets]]
    site = "bone"
    median_years = 4.0
    within_years = 15

Nothing in the file is evaluated: every value is checked as a number or a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from synthetic.toml_checker import Checker, read_toml

KINDS = ("cumulative_incidence", "median_years", "yearly_hazard")
_TIME_KEYS = {
    "cumulative_incidence": ("at_years",),
    "median_years": ("within_years",),
    "yearly_hazard": ("from_years", "to_years"),
}


@dataclass(frozen=True)
class Target:
    """One published number (see the module documentation for the kinds)."""

    site: str
    kind: str
    value: float
    times: tuple[float, ...]
    source: str = ""

    @property
    def label(self) -> str:
        keys = _TIME_KEYS[self.kind]
        when = ", ".join(f"{k} = {t:g}" for k, t in zip(keys, self.times, strict=True))
        return f"{self.site} {self.kind} ({when})"


@dataclass(frozen=True)
class TargetsFile:
    scenario: str
    targets: tuple[Target, ...]
    seed: int
    reference_patients: int
    tolerance: float


def target_from_mapping(entry: dict, where: str, check: Checker) -> Target:
    """A Target from a mapping such as ``{"site": "bone", "cumulative_incidence": 0.08,
    "at_years": 10}``."""
    if not isinstance(entry, dict):
        check.fail(where, "is not a table", "write each target as a [[targets]] table")
    kinds = [kind for kind in KINDS if kind in entry]
    if len(kinds) != 1:
        check.fail(where, f"names {len(kinds)} kinds of target", f"give exactly one of {KINDS}")
    kind = kinds[0]
    check.known_keys(entry, {"site", "source", kind, *_TIME_KEYS[kind]}, where)
    site = check.string(entry, "site", where)
    if kind == "cumulative_incidence":
        value = check.number(entry, kind, where, low=0.0, high=1.0, low_open=True)
    else:
        value = check.number(entry, kind, where, low=0.0, low_open=True)
    times = tuple(
        check.number(entry, key, where, low=0.0, low_open=True) for key in _TIME_KEYS[kind]
    )
    if kind == "median_years" and not value < times[0]:
        check.fail(
            f"{where}.median_years",
            f"= {value:g} is not below within_years = {times[0]:g}",
            "a median of relapses within a horizon lies inside it",
        )
    if kind == "yearly_hazard" and not times[0] < times[1]:
        check.fail(f"{where}.to_years", f"= {times[1]:g} is not after from_years", "swap them")
    source = entry.get("source", "")
    if not isinstance(source, str):
        check.fail(f"{where}.source", "is not a string", "quote it")
    return Target(site, kind, value, times, source)


def read_targets(path: str | Path) -> TargetsFile:
    """Read and validate a TARGETS.toml file (layout in the module documentation)."""
    path = Path(path)
    source = str(path)
    check = Checker(source)
    raw = read_toml(path)
    check.known_keys(raw, {"scenario", "seed", "reference_patients", "tolerance", "targets"}, "")
    scenario = check.string(raw, "scenario", "")
    relative = path.parent / scenario
    if scenario.endswith(".toml") and relative.exists():
        scenario = str(relative)
    seed = raw.get("seed", 1)
    patients = raw.get("reference_patients", 10_000)
    for key, value, low in (("seed", seed, 0), ("reference_patients", patients, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            check.fail(key, f"= {value!r} is not an integer >= {low}", "give a whole number")
    tolerance = check.number(raw, "tolerance", "", default=1e-3, low=0.0, low_open=True)
    entries = raw.get("targets")
    if not isinstance(entries, list) or not entries:
        check.fail("targets", "is missing or empty", "add at least one [[targets]] table")
    targets = tuple(
        target_from_mapping(entry, f"targets[{i}]", check) for i, entry in enumerate(entries)
    )
    return TargetsFile(scenario, targets, seed, patients, tolerance)
