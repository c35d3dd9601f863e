"""One vocabulary for how a computation ended, shared by every result memdyn returns.

A ``Status`` is a string (``"ok"``, ``"t1_reached"``, ...), so it compares equal to its value
and prints as it in JSON; each member carries the advice a user needs to act on it.
"""

from __future__ import annotations

import enum

from ..errors import MemdynError


class Status(enum.StrEnum):
    """How a hitting-time solve (flow, sweep element, momentum escape, benchmark row) ended."""

    OK = "ok"
    T1_REACHED = "t1_reached"
    MAX_STEPS_REACHED = "max_steps_reached"
    SOLVER_FAILED = "solver_failed"
    RESTARTS_EXHAUSTED = "restarts_exhausted"

    @property
    def advice(self) -> str:
        """What to change when the run did not end ``ok``."""
        return _ADVICE[self]

    @property
    def code(self) -> int:
        """The integer the compiled solves return (0 ok, 1 t1 reached, 2 max steps, 3 failure, 4 restarts
        exhausted)."""
        return list(Status).index(self)

    @classmethod
    def from_code(cls, code: int, *, reached: bool = True) -> Status:
        """The status of a compiled solve's ``code``; code 0 with a time not reached is ``t1_reached``."""
        status = list(cls)[int(code)]
        if status is cls.OK and not reached:
            return cls.T1_REACHED
        return status


_ADVICE = {
    Status.OK: "every requested hitting time was found",
    Status.T1_REACHED: "the horizon t1 ended the solve before a threshold was crossed: raise t1 (the plateau "
    "may be longer) or lower delta",
    Status.MAX_STEPS_REACHED: "the step budget ran out: raise max_steps, or loosen rtol/atol",
    Status.SOLVER_FAILED: "the solver stopped with an error (step-size underflow or a nonlinear-solver failure): "
    "try another solver or tighter tolerances",
    Status.RESTARTS_EXHAUSTED: "the solve restarted its clock the most times allowed and the flow was still drifting "
    "with a threshold not crossed (typically after an escape, towards a level the loss never moves delta from): "
    "compare loss_final - loss_initial with delta and lower delta, or set t1 to end the solve earlier",
}


class SolveError(MemdynError):
    """A solve ended without its answer and the caller asked for an exception (``throw=True``).

    ``result`` is the whole result (a flow's, a sweep's or a comparison's), so nothing computed is
    lost; the message names each status met and its advice.
    """

    def __init__(self, result):
        self.result = result
        met = sorted({str(s) for s in _statuses(result)} - {Status.OK.value})
        super().__init__(f"the solve ended {', '.join(met)}: " + "; ".join(Status(s).advice for s in met))


def _statuses(result) -> list:
    if hasattr(result, "results"):  # a sweep
        return [r.status for r in result.results]
    if hasattr(result, "rows"):  # a sharp comparison
        return [r["status"] for r in result.rows]
    return [result.status]
