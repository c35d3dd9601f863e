"""The pipeline's first three stages composed: a formula in, a lowered target out.

``target(rho, params)`` = ``memdyn.core.lowering.lower`` of
``memdyn.core.symbolic.derive`` of ``memdyn.core.formula.parse_kernel``. Each stage is
cached, so the same formula (with parameters of the same signs) returns the same Target object, and
the compiled solves keyed on it are reused. The stages (and SymPy) are imported on the first call,
so that a process served by the warm path (``memdyn.core.warm``) never imports them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .jaxsetup import float64
from .warm import remember

if TYPE_CHECKING:
    from .lowering import Target


@float64
def target(rho: str, params: Mapping[str, float | Sequence[float]] | None = None) -> Target:
    """Parse, derive and lower ``rho`` (cached per formula and parameter signs).

    A parameter may be given as a list of values (a sweep); only the signs matter here.
    """
    from .formula import parse_kernel
    from .lowering import lower
    from .symbolic import derive

    params = dict(params or {})
    tg = lower(derive(parse_kernel(rho, params)))
    remember(rho, params, tg)  # for a later process's SymPy-free warm path
    return tg
