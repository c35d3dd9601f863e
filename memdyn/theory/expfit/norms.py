"""The error of a fit in every norm (L2, L1, sup), in extended precision."""

from __future__ import annotations

import math

import gmpy2
import numpy as np
from scipy import optimize

from .base import NormFit, PreciseKernel, mp_exp, precise, residual, to_f64
from .sup import search_grid


def l2_error(kernel: PreciseKernel, a, w) -> float | None:
    """||rho - rho_hat||_L2 from ||rho||^2 - 2 a.b + a.G a in extended precision (None if infinite)."""
    if not kernel.finite("l2"):
        return None
    t, q, r = kernel.nodes
    with precise():
        b = mp_exp(-np.outer(w, t)) @ (q * r)
        J = kernel.norm2 - 2 * (a @ b) + a @ ((1 / np.add.outer(w, w)) @ a)
    return math.sqrt(max(float(J), 0.0))


def sup_error(kernel: PreciseKernel, a, w) -> float:
    """max_t |rho - rho_hat| on the search grid (uniform in ln(1+t), to where |rho| is negligible)."""
    with precise():
        t = search_grid(kernel, 1e-16)
        return float(np.max(np.abs(to_f64(residual(kernel, a, w, t)))))


def zeros(kernel: PreciseKernel, a, w) -> list[float]:
    """The sign changes of rho - rho_hat on the search grid, refined by brentq."""
    with precise():
        t = search_grid(kernel, 1e-16)
        e = to_f64(residual(kernel, a, w, t))

        def f(x):
            return float(residual(kernel, a, w, [x])[0])

        return [
            optimize.brentq(f, t[k], t[k + 1], xtol=1e-14, rtol=1e-15)
            for k in np.nonzero(np.sign(e[:-1]) * np.sign(e[1:]) < 0)[0]
        ]


def l1_error(kernel: PreciseKernel, a, w) -> float | None:
    """||rho - rho_hat||_L1 = sup_t ||H_t - H_hat_t|| (JMLR Lemma 15), None if infinite: in closed form
    between the residual's zeros z_j, sum_j |R(z_j) - R(z_j+1) - sum_i a_i (e^{-w_i z_j} - e^{-w_i z_j+1})/w_i|
    with R(x) = int_x^inf rho (``PreciseKernel.tails``)."""
    if not kernel.finite("l1"):
        return None
    edges = [0.0] + zeros(kernel, a, w)
    with precise():
        tails = kernel.tails(edges) + [gmpy2.mpfr(0)]
        ez = [mp_exp(-w * gmpy2.mpfr(z)) for z in edges] + [np.zeros(len(w), dtype=object)]
        total = gmpy2.mpfr(0)
        for k in range(len(edges)):
            total += abs(tails[k] - tails[k + 1] - (a / w) @ (ez[k] - ez[k + 1]))
    return float(total)


def errors(kernel: PreciseKernel, fit: NormFit) -> dict:
    a, w = fit.exact
    return {
        "l2_error": l2_error(kernel, a, w),
        "l1_error": l1_error(kernel, a, w),
        "sup_error": sup_error(kernel, a, w),
    }
