"""Stage 2: the one place SymPy meets JAX.

``FUNCTION_NAMES`` is the translation table from SymPy function classes to array functions,
resolved in a ``Backend`` (JAX for the flows; NumPy for SciPy baselines, from the same
derivation); ``lower_expr`` walks an expression once per trace, sharing repeated
subexpressions (a trace-time CSE), and refuses anything not in the table by name. ``lower``
turns a ``memdyn.core.symbolic.Derivation`` into a ``Target``: the per-neuron templates L, L',
L'' and the pair kernel K as functions of (w, data), vectorised over neurons by broadcasting.

Parameter values never enter the compiled code as constants: they travel in ``KernelData``
(with the quadrature samples and ||rho||^2), so one compiled flow serves a whole sweep.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import jax.scipy.special as jss
import mpmath
import numpy as np
import scipy.special
import sympy as sp

from ..errors import InputError, LoweringError
from .data import KernelData, on_device
from .formula import T
from .functions import LOWERED
from .jaxsetup import float64, require_x64
from .limits import ARRAY_NORMS_FROM
from .params import check_values
from .quadrature import Unresolved, adapted_rule
from .stable import experfc, plain
from .symbolic import ALPHA, BETA, DA, DW, Derivation, U, V, W, X, centred_pair, exponential_term, fingerprint


@dataclass(frozen=True)
class Backend:
    """An array namespace to lower into: ``xp`` (jax.numpy or numpy) and its special functions."""

    name: str
    xp: object
    special: object

    def function(self, cls: type) -> Callable:
        f = LOWERED[cls]
        return getattr(self.special if f.special else self.xp, f.array)


FUNCTION_NAMES: dict[type, str] = {cls: f.array for cls, f in LOWERED.items()}
"""The lowering table, read from ``memdyn.core.functions.FUNCTIONS``: SymPy function class ->
array function name. Extend that table to lower more closed forms; ``experfc`` is handled apart."""

JAX = Backend("jax", jnp, jss)
NUMPY = Backend("numpy", np, scipy.special)


def _experfc(A, z, A_minus_z2, backend: Backend = JAX):
    """exp(A) erfc(z), finite whenever the product is.

    For z >= 0 it is exp(A - z^2) erfcx(z), with A - z^2 expanded *symbolically* (so the large
    exponents cancel exactly, not in floating point); for z < 0, erfc(z) lies in (1, 2] and the
    plain product is safe. Both branches see only in-range arguments (the double-where trick),
    so gradients through the unused branch stay finite.
    """
    xp = backend.xp
    pos = z >= 0
    z_pos = xp.where(pos, z, 0.0)
    z_neg = xp.where(pos, 0.0, z)
    e_pos = xp.where(pos, A_minus_z2, 0.0)
    e_neg = xp.where(pos, 0.0, A)
    return xp.where(pos, xp.exp(e_pos) * backend.special.erfcx(z_pos), xp.exp(e_neg) * backend.special.erfc(z_neg))


def _check(expr: sp.Basic) -> None:
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Function) and type(node) not in FUNCTION_NAMES and not isinstance(node, experfc):
            raise LoweringError(f"cannot lower {type(node).__name__} (not in FUNCTION_NAMES)")
        if node in (sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise LoweringError(f"cannot lower a non-finite constant in {expr}")


_Experfc3 = sp.Function("_experfc3")


def _floated_big_numbers(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every integer or fraction beyond float64's exact integers (2^53) as a float: lambdify
    prints numbers as Python literals, and NumPy's ufuncs refuse an integer past int64 (``sin(1E20)``)."""
    big = [q for q in expr.atoms(sp.Rational) if max(abs(q.p), q.q) > 2**53]
    return expr.xreplace({q: sp.Float(q, 17) for q in big}) if big else expr


def _lower_numpy(expr: sp.Expr, symbols: Sequence[sp.Symbol]) -> Callable:
    # NumPy pays Python overhead per operation, so a tree walk per call would be slow: emit
    # straight-line code once (lambdify with CSE), every function resolved through the same table.
    expr = _floated_big_numbers(expr.replace(experfc, lambda A, z: _Experfc3(A, z, sp.expand(A - z**2))))
    namespace = {name: NUMPY.function(cls) for cls, name in FUNCTION_NAMES.items()}
    namespace["_experfc3"] = lambda A, z, shifted: _experfc(A, z, shifted, NUMPY)
    return sp.lambdify(symbols, expr, modules=[namespace, "numpy"], cse=True)


def lower_expr(expr: sp.Expr, symbols: Sequence[sp.Symbol], backend: Backend = JAX) -> Callable:
    """A function of ``symbols`` (positional) that evaluates ``expr`` with ``backend``'s arrays."""
    _check(expr)
    symbols = tuple(symbols)
    if backend is NUMPY:
        return _lower_numpy(expr, symbols)
    xp = backend.xp

    def fn(*args):
        env = dict(zip(symbols, args))
        memo: dict[sp.Basic, object] = {}

        def ev(e):
            if e in memo:
                return memo[e]
            if e.is_Symbol:
                v = env[e]
            elif e.is_Number or e.is_NumberSymbol:
                v = xp.asarray(float(e), dtype=xp.float64)
            elif e.is_Add:
                v = functools.reduce(xp.add, [ev(x) for x in e.args])
            elif e.is_Mul:
                v = functools.reduce(xp.multiply, [ev(x) for x in e.args])
            elif e.is_Pow:
                base, power = e.args
                if power == sp.Rational(1, 2):
                    v = xp.sqrt(ev(base))
                elif power.is_Integer:
                    v = xp.power(ev(base), int(power))
                else:
                    v = xp.power(ev(base), ev(power))
            elif isinstance(e, experfc):
                A, z = e.args
                v = _experfc(ev(A), ev(z), ev(sp.expand(A - z**2)), backend)
            else:
                v = backend.function(type(e))(*[ev(x) for x in e.args])
            memo[e] = v
            return v

        return ev(expr)

    return fn


def _numpy_function(expr: sp.Expr, params: Sequence[sp.Symbol] = ()) -> Callable[..., np.ndarray]:
    """``expr`` as a NumPy/SciPy function ``g(t, params=[values of params])`` (host side)."""
    f = sp.lambdify((T, *params), _floated_big_numbers(expr), modules=["scipy", "numpy"])

    def g(t, params=()):
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(f(t, *params), dtype=float), np.shape(t))

    return g


NORM_CANCELLATION = 1e3
"""Largest (sum of |terms|)/|sum| at which ||rho||^2's closed form is summed in float64."""
NORM_AGREEMENT = 1e-13
"""Largest relative difference from 50-digit mpmath, at the sampled elements, for the float64 sum."""


@dataclass(frozen=True, eq=False)
class Target:
    """A lowered kernel: JAX templates plus the host code that prepares ``KernelData``.

    Compare by identity: one object per derivation (see ``lower``), so JAX's compilation
    caches keyed on it are hit whenever the same formula comes back.
    """

    derivation: Derivation
    _templates: dict
    """backend name -> (L, L', L'' closed-form functions or None, pair-kernel functions); the NumPy
    backend's are built on first use (SciPy baselines only: most processes never need them)."""

    @property
    def kernel(self):
        return self.derivation.kernel

    @property
    def param_names(self) -> tuple[str, ...]:
        return self.kernel.param_names

    @property
    def has_quadrature(self) -> bool:
        return bool(self.derivation.quadrature_terms)

    @functools.cached_property
    def fingerprint(self) -> str:
        """What the lowered code depends on (the derivation's fingerprint): a key for cached solves."""
        return fingerprint(self.derivation.kernel)

    # --- run time (JAX) -------------------------------------------------------------------
    def transforms(self, w, data: KernelData, backend: Backend = JAX):
        """(L(w), L'(w), L''(w)) elementwise, with L the Laplace transform of rho."""
        return self._transforms(self._backend_templates(backend)[0], w, data, backend)

    def rest_transforms(self, w, data: KernelData, backend: Backend = JAX):
        """(L, L', L'') of rho less its exponential part (the terms c e^{-lambda t}, :meth:`exponential`)."""
        return self._transforms(self._centred(backend)["rest"], w, data, backend)

    def exponential(self, data: KernelData, backend: Backend = JAX):
        """(c, lambda): the amplitudes and rates of rho's terms c e^{-lambda t}, as arrays of shape (k,)
        at ``data``'s parameter values (k = 0 when rho has none)."""
        xp: Any = backend.xp
        p = [data.params[i] for i in range(len(self.kernel.params))]
        fns = self._centred(backend)["exponential"]
        if not fns:
            return xp.zeros(0), xp.zeros(0)
        c = xp.stack([xp.asarray(f(*p), dtype=xp.float64) for f, _ in fns])
        lam = xp.stack([xp.asarray(g(*p), dtype=xp.float64) for _, g in fns])
        return c, lam

    def centred_overlaps(self, x, delta_a, delta_w, alpha, beta, backend: Backend = JAX):
        """(D0, D1) of ``memdyn.core.symbolic.centred_pair``: the overlaps <., e^{-xt}> and <., t e^{-xt}>
        of a neuron's change from its anchor (alpha, beta), in the small quantities (broadcasting)."""
        return tuple(f(x, delta_a, delta_w, alpha, beta) for f in self._centred(backend)["pair"])

    def _centred(self, backend: Backend) -> dict:
        key = f"centred-{backend.name}"
        if key not in self._templates:
            self._templates[key] = _centred_templates(self.derivation, backend)
        return self._templates[key]

    def _transforms(self, laplace, w, data: KernelData, backend: Backend):
        xp = backend.xp
        zero = xp.zeros_like(w)
        L, d1, d2 = zero, zero, zero
        if laplace is not None:
            p = [data.params[i] for i in range(len(self.kernel.params))]
            L = L + laplace[0](w, *p)
            d1 = d1 + laplace[1](w, *p)
            d2 = d2 + laplace[2](w, *p)
        if self.has_quadrature:
            e = xp.exp(-w[..., None] * data.quad_t) * data.quad_c
            L = L + xp.sum(e, axis=-1)
            d1 = d1 - xp.sum(e * data.quad_t, axis=-1)
            d2 = d2 + xp.sum(e * data.quad_t**2, axis=-1)
        return L, d1, d2

    def pair(self, u, v, backend: Backend = JAX):
        """(K, dK/du, d2K/du2, d2K/dudv) of the pair kernel K(u, v) = 1/(u + v)."""
        return tuple(f(u, v) for f in self._backend_templates(backend)[1])

    def _backend_templates(self, backend: Backend):
        if backend.name not in self._templates:
            self._templates[backend.name] = _templates(self.derivation, backend)
        return self._templates[backend.name]

    def lowered(self) -> Target:
        """The target a solve traces: itself (a ``memdyn.core.warm.WarmTarget`` builds one)."""
        return self

    # coordinates: the flow runs in theta = (a, w) itself (a reparameterised target overrides these)
    def internal(self, theta) -> np.ndarray:
        """A start (a, w) in the flow's coordinates."""
        return np.asarray(theta, dtype=float)

    def external(self, theta) -> np.ndarray:
        """The flow's coordinates back in (a, w)."""
        return np.asarray(theta, dtype=float)

    # --- preparation (host) ---------------------------------------------------------------
    def check_values(self, values: Mapping[str, float]) -> dict[str, float]:
        return check_values(self.kernel.param_names, self.kernel.param_signs, values)

    def kernel_function(self, values: Mapping[str, float] | None = None) -> Callable[[np.ndarray], np.ndarray]:
        """rho(t) as a NumPy/SciPy function of t at checked parameter values (host side)."""
        return self._bind(self._host()[0], self.check_values(dict(values or {})))

    def _bind(self, fn: Callable, values: Mapping[str, float]) -> Callable[[np.ndarray], np.ndarray]:
        """A host function of (t, params=...) at these parameter values."""
        return functools.partial(fn, params=[values[n] for n in self.kernel.param_names])

    @float64
    def data(self, values: Mapping[str, float] | None = None) -> KernelData:
        """KernelData for one set of parameter values."""
        batch = self._data_numpy([values or {}])
        return on_device(KernelData(*(x[0] for x in batch)))

    @float64
    def data_batch(self, values_list: Sequence[Mapping[str, float]], *, host: bool = False) -> KernelData:
        """KernelData for several parameter sets, stacked along axis 0, on one common rule
        (NumPy arrays with ``host``, for slicing and padding before a compiled call)."""
        data = self._data_numpy(values_list)
        return data if host else on_device(data)

    def _host(self):
        """rho and its quadrature terms as NumPy/SciPy functions of (t, *params), and ||rho||^2's
        closed form as an mpmath function of the parameters: lambdified once per target, so that a
        sweep over many values costs no SymPy work per value."""
        if "host" not in self._templates:
            params = self.kernel.params
            quad = self.derivation.quadrature_terms
            closed = self.derivation.norm2
            self._templates["host"] = (
                _numpy_function(self.kernel.expr, params),
                _numpy_function(sp.Add(*quad), params) if quad else None,
                sp.lambdify(params, plain(closed), modules="mpmath") if closed is not None else None,
            )
        return self._templates["host"]

    def _data_numpy(self, values_list: Sequence[Mapping[str, float]]) -> KernelData:
        # Host arrays first: indexing JAX arrays would dispatch (and compile) small device ops.
        checked = [self.check_values(v) for v in values_list]
        norms = self._norms(checked)
        _, quad_fn, _ = self._host()
        if quad_fn is not None:
            fq = [self._bind(quad_fn, v) for v in checked]
            try:
                rule = adapted_rule(fq)
            except Unresolved as err:
                raise InputError("rho", str(err)) from None
            except FloatingPointError as err:
                raise InputError("rho", f"{err}: memdyn integrates kernels that are finite for t > 0") from None
            qt = np.broadcast_to(rule.t, (len(checked), rule.t.size))
            qc = np.stack([rule.weights * f(rule.t) for f in fq])
        else:
            qt = np.zeros((len(checked), 0))
            qc = np.zeros((len(checked), 0))
        params = np.array([[v[n] for n in self.kernel.param_names] for v in checked]).reshape(len(checked), -1)
        return KernelData(
            params=params.astype(float),
            quad_t=np.asarray(qt, dtype=float),
            quad_c=np.asarray(qc, dtype=float),
            norm2=np.asarray(norms, dtype=float),
        )

    def _norms(self, checked: Sequence[Mapping[str, float]]) -> np.ndarray:
        """||rho||^2 for every set of values: per element by :meth:`_norm2` (50-digit mpmath, or
        quadrature), or, for a batch of ``ARRAY_NORMS_FROM`` or more, at array speed where float64 is
        safe.

        For a large batch the derivation's stabilised closed form is evaluated in float64 over the
        whole batch, term by term. An element keeps that value when rho(0) is finite, the sum is
        positive and its terms cancel by less than ``NORM_CANCELLATION`` (sum of |terms| over |sum|),
        and only if 50-digit mpmath agrees within ``NORM_AGREEMENT`` at up to 16 sampled elements (both
        ends of every parameter's range among them): the closed form's decimal constants are rounded
        to binary in float64, which the term check cannot see. Every other element takes
        :meth:`_norm2`. Measured on the plateau kernel, mu = 0.1..60: within 3 ulp of mpmath; 4,097
        values in 0.04 s against 1.4 s. (||rho||^2 enters the loss as a constant, never the flow.)
        """
        n = len(checked)
        out = np.full(n, np.nan)
        closed = self.derivation.norm2
        if n >= ARRAY_NORMS_FROM and closed is not None and not closed.has(sp.oo, sp.zoo, sp.nan):
            if "norm2_terms" not in self._templates:
                try:
                    terms = [lower_expr(t, self.kernel.params, NUMPY) for t in sp.Add.make_args(closed)]
                except LoweringError:  # a function without a float64 form (gamma, ...): per element
                    terms = []
                self._templates["norm2_terms"] = terms
            if self._templates["norm2_terms"]:
                out = self._array_norms(checked)
        for i in np.flatnonzero(np.isnan(out)).tolist():
            out[i] = self._norm2(checked[i])
        return out

    def _array_norms(self, checked: Sequence[Mapping[str, float]]) -> np.ndarray:
        n = len(checked)
        out = np.full(n, np.nan)
        cols = [np.array([v[name] for v in checked], dtype=float) for name in self.kernel.param_names]
        with np.errstate(all="ignore"):
            at0 = self._host()[0](np.zeros(n), params=cols)
            terms = np.stack([np.broadcast_to(f(*cols), (n,)) for f in self._templates["norm2_terms"]])
            total = terms.sum(axis=0)
            good = np.isfinite(at0) & np.isfinite(total) & (total > 0)
            good &= np.abs(terms).sum(axis=0) <= NORM_CANCELLATION * np.where(good, total, np.inf)
        picks = {int(i) for i in np.linspace(0, n - 1, 8)}
        for col in cols:
            picks |= {int(np.argmin(col)), int(np.argmax(col))}
        for i in sorted(picks)[:16]:
            if good[i] and abs(total[i] / self._norm2(checked[i]) - 1) > NORM_AGREEMENT:
                return out  # the closed form loses digits in float64 here: every element by mpmath
        out[good] = total[good]
        return out

    def _norm2(self, values: Mapping[str, float]) -> float:
        """||rho||^2 for given values; refuses kernels whose loss is not finite."""
        rho_fn, _, closed_fn = self._host()
        rho = self._bind(rho_fn, values)
        at0 = float(rho(np.array([0.0]))[0])
        if not math.isfinite(at0):
            limit = sp.limit(self.kernel.substitute(values), T, 0, "+")
            if not (limit.is_real and limit.is_finite):
                raise InputError("rho", f"rho is not finite at t = 0 (rho(0+) = {limit}); the loss would be infinite")
        if closed_fn is not None:
            # mpmath has no overflow, so 50 digits of the closed form are safe at any memory; the
            # parameters enter as the decimals they spell (exactly as formula.exact reads them).
            with mpmath.workdps(50):
                try:
                    value = closed_fn(*[mpmath.mpf(repr(float(values[n]))) for n in self.kernel.param_names])
                except (ZeroDivisionError, ValueError, OverflowError):
                    value = mpmath.nan
                if isinstance(value, mpmath.mpf) and mpmath.isfinite(value) and value >= 0:
                    return float(value)
                if isinstance(value, mpmath.mpf) and mpmath.isinf(value):
                    raise InputError(
                        "rho", "rho is not square-integrable (int rho^2 dt diverges); the loss would be infinite"
                    )

        def squared(t):  # an overflow is an infinity, which the rule refuses below (not a warning)
            with np.errstate(over="ignore"):
                return rho(t) ** 2

        try:
            rule = adapted_rule([squared])
        except FloatingPointError:
            raise InputError("rho", "rho is not finite on [0, oo); the loss would be infinite") from None
        except Unresolved as err:
            raise InputError("rho", str(err)) from None
        samples = squared(rule.t)
        total = float(np.sum(rule.weights * samples))
        if rule.truncated:
            # An algebraic tail rho^2 ~ t^-q beyond t_end adds t_end rho(t_end)^2 / (q - 1),
            # with q read off between t_end/2 and t_end; q <= 1 means the integral diverges.
            t_end = rule.t_end
            r1, r2 = (float(rho(np.array([x]))[0]) ** 2 for x in (t_end / 2, t_end))
            q = math.log(r1 / r2) / math.log(2.0) if r1 > 0 and r2 > 0 else math.inf
            if q <= 1.05:
                raise InputError(
                    "rho",
                    f"rho^2 decays like t^-{q:.3g} at t = {t_end:.3g}, too slowly to be "
                    "integrable; the loss would be infinite",
                )
            if math.isfinite(q):
                total += t_end * r2 / (q - 1.0)
        if not math.isfinite(total):
            raise InputError("rho", "rho is not square-integrable; the loss would be infinite")
        return total


def _lower_transforms(terms, params, backend: Backend):
    """(L, L', L'') summed over closed-form ``terms`` as functions ``f(w, *params)``, or None."""
    closed = [tt for tt in terms if tt.method == "closed form"]
    if not closed:
        return None
    exprs = [sp.Add(*(getattr(tt, name) for tt in closed)) for name in ("laplace", "d1", "d2")]
    xp = backend.xp
    funcs = [lower_expr(e, (W, *params), backend) for e in exprs]

    def broadcast(f):
        return lambda w, *p: xp.broadcast_to(f(w, *p), xp.shape(w)).astype(xp.float64)

    return tuple(broadcast(f) for f in funcs)


def _templates(derivation: Derivation, backend: Backend):
    """(L, L', L'' of the closed-form terms or None, pair-kernel functions) lowered to ``backend``."""
    laplace = _lower_transforms(derivation.terms, derivation.kernel.params, backend)
    pair = tuple(lower_expr(e, (U, V), backend) for e in derivation.pair)
    return laplace, pair


def _centred_templates(derivation: Derivation, backend: Backend) -> dict:
    """What the centred flow needs (``memdyn.core.loss.centred_gradient``): rho's exponential terms
    (c, lambda) as functions of the parameters, the transforms of the rest, and the centred overlaps."""
    params = derivation.kernel.params
    found = [exponential_term(tt.term) for tt in derivation.terms]
    exponential = [pair for pair in found if pair is not None]
    return {
        "exponential": [tuple(lower_expr(e, params, backend) for e in pair) for pair in exponential],
        "rest": _lower_transforms([tt for tt, e in zip(derivation.terms, found) if e is None], params, backend),
        "pair": tuple(lower_expr(e, (X, DA, DW, ALPHA, BETA), backend) for e in centred_pair(derivation.pair)),
    }


@functools.lru_cache(maxsize=64)
def lower(derivation: Derivation) -> Target:
    """Lower a :class:`~memdyn.core.symbolic.Derivation` to JAX templates (one Target per derivation).

    Special functions lower through the one table (:mod:`memdyn.core.functions`); closed forms are
    the stabilised ones (``erfcx``, log-space); terms without a usable closed form use quadrature.
    """
    require_x64()
    return Target(derivation=derivation, _templates={JAX.name: _templates(derivation, JAX)})
