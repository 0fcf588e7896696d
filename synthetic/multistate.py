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


def _hazard_to(model, design, rows, s):
    """H(s_i | x_i) for each patient i in ``rows`` at their own time s_i."""
    etas = model.linear_predictors({k: v[rows] for k, v in design.items()}, len(rows))
    total = np.zeros(len(rows))
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
    event = first.data["event"].astype(str).to_numpy()
    state = np.where(np.isin(event, scenario.base.site_names), event, "")
    entered = first.data["time"].to_numpy().copy()
    records = [
        pd.DataFrame(
            {
                "patient_id": first.data["patient_id"].to_numpy(),
                "time": first.data["time"].to_numpy(),
                "event": event,
            }
        )
    ]
    for origin in scenario.order():
        rows = np.flatnonzero(state == origin)
        outgoing = [t for t in scenario.transitions if t.origin == origin]
        best = np.full(len(rows), np.inf)
        target = np.full(len(rows), CENSORED, dtype=object)
        s = entered[rows]
        for t in outgoing:
            stream = component_generator(seed, f"transition:{t.origin}->{t.target}")
            exponential = stream.standard_exponential(len(rows))
            already, etas = _hazard_to(t.model, design, rows, s)
            if t.clock == "reset":  # semi-Markov: the clock starts at entry
                latent = s + t.model.sample_latent_times(exponential, etas)
            else:
                latent = t.model.sample_latent_times(exponential + already, etas)
            sooner = latent < best
            best[sooner] = latent[sooner]
            target[sooner] = t.target
        moves = best < censor[rows]
        stop = np.where(moves, best, censor[rows])
        to = np.where(moves, target, CENSORED)
        records.append(
            pd.DataFrame(
                {"patient_id": first.data["patient_id"].to_numpy()[rows], "time": stop, "event": to}
            )
        )
        entered[rows] = stop
        state[rows] = np.where(moves, to, "")
        state[rows[moves & (to == DEATH)]] = ""
    events = pd.concat(records, ignore_index=True)
    events = events.sort_values(["patient_id", "time"], kind="stable").reset_index(drop=True)
    return MultiStateCohort(scenario, seed, first, events)


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
        covariates = self.first.data.set_index("patient_id")[self.covariates]
        return out.join(covariates, on="patient_id")

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
