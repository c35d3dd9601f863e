"""The approximation side (JMLR Thms 7, 10): how well width-m exponential sums represent rho.

* ``best_fit`` -- the best L2 fit rho_hat = sum_i a_i e^{-w_i t} of width m, by minimising the
  loss J (the same lowered templates as the flows) over (a, log w) from several starts, warm-started
  from the width m-1 optimum. A width-m model contains every width-(m-1) one (add a neuron with
  a = 0), so the reported error is made non-increasing in m by construction, and a fit that does
  worse than that is flagged (``improved = False``), not hidden.
* ``lp_error`` -- ||rho - rho_hat||_{L1} (= sup_t ||H_t - H_hat_t||, Lemma 15) or L2, by SciPy
  quadrature between the sign changes of the residual (located by brentq), plus the tail.
* ``jackson_network`` -- the constructive network of Thm 10: eigenvalues -k beta/(alpha+1),
  k = 1..m, coefficients from Chebyshev interpolation of q(s) = rho(-(alpha+1) ln(s)/beta)/s on [0,1];
  ``jackson_bound`` -- the error bound computed for that construction (see its docstring).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from scipy import integrate, optimize

from ..core.fits import fit_log_linear
from ..core.formula import T
from ..core.jaxsetup import float64
from ..core.loss import loss
from ..core.lowering import KernelData, Target
from ..errors import InputError


@dataclass
class Fit:
    m: int
    a: np.ndarray
    w: np.ndarray
    loss: float
    improved: bool
    """False when the optimiser did not beat the width m-1 optimum (which is then kept)."""


def lp_error(target: Target, values: dict, a, w, *, p: int = 1) -> float:
    """||rho - rho_hat||_p for p = 1 or 2.

    SciPy quadrature on [0, T] split at the residual's sign changes (located by brentq), T large
    enough that rho_hat < e^-40 |a| beyond it; the tail, where the residual is -rho, by mpmath.
    """
    import mpmath

    rho = target.kernel_function(values)
    a, w = np.asarray(a, float), np.asarray(w, float)

    def r(t):
        t = np.asarray(t, dtype=float)
        return np.sum(a[:, None] * np.exp(-np.outer(w, np.atleast_1d(t))), axis=0).reshape(t.shape) - rho(t)

    active = np.abs(a) > 0
    t_end = max(200.0, 40.0 / float(np.min(w[active]))) if active.any() else 200.0
    grid = np.concatenate([[0.0], np.geomspace(1e-6, t_end, 6000)])
    vals = r(grid)
    edges = [0.0]
    for x0, x1, v0, v1 in zip(grid[:-1], grid[1:], vals[:-1], vals[1:]):
        if v0 * v1 < 0:
            edges.append(optimize.brentq(lambda x: float(r(x)), x0, x1, xtol=1e-15))
    edges.append(t_end)
    f = (lambda t: abs(float(r(t)))) if p == 1 else (lambda t: float(r(t)) ** 2)
    total = sum(
        integrate.quad(f, lo, hi, epsabs=0.0, epsrel=1e-11, limit=500)[0]
        for lo, hi in zip(edges[:-1], edges[1:])
        if hi > lo
    )
    rho_mp = sp.lambdify(T, target.kernel.substitute(values), modules="mpmath")
    with mpmath.workdps(20):
        tail = mpmath.quad(lambda t: abs(rho_mp(t)) ** p, [t_end, 10 * t_end, mpmath.inf])
    total += float(tail)
    return total if p == 1 else math.sqrt(total)


def best_fit(
    target: Target,
    data: KernelData,
    m: int,
    *,
    previous: Fit | None = None,
    starts: int = 6,
    seed: int = 0,
    min_rate: float | None = None,
) -> Fit:
    """The best L2 fit of width m (see module docstring).

    With ``min_rate`` every decay rate is kept >= min_rate (the spectrum of W stays below -min_rate),
    the setting of the inverse theorem (JMLR Thm 11)."""
    if m < 1:
        raise InputError("widths", f"widths must be positive, got {m}")

    @jax.jit
    def objective(x):
        a, v = x[:m], x[m:]
        return loss(target, data, jnp.concatenate([a, jnp.exp(v)]))

    value_and_grad = jax.jit(jax.value_and_grad(objective))

    def fun(x):
        val, grad = value_and_grad(jnp.asarray(x))
        return float(val), np.asarray(grad, dtype=float)

    rng = np.random.default_rng(seed)
    guesses = []
    extra = 0 if previous is None else m - previous.m
    if previous is not None and extra > 0:
        for spread in ((1 / 3, 3.0), (0.1, 0.5), (2.0, 10.0)):
            w_new = np.geomspace(np.min(previous.w) * spread[0], np.max(previous.w) * spread[1], extra)
            guesses.append(np.concatenate([previous.a, np.zeros(extra), np.log(np.append(previous.w, w_new))]))
    lo = 0.02 if min_rate is None else max(min_rate, 0.02)
    for _ in range(starts):
        w0 = np.sort(np.exp(rng.uniform(np.log(lo), np.log(20.0 + lo), m)))
        guesses.append(np.concatenate([np.zeros(m), np.log(w0)]))
    bounds = [(None, None)] * m + [(None if min_rate is None else math.log(min_rate), None)] * m
    best = None
    for x0 in guesses:
        if min_rate is not None:
            x0 = np.concatenate([x0[:m], np.maximum(x0[m:], math.log(min_rate))])
        res = optimize.minimize(
            fun, x0, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 4000, "ftol": 1e-16, "gtol": 1e-13}
        )
        if np.all(np.isfinite(res.x)) and np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    a, w = best.x[:m], np.exp(best.x[m:])
    if previous is not None and best.fun > previous.loss:
        return Fit(
            m,
            np.append(previous.a, np.zeros(extra)),
            np.append(previous.w, np.full(extra, max(1.0, lo))),
            previous.loss,
            improved=False,
        )
    return Fit(m, a, w, float(best.fun), improved=True)


def q_function(target: Target, values: dict, alpha: int, beta: float):
    """q(s) = rho(-(alpha+1) ln(s)/beta) / s as a SymPy expression in s (JMLR Thm 10's substitution)."""
    s = sp.Symbol("s", positive=True)
    rho = target.kernel.substitute(values)
    return s, sp.simplify(rho.subs(T, -(alpha + 1) * sp.log(s) / sp.Rational(repr(float(beta)))) / s)


def jackson_network(target: Target, values: dict, m: int, alpha: int, beta: float):
    """(a, w) of the width-m Jackson network: w_k = k beta/(alpha+1), a_k = coefficient of s^(k-1) of the
    degree m-1 Chebyshev interpolant of q on [0, 1]."""
    s, q = q_function(target, values, alpha, beta)
    qf = sp.lambdify(s, q, modules=["scipy", "numpy"])
    nodes = 0.5 * (1 + np.cos((2 * np.arange(m) + 1) * np.pi / (2 * m)))  # Chebyshev points on [0, 1]
    with np.errstate(all="ignore"):
        vals = np.asarray(qf(nodes), dtype=float)
    cheb = np.polynomial.chebyshev.Chebyshev.fit(nodes, vals, m - 1, domain=[0, 1])
    coef = cheb.convert(kind=np.polynomial.Polynomial, domain=[0, 1], window=[0, 1]).coef
    coef = np.pad(coef, (0, m - coef.size))
    w = np.arange(1, m + 1) * beta / (alpha + 1)
    return coef, w


def jackson_bound(target: Target, values: dict, m: int, alpha: int, beta: float, *, grid: int = 20001) -> float:
    """The L1 error bound for ``jackson_network``:

        ||rho - rho_hat||_L1 = ((alpha+1)/beta) int_0^1 |q - Q| ds
                             <= ((alpha+1)/beta) (1 + Lambda_{m-1}) E_{m-1}(q),
        E_{m-1}(q) <= (pi/4)^alpha ||q^(alpha)||_inf / (m (m-1) ... (m-alpha+1))      (m >= alpha),

    with Jackson's theorem on [0, 1] (Rivlin's constant (pi/2)^alpha on [-1, 1], halved interval) and the
    Chebyshev-interpolation Lebesgue constant Lambda_n <= (2/pi) ln(n+1) + 1. ||q^(alpha)||_inf is
    taken on a fine grid (an estimate of a supremum: stated, not hidden).
    """
    if m < alpha:
        return math.inf
    s, q = q_function(target, values, alpha, beta)
    dq = sp.lambdify(s, sp.diff(q, s, alpha), modules=["scipy", "numpy"])
    xs = np.linspace(1e-9, 1.0, grid)
    with np.errstate(all="ignore"):
        vals = np.abs(np.asarray(dq(xs), dtype=float))
    sup = float(np.nanmax(vals))
    falling = math.prod(range(m - alpha + 1, m + 1))
    lebesgue = (2 / math.pi) * math.log(m) + 1
    return (alpha + 1) / beta * (1 + lebesgue) * (math.pi / 4) ** alpha * sup / falling


MAX_WIDTH = 32
"""Widest fit offered (the float64 L2 optimiser stalls long before; see the README's limits)."""


@dataclass(repr=False)
class Approximation:
    """Best fits per width (errors in L2 and L1 = sup_t ||H_t - H_hat_t||), and with ``beta`` the
    Jackson network of Thm 10 with its error, bound and constants (:func:`memdyn.approximate`).

    Attributes:
        m: the widths.
        l2_error: the best fit's L2 error per width; ``l1_error`` its L1 error.
        improved: False where the optimiser did not improve on width m-1 (that fit is kept).
        a: each width's amplitudes; ``w`` its decay rates.
        jackson_l1_error: with ``beta``, the constructive network's L1 error per width;
            ``jackson_bound`` Theorem 10's bound; ``constants`` its alpha, beta, gamma.
    """

    m: list[int]
    min_rate: float | None
    l2_error: list[float]
    l1_error: list[float]
    improved: list[bool]
    """False where the optimiser did not improve on width m-1 (the m-1 fit is kept)."""
    a: list[list[float]]
    w: list[list[float]]
    alpha: int | None = None
    beta: float | None = None
    jackson_l1_error: list[float] | None = None
    jackson_bound: list[float] | None = None
    constants: dict | None = None

    @property
    def rate_best_l1(self) -> dict | None:
        """Slope of ln(L1 error) against ln m for the best fits (Thm 10: at most -alpha)."""
        return rate_fit(self.m, self.l1_error)

    @property
    def rate_jackson_l1(self) -> dict | None:
        return None if self.jackson_l1_error is None else rate_fit(self.m, self.jackson_l1_error)

    def __repr__(self) -> str:
        return (
            f"Approximation(widths {self.m}, L2 error {self.l2_error[0]:.3g}..{self.l2_error[-1]:.3g}"
            + (", with the Jackson network" if self.jackson_l1_error else "")
            + ")"
        )

    def to_pandas(self):
        """One row per width (errors, and the Jackson network's where built) as a ``pandas.DataFrame``."""
        import pandas as pd

        table = {"m": self.m, "l2_error": self.l2_error, "l1_error": self.l1_error, "improved": self.improved}
        if self.jackson_l1_error is not None:
            table.update(jackson_l1_error=self.jackson_l1_error, jackson_bound=self.jackson_bound)
        return pd.DataFrame(table)

    def plot(self, ax=None):
        """L2 and L1 errors (and the Jackson network's) against the width, log-log. Returns the axes."""
        from ..plots import plot_lines

        series = {"L2 error": self.l2_error, "L1 error": self.l1_error}
        if self.jackson_l1_error is not None:
            series.update({"Jackson L1": self.jackson_l1_error, "Thm 10 bound": self.jackson_bound})
        return plot_lines(self.m, series, ax=ax, logx=True, xlabel="width m", ylabel="error")

    def to_json(self) -> dict:
        return {
            "m": self.m,
            "min_rate": self.min_rate,
            "l2_error": self.l2_error,
            "l1_error": self.l1_error,
            "improved": self.improved,
            "a": self.a,
            "w": self.w,
            "alpha": self.alpha,
            "beta": self.beta,
            "jackson_l1_error": self.jackson_l1_error,
            "jackson_bound": self.jackson_bound,
            "constants": self.constants,
            "rate_best_l1": self.rate_best_l1,
            "rate_jackson_l1": self.rate_jackson_l1,
        }


@float64
def approximate(
    target: Target, values: dict, widths, *, alpha: int = 1, beta: float | None = None, min_rate: float | None = None
) -> Approximation:
    """Best-fit L2/L1 errors (decay rates >= ``min_rate`` if given) and, with ``beta``, the Jackson
    network's error, bound and Thm 10 constants, for each width."""
    ms = []
    for m in widths:
        if m != int(m) or not 1 <= m <= MAX_WIDTH:
            raise InputError("widths", f"widths must be integers in 1..{MAX_WIDTH}, got {m:g}")
        ms.append(int(m))
    if int(alpha) != alpha or alpha < 1:
        raise InputError("alpha", f"must be a positive integer, got {alpha}")
    if beta is not None and not beta > 0:
        raise InputError("beta", f"must be positive, got {beta}")
    if min_rate is not None and not min_rate > 0:
        raise InputError("min_rate", f"must be positive, got {min_rate}")
    data = target.data(values)
    fits, prev = [], None
    for m in sorted(ms):
        prev = best_fit(target, data, m, previous=prev, min_rate=min_rate)
        fits.append(prev)
    out = Approximation(
        m=[f.m for f in fits],
        min_rate=min_rate,
        l2_error=[lp_error(target, values, f.a, f.w, p=2) for f in fits],
        l1_error=[lp_error(target, values, f.a, f.w, p=1) for f in fits],
        improved=[f.improved for f in fits],
        a=[f.a.tolist() for f in fits],
        w=[f.w.tolist() for f in fits],
    )
    if beta is not None:
        out.alpha, out.beta = alpha, beta
        out.jackson_l1_error, out.jackson_bound = [], []
        for m in out.m:
            a, w = jackson_network(target, values, m, alpha, beta)
            out.jackson_l1_error.append(lp_error(target, values, a, w, p=1))
            out.jackson_bound.append(jackson_bound(target, values, m, alpha, beta))
        out.constants = jackson_constants(target, values, alpha, beta)
    return out


def jackson_constants(
    target: Target, values: dict, alpha: int, beta: float, *, t_max: float = 300.0, grid: int = 20001
) -> dict:
    """gamma of Thm 10 for given (alpha, beta): max_j sup_t e^{beta t} |rho^(j)(t)| / beta^(j+1), j = 0..alpha.

    Derivatives are symbolic (SymPy); each supremum is taken on a grid over [0, t_max] (an estimate,
    stated as such) and ``decays`` records whether e^{beta t} rho^(j) has fallen by t_max, as the
    theorem's o(1) condition (25) requires.
    """
    rho = target.kernel.substitute(values)
    ts = np.linspace(0.0, t_max, grid)
    sups, decays = [], []
    for j in range(alpha + 1):
        f = sp.lambdify(T, sp.diff(rho, T, j), modules=["scipy", "numpy"])
        with np.errstate(all="ignore"):
            vals = np.abs(np.exp(beta * ts) * np.broadcast_to(np.asarray(f(ts), dtype=float), ts.shape))
        sups.append(float(np.nanmax(vals)) / beta ** (j + 1))
        decays.append(bool(vals[-1] < 1e-6 * max(np.nanmax(vals), 1e-300)))
    return {"alpha": alpha, "beta": beta, "gamma": max(sups), "per_derivative": sups, "decays": all(decays)}


def rate_fit(ms, errors) -> dict | None:
    """Slope of ln(error) against ln(m) (compare with -alpha for Thm 10's m^-alpha); two widths suffice."""
    f = fit_log_linear(np.log(np.asarray(ms, float)), errors, min_points=2)
    return f.to_json() if f else None
