"""The compiled peer of ``memdyn bench``: LSODA compiled (numbalsoda) on a numba right-hand side.

What a speed-minded user would write instead of memdyn for the bench's problem,
rho = exp(-t) + 0.5 exp(-(t - mu)^2/2) (``memdyn.studies.problems.RHO``): the loss and its gradient in
closed form, written out by hand, integrated by ODEPACK's LSODA with no Python in the loop, one
trajectory at a time on one core. Both hitting times are found by bracketing (LSODA's output points on
a log grid, a few decades per call) and refining the bracket with LSODA's own output points, then a
secant step on the last bracket. The whole search, and the loop over a sweep's memories, run in
compiled code.

Closed forms, with G(w) = int_0^oo exp(-(t - mu)^2/2 - w t) dt:

    L(w)  = 1/(1 + w) + G(w)/2,           G(w)  = sqrt(pi/2) exp(-mu^2/2) erfcx((w - mu)/sqrt 2)   (w >= mu)
    L'(w) = -1/(1 + w)^2 + G'(w)/2,                = sqrt(pi/2) exp(w^2/2 - mu w) erfc((w - mu)/sqrt 2)  (w < mu)
    J     = a^T K a - 2 a.L(w) + ||rho||^2,  G'(w) = (w - mu) G(w) - exp(-mu^2/2),  K_ij = 1/(w_i + w_j).

``||rho||^2`` cancels from the gradient and from |J - J0|, so it is never computed.

Optional: ``pip install "memdyn[peer]"`` (numba, and numbalsoda, which builds from source with a
Fortran compiler). ``available()`` says whether it is installed; the closed forms
(``bump_gradient``, ``bump_loss``) run as plain Python without it, so they are tested everywhere.
"""

from __future__ import annotations

import functools
import math
import time

import numpy as np
import scipy.special
from numpy.typing import ArrayLike

__all__ = ["available", "missing", "bump_gradient", "bump_loss", "hitting_times"]

_ROOT_HALF_PI = math.sqrt(math.pi / 2)
_ROOT2 = math.sqrt(2.0)

PER_DECADE = 16
"""Output points per decade of the bracketing grid (adjacent points 15% apart)."""
DECADES_PER_CALL = 4
"""Decades of the grid per LSODA call (the solver restarts at each call)."""
REFINEMENTS = 3
"""Rounds of refining a bracket with LSODA's output points, each narrowing it 64-fold."""
FIRST_POINT = 1e-3
"""The grid's first time after 0."""


def missing() -> str | None:
    """Why the compiled peer cannot run here (a package not installed), or None."""
    for name in ("numba", "numbalsoda"):
        try:
            __import__(name)
        except Exception as err:  # an import that fails for any reason leaves the peer out
            return f"{name} is not installed ({type(err).__name__}): pip install 'memdyn[peer]'"
    return None


def available() -> bool:
    """Whether numba and numbalsoda are importable."""
    return missing() is None


def _closed_forms(erfcx, erfc, exp, jit=lambda f: f):
    """The bump's loss (less ||rho||^2) and gradient as functions of (y, mu), for Python or numba (``jit``)."""

    @jit
    def transforms(w, mu):
        """(L(w), L'(w)) of rho = exp(-t) + 0.5 exp(-(t - mu)^2/2)."""
        z = (w - mu) / _ROOT2
        if z >= 0.0:
            g = _ROOT_HALF_PI * exp(-0.5 * mu * mu) * erfcx(z)
        else:
            g = _ROOT_HALF_PI * exp(0.5 * w * w - mu * w) * erfc(z)
        dg = (w - mu) * g - exp(-0.5 * mu * mu)
        return 1.0 / (1.0 + w) + 0.5 * g, -1.0 / ((1.0 + w) * (1.0 + w)) + 0.5 * dg

    @jit
    def loss(y, mu):
        m = y.shape[0] // 2
        total = 0.0
        for i in range(m):
            L, _ = transforms(y[m + i], mu)
            total -= 2.0 * y[i] * L
            for j in range(m):
                total += y[i] * y[j] / (y[m + i] + y[m + j])
        return total

    @jit
    def gradient(y, mu, out):
        m = y.shape[0] // 2
        for i in range(m):
            L, dL = transforms(y[m + i], mu)
            ga = -2.0 * L
            gw = -2.0 * y[i] * dL
            for j in range(m):
                s = y[m + i] + y[m + j]
                ga += 2.0 * y[j] / s
                gw -= 2.0 * y[i] * y[j] / (s * s)
            out[i] = ga
            out[m + i] = gw

    return loss, gradient


_py_loss, _py_gradient = _closed_forms(scipy.special.erfcx, math.erfc, math.exp)


def bump_loss(theta, mu: float) -> float:
    """J(a, w) - ||rho||^2 for the bench's rho (plain Python; the compiled peer runs the same code)."""
    return float(_py_loss(np.asarray(theta, float), float(mu)))


def bump_gradient(theta, mu: float) -> np.ndarray:
    """grad J(a, w) for the bench's rho (plain Python; the compiled peer runs the same code)."""
    y = np.asarray(theta, float)
    out = np.empty_like(y)
    _py_gradient(y, float(mu), out)
    return out


@functools.lru_cache(maxsize=1)
def _compiled():
    """The numba-compiled right-hand side (a C callback for LSODA) and sweep driver (compiled once)."""
    import ctypes

    import numba
    from numba.extending import get_cython_function_address
    from numbalsoda import lsoda, lsoda_sig

    erfcx = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double)(
        get_cython_function_address("scipy.special.cython_special", "__pyx_fuse_1erfcx")
    )
    loss, gradient = _closed_forms(erfcx, math.erfc, math.exp, numba.njit)

    @numba.cfunc(lsoda_sig)
    def rhs(t, u, du, p):  # p = (mu, n)
        n = int(p[1])
        y = numba.carray(u, (n,))
        out = numba.carray(du, (n,))
        gradient(y, p[0], out)
        for i in range(n):
            out[i] = -out[i]

    @numba.njit
    def moved(y, y0, J0, mu):
        d = 0.0
        for i in range(y.shape[0]):
            d += (y[i] - y0[i]) ** 2
        return math.sqrt(d), abs(loss(y, mu) - J0)

    @numba.njit
    def search(fn, y0, p, delta, t1, rtol, atol):
        """(tau_param, tau_loss, ok) of one trajectory (inf where not reached before t1)."""
        n = y0.shape[0]
        mu = p[0]
        J0 = loss(y0, mu)
        tau = np.full(2, np.inf)
        found = np.zeros(2, dtype=np.bool_)
        lo = np.zeros(2)
        hi = np.zeros(2)
        y_lo = np.zeros((2, n))
        t, y, k = 0.0, y0.copy(), 0
        per_call = PER_DECADE * DECADES_PER_CALL
        while not (found[0] and found[1]) and t < t1:
            ts = np.empty(per_call + 1)
            ts[0] = t
            count = 0
            for j in range(1, per_call + 1):
                tj = FIRST_POINT * 10.0 ** ((k + j - 1) / PER_DECADE)
                if tj > t1:
                    break
                ts[j] = tj
                count = j
            if count == 0:
                break
            ts = ts[: count + 1]
            usol, ok = lsoda(fn, y, ts, p, rtol, atol, 1_000_000)
            if not ok:
                return tau[0], tau[1], False
            for j in range(1, count + 1):
                g = moved(usol[j], y0, J0, mu)
                for c in range(2):
                    if not found[c] and g[c] > delta:
                        found[c] = True
                        lo[c], hi[c] = ts[j - 1], ts[j]
                        y_lo[c] = usol[j - 1]
            t, y, k = ts[count], usol[count].copy(), k + count
        for c in range(2):
            if not found[c]:
                continue
            a, b, ya = lo[c], hi[c], y_lo[c].copy()
            g_a = moved(ya, y0, J0, mu)[c] - delta
            g_b = 0.0
            for _ in range(REFINEMENTS):
                ts = np.linspace(a, b, 65)
                usol, ok = lsoda(fn, ya, ts, p, rtol, atol, 1_000_000)
                if not ok:
                    return tau[0], tau[1], False
                g_prev = g_a  # the condition at ts[0] = a, where this solve starts
                for j in range(1, 65):
                    g = moved(usol[j], y0, J0, mu)[c] - delta
                    if g > 0.0 or j == 64:
                        a, b, g_a, g_b = ts[j - 1], ts[j], g_prev, g
                        ya = usol[j - 1].copy()
                        break
                    g_prev = g
            tau[c] = a + (b - a) * (-g_a) / (g_b - g_a)  # secant on the last bracket
        return tau[0], tau[1], True

    @numba.njit
    def sweep(fn, mus, y0, delta, t1, rtol, atol):
        out = np.empty((mus.shape[0], 2))
        ok = np.empty(mus.shape[0], dtype=np.bool_)
        p = np.empty(2)
        p[1] = y0.shape[0]
        for i in range(mus.shape[0]):
            p[0] = mus[i]
            out[i, 0], out[i, 1], ok[i] = search(fn, y0, p, delta, t1, rtol, atol)
        return out, ok

    # compile once per process (numba compiles per argument type, and every call passes the same types)
    sweep(rhs.address, np.array([12.0]), np.array([1.0, 0.0, 1.0, 0.5]), 0.01, 1e15, 1e-6, 1e-8)
    return rhs.address, sweep


def hitting_times(
    mus: ArrayLike,
    a0: ArrayLike,
    w0: ArrayLike,
    *,
    delta: float,
    t1: float = 1e15,
    rtol: float = 1e-8,
    atol: float | None = None,
) -> dict:
    """Both hitting times of the gradient flow from (a0, w0) for each memory ``mu``, by compiled LSODA.

    Args:
        mus: the memories, one trajectory each (run one after another on one core).
        a0, w0: the start.
        delta: the threshold of both hitting times.
        t1: the horizon.
        rtol, atol: LSODA's tolerances (``atol`` defaults to ``rtol * 1e-2``, as memdyn's sweeps).

    Returns:
        dict with ``tau_param``, ``tau_loss`` (arrays, inf where not reached), ``ok`` (LSODA succeeded)
        and ``wall_s`` (the compiled sweep; the first call in a process also compiles it, outside ``wall_s``).

    Raises:
        ImportError: numba or numbalsoda is not installed (``missing()`` says which).
    """
    why = missing()
    if why is not None:
        raise ImportError(why)
    fn, sweep = _compiled()
    y0 = np.concatenate([np.asarray(a0, float), np.asarray(w0, float)])
    values = np.asarray(mus, float)
    atol = rtol * 1e-2 if atol is None else atol
    start = time.perf_counter()
    taus, ok = sweep(fn, values, y0, delta, t1, rtol, atol)
    return {"tau_param": taus[:, 0], "tau_loss": taus[:, 1], "ok": ok, "wall_s": time.perf_counter() - start}
