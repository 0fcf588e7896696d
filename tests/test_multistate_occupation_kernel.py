"""The O(n log T) Aalen-Johansen kernel equals the plain O(n T) influence recursion.

The fast kernel stores each time's dA sparsely and carries patients' rows
through block products; these checks use data built to exercise its
corners: many ties on an integer grid (several states left at the same time,
a state that is both left and entered at one time), delayed entries, covariate
splits and several starting states. The reference is the textbook recursion
written out with dense matrices (survival's survfitci, as in the module
docstring), independent of the kernel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survkit import multistate as ms
from survkit.multistate.occupation_products import BLOCK

STATES = ["a", "b", "c", "d"]
ALLOWED = {"a": ["b", "c", "d"], "b": ["c", "d"], "c": ["d"]}


def tied_histories(n: int, seed: int, mixed_start: bool) -> pd.DataFrame:
    """Random acyclic paths on an integer time grid (heavy ties), some starting late."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        state = rng.choice(["a", "b"]) if mixed_start else "a"
        t = float(rng.integers(0, 8))  # delayed entry for most
        while True:
            stop = t + float(rng.integers(1, 100))
            targets = ALLOWED.get(state, [])
            if not targets or rng.random() < 0.25:
                rows.append((i, t, stop, state, "censored"))
                if rng.random() < 0.3 and targets:  # a covariate split: same state goes on
                    t = stop
                    continue
                break
            to = str(rng.choice(targets))
            rows.append((i, t, stop, state, to))
            t, state = stop, to
            if state == "d":
                break
    return pd.DataFrame(rows, columns=["id", "tstart", "tstop", "from", "to"])


def direct_occupation(h: pd.DataFrame, p0_variance: bool = True):
    """pstate and std.err at every distinct interval end, all patients' U updated each time."""
    code = {s: k for k, s in enumerate(STATES)}
    # join covariate splits as survfit does: a censored row followed by the same patient
    ids, start = h["id"].to_numpy(), h["tstart"].to_numpy().copy()
    stop, frm, to = h["tstop"].to_numpy(), h["from"].to_numpy(), h["to"].to_numpy()
    keep = np.ones(len(h), dtype=bool)
    for k in range(len(h) - 1):
        if ids[k] == ids[k + 1] and to[k] == "censored":
            keep[k] = False
            start[k + 1] = start[k]
    ids, start, stop, frm, to = ids[keep], start[keep], stop[keep], frm[keep], to[keep]
    person = pd.factorize(ids, sort=True)[0]
    n_person, n_states = person.max() + 1, len(STATES)
    times = np.unique(stop)
    moved = to != "censored"
    t0 = stop[moved].min()
    spans = (start < t0) & (stop >= t0)
    p = np.bincount([code[s] for s in frm[spans]], minlength=n_states) / spans.sum()
    U = np.zeros((n_person, n_states))
    if p0_variance and (p < 1).all():
        for r in np.flatnonzero(spans):
            U[person[r]] = (np.arange(n_states) == code[frm[r]]) - p
        U /= spans.sum()
    out_p, out_se = [], []
    for u in times:
        at_risk = np.flatnonzero((start < u) & (stop >= u))
        state = np.array([code[s] for s in frm[at_risk]])
        ns = np.bincount(state, minlength=n_states).astype(float)
        d = np.zeros((n_states, n_states))
        after = state.copy()
        for k, r in enumerate(at_risk):
            if stop[r] == u and moved[r]:
                d[state[k], code[to[r]]] += 1
                after[k] = code[to[r]]
        if d.sum() > 0:
            H = np.eye(n_states)
            for j in range(n_states):
                if ns[j] > 0:
                    H[j] += d[j] / ns[j]
                    H[j, j] -= d[j].sum() / ns[j]
            c = np.divide(p, ns, out=np.zeros(n_states), where=ns > 0)
            jump = np.zeros((n_person, n_states))
            for k, r in enumerate(at_risk):
                j = state[k]
                jump[person[r]] = c[j] * (np.eye(n_states)[after[k]] - H[j])
            U = U @ H + jump
            p = p @ H
        out_p.append(p.copy())
        out_se.append(np.sqrt((U**2).sum(axis=0)))
    return times, np.array(out_p), np.array(out_se)


@pytest.mark.parametrize(
    "seed, mixed_start, p0_variance",
    [(1, False, True), (2, True, True), (3, True, False)],
)
def test_kernel_equals_the_direct_recursion(seed, mixed_start, p0_variance):
    h = tied_histories(600, seed, mixed_start)
    tm = ms.transition_matrix(STATES, ALLOWED)
    data = ms.read_histories(h, tm)
    occ = ms.state_occupation(data, p0_variance=p0_variance)
    times, p, se = direct_occupation(data.histories, p0_variance)
    # the data do what they are meant to: ties with two states left at one time
    moves = h[h["to"] != "censored"]
    left = moves.groupby("tstop")["from"].nunique()
    assert (left >= 2).sum() >= 3
    assert (h["tstart"] > 0).groupby(h["id"]).first().sum() > 50  # delayed entries
    # products over whole blocks are used: an interval after a transition spans
    # more than two blocks of transition times
    event_times = np.unique(moves["tstop"])
    later = h[h["id"].duplicated()]
    spans = np.searchsorted(event_times, later["tstop"]) - np.searchsorted(
        event_times, later["tstart"]
    )
    assert len(event_times) > 3 * BLOCK and spans.max() >= 2 * BLOCK
    np.testing.assert_array_equal(occ["time"].unique(), times)
    wide_p = occ.pivot(index="time", columns="state", values="pstate")[STATES].to_numpy()
    wide_se = occ.pivot(index="time", columns="state", values="std_err")[STATES].to_numpy()
    np.testing.assert_allclose(wide_p, p, rtol=0, atol=1e-13)
    np.testing.assert_allclose(wide_se, se, rtol=0, atol=1e-13)
    assert se.max() > 0.02  # standard errors that are not trivially zero


def test_without_standard_errors_the_probabilities_are_unchanged():
    # se=False (R's se.fit = FALSE) skips the variance pass only
    data = ms.read_histories(tied_histories(300, 4, True), ms.transition_matrix(STATES, ALLOWED))
    full = ms.state_occupation(data)
    bare = ms.state_occupation(data, se=False)
    for col in ["time", "state", "pstate", "n_risk", "n_event"]:
        np.testing.assert_array_equal(bare[col], full[col])
    assert bare[["std_err", "lower", "upper"]].isna().all().all()
    assert full["std_err"].max() > 0
