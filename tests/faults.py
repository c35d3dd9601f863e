"""A full disk, for the tests of what memdyn keeps and says when a write fails."""

from __future__ import annotations

import errno
from collections.abc import Callable


def fill_the_disk(monkeypatch, owner, name: str, when: Callable[..., bool] = lambda call, *args: True) -> Callable:
    """Make ``owner.name`` raise ENOSPC ("No space left on device", naming its first argument) on the calls for
    which ``when(call number from 1, *args)`` is true, and call through otherwise. Returns the real function,
    for a test that restores it midway (``monkeypatch`` restores it at the end in any case)."""
    real = getattr(owner, name)
    calls = 0

    def full(*args, **kwargs):
        nonlocal calls
        calls += 1
        if when(calls, *args):
            raise OSError(errno.ENOSPC, "No space left on device", str(args[0]) if args else None)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, full)
    return real
