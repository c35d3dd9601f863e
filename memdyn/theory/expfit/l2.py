"""Best L2 fits by variable projection: the amplitudes solve the Gram system, the rates minimise ln J."""

from __future__ import annotations

import math

import gmpy2
import numpy as np

from .base import (
    MAX_RATE,
    MIN_RATE,
    QUADRATURE_ERROR,
    NormFit,
    PreciseKernel,
    PrecisionLost,
    mp_exp,
    precise,
    solve,
    to_f64,
    to_mpfr,
)


def _l2(kernel: PreciseKernel, w: np.ndarray, *, order: int = 1):
    """(J, a, gradient, Hessian) of J in x = ln w at rates w (float64), the amplitudes solved exactly
    for those rates (variable projection); gradient and Hessian only up to ``order``.

    With F(a, w) = ||rho||^2 - 2 a.b + a.G a, beta_i = int t rho e^{-w_i t}, gamma_i = int t^2 rho e^{-w_i t}:
    dJ/dw_i = 2 a_i (beta_i - sum_l a_l/(w_i+w_l)^2), and the reduced Hessian F_ww - F_wa (2G)^-1 F_aw.
    """
    t, q, r = kernel.nodes
    with precise():
        wm = to_mpfr(w)
        E = mp_exp(-np.outer(wm, t))
        qr = q * r
        b = E @ qr
        s = np.add.outer(wm, wm)
        G = 1 / s
        a = solve(G, b)
        J = kernel.norm2 - b @ a
        if J < QUADRATURE_ERROR * (np.abs(a) @ np.abs(b)) * 1e3:
            raise PrecisionLost(
                f"J = {float(J):.3g} has fewer than 3 digits left (amplitudes up to "
                f"{float(max(abs(v) for v in a)):.3g})"
            )
        if order == 0:
            return J, a, None, None
        beta = E @ (qr * t)
        S2 = (G * G) @ a
        gw = 2 * a * (beta - S2)
        if order == 1:
            return J, a, gw * wm, None
        gamma = E @ (qr * t * t)
        G3 = G * G * G
        Fww = 4 * np.outer(a, a) * G3
        diag = -2 * a * gamma + 4 * a * (G3 @ a) + 4 * a * a / (8 * wm**3)
        Fww[np.diag_indices(len(w))] = diag
        Faw = -2 * a[None, :] * (G * G)  # [k, i] = -2 a_i/(w_k+w_i)^2
        Faw[np.diag_indices(len(w))] += 2 * (beta - S2)
        X = np.stack([solve(G, Faw[:, i]) for i in range(len(w))], axis=1)
        H = Fww - Faw.T @ X / 2
        H = wm[:, None] * H * wm[None, :]
        H[np.diag_indices(len(w))] += gw * wm
        return J, a, gw * wm, H


def _candidates(prev_w: np.ndarray, lo: float) -> list[np.ndarray]:
    """Width-m starts from the width m-1 rates: one rate added below, above, or in the widest gap."""
    w = np.sort(prev_w)
    out = [np.append(w, max(w[0] / 4, lo)), np.append(w, w[-1] * 4)]
    if len(w) > 1:
        k = int(np.argmax(np.diff(np.log(w))))
        out.append(np.append(w, math.sqrt(w[k] * w[k + 1])))
    return out


def _newton(kernel: PreciseKernel, x: np.ndarray, lo: float, *, max_iter: int = 200):
    """Minimise J over x = ln w (x >= ln lo): Newton on the exact reduced Hessian, Levenberg-Marquardt
    damped (lambda |diag H|) whenever a step does not lower J."""
    x = np.maximum(x, math.log(lo))
    J, a, g, H = _l2(kernel, np.exp(x), order=2)
    lam, it = 1e-6, 0
    for it in range(1, max_iter + 1):  # noqa: B007  (read after the loop)
        with precise():
            D = np.diag(np.abs(np.diag(H)))
            try:
                step = to_f64(solve(H + gmpy2.mpfr(lam) * D, -g))
            except ZeroDivisionError:
                step = np.full_like(x, np.nan)
        if not np.all(np.isfinite(step)):
            lam *= 10
            continue
        x_new = np.clip(x + step, math.log(lo), math.log(MAX_RATE))
        try:
            J_new, a_new, g_new, H_new = _l2(kernel, np.exp(x_new), order=2)
        except (ZeroDivisionError, PrecisionLost):  # rates met: the Cauchy system is singular or cancels
            J_new = None
        if J_new is not None and J_new <= J:
            done = float((J - J_new) / J) < 1e-14 or np.max(np.abs(x_new - x)) < 1e-12
            x, J, a, g, H = x_new, J_new, a_new, g_new, H_new
            lam = max(lam / 10, 1e-15)
            if done:
                break
        else:
            lam = max(lam, 1e-8) * 10
            if lam > 1e10:
                break
    return x, J, a, it


def fit_l2(kernel: PreciseKernel, m: int, *, previous: NormFit | None = None, min_rate: float | None = None) -> NormFit:
    """The best L2 fit of width m (rates >= min_rate when given)."""
    lo = MIN_RATE if min_rate is None else min_rate
    if previous is None:
        starts = [np.geomspace(max(0.5, lo), max(0.5, lo) * 4 ** (m - 1), m)]
    else:
        starts = _candidates(np.asarray(previous.w), lo)
    starts = [np.maximum(s, lo) for s in starts if len(set(np.maximum(s, lo))) == m]

    # Newton from the start with the lowest J only: running all three triples the cost, and on
    # (1+t)^-1.5 the other starts never ended lower
    def start_value(s):
        try:
            return float(_l2(kernel, s, order=0)[0])
        except (ZeroDivisionError, PrecisionLost):
            return math.inf

    values = [start_value(s) for s in starts] or [math.inf]  # no start with m distinct rates: none
    x = None
    if math.isfinite(min(values)):
        best = starts[int(np.argmin(values))]
        try:
            x, J, a, iterations = _newton(kernel, np.log(best), lo)
        except PrecisionLost:
            x = None
    if x is None:
        if previous is None:
            raise PrecisionLost(f"no width-{m} start keeps J to 3 digits")
        return previous.widened(m, max(lo, 1.0), {"iterations": 0, "precision_lost": True})
    w = np.exp(x)
    error = math.sqrt(max(float(J), 0.0))
    order = np.argsort(w)
    if previous is not None and previous.norm == "l2" and error > previous.error:
        return previous.widened(m, max(lo, 1.0), {"iterations": iterations})
    return NormFit(
        "l2",
        m,
        to_f64(a)[order].tolist(),
        w[order].tolist(),
        error,
        True,
        {"iterations": iterations},
        (a[order], to_mpfr(w[order])),
    )
