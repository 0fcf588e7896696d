"""A simulation study's definition (ADEMP: Morris, White & Crowther 2019), in Python or TOML.

    name = "breast_coverage"
    reps = 500
    seed = 20240607
    level = 0.95            # optional: confidence level for coverage and rejection
    chunk_size = 20         # optional: replicates per durable chunk (default: automatic)

    [[scenarios]]           # data-generating mechanisms: a scenario, n, overrides
    scenario = "breast_site_dormancy"     # built-in name or path to a scenario TOML
    n = [1000, 2000]                      # one mechanism per value
    [scenarios.overrides]                 # dotted paths into the scenario's TOML
    "effects.bone.bone_tgfb2_score" = -0.2

    [estimands]
    log_hr_sites = ["bone", "brain"]      # default: every site
    log_hr_covariates = ["bone_tgfb2_score"]   # default: every design term
    cif_times = [2.0, 5.0, 10.0]
    cif_causes = ["bone"]                 # default: every site
    reference_n = 100000                  # reference cohort for incidence truth

    [methods.cause_specific_cox]          # each method's table holds its options
    [methods.time_split_cox]
    [methods.fine_gray]
    min_events = 10
    [methods.aalen_johansen]

The **fingerprint** hashes everything that decides the value of any
replicate's estimates or of the truth: the seed, each mechanism (label, n,
overrides and the full scenario contents after them, so editing a scenario
file counts), the estimands and the methods with their options. It leaves out
``reps`` (replicate r's seed does not depend on it, so raising ``reps``
extends a study), ``level`` (it only enters the performance summary),
``chunk_size`` and ``name``. Errors are ``ValueError`` naming the file (or
``StudyDefinition``), the key and a fix.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from synthetic import DEFAULT_SCENARIO, Scenario
from synthetic.scenario_file import parse_scenario, scenario_directory

from .methods import METHODS, method_options

# Bump when the meaning of stored estimates changes, so old results are refused.
HARNESS_VERSION = 1
# Replicate seeds use spawn keys (mechanism, replicate) with replicate < MAX_REPS;
# the reference cohort uses (mechanism, 2**32) (estimands.REFERENCE_KEY), which
# no replicate index can reach.
MAX_REPS = 2**31 - 1
_SCENARIO_TOP_KEYS = ("censoring", "covariates", "correlations", "sites", "death", "effects")


def _fail(source: str, key: str, problem: str, fix: str):
    raise ValueError(f"{source}: {key} {problem}; {fix}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class DataGeneratingMechanism:
    """One data-generating mechanism: a scenario, a cohort size and parameter overrides.

    ``overrides`` maps dotted paths into the scenario's TOML to new values
    (``{"sites.bone.seeding_fraction": 0.2}``, ``{"effects.brain.age": -0.05}``);
    the result is validated by the scenario parser, so a bad value is reported
    like a bad scenario file. ``label`` names the mechanism in the results
    (default ``<scenario>-n<n>``, plus a short hash when there are overrides).
    """

    scenario: str = DEFAULT_SCENARIO
    n: int = 2000
    overrides: Mapping = field(default_factory=dict)
    label: str | None = None

    @property
    def name(self) -> str:
        if self.label is not None:
            return self.label
        base = f"{Path(str(self.scenario)).stem}-n{self.n}"
        if not self.overrides:
            return base
        digest = hashlib.sha256(_canonical(dict(self.overrides)).encode()).hexdigest()
        return f"{base}-{digest[:6]}"

    def scenario_path(self) -> Path:
        # The same resolution as synthetic.load_scenario: a .toml path or an
        # existing file, else a built-in name.
        path = Path(str(self.scenario))
        if path.suffix != ".toml" and not path.exists():
            path = scenario_directory() / f"{self.scenario}.toml"
        return path

    def scenario_table(self, source: str = "StudyDefinition") -> dict:
        """The scenario's TOML contents with the overrides applied (not yet validated)."""
        path = self.scenario_path()
        try:
            with open(path, "rb") as handle:
                raw = tomllib.load(handle)
        except FileNotFoundError:
            builtin = sorted(p.stem for p in scenario_directory().glob("*.toml"))
            _fail(
                source,
                "scenario",
                f"= {self.scenario!r} is neither a built-in scenario nor a file",
                f"use one of {builtin} or a path to a scenario .toml file",
            )
        except tomllib.TOMLDecodeError as error:
            _fail(source, "scenario", f"file {path} is not valid TOML ({error})", "fix it")
        for dotted, value in self.overrides.items():
            _apply_override(raw, dotted, value, source)
        return raw

    def load(self, source: str = "StudyDefinition") -> Scenario:
        """The validated scenario after overrides."""
        origin = str(self.scenario_path())
        if self.overrides:
            origin += f" (with overrides from {source})"
        return parse_scenario(
            self.scenario_table(source), source=origin, name=self.scenario_path().stem
        )


def _apply_override(raw: dict, dotted: str, value, source: str) -> None:
    parts = dotted.split(".")
    key = f"overrides.{dotted!r}"
    if len(parts) < 2 or parts[0] not in _SCENARIO_TOP_KEYS or not all(parts):
        _fail(
            source,
            key,
            "is not a dotted path into a scenario",
            f"start it with one of {list(_SCENARIO_TOP_KEYS)}, e.g. 'sites.bone.seeding_fraction'",
        )
    table = raw
    for depth, part in enumerate(parts[:-1]):
        child = table.get(part)
        if child is None and parts[0] == "effects" and depth >= 1:
            # a cause (or a categorical covariate) with no effects yet may gain one
            child = table[part] = {}
        if not isinstance(child, dict):
            where = ".".join(parts[: depth + 1])
            _fail(
                source,
                key,
                f"names {where!r}, which is not a table of the scenario",
                "fix the path",
            )
        table = child
    table[parts[-1]] = copy.deepcopy(value)


@dataclass(frozen=True)
class EstimandSpec:
    """Which estimands to report (the models always adjust for every design term).

    ``log_hr_sites`` / ``log_hr_covariates``: site x covariate x period log
    hazard ratios from ``Cohort.truth`` (None = every site / every design
    term; "death" may be listed). ``cif_times`` / ``cif_causes``: cumulative
    incidences; their truth is the population average of each patient's exact
    cumulative incidence over a reference cohort of ``reference_n`` patients
    (its Monte Carlo error is reported beside it).
    """

    log_hr_sites: tuple[str, ...] | None = None
    log_hr_covariates: tuple[str, ...] | None = None
    cif_times: tuple[float, ...] = (2.0, 5.0, 10.0)
    cif_causes: tuple[str, ...] | None = None
    reference_n: int = 100_000


@dataclass(frozen=True)
class StudyDefinition:
    """A simulation study: mechanisms (D), estimands (E), methods (M), reps and seed.

    ``methods`` maps method names (see ``survkit.simstudy.METHODS``) to their
    options. Replicate r of mechanism d analyses the cohort simulated from
    ``SeedSequence(seed).spawn(D)[d].spawn(r + 1)[r]``, i.e. spawn key (d, r).
    """

    scenarios: tuple[DataGeneratingMechanism, ...]
    reps: int
    seed: int
    methods: Mapping = field(default_factory=lambda: {name: {} for name in METHODS})
    estimands: EstimandSpec = field(default_factory=EstimandSpec)
    level: float = 0.95
    chunk_size: int | None = None
    name: str = "simstudy"
    source: str = field(default="StudyDefinition", compare=False)

    def __post_init__(self):
        s = self.source
        scenarios = self.scenarios
        if isinstance(scenarios, DataGeneratingMechanism):
            scenarios = (scenarios,)
        object.__setattr__(self, "scenarios", tuple(scenarios))
        if not self.scenarios:
            _fail(s, "scenarios", "is empty", "give at least one data-generating scenario")
        for i, dgm in enumerate(self.scenarios):
            if not isinstance(dgm, DataGeneratingMechanism):
                _fail(s, f"scenarios[{i}]", "is not a DataGeneratingMechanism", "build one")
            if not _is_int(dgm.n) or dgm.n < 1:
                _fail(s, f"scenarios[{i}].n", f"= {dgm.n!r} is not a positive integer", "give n")
            if not isinstance(dgm.overrides, Mapping):
                _fail(s, f"scenarios[{i}].overrides", "is not a table", "map paths to values")
        names = [dgm.name for dgm in self.scenarios]
        for name in names:
            if names.count(name) > 1:
                _fail(s, "scenarios", f"has two mechanisms named {name!r}", "give each a label")
        if not _is_int(self.reps) or not 1 <= self.reps <= MAX_REPS:
            _fail(s, "reps", f"= {self.reps!r} is not a positive integer", "give e.g. reps = 200")
        if not _is_int(self.seed) or self.seed < 0:
            _fail(s, "seed", f"= {self.seed!r} is not a non-negative integer", "give e.g. seed = 1")
        if not isinstance(self.level, float | int) or not 0 < self.level < 1:
            _fail(s, "level", f"= {self.level!r} is not in (0, 1)", "give e.g. level = 0.95")
        if self.chunk_size is not None and (not _is_int(self.chunk_size) or self.chunk_size < 1):
            _fail(s, "chunk_size", f"= {self.chunk_size!r} is not a positive integer", "or omit it")
        if not isinstance(self.methods, Mapping) or not self.methods:
            _fail(s, "methods", "is empty", f"name at least one of {sorted(METHODS)}")
        resolved = {}
        for method, options in self.methods.items():
            resolved[method] = method_options(method, options, s)
        object.__setattr__(self, "methods", resolved)
        object.__setattr__(self, "estimands", _check_estimands(self.estimands, s))

    # ------------------------------------------------------------ identity
    def replace(self, **changes) -> StudyDefinition:
        return dataclasses.replace(self, **changes)

    def mechanism_tables(self) -> list[dict]:
        """Each mechanism's scenario contents after overrides, validated."""
        tables = []
        for i, dgm in enumerate(self.scenarios):
            where = f"{self.source} scenarios[{i}]"
            dgm.load(where)  # validate (raises naming the key)
            tables.append(dgm.scenario_table(where))
        return tables

    def identity(self, tables: list[dict] | None = None) -> dict:
        """Everything the estimates and the truth depend on (see the module docstring)."""
        tables = self.mechanism_tables() if tables is None else tables
        return {
            "harness_version": HARNESS_VERSION,
            "seed": self.seed,
            "scenarios": [
                {
                    "label": dgm.name,
                    "n": dgm.n,
                    "overrides": {k: dgm.overrides[k] for k in sorted(dgm.overrides)},
                    # Key order in a scenario matters (covariate order fixes
                    # the design and the copula), so it is kept, not sorted.
                    "contents": json.dumps(table, allow_nan=False),
                }
                for dgm, table in zip(self.scenarios, tables, strict=True)
            ],
            "estimands": dataclasses.asdict(self.estimands),
            "methods": {name: dict(self.methods[name]) for name in sorted(self.methods)},
        }

    def fingerprint(self, tables: list[dict] | None = None) -> str:
        return hashlib.sha256(_canonical(self.identity(tables)).encode()).hexdigest()

    def describe(self) -> dict:
        """A JSON-able record of the whole definition (stored beside the results)."""
        return {
            "name": self.name,
            "reps": self.reps,
            "seed": self.seed,
            "level": self.level,
            "chunk_size": self.chunk_size,
            "scenarios": [
                {
                    "scenario": str(d.scenario),
                    "n": d.n,
                    "overrides": dict(d.overrides),
                    "label": d.name,
                }
                for d in self.scenarios
            ],
            "estimands": dataclasses.asdict(self.estimands),
            "methods": {k: dict(v) for k, v in self.methods.items()},
        }


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _check_estimands(spec, s: str) -> EstimandSpec:
    if not isinstance(spec, EstimandSpec):
        _fail(s, "estimands", "is not an EstimandSpec", "build one with EstimandSpec(...)")

    def names(value, key):
        if value is None:
            return None
        if isinstance(value, str) or not all(isinstance(v, str) and v for v in value):
            _fail(s, f"estimands.{key}", "must be a list of names", f'write {key} = ["bone"]')
        return tuple(value)

    times = spec.cif_times
    if isinstance(times, int | float):
        times = (times,)
    checked = []
    for i, t in enumerate(times):
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t <= 0:
            _fail(s, f"estimands.cif_times[{i}]", f"= {t!r} is not a positive number", "use years")
        checked.append(float(t))
    if len(set(checked)) != len(checked):
        _fail(s, "estimands.cif_times", "repeats a time", "list each time once")
    ref = spec.reference_n
    if not _is_int(ref) or ref < 1000:
        _fail(s, "estimands.reference_n", f"= {ref!r} is below 1000", "use e.g. 100000")
    return EstimandSpec(
        log_hr_sites=names(spec.log_hr_sites, "log_hr_sites"),
        log_hr_covariates=names(spec.log_hr_covariates, "log_hr_covariates"),
        cif_times=tuple(sorted(checked)),
        cif_causes=names(spec.cif_causes, "cif_causes"),
        reference_n=int(ref),
    )


# ------------------------------------------------------------------ TOML
_TOP_KEYS = {"name", "reps", "seed", "level", "chunk_size", "scenarios", "estimands", "methods"}
_SCENARIO_KEYS = {"scenario", "n", "overrides", "label"}


def load_study(path: str | Path) -> StudyDefinition:
    """Read and validate a study definition TOML file."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ValueError(f"{source}: file not found; check the path") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{source}: not valid TOML ({error}); fix the syntax") from None
    return parse_study(raw, source=source)


def parse_study(raw: dict, source: str = "study definition") -> StudyDefinition:
    """Build a StudyDefinition from a mapping shaped like the TOML file."""
    for key in raw:
        if key not in _TOP_KEYS:
            _fail(source, key, "is not a known key", f"use one of {sorted(_TOP_KEYS)}")
    for key in ("reps", "seed"):
        if key not in raw:
            _fail(source, key, "is missing", f"add {key} = <integer>")
    entries = raw.get("scenarios", [{"scenario": DEFAULT_SCENARIO, "n": 2000}])
    if not isinstance(entries, list) or not entries:
        _fail(source, "scenarios", "is not a list of tables", "write [[scenarios]] blocks")
    mechanisms = []
    for i, entry in enumerate(entries):
        where = f"scenarios[{i}]"
        if not isinstance(entry, dict):
            _fail(source, where, "is not a table", "write [[scenarios]] blocks")
        for key in entry:
            if key not in _SCENARIO_KEYS:
                _fail(
                    source, f"{where}.{key}", "is not a known key", f"use {sorted(_SCENARIO_KEYS)}"
                )
        scenario = entry.get("scenario", DEFAULT_SCENARIO)
        if not isinstance(scenario, str) or not scenario:
            _fail(source, f"{where}.scenario", "is not a name or path", "give a scenario name")
        if scenario.endswith(".toml") and not Path(scenario).is_absolute():
            # relative to the study file, as a reader of the file would expect
            scenario = str(Path(source).parent / scenario)
        sizes = entry.get("n", 2000)
        sizes = sizes if isinstance(sizes, list) else [sizes]
        overrides = _flatten(entry.get("overrides", {}), source, f"{where}.overrides")
        label = entry.get("label")
        if label is not None and (not isinstance(label, str) or not label):
            _fail(source, f"{where}.label", "is not a non-empty string", "give a short name")
        for n in sizes:
            if not _is_int(n) or n < 1:
                _fail(source, f"{where}.n", f"= {n!r} is not a positive integer", "give n = 2000")
            name = label if label is None or len(sizes) == 1 else f"{label}-n{n}"
            mechanisms.append(DataGeneratingMechanism(scenario, n, overrides, name))
    estimands = raw.get("estimands", {})
    if not isinstance(estimands, dict):
        _fail(source, "estimands", "is not a table", "write an [estimands] table")
    known = {f.name for f in dataclasses.fields(EstimandSpec)}
    for key in estimands:
        if key not in known:
            _fail(source, f"estimands.{key}", "is not a known key", f"use one of {sorted(known)}")
    methods = raw.get("methods", {name: {} for name in METHODS})
    if not isinstance(methods, dict):
        _fail(source, "methods", "is not a table", "write [methods.<name>] tables")
    return StudyDefinition(
        scenarios=tuple(mechanisms),
        reps=raw["reps"],
        seed=raw["seed"],
        methods=methods,
        estimands=EstimandSpec(**{k: _tuple(v) for k, v in estimands.items()}),
        level=raw.get("level", 0.95),
        chunk_size=raw.get("chunk_size"),
        name=raw.get("name", Path(source).stem),
        source=source,
    )


def _tuple(value):
    return tuple(value) if isinstance(value, list) else value


def _flatten(table, source: str, where: str, prefix: str = "") -> dict:
    """Nested override tables and quoted dotted keys both become dotted paths.

    A value that is a table with only change_points/log_hr keys (a piecewise
    effect) is kept whole.
    """
    if not isinstance(table, dict):
        _fail(
            source,
            where,
            "is not a table",
            'write overrides = { "sites.bone.seeding_fraction" = 0.2 }',
        )
    flat = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and not set(value) <= {"change_points", "log_hr"}:
            flat.update(_flatten(value, source, where, f"{path}."))
        else:
            flat[path] = value
    return flat
