"""Best exponential-sum fits rho ~ sum_i a_i e^{-w_i t} on [0, inf) in extended precision, in three norms.

The float64 L2 optimiser of :mod:`memdyn.theory.approx` stalls near width 6: the Gram matrix of
e^{-w t} is the Cauchy matrix 1/(w_i + w_j), whose condition number grows like e^{c m}, so that
solving for the amplitudes and forming J = ||rho||^2 - b^T G^-1 b (a difference of nearly equal
numbers) loses every digit once J < 1e-16 ||rho||^2. Here every quantity that cancels is formed in
binary floating point of :data:`PRECISION` bits (gmpy2/MPFR, the backend mpmath itself uses), and
only the optimiser's step, which needs no such accuracy, runs in float64:

* ``l2`` -- variable projection: for given rates the amplitudes solve G a = b with
  b_i = int rho e^{-w_i t} dt (Laplace transform of rho, by the trapezoidal rule in u = ln t,
  exponentially convergent there); the rates minimise ln J by L-BFGS with the exact gradient
  dJ/dw_i = 2 a_i (int t rho e^{-w_i t} - sum_j a_j/(w_i + w_j)^2).
* ``sup`` -- the best uniform fit's error equioscillates at 2m + 1 points (exponential sums of m
  terms form a varisolvent family of degree 2m: Braess, *Nonlinear Approximation Theory*, 1986,
  ch. IV/VI). The classical Remez exchange (Newton for (a, ln w, E) on a reference) stalls near
  width 19 for 1/(1+t): its Newton steps leave their region of convergence. Following Hackbusch
  (Comput. Vis. Sci. 20, 2019), the independent variables are instead the 2m zeros xi of the
  error: the sum interpolating rho there is found by Newton, the error's extrema between the zeros
  by safeguarded Newton, and the zeros move (Newton, with the sensitivities in closed form) until
  the 2m + 1 extrema agree to :data:`REMEZ_TOL`. Started from the width m-1 fit's zeros, stretched.
  Certificate: de la Vallee Poussin, min_j |e(x_j)| <= E* <= max_t |e(t)|, both in the JSON;
  checked against the published tables (:mod:`memdyn.theory.hackbusch`) to width 40.
* ``l1`` -- ||rho - rho_hat||_L1 = sup_t ||H_t - H_hat_t|| (JMLR Lemma 15). The error of the best
  fit changes sign at 2m points z, and its first-order conditions int sign(e) d rho_hat/d theta = 0
  become conditions on z alone once rho_hat is the interpolant through rho there (the canonical
  points of L1 approximation, with closed-form integrals of t^p e^{-w t}); Newton in ln z solves
  them with the same node moves as the sup fits. Certificate: the first-order condition evaluated
  anew (zeros found on a grid, int_x^inf rho by mpmath quadrature), its largest relative violation
  in the JSON.

Each width starts from the width m-1 optimum with one rate added (a width-m sum contains every
width-(m-1) one), so errors are non-increasing in m by construction: a fit that does not beat its
predecessor keeps it and says so (``improved`` false).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import gmpy2
import mpmath
import numpy as np
import sympy as sp
from scipy import optimize

from ..core.formula import T
from ..core.jaxsetup import float64
from ..core.lowering import Target
from ..errors import InputError

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

_exp = np.frompyfunc(gmpy2.exp, 1, 1)
_mpfr = np.frompyfunc(gmpy2.mpfr, 1, 1)
_float = np.frompyfunc(float, 1, 1)


class PrecisionLost(ArithmeticError):
    """J = ||rho||^2 - b.a has cancelled below the transforms' accuracy: the rates have nearly met
    and the amplitudes grown (the fit is approaching t^k e^{-w t} terms) beyond what PRECISION carries."""


def _ctx():
    return gmpy2.context(gmpy2.get_context(), precision=PRECISION)


def _f64(x) -> np.ndarray:
    return np.asarray(_float(x), dtype=float)


def solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x = A^-1 b for object arrays of MPFR numbers (b a vector or a matrix of right-hand sides):
    Gaussian elimination with partial pivoting, vectorised over rows (7x faster than
    ``mpmath.lu_solve`` at 40 x 40, which matters inside the optimisers' loops)."""
    A = A.copy()
    b = b.copy()
    n = len(b)
    for k in range(n):
        p = k + int(np.argmax(np.abs(_f64(A[k:, k]))))
        if p != k:
            A[[k, p]] = A[[p, k]]
            b[[k, p]] = b[[p, k]]
        if A[k, k] == 0:
            raise ZeroDivisionError("singular system")
        f = A[k + 1:, k] / A[k, k]
        A[k + 1:, k:] -= np.outer(f, A[k, k:])
        b[k + 1:] -= np.multiply.outer(f, b[k])
    x = np.empty(b.shape, dtype=object)
    for k in range(n - 1, -1, -1):
        x[k] = (b[k] - A[k, k + 1:] @ x[k + 1:]) / A[k, k] if k < n - 1 else b[k] / A[k, k]
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
                t = 2.0 ** k
                if abs(float(self.rho(t)[0])) < 1e-40 * scale:
                    return t
        p = self.decay
        return min(1e40, max(20 / MIN_RATE, 1e40 ** (1 / max(2 * p - 1, 1e-9))))

    @cached_property
    def nodes(self):
        """Trapezoidal nodes t_k = e^{u_k} and weights STEP t_k, with rho(t_k), rho(t_k) t_k (object arrays)."""
        with _ctx():
            u = np.arange(U_LOW, math.log(self.t_end) + STEP, STEP)
            t = _exp(_mpfr(u))
            q = t * gmpy2.mpfr(STEP)
            r = self._rho_nodes(u)
            return t, q, r

    def _rho_nodes(self, u):
        with mpmath.workprec(PRECISION):
            return np.array([gmpy2.mpfr(str(self._mp(mpmath.exp(mpmath.mpf(x))))) for x in u], dtype=object)

    @cached_property
    def norm2(self):
        t, q, r = self.nodes
        with _ctx():
            return (q * r) @ r

    def tails(self, xs) -> list:
        """int_x^inf rho for increasing xs: mpmath quadrature (128-bit) between consecutive points, and
        from the last one to infinity split at decades."""
        with mpmath.workprec(128):
            xs = [mpmath.mpf(str(x)) for x in xs]
            last = [xs[-1]] + [mpmath.mpf(10) ** k for k in range(-3, 41) if 10 ** k > xs[-1]] + [mpmath.inf]
            out = [mpmath.quad(self._mp, last)]
            for lo, hi in zip(xs[-2::-1], xs[:0:-1]):
                out.append(out[-1] + mpmath.quad(self._mp, [lo, hi]))
            return [gmpy2.mpfr(str(v), PRECISION) for v in out[::-1]]


def exp_sum(a, w, t) -> np.ndarray:
    """sum_i a_i e^{-w_i t} at the points t (object arrays in, object array out)."""
    with _ctx():
        return _exp(-np.outer(w, t)).T @ a


def residual(kernel: PreciseKernel, a, w, t) -> np.ndarray:
    with _ctx():
        t = _mpfr(np.atleast_1d(np.asarray(t, dtype=object)))
        return kernel.rho(_f64(t)) - exp_sum(a, w, t)


# ---------------------------------------------------------------------------- L2: variable projection

def _l2(kernel: PreciseKernel, w: np.ndarray, *, order: int = 1):
    """(J, a, gradient, Hessian) of J in x = ln w at rates w (float64), the amplitudes solved exactly
    for those rates (variable projection); gradient and Hessian only up to ``order``.

    With F(a, w) = ||rho||^2 - 2 a.b + a.G a, beta_i = int t rho e^{-w_i t}, gamma_i = int t^2 rho e^{-w_i t}:
    dJ/dw_i = 2 a_i (beta_i - sum_l a_l/(w_i+w_l)^2), and the reduced Hessian F_ww - F_wa (2G)^-1 F_aw.
    """
    t, q, r = kernel.nodes
    with _ctx():
        wm = _mpfr(w)
        E = _exp(-np.outer(wm, t))
        qr = q * r
        b = E @ qr
        s = np.add.outer(wm, wm)
        G = 1 / s
        a = solve(G, b)
        J = kernel.norm2 - b @ a
        if J < QUADRATURE_ERROR * (np.abs(a) @ np.abs(b)) * 1e3:
            raise PrecisionLost(f"J = {float(J):.3g} has fewer than 3 digits left (amplitudes up to "
                                f"{float(max(abs(v) for v in a)):.3g})")
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
        diag = -2 * a * gamma + 4 * a * (G3 @ a) + 4 * a * a / (8 * wm ** 3)
        Fww[np.diag_indices(len(w))] = diag
        Faw = -2 * a[None, :] * (G * G)          # [k, i] = -2 a_i/(w_k+w_i)^2
        Faw[np.diag_indices(len(w))] += 2 * (beta - S2)
        X = np.stack([solve(G, Faw[:, i]) for i in range(len(w))], axis=1)
        H = Fww - Faw.T @ X / 2
        H = wm[:, None] * H * wm[None, :]
        H[np.diag_indices(len(w))] += gw * wm
        return J, a, gw * wm, H


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
        return {"norm": self.norm, "m": self.m, "a": self.a, "w": self.w, "error": self.error,
                "improved": self.improved, **self.certificate}

    def widened(self, m: int, rate: float, certificate: dict) -> NormFit:
        """This fit as a width-m one (a neuron with a = 0 at ``rate`` added): what a width that did not
        improve on its predecessor reports, so that errors are non-increasing in m."""
        a, w = self.exact
        return NormFit(self.norm, m, self.a + [0.0], self.w + [float(rate)], self.error, False, certificate,
                   (np.append(a, gmpy2.mpfr(0)), np.append(w, gmpy2.mpfr(rate))))


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
        with _ctx():
            D = np.diag(np.abs(np.diag(H)))
            try:
                step = _f64(solve(H + gmpy2.mpfr(lam) * D, -g))
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
    # Newton from the start with the lowest J (running all three costs 3x and, measured on (1+t)^-1.5
    # to width 24, never ended lower)
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
    return NormFit("l2", m, _f64(a)[order].tolist(), w[order].tolist(), error, True,
               {"iterations": iterations}, (a[order], _mpfr(w[order])))


# ---------------------------------------------------------------------------- sup: equalised extrema between nodes

GRID = 4000


def _search_grid(kernel: PreciseKernel, level: float) -> np.ndarray:
    """Times t (float64): 0, then geometric from 1e-6 up to where |rho| has fallen below level/1000
    (alternation points crowd towards t = 0 as m grows: a geometric grid keeps them resolved)."""
    scale = max(1e-300, level) / 1000
    t_last = 1.0
    while t_last < kernel.t_end and abs(float(kernel.rho(t_last)[0])) > scale:
        t_last *= 2
    return np.concatenate([[0.0], np.geomspace(1e-6, t_last, GRID - 1)])


def _start_nodes(kernel: PreciseKernel, a, w, m: int) -> np.ndarray | None:
    """2m nodes where rho - rho_hat changes sign (brentq-refined), from the 2m+1 largest sign runs of
    the error on the search grid (end runs dropped first), or None with fewer than 2m sign changes."""
    t = _search_grid(kernel, 1e-16)
    e = _f64(residual(kernel, a, w, t))
    change = np.nonzero(np.sign(e[:-1]) * np.sign(e[1:]) < 0)[0]
    if len(change) < 2 * m:
        return None
    bounds = np.concatenate([[0], change + 1, [len(e)]])
    peaks = [float(np.max(np.abs(e[lo:hi]))) for lo, hi in zip(bounds[:-1], bounds[1:])]
    first, last = 0, len(peaks) - 1
    while last - first > 2 * m:
        if peaks[first] < peaks[last]:
            first += 1
        else:
            last -= 1

    def f(x):
        return float(residual(kernel, a, w, [x])[0])

    nodes = [optimize.brentq(f, t[k], t[k + 1], xtol=1e-14, rtol=1e-15) for k in change[first:last]]
    return _mpfr(np.array(nodes))


def _interpolate(kernel: PreciseKernel, a, w, xi, *, max_iter: int = 60):
    """(a, w) of the exponential sum through rho at the 2m nodes xi: Newton in (a, ln w) from (a, w),
    ln w steps capped at 1 and halved until the largest relative residual falls. None on failure."""
    m = len(a)
    rho = kernel.rho(xi)

    def residual_at(a, w):
        E = _exp(-np.outer(xi, w))
        F = rho - E @ a
        return F, E, float(np.max(np.abs(_f64(F / rho))))

    F, E, size = residual_at(a, w)
    for _ in range(max_iter):
        if size < 1e-50:
            return a, w
        J = np.concatenate([E, -(a * w)[None, :] * xi[:, None] * E], axis=1)   # d(sum)/d(a, ln w)
        try:
            step = solve(J, F)
        except ZeroDivisionError:
            return None
        big = float(np.max(np.abs(_f64(step[m:]))))
        if not math.isfinite(big):
            return None
        if big > 1:
            step = step / gmpy2.mpfr(big)
        for damp in (1, 2, 4, 8, 16, 32):
            a2, w2 = a + step[:m] / damp, w * _exp(step[m:] / damp)
            F2, E2, size2 = residual_at(a2, w2)
            if size2 < size:
                a, w, F, E, size = a2, w2, F2, E2, size2
                break
        else:
            return None
    return (a, w) if size < 1e-40 else None


def _extrema(kernel: PreciseKernel, a, w, xi, guess):
    """The extremum of e = rho - rho_hat on each of [0, xi_1], [xi_1, xi_2], ..., [xi_2m, inf): Newton
    on t e'(t) = 0 in u = ln t, kept inside each bracket by bisection, from ``guess`` where it lies
    inside. The first is t = 0 itself when e moves towards zero from there. Returns (y, e(y))."""
    n = len(xi) + 1
    ln_xi = np.array([gmpy2.log(x) for x in xi], dtype=object)
    lo = np.concatenate([[ln_xi[0] - 40], ln_xi])        # brackets in u
    hi = np.concatenate([ln_xi, [ln_xi[-1] + 40]])
    u = (lo + hi) / 2
    for j, g in enumerate(guess if guess is not None else []):
        if g is not None and g > 0 and lo[j] < gmpy2.log(g) < hi[j]:
            u[j] = gmpy2.log(g)
    e0 = kernel.derivatives(_mpfr(np.array([0.0])))
    endpoint = False
    if all(gmpy2.is_finite(v) for v in e0[:2, 0]):
        value0 = e0[0, 0] - np.sum(a)
        slope0 = e0[1, 0] + (a * w) @ np.ones(len(w), dtype=object)
        endpoint = bool(value0 * slope0 <= 0)   # |e| falls from t = 0: the first extremum is the endpoint
    live = np.ones(n, dtype=bool)
    if endpoint:
        live[0] = False
    for _ in range(100):
        idx = np.nonzero(live)[0]
        if len(idx) == 0:
            break
        t = _exp(u[idx])
        r = kernel.derivatives(t)
        ex = _exp(-np.outer(t, w))
        e = r[0] - ex @ a
        e1 = r[1] + ex @ (a * w)
        e2 = r[2] - ex @ (a * w * w)
        sign = np.array([1 if v > 0 else -1 for v in e], dtype=object)
        g = sign * t * e1                                  # > 0 left of the maximum of |e|
        gp = sign * (t * e1 + t * t * e2)
        for k, j in enumerate(idx):
            if g[k] > 0:
                lo[j] = u[j]
            else:
                hi[j] = u[j]
            new = u[j] - g[k] / gp[k] if gp[k] < 0 else None
            if new is None or not lo[j] < new < hi[j]:
                new = (lo[j] + hi[j]) / 2
            if abs(new - u[j]) < 1e-13 or hi[j] - lo[j] < 1e-13:
                live[j] = False
            u[j] = new
    y = _exp(u)
    if endpoint:
        y[0] = gmpy2.mpfr(0)
    return y, kernel.rho(y) - _exp(-np.outer(y, w)) @ a


def _sensitivity(kernel: PreciseKernel, a, w, xi, y):
    """D_{j nu} = dM_j/d ln xi_nu, the extrema's response to the nodes, with T (the sum's Jacobian in
    (a, w) at the nodes) and e'(xi). Moving node nu changes the interpolant's parameters by
    dp = e'(xi_nu) T^-1 e_nu (differentiate sum(xi_mu; p) = rho(xi_mu)), so the extremum values change
    by -B dp, B the sum's Jacobian at the extrema; their locations' motion drops out (e' = 0 there)."""
    Ex = _exp(-np.outer(xi, w))
    Ey = _exp(-np.outer(y, w))
    T = np.concatenate([Ex, -a[None, :] * xi[:, None] * Ex], axis=1)
    B = np.concatenate([Ey, -a[None, :] * y[:, None] * Ey], axis=1)
    L = solve(T.T.copy(), B.T.copy()).T                                # B T^-1, [j, nu]
    slope = kernel.derivatives(xi)[1] + Ex @ (a * w)                    # e'(xi)
    return -L * (slope * xi)[None, :], T, slope


MAX_NODE_STEP = 1.0
"""Largest move of a node in one step, in ln t (far from the solution Newton's steps can be far longer)."""


def _move_nodes(kernel: PreciseKernel, a, w, xi, step, T, slope, evaluate, merit: float):
    """Move the nodes by ``step`` in ln xi (shortened to MAX_NODE_STEP), halved (up to 512x) until
    they stay ordered and ``evaluate(a, w, xi)``'s first entry falls below ``merit``; each move
    re-interpolates from the first-order change of (a, w), dp = T^-1 (e'(xi) xi step).
    Returns (a, w, xi, evaluation) or None."""
    m = len(a)
    step = step / max(1.0, float(np.max(np.abs(step))) / MAX_NODE_STEP)
    dp = solve(T, slope * xi * _mpfr(step))
    ln_xi = np.log(_f64(xi))
    for damp in 2.0 ** np.arange(10):
        d = step / damp
        if np.any(np.diff(ln_xi + d) <= 0):
            continue
        xi2 = xi * _exp(_mpfr(d))
        w0 = w + dp[m:] / damp
        out = _interpolate(kernel, a + dp[:m] / damp, w0, xi2) if np.all(_f64(w0) > 0) else None
        out = out or _interpolate(kernel, a, w, xi2)
        if out is None:
            continue
        value = evaluate(*out, xi2)
        if value[0] < merit:
            return (*out, xi2, value)
    return None


def _spread(M) -> float:
    size = np.abs(_f64(M))
    return float(size.max() / size.min() - 1)


def _equalise(kernel: PreciseKernel, a, w, xi, *, max_iter: int = 60):
    """Best uniform fit from nodes xi (Hackbusch's independent variables, Comput. Vis. Sci. 20, 2019):
    the sum interpolating rho at the 2m nodes has one extremum M_j of its error between consecutive
    nodes (and at each end); Newton (:func:`_sensitivity`) moves ln xi until the 2m+1 |M_j| are
    equal, by :func:`_move_nodes` with the spread max|M|/min|M| - 1 as its merit.
    Returns (a, w, xi, y, M, iterations, spread)."""
    n = len(xi) + 1
    y, M = _extrema(kernel, a, w, xi, None)
    for it in range(max_iter + 1):  # it: the steps taken
        if _spread(M) < REMEZ_TOL or it == max_iter:
            break
        D, T, slope = _sensitivity(kernel, a, w, xi, y)
        s = _mpfr(np.sign(_f64(M)))
        A = np.concatenate([s[:, None] * D, _mpfr(-np.ones((n, 1)))], axis=1)
        step = _f64(solve(A, -s * M)[:-1])                          # s_j (M_j + D_j . d) = c

        def evaluate(a, w, xi, guess=y):
            y2, M2 = _extrema(kernel, a, w, xi, guess)
            return _spread(M2), y2, M2

        moved = _move_nodes(kernel, a, w, xi, step, T, slope, evaluate, _spread(M))
        if moved is None:
            break
        a, w, xi, (_, y, M) = moved
    return a, w, xi, y, M, it, _spread(M)


def _stretch(values: np.ndarray, n: int) -> np.ndarray:
    """Resample a sorted sequence to n entries as a function of the index fraction (i + 1/2)/len,
    extrapolating linearly at both ends."""
    k = len(values)
    old, new = (np.arange(k) + 0.5) / k, (np.arange(n) + 0.5) / n
    if k == 1:
        return np.full(n, values[0])
    out = np.interp(new, old, values)
    lo, hi = new < old[0], new > old[-1]
    out[lo] = values[0] + (new[lo] - old[0]) * (values[1] - values[0]) / (old[1] - old[0])
    out[hi] = values[-1] + (new[hi] - old[-1]) * (values[-1] - values[-2]) / (old[-1] - old[-2])
    return out


def _predicted_start(kernel: PreciseKernel, previous: NormFit, m: int):
    """Nodes and an interpolating sum of width m from the width m-1 best uniform fit: its nodes and
    rates stretched by index fraction in logarithms, its amplitudes likewise (sharing the mass among
    m terms), then interpolated. None when that interpolation fails."""
    xi = _mpfr(np.exp(_stretch(np.log(previous.certificate["nodes"]), 2 * m)))
    w = _mpfr(np.exp(_stretch(np.log(previous.w), m)))
    a_prev = np.asarray(previous.a)
    a = np.exp(_stretch(np.log(a_prev), m)) if np.all(a_prev > 0) else _stretch(a_prev, m)
    out = _interpolate(kernel, _mpfr(a * (m - 1) / m), w, xi)
    return None if out is None else (*out, xi)


def _node_start(kernel: PreciseKernel, m: int, start: NormFit, previous: NormFit | None):
    """(a, w, nodes) of an interpolant to start the sup and L1 iterations from: the width m-1 fit's
    nodes stretched (:func:`_predicted_start`) when it has them and that works, else the sign changes
    of ``start`` (a fit of width m) with the sum through rho there. None when neither exists."""
    if previous is not None and "nodes" in previous.certificate and previous.m == m - 1:
        begin = _predicted_start(kernel, previous, m)
        if begin is not None:
            return begin
    a, w = (v.copy() for v in start.exact)
    xi = _start_nodes(kernel, a, w, m)
    out = None if xi is None else _interpolate(kernel, a, w, xi)
    return None if out is None else (*out, xi)


def fit_sup(kernel: PreciseKernel, m: int, *, start: NormFit, previous: NormFit | None = None) -> NormFit | None:
    """The best uniform fit of width m, by :func:`_equalise` from the sign changes of ``start``'s error
    (a fit of the same width: the sum interpolating rho there is ``start`` itself). None when the start
    lacks 2m sign changes or its interpolation fails. Certificate: the 2m+1 alternation points, the
    errors there, de la Vallee Poussin's lower bound min_j |e(y_j)| <= E*, and ``converged`` when the
    |e(y_j)| agree to REMEZ_TOL and no point of the search grid exceeds their largest."""
    with _ctx():
        begin = _node_start(kernel, m, start, previous)
        if begin is None:
            return None
        a, w, xi, y, M, iterations, spread = _equalise(kernel, *begin)
        order = np.argsort(_f64(w))
        e_ref = _f64(M)
        grid = float(np.max(np.abs(_f64(residual(kernel, a, w, _search_grid(kernel, float(np.min(np.abs(e_ref)))))))))
        upper = max(grid, float(np.max(np.abs(e_ref))))
        lower = float(np.min(np.abs(e_ref)))
        alternates = bool(np.all(np.sign(e_ref[1:]) == -np.sign(e_ref[:-1])))
        converged = alternates and spread < REMEZ_TOL and (upper - lower) / lower < 10 * REMEZ_TOL
        return NormFit("sup", m, _f64(a)[order].tolist(), _f64(w)[order].tolist(), upper, True,
                   {"alternation": _f64(y).tolist(), "alternation_error": e_ref.tolist(), "alternates": alternates,
                    "lower_bound": lower, "iterations": iterations, "nodes": _f64(xi).tolist(),
                    "converged": converged},
                   (a[order], w[order]))


# ---------------------------------------------------------------------------- errors in every norm

def l2_error(kernel: PreciseKernel, a, w) -> float | None:
    """||rho - rho_hat||_L2 from ||rho||^2 - 2 a.b + a.G a in extended precision (None if infinite)."""
    if not kernel.finite("l2"):
        return None
    t, q, r = kernel.nodes
    with _ctx():
        b = _exp(-np.outer(w, t)) @ (q * r)
        J = kernel.norm2 - 2 * (a @ b) + a @ ((1 / np.add.outer(w, w)) @ a)
    return math.sqrt(max(float(J), 0.0))


def sup_error(kernel: PreciseKernel, a, w) -> float:
    """max_t |rho - rho_hat| on the search grid (uniform in ln(1+t), to where |rho| is negligible)."""
    with _ctx():
        t = _search_grid(kernel, 1e-16)
        return float(np.max(np.abs(_f64(residual(kernel, a, w, t)))))


def zeros(kernel: PreciseKernel, a, w) -> list[float]:
    """The sign changes of rho - rho_hat on the search grid, refined by brentq."""
    with _ctx():
        t = _search_grid(kernel, 1e-16)
        e = _f64(residual(kernel, a, w, t))

        def f(x):
            return float(residual(kernel, a, w, [x])[0])

        return [optimize.brentq(f, t[k], t[k + 1], xtol=1e-14, rtol=1e-15)
                for k in np.nonzero(np.sign(e[:-1]) * np.sign(e[1:]) < 0)[0]]


def l1_error(kernel: PreciseKernel, a, w) -> float | None:
    """||rho - rho_hat||_L1 = sup_t ||H_t - H_hat_t|| (JMLR Lemma 15), None if infinite: in closed form
    between the residual's zeros z_j, sum_j |R(z_j) - R(z_j+1) - sum_i a_i (e^{-w_i z_j} - e^{-w_i z_j+1})/w_i|
    with R(x) = int_x^inf rho (:meth:`PreciseKernel.tails`)."""
    if not kernel.finite("l1"):
        return None
    edges = [0.0] + zeros(kernel, a, w)
    with _ctx():
        tails = kernel.tails(edges) + [gmpy2.mpfr(0)]
        ez = [_exp(-w * gmpy2.mpfr(z)) for z in edges] + [np.zeros(len(w), dtype=object)]
        total = gmpy2.mpfr(0)
        for k in range(len(edges)):
            total += abs(tails[k] - tails[k + 1] - (a / w) @ (ez[k] - ez[k + 1]))
    return float(total)


def errors(kernel: PreciseKernel, fit: NormFit) -> dict:
    a, w = fit.exact
    return {"l2_error": l2_error(kernel, a, w), "l1_error": l1_error(kernel, a, w), "sup_error": sup_error(kernel, a, w)}


# ---------------------------------------------------------------------------- L1: canonical points

def _segment_moments(w, edges):
    """For each rate and each segment [z_k, z_k+1] (the last to infinity): int t^j e^{-w t}, j = 0, 1, 2."""
    z = list(edges) + [None]
    out = []
    for j in range(3):
        def tail(x):  # int_x^inf t^j e^{-w t}
            if x is None:
                return np.zeros(len(w), dtype=object)
            e = _exp(-w * x)
            return {0: e / w, 1: e * (x / w + 1 / w ** 2), 2: e * (x * x / w + 2 * x / w ** 2 + 2 / w ** 3)}[j]
        tails = [tail(x) for x in z]
        out.append(np.stack([tails[k] - tails[k + 1] for k in range(len(edges))]))   # [segment, i]
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
    through the interpolant's rates, dp/dz_nu = e'(z_nu) T^-1 e_nu as in :func:`_sensitivity`.
    Returns (R, Jacobian, T, e'(z))."""
    m = len(w)
    M0, M1, M2 = _segment_moments(w, [gmpy2.mpfr(0)] + list(z))
    alt = _mpfr((-1.0) ** np.arange(2 * m + 1))
    R = np.concatenate([alt @ M0, alt @ M1])
    dR_dw = -np.concatenate([alt @ M1, alt @ M2])                      # each R_{p,i} depends on w_i only
    scale = np.concatenate([w, w * w])
    dscale = np.concatenate([w / w, 2 * w])
    Ez = _exp(-np.outer(z, w))                                         # [nu, i]
    limits = _mpfr(2 * (-1.0) ** np.arange(2 * m))                     # 2 (-1)^(nu-1), nu = 1..2m
    explicit = np.concatenate([(Ez * limits[:, None]).T, (Ez * (limits * z)[:, None]).T])
    T = np.concatenate([Ez, -a[None, :] * z[:, None] * Ez], axis=1)
    slope = kernel.derivatives(z)[1] + Ez @ (a * w)                    # e'(z)
    dw = solve(T, np.diag(slope))[m:]                                  # d w_i / d z_nu
    through = np.concatenate([dw, dw]) * (dR_dw * scale + R * dscale)[:, None]
    return R * scale, (explicit * scale[:, None] + through) * z[None, :], T, slope


def _norm(v) -> float:
    return float(np.sqrt(np.sum(_f64(v) ** 2)))


def fit_l1(kernel: PreciseKernel, m: int, *, start: NormFit, previous: NormFit | None = None, max_iter: int = 60) -> NormFit:
    """The best L1 fit of width m. Its error changes sign at 2m points z where, for the interpolant
    through rho there, the sign pattern annihilates every tangent direction: the canonical-point
    conditions of :func:`_canonical`, solved by Newton in ln z (:func:`_move_nodes`, ||R|| as merit)
    -- smooth in z, where Newton on (a, ln w) crosses the L1 error's seams as zeros appear and vanish.
    Started from the width m-1 fit's nodes stretched, else from the sign changes of ``start`` (the L2
    fit of width m). Certificate: the first-order residual ``kkt`` of :func:`_l1` (zeros found anew
    on the search grid), ``converged`` when it is below L1_KKT."""
    with _ctx():
        begin = _node_start(kernel, m, start, previous)
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
                    step = _f64(solve(JJ + gmpy2.mpfr(lam) * np.diag(np.diag(JJ)), -(J.T @ R)))
                except ZeroDivisionError:
                    step = None
                moved = None if step is None else _move_nodes(kernel, a, w, z, step, T, slope, evaluate, _norm(R))
                if moved is None:
                    lam = max(10 * lam, 1e-6)
                    if lam > 1e6:
                        break
                    continue
                lam = lam / 10 if lam > 1e-9 else 0.0
                a, w, z, (_, (R, J, T, slope)) = moved
        L1, g = _l1(kernel, a, w)
        order = np.argsort(_f64(w))
        scale = _f64(np.concatenate([1 / w, np.abs(a) / w]))  # int |d e/d theta_k| dt
        kkt = float(np.max(np.abs(_f64(g)) / np.maximum(scale, 1e-300)))
        certificate = {"iterations": it, "kkt": kkt, "converged": kkt < L1_KKT}
        if z is not None:
            certificate["nodes"] = _f64(z).tolist()
        fit = NormFit("l1", m, _f64(a)[order].tolist(), _f64(w)[order].tolist(), float(L1), True, certificate,
                  (a[order], w[order]))
    if previous is not None and fit.error > previous.error:
        return previous.widened(m, 1.0, dict(previous.certificate))
    return fit


# ---------------------------------------------------------------------------- widths

@dataclass(repr=False)
class BestFits:
    """Best fits of rho in one norm for each width (:func:`best_fits`)."""

    rho: str
    norm: str
    min_rate: float | None
    fits: list
    rows: list

    def __repr__(self) -> str:
        return f"BestFits({self.rho!r}, norm={self.norm!r}, widths {[r['m'] for r in self.rows]})"

    def to_pandas(self):
        """One row per width with its errors in every norm, as a :class:`pandas.DataFrame`."""
        import pandas as pd

        keys = ("m", "l2_error", "l1_error", "sup_error", "improved")
        return pd.DataFrame([{k: r.get(k) for k in keys} for r in self.rows])

    def plot(self, ax=None):
        """The errors in the three norms against the width (log y). Returns the axes."""
        from ..plots import plot_lines

        series = {k: [r.get(k) for r in self.rows] for k in ("l2_error", "l1_error", "sup_error")}
        return plot_lines([r["m"] for r in self.rows], series, ax=ax, xlabel="width m", ylabel="error")

    def to_json(self) -> dict:
        return {"rho": self.rho, "norm": self.norm, "min_rate": self.min_rate, "precision_bits": PRECISION,
                "m": [r["m"] for r in self.rows], "error": [r["error"] for r in self.rows], "fits": self.rows}


def check_widths(widths) -> list[int]:
    out = []
    for m in widths:
        if m != int(m) or not 1 <= m <= MAX_WIDTH:
            raise InputError("widths", f"widths must be integers in 1..{MAX_WIDTH}, got {m:g}")
        out.append(int(m))
    return sorted(set(out))


@float64
def best_fits(kernel: PreciseKernel, widths, norm: str = "l2", *, min_rate: float | None = None, progress=None) -> BestFits:
    """Best fits of widths 1..max(widths) in ``norm`` (each warm-started from the last), reported at
    ``widths`` with their errors in every norm (None where that norm of rho - rho_hat is infinite).

    ``sup`` fits start from the width m-1 best uniform fit, else from the L2 fit of the same width (so
    L2 fits are computed on the way); a width whose extrema were not equalised is reported with
    ``converged`` false (with the L2 fit's errors when no start had 2m sign changes, as when the L2
    rates merge into t^k e^{-wt} terms). ``min_rate`` (rates >= min_rate, Thm 11's setting) applies
    to ``l2`` fits only.
    """
    ms = check_widths(widths)
    if norm not in NORMS:
        raise InputError("norm", f"must be one of {', '.join(NORMS)}, got {norm!r}")
    if not kernel.finite(norm) or (norm == "sup" and not kernel.finite("l2")):
        raise InputError("norm", f"the {norm} norm of rho - rho_hat is infinite for rho = {kernel.text} "
                                 f"(|rho| decays like t^-{kernel.decay:.3g})")
    if min_rate is not None and norm != "l2":
        raise InputError("min_rate", "applies to --norm l2 fits only")
    if min_rate is not None and not min_rate > 0:
        raise InputError("min_rate", f"must be positive, got {min_rate}")
    l2_fit, last_sup, l1_fit, rows, fits = None, None, None, [], []
    for m in range(1, max(ms) + 1):
        l2_fit = fit_l2(kernel, m, previous=l2_fit, min_rate=min_rate)
        fit = l2_fit
        if norm == "l1":
            l1_fit = fit = fit_l1(kernel, m, start=l2_fit, previous=l1_fit)
        if norm == "sup":
            sup = fit_sup(kernel, m, start=l2_fit, previous=last_sup)
            if sup is None:  # no equalisation started: the L2 fit, measured in the sup norm
                sup = NormFit("sup", m, l2_fit.a, l2_fit.w, sup_error(kernel, *l2_fit.exact), False,
                          {"converged": False}, l2_fit.exact)
            if last_sup is not None and sup.error > last_sup.error:  # keep the m-1 fit: errors non-increasing
                sup = last_sup.widened(m, 1.0, dict(last_sup.certificate))
            last_sup = fit = sup
        if m in ms:
            row = {**fit.to_json(), **errors(kernel, fit)}
            row.setdefault("converged", True)
            rows.append(row)
            fits.append(fit)
        if progress:
            progress(m)
    return BestFits(kernel.text, norm, min_rate, fits, rows)


# ---------------------------------------------------------------------------- the curse, measured

CURSE_EXPONENTIAL = "exp(-t)/(1+t)"
"""The exponentially decaying kernel set beside the power laws in :func:`curse_table` (completely
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
    rho = (1+t)^-(1+omega) and the exponentially decaying :data:`CURSE_EXPONENTIAL`, the smallest width
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
        law = sqrt_law(range(first, m_max + 1), series["free"][first - 1:])
        rows = []
        for eps in epsilons:
            rows.append({"eps": eps, "m_free": _first_width(series["free"], eps),
                         "m_bounded": _first_width(series["bounded"], eps),
                         "omega_law": None if omega is None else omega * eps ** (-1 / omega),
                         "sqrt_law": None if law is None else max(1.0, math.log(law["C"] / eps) / law["c"]) ** 2})
        out["kernels"].append({"rho": rho, "omega": omega, "l2_free": series["free"],
                               "l2_bounded": series["bounded"], "law": law, "rows": rows})
        if progress:
            progress(f"curse of memory: {rho}")
    return out
