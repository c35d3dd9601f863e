"""Time budgets for SymPy work, which has no timeout of its own.

On the main thread a real-time timer interrupts the work at the deadline (:func:`time_limit`); the
exception is a BaseException, so that SymPy's own ``except Exception`` blocks cannot swallow it.
Other threads cannot receive signals: callers there run the work in a child process instead (see
:mod:`memdyn.core.symbolic`).

Python cannot raise out of a finaliser or a garbage-collector callback: a Timeout that lands there
is reported as "Exception ignored" and lost (CI met one, in a ``weakref.finalize``), and the work
would run on unbounded. So while the budget runs, ``sys.unraisablehook`` takes such a Timeout
silently and sets the timer again, ``REPEAT`` seconds on, until the Timeout lands in the work itself.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time

REPEAT = 0.05
"""Seconds after a lost Timeout until the next one."""


class Timeout(BaseException):
    # A BaseException, so that SymPy's own "except Exception" blocks cannot swallow it.
    pass


class Budget:
    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self.deadline = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


@contextlib.contextmanager
def time_limit(budget: Budget):
    """Interrupt a SymPy call at the budget's deadline (SymPy has no timeout of its own)."""
    remaining = budget.remaining()
    if remaining <= 0:
        raise Timeout
    if threading.current_thread() is not threading.main_thread():
        yield  # only reached inside a child process's worker: the parent enforces the deadline
        return

    def handler(signum, frame):
        raise Timeout

    hook, running = sys.unraisablehook, [True]

    def unraisable(report):
        if issubclass(report.exc_type, Timeout):  # lost in a finaliser or gc callback: raise it again soon
            if running[0]:
                signal.setitimer(signal.ITIMER_REAL, REPEAT)
        else:
            hook(report)

    old = signal.signal(signal.SIGALRM, handler)
    sys.unraisablehook = unraisable
    signal.setitimer(signal.ITIMER_REAL, remaining)
    try:
        yield
    finally:
        while True:
            try:
                running[0] = False  # first: a Timeout lost from here on must not set the timer again
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
                sys.unraisablehook = hook
                break
            except Timeout:  # landed here, once the work is over: nothing left to interrupt
                continue
