"""Simulating a cohort, and the ``Cohort`` that carries its data and its truth.

Why independent latent times give exactly the specified hazards
----------------------------------------------------------------
For each patient, every cause k (each organ and death) gets a latent time T_k
drawn independently, given the covariates, with survival exp(-H_k(t | x)); the
observed event is the first of them, T = min_k T_k with cause argmin_k T_k.
Then P(T > t | x) = exp(-Σ_k H_k(t | x)), and the cause-specific hazard of the
first event is

    lim P(T in [t, t+dt), cause k | T >= t, x) / dt
        = f_k(t) Π_{j≠k} S_j(t) / Π_j S_j(t) = α_k(t | x),

exactly the hazard we specified for cause k. Because a competing-risks process
is determined by its cause-specific hazards alone, the latent-time construction
is one valid way to generate it (Beyersmann, Latouche, Buchholz & Schumacher
2009, Stat Med 28:956-971, "Simulating competing risks data in survival
analysis"); the dependence between the latent times is not identifiable from
real data, and nothing here relies on it. Censoring is drawn independently of
everything else, so it is independent (non-informative) censoring. Hence a
cause-specific Cox model for organ k, split at the change points, is correctly
specified, with the true log hazard ratios of ``Cohort.truth``.

Latent times are drawn by exact inversion (``scenario.CauseModel``): a
patient's cells may never wake in an organ, and then T_k = inf.

Seeding
-------
``SeedSequence(seed)`` is the root. Every random component — each covariate's
latent normal, each cause's exponential, the accrual date and the drop-out
time — gets its own child sequence whose spawn key is a 64-bit BLAKE2 hash of
the component's name (not its position), so adding a site or an uncorrelated
covariate leaves the other components' draws unchanged. Each stream is read
sequentially, n values at once, and every later step is element-wise, so
patient i does not depend on n (a cohort of n is the first n patients of any
larger cohort with the same seed). The generator never touches NumPy's global
state and never uses BLAS or threads, so a seed gives bit-identical cohorts
whatever the thread count.

The draws behind patient i, stream by stream (each stream's i-th value):

1. ``covariate:<name>``, one standard normal per covariate (in file order);
   the copula mixes them, and a bernoulli ``given`` a categorical compares its
   own normal with the threshold of the patient's level;
2. ``cause:<site>`` for every site, then ``cause:death``: one standard
   exponential E each, mapped to the latent time by H(T | x) = E (exact
   inversion; for a mixture dormancy the map is a bisection, still one draw);
3. ``censoring:accrual`` (uniform) and ``censoring:dropout`` (exponential).

So a model that needs more per patient (further transitions of a multi-state
model, say) can take new named streams and leave these first-event draws, and
hence the first events, identical at the same seed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthetic import truth as _truth
from synthetic.covariates import sample_covariates
from synthetic.scenario import Scenario
from synthetic.scenario_file import load_scenario

CENSORED = "censored"


def component_generator(seed: int | np.random.SeedSequence, component: str):
    """Generator for one named random component, derived from the root seed."""
    root = _root_sequence(seed)
    digest = hashlib.blake2b(component.encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "little")
    child = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, key))
    return np.random.Generator(np.random.PCG64(child))


def _root_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(
            f"seed = {seed!r} is not a non-negative integer; pass e.g. seed=1 "
            "or a numpy.random.SeedSequence"
        )
    return np.random.SeedSequence(int(seed))


def simulate_cohort(scenario: Scenario | str, n: int, seed: int | np.random.SeedSequence):
    """Simulate n patients of ``scenario`` (a Scenario, a built-in name or a TOML path)."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n = {n!r} is not a positive integer; pass the number of patients")
    n = int(n)
    _root_sequence(seed)  # validate early, before any work

    streams = {
        spec.name: component_generator(seed, f"covariate:{spec.name}")
        for spec in scenario.covariates
    }
    cholesky = np.linalg.cholesky(scenario.correlation)
    values = sample_covariates(scenario.covariates, cholesky, streams, n)
    design = {}
    for spec in scenario.covariates:
        design.update(spec.design_columns(spec.to_column(values[spec.name]), centered=True))

    latent = {}
    for cause in scenario.causes:
        exponential = component_generator(seed, f"cause:{cause.name}").standard_exponential(n)
        latent[cause.name] = cause.sample_latent_times(
            exponential, cause.linear_predictors(design, n)
        )
    latent[CENSORED] = _censoring_times(scenario, seed, n)

    # First event wins; ties have probability zero with continuous times.
    labels = [*scenario.cause_names, CENSORED]
    time = latent[CENSORED].copy()
    code = np.full(n, len(labels) - 1, dtype=np.int8)
    for k, name in enumerate(scenario.cause_names):
        earlier = latent[name] < time
        time[earlier] = latent[name][earlier]
        code[earlier] = k

    columns = {"patient_id": np.arange(n, dtype=np.int64)}
    for spec in scenario.covariates:
        columns[spec.name] = spec.to_column(values[spec.name])
    columns["time"] = time
    columns["event"] = pd.Categorical.from_codes(code, categories=labels)
    # copy=False: the arrays are fresh and private, and consolidating them into
    # 2-d blocks would copy every column once more.
    return Cohort(
        scenario, seed, pd.DataFrame(columns, copy=False), pd.DataFrame(latent, copy=False)
    )


def _censoring_times(scenario: Scenario, seed, n: int) -> np.ndarray:
    plan = scenario.censoring
    accrual = component_generator(seed, "censoring:accrual").random(n) * plan.accrual_years
    administrative = plan.study_end_years - accrual
    if plan.dropout_rate == 0:
        return administrative
    dropout = component_generator(seed, "censoring:dropout").standard_exponential(n)
    return np.minimum(administrative, dropout / plan.dropout_rate)


@dataclass(eq=False)
class Cohort:
    """A simulated cohort and the exact truth behind it.

    data
        One row per patient: ``patient_id``, the covariates (categoricals as
        pandas Categoricals whose first category is the reference), ``time``
        (years from diagnosis) and ``event`` (a site name, ``"death"`` or
        ``"censored"``).
    latent
        Latent time of every cause and of censoring (columns: sites, ``death``,
        ``censored``), row-aligned with ``data``; ``inf`` where cells never
        wake. For teaching and multistate work only: real data never reveal
        latent times, and their joint law is not identifiable.
    truth
        Log hazard ratios: ``site, covariate, start, end, log_hr``, one row
        per piece (``start = 0, end = inf`` for constant effects), every
        design term for every cause including ``death`` (0 where no effect).
        Categorical terms are named ``subtype[T.her2]``: the names formulaic
        gives the formula term ``subtype`` for ``data``'s Categorical column
        (with ``C(subtype)`` the names are ``C(subtype)[T.her2]``).
    """

    scenario: Scenario
    seed: int | np.random.SeedSequence
    data: pd.DataFrame
    latent: pd.DataFrame

    @property
    def truth(self) -> pd.DataFrame:
        return _truth.truth_table(self.scenario)

    @property
    def sites(self) -> tuple[str, ...]:
        return self.scenario.site_names

    def design_matrix(self, data: pd.DataFrame | None = None) -> pd.DataFrame:
        """Numeric covariates named like ``truth.covariate`` (0/1 columns for the
        non-reference levels of categoricals; values not centred)."""
        data = self.data if data is None else data
        design = _truth.design_from_data(self.scenario, data, centered=False)
        return pd.DataFrame(design, index=data.index)

    def true_cumulative_hazard(self, site: str, times, data: pd.DataFrame | None = None):
        """H_site(t | x): index = times (in the given order), one column per row of
        ``data`` (default: this cohort), labelled by ``data.index``."""
        cause = self.scenario.cause(site)
        data = self.data if data is None else data
        times = _truth.check_times(times)
        design = _truth.design_from_data(self.scenario, data)
        values = _truth.cumulative_hazard(cause, design, len(data), times)
        return pd.DataFrame(values.T, index=pd.Index(times, name="time"), columns=data.index)

    def true_cif(self, times, data: pd.DataFrame | None = None, *, individual: bool = False):
        """True cumulative incidence of each site and of ``"death"`` at ``times``.

        By default the average over the patients in ``data`` (default: this
        cohort) of each patient's cumulative incidence — what Aalen–Johansen
        estimates from this cohort — as a DataFrame indexed by ``times`` in
        the given order, one column per cause. Pass one row for one patient.
        With ``individual=True`` the result has one row per (data index, time).
        Accurate to better than 1e-6 (Gauss–Legendre panels, see ``truth``).
        """
        data = self.data if data is None else data
        times = _truth.check_times(times)
        design = _truth.design_from_data(self.scenario, data)
        values = _truth.cumulative_incidence(
            self.scenario, design, len(data), times, individual=individual
        )
        columns = list(self.scenario.cause_names)
        if not individual:
            return pd.DataFrame(values, index=pd.Index(times, name="time"), columns=columns)
        index = pd.MultiIndex.from_product(
            [data.index, times], names=[data.index.name or "row", "time"]
        )
        return pd.DataFrame(values.reshape(-1, len(columns)), index=index, columns=columns)

    def __repr__(self) -> str:
        counts = self.data["event"].value_counts().reindex(self.data["event"].cat.categories)
        summary = ", ".join(f"{name}={count}" for name, count in counts.items())
        return f"Cohort({self.scenario.name!r}, n={len(self.data)}, {summary})"
