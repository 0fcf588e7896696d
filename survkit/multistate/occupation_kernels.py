"""The Aalen-Johansen recursion and its infinitesimal-jackknife variance in
O(n log T) instead of O(n T): the kernel behind ``state_occupation``.

R's survfit keeps every patient's influence row U_i (n x states) and updates
all of them at each of the T transition times (U <- U H + dH_i): O(n T S²).
Only the column sums of squares are ever reported, so here the S x S matrix
M = Σ_i U_iᵀ U_i is carried instead:

    M(t) = Hᵀ M(t-) H + Hᵀ X + Xᵀ H + Σ_i D_iᵀ D_i,   X = Σ_i U_i(t-)ᵀ D_i,

with D_i = c_j (e_{state of i after t} - H_j.), c_j = p_j(t-) / n_j(t), for i at
risk in state j (0 otherwise). X needs only the at-risk sums S_j = Σ_{i in
R_j} U_i(t-) and U_i(t-) of the patients who move at t; Σ D_iᵀ D_i needs only
the counts. Every patient at risk in j receives the same increment unless it
moves, so while at risk U_i(t) = V_i P(a_i, t) + R_j(t), where R_j(t) = R_j(t-)
H + c_j (e_j - H_j.) is shared by the state, V_i is fixed at entry a_i, and
P(a, t) = Π H over the transition times in (a, t]. The state sums are then
S_j = W_j + n_j R_j with W_j = Σ V_i P(a_i, t) kept by W_j <- W_j H, and a
single patient's V_i P(a_i, t) is a product of a vector with the H's in
between (``occupation_products``: sparse steps and a tree of block
products). Between its intervals a patient's row is kept lazily as (vector,
index) meaning vector · P(index, now).

H = I + dA differs from I only in the rows of the states somebody left, so
every update by H (of p, W, R, M and X) touches only those rows: O(S · moves)
per time instead of O(S³).

The first pass is the plain Aalen-Johansen recursion (p(t) = p(t-) H(t)); it
stores each time's dA as triplets. Both passes reproduce survival 3.5's survfitci
(checked against R to 1e-15 for p and 1e-16 for the standard errors).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .occupation_products import apply_range, apply_step, build_block_tree

__all__ = ["occupation_kernel"]


@njit(cache=True)
def _first_pass(entry, entry_pid, etime, status, pid, cstate0, p0, n_states, n_times):
    n = etime.shape[0]
    cstate = cstate0.copy()
    ns = np.zeros(n_states)
    p = p0.copy()
    tmp = np.zeros(n_states)
    out_t = np.empty(n_times)
    out_p = np.empty((n_times, n_states))
    out_risk = np.empty((n_times, n_states))
    out_event = np.zeros((n_times, n_states))
    out_cens = np.zeros(n_times)
    # dA of every transition time as (row, column, value): at most one
    # diagonal and one off-diagonal entry per mover
    ptr = np.zeros(n + 1, dtype=np.int64)
    steps = np.empty((2 * n, 3))
    n_entries = 0
    n_events = 0
    itime = 0
    eptr = 0
    i = 0
    d = np.zeros((n_states, n_states))
    while i < n:
        ctime = etime[i]
        while eptr < n and entry[eptr] < ctime:
            ns[cstate[entry_pid[eptr]]] += 1.0
            eptr += 1
        moved = 0
        j = i
        while j < n and etime[j] == ctime:
            if status[j] >= 0:
                d[cstate[pid[j]], status[j]] += 1.0
                out_event[itime, status[j]] += 1.0
                moved += 1
            else:
                out_cens[itime] += 1.0
            j += 1
        for a in range(n_states):
            out_risk[itime, a] = ns[a]
        if moved > 0:
            for a in range(n_states):
                total = 0.0
                for b in range(n_states):
                    total += d[a, b]
                if total == 0.0:
                    continue
                steps[n_entries, 0] = a
                steps[n_entries, 1] = a
                steps[n_entries, 2] = -total / ns[a]
                n_entries += 1
                for b in range(n_states):
                    if b != a and d[a, b] > 0.0:
                        steps[n_entries, 0] = a
                        steps[n_entries, 1] = b
                        steps[n_entries, 2] = d[a, b] / ns[a]
                        n_entries += 1
                    d[a, b] = 0.0
                d[a, a] = 0.0
            ptr[n_events + 1] = n_entries
            apply_step(p, n_events, ptr, steps, tmp)
            n_events += 1
        out_t[itime] = ctime
        for a in range(n_states):
            out_p[itime, a] = p[a]
        while i < n and etime[i] == ctime:
            ns[cstate[pid[i]]] -= 1.0
            if status[i] >= 0:
                cstate[pid[i]] = status[i]
            i += 1
        itime += 1
    return (
        out_t,
        out_p,
        out_risk,
        out_event,
        out_cens,
        ptr[: n_events + 1].copy(),
        steps[:n_entries].copy(),
    )


@njit(cache=True)
def _right_step(A, e, ptr, steps, orig):
    """A <- A · H[e] in place: (A H)[r, b] = A[r, b] + Σ_a A[r, a] dA[a, b], O(S · entries)."""
    orig[:, :] = A
    for q in range(ptr[e], ptr[e + 1]):
        a, b, value = int(steps[q, 0]), int(steps[q, 1]), steps[q, 2]
        for r in range(A.shape[0]):
            A[r, b] += orig[r, a] * value


@njit(cache=True)
def _left_step_transposed(A, e, ptr, steps, orig):
    """A <- H[e]ᵀ · A in place: (Hᵀ A)[b, r] = A[b, r] + Σ_a dA[a, b] A[a, r]."""
    orig[:, :] = A
    for q in range(ptr[e], ptr[e + 1]):
        a, b, value = int(steps[q, 0]), int(steps[q, 1]), steps[q, 2]
        for r in range(A.shape[0]):
            A[b, r] += value * orig[a, r]


@njit(cache=True)
def _add_jump_variance(M, e, ptr, steps, ns, d, c, row):
    """M += Σ_i D_iᵀ D_i, D_i = c_a (e_b - H_a.) for the patients of a who end
    the time in b (b = a: stayed); only states somebody left have D_i ≠ 0."""
    n_states = M.shape[0]
    for q in range(ptr[e], ptr[e + 1]):
        a = int(steps[q, 0])
        if int(steps[q, 1]) != a:
            continue  # one diagonal triplet per state left
        stay = ns[a]
        for b in range(n_states):
            stay -= d[a, b]
        for b in range(n_states):
            count = stay if b == a else d[a, b]
            if count == 0:
                continue
            for r in range(n_states):
                row[r] = (1.0 if r == b else 0.0) - (1.0 if r == a else 0.0)
            for t in range(ptr[e], ptr[e + 1]):
                if int(steps[t, 0]) == a:
                    row[int(steps[t, 1])] -= steps[t, 2]
            w = c[a] * c[a] * count
            for r in range(n_states):
                for s in range(n_states):
                    M[r, s] += w * row[r] * row[s]


@njit(cache=True)
def _variance_pass(entry, entry_pid, etime, status, pid, cstate0, i0, n_times, p0, ptr, steps):
    n = etime.shape[0]
    n_person, n_states = i0.shape
    tree = build_block_tree(ptr, steps, n_states)
    stack = np.empty(128, dtype=np.int64)
    tmp = np.zeros(n_states)
    # one record (one cache line for 6 states) per patient: the lazy row
    # vec (U_i = vec · P(idx, now), or V_i while at risk), idx, current state
    IDX = n_states
    STATE = n_states + 1
    rec = np.empty((n_person, n_states + 2))
    rec[:, :n_states] = i0
    rec[:, IDX] = -1.0
    rec[:, STATE] = cstate0
    W = np.zeros((n_states, n_states))
    R = np.zeros((n_states, n_states))
    ns = np.zeros(n_states)
    M = i0.T @ i0
    p = p0.copy()
    c = np.zeros(n_states)
    d = np.zeros((n_states, n_states))
    X = np.zeros((n_states, n_states))
    HtX = np.zeros((n_states, n_states))
    orig = np.empty((n_states, n_states))
    row = np.empty(n_states)
    # the movers' part V_i P(a_i, t-), reused at their exit just after (times H)
    mover_u = np.empty((16, n_states))
    out_se = np.empty((n_times, n_states))
    e_done = 0
    itime = 0
    eptr = 0
    i = 0
    while i < n:
        ctime = etime[i]
        while eptr < n and entry[eptr] < ctime:
            v = rec[entry_pid[eptr]]
            j = int(v[STATE])
            apply_range(v[:n_states], int(v[IDX]), e_done - 1, ptr, steps, tree, stack, tmp)
            for r in range(n_states):
                v[r] -= R[j, r]
                W[j, r] += v[r]
            v[IDX] = e_done - 1
            ns[j] += 1.0
            eptr += 1
        moved = 0
        j = i
        while j < n and etime[j] == ctime:
            if status[j] >= 0:
                moved += 1
            j += 1
        group_end = j
        if moved > 0:
            e = e_done
            for a in range(n_states):
                c[a] = p[a] / ns[a] if ns[a] > 0 else 0.0
            # X = Σ_i U_i(t-)ᵀ D_i. Every patient at risk in a state a that
            # somebody left adds c_a U_i ⊗ (e_a - H_a.) = -c_a U_i ⊗ dA_a.
            # (summed: S_a = W_a + n_a R_a); a mover to b adds c_a U_i ⊗ (e_b - e_a)
            X[:, :] = 0.0
            for q in range(ptr[e], ptr[e + 1]):
                a, b, value = int(steps[q, 0]), int(steps[q, 1]), steps[q, 2]
                for r in range(n_states):
                    X[r, b] -= c[a] * (W[a, r] + ns[a] * R[a, r]) * value
            if moved > mover_u.shape[0]:
                mover_u = np.empty((2 * moved, n_states))
            m = 0
            for k in range(i, group_end):
                b = status[k]
                if b < 0:
                    continue
                v = rec[pid[k]]
                a = int(v[STATE])
                d[a, b] += 1.0
                u = mover_u[m]
                u[:] = v[:n_states]
                apply_range(u, int(v[IDX]), e - 1, ptr, steps, tree, stack, tmp)
                for r in range(n_states):
                    ur = u[r] + R[a, r]
                    X[r, b] += c[a] * ur
                    X[r, a] -= c[a] * ur
                m += 1
            # M <- Hᵀ M H + Hᵀ X + Xᵀ H + Σ_i D_iᵀ D_i
            _right_step(M, e, ptr, steps, orig)
            _left_step_transposed(M, e, ptr, steps, orig)
            HtX[:, :] = X
            _left_step_transposed(HtX, e, ptr, steps, orig)
            for r in range(n_states):
                for s in range(n_states):
                    M[r, s] += HtX[r, s] + HtX[s, r]
            _add_jump_variance(M, e, ptr, steps, ns, d, c, row)
            d[:, :] = 0.0
            # R_a <- R_a H + c_a (e_a - H_a.) ; W <- W H ; p <- p H
            _right_step(R, e, ptr, steps, orig)
            for q in range(ptr[e], ptr[e + 1]):
                a = int(steps[q, 0])
                R[a, int(steps[q, 1])] -= c[a] * steps[q, 2]
            _right_step(W, e, ptr, steps, orig)
            apply_step(p, e, ptr, steps, tmp)
            e_done += 1
        for a in range(n_states):
            out_se[itime, a] = np.sqrt(max(M[a, a], 0.0))
        m = 0
        while i < group_end:
            v = rec[pid[i]]
            a = int(v[STATE])
            part = v[:n_states]
            if status[i] >= 0:
                part[:] = mover_u[m]
                apply_step(part, e_done - 1, ptr, steps, tmp)
                m += 1
            else:
                apply_range(part, int(v[IDX]), e_done - 1, ptr, steps, tree, stack, tmp)
            for r in range(n_states):
                W[a, r] -= part[r]
                part[r] += R[a, r]
            ns[a] -= 1.0
            if status[i] >= 0:
                part[status[i]] += c[a]
                part[a] -= c[a]
                v[STATE] = status[i]
            v[IDX] = e_done - 1
            i += 1
        itime += 1
    return out_se


def occupation_kernel(entry, etime, status, pid, cstate0, p0, i0, n_states, n_times, with_se=True):
    """Times, p, std.err, n.risk, n.event, n.censor for one curve (see the module);
    std.err is NaN without ``with_se`` (the variance pass is skipped)."""
    # the passes read intervals in order of entry and of exit: copies in those
    # orders are read sequentially instead of through the sort indices
    by_entry = np.argsort(entry, kind="stable")
    by_exit = np.argsort(etime, kind="stable")
    entries = (entry[by_entry], pid[by_entry])
    exits = (etime[by_exit], status[by_exit], pid[by_exit])
    t, p, risk, event, cens, ptr, steps = _first_pass(
        *entries, *exits, cstate0, p0, n_states, n_times
    )
    if not with_se:
        return t, p, np.full(p.shape, np.nan), risk, event, cens
    se = _variance_pass(*entries, *exits, cstate0, i0, n_times, p0, ptr, steps)
    return t, p, se, risk, event, cens
