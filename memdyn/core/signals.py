"""Interruptions that must not be lost: the one mechanism behind Ctrl-C in the command line
(``memdyn.cli.interrupt``) and the SymPy time budget (``memdyn.core.budget``).

Python cannot raise an exception out of a garbage-collector callback or a finaliser (JAX runs one on
every collection): an interrupt that lands there is reported as "Exception ignored in ..." with a
traceback, and lost. While ``redeliver_lost`` is active, such an exception of the given type is
taken silently from ``sys.unraisablehook`` and ``redeliver()`` is called, which arranges for the
interruption to happen again a moment later, where it can unwind; were it to land in a callback
again, the same happens again. Every other report goes to the hook that was there before.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def redeliver_lost(exc_type: type[BaseException], redeliver: Callable[[BaseException], None]) -> Iterator[None]:
    """Within the block, an ``exc_type`` lost in a finaliser or gc callback calls ``redeliver(exc)``."""
    previous = sys.unraisablehook

    def hook(report):
        if report.exc_type is not None and issubclass(report.exc_type, exc_type):
            redeliver(report.exc_value)
        else:
            previous(report)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


__all__ = ["redeliver_lost"]
