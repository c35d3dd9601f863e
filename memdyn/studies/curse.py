"""The curse of memory in approximation, measured: the width a power-law kernel needs for an error eps,
against the memory (the rate law of JMLR's approximation theorems), from the best fits of
``memdyn.theory.expfit``."""

from __future__ import annotations

import math

import numpy as np

from ..theory.expfit import PreciseKernel, fit_l2

CURSE_EXPONENTIAL = "exp(-t)/(1+t)"
"""The exponentially decaying kernel set beside the power laws in ``curse_table`` (completely
monotone like them, its rates all >= 1: an oscillating one drives real-rate fits into confluent
t^k e^{-wt} terms whose amplitudes outgrow any fixed precision)."""


def sqrt_law(ms, errors) -> dict | None:
    """ln error = ln C - c sqrt(m), least squares over the widths given (None with fewer than 3)."""
    pairs = [(m, e) for m, e in zip(ms, errors) if e is not None and e > 0]
    if len(pairs) < 3:
        return None
    x = np.sqrt([m for m, _ in pairs])
    slope, intercept = np.polyfit(x, np.log([e for _, e in pairs]), 1)
    return {"c": float(-slope), "C": float(math.exp(intercept)), "widths": [pairs[0][0], pairs[-1][0]]}


def _first_width(errors, eps):
    return next((m for m, e in enumerate(errors, start=1) if e <= eps), None)


def curse_table(omegas, epsilons, *, m_max: int, min_rate: float = 0.5, progress=None) -> dict:
    """The curse of memory in approximation (JMLR section 4.3), measured with best L2 fits: for
    rho = (1+t)^-(1+omega) and the exponentially decaying ``CURSE_EXPONENTIAL``, the smallest width
    m(eps) whose best L2 fit reaches eps with free rates and with rates >= ``min_rate`` (Thm 11's
    bounded spectrum), beside omega eps^(-1/omega) (the paper's rate) and the exp(-c sqrt(m)) law
    fitted to the free fits from width 4 (or the last three) (Braess-Hackbusch's rate for completely monotone kernels)."""
    from ..core.pipeline import target as make_target

    kernels = [(f"(1+t)^(-{1 + w:g})", w) for w in omegas] + [(CURSE_EXPONENTIAL, None)]
    out = {"m_max": m_max, "min_rate": min_rate, "epsilons": list(epsilons), "kernels": []}
    for rho, omega in kernels:
        k = PreciseKernel(make_target(rho, {}), {}, rho)
        series = {}
        for key, bound in (("free", None), ("bounded", min_rate)):
            fit, errs = None, []
            for m in range(1, m_max + 1):
                fit = fit_l2(k, m, previous=fit, min_rate=bound)
                errs.append(fit.error)
            series[key] = errs
        # a bounded fit is a free one too: the best free fit found is the better of the two
        series["free"] = [min(f, b) for f, b in zip(series["free"], series["bounded"])]
        first = max(1, min(4, m_max - 2))  # from width 4, or the last three widths of a short table
        law = sqrt_law(range(first, m_max + 1), series["free"][first - 1 :])
        rows = []
        for eps in epsilons:
            rows.append(
                {
                    "eps": eps,
                    "m_free": _first_width(series["free"], eps),
                    "m_bounded": _first_width(series["bounded"], eps),
                    "omega_law": None if omega is None else omega * eps ** (-1 / omega),
                    "sqrt_law": None if law is None else max(1.0, math.log(law["C"] / eps) / law["c"]) ** 2,
                }
            )
        out["kernels"].append(
            {
                "rho": rho,
                "omega": omega,
                "l2_free": series["free"],
                "l2_bounded": series["bounded"],
                "law": law,
                "rows": rows,
            }
        )
        if progress:
            progress(f"curse of memory: {rho}")
    return out
