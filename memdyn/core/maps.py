"""The reparameterisations w = g(v) offered (``memdyn.core.reparam``): the one table of them.

Each map has its words (for help texts, read without importing SymPy) and its SymPy form, built on
first use from the SymPy module and the symbol v.

* ``plain``    w = v
* ``exp``      w = e^v                     (metric w^2)
* ``softplus`` w = log(1 + e^v)            (metric (1 - e^{-w})^2)
* ``best``     w = 1/(v^2 + 1/10)          StableSSM's f*(w) = -1/(a w^2 + b) with a = 1, b = 0.1 as in
  its official code (metric 4 w^3 (1 - w/10))
* ``lru``      w = e^v / Delta, Delta = 1/10: LRU's lambda = exp(-e^v) read as e^{-w Delta}. Its
  metric is w^2 as for ``exp``: Delta only shifts v by ln Delta, so in w the two flows coincide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Map:
    """One reparameterisation: ``description`` in words, ``build(sympy, v)`` its SymPy form g(v)."""

    description: str
    build: Callable[[Any, Any], Any]


TABLE: dict[str, Map] = {
    "plain": Map("w = v", lambda sp, v: v),
    "exp": Map("w = exp(v)", lambda sp, v: sp.exp(v)),
    "softplus": Map("w = log(1 + exp(v))", lambda sp, v: sp.log(1 + sp.exp(v))),
    "best": Map("w = 1/(v^2 + 0.1) (StableSSM)", lambda sp, v: 1 / (v**2 + sp.Rational(1, 10))),
    "lru": Map("w = exp(v)/Delta, Delta = 0.1 (LRU lambda = exp(-exp(v)))", lambda sp, v: 10 * sp.exp(v)),
}

DESCRIPTIONS: dict[str, str] = {name: m.description for name, m in TABLE.items()}
"""Map name -> its words."""

__all__ = ["Map", "TABLE", "DESCRIPTIONS"]
