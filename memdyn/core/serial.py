"""SymPy expressions as JSON, read back by a whitelist: how derivations are cached safely.

``dump`` writes an expression tree as nested JSON lists; ``load`` rebuilds it node by node,
accepting only the node kinds below (numbers, identifier-named symbols with their sign assumptions,
+ * **, the functions of ``memdyn.core.functions``, the stabiliser's ``experfc`` and a few
special functions SymPy's transforms produce). Nothing is ever evaluated as Python code: a tampered
or corrupt entry can at worst fail to parse (``SerialError``), and the caller then derives
again. Add, Mul and Pow are rebuilt unevaluated, so the tree read back is the tree written, and the
lowered code (and every number) is the same.
"""

from __future__ import annotations

import keyword

import sympy as sp

from .functions import FUNCTIONS
from .stable import experfc


class SerialError(ValueError):
    """An expression (or a stored entry) outside what ``dump``/``load`` accept."""


_FUNCTIONS: dict[str, type] = {f.sympy.__name__: f.sympy for f in FUNCTIONS if f.sympy is not None}
_FUNCTIONS["experfc"] = experfc  # memdyn's stable exp(A)*erfc(z) (memdyn.core.stable)
_OPS = {"Add": sp.Add, "Mul": sp.Mul, "Pow": sp.Pow}
_CONSTANTS = {
    "pi": sp.pi,
    "E": sp.E,
    "EulerGamma": sp.EulerGamma,
    "oo": sp.oo,
    "-oo": -sp.oo,
    "zoo": sp.zoo,
    "nan": sp.nan,
    "I": sp.I,
}
_ASSUMPTIONS = ("positive", "negative", "nonnegative", "nonpositive", "integer", "real")
"""Sign assumptions memdyn's symbols carry, strongest first: the first that holds is stored, so a symbol
is rebuilt exactly as it was made (``Symbol('w', positive=True)``) and prints the same."""


def dump(expr) -> list:
    """A JSON-able tree of ``expr``; raises SerialError on any node kind ``load`` would refuse."""
    if expr is None:
        return ["None"]
    if isinstance(expr, sp.Symbol):
        strongest = next((k for k in _ASSUMPTIONS if expr.assumptions0.get(k) is True), None)
        return ["S", expr.name, [] if strongest is None else [strongest]]
    if expr.is_Integer:
        return ["I", str(int(expr))]
    if expr.is_Rational:
        return ["Q", str(expr.p), str(expr.q)]
    if expr.is_Float:
        return ["F", str(expr)]
    for name, const in _CONSTANTS.items():
        if expr == const and not expr.args:
            return ["C", name]
    if type(expr).__name__ in _OPS:
        return ["O", type(expr).__name__, [dump(a) for a in expr.args]]
    name = type(expr).__name__
    if isinstance(expr, sp.Function) and _FUNCTIONS.get(name) is type(expr):
        return ["f", name, [dump(a) for a in expr.args]]
    raise SerialError(f"cannot store a {name} node")


def load(tree):
    """The expression ``dump`` wrote; SerialError for anything else."""
    try:
        tag = tree[0]
        if tag == "None":
            return None
        if tag == "S":
            name, assumptions = tree[1], tree[2]
            if not (isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)):
                raise SerialError("a symbol name is not an identifier")
            if any(a not in _ASSUMPTIONS for a in assumptions):
                raise SerialError("an unknown assumption")
            return sp.Symbol(name, **{a: True for a in assumptions})
        if tag == "I":
            return sp.Integer(int(tree[1]))
        if tag == "Q":
            return sp.Rational(int(tree[1]), int(tree[2]))
        if tag == "F":
            return sp.Float(float(tree[1]))
        if tag == "C":
            return _CONSTANTS[tree[1]]
        if tag == "O":
            return _OPS[tree[1]](*[load(a) for a in tree[2]], evaluate=False)
        if tag == "f":
            return _FUNCTIONS[tree[1]](*[load(a) for a in tree[2]])
    except SerialError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as err:
        raise SerialError(f"not a stored expression ({type(err).__name__})") from None
    raise SerialError(f"unknown node tag {tag!r}")
