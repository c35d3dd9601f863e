"""Real, discrete RNNs trained on sampled inputs: the experiment the reduced flow stands for.

Model (the Euler step of dh/dt = sigma(W h + U x), a residual RNN)::

    h_0 = 0,   h_{k+1} = h_k + dt * sigma(W h_k + U x_k),   y_hat = c^T h_K,   K = T / dt

with full ``W`` or diagonal ``W = -diag(w)``, ``sigma`` linear or tanh.

Inputs. White noise is ``x_k ~ N(0, 1/dt)``: the increment that enters the state, ``dt x_k``, has
variance ``dt`` per step, as a Brownian increment does (``noise="brownian"``, the default). With
``noise="unit"``, ``x_k ~ N(0, 1)`` per step (what code that draws ``randn`` per step does, e.g. the
follow-up repository's data generator): every loss is then ``dt`` times the Brownian one, and GD at
rate lr is GD at rate ``dt * lr`` on the Brownian loss. Random cosines are
``x(t) = sum_j alpha_j cos(lambda_j t)`` with ``alpha_j ~ N(0, 1)``, ``lambda_j ~ U[0, 10]`` (JMLR Fig. 4b).
Both get the same exact target, the Riemann sum of the convolution with rho::

    y = dt * sum_{j<K} rho(j dt) x_{K-1-j}

Why this scaling: the linear model's output is ``dt * sum_j khat_j x_{K-1-j}`` with the impulse
response ``khat_j = c^T (I + dt W)^j U``, so for white noise

    E (y_hat - y)^2 = dt * sum_{j<K} (khat_j - rho(j dt))^2,

the Riemann sum of the reduced loss J (Ito isometry), with ``khat_j -> sum_i a_i e^{-w_i j dt}``,
``a = c * U`` for diagonal W. ``population_loss`` computes that expectation from the impulse
response (the ``samples=None`` limit); ``sampled_loss`` is the finite-sample loss real training
sees. The bridge to the reduced flow (``memdyn.rnn.bridge``) freezes ``U = 1`` so that ``c`` *is* ``a``
and plain gradient descent on (c, w) with step ``lr`` is the Euler scheme of the reduced flow in
training time ``epoch * lr``. Training itself is in ``memdyn.rnn.train``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..core.pipeline import target as make_target
from ..errors import InputError

ACTIVATIONS = ("linear", "tanh")
INITS = ("memdyn", "relu-orthogonal")
NOISES = ("brownian", "unit")
RECURRENCES = ("full", "diagonal")
INPUTS = ("white", "cosine")


@dataclass(frozen=True)
class RNNSpec:
    """Architecture and discretisation of a width-``width`` RNN on ``[0, horizon]`` with step ``dt``."""

    width: int = 16
    dt: float = 0.1
    horizon: float = 6.4
    activation: str = "linear"
    recurrence: str = "full"
    train_input: bool = True
    """False freezes U (the bridge to the reduced model sets U = 1 so that c = a)."""
    noise: str = "brownian"
    """White-noise scaling: "brownian" x_k ~ N(0, 1/dt), "unit" x_k ~ N(0, 1) (loss x dt)."""
    input_scale: float = 1.0
    """The network reads ``input_scale * x_k`` while the target stays the convolution of x: with "unit" noise and
    ``input_scale = dt`` this is the follow-up repository's data (inputs ``dt * randn``, outputs the sum
    ``sum_s rho(s dt) inputs_(t-s)`` without a dt): the same targets, inputs dt times smaller."""
    init: str = "memdyn"
    """The random start (``init_params``): "memdyn" or "relu-orthogonal" (the follow-up repository's)."""

    def __post_init__(self):
        if self.width < 1:
            raise InputError("width", f"must be a positive integer, got {self.width}")
        if not (math.isfinite(self.dt) and self.dt > 0):
            raise InputError("dt", f"must be positive, got {self.dt}")
        if not (math.isfinite(self.horizon) and self.horizon >= self.dt):
            raise InputError("horizon", f"must be at least dt = {self.dt}, got {self.horizon}")
        if abs(self.horizon / self.dt - round(self.horizon / self.dt)) > 1e-6 * self.horizon / self.dt:
            raise InputError("horizon", f"must be a whole number of steps dt = {self.dt}, got {self.horizon}")
        if self.activation not in ACTIVATIONS:
            raise InputError("activation", f"must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        if not (math.isfinite(self.input_scale) and self.input_scale > 0):
            raise InputError("input-scale", f"must be positive, got {self.input_scale}")
        if self.noise not in NOISES:
            raise InputError("noise", f"must be one of {', '.join(NOISES)}, got {self.noise!r}")
        if self.recurrence not in RECURRENCES:
            raise InputError("recurrence", f"must be one of {', '.join(RECURRENCES)}, got {self.recurrence!r}")
        if self.init not in INITS:
            raise InputError("init", f"must be one of {', '.join(INITS)}, got {self.init!r}")
        if self.init == "relu-orthogonal" and self.recurrence != "full":
            raise InputError(
                "init", "relu-orthogonal starts a full W; diagonal W takes the memdyn start", mentions=("recurrence",)
            )

    @property
    def steps(self) -> int:
        return int(round(self.horizon / self.dt))

    @property
    def times(self) -> np.ndarray:
        """Kernel lags j * dt, j = 0..K-1."""
        return self.dt * np.arange(self.steps)


# --- parameters -------------------------------------------------------------------------------
def init_params(spec: RNNSpec, key: jax.Array) -> dict:
    """A random start (the paper states none).

    ``spec.init == "memdyn"`` (the default): full ``W = -I + 0.5 Z / sqrt(m)``, Z standard normal (spectrum
    in a disc of radius ~0.5 about -1); diagonal ``w ~ U[0.5, 1.5]``; both ``U ~ N(0, 1)``, ``c ~ N(0, 1/m)``.

    ``"relu-orthogonal"``: the start of the follow-up repository's residual RNN (radarFudan/Curse-of-memory,
    ``SimpleRNN``): ``W = -P diag(relu(z)) P^T``, z standard normal, P the orthogonal factor of a standard
    normal matrix, so about half of W's rates start at 0 (modes that forget nothing); ``U ~ U[-1, 1]`` and
    ``c ~ U[-1/sqrt(m), 1/sqrt(m)]`` (PyTorch's ``nn.Linear`` start for the encoder and decoder; their biases,
    and the repository's training of z and P in place of W, are not taken over).
    """
    m = spec.width
    kW, kU, kc = jax.random.split(key, 3)
    if spec.init == "relu-orthogonal":
        kz, kp = jax.random.split(kW)
        P, _ = jnp.linalg.qr(jax.random.normal(kp, (m, m)))
        W = -(P * jnp.maximum(jax.random.normal(kz, (m,)), 0.0)) @ P.T
        bound = 1 / math.sqrt(m)
        U = jax.random.uniform(kU, (m,), minval=-1.0, maxval=1.0) if spec.train_input else jnp.ones(m)
        return {"W": W, "U": U, "c": jax.random.uniform(kc, (m,), minval=-bound, maxval=bound)}
    if spec.recurrence == "full":
        rec = {"W": -jnp.eye(m) + 0.5 * jax.random.normal(kW, (m, m)) / math.sqrt(m)}
    else:
        rec = {"w": jax.random.uniform(kW, (m,), minval=0.5, maxval=1.5)}
    U = jax.random.normal(kU, (m,)) if spec.train_input else jnp.ones(m)
    return {**rec, "U": U, "c": jax.random.normal(kc, (m,)) / math.sqrt(m)}


def diagonal_start(a0: Sequence[float], w0: Sequence[float]) -> dict:
    """Diagonal parameters with ``U = 1``, ``c = a0``, ``w = w0``: the RNN whose reduced model is (a0, w0)."""
    a0, w0 = np.asarray(a0, float), np.asarray(w0, float)
    if a0.shape != w0.shape or a0.ndim != 1:
        raise InputError("w0", f"needs as many values as a0 ({a0.size}), got {w0.size}", mentions=("a0",))
    if np.any(w0 <= 0):
        raise InputError("w0", "decay rates must be positive")
    return {"w": jnp.asarray(w0), "U": jnp.ones_like(jnp.asarray(a0)), "c": jnp.asarray(a0)}


def _matrix(params: dict) -> jax.Array:
    return params["W"] if "W" in params else -jnp.diag(params["w"])


def _sigma(spec: RNNSpec) -> Callable:
    return jnp.tanh if spec.activation == "tanh" else (lambda z: z)


# --- the network --------------------------------------------------------------------------------
def forward(spec: RNNSpec, params: dict, x: jax.Array) -> jax.Array:
    """Outputs ``c^T h_K`` for a batch of input sequences ``x`` of shape (N, K).

    A linear network's output is the convolution ``dt sum_k khat_(K-1-k) x_k`` with its impulse response
    (h_(k+1) = A h_k + dt U x_k, A = I + dt W, so h_K = dt sum_k A^(K-1-k) U x_k): K steps of one
    vector instead of K steps of the whole batch. A tanh network
    runs the recurrence.
    """
    if spec.activation == "linear":
        return spec.dt * spec.input_scale * (x[:, ::-1] @ impulse_response(spec, params))
    W, U, sigma = _matrix(params), params["U"], _sigma(spec)

    def step(h, xk):
        return h + spec.dt * sigma(h @ W.T + xk[:, None] * (spec.input_scale * U)), None

    h, _ = jax.lax.scan(step, jnp.zeros((x.shape[0], spec.width)), x.T)
    return h @ params["c"]


def impulse_response(spec: RNNSpec, params: dict) -> jax.Array:
    """``khat_j = c^T (I + dt W)^j U`` for j < K: the same recurrence run freely after a unit impulse.

    Linear networks only: a tanh network has no kernel. (K sequential matrix-vector steps: at these
    sizes, K = 64 and width 16, they cost less than the log2 K matrix products of powers by doubling.)
    """
    if spec.activation != "linear":
        raise InputError("samples", "the population (Ito) loss needs a linear network; give a sample count")
    W = _matrix(params)

    def step(h, _):
        return h + spec.dt * (W @ h), params["c"] @ h

    _, k = jax.lax.scan(step, params["U"], None, length=spec.steps)
    return k


def targets(spec: RNNSpec, rho_grid: jax.Array, x: jax.Array) -> jax.Array:
    """``y = dt * sum_j rho(j dt) x_{K-1-j}``: the exact discrete convolution."""
    return spec.dt * (x[:, ::-1] @ rho_grid)


def sampled_loss(spec: RNNSpec, params: dict, x: jax.Array, y: jax.Array) -> jax.Array:
    """Mean squared error over the samples."""
    return jnp.mean((forward(spec, params, x) - y) ** 2)


def population_loss(spec: RNNSpec, params: dict, rho_grid: jax.Array) -> jax.Array:
    """The white-noise expectation of ``sampled_loss``: ``dt * sum_j (khat_j - rho_j)^2`` (times dt
    again for unit-variance noise), the impulse response times ``input_scale``."""
    scale = spec.dt if spec.noise == "brownian" else spec.dt**2
    return scale * jnp.sum((spec.input_scale * impulse_response(spec, params) - rho_grid) ** 2)


def white_noise(key, n: int, spec: RNNSpec) -> jax.Array:
    x = jax.random.normal(key, (n, spec.steps))
    return x / math.sqrt(spec.dt) if spec.noise == "brownian" else x


def random_cosines(key, n: int, spec: RNNSpec, modes: int = 4) -> jax.Array:
    ka, kl = jax.random.split(key)
    alpha = jax.random.normal(ka, (n, modes, 1))
    lam = jax.random.uniform(kl, (n, modes, 1), maxval=10.0)
    return jnp.sum(alpha * jnp.cos(lam * spec.dt * jnp.arange(spec.steps)), axis=1)


def rho_grid(rho: str, params: Mapping[str, float] | None, spec: RNNSpec) -> np.ndarray:
    """rho(j dt), j < K, from the formula (parsed, never executed), refused if not finite."""
    grid = make_target(rho, params).kernel_function(params)(spec.times)
    if not np.all(np.isfinite(grid)):
        bad = spec.times[~np.isfinite(grid)][0]
        raise InputError("rho", f"is not finite at t = {bad:g} on the training grid")
    return np.array(grid, dtype=float)


def random_exponential_sum(m: int, seed: int = 0) -> str:
    """JMLR Fig. 1a's target as a formula: rho(t) = c*^T e^{W* t} b* with c*, b* standard normal and
    W* = -I - Z^T Z, Z Gaussian with entry variance 1/m (symmetric, so rho is a sum of m exponentials)."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(scale=1.0 / math.sqrt(m), size=(m, m))
    c, b = rng.normal(size=m), rng.normal(size=m)
    lam, V = np.linalg.eigh(-np.eye(m) - Z.T @ Z)
    coef = (c @ V) * (V.T @ b)
    return " + ".join(f"({float(k)!r})*exp({float(r)!r}*t)" for k, r in zip(coef, lam))
