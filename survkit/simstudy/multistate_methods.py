"""Simulation studies of multi-state methods on a multi-state scenario.

    from survkit.simstudy import MultiStateStudy, run_multistate_study
    study = MultiStateStudy("breast_site_dormancy_progression", n=2000, reps=200, seed=1)
    result = run_multistate_study(study, "out/ms_study", workers=2)
    result.performance     # the first-relapse harness's measures, with MCSEs

Data: ``synthetic.multistate.simulate_multistate`` (whole relapse paths).
Methods, each one fit unit per replicate (a failure makes all its rows
``failed`` with the reason, as in ``methods``):

``multistate_cox``
    ``MultiStateCox`` (Breslow, robust SE clustered on the patient) for every
    later transition (from a relapse state) with the design terms that have
    an effect on it in truth (a correctly specified model), one fit unit per
    transition. Estimands
    ``ms_log_hr[bone->liver, liver_nk_activity]``; truth from
    ``MultiStateCohort.truth`` (exact). First transitions are the base
    scenario's, which the first-relapse harness already studies.
``state_occupation``
    Aalen-Johansen P(state at t) with infinitesimal-jackknife SE. Estimands
    ``pstate[liver, t=3]``; truth: the average of each patient's exact
    occupation probabilities (Kolmogorov forward equations) over a reference
    cohort of ``reference_n`` patients from its own seed stream, with that
    average's Monte Carlo error as ``true_value_mcse``.

The machinery is the first-relapse harness's: replicate r uses
``replicate_seed(seed, 0, r)`` and the reference cohort ``reference_seed(seed,
0)``; chunks run under one BLAS thread (bit-identical serially and with
joblib); estimates go to the same resumable ``EstimateStore`` under a
fingerprint of everything that decides them; ``performance`` computes the
measures. The first-relapse path (``run_study``) is untouched.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthetic.multistate import simulate_multistate
from synthetic.multistate_file import NO_RELAPSE, load_multistate_scenario, multistate_directory
from synthetic.truth import design_from_data

from ..multistate import MultiStateCox, read_histories, state_occupation, transition_matrix
from .definition import HARNESS_VERSION, DataGeneratingMechanism
from .estimands import COLUMNS as ESTIMAND_COLUMNS
from .estimands import reference_seed
from .methods import FitFailure, _guarded
from .performance import performance
from .runner import _ONE_CHUNK_AT_A_TIME, ChunkTask, StudyResult, replicate_seed
from .single_mechanism import run_single_mechanism
from .store import COLUMNS as ESTIMATE_COLUMNS

MULTISTATE_METHODS = ("multistate_cox", "state_occupation")


def ms_log_hr_id(origin: str, target: str, covariate: str) -> str:
    return f"ms_log_hr[{origin}->{target}, {covariate}]"


def pstate_id(state: str, t: float) -> str:
    return f"pstate[{state}, t={t:g}]"


@dataclass(frozen=True)
class MultiStateStudy:
    """A multi-state simulation study: one scenario and n, methods, reps, seed.

    ``scenario`` is a built-in multi-state scenario name or a TOML path;
    ``times`` the occupation times (years); ``min_events`` the fewest
    transitions of a modelled transition for its Cox fit to count;
    ``reference_n`` the reference cohort of the occupation truth (50,000: its
    Monte Carlo error, at most about 6e-4, stays well below the SE of an
    estimate at n = 5000; about 12 s, once per study, cached in the store).
    """

    scenario: str = "breast_site_dormancy_progression"
    n: int = 2000
    reps: int = 100
    seed: int = 1
    methods: tuple[str, ...] = MULTISTATE_METHODS
    times: tuple[float, ...] = (1.0, 3.0, 6.0)
    min_events: int = 10
    reference_n: int = 50_000
    level: float = 0.95
    chunk_size: int | None = None

    def __post_init__(self):
        def fail(key, value, fix):
            raise ValueError(f"MultiStateStudy: {key} = {value!r} is not valid; {fix}")

        for key in ("n", "reps", "reference_n"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                fail(key, value, "give a positive integer")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            fail("seed", self.seed, "give a non-negative integer")
        if isinstance(self.min_events, bool) or not isinstance(self.min_events, int):
            fail("min_events", self.min_events, "give a non-negative integer")
        if self.chunk_size is not None and (
            isinstance(self.chunk_size, bool)
            or not isinstance(self.chunk_size, int)
            or self.chunk_size < 1
        ):
            fail("chunk_size", self.chunk_size, "give a positive integer or None")
        if not 0 < self.level < 1:
            fail("level", self.level, "give e.g. 0.95")
        methods = (self.methods,) if isinstance(self.methods, str) else tuple(self.methods)
        unknown = [m for m in methods if m not in MULTISTATE_METHODS]
        if not methods or unknown or len(set(methods)) != len(methods):
            fail("methods", self.methods, f"name each of {list(MULTISTATE_METHODS)} at most once")
        times = (self.times,) if isinstance(self.times, int | float) else tuple(self.times)
        bad = [t for t in times if isinstance(t, bool) or not math.isfinite(t) or t <= 0]
        if bad or len(set(times)) != len(times):
            fail("times", self.times, "give distinct positive times in years")
        object.__setattr__(self, "methods", methods)
        object.__setattr__(self, "times", tuple(sorted(float(t) for t in times)))

    @property
    def label(self) -> str:
        return f"{Path(str(self.scenario)).stem}-n{self.n}"

    def identity(self) -> dict:
        """What the estimates and the truth depend on (``reps``, ``level`` and
        ``chunk_size`` are left out, as in ``StudyDefinition``)."""
        path = Path(str(self.scenario))
        if path.suffix != ".toml" and not path.exists():
            path = multistate_directory() / f"{self.scenario}.toml"
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
        base = DataGeneratingMechanism(raw["base"]).scenario_table("MultiStateStudy base")
        fields = dataclasses.asdict(self)
        for key in ("reps", "level", "chunk_size"):
            fields.pop(key)
        fields["contents"] = json.dumps([raw, base], allow_nan=False)
        return {"harness_version": HARNESS_VERSION, "kind": "multistate", **fields}

    def fingerprint(self) -> str:
        text = json.dumps(self.identity(), sort_keys=True, allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------- data
def _later_terms(truth: pd.DataFrame) -> dict[tuple[str, str], dict[str, float]]:
    """(from, to) -> {design term: true log-HR} of the terms with an effect."""
    later = truth[(truth["from"] != NO_RELAPSE) & (truth["log_hr"] != 0)]
    return {
        key: dict(zip(rows["covariate"], rows["log_hr"], strict=True))
        for key, rows in later.groupby(["from", "to"], sort=False)
    }


def _analysis_data(cohort):
    """MultiStateData with the design terms as covariates, under plain column
    names (``x0``, ...: a design term such as ``subtype[T.her2]`` is data, and
    is never made part of a name that anything parses); returns (data, names)."""
    first = cohort.first
    design = design_from_data(cohort.scenario.base, first.data, centered=False)
    names = {term: f"x{i}" for i, term in enumerate(design)}
    covariates = pd.DataFrame({names[t]: np.asarray(v) for t, v in design.items()})
    covariates["patient_id"] = first.data["patient_id"].to_numpy()
    h = cohort.histories()[["patient_id", "tstart", "tstop", "from", "to"]]
    h = h.merge(covariates, on="patient_id", how="left", validate="many_to_one")
    tm = transition_matrix(cohort.states, cohort.pairs)
    return read_histories(h, tm, id_col="patient_id"), names


def multistate_cox(cohort, data, names, study) -> list[tuple]:
    # One fit unit per transition: the coefficients and robust SEs equal the
    # joint fit's (method "separate"), and a rare transition that fails (few
    # events, monotone likelihood) does not take the others with it.
    back = {v: k for k, v in names.items()}
    h = data.histories
    rows = []
    for (a, b), covariates in _later_terms(cohort.truth).items():
        targets = [(ms_log_hr_id(a, b, c), False) for c in covariates]

        def fit(a=a, b=b, covariates=covariates):
            count = int(((h["from"] == a) & (h["to"] == b)).sum())
            if count < study.min_events:
                raise FitFailure(
                    f"too few events: {count} {a}->{b} < min_events = {study.min_events}"
                )
            model = MultiStateCox().fit(data, {(a, b): [names[c] for c in covariates]})
            summary = model.summary
            return {
                ms_log_hr_id(a, b, back[c]): (coef, se)
                for c, coef, se in summary[["covariate", "coef", "se"]].itertuples(index=False)
            }

        for ident, est, se, status, reason, mis in _guarded(targets, fit):
            # a failure reason names the design term, not its internal column name
            reason = re.sub(r"\bx\d+\b", lambda m: back.get(m.group(), m.group()), reason)
            rows.append((ident, est, se, status, reason, mis))
    return rows


def occupation(cohort, data, names, study) -> list[tuple]:
    targets = [(pstate_id(s, t), False) for s in cohort.states for t in study.times]

    def fit():
        occ = state_occupation(data)
        out = {}
        for t in study.times:
            at = occ[occ["time"] <= t].groupby("state", sort=False).tail(1).set_index("state")
            for s in cohort.states:
                if s in at.index:
                    out[pstate_id(s, t)] = (at.loc[s, "pstate"], at.loc[s, "std_err"])
                else:  # before the first follow-up time: everyone in the start state
                    out[pstate_id(s, t)] = (float(s == NO_RELAPSE), 0.0)
        return out

    return _guarded(targets, fit)


_FUNCTIONS = {"multistate_cox": multistate_cox, "state_occupation": occupation}


# --------------------------------------------------------------- running
def run_multistate_chunk(context, task: ChunkTask):
    """Simulate and analyse the task's replicates; returns (estimates, timing)."""
    from threadpoolctl import threadpool_limits

    study, scenario = context
    started = time.perf_counter()
    records = []
    with _ONE_CHUNK_AT_A_TIME, threadpool_limits(limits=1):
        for rep in task.reps:
            cohort = simulate_multistate(scenario, study.n, replicate_seed(study.seed, 0, rep))
            data, names = _analysis_data(cohort)
            for method in study.methods:
                rows = _FUNCTIONS[method](cohort, data, names, study)
                records += [(study.label, rep, method, *row) for row in rows]
    estimates = pd.DataFrame.from_records(records, columns=ESTIMATE_COLUMNS)
    estimates["rep"] = estimates["rep"].astype(np.int64)
    return estimates, {"reps": len(task.reps), "total": time.perf_counter() - started}


def multistate_estimands(study: MultiStateStudy, scenario=None) -> pd.DataFrame:
    """The estimands with their true values (see the module docstring)."""
    scenario = scenario or load_multistate_scenario(study.scenario)
    reference = simulate_multistate(scenario, study.reference_n, reference_seed(study.seed, 0))
    rows = []
    if "multistate_cox" in study.methods:
        for (a, b), covariates in _later_terms(reference.truth).items():
            for c, value in covariates.items():
                rows.append(
                    (ms_log_hr_id(a, b, c), "ms_log_hr", f"{a}->{b}", c, float(value), 0.0, None)
                )
    if "state_occupation" in study.methods:
        each = reference.true_occupation(study.times, rtol=1e-8, individual=True)
        mean = each.groupby(level="time").mean()
        mcse = each.groupby(level="time").std() / np.sqrt(study.reference_n)
        for s in reference.states:
            for t in study.times:
                truth_t = (float(mean.loc[t, s]), float(mcse.loc[t, s]))
                rows.append((pstate_id(s, t), "pstate", s, None, *truth_t, t))
    table = pd.DataFrame(
        [
            {
                "dgm": study.label,
                "estimand": ident,
                "kind": kind,
                "site": site,
                "covariate": covariate,
                "start": 0.0 if kind == "ms_log_hr" else np.nan,
                "end": np.inf if kind == "ms_log_hr" else np.nan,
                "time": np.nan if t is None else t,
                "true_value": value,
                "true_value_mcse": mcse_value,
            }
            for ident, kind, site, covariate, value, mcse_value, t in rows
        ],
        columns=ESTIMAND_COLUMNS,
    )
    return table


def run_multistate_study(
    study: MultiStateStudy, out: str | Path, *, workers: int = 1, summarise: bool = True
) -> StudyResult:
    """Run (or resume) ``study`` into ``out`` (serially or on ``workers`` joblib
    processes); with ``summarise`` writes estimands.csv, performance.csv and
    failures.csv as ``run_study`` does."""
    if not isinstance(study, MultiStateStudy):
        raise TypeError("study must be a MultiStateStudy")
    out = Path(out)
    scenario = load_multistate_scenario(study.scenario)
    return run_single_mechanism(
        out,
        study,
        "multistate",
        run_multistate_chunk,
        (study, scenario),
        workers,
        (lambda: multistate_estimands(study, scenario)) if summarise else None,
        lambda estimates, estimands: performance(estimates, estimands, study.level),
    )
