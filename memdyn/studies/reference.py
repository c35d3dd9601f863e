"""Independent references for tests and benchmarks: SciPy's integrators and mpmath quadrature.

Nothing in memdyn's own pipeline calls this module. SciPy integrates the *same* right-hand side
(the lowered closed-form gradient, jitted, with the Hessian as its Jacobian) with its own
methods and event location, so a disagreement points at memdyn's integration or event logic.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

from ..core.formula import T
from ..core.jaxsetup import float64
from ..core.loss import anchor, centred_gradient, gradient, hessian, loss
from ..core.lowering import NUMPY, KernelData, Target


def _functions(target: Target, data: KernelData, backend: str, theta0: np.ndarray):
    """(rhs, Jacobian, loss) as host functions of theta, from the JAX or the NumPy lowering."""
    if backend == "jax":
        rhs_j = jax.jit(lambda y: -gradient(target, data, y))
        jac_j = jax.jit(lambda y: -hessian(target, data, y))
        loss_j = jax.jit(lambda y: loss(target, data, y))
        for compiled in (rhs_j, jac_j, loss_j):  # compile first
            compiled(jnp.asarray(theta0))
        return (lambda y: np.asarray(rhs_j(y))), (lambda y: np.asarray(jac_j(y))), (lambda y: float(loss_j(y)))
    if backend == "numpy":
        dn = jax.tree_util.tree_map(np.asarray, data)
        return (
            lambda y: -gradient(target, dn, y, NUMPY),
            lambda y: -hessian(target, dn, y, NUMPY),
            lambda y: float(loss(target, dn, y, NUMPY)),
        )
    raise ValueError(f"backend must be 'jax' or 'numpy', got {backend!r}")


def _centred_functions(target: Target, data: KernelData, theta0: np.ndarray):
    """(anchor, rhs, Jacobian, loss) as host functions of the displacement d = theta - anchor: the
    centred flow memdyn integrates (``memdyn.core.loss.centred_gradient``)."""
    at = anchor(target, data, jnp.asarray(theta0))
    rhs_j = jax.jit(lambda d: -centred_gradient(target, data, at, d))
    jac_j = jax.jit(lambda d: -hessian(target, data, at.theta + d))
    loss_j = jax.jit(lambda d: loss(target, data, at.theta + d))
    origin = np.asarray(at.theta)
    return (
        origin,
        lambda d: np.asarray(rhs_j(d)),
        lambda d: np.asarray(jac_j(d)),
        lambda d: float(loss_j(d)),
    )


def _threshold_events(theta0: np.ndarray, J, delta: float):
    """SciPy events of the two hitting times, measured from ``theta0``: ||theta - theta0|| and
    |J(theta) - J(theta0)| crossing ``delta`` upwards (not terminal; the caller decides)."""
    J0 = J(theta0)

    def ev_param(t, y):
        return float(np.linalg.norm(y - theta0) - delta)

    def ev_loss(t, y):
        return abs(J(y) - J0) - delta

    ev_param.direction = ev_loss.direction = 1.0
    return ev_param, ev_loss


@float64
def scipy_hitting_times(
    target: Target,
    data: KernelData,
    a0: Sequence[float],
    w0: Sequence[float],
    *,
    delta: float,
    t1: float,
    method: str = "LSODA",
    rtol: float = 1e-10,
    atol: float | None = None,
    backend: str = "jax",
    stop_at_loss: bool = False,
    repeat: int = 1,
) -> dict:
    """tau_param and tau_loss from ``scipy.integrate.solve_ivp`` (None where not reached): the one
    SciPy baseline of tests, examples and benchmarks.

    The right-hand side is memdyn's own derivation: ``backend="jax"`` the jitted JAX gradient (and
    the Hessian as Jacobian), ``"numpy"`` the NumPy lowering of the same templates (what a user
    without JAX would run). ``atol`` defaults to ``rtol/100``; ``stop_at_loss`` ends the solve at
    the loss event; ``wall_s`` is the median over ``repeat`` solves.
    """
    theta0 = np.concatenate([np.asarray(a0, float), np.asarray(w0, float)])
    atol = rtol * 1e-2 if atol is None else atol
    rhs, jac, J = _functions(target, data, backend, theta0)
    ev_param, ev_loss = _threshold_events(theta0, J, delta)
    ev_loss.terminal = stop_at_loss
    walls = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        sol = solve_ivp(
            lambda t, y: rhs(y),
            (0.0, t1),
            theta0,
            method=method,
            rtol=rtol,
            atol=atol,
            events=(ev_param, ev_loss),
            jac=(lambda t, y: jac(y)) if method != "RK45" else None,
        )
        walls.append(time.perf_counter() - start)
    taus = [float(ev[0]) if len(ev) else None for ev in sol.t_events]
    return {
        "tau_param": taus[0],
        "tau_loss": taus[1],
        "nfev": int(sol.nfev),
        "njev": int(sol.njev),
        "status": int(sol.status),
        "wall_s": float(np.median(walls)),
        "method": method,
    }


@float64
def scipy_long_hitting_times(
    target: Target,
    data: KernelData,
    a0: Sequence[float],
    w0: Sequence[float],
    *,
    delta: float,
    t1: float,
    method: str = "Radau",
    rtol: float = 1e-12,
    ratio: float = 1e8,
    after: float = 1e4,
    max_segments: int = 64,
    atol: float | None = None,
) -> dict:
    """Both hitting times of plateaus too long for one float64 clock, by SciPy with restarts.

    The independent check of ``memdyn.core.solve``'s restarted clock: ``solve_ivp`` runs from local
    time 0, stops (a terminal event, located by SciPy's own root finder) once ``t ||f(y)|| / (1 + ||y||)``
    exceeds ``ratio`` after local time ``after``, and starts again from that state at local time 0;
    elapsed time is the exact sum (``math.fsum``) of the segment lengths. Thresholds are measured from
    the first start, as in memdyn. The state is the centred flow's displacement from its anchor, as in
    memdyn (on a plateau from M* the plain gradient is a cancellation residue: see ``centred_gradient``).
    """
    theta0 = np.concatenate([np.asarray(a0, float), np.asarray(w0, float)])
    atol = rtol * 1e-2 if atol is None else atol
    origin, rhs, jac, J = _centred_functions(target, data, theta0)
    ev_param, ev_loss = _threshold_events(theta0 - origin, J, delta)

    def ev_fast(t, y):
        if t <= after:
            return -1.0
        speed = np.linalg.norm(rhs(y)) / (1.0 + np.linalg.norm(origin + y))
        return float(np.log(t * speed + 1e-300) - np.log(ratio))

    ev_fast.direction = 1.0
    ev_loss.terminal = ev_fast.terminal = True
    segments, y, taus, restarts = [], theta0 - origin, [None, None], 0
    for _ in range(max_segments):
        offset = math.fsum(segments)
        sol = solve_ivp(
            lambda t, y: rhs(y),
            (0.0, t1 - offset),
            y,
            method=method,
            rtol=rtol,
            atol=atol,
            events=(ev_param, ev_loss, ev_fast),
            jac=lambda t, y: jac(y),
        )
        for i in (0, 1):
            if taus[i] is None and len(sol.t_events[i]):
                taus[i] = math.fsum([*segments, float(sol.t_events[i][0])])
        if taus[1] is not None or not len(sol.t_events[2]) or sol.status < 0:
            break
        segments.append(float(sol.t_events[2][0]))
        y = sol.y_events[2][0]
        restarts += 1
    return {
        "tau_param": taus[0],
        "tau_loss": taus[1],
        "restarts": restarts,
        "status": int(sol.status),
        "method": method,
    }


def mpmath_laplace(
    rho_t: sp.Expr, w: float, *, order: int = 0, dps: int = 30, breakpoints: Sequence[float] = ()
) -> mpmath.mpf:
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
