"""True state occupation probabilities of a multi-state scenario.

For a patient with covariates x, the occupation probabilities P(t) (a row
vector over the states) of a Markov process solve the Kolmogorov forward
equations

    dP/dt = P(t) Q(t | x),   P(0) = (1, 0, ..., 0) (everyone starts without relapse),

where Q_kj(t | x) = α_kj(t | x) for every allowed transition and Q_kk = -Σ_j
Q_kj. The first-event hazards are the base scenario's (dormancy baselines,
piecewise effects), the later ones Gompertz. The system is solved for all
patients at once (the right-hand side is element-wise) with an 8th-order
Runge-Kutta method (scipy's DOP853, rtol 1e-10), restarted at every change
point of an effect, where a hazard jumps; the answer is the average over the
patients, which is what the Aalen-Johansen estimator estimates from the same
cohort. The no-relapse probability has the closed form exp(-Σ_k H_k(t | x)),
which the tests use to check the solver.

With a clock-reset (semi-Markov) transition the forward equations do not
apply; the occupation is then computed by numerical convolution
(``multistate_semi_markov``).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.integrate import solve_ivp
from threadpoolctl import threadpool_limits

from synthetic import truth as _truth
from synthetic.multistate_semi_markov import semi_markov_occupation

_RTOL = 1e-10
_ATOL = 1e-12


def _transition_table(scenario, design, n):
    """(origin index, target index, baseline, piece bounds, exp(η) per piece)."""
    index = {s: i for i, s in enumerate(scenario.states)}
    entries = []
    models = [(scenario.states[0], cause.name, cause) for cause in scenario.base.causes]
    models += [(t.origin, t.target, t.model) for t in scenario.transitions]
    for origin, target, model in models:
        etas = model.linear_predictors(design, n)
        entries.append(
            (
                index[origin],
                index[target],
                model.baseline,
                model.pieces,
                [np.exp(eta) for eta in etas],
            )
        )
    return entries


def occupation_probabilities(
    scenario,
    data,
    times,
    rtol: float = _RTOL,
    individual: bool = False,
    steps: int = 1000,
    method: str = "auto",
) -> np.ndarray:
    """Average P(state at t) over the patients in ``data``: times x states, or
    with ``individual=True`` every patient's: patients x times x states.

    ``method="auto"`` solves the Kolmogorov equations for a Markov scenario
    (``rtol`` is the solver's relative tolerance, the absolute one 1e-12;
    the patients' equations are independent, so one BLAS thread is used) and
    convolves (``multistate_semi_markov``, ``steps`` grid cells) when some
    transition runs on a reset clock; ``"kolmogorov"`` or ``"convolution"``
    force one (the convolution also solves Markov scenarios, which is how
    it is checked).
    """
    if method not in ("auto", "kolmogorov", "convolution"):
        raise ValueError(f"method={method!r}; use 'auto', 'kolmogorov' or 'convolution'.")
    reset = [f"{t.origin}->{t.target}" for t in scenario.transitions if t.clock == "reset"]
    if reset and method == "kolmogorov":
        raise ValueError(
            f"transitions {reset} run on a clock reset at entry (semi-Markov); the Kolmogorov "
            "forward equations need a Markov model. Use method='convolution' (or 'auto')."
        )
    times = _truth.check_times(times)
    design = _truth.design_from_data(scenario.base, data)
    n = len(data)
    if method == "convolution" or (reset and method == "auto"):
        out = semi_markov_occupation(scenario, design, n, times, steps=steps)
        return out if individual else out.mean(axis=0)
    n_states = len(scenario.states)
    table = _transition_table(scenario, design, n)

    def rhs(t, y):
        P = y.reshape(n, n_states)
        dP = np.zeros_like(P)
        for origin, target, baseline, pieces, multipliers in table:
            for (start, end), multiplier in zip(pieces, multipliers, strict=True):
                if start <= t < end:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        h0 = float(baseline.hazard(np.array([t]))[0])
                    if h0 > 0:
                        flow = P[:, origin] * multiplier * h0
                        dP[:, origin] -= flow
                        dP[:, target] += flow
                    break
        return dP.ravel()

    t_max = float(times.max())
    cuts = {0.0, t_max}
    for *_, pieces, _ in table:
        cuts.update(start for start, _ in pieces if 0 < start < t_max)
    cuts = sorted(cuts)
    y = np.zeros((n, n_states))
    y[:, 0] = 1.0
    y = y.ravel()
    out = np.empty((n, times.size, n_states))
    out[:, times == 0.0] = np.eye(n_states)[0]
    for left, right in itertools.pairwise(cuts):
        inside = (times > left) & (times <= right)
        wanted = np.unique(np.append(times[inside], right))
        with threadpool_limits(1):
            solution = solve_ivp(
                rhs, (left, right), y, method="DOP853", t_eval=wanted, rtol=rtol, atol=_ATOL
            )
        if not solution.success:
            raise RuntimeError(f"Kolmogorov solver failed on ({left}, {right}]: {solution.message}")
        for k, t in enumerate(wanted):
            hit = times == t
            if hit.any():
                out[:, hit] = solution.y[:, k].reshape(n, 1, n_states)
        y = solution.y[:, -1]
    return out if individual else out.mean(axis=0)
