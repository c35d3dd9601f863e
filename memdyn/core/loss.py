"""The loss J(a, w), its gradient and Hessian, assembled from the lowered templates.

With K the pair kernel and L the Laplace transform of rho (see ``memdyn.core.symbolic``),

    J        = a^T K a - 2 a . L(w) + ||rho||^2
    dJ/da_k  = 2 sum_j a_j K(w_k, w_j) - 2 L(w_k)
    dJ/dw_k  = 2 a_k sum_j a_j K_u(w_k, w_j) - 2 a_k L'(w_k)                 (JMLR eqs. 96-97)
    d2J/da_k da_l = 2 K(w_k, w_l)
    d2J/da_k dw_l = 2 a_l K_v(w_k, w_l) + delta_kl (2 sum_j a_j K_u(w_k, w_j) - 2 L'(w_k))
    d2J/dw_k dw_l = 2 a_k a_l K_uv(w_k, w_l) + delta_kl (2 a_k sum_j a_j K_uu(w_k, w_j) - 2 a_k L''(w_k))

(K symmetric, so K_v(u, v) = K_u(v, u)). Parameters theta = (a, w) are stacked as one vector
of length 2m, a first. Everything is vectorised over neurons: no per-neuron code. The same
assembly runs on NumPy arrays (``backend=NUMPY``) for SciPy baselines.
"""

from __future__ import annotations

import jax

from .jaxsetup import float64
from .lowering import JAX, Backend, KernelData, Target


def split(theta: jax.Array) -> tuple[jax.Array, jax.Array]:
    """theta = (a, w) -> a, w."""
    m = theta.shape[-1] // 2
    return theta[..., :m], theta[..., m:]


@float64
def loss(target: Target, data: KernelData, theta, backend: Backend = JAX):
    """The loss J(a, w) = int_0^oo (sum_i a_i e^{-w_i t} - rho(t))^2 dt, in closed form.

    Assembled from the derived templates: ``a^T K a - 2 a.L(w) + ||rho||^2`` with the pair kernel
    K(u, v) = 1/(u + v) and the Laplace transform L of rho.

    Args:
        target: the lowered kernel (:func:`memdyn.target`).
        data: its run-time numbers, ``target.data(params)``.
        theta: (2m,) array, the point (a, w).
        backend: the array backend (JAX by default; ``memdyn.core.lowering.NUMPY`` for NumPy).

    Returns:
        J as a scalar array.

    Example:
        >>> tg = memdyn.target("exp(-t)")
        >>> float(memdyn.loss(tg, tg.data({}), jnp.array([1.0, 1.0])))
        0.0
    """
    a, w = split(theta)
    K = target.pair(w[:, None], w[None, :], backend)[0]
    L = target.transforms(w, data, backend)[0]
    return a @ K @ a - 2.0 * a @ L + data.norm2


@float64
def gradient(target: Target, data: KernelData, theta, backend: Backend = JAX):
    """The gradient (dJ/da, dJ/dw) of :func:`loss`, from the derived templates (not by autodiff).

    Args:
        target, data, theta, backend: as in :func:`loss`.

    Returns:
        (2m,) array: the m amplitude derivatives, then the m rate derivatives. The gradient flow
        is d(theta)/dtau = -gradient.
    """
    a, w = split(theta)
    K, Ku, _, _ = target.pair(w[:, None], w[None, :], backend)
    L, dL, _ = target.transforms(w, data, backend)
    ga = 2.0 * (K @ a) - 2.0 * L
    gw = 2.0 * a * (Ku @ a) - 2.0 * a * dL
    return backend.xp.concatenate([ga, gw])


@float64
def hessian(target: Target, data: KernelData, theta, backend: Backend = JAX):
    """The 2m x 2m Hessian of :func:`loss` in (a, w), from the derived templates.

    Args:
        target, data, theta, backend: as in :func:`loss`.

    Returns:
        (2m, 2m) array, blocks [[J_aa, J_aw], [J_wa, J_ww]]; minus it is the flow's Jacobian.
    """
    xp = backend.xp
    a, w = split(theta)
    K, Ku, Kuu, Kuv = target.pair(w[:, None], w[None, :], backend)
    _, dL, d2L = target.transforms(w, data, backend)
    Kv = Ku.T  # K_v(w_k, w_l) = K_u(w_l, w_k)
    haa = 2.0 * K
    haw = 2.0 * Kv * a[None, :] + xp.diag(2.0 * (Ku @ a) - 2.0 * dL)
    hww = 2.0 * xp.outer(a, a) * Kuv + xp.diag(2.0 * a * (Kuu @ a) - 2.0 * a * d2L)
    return xp.block([[haa, haw], [haw.T, hww]])


def flow_field(target: Target):
    """The gradient-flow vector field f(tau, theta, data) = -grad J, in Diffrax's signature."""

    def field(tau, theta, data):
        return -gradient(target, data, theta)

    return field
