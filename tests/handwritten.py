"""The reduced model's loss, gradient and Hessian written out by hand, for two kernel families, sharing
nothing with memdyn (no parser, no SymPy derivation, no lowering): the references of
tests/test_handwritten.py.

Families (closed-form Laplace transforms L(w) = int_0^oo e^{-wt} rho(t) dt and its w-derivatives):

* exponential plus Gaussian bump, rho = A e^{-V t} + c exp(-(t - mu)^2 / (2 s^2)):
  L_bump(w) = c s sqrt(pi/2) E(w),  E = exp(a) erfc(z),  a = -w mu + w^2 s^2 / 2,  z = (w s^2 - mu)/(s sqrt 2),
  with E = exp(-mu^2/(2 s^2)) erfcx(z) for z >= 0 (a - z^2 = -mu^2/(2 s^2) exactly), and
  E' = (w s^2 - mu) E - sqrt(2/pi) s exp(-mu^2/(2 s^2)),  E'' = s^2 E + (w s^2 - mu) E';
* power law, rho = (1 + t)^{-p} (p > 1/2): L_p(w) = e^w w^{p-1} Gamma(1 - p, w) (upper incomplete
  gamma), L_p' = L_p - L_{p-1}, L_p'' = L_{p-2} - 2 L_{p-1} + L_p (from t = (1 + t) - 1), ||rho||^2 = 1/(2p - 1).

J(a, w) = sum_ij a_i a_j / (w_i + w_j) - 2 sum_i a_i L(w_i) + ||rho||^2; its gradient and Hessian below are
differentiated by hand (and checked against finite differences of J in mpmath by the tests).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
from scipy import special


class Bump:
    """rho = A e^{-V t} + c exp(-(t - mu)^2 / (2 s^2)) in float64 (NumPy/SciPy) or mpmath (``precise``)."""

    def __init__(self, mu: float, A: float = 1.0, V: float = 1.0, c: float = 0.5, s: float = 1.0):
        self.mu, self.A, self.V, self.c, self.s = mu, A, V, c, s

    def rho(self, t):
        return self.A * mp.exp(-self.V * t) + self.c * mp.exp(-((t - self.mu) ** 2) / (2 * self.s**2))

    def _E(self, w):
        """(E, E', E'') of the bump's transform, E = exp(a) erfc(z), in float64 arrays."""
        mu, s = self.mu, self.s
        z = (w * s**2 - mu) / (s * math.sqrt(2))
        a = -w * mu + w**2 * s**2 / 2
        far = math.exp(-(mu**2) / (2 * s**2))
        with np.errstate(over="ignore"):  # the unused branch of np.where may overflow
            E = np.where(
                z >= 0, far * special.erfcx(np.maximum(z, 0)), np.exp(np.minimum(a, 0)) * special.erfc(np.minimum(z, 0))
            )
        E1 = (w * s**2 - mu) * E - math.sqrt(2 / math.pi) * s * far
        E2 = s**2 * E + (w * s**2 - mu) * E1
        return E, E1, E2

    def transforms(self, w):
        """L, L', L'' at the rates w (float64 arrays)."""
        w = np.asarray(w, dtype=float)
        k = self.c * self.s * math.sqrt(math.pi / 2)
        E, E1, E2 = self._E(w)
        A, V = self.A, self.V
        return (A / (w + V) + k * E, -A / (w + V) ** 2 + k * E1, 2 * A / (w + V) ** 3 + k * E2)

    def norm2(self) -> float:
        """||rho||^2 = A^2/(2V) + 2 A L_bump(V) + c^2 s sqrt(pi)/2 erfc(-mu/s)."""
        A, V, c, s, mu = self.A, self.V, self.c, self.s, self.mu
        bump_at_V = c * s * math.sqrt(math.pi / 2) * float(self._E(np.array(V))[0])
        return A**2 / (2 * V) + 2 * A * bump_at_V + c**2 * s * math.sqrt(math.pi) / 2 * special.erfc(-mu / s)


class PowerLaw:
    """rho = (1 + t)^{-p}, p > 1/2: transforms by mpmath's incomplete gamma (50 digits), rounded to float64."""

    def __init__(self, p: float):
        self.p = p

    def rho(self, t):
        return (1 + t) ** (-self.p)

    @staticmethod
    def _L(q, w):
        with mp.workdps(50):
            w = mp.mpf(w)
            return mp.exp(w) * w ** (q - 1) * mp.gammainc(1 - q, w)

    def transforms(self, w):
        p = self.p
        out = np.empty((3, np.size(w)))
        for i, wi in enumerate(np.atleast_1d(w)):
            L0, L1, L2 = (self._L(p - k, float(wi)) for k in range(3))
            out[:, i] = [float(L0), float(L0 - L1), float(L2 - 2 * L1 + L0)]
        return out[0], out[1], out[2]

    def norm2(self) -> float:
        return 1.0 / (2 * self.p - 1)


def loss(family, theta) -> float:
    a, w = np.split(np.asarray(theta, dtype=float), 2)
    L = family.transforms(w)[0]
    return float(a @ (1 / (w[:, None] + w[None, :])) @ a - 2 * a @ L + family.norm2())


def gradient(family, theta) -> np.ndarray:
    a, w = np.split(np.asarray(theta, dtype=float), 2)
    L, L1, _ = family.transforms(w)
    S = w[:, None] + w[None, :]
    return np.concatenate([2 * (1 / S) @ a - 2 * L, -2 * a * ((1 / S**2) @ a) - 2 * a * L1])


def hessian(family, theta) -> np.ndarray:
    a, w = np.split(np.asarray(theta, dtype=float), 2)
    _, L1, L2 = family.transforms(w)
    S = w[:, None] + w[None, :]
    m = len(a)
    haa = 2 / S
    # d/dw_l of 2 sum_j a_j/(w_k + w_j) - 2 L(w_k)
    haw = -2 * a[None, :] / S**2
    haw[np.diag_indices(m)] = -2 * ((1 / S**2) @ a) - 2 * a / (2 * w) ** 2 - 2 * L1
    # d/dw_l of -2 a_k sum_j a_j/(w_k + w_j)^2 - 2 a_k L'(w_k)
    hww = 4 * np.outer(a, a) / S**3
    hww[np.diag_indices(m)] = 4 * a * ((1 / S**3) @ a) + 4 * a**2 / (2 * w) ** 3 - 2 * a * L2
    return np.block([[haa, haw], [haw.T, hww]])


def hitting_times(family, theta0, delta: float, *, rtol: float = 1e-12) -> tuple[float | None, float | None]:
    """(tau_param, tau_loss) of the gradient flow from theta0, by SciPy's LSODA in log time.

    With s = ln tau the autonomous flow reads d theta/ds = -tau grad J, so plateaus to 1e30 are crossed
    with float64's relative resolution everywhere (no absolute clock to run out of digits); the solve
    starts at tau = 1e-9, where theta has moved by about 1e-9 |grad J|. Each crossing is bracketed by
    the solver's own steps and located by bisection on its dense output there.
    """
    theta0 = np.asarray(theta0, dtype=float)
    J0 = loss(family, theta0)

    def field(s, y):
        return -math.exp(s) * gradient(family, y)

    def jac(s, y):
        return -math.exp(s) * hessian(family, y)

    conditions = (
        lambda y: np.linalg.norm(y - theta0) - delta,  # moved by delta
        lambda y: abs(loss(family, y) - J0) - delta,  # the loss changed by delta
    )
    return _crossings_in_log_time(field, jac, theta0, conditions, rtol, 1e-14)


def _crossings_in_log_time(field, jac, y0, conditions, rtol, atol) -> tuple[float | None, float | None]:
    """Integrate d y/ds = field(s, y) by LSODA from s = ln 1e-9 to ln 1e30 and return, per condition g, the
    first tau = e^s with g(y) > 0: bracketed by the solver's own steps, located by bisection on its dense
    output there."""
    from scipy.integrate import solve_ivp
    from scipy.optimize import brentq

    sol = solve_ivp(
        field,
        (math.log(1e-9), math.log(1e30)),
        y0,
        method="LSODA",
        jac=jac,
        rtol=rtol,
        atol=atol,
        dense_output=True,
    )
    taus: list[float | None] = []
    for g in conditions:
        values = np.array([g(y) for y in sol.y.T])
        after = np.flatnonzero(values > 0)
        if not after.size:
            taus.append(None)
            continue
        i = int(after[0])
        lo, hi = sol.t[i - 1], sol.t[i]
        f = lambda s: g(sol.sol(s))  # noqa: E731
        s_hit = brentq(f, lo, hi, xtol=1e-15, rtol=1e-15) if f(lo) < 0 < f(hi) else hi
        taus.append(math.exp(s_hit))
    return taus[0], taus[1]


# --- the centred flow (plateaus past 1e20) --------------------------------------------------------------
# On a plateau from a start on M*, the fitted neuron sits at the exponential term A e^{-V t} to within
# exponentially small displacements, and the null neuron's amplitude is a residue of O(1) overlaps. Written
# in the displacement d = theta - anchor (the paired neuron's anchor (A, V), every other neuron's (0, 0)),
# each overlap is a sum of small quantities: for the paired neuron, with a = A + da, w = V + dw,
#   a/(x + w) - A/(x + V)         = (da (x + V) - A dw) / ((x + V)(x + w)),
#   a/(x + w)^2 - A/(x + V)^2     = (da (x + V)^2 - A dw (2x + V + w)) / ((x + V)^2 (x + w)^2)
# (from (x + V)^2 - (x + w)^2 = -dw (2x + V + w)), and the exponential term's own transform cancels
# against the anchor's, leaving the bump's.


def centred_gradient(family: Bump, paired: int, d) -> np.ndarray:
    """grad J at theta = anchor + d, neuron ``paired`` anchored at (A, V), the others at (0, 0)."""
    da, dw = np.split(np.asarray(d, dtype=float), 2)
    m = da.size
    alpha = np.zeros(m)
    beta = np.zeros(m)
    alpha[paired], beta[paired] = family.A, family.V
    a, w = alpha + da, beta + dw
    x = w[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        near0 = (da * (x + beta) - alpha * dw) / ((x + beta) * (x + w))
        near1 = (da * (x + beta) ** 2 - alpha * dw * (2 * x + beta + w)) / ((x + beta) ** 2 * (x + w) ** 2)
    plain0, plain1 = a / (x + w), a / (x + w) ** 2
    is_paired = np.arange(m) == paired
    S0 = np.where(is_paired, near0, plain0).sum(axis=1)
    S1 = np.where(is_paired, near1, plain1).sum(axis=1)
    k = family.c * family.s * math.sqrt(math.pi / 2)
    E, E1, _ = family._E(w)
    return np.concatenate([2 * (S0 - k * E), -2 * a * (S1 + k * E1)])


def centred_hitting_times(
    family: Bump, theta0, paired: int, delta: float, *, rtol: float = 1e-12
) -> tuple[float | None, float | None]:
    """(tau_param, tau_loss) of the flow from theta0 by SciPy's LSODA in log time (as ``hitting_times``), in
    the displacement from the anchor, with ``centred_gradient``; the Jacobian is the plain Hessian's."""
    theta0 = np.asarray(theta0, dtype=float)
    m = theta0.size // 2
    anchor = np.zeros(2 * m)
    anchor[paired], anchor[m + paired] = family.A, family.V
    d0 = theta0 - anchor
    J0 = loss(family, theta0)
    # absolute tolerances: the amplitudes and the paired rate's displacement are the small quantities
    # (1e-17 and below on a plateau to 1e30); the unpaired rates are O(1)
    atol = np.full(2 * m, 1e-30)
    atol[m:] = 1e-14
    atol[m + paired] = 1e-30
    conditions = (
        lambda y: np.linalg.norm(y - d0) - delta,
        lambda y: abs(loss(family, anchor + y) - J0) - delta,
    )
    return _crossings_in_log_time(
        lambda s, y: -math.exp(s) * centred_gradient(family, paired, y),
        lambda s, y: -math.exp(s) * hessian(family, anchor + y),
        d0,
        conditions,
        rtol,
        atol,
    )


def precise_gradient(family: Bump, theta, dps: int = 60) -> list:
    """grad J at ``theta`` (given as exact mpmath numbers, e.g. anchor + d summed in mpmath) at ``dps``
    digits, from the plain formulas: the O(1) overlaps cancel with digits to spare."""
    with mp.workdps(dps):
        m = len(theta) // 2
        a, w = theta[:m], theta[m:]
        A, V, c, s, mu = (mp.mpf(x) for x in (family.A, family.V, family.c, family.s, family.mu))
        k = c * s * mp.sqrt(mp.pi / 2)

        def E(x):
            return mp.exp(-x * mu + x**2 * s**2 / 2) * mp.erfc((x * s**2 - mu) / (s * mp.sqrt(2)))

        out = []
        for i in range(m):
            L = A / (w[i] + V) + k * E(w[i])
            out.append(2 * (mp.fsum(a[j] / (w[i] + w[j]) for j in range(m)) - L))
        for i in range(m):
            L1 = -A / (w[i] + V) ** 2 + k * mp.diff(E, w[i])
            out.append(-2 * a[i] * (mp.fsum(a[j] / (w[i] + w[j]) ** 2 for j in range(m)) + L1))
        return [+x for x in out]
