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
transform is accurate for w >~ 40/t_max, which ``Rule`` records).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)

MAX_SPLITS = 200_000
"""Panel tests before the rule gives up: rho = sin(1000 t) e^-t needs ~110,000 (850,000 nodes);
sin(10^4 t) e^-t would need 840,000 (6.7 million nodes, which every flow step would contract)."""


FORCED_ERROR = 1e-7
"""Largest share of int |rho| that panels accepted unresolved (narrower than 1e-7 in u) may leave as
error. A jump (heaviside) leaves about 1e-8; sin(1/t) e^-t, bounded but without a limit at 0, about 7e-6,
which would change its loss in the fifth digit: it is refused rather than answered that far off."""


class Unresolved(ValueError):
    """rho varies too fast for the rule to resolve within ``MAX_SPLITS`` panel tests."""


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


def _integrals(f, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The 16-point terms of int f(t) dt = int f(e^u - 1) e^u du over each panel [lo_i, hi_i] in u, shape (panels, 16)."""
    half = 0.5 * (hi - lo)[:, None]
    u = half * _NODES + 0.5 * (hi + lo)[:, None]
    return half * _WEIGHTS * f(np.expm1(u).ravel()).reshape(u.shape) * np.exp(u)


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
    # t = 0 itself is never a node of the rule (Gauss-Legendre nodes are interior), so a value that is
    # not finite there (sin(1/t) e^-t, bounded but without a limit) only must not set the scale
    if not np.isfinite(g[0]):
        g[0] = 0.0
    if not np.all(np.isfinite(g)):
        bad = float(np.expm1(grid[np.argmin(np.isfinite(g))]))
        raise FloatingPointError(f"rho is not finite at t = {bad:.3g}")
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

    a, b = np.array(edges[:-1]), np.array(edges[1:])
    parts = _integrals(f, a, b)
    scale = max(float(np.sum(np.abs(parts))), np.finfo(float).tiny)
    # Bisect every unresolved panel of a level at once (one vectorised call of f per level).
    accepted, splits, forced = [], 0, 0.0
    while a.size:
        splits += a.size
        if splits > MAX_SPLITS:
            raise Unresolved(
                f"rho varies too fast to integrate: {MAX_SPLITS:,} panel tests did not resolve it "
                f"on [0, {float(np.expm1(u_end)):.3g}]"
            )
        mid = 0.5 * (a + b)
        whole, left, right = np.split(
            _integrals(f, np.concatenate([a, a, mid]), np.concatenate([b, mid, b])).sum(axis=1), 3
        )
        error = np.abs(whole - (left + right))
        resolved = error <= rel_tol * scale
        done = resolved | ((b - a) < 1e-7)
        forced += float(np.sum(error[done & ~resolved]))
        accepted.append(np.stack([a[done], b[done]], axis=1))
        a, b = np.concatenate([a[~done], mid[~done]]), np.concatenate([mid[~done], b[~done]])
    panels = np.concatenate(accepted)
    panels = panels[np.argsort(panels[:, 0])]
    half = 0.5 * (panels[:, 1] - panels[:, 0])[:, None]
    u = (half * _NODES + 0.5 * (panels[:, 0] + panels[:, 1])[:, None]).ravel()
    weights = (half * _WEIGHTS).ravel() * np.exp(u)  # dt = e^u du
    if forced > FORCED_ERROR * scale:
        where = float(np.expm1(panels[int(np.argmax(panels[:, 1] - panels[:, 0] < 1e-7)), 0]))
        raise Unresolved(
            f"rho oscillates without limit near t = {where:.3g}: panels too narrow to split further leave an "
            f"error of {forced / scale:.1e} of its integral, above {FORCED_ERROR:g}"
        )
    return Rule(t=np.expm1(u), weights=weights, t_end=float(np.expm1(u_end)), truncated=bool(truncated))
