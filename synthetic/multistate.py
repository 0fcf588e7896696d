"""Simulating whole relapse paths: ``simulate_multistate`` and ``MultiStateCohort``.

The first event is ``simulate_cohort(base scenario)`` itself, so at the same
seed the first events (time, organ / death / censored, covariates) are
exactly the base cohort's. Later transitions come from separate random
streams: one named child stream per transition (``transition:<from>-><to>``,
derived from the same root seed as the base's components, see
``simulate``), read only after the first events are drawn; nothing the base
draws changes.

From a relapse state k entered at time s, every allowed target j gets an
independent latent time with hazard α_kj(t | x) for t > s (clock forward):
with E a unit exponential, H_kj(T | x) = H_kj(s | x) + E, solved by the same
exact inversion as the first event (with ``clock = "reset"`` the hazard
runs in time since entry, T = s + H⁻¹(E): semi-Markov). The earliest latent time wins unless the
patient's censoring time (the base cohort's) comes first. As for the first
event, independent latent times give exactly the specified transition
hazards (a Markov process: the hazards depend on the path only through the
current state and on time since diagnosis). States are visited in an order
where every transition goes forwards, so each state is entered at most once
and one draw per patient and transition suffices; patients draw in
patient order, so a cohort of n is the first n patients of a larger one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthetic import truth as _truth
from synthetic.multistate_file import (
    DEATH,
    NO_RELAPSE,
    MultiStateScenario,
    load_multistate_scenario,
)
from synthetic.multistate_truth import occupation_probabilities
from synthetic.simulate import CENSORED, Cohort, component_generator, simulate_cohort


def _hazard_to(model, design, s):
    """H(s_i | x_i) for each patient i of ``design`` (their rows) at their own time s_i."""
    etas = model.linear_predictors(design, len(s))
    total = np.zeros(len(s))
    for (start, end), eta in zip(model.pieces, etas, strict=True):
        piece = model.baseline.cumulative(np.clip(s, start, end)) - model.baseline.cumulative(start)
        total += np.exp(eta) * piece
    return total, etas


def simulate_multistate(scenario: MultiStateScenario | str, n: int, seed) -> MultiStateCohort:
    """Simulate n whole paths: the base scenario's first event, then later transitions."""
    if not isinstance(scenario, MultiStateScenario):
        scenario = load_multistate_scenario(scenario)
    first = simulate_cohort(scenario.base, n, seed)
    n = len(first.data)
    design = _truth.design_from_data(scenario.base, first.data)
    censor = first.latent[CENSORED].to_numpy()
    # states as small integer codes (names only in the final table): code 0 is
    # censored, then the states; string arrays per row would cost more than the draws
    names = np.array([CENSORED, *scenario.states], dtype=object)
    code = {name: k for k, name in enumerate(names)}
    event_codes, event_names = pd.factorize(first.data["event"].astype(str))
    first_event = np.array([code[e] for e in event_names], dtype=np.int64)[event_codes]
    sites = np.array([code[s] for s in scenario.base.site_names])
    state = np.where(np.isin(first_event, sites), first_event, 0)  # 0: no further moves
    entered = first.data["time"].to_numpy().copy()
    records = [(np.arange(n), entered.copy(), first_event)]
    for origin in scenario.order():
        rows = np.flatnonzero(state == code[origin])
        outgoing = [t for t in scenario.transitions if t.origin == origin]
        best = np.full(len(rows), np.inf)
        target = np.zeros(len(rows), dtype=np.int64)  # censored unless a move comes first
        s = entered[rows]
        here = {k: v[rows] for k, v in design.items()}
        for t in outgoing:
            stream = component_generator(seed, f"transition:{t.origin}->{t.target}")
            exponential = stream.standard_exponential(len(rows))
            already, etas = _hazard_to(t.model, here, s)
            if t.clock == "reset":  # semi-Markov: the clock starts at entry
                latent = s + t.model.sample_latent_times(exponential, etas)
            else:
                latent = t.model.sample_latent_times(exponential + already, etas)
            sooner = latent < best
            best[sooner] = latent[sooner]
            target[sooner] = code[t.target]
        moves = best < censor[rows]
        stop = np.where(moves, best, censor[rows])
        to = np.where(moves, target, 0)
        records.append((rows, stop, to))
        entered[rows] = stop
        state[rows] = np.where(to == code[DEATH], 0, to)
    events = _events_by_patient(records, n, first.data["patient_id"].to_numpy(), names)
    return MultiStateCohort(scenario, seed, first, events)


def _events_by_patient(records, n, patient_ids, names) -> pd.DataFrame:
    """The records (rows, time, state code) as one table sorted by patient, then time.

    A patient's records come in the order of ``scenario.order()``, in which every
    transition goes forwards, so their times never decrease: each record is put
    straight at its place (patient's first row + records so far) instead of
    sorting the whole table by (patient, time).
    """
    counts = np.ones(n, dtype=np.int64)
    for rows, _, _ in records[1:]:
        counts[rows] += 1
    start = np.cumsum(counts) - counts
    total = int(counts.sum())
    ids = np.repeat(patient_ids, counts)
    time = np.empty(total)
    event = np.empty(total, dtype=np.int64)
    filled = np.zeros(n, dtype=np.int64)
    for rows, stop, to in records:
        at = start[rows] + filled[rows]
        time[at] = stop
        event[at] = to
        filled[rows] += 1
    return pd.DataFrame({"patient_id": ids, "time": time, "event": names[event]})


@dataclass(eq=False)
class MultiStateCohort:
    """A simulated multi-state cohort and its truth.

    first
        The base scenario's ``Cohort`` (first events, identical to
        ``simulate_cohort(base, n, seed)``).
    events
        One row per transition and one final ``"censored"`` row for patients
        still under follow-up: ``patient_id, time, event`` (a state name or
        ``"censored"``), sorted by patient and time.
    """

    scenario: MultiStateScenario
    seed: object
    first: Cohort
    events: pd.DataFrame

    @property
    def states(self) -> tuple[str, ...]:
        return self.scenario.states

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return self.scenario.pairs

    @property
    def covariates(self) -> list[str]:
        return [spec.name for spec in self.scenario.base.covariates]

    def histories(self) -> pd.DataFrame:
        """Event-history form: patient_id, tstart, tstop, from, to, covariates."""
        e = self.events
        ids = e["patient_id"].to_numpy()
        first = np.ones(len(e), dtype=bool)
        first[1:] = ids[1:] != ids[:-1]
        start = np.zeros(len(e))
        start[~first] = e["time"].to_numpy()[:-1][~first[1:]]
        origin = np.where(first, NO_RELAPSE, np.roll(e["event"].to_numpy(), 1))
        out = pd.DataFrame(
            {
                "patient_id": ids,
                "tstart": start,
                "tstop": e["time"].to_numpy(),
                "from": origin,
                "to": e["event"].to_numpy(),
            }
        )
        # each row's patient by position (a take per column; a join would first
        # copy the whole first-event table to index it by patient)
        data = self.first.data
        where = pd.Index(data["patient_id"]).get_indexer(ids)
        covariates = data[self.covariates].take(where).reset_index(drop=True)
        return pd.concat([out, covariates], axis=1)

    @property
    def truth(self) -> pd.DataFrame:
        """Log hazard ratios of every transition: from, to, covariate, start, end,
        log_hr (every design term of every transition; 0 where no effect)."""
        base = self.first.truth.rename(columns={"site": "to"})
        base.insert(0, "from", NO_RELAPSE)
        rows = []
        terms = self.scenario.base.design_terms
        for t in self.scenario.transitions:
            given = {effect.term: effect.log_hrs[0] for effect in t.model.effects}
            for term in terms:
                rows.append((t.origin, t.target, term, 0.0, np.inf, given.get(term, 0.0)))
        later = pd.DataFrame(rows, columns=["from", "to", "covariate", "start", "end", "log_hr"])
        return pd.concat([base, later], ignore_index=True)

    def true_occupation(
        self,
        times,
        data: pd.DataFrame | None = None,
        rtol: float = 1e-10,
        individual: bool = False,
    ) -> pd.DataFrame:
        """True P(state at t), averaged over the patients in ``data`` (default:
        this cohort), by solving the Kolmogorov forward equations; index =
        times, one column per state (Markov scenarios only: with a clock-reset
        transition the Kolmogorov equations do not apply and this raises
        ValueError). ``rtol`` is the solver's relative
        tolerance (1e-10: accurate to about 1e-9). With ``individual=True``
        one row per (data index, time)."""
        data = self.first.data if data is None else data
        times = _truth.check_times(times)
        values = occupation_probabilities(
            self.scenario, data, times, rtol=rtol, individual=individual
        )
        columns = list(self.states)
        if not individual:
            return pd.DataFrame(values, index=pd.Index(times, name="time"), columns=columns)
        index = pd.MultiIndex.from_product(
            [data.index, times], names=[data.index.name or "row", "time"]
        )
        return pd.DataFrame(values.reshape(-1, len(columns)), index=index, columns=columns)

    def __repr__(self) -> str:
        moves = int((self.events["event"] != CENSORED).sum())
        return (
            f"MultiStateCohort({self.scenario.name!r}, n={len(self.first.data)}, "
            f"transitions={moves})"
        )
