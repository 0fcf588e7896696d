"""True state occupation when some later transitions run on a reset clock (semi-Markov).

With ``clock = "reset"`` a transition's hazard runs in time since entering its
origin, so the Kolmogorov forward equations do not apply; the occupation
probabilities are convolutions instead. For a patient (covariates x) who
enters relapse state j at time s, the hazard of leaving to l at time u is
α_jl(u - s | x) (reset) or α_jl(u | x) (forward), so the probability of still
being in j at u is

    S_j(u | s) = exp(-R_j(u - s)) exp(-(F_j(u) - F_j(s))),

with R_j the summed cumulative hazards of j's reset transitions (a function
of the duration) and F_j those of its forward ones (a function of time).
With e_j the density of entering j,

    P_j(t) = exp(-F_j(t)) ∫_0^t e_j(s) exp(F_j(s)) exp(-R_j(t - s)) ds

and the flow into l is the same integral against the cumulative hazard of
j -> l: both are convolutions in s once e_j exp(F_j) is formed, computed per
patient with FFTs on a uniform grid of ``steps`` cells on [0, max(times)].

Discretisation: entries into a state are placed at the midpoints of the
cells (a midpoint rule, second order); leaving within a cell uses the exact
cumulative-hazard increment of that cell times the survival at its
midpoint (exact increments cope with hazards that are infinite at duration
0); the no-relapse state (entered at time 0, first-event hazards in time
since diagnosis) is exact, its outflow split between causes in proportion
to their cumulative-hazard increments. Values at the requested times are
linear interpolations between grid points (P is continuous). Checked
against the Kolmogorov solution on a Markov scenario (measured on the
built-in one over 10 years at the default 1000 steps: each patient's P within
1.1e-5, the average within 7e-7; the error falls as steps^-2) and against a
simulated cohort.
"""

from __future__ import annotations

import numpy as np
from scipy import fft

__all__ = ["semi_markov_occupation"]

_CHUNK_CELLS = 1_000_000  # patients x grid cells per chunk: bounded memory


class _Convolver:
    """Row-wise causal convolutions of one array A with several kernels (one FFT of A)."""

    def __init__(self, A: np.ndarray):
        self.N = A.shape[1]
        self.size = fft.next_fast_len(2 * self.N, real=True)
        self.A = fft.rfft(A, self.size, axis=1)

    def __call__(self, kernel: np.ndarray) -> np.ndarray:
        """(A * kernel)[m] = Σ_{i <= m} A_i kernel_{m - i}, m < N."""
        out = fft.irfft(self.A * fft.rfft(kernel, self.size, axis=1), self.size, axis=1)
        return out[:, : self.N]


def _later(scenario):
    """origin -> [(target, model, clock)] for the transitions after the first event."""
    out: dict[str, list] = {}
    for t in scenario.transitions:
        out.setdefault(t.origin, []).append((t.target, t.model, t.clock))
    return out


def _chunk(scenario, design, rows, u, mid, h):
    """Occupation on the grid ``u`` for the patients ``rows``: (rows, len(u), states)."""
    n = rows.size
    part = {key: value[rows] for key, value in design.items()}
    states = list(scenario.states)
    index = {s: i for i, s in enumerate(states)}
    N = u.size - 1
    P = np.zeros((n, u.size, len(states)))
    entry = {s: np.zeros((n, N)) for s in states}  # mass entering s in cell c

    # no relapse: entered at 0, first-event hazards in time since diagnosis (exact)
    first = [
        (c.name, c.cumulative_hazard(u, c.linear_predictors(part, n))) for c in scenario.base.causes
    ]
    total = sum(H for _, H in first)
    S0 = np.exp(-total)
    P[:, :, 0] = S0
    dS = S0[:, :-1] - S0[:, 1:]
    dH = np.diff(total, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, H in first:
            entry[name] += np.where(dH > 0, dS * np.diff(H, axis=1) / dH, 0.0)

    later = _later(scenario)
    durations = h * np.arange(N + 1)  # k h
    half_steps = h * (np.arange(N + 1) + 0.5)  # (k + 1/2) h
    for j in [*scenario.order(), *[s for s in states[1:] if s not in scenario.order()]]:
        outs = later.get(j, [])
        if not outs:  # absorbing: whoever entered stays
            P[:, 1:, index[j]] = np.cumsum(entry[j], axis=1)
            continue
        F_u = np.zeros((n, N + 1))
        F_mid = np.zeros((n, N))
        R_k = np.zeros((n, N + 1))  # R(k h)
        R_half = np.zeros((n, N + 1))  # R((k + 1/2) h)
        parts = []
        for target, model, clock in outs:
            etas = model.linear_predictors(part, n)
            if clock == "reset":
                at_k = model.cumulative_hazard(durations, etas)
                at_half = model.cumulative_hazard(half_steps, etas)
                R_k += at_k
                R_half += at_half
                parts.append((target, "reset", at_k, at_half))
            else:
                at_u = model.cumulative_hazard(u, etas)
                at_mid = model.cumulative_hazard(mid, etas)
                F_u += at_u
                F_mid += at_mid
                parts.append((target, "forward", at_u, at_mid))
        stay, flows = _leave(entry[j], parts, F_u, F_mid, R_k, R_half)
        P[:, 1:, index[j]] = stay
        # leaving in the cell of entry: half a cell at risk
        half_total = R_half[:, 0:1] + (F_u[:, 1:] - F_mid)
        for (target, clock, at_a, at_b), flow in zip(parts, flows, strict=True):
            same = at_b[:, 0:1] if clock == "reset" else at_a[:, 1:] - at_b
            flow = flow + entry[j] * same * np.exp(-half_total / 2)
            entry[target] += np.maximum(flow, 0.0)  # FFT round-off can give -1e-17
    return P


def _leave(E, parts, F_u, F_mid, R_k, R_half):
    """P_j on the grid (rows, N) and, per outgoing transition, the flow in each cell
    from entries in earlier cells (the cell of entry is added by the caller).

    Only reset transitions: FFT convolutions. Only forward ones: a recursion
    over the cells (no convolution). Both: a direct sum, O(rows · N²). The
    forward part is never factored as e^{F(s)} e^{-F(u)}, whose round-off
    grows with e^{F}.
    """
    n, N = E.shape
    forward = any(clock == "forward" for _, clock, _, _ in parts)
    reset = any(clock == "reset" for _, clock, _, _ in parts)
    if not forward:
        convolve = _Convolver(E)
        stay = convolve(np.exp(-R_half[:, :N]))  # Σ_c E_c e^{-R((m - c + 1/2) h)}
        survive = np.exp(-R_k[:, :N])
        survive[:, 0] = 0.0  # k = m - c >= 1: earlier cells only
        flows = []
        for _, _, _, at_half in parts:
            increment = np.zeros((n, N))
            increment[:, 1:] = at_half[:, 1:N] - at_half[:, : N - 1]  # H((k+1/2)h) - H((k-1/2)h)
            flows.append(convolve(survive * increment))
        return stay, flows
    stay = np.zeros((n, N))
    flows = [np.zeros((n, N)) for _ in parts]
    if not reset:
        previous = np.zeros(n)  # P_j(u_{m-1})
        for m in range(N):  # cell m + 1 = (u_m, u_{m+1}]
            carried = previous * np.exp(-(F_mid[:, m] - F_u[:, m]))  # at the cell's midpoint
            for q, (_, _, at_u, _) in enumerate(parts):
                flows[q][:, m] = carried * (at_u[:, m + 1] - at_u[:, m])
            previous = previous * np.exp(-(F_u[:, m + 1] - F_u[:, m])) + E[:, m] * np.exp(
                -(F_u[:, m + 1] - F_mid[:, m])
            )
            stay[:, m] = previous
        return stay, flows
    for m in range(N):
        k = m - np.arange(m + 1)  # cells c = 0..m, k = m - c
        stay[:, m] = np.sum(
            E[:, : m + 1] * np.exp(-(F_u[:, m + 1 : m + 2] - F_mid[:, : m + 1]) - R_half[:, k]),
            axis=1,
        )
        if m == 0:
            continue
        k = k[:-1]  # earlier cells only
        base = E[:, :m] * np.exp(-(F_mid[:, m : m + 1] - F_mid[:, :m]) - R_k[:, k])
        for q, (_, clock, at_a, at_b) in enumerate(parts):
            if clock == "reset":
                flows[q][:, m] = np.sum(base * (at_b[:, k] - at_b[:, k - 1]), axis=1)
            else:
                flows[q][:, m] = base.sum(axis=1) * (at_a[:, m + 1] - at_a[:, m])
    return stay, flows


def semi_markov_occupation(
    scenario, design: dict, n: int, times: np.ndarray, steps: int = 1000
) -> np.ndarray:
    """Every patient's P(state at t): patients x times x states (see the module docstring)."""
    if steps < 10:
        raise ValueError(f"steps={steps}; use at least 10 (1000 by default).")
    t_max = float(times.max())
    n_states = len(scenario.states)
    out = np.empty((n, times.size, n_states))
    if t_max == 0.0:
        out[:] = np.eye(n_states)[0]
        return out
    h = t_max / steps
    u = h * np.arange(steps + 1)
    u[-1] = t_max
    mid = u[1:] - h / 2
    position = np.clip(times / h, 0, steps)
    left = np.minimum(np.floor(position).astype(int), steps - 1)
    weight = (position - left)[None, :, None]
    size = max(1, _CHUNK_CELLS // (steps + 1))
    for lo in range(0, n, size):
        rows = np.arange(lo, min(n, lo + size))
        P = _chunk(scenario, design, rows, u, mid, h)
        out[rows] = (1 - weight) * P[:, left] + weight * P[:, left + 1]
    return out
