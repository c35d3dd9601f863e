"""The front door for scripts: formula in, lowered target and results out.

These functions compose the stages (parse -> derive -> lower -> integrate) and add nothing new
to them; the CLI is a thin layer over them.
"""

from __future__ import annotations

import functools
from typing import Mapping, Sequence

import jax
import numpy as np

from .formula import parse_kernel
from .integrate import FlowResult, SolverConfig, check_start, hitting_times
from .loss import gradient, hessian, loss
from .lowering import KernelData, Target, lower
from .reparam import mapped
from .symbolic import Derivation, derive


def target(rho: str, params: Mapping[str, float | Sequence[float]] | None = None) -> Target:
    """Parse, derive and lower ``rho`` (cached per formula and parameter signs).

    A parameter may be given as a list of values (a sweep); only the signs matter here.
    """
    return lower(derive(parse_kernel(rho, dict(params or {}))))


@functools.lru_cache(maxsize=64)
def _jitted(tg: Target):
    """Compiled loss, gradient and Hessian of one target (compiled once, reused per call)."""
    return tuple(jax.jit(functools.partial(f, tg)) for f in (loss, gradient, hessian))


def evaluate(rho: str, params: Mapping[str, float] | None, a: Sequence[float], w: Sequence[float],
             *, with_hessian: bool = False) -> dict:
    """Loss, gradient (and optionally Hessian) of the reduced model at (a, w)."""
    tg = target(rho, params)
    data = tg.data(params or {})
    theta = check_start(a, w)
    m = len(a)
    f_loss, f_grad, f_hess = _jitted(tg)
    g = np.asarray(f_grad(data, theta))
    out = {"loss": float(f_loss(data, theta)), "grad_a": g[:m].tolist(), "grad_w": g[m:].tolist()}
    if with_hessian:
        out["hessian"] = np.asarray(f_hess(data, theta)).tolist()
    return out


def flow(rho: str, params: Mapping[str, float] | None, a0: Sequence[float], w0: Sequence[float], *,
         delta: float, t1: float = 1e8, config: SolverConfig = SolverConfig(), param_map: str = "plain") -> FlowResult:
    """Both hitting times of the gradient flow from (a0, w0); see :func:`memdyn.integrate.hitting_times`.

    ``param_map`` trains v with w = g(v) instead of w (see :mod:`memdyn.reparam`); starts and
    ``theta_final`` stay in (a, w), tau_param is measured in the trained coordinates (a, v).
    """
    tg = mapped(target(rho, params), param_map)
    return hitting_times(tg, tg.data(params or {}), a0, w0, delta=delta, t1=t1, config=config)


__all__ = ["target", "evaluate", "flow", "Derivation", "KernelData", "Target"]
