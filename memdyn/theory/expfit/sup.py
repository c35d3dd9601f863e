"""Best uniform (sup-norm) fits: the error's 2m zeros as the variables (Hackbusch), extrema equalised."""

from __future__ import annotations

import math

import gmpy2
import numpy as np
from scipy import optimize

from .base import REMEZ_TOL, NormFit, PreciseKernel, mp_exp, precise, residual, solve, to_f64, to_mpfr

GRID = 4000


def search_grid(kernel: PreciseKernel, level: float) -> np.ndarray:
    """Times t (float64): 0, then geometric from 1e-6 up to where |rho| has fallen below level/1000
    (alternation points crowd towards t = 0 as m grows: a geometric grid keeps them resolved)."""
    scale = max(1e-300, level) / 1000
    t_last = 1.0
    while t_last < kernel.t_end and abs(float(kernel.rho(t_last)[0])) > scale:
        t_last *= 2
    return np.concatenate([[0.0], np.geomspace(1e-6, t_last, GRID - 1)])


def _start_nodes(kernel: PreciseKernel, a, w, m: int) -> np.ndarray | None:
    """2m nodes where rho - rho_hat changes sign (brentq-refined), from the 2m+1 largest sign runs of
    the error on the search grid (end runs dropped first), or None with fewer than 2m sign changes."""
    t = search_grid(kernel, 1e-16)
    e = to_f64(residual(kernel, a, w, t))
    change = np.nonzero(np.sign(e[:-1]) * np.sign(e[1:]) < 0)[0]
    if len(change) < 2 * m:
        return None
    bounds = np.concatenate([[0], change + 1, [len(e)]])
    peaks = [float(np.max(np.abs(e[lo:hi]))) for lo, hi in zip(bounds[:-1], bounds[1:])]
    first, last = 0, len(peaks) - 1
    while last - first > 2 * m:
        if peaks[first] < peaks[last]:
            first += 1
        else:
            last -= 1

    def f(x):
        return float(residual(kernel, a, w, [x])[0])

    nodes = [optimize.brentq(f, t[k], t[k + 1], xtol=1e-14, rtol=1e-15) for k in change[first:last]]
    return to_mpfr(np.array(nodes))


def _interpolate(kernel: PreciseKernel, a, w, xi, *, max_iter: int = 60):
    """(a, w) of the exponential sum through rho at the 2m nodes xi: Newton in (a, ln w) from (a, w),
    ln w steps capped at 1 and halved until the largest relative residual falls. None on failure."""
    m = len(a)
    rho = kernel.rho(xi)

    def residual_at(a, w):
        E = mp_exp(-np.outer(xi, w))
        F = rho - E @ a
        return F, E, float(np.max(np.abs(to_f64(F / rho))))

    F, E, size = residual_at(a, w)
    for _ in range(max_iter):
        if size < 1e-50:
            return a, w
        J = np.concatenate([E, -(a * w)[None, :] * xi[:, None] * E], axis=1)  # d(sum)/d(a, ln w)
        try:
            step = solve(J, F)
        except ZeroDivisionError:
            return None
        big = float(np.max(np.abs(to_f64(step[m:]))))
        if not math.isfinite(big):
            return None
        if big > 1:
            step = step / gmpy2.mpfr(big)
        for damp in (1, 2, 4, 8, 16, 32):
            a2, w2 = a + step[:m] / damp, w * mp_exp(step[m:] / damp)
            F2, E2, size2 = residual_at(a2, w2)
            if size2 < size:
                a, w, F, E, size = a2, w2, F2, E2, size2
                break
        else:
            return None
    return (a, w) if size < 1e-40 else None


def _extrema(kernel: PreciseKernel, a, w, xi, guess):
    """The extremum of e = rho - rho_hat on each of [0, xi_1], [xi_1, xi_2], ..., [xi_2m, inf): Newton
    on t e'(t) = 0 in u = ln t, kept inside each bracket by bisection, from ``guess`` where it lies
    inside. The first is t = 0 itself when e moves towards zero from there. Returns (y, e(y))."""
    n = len(xi) + 1
    ln_xi = np.array([gmpy2.log(x) for x in xi], dtype=object)
    lo = np.concatenate([[ln_xi[0] - 40], ln_xi])  # brackets in u
    hi = np.concatenate([ln_xi, [ln_xi[-1] + 40]])
    u = (lo + hi) / 2
    for j, g in enumerate(guess if guess is not None else []):
        if g is not None and g > 0 and lo[j] < gmpy2.log(g) < hi[j]:
            u[j] = gmpy2.log(g)
    e0 = kernel.derivatives(to_mpfr(np.array([0.0])))
    endpoint = False
    if all(gmpy2.is_finite(v) for v in e0[:2, 0]):
        value0 = e0[0, 0] - np.sum(a)
        slope0 = e0[1, 0] + (a * w) @ np.ones(len(w), dtype=object)
        endpoint = bool(value0 * slope0 <= 0)  # |e| falls from t = 0: the first extremum is the endpoint
    live = np.ones(n, dtype=bool)
    if endpoint:
        live[0] = False
    for _ in range(100):
        idx = np.nonzero(live)[0]
        if len(idx) == 0:
            break
        t = mp_exp(u[idx])
        r = kernel.derivatives(t)
        ex = mp_exp(-np.outer(t, w))
        e = r[0] - ex @ a
        e1 = r[1] + ex @ (a * w)
        e2 = r[2] - ex @ (a * w * w)
        sign = np.array([1 if v > 0 else -1 for v in e], dtype=object)
        g = sign * t * e1  # > 0 left of the maximum of |e|
        gp = sign * (t * e1 + t * t * e2)
        for k, j in enumerate(idx):
            if g[k] > 0:
                lo[j] = u[j]
            else:
                hi[j] = u[j]
            new = u[j] - g[k] / gp[k] if gp[k] < 0 else None
            if new is None or not lo[j] < new < hi[j]:
                new = (lo[j] + hi[j]) / 2
            if abs(new - u[j]) < 1e-13 or hi[j] - lo[j] < 1e-13:
                live[j] = False
            u[j] = new
    y = mp_exp(u)
    if endpoint:
        y[0] = gmpy2.mpfr(0)
    return y, kernel.rho(y) - mp_exp(-np.outer(y, w)) @ a


def sensitivity(kernel: PreciseKernel, a, w, xi, y):
    """D_{j nu} = dM_j/d ln xi_nu, the extrema's response to the nodes, with T (the sum's Jacobian in
    (a, w) at the nodes) and e'(xi). Moving node nu changes the interpolant's parameters by
    dp = e'(xi_nu) T^-1 e_nu (differentiate sum(xi_mu; p) = rho(xi_mu)), so the extremum values change
    by -B dp, B the sum's Jacobian at the extrema; their locations' motion drops out (e' = 0 there)."""
    Ex = mp_exp(-np.outer(xi, w))
    Ey = mp_exp(-np.outer(y, w))
    T = np.concatenate([Ex, -a[None, :] * xi[:, None] * Ex], axis=1)
    B = np.concatenate([Ey, -a[None, :] * y[:, None] * Ey], axis=1)
    L = solve(T.T.copy(), B.T.copy()).T  # B T^-1, [j, nu]
    slope = kernel.derivatives(xi)[1] + Ex @ (a * w)  # e'(xi)
    return -L * (slope * xi)[None, :], T, slope


MAX_NODE_STEP = 1.0
"""Largest move of a node in one step, in ln t (far from the solution Newton's steps can be far longer)."""


def move_nodes(kernel: PreciseKernel, a, w, xi, step, T, slope, evaluate, merit: float):
    """Move the nodes by ``step`` in ln xi (shortened to MAX_NODE_STEP), halved (up to 512x) until
    they stay ordered and ``evaluate(a, w, xi)``'s first entry falls below ``merit``; each move
    re-interpolates from the first-order change of (a, w), dp = T^-1 (e'(xi) xi step).
    Returns (a, w, xi, evaluation) or None."""
    m = len(a)
    step = step / max(1.0, float(np.max(np.abs(step))) / MAX_NODE_STEP)
    dp = solve(T, slope * xi * to_mpfr(step))
    ln_xi = np.log(to_f64(xi))
    for damp in 2.0 ** np.arange(10):
        d = step / damp
        if np.any(np.diff(ln_xi + d) <= 0):
            continue
        xi2 = xi * mp_exp(to_mpfr(d))
        w0 = w + dp[m:] / damp
        out = _interpolate(kernel, a + dp[:m] / damp, w0, xi2) if np.all(to_f64(w0) > 0) else None
        out = out or _interpolate(kernel, a, w, xi2)
        if out is None:
            continue
        value = evaluate(*out, xi2)
        if value[0] < merit:
            return (*out, xi2, value)
    return None


def _spread(M) -> float:
    size = np.abs(to_f64(M))
    return float(size.max() / size.min() - 1)


def _equalise(kernel: PreciseKernel, a, w, xi, *, max_iter: int = 60):
    """Best uniform fit from nodes xi (Hackbusch's independent variables, Comput. Vis. Sci. 20, 2019):
    the sum interpolating rho at the 2m nodes has one extremum M_j of its error between consecutive
    nodes (and at each end); Newton (``sensitivity``) moves ln xi until the 2m+1 |M_j| are
    equal, by ``move_nodes`` with the spread max|M|/min|M| - 1 as its merit.
    Returns (a, w, xi, y, M, iterations, spread)."""
    n = len(xi) + 1
    y, M = _extrema(kernel, a, w, xi, None)
    for it in range(max_iter + 1):  # it: the steps taken
        if _spread(M) < REMEZ_TOL or it == max_iter:
            break
        D, T, slope = sensitivity(kernel, a, w, xi, y)
        s = to_mpfr(np.sign(to_f64(M)))
        A = np.concatenate([s[:, None] * D, to_mpfr(-np.ones((n, 1)))], axis=1)
        step = to_f64(solve(A, -s * M)[:-1])  # s_j (M_j + D_j . d) = c

        def evaluate(a, w, xi, guess=y):
            y2, M2 = _extrema(kernel, a, w, xi, guess)
            return _spread(M2), y2, M2

        moved = move_nodes(kernel, a, w, xi, step, T, slope, evaluate, _spread(M))
        if moved is None:
            break
        a, w, xi, (_, y, M) = moved
    return a, w, xi, y, M, it, _spread(M)


def _stretch(values: np.ndarray, n: int) -> np.ndarray:
    """Resample a sorted sequence to n entries as a function of the index fraction (i + 1/2)/len,
    extrapolating linearly at both ends."""
    k = len(values)
    old, new = (np.arange(k) + 0.5) / k, (np.arange(n) + 0.5) / n
    if k == 1:
        return np.full(n, values[0])
    out = np.interp(new, old, values)
    lo, hi = new < old[0], new > old[-1]
    out[lo] = values[0] + (new[lo] - old[0]) * (values[1] - values[0]) / (old[1] - old[0])
    out[hi] = values[-1] + (new[hi] - old[-1]) * (values[-1] - values[-2]) / (old[-1] - old[-2])
    return out


def _predicted_start(kernel: PreciseKernel, previous: NormFit, m: int):
    """Nodes and an interpolating sum of width m from the width m-1 best uniform fit: its nodes and
    rates stretched by index fraction in logarithms, its amplitudes likewise (sharing the mass among
    m terms), then interpolated. None when that interpolation fails."""
    xi = to_mpfr(np.exp(_stretch(np.log(previous.certificate["nodes"]), 2 * m)))
    w = to_mpfr(np.exp(_stretch(np.log(previous.w), m)))
    a_prev = np.asarray(previous.a)
    a = np.exp(_stretch(np.log(a_prev), m)) if np.all(a_prev > 0) else _stretch(a_prev, m)
    out = _interpolate(kernel, to_mpfr(a * (m - 1) / m), w, xi)
    return None if out is None else (*out, xi)


def node_start(kernel: PreciseKernel, m: int, start: NormFit, previous: NormFit | None):
    """(a, w, nodes) of an interpolant to start the sup and L1 iterations from: the width m-1 fit's
    nodes stretched (``_predicted_start``) when it has them and that works, else the sign changes
    of ``start`` (a fit of width m) with the sum through rho there. None when neither exists."""
    if previous is not None and "nodes" in previous.certificate and previous.m == m - 1:
        begin = _predicted_start(kernel, previous, m)
        if begin is not None:
            return begin
    a, w = (v.copy() for v in start.exact)
    xi = _start_nodes(kernel, a, w, m)
    out = None if xi is None else _interpolate(kernel, a, w, xi)
    return None if out is None else (*out, xi)


def fit_sup(kernel: PreciseKernel, m: int, *, start: NormFit, previous: NormFit | None = None) -> NormFit | None:
    """The best uniform fit of width m, by ``_equalise`` from the sign changes of ``start``'s error
    (a fit of the same width: the sum interpolating rho there is ``start`` itself). None when the start
    lacks 2m sign changes or its interpolation fails. Certificate: the 2m+1 alternation points, the
    errors there, de la Vallee Poussin's lower bound min_j |e(y_j)| <= E*, and ``converged`` when the
    |e(y_j)| agree to REMEZ_TOL and no point of the search grid exceeds their largest."""
    with precise():
        begin = node_start(kernel, m, start, previous)
        if begin is None:
            return None
        a, w, xi, y, M, iterations, spread = _equalise(kernel, *begin)
        order = np.argsort(to_f64(w))
        e_ref = to_f64(M)
        grid = float(np.max(np.abs(to_f64(residual(kernel, a, w, search_grid(kernel, float(np.min(np.abs(e_ref)))))))))
        upper = max(grid, float(np.max(np.abs(e_ref))))
        lower = float(np.min(np.abs(e_ref)))
        alternates = bool(np.all(np.sign(e_ref[1:]) == -np.sign(e_ref[:-1])))
        converged = alternates and spread < REMEZ_TOL and (upper - lower) / lower < 10 * REMEZ_TOL
        return NormFit(
            "sup",
            m,
            to_f64(a)[order].tolist(),
            to_f64(w)[order].tolist(),
            upper,
            True,
            {
                "alternation": to_f64(y).tolist(),
                "alternation_error": e_ref.tolist(),
                "alternates": alternates,
                "lower_bound": lower,
                "iterations": iterations,
                "nodes": to_f64(xi).tolist(),
                "converged": converged,
            },
            (a[order], w[order]),
        )
