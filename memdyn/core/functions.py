"""The one table of special functions: what a user may write, and how each lowers to arrays.

:mod:`memdyn.core.formula` parses the names, :mod:`memdyn.core.symbolic` keeps a closed form
only when every function in it lowers, :mod:`memdyn.core.lowering` evaluates them, and the CLI's
``--rho`` help lists them: all from :data:`FUNCTIONS`. A function without an array name may be
written in a formula; a closed form that uses it falls back to quadrature (with the reason said).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp


@dataclass(frozen=True)
class Function:
    """A function a formula may call.

    Attributes:
        names: what the user writes (the first is the documented one).
        build: builds the SymPy expression from the arguments.
        sympy: the SymPy class it produces (``None`` when it produces a power, as ``sqrt`` does).
        array: the array function it lowers to (``numpy``/``jax.numpy`` name, or in the backend's
            special-function module when ``special``); ``None``: no stable lowering.
    """

    names: tuple[str, ...]
    build: Callable
    sympy: type | None
    array: str | None = None
    special: bool = False


FUNCTIONS: tuple[Function, ...] = (
    Function(("exp",), sp.exp, sp.exp, "exp"),
    Function(("log",), sp.log, sp.log, "log"),
    Function(("sqrt",), sp.sqrt, None),
    Function(("sin",), sp.sin, sp.sin, "sin"),
    Function(("cos",), sp.cos, sp.cos, "cos"),
    Function(("tan",), sp.tan, sp.tan, "tan"),
    Function(("sinh",), sp.sinh, sp.sinh, "sinh"),
    Function(("cosh",), sp.cosh, sp.cosh, "cosh"),
    Function(("tanh",), sp.tanh, sp.tanh, "tanh"),
    Function(("atan",), sp.atan, sp.atan, "arctan"),
    Function(("erf",), sp.erf, sp.erf, "erf", special=True),
    Function(("erfc",), sp.erfc, sp.erfc, "erfc", special=True),
    Function(("gamma",), sp.gamma, sp.gamma),
    Function(("airyai",), sp.airyai, sp.airyai),
    Function(("airybi",), sp.airybi, sp.airybi),
    Function(("besselj",), sp.besselj, sp.besselj),
    Function(("bessely",), sp.bessely, sp.bessely),
    Function(("besseli",), sp.besseli, sp.besseli),
    Function(("besselk",), sp.besselk, sp.besselk),
    Function(("heaviside", "Heaviside"), sp.Heaviside, sp.Heaviside),
    Function(("abs", "Abs"), sp.Abs, sp.Abs, "abs"),
)

BY_NAME: dict[str, Function] = {name: f for f in FUNCTIONS for name in f.names}
"""Function by every name a user may write."""

LOWERED: dict[type, Function] = {f.sympy: f for f in FUNCTIONS if f.array is not None}
"""SymPy class -> function, for the classes the lowering evaluates."""

DOCUMENTED_NAMES: tuple[str, ...] = tuple(f.names[0] for f in FUNCTIONS)
"""The names shown in help texts and error messages."""

CONSTANTS: dict[str, sp.Basic] = {"pi": sp.pi, "E": sp.E}
"""Constants a formula may name."""
