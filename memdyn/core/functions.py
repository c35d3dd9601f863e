"""The one table of special functions: what a user may write, what SymPy's transforms may produce,
and how each evaluates.

``memdyn.core.formula`` parses the names, ``memdyn.core.symbolic`` keeps a closed form
only when every function in it lowers, ``memdyn.core.lowering`` evaluates them,
``memdyn.core.serial`` stores and reads them back, the SymPy-free warm path
(``memdyn.core.warm``) evaluates them in mpmath, and the CLI's ``--rho`` help lists them: all
from ``FUNCTIONS``. A function without an array name may be
written in a formula; a closed form that uses it falls back to quadrature (with the reason said).

The table names SymPy's functions by their names and resolves them on first use, so reading it
(the CLI's help, the warm path of ``memdyn.core.warm``) does not import SymPy (0.4 s).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Function:
    """A function a formula may call.

    Attributes:
        names: what the user writes (the first is the documented one).
        builder: the name of the SymPy function that builds the expression from the arguments.
        produces: the name of the SymPy class it produces (``None`` when it produces a power, as
            ``sqrt`` does).
        array: the array function it lowers to (``numpy``/``jax.numpy`` name, or in the backend's
            special-function module when ``special``); ``None``: no stable lowering.
        mpmath: the mpmath function the warm path evaluates it with (``None``: the full pipeline
            answers instead).
        writable: whether a formula may call it (False: it only appears in what SymPy derives, and is
            stored and read back from the derivation cache).
    """

    names: tuple[str, ...]
    builder: str
    produces: str | None
    array: str | None = None
    special: bool = False
    mpmath: str | None = None
    writable: bool = True

    @property
    def build(self) -> Callable:
        """The SymPy function that builds the expression."""
        return getattr(importlib.import_module("sympy"), self.builder)

    @property
    def sympy(self) -> type | None:
        """The SymPy class it produces, or None."""
        return None if self.produces is None else getattr(importlib.import_module("sympy"), self.produces)


FUNCTIONS: tuple[Function, ...] = (
    Function(("exp",), "exp", "exp", "exp", mpmath="exp"),
    Function(("log",), "log", "log", "log", mpmath="log"),
    Function(("sqrt",), "sqrt", None),
    Function(("sin",), "sin", "sin", "sin", mpmath="sin"),
    Function(("cos",), "cos", "cos", "cos", mpmath="cos"),
    Function(("tan",), "tan", "tan", "tan", mpmath="tan"),
    Function(("sinh",), "sinh", "sinh", "sinh", mpmath="sinh"),
    Function(("cosh",), "cosh", "cosh", "cosh", mpmath="cosh"),
    Function(("tanh",), "tanh", "tanh", "tanh", mpmath="tanh"),
    Function(("atan",), "atan", "atan", "arctan", mpmath="atan"),
    Function(("erf",), "erf", "erf", "erf", special=True, mpmath="erf"),
    Function(("erfc",), "erfc", "erfc", "erfc", special=True, mpmath="erfc"),
    Function(("gamma",), "gamma", "gamma", mpmath="gamma"),
    Function(("airyai",), "airyai", "airyai"),
    Function(("airybi",), "airybi", "airybi"),
    Function(("besselj",), "besselj", "besselj"),
    Function(("bessely",), "bessely", "bessely"),
    Function(("besseli",), "besseli", "besseli"),
    Function(("besselk",), "besselk", "besselk"),
    Function(("heaviside", "Heaviside"), "Heaviside", "Heaviside"),
    Function(("abs", "Abs"), "Abs", "Abs", "abs", mpmath="fabs"),
    # what SymPy's Laplace transforms and integrals may produce beyond the above
    Function(("asin",), "asin", "asin", mpmath="asin", writable=False),
    Function(("acos",), "acos", "acos", mpmath="acos", writable=False),
    Function(("atan2",), "atan2", "atan2", writable=False),
    Function(("erfi",), "erfi", "erfi", mpmath="erfi", writable=False),
    Function(("loggamma",), "loggamma", "loggamma", mpmath="loggamma", writable=False),
    Function(("uppergamma",), "uppergamma", "uppergamma", writable=False),
    Function(("lowergamma",), "lowergamma", "lowergamma", writable=False),
    Function(("polygamma",), "polygamma", "polygamma", writable=False),
    Function(("expint",), "expint", "expint", writable=False),
    Function(("Ei",), "Ei", "Ei", writable=False),
    Function(("Si",), "Si", "Si", writable=False),
    Function(("Ci",), "Ci", "Ci", writable=False),
    Function(("sign",), "sign", "sign", writable=False),
)

BY_NAME: dict[str, Function] = {name: f for f in FUNCTIONS if f.writable for name in f.names}
"""Function by every name a user may write."""


DOCUMENTED_NAMES: tuple[str, ...] = tuple(f.names[0] for f in FUNCTIONS if f.writable)
"""The names shown in help texts and error messages."""

CONSTANT_NAMES: tuple[str, ...] = ("pi", "E")
"""Constants a formula may name (SymPy's ``pi`` and ``E``)."""


def __getattr__(name: str):
    # SymPy-valued tables, built on first use (module __getattr__, PEP 562):
    #   LOWERED:   SymPy class -> Function, for the classes the lowering evaluates;
    #   CONSTANTS: name -> SymPy constant, for the constants a formula may name.
    if name == "LOWERED":
        return {f.sympy: f for f in FUNCTIONS if f.array is not None}
    if name == "CONSTANTS":
        sp = importlib.import_module("sympy")
        return {n: getattr(sp, n) for n in CONSTANT_NAMES}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
