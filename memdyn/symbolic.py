"""Stage 1 (SymPy only): the loss and the gradient flow of the reduced linear RNN.

For rho_hat(t; a, w) = sum_i a_i exp(-w_i t) and a target rho (JMLR eqs. 93-97),

    J(a, w) = sum_ij a_i a_j K(w_i, w_j) - 2 sum_i a_i L(w_i) + ||rho||^2,
    K(u, v) = int_0^oo exp(-(u + v) t) dt = 1/(u + v),
    L(w)    = int_0^oo exp(-w t) rho(t) dt          (Laplace transform of rho),

so everything a width-m model needs is two *templates*: the pair kernel K and the per-neuron
transform L, with their derivatives (L' = -int t e^{-wt} rho, L'' = int t^2 e^{-wt} rho). They are
derived once per formula and reused for any m; the gradient and Hessian are assembled from them
(:mod:`memdyn.loss`). :meth:`Derivation.unrolled` writes J and the flow out symbol by symbol for a
given m, for display and as a test oracle.

rho is split into additive terms; each term's transform is taken in closed form when SymPy finds
one whose functions can be lowered (then made numerically stable by :mod:`memdyn.stable`), and
otherwise by quadrature (:mod:`memdyn.quadrature`), which ``derive`` output states.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
from dataclasses import dataclass

import sympy as sp

from .errors import InputError
from .formula import T, Kernel
from .stable import experfc, plain, stabilise

W = sp.Symbol("w", positive=True)
"""The decay rate of one neuron in the per-neuron templates."""
U, V = sp.symbols("u v", positive=True)

LOWERABLE = (sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.sinh, sp.cosh, sp.tanh, sp.atan,
             sp.erf, sp.erfc, experfc, sp.Abs)
"""Function classes :mod:`memdyn.lowering` can evaluate in JAX (besides + * ** and constants)."""

SYMPY_SECONDS = 20
"""Time allowed to each SymPy integral before the quadrature fallback takes over."""


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: int):
    """Interrupt a SymPy call that runs too long (SymPy has no timeout of its own)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@dataclass(frozen=True)
class TermTransform:
    """The Laplace transform of one additive term of rho, and its first two w-derivatives.

    Attributes:
        term: the term of rho (an expression in t).
        method: ``"closed form"`` or ``"quadrature"``.
        laplace, d1, d2: stabilised closed forms in :data:`W` (``None`` for quadrature).
        note: why quadrature was used, if it was.
    """

    term: sp.Expr
    method: str
    laplace: sp.Expr | None = None
    d1: sp.Expr | None = None
    d2: sp.Expr | None = None
    note: str = ""


@dataclass(frozen=True)
class Derivation:
    """Everything SymPy knows about the loss of one target kernel (see module docstring)."""

    kernel: Kernel
    terms: tuple[TermTransform, ...]
    norm2: sp.Expr | None
    """||rho||^2 in closed form, or ``None`` (then computed by quadrature)."""
    pair: tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]
    """K(u, v), dK/du, d2K/du2, d2K/dudv."""

    @property
    def closed_laplace(self) -> sp.Expr:
        """The sum of the closed-form transforms (stable form)."""
        return sp.Add(*(tt.laplace for tt in self.terms if tt.method == "closed form"))

    @property
    def quadrature_terms(self) -> tuple[sp.Expr, ...]:
        return tuple(tt.term for tt in self.terms if tt.method == "quadrature")

    def laplace_display(self) -> sp.Expr:
        """L[rho](w): closed forms, and the unevaluated integral for quadrature terms."""
        parts = [tt.laplace if tt.method == "closed form"
                 else sp.Integral(sp.exp(-W * T) * tt.term, (T, 0, sp.oo)) for tt in self.terms]
        return sp.Add(*parts)

    def unrolled(self, m: int):
        """J, dJ/da, dJ/dw written out for width m with symbols a_1..a_m, w_1..w_m.

        Returns ``(a, w, J, grad_a, grad_w)``; L(w_i) appears as the closed form where there
        is one and as ``L(w_i)`` (an undefined function) otherwise. Meant for display and as
        an independent oracle in tests, not for computation (it grows like m^2).
        """
        if m < 1:
            raise InputError("--m", f"must be a positive integer, got {m}")
        a = sp.symbols(f"a_1:{m + 1}", real=True)
        w = sp.symbols(f"w_1:{m + 1}", positive=True)
        if self.quadrature_terms:
            Lfun = sp.Function("L")
            laplace = lambda x: Lfun(x)  # noqa: E731
        else:
            laplace = lambda x: self.closed_laplace.subs(W, x)  # noqa: E731
        K = self.pair[0]
        norm = self.norm2 if self.norm2 is not None else sp.Symbol(r"\|\rho\|^2")
        J = (sp.Add(*(a[i] * a[j] * K.subs({U: w[i], V: w[j]}) for i in range(m) for j in range(m)))
             - 2 * sp.Add(*(a[i] * laplace(w[i]) for i in range(m))) + norm)
        grad_a = [sp.diff(J, ai) for ai in a]
        grad_w = [sp.diff(J, wi) for wi in w]
        return a, w, J, grad_a, grad_w


def split_terms(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """Additive terms of rho after distributing products over sums at the top level only."""
    expanded = sp.expand(expr, deep=False, mul=True, multinomial=False,
                         power_exp=False, power_base=False, log=False)
    return sp.Add.make_args(expanded)


def _lowerable(expr: sp.Expr) -> bool:
    functions = expr.atoms(sp.Function)
    return all(isinstance(f, LOWERABLE) for f in functions) and not expr.has(
        sp.Integral, sp.LaplaceTransform, sp.Piecewise, sp.zoo, sp.nan, sp.oo)


def _term_transform(term: sp.Expr) -> TermTransform:
    try:
        with _time_limit(SYMPY_SECONDS):
            raw = sp.laplace_transform(term, T, W, noconds=True)
            if raw.has(sp.LaplaceTransform, sp.Integral):
                return TermTransform(term, "quadrature", note="SymPy found no closed form")
            laplace = stabilise(raw)
            if not _lowerable(laplace):
                bad = sorted({type(f).__name__ for f in laplace.atoms(sp.Function)
                              if not isinstance(f, LOWERABLE)})
                return TermTransform(term, "quadrature",
                                     note=f"closed form uses {', '.join(bad) or 'a form'} with no stable lowering")
            d1 = stabilise(sp.diff(laplace, W))
            d2 = stabilise(sp.diff(d1, W))
    except _Timeout:
        return TermTransform(term, "quadrature", note=f"SymPy gave no answer in {SYMPY_SECONDS} s")
    except Exception as err:  # SymPy raises many kinds of errors on integrals it cannot do
        return TermTransform(term, "quadrature", note=f"SymPy failed ({type(err).__name__})")
    return TermTransform(term, "closed form", laplace, d1, d2)


def _norm2(expr: sp.Expr) -> sp.Expr | None:
    try:
        with _time_limit(SYMPY_SECONDS):
            value = sp.integrate(sp.expand(expr**2, deep=False), (T, 0, sp.oo), conds="none")
    except _Timeout:
        return None
    except Exception:
        return None
    if value.has(sp.Integral) or value.has(sp.Piecewise):
        return None
    if value.has(sp.oo, sp.zoo, sp.nan):
        return value
    return stabilise(value)


@functools.lru_cache(maxsize=64)
def _derive_cached(kernel: Kernel) -> Derivation:
    terms = tuple(_term_transform(term) for term in split_terms(kernel.expr))
    K = sp.simplify(sp.integrate(sp.exp(-(U + V) * T), (T, 0, sp.oo)))
    pair = (K, sp.diff(K, U), sp.diff(K, U, 2), sp.diff(K, U, V))
    return Derivation(kernel=kernel, terms=terms, norm2=_norm2(kernel.expr), pair=pair)


def derive(kernel: Kernel) -> Derivation:
    """Derive the templates of the loss for ``kernel`` (cached per formula and parameter signs)."""
    return _derive_cached(kernel)


def latex_summary(derivation: Derivation, m: int | None = None) -> dict[str, str]:
    """LaTeX of rho, L[rho], L', ||rho||^2, J and (for given m) the flow equations."""
    out = {
        "rho": sp.latex(derivation.kernel.expr),
        "laplace": sp.latex(derivation.laplace_display()),
        "moment": sp.latex(-sp.Add(*(tt.d1 for tt in derivation.terms if tt.d1 is not None))),
        "norm2": sp.latex(derivation.norm2) if derivation.norm2 is not None else "quadrature",
    }
    if m is not None:
        a, w, J, ga, gw = derivation.unrolled(m)
        out["loss"] = sp.latex(J)
        out["flow"] = [rf"\dot a_{{{i + 1}}} = {sp.latex(-g)}" for i, g in enumerate(ga)] + [
            rf"\dot w_{{{i + 1}}} = {sp.latex(-g)}" for i, g in enumerate(gw)]
    return out


__all__ = ["W", "Derivation", "TermTransform", "derive", "split_terms", "latex_summary", "plain"]
