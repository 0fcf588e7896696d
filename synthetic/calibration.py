"""Calibrating a scenario's organs to published incidences, medians or hazards.

``calibrate(scenario, targets)`` fits, for every organ that has a target, its
seeding fraction π_k and (when the organ has two or more targets) a time scale
s_k of its dormancy distribution (every dormancy duration multiplied by s_k,
so the shape is kept). All other numbers of the scenario stay as they are.

The fitted quantities are exact functions of the scenario: cumulative
incidences from ``truth.cumulative_incidence`` (quadrature, no simulation
noise), averaged over a fixed, seeded reference sample of patients drawn from
the scenario's covariate distribution. The fit is a least-squares solve of the
relative errors (achieved - target) / target in logit π and log s; with as
many targets as free parameters it is a root-find, so each target is met to
the solver's precision when the solve reaches it. A solve that ends short is
restarted from other time scales (up to 8-fold either way) before the targets
are declared incompatible.

Targets that cannot be met together are refused: before fitting, incidences
at one time that sum to 1 or more, or an organ's incidence that does not
increase with time; after fitting, any target missed by more than
``tolerance`` (relative), listed with the value that was reached.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import interpolate, optimize, special

from synthetic import truth
from synthetic.distributions import DormancyBaseline
from synthetic.scenario import Scenario
from synthetic.scenario_file import load_scenario, parse_scenario
from synthetic.scenario_writer import scenario_toml
from synthetic.targets import Target, target_from_mapping
from synthetic.toml_checker import Checker

# Grid on which a median is read off the exact incidence (monotone cubic
# interpolation between grid points; relative error below 2e-5 on the built-in
# scenarios, checked against root-finding the exact incidence).
_MEDIAN_GRID_POINTS = 120
# Starting time scales tried, in turn, while the targets are not yet met.
_START_SCALES = (1.0, 0.5, 2.0, 0.25, 4.0, 0.125, 8.0)


@dataclass(frozen=True)
class Calibration:
    """The fitted scenario, how closely each target is met, and the fitted values."""

    scenario: Scenario
    table: pd.DataFrame  # one row per target: target, achieved, relative_error, met
    fitted: pd.DataFrame  # one row per fitted organ: seeding fraction and time scale
    raw: dict
    header: tuple[str, ...]
    comments: dict

    def to_toml(self) -> str:
        return scenario_toml(self.raw, list(self.header), self.comments)

    def write(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the calibrated scenario; an existing file is kept unless ``force``."""
        path = Path(path)
        if path.exists() and not force:
            raise ValueError(
                f"{path} already exists; choose another --out path or pass force=True "
                "(--force) to replace it"
            )
        text = self.to_toml()
        # Write beside the target and rename, so an interruption never leaves
        # a half-written scenario (nor a damaged old file under --force).
        handle, temporary = tempfile.mkstemp(dir=path.parent or ".", suffix=".toml.part")
        try:
            with os.fdopen(handle, "w") as stream:
                stream.write(text)
            if force:
                os.replace(temporary, path)
            else:
                os.link(temporary, path)  # fails if the path appeared meanwhile
                os.unlink(temporary)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return path


def calibrate(
    scenario: Scenario | str | Path,
    targets,
    *,
    seed: int = 1,
    reference_patients: int = 10_000,
    tolerance: float = 1e-3,
) -> Calibration:
    """Fit π_k (and dormancy time scales) of ``scenario`` to ``targets``.

    ``targets`` is a sequence of ``synthetic.targets.Target`` or of mappings
    like ``{"site": "bone", "cumulative_incidence": 0.08, "at_years": 10}``.
    The reference covariate distribution is the first ``reference_patients``
    patients of ``simulate_cohort(scenario, reference_patients, seed)``.
    """
    from synthetic.simulate import simulate_cohort  # simulate imports this package's parser

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if scenario.raw is None:
        raise ValueError(
            f"scenario {scenario.name!r} has no source mapping to write back; "
            "load it with synthetic.load_scenario"
        )
    targets = _checked_targets(scenario, targets)
    if not tolerance > 0:
        raise ValueError(f"tolerance = {tolerance!r} is not positive; pass e.g. 1e-3")
    counts = pd.Series([t.site for t in targets]).value_counts()
    sites = [s for s in scenario.site_names if s in counts.index]
    scaled = [s for s in sites if counts[s] >= 2]
    cohort = simulate_cohort(scenario, reference_patients, seed)
    design = truth.design_from_data(scenario, cohort.data)
    n = len(cohort.data)
    evaluate = _Evaluator(scenario, targets, design, n)

    start = [scenario.cause(s).baseline.seeding_fraction for s in sites]
    if any(not 0 < p < 1 for p in start):
        raise ValueError(
            "calibration needs starting seeding fractions strictly between 0 and 1; "
            f"sites {sites} have {start}"
        )
    x0 = np.concatenate([special.logit(start), np.zeros(len(scaled))])

    def build(x) -> tuple[Scenario, dict, dict]:
        pis = dict(zip(sites, special.expit(x[: len(sites)]), strict=True))
        scales = dict(zip(scaled, np.exp(x[len(sites) :]), strict=True))
        return _with_sites(scenario, pis, scales), pis, scales

    goals = np.array([t.value for t in targets])

    def residuals(x):
        return evaluate(build(x)[0]) / goals - 1.0

    solution = _solve(residuals, x0, len(sites), len(scaled), tolerance)
    fitted_scenario, pis, scales = build(solution.x)
    achieved = evaluate(fitted_scenario)
    table = pd.DataFrame(
        {
            "target": [t.label for t in targets],
            "value": goals,
            "achieved": achieved,
            "relative_error": achieved / goals - 1.0,
            "source": [t.source for t in targets],
        }
    )
    table["met"] = table["relative_error"].abs() <= tolerance
    if not table["met"].all():
        missed = table[~table["met"]]
        lines = "; ".join(
            f"{row.target}: target {row.value:.6g}, best reachable {row.achieved:.6g}"
            for row in missed.itertuples()
        )
        raise ValueError(
            f"{len(missed)} of {len(table)} targets cannot be met together within "
            f"relative tolerance {tolerance:g} ({lines}); drop or relax the conflicting "
            "targets, or give each organ's timing through two targets so its dormancy "
            "time scale is fitted too"
        )
    fitted = pd.DataFrame(
        {
            "seeding_fraction_before": start,
            "seeding_fraction": [pis[s] for s in sites],
            "time_scale": [scales.get(s, 1.0) for s in sites],
        },
        index=pd.Index(sites, name="site"),
    )
    raw, header, comments = _calibrated_mapping(
        scenario, pis, scales, table, seed, reference_patients
    )
    final = parse_scenario(raw, source=f"{scenario.source} (calibrated)", name=scenario.name)
    return Calibration(final, table, fitted, raw, tuple(header), comments)


def _solve(residuals, x0: np.ndarray, n_fractions: int, n_scales: int, tolerance: float):
    """Least squares from the scenario's own values; if that ends short of the
    targets, again from other starting time scales, keeping the best.

    A median within a horizon need not move monotonically with the time scale
    (a late dormancy component enters the horizon as the scale shrinks), so a
    local solve can stop in a false minimum while the targets are reachable.
    """
    best = None
    for factor in _START_SCALES[: 1 if n_scales == 0 else len(_START_SCALES)]:
        x = x0.copy()
        x[n_fractions:] += np.log(factor)
        solution = optimize.least_squares(residuals, x, xtol=1e-14, ftol=1e-14, gtol=1e-14)
        if best is None or solution.cost < best.cost:
            best = solution
        if np.max(np.abs(best.fun)) <= tolerance:
            break
    return best


def _checked_targets(scenario: Scenario, targets) -> list[Target]:
    check = Checker("targets")
    checked = [
        t if isinstance(t, Target) else target_from_mapping(t, f"targets[{i}]", check)
        for i, t in enumerate(targets)
    ]
    if not checked:
        raise ValueError("targets is empty; give at least one target")
    for i, target in enumerate(checked):
        if target.site not in scenario.site_names:
            raise ValueError(
                f"targets[{i}].site = {target.site!r} is not an organ of scenario "
                f"{scenario.name!r}; use one of {list(scenario.site_names)}"
            )
    labels = [t.label for t in checked]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ValueError(f"targets repeat {repeated}; give each target once")
    incidences = [t for t in checked if t.kind == "cumulative_incidence"]
    for when, group in itertools.groupby(
        sorted(incidences, key=lambda t: t.times[0]), key=lambda t: t.times[0]
    ):
        group = list(group)
        total = sum(t.value for t in group)
        if total >= 1.0:
            raise ValueError(
                f"cumulative incidence targets at {when:g} years sum to {total:.4g} over "
                f"{[t.site for t in group]}; first events of different organs cannot add "
                "up to 1 or more (and death competes): check the units (fractions, not %)"
            )
    for site in scenario.site_names:
        mine = sorted((t for t in incidences if t.site == site), key=lambda t: t.times[0])
        for early, late in itertools.pairwise(mine):
            if not late.value > early.value:
                raise ValueError(
                    f"{site}: cumulative incidence {late.value:g} at {late.times[0]:g} years is "
                    f"not above {early.value:g} at {early.times[0]:g} years; an incidence "
                    "only grows with time, so these targets cannot both hold"
                )
    return checked


class _Evaluator:
    """Each target's value under a candidate scenario, from one quadrature call."""

    def __init__(self, scenario: Scenario, targets: list[Target], design: dict, n: int):
        self.targets, self.design, self.n = targets, design, n
        self.site_index = {name: k for k, name in enumerate(scenario.cause_names)}
        times = {t for target in targets for t in target.times}
        for target in targets:
            if target.kind == "median_years":
                horizon = target.times[0]
                times.update(np.linspace(0.0, horizon, _MEDIAN_GRID_POINTS + 1)[1:].tolist())
        self.times = np.array(sorted(times))

    def __call__(self, scenario: Scenario) -> np.ndarray:
        cif = truth.cumulative_incidence(scenario, self.design, self.n, self.times)
        at = {t: row for t, row in zip(self.times.tolist(), cif, strict=True)}
        values = []
        for target in self.targets:
            k = self.site_index[target.site]
            if target.kind == "cumulative_incidence":
                values.append(at[target.times[0]][k])
            elif target.kind == "yearly_hazard":
                a, b = target.times
                event_free = 1.0 - at[a].sum()
                values.append((at[b][k] - at[a][k]) / event_free / (b - a))
            else:
                values.append(self._median(cif[:, k], target.times[0]))
        return np.array(values)

    def _median(self, incidence: np.ndarray, horizon: float) -> float:
        inside = self.times <= horizon
        t = np.concatenate([[0.0], self.times[inside]])
        f = np.concatenate([[0.0], incidence[inside]])
        half = f[-1] / 2.0
        if not half > 0:
            return np.inf
        curve = interpolate.PchipInterpolator(t, f)
        upper = t[np.searchsorted(f, half)]
        return optimize.brentq(lambda u: curve(u) - half, 0.0, upper, xtol=1e-12)


def _with_sites(scenario: Scenario, pis: dict, scales: dict) -> Scenario:
    sites = []
    for site in scenario.sites:
        if site.name in pis:
            dormancy = site.baseline.dormancy
            if site.name in scales:
                dormancy = dormancy.scaled(float(scales[site.name]))
            baseline = DormancyBaseline(float(pis[site.name]), dormancy)
            site = dataclasses.replace(site, baseline=baseline)
        sites.append(site)
    return dataclasses.replace(scenario, sites=tuple(sites))


def _calibrated_mapping(scenario, pis, scales, table, seed, patients):
    import copy

    raw = copy.deepcopy(scenario.raw)
    comments = {}
    for site, pi in pis.items():
        raw["sites"][site]["seeding_fraction"] = float(pi)
        goals = "; ".join(
            f"{row.target.removeprefix(site + ' ')} = {row.value:.6g}"
            for row in table.itertuples()
            if row.target.startswith(site + " ")
        )
        comments[("sites", site, "seeding_fraction")] = f"CALIBRATED to {goals}"
        if site in scales:
            factor = float(scales[site])
            dormancy = raw["sites"][site]["dormancy"]
            for part in dormancy.get("components", [dormancy]):
                part["median_years"] = part["median_years"] * factor
                part["iqr_years"] = part["iqr_years"] * factor
            comments[("sites", site, "dormancy")] = (
                f"CALIBRATED time scale x{factor:.6g} of the original, see [calibration]"
            )
    raw["calibration"] = {
        "calibrated_from": scenario.source,
        "seed": seed,
        "reference_patients": patients,
        "fitted_sites": list(pis),
        "time_scale_fitted": list(scales),
        "targets": [
            {
                "target": row.target,
                "value": float(row.value),
                "achieved": float(row.achieved),
                "relative_error": float(row.relative_error),
                **({"source": row.source} if row.source else {}),
            }
            for row in table.itertuples()
        ],
    }
    header = [
        f"Calibrated by synthetic.calibrate from {scenario.source}.",
        f"Fitted to published targets (listed with the achieved values in [calibration]): "
        f"the seeding fractions of {list(pis)}"
        + (f" and the dormancy time scales of {list(scales)}." if scales else "."),
        "Every other number is copied unchanged from the source scenario, whose comments",
        "give its citation or mark it ASSUMPTION with a reason.",
    ]
    return raw, header, comments
