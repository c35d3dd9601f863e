"""Ctrl-C during a command: one line, exit status 130, partial output removed."""

from __future__ import annotations

import contextlib
import os
import sys
import time

from ..core.signals import redeliver_lost


class InterruptWatcher:
    """Ctrl-C ends a command within a few seconds, even inside a long compiled call.

    Python runs its SIGINT handler (KeyboardInterrupt) only when the main thread returns to the
    interpreter, which a long XLA call does not do. The C-level handler, though, writes the signal
    number to the wakeup fd at once: a watcher thread reads it, gives the main thread ``GRACE``
    seconds to unwind by itself (one line, exit 130, partial output removed), and otherwise removes the
    partial output, prints that line and ends the process with status 130. The cache needs nothing:
    its entries are only ever replaced atomically.

    A KeyboardInterrupt that lands in a garbage-collector callback or a finaliser cannot be raised there
    (``memdyn.core.signals``): while a command runs, it is delivered again to the main thread
    ``REDELIVER`` seconds later, where it unwinds as usual.
    """

    GRACE = 2.0
    REDELIVER = 0.02

    def __init__(self, name: str, cleanup):
        import signal
        import threading

        self.handled = False
        self._fd = None
        if threading.current_thread() is not threading.main_thread():
            return

        def redeliver():
            import _thread

            # From another thread a moment later: interrupting at once would raise in the hook.
            self._again = threading.Timer(self.REDELIVER, _thread.interrupt_main)
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
                if signal.SIGINT in data:
                    time.sleep(self.GRACE)
                    if not self.handled:
                        cleanup()
                        print(f"memdyn {name}: interrupted", file=sys.stderr, flush=True)
                        os._exit(130)

        threading.Thread(target=watch, name="memdyn-interrupt", daemon=True).start()

    def stop(self) -> None:
        if hasattr(self, "_lost"):
            self._lost.close()
            del self._lost
        if getattr(self, "_again", None) is not None:  # the command ended first: nothing left to interrupt
            self._again.cancel()
        if self._fd is None:
            return
        import signal

        signal.set_wakeup_fd(self._previous)
        read, write = self._fd
        os.close(write)  # the watcher reads EOF and ends
        os.close(read)
        self._fd = None


__all__ = ["InterruptWatcher"]
