"""Compiled coordinate descent for a penalised weighted least-squares problem.

Each outer (IRLS) step of the elastic-net Cox path replaces the partial
likelihood by its quadratic approximation in the linear predictor eta,

    -sum_i g_i (eta_i - eta0_i) + 1/2 sum_i W_i (eta_i - eta0_i)^2,

with g the gradient and W a diagonal of the Hessian in eta (both from one
O(n) risk-set scan, see ``elastic_net.py``). Minimising that plus the
elastic-net penalty over one coefficient at a time has a closed form (soft
thresholding), and each update costs O(n) because only the working residual
``resid_i = g_i - W_i (eta_i - eta0_i)`` and eta move, in the same loop.

The design is held transposed (``Xt[j]`` is column j, contiguous), so every
coordinate reads one contiguous row of memory; columns go four at a time
(``_sweep``), since four memory streams at once run about twice as fast as one,
and a block's update of the residual shares its pass with the next block's
inner products.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def death_weights(w, dead, grp_ptr):
    """The weight of each tied-death group's deaths (0 for a group without deaths)."""
    return np.add.reduceat(w * dead, grp_ptr[:-1])


@njit(cache=True)
def death_weight_squares(h, w, dead, grp_ptr):
    """Per tied-death group, h_g^2 / dw_g (dw_g the weight of its deaths; 0 without
    deaths): the group's Breslow term of the Hessian diagonal in eta."""
    m = h.shape[0]
    out = np.zeros(m)
    for g in range(m):
        dw = 0.0
        for i in range(grp_ptr[g], grp_ptr[g + 1]):
            if dead[i]:
                dw += w[i]
        if dw > 0.0:
            out[g] = h[g] * h[g] / dw
    return out


@njit(cache=True)
def working_derivatives(h, e, w, dead, risk, grp_ptr, entry_grp, strat_gptr, counting, dw,
                        extra_c, extra_q, scale, grad, hess):  # fmt: skip
    """Gradient w (d - r c) and Hessian diagonal w r c - (w r)^2 q in eta (clipped at
    0), both times ``scale``, written into ``grad`` and ``hess`` (length n: the
    caller's arrays, reused from step to step, since allocating fresh ones here
    page-faulted for longer than the pass itself takes at n = 1e5), with the
    exposures c (``kernels.exposure`` of h, e) and
    q (of the groups' h^2 / dw, no Efron share) formed row by row in the same pass;
    ``extra_c``/``extra_q`` (length n, or empty) are added to c and q (a risk-set
    extension's rows). ``dw``: the weight of each group's deaths (``death_weights``).
    Rows go group by group (they are contiguous): without late entry (not
    ``counting``) every row of a group has the same exposure, so the inner loop
    reads no index."""
    m = h.shape[0]
    tail = np.zeros(m + 1)
    tail2 = np.zeros(m + 1)
    for s in range(strat_gptr.shape[0] - 1):
        acc = 0.0
        acc2 = 0.0
        for g in range(strat_gptr[s + 1] - 1, strat_gptr[s] - 1, -1):
            acc += h[g]
            if dw[g] > 0.0:
                acc2 += h[g] * h[g] / dw[g]
            tail[g] = acc
            tail2[g] = acc2
    extra = extra_c.shape[0] > 0
    for g in range(m):
        cg = tail[g]
        qg = tail2[g]
        eg = e[g]
        for i in range(grp_ptr[g], grp_ptr[g + 1]):
            c = cg
            q = qg
            if counting:
                c -= tail[entry_grp[i]]
                q -= tail2[entry_grp[i]]
            c -= eg * dead[i]  # no branch on the status (see kernels.risk_set_scan)
            if extra:
                c += extra_c[i]
                q += extra_q[i]
            wr = w[i] * risk[i]
            grad[i] = (w[i] * dead[i] - wr * c) * scale
            hess[i] = max(wr * c - wr * wr * q, 0.0) * scale


@njit(cache=True, fastmath=True)
def _dot(Xt, j, v):
    """Column j of the design times v. fastmath lets LLVM vectorise the sum (it
    reorders the additions; the order is fixed, so results stay reproducible)."""
    acc = 0.0
    for i in range(v.shape[0]):
        acc += Xt[j, i] * v[i]
    return acc


@njit(cache=True, fastmath=True)
def column_gradient(Xt, g, cols, out):
    """out[j] = Xt[j] . g for j in ``cols``, four columns per read of ``g`` (twice
    the speed of one at a time: the loop is bound by memory traffic, not arithmetic).
    Single-threaded on purpose, as a threaded BLAS gemv stalls when other
    processes hold the cores."""
    n = g.shape[0]
    K = cols.shape[0]
    k = 0
    while k + 4 <= K:
        j0, j1, j2, j3 = cols[k], cols[k + 1], cols[k + 2], cols[k + 3]
        a0 = a1 = a2 = a3 = 0.0
        for i in range(n):
            gi = g[i]
            a0 += Xt[j0, i] * gi
            a1 += Xt[j1, i] * gi
            a2 += Xt[j2, i] * gi
            a3 += Xt[j3, i] * gi
        out[j0] = a0
        out[j1] = a1
        out[j2] = a2
        out[j3] = a3
        k += 4
    while k < K:
        j = cols[k]
        out[j] = _dot(Xt, j, g)
        k += 1


@njit(cache=True, fastmath=True)
def _dot_and_square(Xt, j, v, W):
    """(column j . v, sum_i W_i x_ij^2) in one read of the column."""
    acc = 0.0
    sq = 0.0
    for i in range(v.shape[0]):
        x = Xt[j, i]
        acc += x * v[i]
        sq += W[i] * x * x
    return acc, sq


@njit(cache=True)
def _step(Xt, W, resid, beta, xv, j, u, l1, l2, eta):
    """Soft-thresholded minimiser of coordinate j given u = x_j'resid + xv_j beta_j;
    moves ``eta`` and ``resid`` by the change."""
    a = abs(u) - l1
    new = 0.0
    if a > 0.0:
        new = (a if u > 0.0 else -a) / (xv[j] + l2)
    d = new - beta[j]
    if d != 0.0:
        beta[j] = new
        for i in range(Xt.shape[1]):
            v = Xt[j, i] * d
            eta[i] += v
            resid[i] -= W[i] * v
    return d


@njit(cache=True, fastmath=True)
def _block_moments(Xt, j0, j1, j2, j3, resid, W, fresh, u, G, moving, o, d, eta):
    """For four columns in one read of each (four streams at once run about twice
    as fast as one): u_a = x_a . resid and the W-weighted cross-products
    G[a, b] = sum_i W_i x_ai x_bi (a < b), with the diagonal only when ``fresh``.

    With ``moving``, the previous block (columns ``o``) moves by ``d`` in the same
    pass: each row's residual (and eta) is moved first, then read by this
    block's sums, so they see exactly the residual a separate update pass would
    leave, and ``resid`` and ``W`` are read once for both blocks."""
    n = resid.shape[0]
    o0, o1, o2, o3 = o[0], o[1], o[2], o[3]
    d0, d1, d2, d3 = d[0], d[1], d[2], d[3]
    u0 = u1 = u2 = u3 = 0.0
    g01 = g02 = g03 = g12 = g13 = g23 = 0.0
    g00 = g11 = g22 = g33 = 0.0
    for i in range(n):
        r = resid[i]
        w = W[i]
        if moving:  # loop-invariant, as ``fresh``: the compiler splits the loop
            v = Xt[o0, i] * d0 + Xt[o1, i] * d1 + Xt[o2, i] * d2 + Xt[o3, i] * d3
            eta[i] += v
            r -= w * v
            resid[i] = r
        x0, x1, x2, x3 = Xt[j0, i], Xt[j1, i], Xt[j2, i], Xt[j3, i]
        u0 += x0 * r
        u1 += x1 * r
        u2 += x2 * r
        u3 += x3 * r
        wx0, wx1, wx2 = w * x0, w * x1, w * x2
        g01 += wx0 * x1
        g02 += wx0 * x2
        g03 += wx0 * x3
        g12 += wx1 * x2
        g13 += wx1 * x3
        g23 += wx2 * x3
        if fresh:  # loop-invariant: the compiler makes two loops of this one
            g00 += wx0 * x0
            g11 += wx1 * x1
            g22 += wx2 * x2
            g33 += w * x3 * x3
    u[0], u[1], u[2], u[3] = u0, u1, u2, u3
    G[0, 0], G[1, 1], G[2, 2], G[3, 3] = g00, g11, g22, g33
    G[0, 1], G[0, 2], G[0, 3] = g01, g02, g03
    G[1, 2], G[1, 3], G[2, 3] = g12, g13, g23


@njit(cache=True, fastmath=True)
def _block_update(Xt, j0, j1, j2, j3, d, resid, W, eta):
    """For a block of four columns, in one pass: v = sum_a d_a x_a, eta += v and
    resid -= W v (the last block of a sweep; the others move in the next
    block's ``_block_moments``)."""
    d0, d1, d2, d3 = d[0], d[1], d[2], d[3]
    for i in range(resid.shape[0]):
        v = Xt[j0, i] * d0 + Xt[j1, i] * d1 + Xt[j2, i] * d2 + Xt[j3, i] * d3
        eta[i] += v
        resid[i] -= W[i] * v


@njit(cache=True)
def _soft_update(beta, xv, j, u, l1, l2):
    """Coordinate j's soft-thresholded minimiser given u = x_j'resid + xv_j beta_j;
    returns the change (``beta`` updated, ``resid`` not)."""
    a = abs(u) - l1
    new = 0.0
    if a > 0.0:
        new = (a if u > 0.0 else -a) / (xv[j] + l2)
    d = new - beta[j]
    beta[j] = new
    return d


@njit(cache=True)
def _sweep(Xt, W, resid, beta, xv, idx, count, l1, l2, fresh, nonzero, eta):
    """One Gauss-Seidel pass over ``idx[:count]``; returns (largest xv_j change^2,
    number of non-zero coefficients written to ``nonzero``). Columns go four at a
    time: their inner products with ``resid`` and their cross-products come from
    one read (``_block_moments``), and each coordinate's inner product is then
    corrected for the block's earlier updates, u_b - sum_a G[a, b] d_a, which is
    exactly the value a one-at-a-time pass would read; ``resid`` and ``eta`` move
    once per block, in the same pass as the next block's reads
    (``_block_moments`` with ``moving``). With ``fresh`` the curvatures xv_j are
    (re)computed on the way."""
    dlx = 0.0
    n_nz = 0
    u = np.zeros(4)
    G = np.zeros((4, 4))
    d = np.zeros(4)
    pending = np.zeros(4)  # the changes of the last block, not yet applied
    prev = np.zeros(4, dtype=np.int64)  # ... and its columns
    has_pending = False
    k = 0
    while k + 4 <= count:
        j0, j1, j2, j3 = idx[k], idx[k + 1], idx[k + 2], idx[k + 3]
        _block_moments(Xt, j0, j1, j2, j3, resid, W, fresh, u, G, has_pending, prev, pending, eta)
        moved = False
        for a in range(4):
            j = idx[k + a]
            if fresh:
                xv[j] = G[a, a]
            ua = u[a]
            for b in range(a):
                ua -= G[b, a] * d[b]
            d[a] = _soft_update(beta, xv, j, ua + xv[j] * beta[j], l1[j], l2[j])
            if d[a] != 0.0:
                moved = True
            ch = xv[j] * d[a] * d[a]
            if ch > dlx:
                dlx = ch
            if beta[j] != 0.0:
                nonzero[n_nz] = j
                n_nz += 1
        has_pending = moved
        if moved:
            prev[:] = idx[k : k + 4]
            pending[:] = d
        k += 4
    if has_pending:
        _block_update(Xt, prev[0], prev[1], prev[2], prev[3], pending, resid, W, eta)
    while k < count:
        j = idx[k]
        if fresh:
            ua, xv[j] = _dot_and_square(Xt, j, resid, W)
        else:
            ua = _dot(Xt, j, resid)
        dj = _step(Xt, W, resid, beta, xv, j, ua + xv[j] * beta[j], l1[j], l2[j], eta)
        ch = xv[j] * dj * dj
        if ch > dlx:
            dlx = ch
        if beta[j] != 0.0:
            nonzero[n_nz] = j
            n_nz += 1
        k += 1
    return dlx, n_nz


@njit(cache=True)
def solve_quadratic(Xt, W, resid, beta, xv, cols, l1, l2, tol, max_passes, eta):
    """Cyclic coordinate descent over ``cols`` until no update moves the
    quadratic objective by more than ``tol`` (``xv_j * change^2``, glmnet's rule).

    ``l1[j]``/``l2[j]`` are the per-coordinate lasso and ridge weights
    (lambda * alpha * penalty_factor and lambda * (1 - alpha) * penalty_factor).
    The curvatures ``xv_j = sum_i W_i x_ij^2`` are computed during the first pass,
    in the same read of each column as its first inner product. As glmnet, a
    full pass over ``cols`` is followed by passes over the coordinates that are
    non-zero until they settle; the solve ends when no update of a full sweep of
    ``cols`` moves by more than ``tol``. glmnet confirms with one more full
    pass; here the last settled pass over the non-zero coordinates counts for
    those, so the confirmation sweeps only the others (nothing when every
    coordinate is non-zero, as in the dense end of a path) -- the same check
    for one pass fewer. The linear predictor ``eta`` and the working residual
    ``resid`` move with every update, in the same pass over the columns.
    Returns (passes used, largest ``xv_j * change^2`` of the full passes).
    """
    passes = 0
    biggest = 0.0
    nonzero = np.empty(cols.shape[0], dtype=np.int64)
    active = np.empty(cols.shape[0], dtype=np.int64)
    rest = np.empty(cols.shape[0], dtype=np.int64)
    in_active = np.zeros(Xt.shape[0], dtype=np.bool_)
    while passes < max_passes:
        passes += 1
        dlx, n_nz = _sweep(
            Xt, W, resid, beta, xv, cols, cols.shape[0], l1, l2, passes == 1, nonzero, eta
        )
        if dlx > biggest:
            biggest = dlx
        if dlx < tol:
            break
        active[:n_nz] = nonzero[:n_nz]
        while passes < max_passes:
            passes += 1
            dlx, _ = _sweep(Xt, W, resid, beta, xv, active, n_nz, l1, l2, False, nonzero, eta)
            if dlx < tol:
                break
        if dlx >= tol:
            break  # out of passes
        # confirm on the coordinates the settled passes did not sweep
        for k in range(n_nz):
            in_active[active[k]] = True
        n_rest = 0
        for k in range(cols.shape[0]):
            if not in_active[cols[k]]:
                rest[n_rest] = cols[k]
                n_rest += 1
        for k in range(n_nz):
            in_active[active[k]] = False
        if n_rest == 0:
            break
        passes += 1
        dlx, _ = _sweep(Xt, W, resid, beta, xv, rest, n_rest, l1, l2, False, nonzero, eta)
        if dlx > biggest:
            biggest = dlx
        if dlx < tol:
            break
    return passes, biggest
