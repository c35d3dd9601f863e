"""The Diffrax solvers memdyn offers, by name: the one table that validation, the solve and the
benchmarks read (without importing Diffrax, so that checking a name costs nothing)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SolverSpec:
    """How to build one solver.

    Attributes:
        diffrax_class: the class name in :mod:`diffrax`.
        implicit: built with a full Newton root finder (the default chord iteration stalls on starts
            where neurons coincide).
        split: an IMEX method: the flow goes in the implicit term, beside a zero explicit term
            (all of the gradient flow is stiff).
    """

    diffrax_class: str
    implicit: bool
    split: bool = False


SOLVERS: dict[str, SolverSpec] = {
    "kvaerno5": SolverSpec("Kvaerno5", implicit=True),
    "kvaerno3": SolverSpec("Kvaerno3", implicit=True),
    "kencarp4": SolverSpec("KenCarp4", implicit=True, split=True),
    "kencarp5": SolverSpec("KenCarp5", implicit=True, split=True),
    "tsit5": SolverSpec("Tsit5", implicit=False),
}
"""Solver name -> how to build it; the first is the default."""

DEFAULT_SOLVER = next(iter(SOLVERS))

__all__ = ["SolverSpec", "SOLVERS", "DEFAULT_SOLVER"]
