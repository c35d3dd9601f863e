"""Momentum on a saddle (JMLR Appendix B): gradient flow escapes in ~1/eps, heavy ball in ~1/sqrt(eps).

The toy saddle f(x) = (x_1^2 - eps x_2^2)/2, started at (1, delta), is left when |x_2| reaches 1.
Exact escape times, which the numerical ones are checked against:

* gradient flow x' = -grad f:                 x_2 = delta e^{eps tau}     -> tau = ln(1/delta)/eps;
* heavy ball x'' + gamma x' + grad f = 0, at rest: x_2 = delta (r_+ e^{r_- tau} - r_- e^{r_+ tau})/(r_+ - r_-)
  with r_+- = (-gamma +- sqrt(gamma^2 + 4 eps))/2; for gamma = 0, tau = arccosh(1/delta)/sqrt(eps).

With a fixed friction gamma > 0 the growth rate r_+ ~ eps/gamma for small eps, so the 1/eps law
returns (times gamma): the square-root speed-up belongs to the undamped (or gamma ~ sqrt eps) limit.
"""

from __future__ import annotations

import functools
import math

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from scipy import optimize

from ..core.fits import fit_log_linear
from ..core.jaxsetup import require_x64
from ..core.status import Status
from ..errors import MemdynError


def exact_escape(eps: float, delta: float, friction: float | None) -> float:
    """The exact escape time of the toy saddle (see module docstring)."""
    if friction is None:
        return math.log(1.0 / delta) / eps
    disc = math.sqrt(friction**2 + 4 * eps)
    rp, rm = (-friction + disc) / 2, (-friction - disc) / 2

    def x2(tau):
        return delta * (rp * math.exp(rm * tau) - rm * math.exp(rp * tau)) / (rp - rm) - 1.0

    hi = 1.0
    while x2(hi) < 0:
        hi *= 2
    return optimize.brentq(x2, 0.0, hi, xtol=1e-14, rtol=1e-14)


@functools.lru_cache(maxsize=8)
def _compiled_escape(friction: float | None, rtol: float):
    require_x64()

    def grad(x, eps):
        return jnp.array([x[0], -eps * x[1]])

    if friction is None:
        field = lambda t, y, eps: -grad(y, eps)  # noqa: E731
    else:
        field = lambda t, y, eps: jnp.concatenate([y[2:], -friction * y[2:] - grad(y[:2], eps)])  # noqa: E731
    event = diffrax.Event(
        lambda t, y, args, **kw: jnp.abs(y[1]) - 1.0, root_finder=optx.Bisection(rtol=1e-14, atol=1e-14)
    )

    @jax.jit
    def run(eps, delta):
        y0 = jnp.array([1.0, delta]) if friction is None else jnp.array([1.0, delta, 0.0, 0.0])
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(field),
            diffrax.Tsit5(),
            0.0,
            1e12,
            1e-3,
            y0,
            args=eps,
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol * 1e-2),
            event=event,
            max_steps=1_000_000,
            throw=False,
        )
        escaped = sol.result == diffrax.RESULTS.event_occurred
        code = jnp.where(
            escaped,
            Status.OK.code,
            jnp.where(
                sol.result == diffrax.RESULTS.max_steps_reached,
                Status.MAX_STEPS_REACHED.code,
                jnp.where(sol.result == diffrax.RESULTS.successful, Status.T1_REACHED.code, Status.SOLVER_FAILED.code),
            ),
        )
        return sol.ts[-1], code

    return run


def numeric_escape(eps: float, delta: float, friction: float | None, *, rtol: float = 1e-11) -> float:
    """The same escape time from Diffrax (Tsit5, event on |x_2| = 1, bisection on the interpolant).

    Raises MemdynError, with the status's advice, when the solve did not escape."""
    tau, code = _compiled_escape(friction, rtol)(float(eps), float(delta))
    status = Status.from_code(int(code))
    if status is not Status.OK:
        raise MemdynError(f"saddle escape at eps = {eps:g} ended {status}: {status.advice}")
    return float(tau)


def saddle_scan(eps_values, *, delta: float = 1e-3, friction: float | None = None) -> dict:
    """Escape times over eps (numerical and exact) and the fitted exponent of tau ~ eps^p."""
    eps_values = [float(e) for e in eps_values]
    numeric = [numeric_escape(e, delta, friction) for e in eps_values]
    exact = [exact_escape(e, delta, friction) for e in eps_values]
    fit = fit_log_linear(np.log(eps_values), numeric)
    return {
        "friction": friction,
        "delta": delta,
        "eps": eps_values,
        "tau": numeric,
        "tau_exact": exact,
        "exponent": fit.slope,
        "exponent_stderr": fit.slope_stderr,
        "max_rel_error": float(max(abs(n / x - 1) for n, x in zip(numeric, exact))),
    }


__all__ = ["exact_escape", "numeric_escape", "saddle_scan"]
