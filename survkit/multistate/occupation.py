"""Aalen-Johansen state occupation probabilities with infinitesimal-jackknife
standard errors: ``state_occupation``, as R's ``survfit(Surv(tstart, tstop,
to) ~ group, id = id, istate = from)`` (survival 3.5).

At every distinct interval end u (event or censoring time), with n_j(u) the
patients at risk in state j (entered before u, tstart < u <= tstop) and
d_jk(u) the j -> k transitions at u, the transition matrix increment is
H(u) = I + dA(u), dA_jk = d_jk / n_j, dA_jj = -Σ_k d_jk / n_j, and
p(u) = p(u-) H(u). The influence of patient i on p(u) obeys

    U_i(u) = U_i(u-) H(u) + p_j(u-) / n_j(u) · (e_{state of i after u} - H_j.(u))

for i at risk in state j (the second term is the influence of i on dA, the
first carries earlier influence forward), and std.err(u) = sqrt(Σ_i U_i(u)²),
which is survival's robust (id-clustered) variance. The starting
distribution p0 is the distribution of the initial states among the
intervals that span the first transition time; when it is not degenerate
its own influence starts U. R updates every patient's U at every transition
time (O(patients · times)); ``occupation_kernels`` carries Σ_i U_iᵀ U_i
instead and costs O(n log T) (see there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .histories import MultiStateData
from .occupation_kernels import occupation_kernel

__all__ = ["state_occupation"]

_CONF_TYPES = ("log", "plain", "none")


def _merge_splits(h: pd.DataFrame) -> pd.DataFrame:
    """Join a censored interval with the same patient's next one (a covariate split),
    as survfit does: the split point is neither an entry nor an exit."""
    ids = h["id"].to_numpy()
    interior = np.zeros(len(h), dtype=bool)
    interior[:-1] = (ids[:-1] == ids[1:]) & (h["status"].to_numpy()[:-1] == 0)
    if not interior.any():
        return h
    h = h.copy()
    # each run of split rows starts where the first of them starts
    run_start = h["tstart"].to_numpy().copy()
    for k in range(1, len(h)):
        if interior[k - 1]:
            run_start[k] = run_start[k - 1]
    h["tstart"] = run_start
    return h[~interior].reset_index(drop=True)


def state_occupation(
    data: MultiStateData,
    group_col: str | None = None,
    conf_level: float = 0.95,
    conf_type: str = "log",
    p0_variance: bool = True,
    start_time: float | None = None,
    landmark_state=None,
    p0: dict | None = None,
    se: bool = True,
) -> pd.DataFrame:
    """P(state at t), by group, with infinitesimal-jackknife standard errors.

    ``se=False`` skips the variance pass (about half the time on large data;
    R's ``se.fit = FALSE``): ``std_err``, ``lower`` and ``upper`` are NaN.

    Returns a tidy DataFrame: ``group`` (only with ``group_col``), ``time``,
    ``state``, ``pstate``, ``std_err``, ``lower``, ``upper``, ``n_risk``
    (patients at risk in that state just before t), ``n_event`` (transitions
    into that state at t). Times are every distinct interval end of the group,
    as R's survfit. Confidence limits are R's default ``conf_type="log"``
    (p · exp(±z se / p), capped at 1), or ``"plain"``.

    When patients start in different states, the starting distribution p0 is
    estimated and ``p0_variance=True`` adds its influence to the standard
    errors, as survival's ``survfit(..., influence=TRUE)`` (and every
    survfit since survival 3.6); ``False`` leaves it out, as survival
    3.5's default does. With one starting state the two agree.

    From a later time s (``start_time``; R's ``start.time``): intervals
    ending before s are set aside and the curves start at s. With
    ``landmark_state`` only the patients in that state at s (an interval
    from it with tstart <= s < tstop) are kept: the landmark Aalen-Johansen
    estimator of P(state at t | state h at s), valid without the Markov
    assumption (``mstate::LMAJ``). With ``p0`` ({state: probability}, adding
    to 1; R's ``p0=``) the curves start from that distribution instead of
    the observed one, e.g. ``p0={h: 1}`` with ``start_time=s`` gives the
    Markov transition probabilities P_h.(s, t) from every patient at risk.
    """
    if not isinstance(data, MultiStateData):
        raise TypeError(
            "data must be MultiStateData; build it with read_histories, from_events or from_wide."
        )
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level={conf_level!r} must be between 0 and 1.")
    if conf_type not in _CONF_TYPES:
        raise ValueError(f"conf_type={conf_type!r}; use one of {', '.join(_CONF_TYPES)}.")
    h = data.histories
    if group_col is not None:
        if group_col not in h.columns:
            raise ValueError(
                f"group_col={group_col!r} is not a kept column (kept: {list(data.covariates)})."
            )
        per_id = h.groupby("id", sort=False)[group_col].nunique()
        if (per_id > 1).any():
            raise ValueError(
                f"group_col={group_col!r} changes within {int((per_id > 1).sum())} patient(s); "
                "a patient must stay in one group."
            )
    states = list(data.transitions.states)
    code = {s: i for i, s in enumerate(states)}
    h = _from_start(h, start_time, landmark_state, states)
    fixed_p0 = _check_p0(p0, states)
    groups = [(None, h)] if group_col is None else list(h.groupby(group_col, sort=True))
    pieces = []
    for label, g in groups:
        g = _merge_splits(g.reset_index(drop=True))
        pid, uid = pd.factorize(g["id"], sort=True)
        first = g.drop_duplicates("id")  # sorted by id, tstart: the first interval
        cstate0 = np.empty(len(uid), dtype=np.int64)
        cstate0[pid[first.index.to_numpy()]] = first["from"].map(code).to_numpy()
        status = np.where(g["status"].to_numpy() == 1, g["to"].map(code).fillna(-1), -1)
        entry = g["tstart"].to_numpy(dtype=float)
        etime = g["tstop"].to_numpy(dtype=float)
        p0, i0 = _initial(
            entry,
            etime,
            status,
            g["from"].map(code).to_numpy(),
            pid,
            len(uid),
            len(states),
            p0_variance and se,
        )
        if fixed_p0 is not None:  # given, not estimated: no influence of its own
            p0, i0 = fixed_p0, np.zeros_like(i0)
        n_times = len(np.unique(etime))
        t, p, std, risk, event, _ = occupation_kernel(
            entry,
            etime,
            status.astype(np.int64),
            pid.astype(np.int64),
            cstate0,
            p0,
            i0,
            len(states),
            n_times,
            with_se=se,
        )
        # the frame has (times x states) rows, about 10^7 at 10^6 patients:
        # the float columns are written into one 2-D block that pandas keeps as
        # it is (a frame built from separate columns copies them twice)
        block = np.empty((5, p.size))
        block[0] = np.repeat(t, len(states))
        block[1] = p.ravel()
        block[2] = std.ravel()
        block[3], block[4] = _limits(block[1], block[2], conf_level, conf_type)
        frame = pd.DataFrame(
            block.T, columns=["time", "pstate", "std_err", "lower", "upper"], copy=False
        )
        frame.insert(1, "state", np.tile(np.array(states, dtype=object), len(t)))
        frame["n_risk"] = risk.ravel().astype(np.int64)
        frame["n_event"] = event.ravel().astype(np.int64)
        if group_col is not None:
            frame.insert(0, "group", label)
        pieces.append(frame)
    out = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
    return out


def _from_start(h: pd.DataFrame, start_time, landmark_state, states) -> pd.DataFrame:
    if start_time is None:
        if landmark_state is not None:
            raise ValueError("landmark_state needs start_time (the landmark time s).")
        return h
    s = float(start_time)
    if not np.isfinite(s):
        raise ValueError(f"start_time={start_time!r} must be a finite number.")
    if landmark_state is not None:
        if landmark_state not in states:
            raise ValueError(f"landmark_state={landmark_state!r} is not a state ({states}).")
        there = (h["from"] == landmark_state) & (h["tstart"] <= s) & (h["tstop"] > s)
        h = h[h["id"].isin(h.loc[there, "id"])]
        if h.empty:
            raise ValueError(
                f"no patient is in state {landmark_state!r} at start_time={s:g}; pick another "
                "landmark time or state."
            )
    h = h[h["tstop"] >= s]
    if h.empty:
        raise ValueError(f"every interval ends before start_time={s:g}; nothing is left.")
    return h.reset_index(drop=True)


def _check_p0(p0, states) -> np.ndarray | None:
    if p0 is None:
        return None
    unknown = [k for k in p0 if k not in states]
    if unknown:
        raise ValueError(f"p0 names state(s) {unknown} not in {states}.")
    vector = np.array([float(p0.get(s, 0.0)) for s in states])
    if (vector < 0).any() or abs(vector.sum() - 1) > 1e-8:
        raise ValueError(f"p0 = {p0!r} must be probabilities adding up to 1.")
    return vector


def _initial(entry, etime, status, istate, pid, n_person, n_states, with_variance):
    """p0 among intervals spanning the first transition time, and its influence."""
    moved = status >= 0
    t0 = etime.max() if not moved.any() else etime[moved].min()
    at_zero = (entry < t0) & (etime >= t0)
    counts = np.bincount(istate[at_zero], minlength=n_states).astype(float)
    p0 = counts / at_zero.sum()
    i0 = np.zeros((n_person, n_states))
    if with_variance and (p0 < 1).all():
        rows = np.flatnonzero(at_zero)
        for j in range(n_states):
            i0[pid[rows], j] = ((istate[rows] == j) - p0[j]) / at_zero.sum()
    return p0, i0


def _limits(p, se, conf_level, conf_type):
    if conf_type == "none":
        return np.full_like(p, np.nan), np.full_like(p, np.nan)
    z = stats.norm.ppf((1 + conf_level) / 2)
    if conf_type == "plain":
        return np.clip(p - z * se, 0, 1), np.clip(p + z * se, 0, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = p * np.exp(-z * se / p)
        upper = np.minimum(p * np.exp(z * se / p), 1.0)
    positive = p > 0
    return np.where(positive, lower, np.nan), np.where(positive, upper, np.nan)
