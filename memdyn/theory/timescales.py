"""Why the plateau is long: gradient and Hessian on M*, and fast amplitudes against slow rates.

JMLR Prop. 33: on M*, ||grad J|| <~ omega^-1 e^{-w_min/omega}; Prop. 34: at least m - m* Hessian
eigenvalues of the bump-free loss vanish, and the small eigenvalues of the full Hessian are
<~ omega^-2 e^{-w_min/omega}. Both are *upper* bounds; memdyn fits

    ln y = c + s * (1/omega) + q * ln(1/omega)

to the measured quantities and reports (s, q) beside the bounds' (-w_min, 1) and (-w_min, 2).
Lemma 42 / Remark 43: amplitudes a move in O(1) time, decay rates w much more slowly.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..core.fits import fit_log_linear, memory_of
from ..core.loss import gradient, hessian, split
from ..core.lowering import Target


def spectrum_on_invariant_set(
    target: Target, base: dict, param: str, values, theta0, *, zero_rel: float = 1e-3, m_star: int = 1
) -> dict:
    """Hessian eigenvalues and gradient norm at theta0 (a point of M*) for each memory value.

    An eigenvalue counts as near zero when |lambda| < ``zero_rel`` * max|lambda|; the count is set
    beside m - m*. The smallest |lambda| and ||grad J|| are fitted against the memory.
    """
    theta0 = jnp.asarray(theta0, dtype=jnp.float64)
    m = theta0.shape[0] // 2
    H = jax.jit(lambda d: hessian(target, d, theta0))
    G = jax.jit(lambda d: jnp.linalg.norm(gradient(target, d, theta0)))
    eig, grad, near_zero, smallest = [], [], [], []
    for v in values:
        d = target.data({**base, param: float(v)})
        ev = np.linalg.eigvalsh(np.asarray(H(d)))
        eig.append(ev.tolist())
        grad.append(float(G(d)))
        scale = np.max(np.abs(ev))
        near_zero.append(int(np.sum(np.abs(ev) < zero_rel * scale)))
        smallest.append(float(ev[np.argmin(np.abs(ev))]))
    memory = memory_of(param, values)
    tail = float(np.median(memory))  # fit the long-memory half, where the asymptotics apply
    w_min = float(np.min(np.asarray(theta0[m:])))
    return {
        "memory": memory,
        "eigenvalues": eig,
        "grad_norm": grad,
        "near_zero": near_zero,
        "m_minus_m_star": m - m_star,
        "smallest": smallest,
        "w_min": w_min,
        "fit_grad": _fit(memory, grad, q=None, min_x=tail),
        "fit_smallest": _fit(memory, smallest, q=None, min_x=tail),
        "fit_grad_q_bound": _fit(memory, grad, q=1.0, min_x=tail),
        "fit_smallest_q_bound": _fit(memory, smallest, q=2.0, min_x=tail),
        "theory_grad": {"s": -w_min, "q": 1.0},
        "theory_hessian": {"s": -w_min, "q": 2.0},
    }


def _fit(memory, y, **kw):
    f = fit_log_linear(memory, y, **kw)
    return f.to_json() if f else None


def two_stages(target: Target, data, theta0, ts, trajectory_fn) -> dict:
    """Amplitudes fast, rates slow (JMLR Lemma 42): how far a and w have moved along a trajectory.

    Returns, at each saved time, ||a - a0|| and ||w - w0||, the Hessian's stiffness ratio
    max|lambda| / min|lambda|, both distances at tau = 1 (the end of Stage I), and the times at
    which a and w first cover 90% of their change over the whole window.
    """
    tr = trajectory_fn(target, data, theta0, ts)
    theta = np.asarray(tr["theta"])
    a, w = split(theta)
    a0, w0 = split(np.asarray(theta0))
    da = np.linalg.norm(a - a0, axis=1)
    dw = np.linalg.norm(w - w0, axis=1)
    H = jax.jit(jax.vmap(lambda th: hessian(target, data, th)))
    ev = np.abs(np.linalg.eigvalsh(np.asarray(H(jnp.asarray(theta)))))
    stiffness = ev.max(axis=1) / np.maximum(ev.min(axis=1), np.finfo(float).tiny)

    def t90(x):
        target_x = 0.9 * x[-1]
        idx = np.nonzero(x >= target_x)[0]
        return float(ts[idx[0]]) if idx.size and x[-1] > 0 else None

    log_t = np.log(np.asarray(ts, dtype=float))
    at_1 = {"da": float(np.interp(0.0, log_t, da)), "dw": float(np.interp(0.0, log_t, dw))}
    return {
        "t": list(map(float, ts)),
        "loss": list(map(float, tr["loss"])),
        "da": da.tolist(),
        "dw": dw.tolist(),
        "stiffness": stiffness.tolist(),
        "t90_a": t90(da),
        "t90_w": t90(dw),
        "at_tau_1": at_1,
        "ok": tr["ok"],
    }
