"""A formula's parameters without SymPy: ``NAME=VALUE`` items, the sign a derivation assumes, and
the check of a set of values against a derivation's parameters.

Shared by ``memdyn.core.formula`` (which makes the SymPy symbols), ``memdyn.core.lowering.Target``
and the SymPy-free warm path (``memdyn.core.warm``), so the three cannot disagree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from ..errors import InputError
from .limits import MAX_ELEMENTS

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


def parse_range(text: str, *, argument: str = "sweep") -> tuple[str, list[float]]:
    """A swept parameter and its values, in the range grammar of ``memdyn sweep --sweep``.

    ``NAME=V1,V2,..`` (a list), ``NAME=START:STOP:STEP`` (stop included: ``mu=8:11:0.5`` is 8, 8.5, ..,
    11) or ``NAME=geom(START,STOP,N)`` (N values, geometric). Returns ``(NAME, values)``; at most
    ``memdyn.core.limits.MAX_ELEMENTS`` values.

    Example:
        >>> parse_range("mu=8:9:0.5")
        ('mu', [8.0, 8.5, 9.0])
    """
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise InputError(
            argument, f"expected NAME=V1,V2,.. or NAME=START:STOP:STEP or NAME=geom(START,STOP,N), got {text!r}"
        )
    geom = re.fullmatch(r"\s*geom\((.*)\)\s*", values)
    if geom:
        args = _numbers(geom.group(1), argument)
        start, stop, n = args if len(args) == 3 else (0.0, 0.0, 0.0)
        if n != int(n) or not 2 <= n <= MAX_ELEMENTS or not (start > 0 and stop > 0):
            raise InputError(
                argument,
                f"geom(START,STOP,N) needs START, STOP > 0 and N an integer in "
                f"2..{MAX_ELEMENTS}, got {values.strip()!r}",
            )
        n = int(n)
        return name, [
            start * (stop / start) ** (k / (n - 1)) if 0 < k < n - 1 else (start, stop)[k > 0] for k in range(n)
        ]
    if ":" in values:
        parts = values.split(":")
        if len(parts) != 3:
            raise InputError(argument, f"expected START:STOP:STEP, got {values.strip()!r}")
        start, stop, step = (_numbers(v, argument)[0] for v in parts)  # one number each
        n = math.floor((stop - start) / step * (1 + 1e-12) + 1e-9) + 1 if step != 0 else 0
        if step == 0 or n < 1 or n > MAX_ELEMENTS:
            raise InputError(
                argument,
                f"START:STOP:STEP must give 1..{MAX_ELEMENTS} values (STEP != 0, towards STOP), got {values.strip()!r}",
            )
        return name, [round(start + k * step, 12) for k in range(n)]
    return name, _numbers(values, argument)


def _numbers(text: str, argument: str) -> list[float]:
    """Comma-separated finite numbers (at least one)."""
    try:
        values = [float(x) for x in text.split(",") if x.strip() != ""]
    except ValueError:
        raise InputError(argument, f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise InputError(argument, "no numbers given")
    bad = [v for v in values if not math.isfinite(v)]
    if bad:
        raise InputError(argument, f"values must be finite, got {bad[0]}")
    return values
