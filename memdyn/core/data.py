"""The numbers a lowered target needs at run time, apart from the code (no SymPy here: the warm
path of ``memdyn.core.warm`` builds them without it)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class KernelData(NamedTuple):
    """The numbers a lowered target needs at run time (a pytree; stack it to sweep)."""

    params: jax.Array
    """Parameter values, in the order of ``Kernel.params``."""
    quad_t: jax.Array
    """Quadrature nodes for the terms without a closed form (empty if none)."""
    quad_c: jax.Array
    """Quadrature weights times those terms at the nodes."""
    norm2: jax.Array
    """||rho||^2."""


def on_device(data: KernelData) -> KernelData:
    """Host (NumPy) KernelData as float64 JAX arrays: what a compiled solve is called with."""
    return KernelData(*(jnp.asarray(x, dtype=jnp.float64) for x in data))
