"""Reparameterised decay rates w = g(v): the gradient flow in v, by the chain rule in SymPy.

Training v instead of w changes the flow: dv/dtau = -dJ/dv = -g'(v) dJ/dw, so in w

    dw/dtau = -g'(v)^2 dJ/dw,

the plain flow under the diagonal metric g'(g^{-1}(w))^2 (the amplitudes are untouched). The
maps offered are the table of ``memdyn.core.maps`` (``plain``, ``exp``, ``softplus``, ``best``,
``lru``; that ``lru`` and ``exp`` give the same flow in w is checked by a test).

How: ``MappedTarget`` wraps a lowered ``memdyn.core.lowering.Target`` and presents the same
interface in v. The per-neuron transforms become L(g(v)), d/dv L(g(v)), d2/dv2 L(g(v)), obtained by
differentiating ``L(g(v))`` for an undefined SymPy function L (Faa di Bruno done by SymPy), and the
pair kernel becomes 1/(g(u) + g(v)) differentiated symbolically. Both are lowered by the same
lowering as every other template, so ``memdyn.core.loss`` and ``memdyn.core.integrate`` run unchanged.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import InputError, MemdynError
from .lowering import JAX, NUMPY, Backend, Target, lower_expr
from .maps import DESCRIPTIONS as DESCRIPTIONS
from .maps import TABLE

_V = sp.Symbol("v", real=True)
_U = sp.Symbol("u", real=True)
_L = sp.symbols("L0 L1 L2", real=True)
_W = sp.Symbol("w", positive=True)

MAPS: dict[str, sp.Expr] = {name: m.build(sp, _V) for name, m in TABLE.items()}
"""Map name -> g(v) as a SymPy expression (``memdyn.core.maps.TABLE``)."""


def composed_derivatives(g: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(L(g), d/dv L(g(v)), d2/dv2 L(g(v))) with L, L', L'' at g(v) written as symbols L0, L1, L2."""
    f = sp.Function("L")
    out = []
    for n in range(3):
        e = sp.diff(f(g), _V, n).doit()
        derivs = sorted(e.atoms(sp.Subs), key=lambda s: -len(s.expr.variables))
        for s in derivs:  # Subs(Derivative(L(x), (x, k)), x, g) -> L_k
            e = e.subs(s, _L[len(s.expr.variables)])
        for d in e.atoms(sp.Derivative):  # Derivative(L(v), v) when g(v) = v itself
            if d.expr.func == f:
                e = e.subs(d, _L[d.derivative_count])
        e = e.subs(f(g), _L[0])
        if e.atoms(sp.Derivative) or e.atoms(sp.Subs):
            raise MemdynError(f"chain rule left an unresolved derivative in {e}")
        out.append(sp.simplify(e))
    return tuple(out)


def pair_derivatives(g: sp.Expr) -> tuple[sp.Expr, ...]:
    """(K, K_u, K_uu, K_uv) of K(u, v) = 1/(g(u) + g(v))."""
    K = 1 / (g.subs(_V, _U) + g)
    return K, sp.diff(K, _U), sp.diff(K, _U, 2), sp.diff(K, _U, _V)


@functools.cache
def _branches(name: str):
    """SymPy's solutions of g(v) = w for v, lambdified, the v >= 0 branch first."""
    roots = sp.solve(sp.Eq(MAPS[name], _W), _V)
    roots = sorted(roots, key=lambda r: 0 if r.could_extract_minus_sign() else -1)
    return [sp.lambdify(_W, r, "numpy") for r in roots], sp.lambdify(_V, MAPS[name], "numpy")


def inverse(name: str, w) -> np.ndarray:
    """v = g^{-1}(w) for positive rates w (the real branch with v >= 0 where there are two)."""
    w = np.asarray(w, dtype=float)
    if np.any(w <= 0):
        raise InputError("w0", "decay rates must be positive")
    branches, g = _branches(name)
    for f in branches:
        with np.errstate(all="ignore"):
            v = np.asarray(f(w), dtype=complex)
        if np.all(np.abs(v.imag) < 1e-12) and np.all(np.isfinite(v.real)):
            v = v.real
            if np.allclose(g(v), w, rtol=1e-12, atol=0):
                return v
    raise InputError("param_map", f"'{name}' cannot reach the rates {w.tolist()} (the map's range is too small)")


@dataclass(frozen=True, eq=False)
class MappedTarget:
    """A target whose neurons carry v with w = g(v); the ``Target`` interface, in v."""

    base: Target
    name: str
    _templates: dict

    def __getattr__(self, item):  # kernel, data, data_batch, check_values, has_quadrature, ...
        return getattr(self.base, item)

    @property
    def fingerprint(self) -> str:
        return f"{self.base.fingerprint}:{self.name}"

    def lowered(self) -> MappedTarget:
        return self

    @property
    def map_expr(self) -> sp.Expr:
        return MAPS[self.name]

    def rates(self, v, backend: Backend = JAX):
        return self._templates[backend.name]["g"](v)

    def transforms(self, v, data, backend: Backend = JAX):
        L, d1, d2 = self.base.transforms(self.rates(v, backend), data, backend)
        c = self._templates[backend.name]["chain"]
        return tuple(f(v, L, d1, d2) for f in c)

    def pair(self, u, v, backend: Backend = JAX):
        return tuple(f(u, v) for f in self._templates[backend.name]["pair"])

    # coordinates: users give and read decay rates w; the flow runs in v
    def internal(self, theta) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        m = theta.shape[-1] // 2
        return np.concatenate([theta[..., :m], inverse(self.name, theta[..., m:])], axis=-1)

    def external(self, theta) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        m = theta.shape[-1] // 2
        return np.concatenate([theta[..., :m], np.asarray(self.rates(theta[..., m:], NUMPY))], axis=-1)

    def metric(self, w) -> np.ndarray:
        """g'(g^{-1}(w))^2: the factor the reparameterisation puts on dw/dtau."""
        return np.asarray(_metric(self.name)(inverse(self.name, w)), dtype=float)


@functools.cache
def _metric(name: str):
    return sp.lambdify(_V, sp.diff(MAPS[name], _V) ** 2, "numpy")


@functools.lru_cache(maxsize=64)
def mapped(target: Target, name: str) -> Target | MappedTarget:
    """``target`` trained in v with decay rates w = g(v) (the maps of :mod:`memdyn.core.maps`).

    Args:
        target: a lowered target.
        name: ``"plain"`` (returns ``target`` itself), ``"exp"``, ``"softplus"``, ``"best"``, ``"lru"``.

    Returns:
        A MappedTarget with the same interface, whose flow is the gradient flow in (a, v).
    """
    if name not in MAPS:
        raise InputError("param_map", f"must be one of {', '.join(MAPS)}, got {name!r}")
    if name == "plain":
        return target
    _branches(name)  # SymPy solves g(v) = w here, once, not inside a hitting-time call
    g = MAPS[name]
    chain = composed_derivatives(g)
    pair = pair_derivatives(g)
    templates = {}
    for backend in (JAX, NUMPY):
        templates[backend.name] = {
            "g": lower_expr(g, (_V,), backend),
            "chain": tuple(lower_expr(e, (_V, *_L), backend) for e in chain),
            "pair": tuple(lower_expr(e, (_U, _V), backend) for e in pair),
        }
    return MappedTarget(base=target, name=name, _templates=templates)
