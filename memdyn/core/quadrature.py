"""Quadrature for the kernel terms that have no usable closed-form Laplace transform.

L(w) = int_0^oo exp(-w t) rho(t) dt is computed as sum_k c_k exp(-w t_k) with c_k = W_k rho(t_k):
rho is sampled once, on the host (NumPy/SciPy special functions, e.g. ``scipy.special.airy``),
on a composite Gauss-Legendre rule adapted to rho; only the contraction with exp(-w t_k), which
depends on the state, runs in JAX. That keeps the flow differentiable in w and vectorised over
neurons, with no special function needed in JAX.

The rule works in u = log(1 + t), where algebraic tails t^-p become exponential ones; panels are
graded geometrically towards u = 0 (so exp(-w t) is resolved for large w) and split until a
16-point rule and two 16-point halves agree to ``rel_tol`` of int |rho|. Integration stops where
|rho| has fallen below 1e-18 of its peak, or at t = ``t_max`` for tails that never do (then the
transform is accurate for w >~ 40/t_max, which :class:`Rule` records).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)


@dataclass(frozen=True)
class Rule:
    """Nodes ``t`` and weights ``weights`` with int_0^oo f dt ~ sum weights * f(t)."""

    t: np.ndarray
    weights: np.ndarray
    t_end: float
    truncated: bool
    """True if rho had not decayed by ``t_end`` (the tail is cut there)."""

    @property
    def w_min(self) -> float:
        """Smallest decay rate for which exp(-w t_end) < 1e-17 makes the cut harmless."""
        return 40.0 / self.t_end if self.truncated else 0.0


def _panel(f, lo: float, hi: float):
    u = 0.5 * (hi - lo) * _NODES + 0.5 * (hi + lo)
    t = np.expm1(u)
    g = f(t) * np.exp(u)
    return u, 0.5 * (hi - lo) * _WEIGHTS, g


def adapted_rule(
    functions: Sequence[Callable[[np.ndarray], np.ndarray]],
    *,
    rel_tol: float = 1e-14,
    t_max: float = 1e5,
) -> Rule:
    """A composite Gauss-Legendre rule on [0, t_end] that resolves every function given.

    Args:
        functions: vectorised callables rho(t) (one per parameter value of a sweep).
        rel_tol: panel acceptance tolerance, relative to int |rho|.
        t_max: where to cut tails that never become negligible.
    """
    def f(t):
        vals = np.stack([np.broadcast_to(np.asarray(fn(t), dtype=float), t.shape) for fn in functions])
        return np.max(np.abs(vals), axis=0)

    u_max = float(np.log1p(t_max))
    grid = np.linspace(0.0, u_max, int(u_max * 64) + 1)
    g = f(np.expm1(grid)) * np.exp(grid)
    if not np.all(np.isfinite(g)):
        raise FloatingPointError("rho is not finite on [0, t_max]")
    peak = float(np.max(g)) if g.size else 0.0
    alive = np.nonzero(g > 1e-18 * peak)[0] if peak > 0 else np.array([0])
    last = int(alive[-1]) if alive.size else 0
    truncated = last >= grid.size - 2
    u_end = u_max if truncated else min(u_max, grid[last] + 1.0)

    edges = [0.0] + [1e-9 * 2.0**k for k in range(40) if 1e-9 * 2.0**k < 1.0 / 16]
    step = 1.0 / 16
    x = 1.0 / 16
    while x < u_end:
        edges.append(x)
        x += step if x < 1.0 else 2 * step
    edges.append(u_end)
    edges = sorted(set(e for e in edges if e <= u_end))

    scale = sum(float(np.sum(w * np.abs(v))) for _, w, v in (_panel(f, a, b) for a, b in zip(edges[:-1], edges[1:])))
    scale = max(scale, np.finfo(float).tiny)
    accepted: list[tuple[float, float]] = []
    stack = list(zip(edges[:-1], edges[1:]))[::-1]
    while stack:
        a, b = stack.pop()
        _, w1, g1 = _panel(f, a, b)
        mid = 0.5 * (a + b)
        _, wl, gl = _panel(f, a, mid)
        _, wr, gr = _panel(f, mid, b)
        whole = np.sum(w1 * g1)
        halves = np.sum(wl * gl) + np.sum(wr * gr)
        if abs(whole - halves) <= rel_tol * scale or (b - a) < 1e-7:
            accepted.append((a, b))
        else:
            stack.extend([(mid, b), (a, mid)])
    accepted.sort()
    us, ws = [], []
    for a, b in accepted:
        u = 0.5 * (b - a) * _NODES + 0.5 * (b + a)
        us.append(u)
        ws.append(0.5 * (b - a) * _WEIGHTS * np.exp(u))  # dt = e^u du
    u = np.concatenate(us)
    return Rule(t=np.expm1(u), weights=np.concatenate(ws), t_end=float(np.expm1(u_end)),
                truncated=bool(truncated))
