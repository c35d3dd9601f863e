"""Resource estimates made from the sizes before anything is compiled or allocated.

The dense Newton iteration of the implicit solvers builds and factors a (2m x 2m) Jacobian per
stage for every element of a batch; training stores every hidden state of every sequence for the
backward pass. Both grow fast enough that a mistyped size (20,000 neurons: 40,000 x 40,000
matrices) would exhaust the machine minutes after the command started. ``check_memory`` refuses
such a request at once, in one line that names the argument, the estimate, what the machine has and
what to change.
"""

from __future__ import annotations

import os

from ..errors import InputError

NEWTON_COPIES = 12
"""Dense (2m x 2m) float64 matrices alive per batch element in the compiled implicit solve (Jacobian,
its LU factors, stage values, the relocating pass): measured order of magnitude, kept generous."""

FRACTION = 0.8
"""Share of the available memory a single request may plan to use."""


def available_bytes() -> int:
    """Memory available to this process now (MemAvailable), or the physical total if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def _gb(n: float) -> str:
    return f"{n / 2**30:.3g} GB"


def check_memory(need: float, argument: str, what: str, advice: str, *, mentions: tuple[str, ...] = ()) -> None:
    """Refuse (InputError naming ``argument``) when ``need`` bytes exceed the share of memory allowed."""
    have = available_bytes()
    if need > FRACTION * have:
        raise InputError(
            argument,
            f"{what} needs about {_gb(need)} of memory, this machine has {_gb(have)} available: {advice}",
            mentions=mentions,
        )


def solve_bytes(m: int, batch: int) -> float:
    """Memory of a batch of hitting-time solves of width m (dense Newton matrices dominate)."""
    n = 2 * m
    return batch * (NEWTON_COPIES * n * n * 8.0 + 400 * n * 8.0)


def check_solve(m: int, batch: int, argument: str) -> None:
    """Refuse a batch of width-m solves that cannot fit in memory."""
    advice = "use a smaller width" + (" or a smaller batch (--chunk)" if batch > 1 else "")
    check_memory(
        solve_bytes(m, batch),
        argument,
        f"width {m}" + (f" in batches of {batch}" if batch > 1 else "") + " (dense Newton matrices)",
        advice,
    )


__all__ = ["available_bytes", "check_memory", "check_solve", "solve_bytes"]
