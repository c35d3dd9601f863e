"""JAX configuration: memdyn computes in float64 (and checks that it does), with a persistent
compilation cache (:mod:`memdyn.core.cache`)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import cache


def ensure_x64() -> None:
    """Turn on float64 in JAX and verify it took effect (plateau levels differ in the 10th digit)."""
    jax.config.update("jax_enable_x64", True)
    # checked without creating an array, which would start the XLA backend (jax.distributed must come first)
    if jax.dtypes.canonicalize_dtype(jnp.float64) != jnp.float64:
        raise RuntimeError("memdyn needs float64 JAX arrays, but jax_enable_x64 did not take effect")


cache.configure_jax()  # before any compile: memdyn's compiles persist across processes (memdyn.core.cache)
ensure_x64()
