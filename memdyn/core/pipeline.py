"""The pipeline's first three stages composed: a formula in, a lowered target out.

``target(rho, params)`` = :func:`~memdyn.core.lowering.lower` of
:func:`~memdyn.core.symbolic.derive` of :func:`~memdyn.core.formula.parse_kernel`. Each stage is
cached, so the same formula (with parameters of the same signs) returns the same Target object, and
the compiled solves keyed on it are reused.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from .formula import parse_kernel
from .lowering import Target, lower
from .symbolic import derive


def target(rho: str, params: Mapping[str, float | Sequence[float]] | None = None) -> Target:
    """Parse, derive and lower ``rho`` (cached per formula and parameter signs).

    A parameter may be given as a list of values (a sweep); only the signs matter here.
    """
    return lower(derive(parse_kernel(rho, dict(params or {}))))
