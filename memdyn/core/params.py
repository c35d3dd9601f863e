"""A formula's parameters without SymPy: ``NAME=VALUE`` items, the sign a derivation assumes, and
the check of a set of values against a derivation's parameters.

Shared by :mod:`memdyn.core.formula` (which makes the SymPy symbols), :class:`~memdyn.core.lowering.Target`
and the SymPy-free warm path (:mod:`memdyn.core.warm`), so the three cannot disagree.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from ..errors import InputError

SIGNS = ("positive", "negative", "real")
"""The assumption a parameter's symbol carries, from the signs of its values."""


def sign_of(values: Sequence[float]) -> str:
    """``"positive"`` when every value is > 0, ``"negative"`` when every one is < 0, else ``"real"``:
    a derivation made under that assumption holds for every value of a sweep."""
    if all(v > 0 for v in values):
        return "positive"
    if all(v < 0 for v in values):
        return "negative"
    return "real"


def parse_params(items: list[str] | None, *, argument: str = "param") -> dict[str, float]:
    """Parse ``["omega=0.1", "c=2"]`` into ``{"omega": 0.1, "c": 2.0}``."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(argument, f"expected NAME=VALUE, got {item!r}")
        try:
            number = float(value)
        except ValueError:
            raise InputError(f"{argument} {name}", f"value must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise InputError(f"{argument} {name}", f"value must be finite, got {value!r}")
        if name in out:
            raise InputError(f"{argument} {name}", "given twice")
        out[name] = number
    return out


def check_values(names: Sequence[str], signs: Sequence[str], values: Mapping[str, float]) -> dict[str, float]:
    """``values`` for the parameters ``names`` (whose symbols carry ``signs``): every name given,
    nothing else, finite, of the assumed sign."""
    missing = [n for n in names if n not in values]
    if missing:
        raise InputError(f"param {missing[0]}", f"the formula needs a value for '{missing[0]}'")
    extra = [n for n in values if n not in names]
    if extra:
        raise InputError(f"param {extra[0]}", f"'{extra[0]}' does not appear in the formula")
    for name, sign in zip(names, signs):
        v = float(values[name])
        if not math.isfinite(v):
            raise InputError(f"param {name}", f"value must be finite, got {v}")
        if (sign == "positive" and v <= 0) or (sign == "negative" and v >= 0):
            raise InputError(f"param {name}", f"value {v} has another sign than the derivation assumed")
    return {n: float(values[n]) for n in names}
