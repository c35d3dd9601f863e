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
    """Parse, derive and lower ``rho``: the first three stages of the pipeline, composed.

    Cached per formula and parameter signs, in this process and (the derivation) on disk, so the
    same formula returns the same Target and reuses its compiled solves.

    Args:
        rho: the kernel, a formula in ``t``.
        params: the formula's other symbols; a value may be a list (a sweep): only the signs matter
            here (a derivation holds for every value of one sign).

    Returns:
        The lowered :class:`~memdyn.core.lowering.Target`; ``target.data(values)`` gives its run-time
        numbers at given parameter values.

    Raises:
        InputError: a malformed formula, a missing parameter, a kernel whose loss is infinite.

    Example:
        >>> tg = memdyn.target("exp(-t) + 0.5*exp(-(t - mu)**2/2)", {"mu": 10})
        >>> data = tg.data({"mu": 10})
    """
    from .formula import parse_kernel
    from .lowering import lower
    from .symbolic import derive

    params = dict(params or {})
    tg = lower(derive(parse_kernel(rho, params)))
    remember(rho, params, tg)  # for a later process's SymPy-free warm path
    return tg
