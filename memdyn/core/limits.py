"""memdyn's limits on what one request may ask for, stated once (the library checks them; the
command line's help and its range grammar read them from here)."""

from __future__ import annotations

MAX_T1 = 1e30
"""Longest horizon of a hitting-time solve: plateaus to 1e30 are solved on a restarted clock
(``memdyn.core.solve``) and checked against an independent SciPy solve with restarts beyond 1e16."""

MAX_ELEMENTS = 1_000_000
"""Most solves in one sweep (values x grid x starts), and so most values one range may expand to."""

ARRAY_NORMS_FROM = 2048
"""Batches at least this large get ||rho||^2 at array speed where float64 is safe
(``memdyn.core.lowering.Target``'s ``_norms``), on the cold and the warm path alike; smaller ones (every
single flow) take 50-digit mpmath per element, about 0.3 ms each, which below this size costs less
than importing SymPy to reach the float64 form from the warm path (0.5 s)."""

__all__ = ["MAX_T1", "MAX_ELEMENTS", "ARRAY_NORMS_FROM"]
