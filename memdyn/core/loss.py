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

from typing import NamedTuple

import jax
import jax.numpy as jnp

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


class Anchor(NamedTuple):
    """Where the centred flow measures its state from (:func:`anchor`): theta = anchor.theta + d.

    ``theta`` (2m,) is (alpha, beta): a neuron paired with one of rho's terms c e^{-lambda t} has
    (alpha, beta) = (c, lambda), any other neuron (0, 0). ``left`` (k,) holds the amplitude of every
    exponential term no neuron is paired with (0 for the paired ones), at the rates ``rates`` (k,).
    """

    theta: jax.Array
    left: jax.Array
    rates: jax.Array


PAIRING_DISTANCE = 1.0
"""A neuron is paired with an exponential term c e^{-lambda t} when |a0 - c|/|c| + |ln(w0/lambda)| is
below this at the start (the nearest unpaired neuron, term by term)."""


def centrable(target) -> bool:
    """Whether ``target`` runs the centred flow (a plain lowered target; a reparameterised one runs in v)."""
    return isinstance(target, Target)


@float64
def anchor(target: Target, data: KernelData, theta0) -> Anchor:
    """The anchor of the centred flow from the start ``theta0``: each of rho's exponential terms
    c e^{-lambda t}, in order, is paired with the nearest unpaired neuron (``PAIRING_DISTANCE``).

    A start on M* (the fitted neurons at the short-memory terms exactly) pairs each fitted neuron with
    its term and leaves the null neurons unpaired, so the flow carries the fitted neurons'
    displacements and the null amplitudes themselves: the small quantities of a plateau, exactly.
    """
    a0, w0 = split(jnp.asarray(theta0))
    c, lam = target.exponential(data)
    alpha, beta = jnp.zeros_like(a0), jnp.zeros_like(w0)
    free = jnp.ones(a0.shape, dtype=bool)
    left = c
    for k in range(c.shape[0]):
        safe_c = jnp.where(c[k] == 0, 1.0, c[k])
        distance = jnp.abs(a0 - c[k]) / jnp.abs(safe_c) + jnp.abs(jnp.log(w0 / lam[k]))
        distance = jnp.where(free & (c[k] != 0), distance, jnp.inf)
        i = jnp.argmin(distance)
        take = distance[i] < PAIRING_DISTANCE
        alpha = alpha.at[i].set(jnp.where(take, c[k], alpha[i]))
        beta = beta.at[i].set(jnp.where(take, lam[k], beta[i]))
        free = free.at[i].set(free[i] & ~take)
        left = left.at[k].set(jnp.where(take, 0.0, c[k]))
    return Anchor(jnp.concatenate([alpha, beta]), left, lam)


@float64
def centred_gradient(target: Target, data: KernelData, anchor: Anchor, d) -> jax.Array:
    """The gradient of :func:`loss` at theta = ``anchor.theta + d``, computed from the displacement ``d``.

    With e = rho_hat - rho, dJ/da_k = 2 <e, e^{-w_k t}> and dJ/dw_k = -2 a_k <e, t e^{-w_k t}>. Here e is
    split as sum_j (a_j e^{-w_j t} - alpha_j e^{-beta_j t}) - (rho's unpaired exponential terms) - (the
    rest of rho): a paired neuron's share is ``memdyn.core.symbolic.centred_pair`` (O(1) parts cancelled
    symbolically), which for an unpaired neuron (anchor (0, 0)) is its plain a_j K(x, w_j) to within an ulp,
    and the paired terms' transforms never appear
    (they cancel exactly). So on a plateau, where the null amplitudes are residues of O(1) overlaps, every
    overlap is computed to float64's relative precision instead of to 1e-16 absolute.
    """
    alpha, beta = split(anchor.theta)
    da, dw = split(d)
    a, w = alpha + da, beta + dw
    x = w[:, None]
    # one formula for every neuron: with alpha = beta = 0 (unpaired) D0 = a x / (x (x + w)) = a K(x, w)
    D0, D1 = target.centred_overlaps(x, da[None, :], dw[None, :], alpha[None, :], beta[None, :])
    L, dL, _ = target.rest_transforms(w, data)
    Kl, Kul, _, _ = target.pair(x, anchor.rates[None, :])
    G0 = jnp.sum(D0, axis=1) - Kl @ anchor.left - L
    G1 = jnp.sum(D1, axis=1) + Kul @ anchor.left + dL
    return jnp.concatenate([2.0 * G0, -2.0 * a * G1])


def flow_field(target: Target):
    """The gradient-flow vector field f(tau, theta, data) = -grad J, in Diffrax's signature."""

    def field(tau, theta, data):
        return -gradient(target, data, theta)

    return field
