"""Independent references for tests and benchmarks: SciPy's integrators and mpmath quadrature.

Nothing in memdyn's own pipeline calls this module. SciPy integrates the *same* right-hand side
(the lowered closed-form gradient, jitted, with the Hessian as its Jacobian) with its own
methods and event location, so a disagreement points at memdyn's integration or event logic.
"""

from __future__ import annotations

import time
from typing import Sequence

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

from .formula import T
from .loss import gradient, hessian, loss
from .lowering import KernelData, Target


def scipy_hitting_times(target: Target, data: KernelData, a0: Sequence[float], w0: Sequence[float], *,
                        delta: float, t1: float, method: str = "LSODA", rtol: float = 1e-10,
                        atol: float = 1e-12) -> dict:
    """tau_param and tau_loss from ``scipy.integrate.solve_ivp`` (None where not reached)."""
    theta0 = np.concatenate([np.asarray(a0, float), np.asarray(w0, float)])
    rhs_j = jax.jit(lambda y: -gradient(target, data, y))
    jac_j = jax.jit(lambda y: -hessian(target, data, y))
    loss_j = jax.jit(lambda y: loss(target, data, y))
    rhs_j(jnp.asarray(theta0)); jac_j(jnp.asarray(theta0)); loss_j(jnp.asarray(theta0))
    J0 = float(loss_j(theta0))

    def ev_param(t, y):
        return float(np.linalg.norm(y - theta0) - delta)

    def ev_loss(t, y):
        return abs(float(loss_j(y)) - J0) - delta

    ev_param.direction = ev_loss.direction = 1.0
    start = time.perf_counter()
    sol = solve_ivp(lambda t, y: np.asarray(rhs_j(y)), (0.0, t1), theta0, method=method,
                    rtol=rtol, atol=atol, events=(ev_param, ev_loss),
                    jac=(lambda t, y: np.asarray(jac_j(y))) if method != "RK45" else None)
    wall = time.perf_counter() - start
    taus = [float(ev[0]) if len(ev) else None for ev in sol.t_events]
    return {"tau_param": taus[0], "tau_loss": taus[1], "nfev": int(sol.nfev), "njev": int(sol.njev),
            "status": int(sol.status), "wall_s": wall, "method": method}


def mpmath_laplace(rho_t: sp.Expr, w: float, *, order: int = 0, dps: int = 30,
                   breakpoints: Sequence[float] = ()) -> mpmath.mpf:
    """int_0^oo t^order e^{-wt} rho(t) dt by mpmath quadrature at ``dps`` digits.

    mpmath's error control is absolute: an integrand of size 1e-260 (a far bump at large w) is
    "converged" long before it is accurate. So the integrand is first divided by its largest
    value on a grid, and the result multiplied back.
    """
    with mpmath.workdps(dps):
        f = sp.lambdify(T, rho_t, modules="mpmath")
        w = mpmath.mpf(w)
        pts = [mpmath.mpf(0), *sorted(mpmath.mpf(b) for b in breakpoints if b > 0)]
        grid = pts + list(mpmath.linspace(0, 2 * float(pts[-1]) + 20, 400))

        def log_abs(t):
            v = t**order * mpmath.exp(-w * t) * f(t)
            return mpmath.log(abs(v)) if v != 0 else -mpmath.inf

        shift = max(log_abs(t) for t in grid)
        if not mpmath.isfinite(shift):
            shift = mpmath.mpf(0)
        scaled = mpmath.quad(lambda t: t**order * mpmath.exp(-w * t - shift) * f(t), pts + [mpmath.inf])
        return scaled * mpmath.exp(shift)
