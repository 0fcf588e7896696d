"""Concordance indices of a risk score: Harrell's C with its standard error, and Uno's C.

Harrell's C counts comparable pairs -- one member has the event at T_i, the
other is still at risk (T_j > T_i, or T_j = T_i and censored) -- and the share
in which the member with the event has the higher score (score ties count 1/2,
pairs tied in event time do not count), as R's ``concordance(..., reverse =
TRUE)``. Its standard error is R's infinitesimal jackknife: each subject's
derivative of C with respect to its case weight, from its own pair counts.
Two Fenwick-tree scans (time descending and ascending) give every subject's
counts in O(n log n).

Uno's C weights each comparable pair by 1/G(T_i)^2 (Kaplan-Meier of the
censoring times, evaluated at the event time) and keeps events before a
truncation time ``tau``: ``sksurv.metrics.concordance_index_ipcw``. Its
standard error (``se=True``; no R or scikit-survival counterpart, checked by
simulation) is sd(IF)/sqrt(n) with IF the influence function of the ratio of
two weighted U-statistics (Hajek projection, from each subject's pair sums)
plus the term for estimating G by Kaplan-Meier: the weight of event member i
is exp(2 Lambda_C(T_i)), so its pair sums enter ``censoring_influence`` twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.stats import norm

from ..engine.concordance import add_group, fenwick_prefix, tie_group_end, tie_group_start
from ..engine.ipcw import CensoringKM, censoring_influence
from .inputs import read_inputs

__all__ = ["ConcordanceResult", "concordance_index", "concordance_index_ipcw"]


@dataclass(frozen=True)
class ConcordanceResult:
    concordance: float
    se: float
    lower: float
    upper: float
    n_comparable: float
    concordant: float
    discordant: float
    tied_risk: float


@njit(cache=True)
def _pair_counts(order, time, event, rank, n_ranks, w, pair_w, partners=True):
    """Per subject: weighted concordant, discordant and score-tied pairs it is part of.

    ``pair_w[i]`` multiplies every pair whose event member is i (1 for Harrell,
    1/G(T_i)^2 for Uno). ``order`` sorts by time ascending. ``partners=False``
    counts only the pairs in which the subject is the event member.
    """
    n = order.shape[0]
    conc = np.zeros(n)
    disc = np.zeros(n)
    tied = np.zeros(n)
    tree = np.zeros(n_ranks + 1)
    at = np.zeros(n_ranks)
    total = 0.0
    censored = event == 0
    # event members: scan time descending; the tree holds subjects at risk after T_i
    hi = n
    while hi > 0:
        lo = tie_group_start(order, time, hi)
        total = add_group(tree, at, total, order, lo, hi, censored, rank, w)
        for p in range(lo, hi):
            i = order[p]
            if event[i]:
                below = fenwick_prefix(tree, rank[i])
                same = at[rank[i]]
                conc[i] += pair_w[i] * w[i] * below
                tied[i] += pair_w[i] * w[i] * same
                disc[i] += pair_w[i] * w[i] * (total - below - same)
        total = add_group(tree, at, total, order, lo, hi, event, rank, w)
        hi = lo
    if not partners:
        return conc, disc, tied
    # partners: scan time ascending; the tree holds event members before T_k
    pair_weight = pair_w * w
    tree[:] = 0.0
    at[:] = 0.0
    total = 0.0
    lo = 0
    while lo < n:
        hi = tie_group_end(order, time, lo)
        for stage in range(2):  # events at u see events before u; censored at u see u too
            if stage == 1:
                total = add_group(tree, at, total, order, lo, hi, event, rank, pair_weight)
            for p in range(lo, hi):
                k = order[p]
                if (stage == 0) == bool(event[k]):
                    below = fenwick_prefix(tree, rank[k])
                    same = at[rank[k]]
                    conc[k] += w[k] * (total - below - same)
                    tied[k] += w[k] * same
                    disc[k] += w[k] * below
        lo = hi
    return conc, disc, tied


def _counts(time, event, risk, pair_w, partners=True):
    _, rank = np.unique(risk, return_inverse=True)
    order = np.argsort(time, kind="stable")
    w = np.ones(time.shape[0])
    return _pair_counts(
        order,
        time,
        event.astype(np.uint8),
        rank.astype(np.int64),
        int(rank.max()) + 1,
        w,
        np.asarray(pair_w, dtype=float),
        partners,
    )


def concordance_index(
    y, risk, cause: object = None, censor_value: object = 0, conf_level: float = 0.95
) -> ConcordanceResult:
    """Harrell's C of ``risk`` (higher = earlier event) with its standard error and
    Wald interval, as R's ``concordance(Surv(time, status) ~ risk, reverse = TRUE)``.

    With competing risks (``cause`` given) the other events count as censored
    (the cause-specific C).
    """
    out = read_inputs(y, cause, censor_value)
    r = np.asarray(risk, dtype=float).ravel()
    if r.shape[0] != out.n or not np.isfinite(r).all():
        raise ValueError(f"risk must hold {out.n} finite values (one per subject).")
    event = out.cause_index == out.cause
    conc, disc, tied = _counts(out.time, event, r, np.ones(out.n))
    # every pair is counted once through each member
    C_, D_, T_ = conc.sum() / 2, disc.sum() / 2, tied.sum() / 2
    comparable = C_ + D_ + T_
    if comparable == 0:
        raise ValueError("no comparable pairs (no events, or all events at the last time).")
    c = (C_ + T_ / 2) / comparable
    dfbeta = (conc + tied / 2 - c * (conc + disc + tied)) / comparable
    se = float(np.sqrt((dfbeta**2).sum()))
    z = norm.ppf(0.5 + conf_level / 2)
    return ConcordanceResult(
        float(c),
        se,
        float(c - z * se),
        float(c + z * se),
        float(comparable),
        float(C_),
        float(D_),
        float(T_),
    )


def concordance_index_ipcw(
    y,
    risk,
    tau: float | None = None,
    y_train=None,
    censor_value: object = 0,
    se: bool = False,
    conf_level: float = 0.95,
):
    """Uno's C: comparable pairs weighted by 1/G(T_i)^2, events before ``tau`` only.

    G is the Kaplan-Meier of the censoring times in ``y_train`` (default ``y``),
    as ``sksurv.metrics.concordance_index_ipcw`` (single event). Scores tie only
    when exactly equal (scikit-survival also ties scores within 1e-8). Returns
    the C; with ``se=True`` a ``ConcordanceResult`` with the influence-function
    standard error and Wald limits (needs ``y_train=None``: G from the same data).
    """
    out = read_inputs(y, None, censor_value)
    if se and y_train is not None:
        raise ValueError(
            "se=True needs y_train=None: the standard error accounts for estimating G "
            "on the same data; pass y_train=None or se=False."
        )
    train = out if y_train is None else read_inputs(y_train, None, censor_value)
    r = np.asarray(risk, dtype=float).ravel()
    if r.shape[0] != out.n or not np.isfinite(r).all():
        raise ValueError(f"risk must hold {out.n} finite values (one per subject).")
    km = CensoringKM.fit(train.time, train.censored)
    event = out.cause_index == 1
    g = km.at(out.time)  # y may differ from y_train: search
    use = event & (out.time < tau if tau is not None else True)
    if np.any(use & (g <= 0)):
        raise ValueError("the censoring survival is 0 at some event times; pass a smaller tau.")
    pair_w = np.where(use, 1.0 / np.where(g > 0, g, 1.0) ** 2, 0.0)
    if not se:
        return _uno_ratio(out.time, use, r, pair_w)
    return _uno_with_se(out, km, use, r, pair_w, conf_level)


def _uno_ratio(time, event, risk, pair_w) -> float:
    conc, disc, tied = _counts(time, event, risk, pair_w)
    # each pair is counted through both members, with the pair weight both times
    C_, D_, T_ = conc.sum() / 2, disc.sum() / 2, tied.sum() / 2
    comparable = C_ + D_ + T_
    return float((C_ + T_ / 2) / comparable) if comparable > 0 else float("nan")


def _uno_with_se(out, km, use, r, pair_w, conf_level) -> ConcordanceResult:
    c, counts, influence = _uno_influence(out, km, use, r, pair_w)
    se = float(np.std(influence, ddof=1) / np.sqrt(out.n))
    z = norm.ppf(0.5 + conf_level / 2)
    return ConcordanceResult(c, se, c - z * se, c + z * se, *counts)


def _uno_influence(out, km, use, r, pair_w):
    """C, (comparable, concordant, discordant, tied) and each subject's influence."""
    n = out.n
    conc, disc, tied = _counts(out.time, use, r, pair_w)
    C_, D_, T_ = conc.sum() / 2, disc.sum() / 2, tied.sum() / 2
    comparable = C_ + D_ + T_
    if comparable == 0:
        raise ValueError("no comparable pairs (no events before tau).")
    c = (C_ + T_ / 2) / comparable
    nu, mu = (C_ + T_ / 2) / n**2, comparable / n**2
    # pair sums through each subject (both members), divided by n: the Hajek projection
    if_nu = (conc + tied / 2) / n - 2 * nu
    if_mu = (conc + disc + tied) / n - 2 * mu
    # the event member's own sums carry its weight G(T_i)^-2 = exp(2 Lambda_C(T_i))
    own_c, own_d, own_t = _counts(out.time, use, r, pair_w, partners=False)
    position = np.where(use, km.own_position(), -1)
    if_nu = if_nu + censoring_influence(km, out.censored, 2 * (own_c + own_t / 2) / n, position)
    if_mu = if_mu + censoring_influence(km, out.censored, 2 * (own_c + own_d + own_t) / n, position)
    influence = (if_nu - c * if_mu) / mu
    return float(c), (float(comparable), float(C_), float(D_), float(T_)), influence
