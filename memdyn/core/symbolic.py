"""Stage 1 (SymPy only): the loss and the gradient flow of the reduced linear RNN.

For rho_hat(t; a, w) = sum_i a_i exp(-w_i t) and a target rho (JMLR eqs. 93-97),

    J(a, w) = sum_ij a_i a_j K(w_i, w_j) - 2 sum_i a_i L(w_i) + ||rho||^2,
    K(u, v) = int_0^oo exp(-(u + v) t) dt = 1/(u + v),
    L(w)    = int_0^oo exp(-w t) rho(t) dt          (Laplace transform of rho),

so everything a width-m model needs is two *templates*: the pair kernel K and the per-neuron
transform L, with their derivatives (L' = -int t e^{-wt} rho, L'' = int t^2 e^{-wt} rho). They are
derived once per formula and reused for any m; the gradient and Hessian are assembled from them
(``memdyn.core.loss``). ``Derivation.unrolled`` writes J and the flow out symbol by symbol for a
given m, for display and as a test oracle.

rho is split into additive terms; each term's transform is taken in closed form when SymPy finds
one whose functions can be lowered (then made numerically stable by ``memdyn.core.stable``), and
otherwise by quadrature (``memdyn.core.quadrature``), which ``derive`` output states.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from dataclasses import dataclass

import sympy as sp

from ..errors import InputError
from ..version import __version__
from . import cache, serial
from .budget import Budget as _Budget
from .budget import Timeout as _Timeout
from .budget import time_limit as _time_limit
from .formula import Kernel, T
from .functions import LOWERED
from .stable import experfc, plain, stabilise

W = sp.Symbol("w", positive=True)
"""The decay rate of one neuron in the per-neuron templates."""
U, V = sp.symbols("u v", positive=True)

LOWERABLE = (*LOWERED, experfc)
"""Function classes ``memdyn.core.lowering`` can evaluate (besides + * ** and constants): the
table's lowered functions and the stabiliser's ``memdyn.core.stable.experfc``."""

SYMPY_SECONDS = float(os.environ.get("MEMDYN_SYMPY_SECONDS", "10"))
"""Time budget of one derivation's SymPy work, all terms and ||rho||^2 together (seconds; the
``MEMDYN_SYMPY_SECONDS`` variable sets it). What is not done by then goes to quadrature, and
``memdyn derive`` says so. On the main thread a timer interrupts SymPy; from any other thread the
derivation runs in a child process that is killed at the deadline (signals reach only the main
thread)."""

_CHILD_START_SECONDS = 60.0
"""Allowance for a child process to start (import SymPy and memdyn) on top of the budget."""


@dataclass(frozen=True)
class TermTransform:
    """The Laplace transform of one additive term of rho, and its first two w-derivatives.

    Attributes:
        term: the term of rho (an expression in t).
        method: ``"closed form"`` or ``"quadrature"``.
        laplace, d1, d2: stabilised closed forms in ``W`` (``None`` for quadrature).
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
        """``L[rho](w)``: closed forms, and the unevaluated integral for quadrature terms."""
        parts = [
            tt.laplace if tt.method == "closed form" else sp.Integral(sp.exp(-W * T) * tt.term, (T, 0, sp.oo))
            for tt in self.terms
        ]
        return sp.Add(*parts)

    def unrolled(self, m: int):
        """J, dJ/da, dJ/dw written out for width m with symbols a_1..a_m, w_1..w_m.

        Returns ``(a, w, J, grad_a, grad_w)``; L(w_i) appears as the closed form where there
        is one and as ``L(w_i)`` (an undefined function) otherwise. Meant for display and as
        an independent oracle in tests, not for computation (it grows like m^2).
        """
        if m < 1:
            raise InputError("m", f"must be a positive integer, got {m}")
        a = sp.symbols(f"a_1:{m + 1}", real=True)
        w = sp.symbols(f"w_1:{m + 1}", positive=True)
        if self.quadrature_terms:
            Lfun = sp.Function("L")
            laplace = lambda x: Lfun(x)  # noqa: E731
        else:
            laplace = lambda x: self.closed_laplace.subs(W, x)  # noqa: E731
        K = self.pair[0]
        norm = self.norm2 if self.norm2 is not None else sp.Symbol(r"\|\rho\|^2")
        J = (
            sp.Add(*(a[i] * a[j] * K.subs({U: w[i], V: w[j]}) for i in range(m) for j in range(m)))
            - 2 * sp.Add(*(a[i] * laplace(w[i]) for i in range(m)))
            + norm
        )
        grad_a = [sp.diff(J, ai) for ai in a]
        grad_w = [sp.diff(J, wi) for wi in w]
        return a, w, J, grad_a, grad_w


X, DA, DW, ALPHA, BETA = sp.symbols("x delta_a delta_w alpha beta", real=True)
"""The centred templates' symbols: the rate x an overlap is taken at, one neuron's displacement
(delta_a, delta_w) from its anchor (alpha, beta)."""


def _over_common_denominator(expr: sp.Expr) -> sp.Expr:
    """``expr`` as one fraction whose numerator is expanded, so that equal terms cancel in SymPy
    (exactly), not in floating point; the denominator stays a product of factors."""
    numerator, denominator = sp.fraction(sp.together(expr))
    return sp.expand(numerator) / sp.factor(denominator)


def centred_pair(pair: tuple[sp.Expr, ...]) -> tuple[sp.Expr, sp.Expr]:
    """The overlaps of one neuron's *change* against its anchor, in the small quantities themselves.

    For a neuron a e^{-w t} anchored at alpha e^{-beta t} (a = alpha + delta_a, w = beta + delta_w),

        D0(x) = <a e^{-wt} - alpha e^{-beta t}, e^{-xt}>   = a K(x, w) - alpha K(x, beta),
        D1(x) = <a e^{-wt} - alpha e^{-beta t}, t e^{-xt}> = -(a K_u(x, w) - alpha K_u(x, beta)),

    each put over a common denominator with the numerator expanded: the O(1) products alpha K cancel
    symbolically, leaving terms that are each proportional to delta_a or delta_w. With K = 1/(u + v),
    D0 = (delta_a (x + beta) - alpha delta_w) / ((x + beta)(x + beta + delta_w)). (Derivation and checks:
    ``derivations/06_centred_flow.ipynb``.)
    """
    K, Ku = pair[0], pair[1]

    def change(kernel: sp.Expr) -> sp.Expr:
        return (ALPHA + DA) * kernel.subs({U: X, V: BETA + DW}) - ALPHA * kernel.subs({U: X, V: BETA})

    return _over_common_denominator(change(K)), _over_common_denominator(change(-Ku))


def exponential_term(term: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """(c, lambda) when ``term`` is c exp(-lambda t) with c and lambda free of t and lambda positive
    (for all parameter values the formula's assumptions allow), else None: the terms a neuron can
    reproduce exactly."""
    coeff, rest = term.as_independent(T, as_Add=False)
    if not isinstance(rest, sp.exp):
        return None
    rate = sp.expand(-rest.args[0] / T)
    if rate.has(T) or rate.is_positive is not True or coeff.is_zero:
        return None
    return coeff, rate


def split_terms(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """Additive terms of rho after distributing products over sums at the top level only."""
    expanded = sp.expand(expr, deep=False, mul=True, multinomial=False, power_exp=False, power_base=False, log=False)
    return sp.Add.make_args(expanded)


def _lowerable(expr: sp.Expr) -> bool:
    functions = expr.atoms(sp.Function)
    return all(isinstance(f, LOWERABLE) for f in functions) and not expr.has(
        sp.Integral, sp.LaplaceTransform, sp.Piecewise, sp.zoo, sp.nan, sp.oo
    )


def _no_answer(budget: _Budget) -> str:
    return f"SymPy gave no answer in {budget.seconds:g} s (the derivation's budget, MEMDYN_SYMPY_SECONDS)"


def _term_transform(term: sp.Expr, budget: _Budget) -> TermTransform:
    try:
        with _time_limit(budget):
            raw = sp.laplace_transform(term, T, W, noconds=True)
            if raw.has(sp.LaplaceTransform, sp.Integral):
                return TermTransform(term, "quadrature", note="SymPy found no closed form")
            laplace = stabilise(raw)
            if not _lowerable(laplace):
                bad = sorted({type(f).__name__ for f in laplace.atoms(sp.Function) if not isinstance(f, LOWERABLE)})
                return TermTransform(
                    term, "quadrature", note=f"closed form uses {', '.join(bad) or 'a form'} with no stable lowering"
                )
            d1 = stabilise(sp.diff(laplace, W))
            d2 = stabilise(sp.diff(d1, W))
    except _Timeout:
        return TermTransform(term, "quadrature", note=_no_answer(budget))
    except Exception as err:  # SymPy raises many kinds of errors on integrals it cannot do
        return TermTransform(term, "quadrature", note=f"SymPy failed ({type(err).__name__})")
    return TermTransform(term, "closed form", laplace, d1, d2)


def _norm2(expr: sp.Expr, budget: _Budget) -> sp.Expr | None:
    try:
        with _time_limit(budget):
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


def _pair() -> tuple:
    K = sp.simplify(sp.integrate(sp.exp(-(U + V) * T), (T, 0, sp.oo)))
    return (K, sp.diff(K, U), sp.diff(K, U, 2), sp.diff(K, U, V))


def _derive_here(kernel: Kernel, seconds: float) -> Derivation:
    budget = _Budget(seconds)
    terms = tuple(_term_transform(term, budget) for term in split_terms(kernel.expr))
    return Derivation(kernel=kernel, terms=terms, norm2=_norm2(kernel.expr, budget), pair=_pair())


def _child(conn, kernel: Kernel, seconds: float) -> None:  # runs in a spawned process, on its main thread
    conn.send(_derive_here(kernel, seconds))
    conn.close()


def _derive_in_child(kernel: Kernel, seconds: float) -> Derivation:
    """The derivation in a child process, killed at the deadline: the budget holds off the main thread."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, kernel, seconds), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(seconds + _CHILD_START_SECONDS):
            return parent.recv()
    except EOFError:
        pass
    finally:
        proc.kill()
        proc.join()
    budget = _Budget(0.0)
    budget.seconds = seconds
    terms = tuple(TermTransform(term, "quadrature", note=_no_answer(budget)) for term in split_terms(kernel.expr))
    return Derivation(kernel=kernel, terms=terms, norm2=None, pair=_pair())


def _derive_uncached(kernel: Kernel) -> Derivation:
    if threading.current_thread() is threading.main_thread():
        return _derive_here(kernel, SYMPY_SECONDS)
    return _derive_in_child(kernel, SYMPY_SECONDS)


def fingerprint(kernel: Kernel) -> str:
    """What a derivation depends on: the expression with its symbols' assumptions (srepr spells
    both), and the versions of memdyn and SymPy that derived it."""
    return cache.key_of("derivation", __version__, sp.__version__, sp.srepr(kernel.expr), SYMPY_SECONDS)


def _to_json(d: Derivation) -> dict:
    return {
        "terms": [
            {
                "term": serial.dump(tt.term),
                "method": tt.method,
                "laplace": serial.dump(tt.laplace),
                "d1": serial.dump(tt.d1),
                "d2": serial.dump(tt.d2),
                "note": tt.note,
            }
            for tt in d.terms
        ],
        "norm2": serial.dump(d.norm2),
        "pair": [serial.dump(e) for e in d.pair],
    }


def _from_json(kernel: Kernel, data: dict) -> Derivation:
    terms = tuple(
        TermTransform(
            serial.load(t["term"]),
            str(t["method"]),
            serial.load(t["laplace"]),
            serial.load(t["d1"]),
            serial.load(t["d2"]),
            str(t["note"]),
        )
        for t in data["terms"]
    )
    if any(tt.method not in ("closed form", "quadrature") for tt in terms):
        raise serial.SerialError("unknown method")
    if sp.Add(*(tt.term for tt in terms)) != sp.Add(*split_terms(kernel.expr)):
        raise serial.SerialError("the stored terms are not this kernel's")
    return Derivation(
        kernel=kernel, terms=terms, norm2=serial.load(data["norm2"]), pair=tuple(serial.load(e) for e in data["pair"])
    )


@functools.lru_cache(maxsize=64)
def _derive_cached(kernel: Kernel) -> Derivation:
    key = fingerprint(kernel)
    payload = cache.load("derivations", key)
    if payload is not None:
        try:
            return _from_json(kernel, json.loads(payload))
        except (serial.SerialError, ValueError, KeyError, TypeError):
            cache.warn_once("corrupt", "a cached derivation could not be read; deriving again")
    derivation = _derive_uncached(kernel)
    if any("no answer in" in tt.note for tt in derivation.terms):
        return derivation  # a budget ran out (perhaps only under load): try again next time, don't store
    try:
        cache.store("derivations", key, json.dumps(_to_json(derivation)).encode())
    except serial.SerialError:
        pass  # a node the cache format does not hold: derive again next time
    return derivation


def derive(kernel: Kernel) -> Derivation:
    """Derive the loss's templates for a parsed kernel: per term, the Laplace transform L(w) (stable
    form), its first two derivatives and the moment, ||rho||^2, and the pair kernel 1/(u + v).

    Cached per formula and parameter signs, in this process and in the persistent cache
    (:mod:`memdyn.core.cache`). SymPy's work is bounded in time (``MEMDYN_SYMPY_SECONDS``, default
    10 s); a term not done by then falls back to quadrature, and the derivation says so.

    Args:
        kernel: a :class:`~memdyn.core.formula.Kernel` (:func:`memdyn.parse_kernel`).

    Returns:
        A :class:`Derivation`.
    """
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
            rf"\dot w_{{{i + 1}}} = {sp.latex(-g)}" for i, g in enumerate(gw)
        ]
    return out


def describe(derivation: Derivation, *, m: int | None = None, latex: bool = False) -> dict:
    """What ``memdyn derive`` shows, as JSON: each term's method and stable closed form (and how it
    prints), the moment, ||rho||^2, and for ``m`` (1..8) the loss and flow written out."""
    if m is not None and not 1 <= m <= 8:
        raise InputError("m", f"must be between 1 and 8 (the written-out flow grows like m^2), got {m}")
    out = {
        "rho": str(derivation.kernel.expr),
        "params": list(derivation.kernel.param_names),
        "terms": [
            {
                "term": str(tt.term),
                "method": tt.method,
                "note": tt.note,
                "laplace": str(tt.laplace) if tt.laplace is not None else None,
                "laplace_printed": str(plain(tt.laplace)) if tt.laplace is not None else None,
                "moment": str(-tt.d1) if tt.d1 is not None else None,
            }
            for tt in derivation.terms
        ],
        "norm2": str(derivation.norm2) if derivation.norm2 is not None else "quadrature",
        "loss": "J(a, w) = sum_ij a_i a_j/(w_i + w_j) - 2 sum_i a_i L(w_i) + ||rho||^2",
    }
    if latex:
        out["latex"] = latex_summary(derivation, m)
    elif m is not None:
        a, w, J, ga, gw = derivation.unrolled(m)
        out["unrolled"] = {
            "loss": str(J),
            "flow": [f"d{ai}/dtau = {-g}" for ai, g in zip(a, ga)] + [f"d{wi}/dtau = {-g}" for wi, g in zip(w, gw)],
        }
    return out


__all__ = [
    "W",
    "Derivation",
    "TermTransform",
    "centred_pair",
    "derive",
    "describe",
    "exponential_term",
    "split_terms",
    "latex_summary",
    "plain",
]
