"""Time budgets for SymPy work, which has no timeout of its own.

On the main thread a real-time timer interrupts the work at the deadline (``time_limit``); the
exception is a BaseException, so that SymPy's own ``except Exception`` blocks cannot swallow it.
Other threads cannot receive signals: callers there run the work in a child process instead (see
``memdyn.core.symbolic``).

A Timeout that lands in a finaliser or a garbage-collector callback cannot be raised there and would
be lost, leaving the work to run on unbounded: while the budget runs, such a Timeout sets the timer
again, ``REPEAT`` seconds on, until it lands in the work itself (``memdyn.core.signals``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time

from .signals import redeliver_lost

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

    running = [True]

    def again(_lost):
        if running[0]:
            signal.setitimer(signal.ITIMER_REAL, REPEAT)

    with redeliver_lost(Timeout, again):
        old = signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, remaining)
        try:
            yield
        finally:
            while True:
                try:
                    running[0] = False  # first: a Timeout lost from here on must not set the timer again
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    signal.signal(signal.SIGALRM, old)
                    break
                except Timeout:  # landed here, once the work is over: nothing left to interrupt
                    continue
