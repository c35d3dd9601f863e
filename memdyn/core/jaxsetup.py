"""float64 for memdyn's own computations, without touching the user's JAX settings.

memdyn needs float64 (plateau levels differ in the tenth digit), but importing it must leave the
host process as it was: JAX's ``jax_enable_x64`` flag stays the user's. Every public entry point
is wrapped in ``float64``, which turns x64 on for the duration of the call only (JAX's
``enable_x64`` context, thread-local) and leaves results as NumPy arrays and Python floats.
Internal stages that build arrays call ``require_x64``, so a stage reached from outside a
wrapped entry point with x64 off fails with one line instead of computing in float32.

The command line (``memdyn.cli``) turns x64 on for its whole process instead.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import TypeVar

import jax
import jax.numpy as jnp

from ..errors import MemdynError

F = TypeVar("F", bound=Callable)

X64_HELP = "enable float64 with jax.config.update('jax_enable_x64', True), or call memdyn's public functions"


def x64_enabled() -> bool:
    """Whether JAX computes in float64 here (the global flag, or an ``enable_x64`` context)."""
    # checked without creating an array, which would start the XLA backend (jax.distributed must come first)
    return jax.dtypes.canonicalize_dtype(jnp.float64) == jnp.float64


def require_x64() -> None:
    """Raise ``memdyn.errors.MemdynError`` unless float64 is on."""
    if not x64_enabled():
        raise MemdynError(f"memdyn computes in float64 but JAX's x64 mode is off: {X64_HELP}")


@contextlib.contextmanager
def x64_scope() -> Iterator[None]:
    """float64 inside the block; the user's setting before and after it."""
    if x64_enabled():
        yield
        return
    with _enable_x64():
        require_x64()
        yield


def _enable_x64():
    scoped = getattr(jax, "enable_x64", None)  # jax >= 0.7; before, jax.experimental.enable_x64
    if scoped is None:
        from jax.experimental import enable_x64 as scoped
    return scoped(True)


def float64(fn: F) -> F:
    """Decorate a public entry point: it runs with float64 on, whatever the user's setting."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with x64_scope():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


__all__ = ["float64", "require_x64", "x64_enabled", "x64_scope", "X64_HELP"]
