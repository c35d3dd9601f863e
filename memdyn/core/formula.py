"""Target kernels rho(t) written by users as formulas.

A formula is parsed as mathematics, never executed: Python's ``ast`` module reads it into a
syntax tree, and ``parse_kernel`` builds the SymPy expression node by node from a small
whitelist (numbers, the symbol ``t``, named parameters, ``+ - * / ** ^`` and the functions in
``FUNCTIONS``). Anything else -- attribute access, ``__import__``, lambdas, strings,
subscripts, keyword arguments -- is refused with a one-line ``memdyn.errors.InputError``.

Parameters are SymPy symbols whose sign is taken from the values the user gives (all positive
-> ``positive=True``), so a derivation stays valid for every value of a sweep with that sign
and can be cached on (formula, signs) rather than re-derived per value.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy as sp

from ..errors import InputError
from .budget import Budget, Timeout, time_limit
from .functions import BY_NAME, CONSTANTS, DOCUMENTED_NAMES
from .params import parse_params as parse_params
from .params import sign_of

T = sp.Symbol("t", positive=True)
"""The time variable of every kernel."""

FUNCTIONS: dict[str, Callable] = {name: f.build for name, f in BY_NAME.items()}
"""Functions a formula may call, by the name the user writes (from ``memdyn.core.functions``)."""

MAX_LENGTH = 2000
"""Longest formula accepted (characters)."""
MAX_EXPONENT = 1000
"""Largest |exponent| of a numeric power."""
MAX_DEPTH = 50
"""Deepest nesting of the syntax tree (parentheses, calls, chains of unary signs)."""
MAX_LOG10 = 308
"""Largest |log10| of a constant: beyond about 1e308 float64 overflows."""
PARSE_SECONDS = 5.0
"""Time allowed to read one formula (SymPy evaluates some constants as it builds them); on the main
thread only, where a timer can interrupt it."""

_BINARY = {
    ast.Add: lambda x, y: x + y,
    ast.Sub: lambda x, y: x - y,
    ast.Mult: lambda x, y: x * y,
    ast.Div: lambda x, y: x / y,
    ast.Pow: lambda x, y: x**y,
}


@dataclass(frozen=True)
class Kernel:
    """A parsed target kernel.

    Attributes:
        source: the formula as the user wrote it.
        expr: the SymPy expression in ``t`` and the parameter symbols.
        params: parameter symbols, sorted by name.
    """

    source: str
    expr: sp.Expr
    params: tuple[sp.Symbol, ...]

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def param_signs(self) -> tuple[str, ...]:
        """Each parameter's assumed sign (``memdyn.core.params.SIGNS``)."""
        return tuple("positive" if p.is_positive else "negative" if p.is_negative else "real" for p in self.params)

    def substitute(self, values: Mapping[str, float]) -> sp.Expr:
        """The expression with every parameter replaced by its (exact) value."""
        return self.expr.subs({p: exact(values[p.name]) for p in self.params})


def exact(value: float) -> sp.Rational:
    """A float as the exact rational its shortest decimal spells (0.1 -> 1/10)."""
    return sp.Rational(repr(float(value)))


def _sign_symbol(name: str, values: list[float]) -> sp.Symbol:
    return sp.Symbol(name, **{sign_of(values): True})


def parse_kernel(
    formula: str,
    params: Mapping[str, float | list[float]] | None = None,
    *,
    argument: str = "rho",
) -> Kernel:
    """Parse a kernel formula in ``t`` and check its parameters.

    Args:
        formula: e.g. ``"exp(-t) + 0.5*exp(-(t - 1/omega)**2/2)"``.
        params: value (or list of values, for a sweep) of every free symbol except ``t``.
            Only the signs are used here; they set the symbols' assumptions.
        argument: the name of the argument in error messages.

    Raises:
        InputError: the formula is not a mathematical expression of the allowed kind, or
            names a symbol without a value, or a value is not finite.
    """
    params = dict(params or {})
    if not isinstance(formula, str) or not formula.strip():
        raise InputError(argument, "the formula is empty")
    if len(formula) > MAX_LENGTH:
        raise InputError(argument, f"the formula is longer than {MAX_LENGTH} characters")
    if not formula.isascii():
        i, ch = next((i, ch) for i, ch in enumerate(formula) if not ch.isascii())
        # Python would read full-width and other look-alike letters as ASCII (NFKC): refuse them instead.
        raise InputError(argument, f"only ASCII characters are allowed, got {ch!r} (U+{ord(ch):04X}) at column {i + 1}")
    _check_depth(formula, argument)
    values: dict[str, list[float]] = {}
    for name, value in params.items():
        vals = list(value) if isinstance(value, (list, tuple)) else [value]
        for v in vals:
            if not isinstance(v, (int, float)) or not math.isfinite(v):
                raise InputError(f"param {name}", f"value must be a finite number, got {v!r}")
        if not vals:
            raise InputError(f"param {name}", "no value given")
        if name == "t" or name in FUNCTIONS or name in CONSTANTS or not name.isidentifier():
            raise InputError(f"param {name}", "not a usable parameter name")
        values[name] = [float(v) for v in vals]
    symbols = {name: _sign_symbol(name, vals) for name, vals in values.items()}

    if "\x00" in formula:  # ast.parse raises SyntaxError or ValueError for it, by Python version
        raise InputError(argument, "not a formula (it contains a null byte)")
    try:
        # "^" is the power in the notation people type; as Python's XOR it would bind more
        # loosely than "+" (t^2 + 1 = t^(2 + 1)), so it is read as "**" before parsing.
        tree = ast.parse(formula.strip().replace("^", "**"), mode="eval")
        used: set[str] = set()
        with time_limit(Budget(PARSE_SECONDS)):
            expr = _build(tree.body, symbols, used, argument, 0)
    except Timeout:
        raise InputError(
            argument, f"the formula took longer than {PARSE_SECONDS:g} s to read (a constant too large to evaluate?)"
        ) from None
    except SyntaxError as err:
        raise InputError(argument, f"not a formula ({err.msg} at column {err.offset})") from None
    except (RecursionError, MemoryError):
        raise InputError(argument, f"the formula nests deeper than {MAX_DEPTH} levels") from None
    if not isinstance(expr, sp.Expr):
        raise InputError(argument, "not a mathematical expression")
    for name in params:
        if name not in used:
            raise InputError(f"param {name}", f"'{name}' does not appear in the formula")
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise InputError(argument, f"the formula is not finite: {expr}")
    for number in expr.atoms(sp.Number):  # SymPy folds constants across factors: 1e300*exp(-t)*1e300
        _check_constant(number, argument)
    ordered = tuple(sorted((symbols[n] for n in used), key=lambda s: s.name))
    return Kernel(source=formula, expr=expr, params=ordered)


def _check_depth(formula: str, argument: str) -> None:
    """Refuse deep nesting before Python's parser sees it (it would raise RecursionError)."""
    depth = deepest = signs = 0
    for ch in formula:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch in "+-":
            signs += 1
        elif not ch.isspace():
            signs = 0
        deepest = max(deepest, depth + signs)
    if deepest > MAX_DEPTH:
        raise InputError(argument, f"the formula nests deeper than {MAX_DEPTH} levels")


def _log10_abs(x: sp.Expr) -> float:
    """log10 |x| of a number, without evaluating a huge one as a float."""
    if x == 0:
        return -math.inf
    if x.is_Rational:  # math.log10 takes integers of any size without converting them to float
        return math.log10(abs(int(x.p))) - math.log10(int(x.q))
    value = sp.Abs(sp.N(x, 17))
    return float(sp.log(value, 10).evalf(17)) if value != 0 else -math.inf


def _check_constant(expr, argument: str):
    """Refuse a constant subexpression that float64 cannot hold (checked as the tree is built)."""
    if isinstance(expr, sp.Expr) and expr.is_number and not expr.has(T):
        try:
            magnitude = _log10_abs(expr)
        except (TypeError, ValueError, OverflowError):
            raise InputError(argument, f"the constant {_short(expr)} is not a finite number") from None
        if magnitude > MAX_LOG10:
            raise InputError(argument, f"the constant {_short(expr)} is about 1e{magnitude:.0f}: it overflows float64")
    return expr


def _short(expr) -> str:
    text = str(expr)
    return text if len(text) <= 40 else text[:37] + "..."


def _build(node: ast.AST, symbols: dict[str, sp.Symbol], used: set[str], argument: str, depth: int):
    if depth > MAX_DEPTH:
        raise InputError(argument, f"the formula nests deeper than {MAX_DEPTH} levels")
    depth += 1
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(argument, f"{v!r} is not a number")
        if isinstance(v, float) and not math.isfinite(v):
            raise InputError(argument, "numbers must be finite")
        if isinstance(v, int) and v.bit_length() > 1100:
            raise InputError(argument, f"the number {str(v)[:20]}... overflows float64")
        return _check_constant(sp.Integer(v) if isinstance(v, int) else exact(v), argument)
    if isinstance(node, ast.Name):
        name = node.id
        if name == "t":
            return T
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in symbols:
            used.add(name)
            return symbols[name]
        if name in FUNCTIONS:
            raise InputError(argument, f"'{name}' is a function; call it as {name}(...)")
        raise InputError(argument, f"unknown symbol '{name}': give it a value as a parameter (--param {name}=VALUE)")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _build(node.left, symbols, used, argument, depth)
        right = _build(node.right, symbols, used, argument, depth)
        if isinstance(node.op, ast.Pow) and right.is_number:
            try:
                size = abs(float(right))
            except TypeError:  # SymPy's float() of a complex constant
                raise InputError(argument, f"exponent {_short(right)} is not a real number") from None
            if size > MAX_EXPONENT:
                raise InputError(argument, f"exponent {_short(right)} is larger than {MAX_EXPONENT}")
            if left.is_number and left != 0:
                # Bound the power before SymPy computes it exactly: (9**999)**999 has a million digits.
                magnitude = float(sp.re(right)) * _log10_abs(left)
                if abs(magnitude) > MAX_LOG10:
                    raise InputError(
                        argument,
                        f"the constant {_short(left)}**{_short(right)} is about "
                        f"1e{magnitude:.0f}: outside float64's range",
                    )
        if isinstance(node.op, ast.Div) and right == 0:
            raise InputError(argument, "division by zero")
        return _check_constant(_BINARY[type(node.op)](left, right), argument)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _build(node.operand, symbols, used, argument, depth)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise InputError(argument, "only plain function names can be called")
        name = node.func.id
        if name not in FUNCTIONS:
            known = ", ".join(sorted(DOCUMENTED_NAMES))
            raise InputError(argument, f"unknown function '{name}' (known: {known})")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise InputError(argument, f"{name}() takes plain positional arguments only")
        args = [_build(a, symbols, used, argument, depth) for a in node.args]
        if name == "gamma" and args and args[0].is_number and abs(_log10_abs(args[0])) > 2.2345:
            # SymPy evaluates gamma(n) exactly, as (n-1)!: gamma(10**300) would never return. Beyond
            # 171.6 gamma overflows float64 anyway.
            raise InputError(
                argument, f"gamma({_short(args[0])}) overflows float64 (its argument must be at most 171.6 in size)"
            )
        try:
            return _check_constant(FUNCTIONS[name](*args), argument)
        except (TypeError, ValueError) as err:
            if isinstance(err, InputError):
                raise
            raise InputError(argument, f"{name}() with {len(args)} argument(s): {err}") from None
    kind = type(node).__name__
    raise InputError(
        argument, f"not allowed in a formula: {kind} (only numbers, t, parameters, + - * / ** and functions)"
    )
