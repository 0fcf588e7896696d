"""Multi-state scenario files: a base scenario (by name) plus the transitions after
the first relapse.

Layout (see ``multistate_scenarios/breast_site_dormancy_progression.toml``)::

    base = "breast_site_dormancy"     # first events: this scenario, unchanged
    description = "one line"

    [[transitions]]                   # one per allowed later transition
    from = "bone"                     # a site of the base scenario
    to = "liver"                      # another site, or "death"
    clock = "forward"                 # optional; "reset": time since entering "bone"
    gompertz = { rate_per_year = 0.12, growth_per_year = 0.0 }
    effects = { liver_nk_activity = -0.5, subtype = { her2 = 0.6 } }

Hazards are in years since diagnosis (clock forward, Markov), or with
``clock = "reset"`` in years since entering the origin state (semi-Markov);
effects are
constant log hazard ratios on the base scenario's centred design terms
(categorical covariates by level). The transitions must be acyclic, so each
state is entered at most once, and every relapse state needs a way to death.
Every error is a ValueError naming the file, the key and a fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from synthetic.distributions import GompertzBaseline
from synthetic.scenario import CauseModel, Effect, Scenario
from synthetic.scenario_file import load_scenario
from synthetic.toml_checker import read_toml, resolve_named_file

NO_RELAPSE = "no_relapse"
DEATH = "death"


@dataclass(frozen=True)
class Transition:
    """A later transition: origin state, target state and its hazard model."""

    origin: str
    target: str
    model: CauseModel
    clock: str = "forward"  # "reset": hazard in time since entering the origin state


@dataclass(frozen=True, eq=False)
class MultiStateScenario:
    """A base scenario for the first event and the transitions after it."""

    name: str
    description: str
    source: str
    base: Scenario
    transitions: tuple[Transition, ...]

    @property
    def states(self) -> tuple[str, ...]:
        return (NO_RELAPSE, *self.base.site_names, DEATH)

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Every allowed (from, to): first events, then the later transitions."""
        first = tuple((NO_RELAPSE, cause) for cause in self.base.cause_names)
        return first + tuple((t.origin, t.target) for t in self.transitions)

    def order(self) -> list[str]:
        """Relapse states in an order where every transition goes forwards."""
        remaining = list(self.base.site_names)
        done: list[str] = []
        while remaining:
            ready = [
                s
                for s in remaining
                if not any(t.target == s and t.origin in remaining for t in self.transitions)
            ]
            if not ready:  # a cycle: the caller reports it
                break
            done.extend(ready)
            remaining = [s for s in remaining if s not in ready]
        return done

    def __repr__(self) -> str:
        return f"MultiStateScenario({self.name!r}, base={self.base.name!r})"


def multistate_directory() -> Path:
    return Path(str(resources.files("synthetic") / "multistate_scenarios"))


def load_multistate_scenario(name_or_path: str | Path) -> MultiStateScenario:
    """Load a built-in multi-state scenario by name, or a TOML file by path."""
    path = resolve_named_file(name_or_path, multistate_directory(), "multi-state scenario")
    raw = read_toml(path)
    source = str(path)
    return parse_multistate(raw, source=source, name=path.stem)


def _fail(source: str, key: str, problem: str, fix: str):
    raise ValueError(f"{source}: {key} {problem}; {fix}")


def parse_multistate(raw: dict, *, source: str, name: str) -> MultiStateScenario:
    allowed = {"base", "description", "transitions"}
    for key in raw:
        if key not in allowed:
            _fail(source, key, "is not a known key", f"use one of {sorted(allowed)}")
    base_name = raw.get("base")
    if not isinstance(base_name, str):
        _fail(
            source,
            "base",
            "is missing or not a string",
            'name the base scenario, e.g. "breast_site_dormancy"',
        )
    base = load_scenario(base_name)
    description = raw.get("description", "")
    if not isinstance(description, str):
        _fail(source, "description", "is not a string", "give one line of text")
    entries = raw.get("transitions")
    if not isinstance(entries, list) or not entries:
        _fail(source, "transitions", "is missing or empty", "add [[transitions]] tables")
    sites = base.site_names
    seen = set()
    transitions = []
    for i, entry in enumerate(entries):
        where = f"transitions[{i}]"
        if not isinstance(entry, dict):
            _fail(source, where, "is not a table", "write it as [[transitions]]")
        for key in entry:
            if key not in {"from", "to", "gompertz", "effects", "clock"}:
                _fail(
                    source,
                    f"{where}.{key}",
                    "is not a known key",
                    "use from, to, gompertz, effects, clock",
                )
        origin, target = entry.get("from"), entry.get("to")
        if origin not in sites:
            _fail(
                source,
                f"{where}.from",
                f"= {origin!r} is not a site of {base.name!r}",
                f"use one of {list(sites)}",
            )
        if target not in (*sites, DEATH) or target == origin:
            _fail(
                source,
                f"{where}.to",
                f"= {target!r} is not another site or death",
                f"use one of {[s for s in sites if s != origin] + [DEATH]}",
            )
        if (origin, target) in seen:
            _fail(source, where, f"repeats {origin} -> {target}", "list each transition once")
        seen.add((origin, target))
        baseline = _gompertz(source, entry.get("gompertz"), f"{where}.gompertz")
        effects = _effects(source, entry.get("effects", {}), f"{where}.effects", base)
        model = CauseModel(f"{origin}->{target}", baseline, effects)
        clock = entry.get("clock", "forward")
        if clock not in ("forward", "reset"):
            _fail(
                source,
                f"{where}.clock",
                f"= {clock!r} is not known",
                'use "forward" (time since diagnosis, Markov) or "reset" (semi-Markov)',
            )
        transitions.append(Transition(origin, target, model, clock))
    scenario = MultiStateScenario(name, description, source, base, tuple(transitions))
    for site in sites:
        if not any(t.origin == site for t in transitions):
            _fail(
                source,
                "transitions",
                f"has none out of {site!r}",
                f"add at least {site} -> death, or a patient could never die after it",
            )
    if len(scenario.order()) != len(sites):
        _fail(
            source,
            "transitions",
            "form a cycle",
            "order the sites so that every transition goes forwards",
        )
    return scenario


def _gompertz(source, table, where) -> GompertzBaseline:
    if not isinstance(table, dict) or set(table) != {"rate_per_year", "growth_per_year"}:
        _fail(
            source,
            where,
            "is missing or malformed",
            "write { rate_per_year = 0.1, growth_per_year = 0.0 }",
        )
    rate, growth = table["rate_per_year"], table["growth_per_year"]
    for key, value in (("rate_per_year", rate), ("growth_per_year", growth)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            _fail(source, f"{where}.{key}", f"= {value!r} is not a finite number", "give a number")
    if rate <= 0:
        _fail(source, f"{where}.rate_per_year", f"= {rate!r} is not > 0", "give a positive rate")
    return GompertzBaseline(float(rate), float(growth))


def _effects(source, table, where, base: Scenario) -> tuple[Effect, ...]:
    if not isinstance(table, dict):
        _fail(source, where, "is not a table", "write { covariate = log_hr, ... }")
    specs = {spec.name: spec for spec in base.covariates}
    effects = []
    for name, value in table.items():
        spec = specs.get(name)
        if spec is None:
            _fail(
                source,
                f"{where}.{name}",
                "is not a covariate of the base scenario",
                f"use one of {list(specs)}",
            )
        if spec.family == "categorical":
            if not isinstance(value, dict):
                _fail(
                    source,
                    f"{where}.{name}",
                    "needs one log HR per non-reference level",
                    f"write {{ {spec.levels[-1]} = 0.5 }}",
                )
            for level, beta in value.items():
                if level not in spec.levels[1:]:
                    _fail(
                        source,
                        f"{where}.{name}.{level}",
                        "is not a non-reference level",
                        f"use one of {list(spec.levels[1:])}",
                    )
                effects.append(
                    Effect(
                        f"{name}[T.{level}]", (_number(source, beta, f"{where}.{name}.{level}"),)
                    )
                )
        else:
            effects.append(Effect(name, (_number(source, value, f"{where}.{name}"),)))
    return tuple(effects)


def _number(source, value, where) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        _fail(source, where, f"= {value!r} is not a finite number", "give a log hazard ratio")
    return float(value)
