"""Best L1 fits: Newton on the canonical points where the error changes sign."""

from __future__ import annotations

import gmpy2
import numpy as np

from .base import L1_KKT, NormFit, PreciseKernel, mp_exp, precise, solve, to_f64, to_mpfr
from .norms import zeros
from .sup import move_nodes, node_start


def _segment_moments(w, edges):
    """For each rate and each segment [z_k, z_k+1] (the last to infinity): int t^j e^{-w t}, j = 0, 1, 2."""
    z = list(edges) + [None]
    out = []
    for j in range(3):

        def tail(x):  # int_x^inf t^j e^{-w t}
            if x is None:
                return np.zeros(len(w), dtype=object)
            e = mp_exp(-w * x)
            return {0: e / w, 1: e * (x / w + 1 / w**2), 2: e * (x * x / w + 2 * x / w**2 + 2 / w**3)}[j]

        tails = [tail(x) for x in z]
        out.append(np.stack([tails[k] - tails[k + 1] for k in range(len(edges))]))  # [segment, i]
    return out


def _l1(kernel: PreciseKernel, a, w):
    """(L1 error, its gradient in (a, ln w)) between the residual's zeros found on the search grid:
    grad = -int sign(e) d rho_hat/d theta (the first-order certificate of an L1 fit)."""
    z = [gmpy2.mpfr(v) for v in zeros(kernel, a, w)]
    edges = [gmpy2.mpfr(0)] + z
    tails = kernel.tails([float(v) for v in edges]) + [gmpy2.mpfr(0)]
    M0, M1, _ = _segment_moments(w, edges)
    seg = np.array([tails[k] - tails[k + 1] - M0[k] @ a for k in range(len(edges))], dtype=object)
    sign = np.array([1 if v > 0 else -1 for v in seg], dtype=object)
    return sign @ seg, np.concatenate([-(sign @ M0), a * w * (sign @ M1)])


def _canonical(kernel: PreciseKernel, a, w, z):
    """The L1 first-order conditions when e = rho - rho_hat changes sign exactly at the nodes z (and
    rho_hat interpolates rho there): R_{p,i} = sum_j (-1)^j int_{z_j}^{z_j+1} t^p e^{-w_i t} dt = 0
    (p = 0, 1; z_0 = 0, z_2m+1 = oo), scaled by w_i^(p+1) (so that each is relative to int t^p e^{-w_i t}),
    with its Jacobian in ln z: the limits' explicit part 2 (-1)^(nu-1) z_nu^p e^{-w_i z_nu} and the part
    through the interpolant's rates, dp/dz_nu = e'(z_nu) T^-1 e_nu as in ``sensitivity``.
    Returns (R, Jacobian, T, e'(z))."""
    m = len(w)
    M0, M1, M2 = _segment_moments(w, [gmpy2.mpfr(0)] + list(z))
    alt = to_mpfr((-1.0) ** np.arange(2 * m + 1))
    R = np.concatenate([alt @ M0, alt @ M1])
    dR_dw = -np.concatenate([alt @ M1, alt @ M2])  # each R_{p,i} depends on w_i only
    scale = np.concatenate([w, w * w])
    dscale = np.concatenate([w / w, 2 * w])
    Ez = mp_exp(-np.outer(z, w))  # [nu, i]
    limits = to_mpfr(2 * (-1.0) ** np.arange(2 * m))  # 2 (-1)^(nu-1), nu = 1..2m
    explicit = np.concatenate([(Ez * limits[:, None]).T, (Ez * (limits * z)[:, None]).T])
    T = np.concatenate([Ez, -a[None, :] * z[:, None] * Ez], axis=1)
    slope = kernel.derivatives(z)[1] + Ez @ (a * w)  # e'(z)
    dw = solve(T, np.diag(slope))[m:]  # d w_i / d z_nu
    through = np.concatenate([dw, dw]) * (dR_dw * scale + R * dscale)[:, None]
    return R * scale, (explicit * scale[:, None] + through) * z[None, :], T, slope


def _norm(v) -> float:
    return float(np.sqrt(np.sum(to_f64(v) ** 2)))


def fit_l1(
    kernel: PreciseKernel, m: int, *, start: NormFit, previous: NormFit | None = None, max_iter: int = 60
) -> NormFit:
    """The best L1 fit of width m. Its error changes sign at 2m points z where, for the interpolant
    through rho there, the sign pattern annihilates every tangent direction: the canonical-point
    conditions of ``_canonical``, solved by Newton in ln z (``move_nodes``, ||R|| as merit)
    -- smooth in z, where Newton on (a, ln w) crosses the L1 error's seams as zeros appear and vanish.
    Started from the width m-1 fit's nodes stretched, else from the sign changes of ``start`` (the L2
    fit of width m). Certificate: the first-order residual ``kkt`` of ``_l1`` (zeros found anew
    on the search grid), ``converged`` when it is below L1_KKT."""
    with precise():
        begin = node_start(kernel, m, start, previous)
        if begin is None:
            a, w = (v.copy() for v in start.exact)
            it, z = 0, None
        else:
            a, w, z = begin
            R, J, T, slope = _canonical(kernel, a, w, z)

            def evaluate(a, w, z):
                out = _canonical(kernel, a, w, z)
                return _norm(out[0]), out

            lam = 0.0
            for it in range(max_iter + 1):
                if _norm(R) < 1e-30 or it == max_iter:
                    break
                JJ = J.T @ J
                try:  # Newton, Levenberg-Marquardt damped where it failed: J is near singular far out
                    step = to_f64(solve(JJ + gmpy2.mpfr(lam) * np.diag(np.diag(JJ)), -(J.T @ R)))
                except ZeroDivisionError:
                    step = None
                moved = None if step is None else move_nodes(kernel, a, w, z, step, T, slope, evaluate, _norm(R))
                if moved is None:
                    lam = max(10 * lam, 1e-6)
                    if lam > 1e6:
                        break
                    continue
                lam = lam / 10 if lam > 1e-9 else 0.0
                a, w, z, (_, (R, J, T, slope)) = moved
        L1, g = _l1(kernel, a, w)
        order = np.argsort(to_f64(w))
        scale = to_f64(np.concatenate([1 / w, np.abs(a) / w]))  # int |d e/d theta_k| dt
        kkt = float(np.max(np.abs(to_f64(g)) / np.maximum(scale, 1e-300)))
        certificate = {"iterations": it, "kkt": kkt, "converged": kkt < L1_KKT}
        if z is not None:
            certificate["nodes"] = to_f64(z).tolist()
        fit = NormFit(
            "l1",
            m,
            to_f64(a)[order].tolist(),
            to_f64(w)[order].tolist(),
            float(L1),
            True,
            certificate,
            (a[order], w[order]),
        )
    if previous is not None and fit.error > previous.error:
        return previous.widened(m, 1.0, dict(previous.certificate))
    return fit
