"""The Diffrax solvers memdyn offers, by name (the one table that validation, the solve and the
benchmarks read, without importing Diffrax, so that checking a name costs nothing), and
``SolverConfig``, how to integrate the flow."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError


@dataclass(frozen=True)
class SolverSpec:
    """How to build one solver.

    Attributes:
        diffrax_class: the class name in ``diffrax``, or with ``jacobian`` in
            ``memdyn.core.rosenbrock`` (a Diffrax solver written here).
        implicit: built with a full Newton root finder (the default chord iteration stalls on starts
            where neurons coincide).
        split: an IMEX method: the flow goes in the implicit term, beside a zero explicit term
            (all of the gradient flow is stiff).
        jacobian: a linearly implicit method given the flow's Jacobian (minus the Hessian
            of the loss) with its vector field.
    """

    diffrax_class: str
    implicit: bool
    split: bool = False
    jacobian: bool = False


SOLVERS: dict[str, SolverSpec] = {
    "rodas4": SolverSpec("Rodas4", implicit=False, jacobian=True),
    "kvaerno5": SolverSpec("Kvaerno5", implicit=True),
    "kvaerno3": SolverSpec("Kvaerno3", implicit=True),
    "kencarp4": SolverSpec("KenCarp4", implicit=True, split=True),
    "kencarp5": SolverSpec("KenCarp5", implicit=True, split=True),
    "tsit5": SolverSpec("Tsit5", implicit=False),
}
"""Solver name -> how to build it; the first is the default."""

DEFAULT_SOLVER = next(iter(SOLVERS))


@dataclass(frozen=True)
class SolverConfig:
    """How to integrate the flow.

    Attributes:
        solver: one of ``SOLVERS`` (default Rodas4, given the flow's Jacobian). Implicit ones
            (Kvaerno, KenCarp) use a full Newton iteration: Diffrax's default chord iteration stalls
            on starts where neurons coincide.
        rtol, atol: the step-size controller's tolerances (on theta = (a, w)).
        pcoeff, icoeff: PI controller coefficients; (0.3, 0.3) rejected far fewer steps than
            Diffrax's default I-controller on these flows.
        max_steps: step budget of each solve.
        refine: locate event times by a short-step re-solve of the bracketing step (module doc).
    """

    solver: str = DEFAULT_SOLVER
    rtol: float = 1e-10
    atol: float = 1e-12
    pcoeff: float = 0.3
    icoeff: float = 0.3
    max_steps: int = 200_000
    refine: bool = True

    def __post_init__(self):
        if self.solver not in SOLVERS:
            raise InputError("solver", f"unknown solver {self.solver!r} (choose from {', '.join(SOLVERS)})")
        if not (np.isfinite(self.rtol) and 1e-15 <= self.rtol < 1):
            raise InputError("rtol", f"must be in [1e-15, 1), got {self.rtol}")
        if not (np.isfinite(self.atol) and 0 <= self.atol < 1):
            raise InputError("atol", f"must be in [0, 1), got {self.atol}")
        if int(self.max_steps) < 1:
            raise InputError("max_steps", f"must be positive, got {self.max_steps}")

    @property
    def static(self) -> SolverConfig:
        """The part of the config a compiled solve depends on: tolerances are runtime values, so
        every (rtol, atol) maps to the same compiled function."""
        return SolverConfig(
            solver=self.solver, pcoeff=self.pcoeff, icoeff=self.icoeff, max_steps=self.max_steps, refine=self.refine
        )


__all__ = ["SolverSpec", "SOLVERS", "DEFAULT_SOLVER", "SolverConfig"]
