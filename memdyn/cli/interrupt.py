"""Ctrl-C, SIGTERM or SIGHUP during a command: one line, exit status 128 + the signal's number (130,
143, 129), partial output removed, finished work (a sweep's chunks, a training checkpoint) kept."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from typing import Any

from ..core.signals import redeliver_lost

STOPS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated", signal.SIGHUP: "hung up"}
"""The signals that end a command, and what its one line says."""


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread as Ctrl-C is, so that the command unwinds alike."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def stopped(err: BaseException) -> tuple[int, str]:
    """(exit status, the word for the line) of an interrupt: 128 + the signal's number."""
    signum = getattr(err, "signum", signal.SIGINT)
    return 128 + int(signum), STOPS.get(signum, "interrupted")


class InterruptWatcher:
    """Ctrl-C ends a command within a few seconds, even inside a long compiled call.

    Python runs its SIGINT handler (KeyboardInterrupt) only when the main thread returns to the
    interpreter, which a long XLA call does not do. The C-level handler, though, writes the signal
    number to the wakeup fd at once: a watcher thread reads it, gives the main thread ``GRACE``
    seconds to unwind by itself (one line, exit 130, partial output removed), and otherwise removes the
    partial output, prints that line and ends the process with status 130. The cache needs nothing:
    its entries are only ever replaced atomically.

    SIGTERM and SIGHUP (a cluster's scheduler, a closed terminal) end a command the same way, raised
    as :class:`Terminated` and watched alike, with their own exit status.

    A KeyboardInterrupt that lands in a garbage-collector callback or a finaliser cannot be raised there
    (``memdyn.core.signals``): while a command runs, it is delivered again to the main thread
    ``REDELIVER`` seconds later, where it unwinds as usual.
    """

    GRACE = 2.0
    REDELIVER = 0.02

    def __init__(self, name: str, cleanup):
        import threading

        self.handled = False
        self._fd = None
        self._handlers: dict[int, Any] = {}
        if threading.current_thread() is not threading.main_thread():
            return

        def terminate(signum, frame):
            raise Terminated(signum)

        for signum in (signal.SIGTERM, signal.SIGHUP):
            self._handlers[signum] = signal.signal(signum, terminate)

        def redeliver(lost):
            import _thread

            # From another thread a moment later: interrupting at once would raise in the hook.
            signum = getattr(lost, "signum", signal.SIGINT)
            self._again = threading.Timer(self.REDELIVER, _thread.interrupt_main, args=(signum,))
            self._again.start()

        self._lost = contextlib.ExitStack()
        self._lost.enter_context(redeliver_lost(KeyboardInterrupt, redeliver))
        read, write = os.pipe()
        os.set_blocking(write, False)
        try:
            self._previous = signal.set_wakeup_fd(write)
        except ValueError:
            os.close(read)
            os.close(write)
            return
        self._fd = (read, write)

        def watch():
            while True:
                try:
                    data = os.read(read, 64)
                except OSError:
                    return
                if not data:
                    return
                signum = next((s for s in STOPS if s in data), None)
                if signum is not None:
                    time.sleep(self.GRACE)
                    if not self.handled:
                        cleanup()
                        print(f"memdyn {name}: {STOPS[signum]}", file=sys.stderr, flush=True)
                        os._exit(128 + int(signum))

        threading.Thread(target=watch, name="memdyn-interrupt", daemon=True).start()

    def stop(self) -> None:
        if hasattr(self, "_lost"):
            self._lost.close()
            del self._lost
        if getattr(self, "_again", None) is not None:  # the command ended first: nothing left to interrupt
            self._again.cancel()
        for signum, handler in self._handlers.items():
            signal.signal(signum, handler)
        self._handlers = {}
        if self._fd is None:
            return
        signal.set_wakeup_fd(self._previous)
        read, write = self._fd
        os.close(write)  # the watcher reads EOF and ends
        os.close(read)
        self._fd = None


__all__ = ["InterruptWatcher", "Terminated", "stopped", "STOPS"]
