"""The extended-precision foundation of the fits: MPFR arithmetic, the kernel evaluated in it, a fit."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import gmpy2
import mpmath
import numpy as np
import sympy as sp

from ...core.formula import T
from ...core.lowering import Target

PRECISION = 256
"""Bits of the extended-precision arithmetic (77 decimal digits)."""
MAX_WIDTH = 40
NORMS = ("l2", "l1", "sup")
STEP = 0.125
"""Trapezoidal step in u = ln t: the error decays like exp(-pi^2/STEP) ~ 5e-35 (integrands analytic
in the strip |Im u| < pi/2)."""
QUADRATURE_ERROR = 1e-33
"""Relative error of the Laplace transforms b_i from the nodes (exp(-pi^2/STEP) and the cut at U_LOW)."""
U_LOW = -70.0
"""Lowest node, t = e^-70: the part of the integrals below it is ~ rho(0) e^-70 ~ 4e-31."""
MIN_RATE = 1e-14
"""Smallest decay rate a fit may use (its term lives to t ~ 1e16)."""
MAX_RATE = 1e8
"""Largest decay rate a fit may use (its term lives to t ~ 1e-8, above the lowest node e^-70)."""
L1_KKT = 1e-6
"""An L1 fit is called converged when |int sign(e) de/dtheta_k| <= L1_KKT int |de/dtheta_k| for every k."""
REMEZ_TOL = 1e-6
"""The sup iteration stops when the extrema agree, max |e(y_j)| / min |e(y_j)| - 1 < REMEZ_TOL
(the two bracket the best error)."""

mp_exp = np.frompyfunc(gmpy2.exp, 1, 1)
to_mpfr = np.frompyfunc(gmpy2.mpfr, 1, 1)
_float = np.frompyfunc(float, 1, 1)


class PrecisionLost(ArithmeticError):
    """J = ||rho||^2 - b.a has cancelled below the transforms' accuracy: the rates have nearly met
    and the amplitudes grown (the fit is approaching t^k e^{-w t} terms) beyond what PRECISION carries."""


def precise():
    return gmpy2.context(gmpy2.get_context(), precision=PRECISION)


def to_f64(x) -> np.ndarray:
    return np.asarray(_float(x), dtype=float)


def solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x = A^-1 b for object arrays of MPFR numbers (b a vector or a matrix of right-hand sides):
    Gaussian elimination with partial pivoting, vectorised over rows: NumPy's object arrays do each
    row operation in one call where ``mpmath.lu_solve`` loops in Python, which matters inside the
    optimisers' loops."""
    A = A.copy()
    b = b.copy()
    n = len(b)
    for k in range(n):
        p = k + int(np.argmax(np.abs(to_f64(A[k:, k]))))
        if p != k:
            A[[k, p]] = A[[p, k]]
            b[[k, p]] = b[[p, k]]
        if A[k, k] == 0:
            raise ZeroDivisionError("singular system")
        f = A[k + 1 :, k] / A[k, k]
        A[k + 1 :, k:] -= np.outer(f, A[k, k:])
        b[k + 1 :] -= np.multiply.outer(f, b[k])
    x = np.empty(b.shape, dtype=object)
    for k in range(n - 1, -1, -1):
        x[k] = (b[k] - A[k, k + 1 :] @ x[k + 1 :]) / A[k, k] if k < n - 1 else b[k] / A[k, k]
    return x


@dataclass
class PreciseKernel:
    """rho(t) for the fits: evaluated in extended precision, with the finiteness of each norm."""

    target: Target
    values: dict
    text: str = ""

    @cached_property
    def expr(self) -> sp.Expr:
        return self.target.kernel.substitute(self.values)

    @cached_property
    def _mp(self):
        return sp.lambdify(T, self.expr, modules="mpmath")

    def rho(self, t) -> np.ndarray:
        """rho at the (float or MPFR) points t, in extended precision (an object array)."""
        t = np.atleast_1d(t)
        with mpmath.workprec(PRECISION):
            return np.array([gmpy2.mpfr(str(self._mp(mpmath.mpf(str(x)))), PRECISION) for x in t], dtype=object)

    @cached_property
    def _mp_derivatives(self):
        return [sp.lambdify(T, sp.diff(self.expr, T, k), modules="mpmath") for k in range(3)]

    def derivatives(self, t) -> np.ndarray:
        """rho, rho' and rho'' at the points t (MPFR or float), shape (3, len(t)), from the symbolic
        derivatives; mpmath.diff where one does not evaluate, NaN where neither does."""
        t = np.atleast_1d(t)
        out = np.empty((3, len(t)), dtype=object)
        with mpmath.workprec(PRECISION):
            for j, x in enumerate(t):
                xm = mpmath.mpf(str(x))
                for k, f in enumerate(self._mp_derivatives):
                    try:
                        v = f(xm)
                    except (TypeError, ValueError, ZeroDivisionError):
                        try:
                            v = mpmath.diff(self._mp, xm, k)
                        except (TypeError, ValueError, ZeroDivisionError):
                            v = mpmath.nan
                    out[k, j] = gmpy2.mpfr(str(mpmath.re(v)), PRECISION)
        return out

    @cached_property
    def decay(self) -> float:
        """p with max_{[s, 2s]} |rho| ~ s^-p at large s (inf for faster than any power), from s = 1e6, 1e12."""
        with mpmath.workprec(PRECISION):

            def peak(s):
                return max(abs(self._mp(mpmath.mpf(s) * (1 + k / 64))) for k in range(65))

            lo, hi = peak(1e6), peak(1e12)
            if hi == 0:
                return math.inf
            p = -float(mpmath.log(hi / lo) / mpmath.log(1e6))
        return math.inf if p > 50 else p

    def finite(self, norm: str) -> bool:
        """Whether ||rho - rho_hat|| can be finite: sup needs rho bounded (decay >= 0), L2 decay > 1/2,
        L1 decay > 1 (with a margin of 0.02 for the estimate: log-divergent kernels are refused)."""
        p = self.decay
        return {"sup": p > -0.02, "l2": p > 0.52, "l1": p > 1.02}[norm]

    @cached_property
    def t_end(self) -> float:
        """The last node: past it rho^2 integrates to < 1e-40 (power laws: t^(1-2p)/(2p-1)), and
        e^{-MIN_RATE t} has decayed by e^-20."""
        if math.isinf(self.decay):
            scale = max(1.0, abs(float(self.rho(0.0)[0])))
            for k in range(0, 60):
                t = 2.0**k
                if abs(float(self.rho(t)[0])) < 1e-40 * scale:
                    return t
        p = self.decay
        return min(1e40, max(20 / MIN_RATE, 1e40 ** (1 / max(2 * p - 1, 1e-9))))

    @cached_property
    def nodes(self):
        """Trapezoidal nodes t_k = e^{u_k} and weights STEP t_k, with rho(t_k), rho(t_k) t_k (object arrays)."""
        with precise():
            u = np.arange(U_LOW, math.log(self.t_end) + STEP, STEP)
            t = mp_exp(to_mpfr(u))
            q = t * gmpy2.mpfr(STEP)
            r = self._rho_nodes(u)
            return t, q, r

    def _rho_nodes(self, u):
        with mpmath.workprec(PRECISION):
            return np.array([gmpy2.mpfr(str(self._mp(mpmath.exp(mpmath.mpf(x))))) for x in u], dtype=object)

    @cached_property
    def norm2(self):
        t, q, r = self.nodes
        with precise():
            return (q * r) @ r

    def tails(self, xs) -> list:
        """int_x^inf rho for increasing xs: mpmath quadrature (128-bit) between consecutive points, and
        from the last one to infinity split at decades."""
        with mpmath.workprec(128):
            xs = [mpmath.mpf(str(x)) for x in xs]
            last = [xs[-1]] + [mpmath.mpf(10) ** k for k in range(-3, 41) if 10**k > xs[-1]] + [mpmath.inf]
            out = [mpmath.quad(self._mp, last)]
            for lo, hi in zip(xs[-2::-1], xs[:0:-1]):
                out.append(out[-1] + mpmath.quad(self._mp, [lo, hi]))
            return [gmpy2.mpfr(str(v), PRECISION) for v in out[::-1]]


def exp_sum(a, w, t) -> np.ndarray:
    """sum_i a_i e^{-w_i t} at the points t (object arrays in, object array out)."""
    with precise():
        return mp_exp(-np.outer(w, t)).T @ a


def residual(kernel: PreciseKernel, a, w, t) -> np.ndarray:
    with precise():
        t = to_mpfr(np.atleast_1d(np.asarray(t, dtype=object)))
        return kernel.rho(to_f64(t)) - exp_sum(a, w, t)


@dataclass
class NormFit:
    norm: str
    m: int
    a: list
    w: list
    error: float
    improved: bool
    certificate: dict = field(default_factory=dict)
    exact: tuple | None = field(default=None, repr=False)
    """(a, w) as extended-precision object arrays, for evaluating the errors without rounding."""

    def to_json(self) -> dict:
        return {
            "norm": self.norm,
            "m": self.m,
            "a": self.a,
            "w": self.w,
            "error": self.error,
            "improved": self.improved,
            **self.certificate,
        }

    def widened(self, m: int, rate: float, certificate: dict) -> NormFit:
        """This fit as a width-m one (a neuron with a = 0 at ``rate`` added): what a width that did not
        improve on its predecessor reports, so that errors are non-increasing in m."""
        a, w = self.exact
        return NormFit(
            self.norm,
            m,
            self.a + [0.0],
            self.w + [float(rate)],
            self.error,
            False,
            certificate,
            (np.append(a, gmpy2.mpfr(0)), np.append(w, gmpy2.mpfr(rate))),
        )
