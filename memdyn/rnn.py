"""Real, discrete RNNs trained on sampled inputs: the experiment the reduced flow stands for.

Model (the Euler step of dh/dt = sigma(W h + U x), a residual RNN)::

    h_0 = 0,   h_{k+1} = h_k + dt * sigma(W h_k + U x_k),   y_hat = c^T h_K,   K = T / dt

with full ``W`` or diagonal ``W = -diag(w)``, ``sigma`` linear or tanh.

Inputs. White noise is ``x_k ~ N(0, 1/dt)``: the increment that enters the state, ``dt x_k``, has
variance ``dt`` per step, as a Brownian increment does. Random cosines are
``x(t) = sum_j alpha_j cos(lambda_j t)`` with ``alpha_j ~ N(0, 1)``, ``lambda_j ~ U[0, 10]`` (JMLR Fig. 4b).
Both get the same exact target, the Riemann sum of the convolution with rho::

    y = dt * sum_{j<K} rho(j dt) x_{K-1-j}

Why this scaling: the linear model's output is ``dt * sum_j khat_j x_{K-1-j}`` with the impulse
response ``khat_j = c^T (I + dt W)^j U``, so for white noise

    E (y_hat - y)^2 = dt * sum_{j<K} (khat_j - rho(j dt))^2,

the Riemann sum of the reduced loss J (Ito isometry), with ``khat_j -> sum_i a_i e^{-w_i j dt}``,
``a = c * U`` for diagonal W. :func:`population_loss` computes that expectation from the impulse
response (the ``samples=None`` limit); :func:`sampled_loss` is the finite-sample loss real training
sees. The bridge to the reduced flow (:mod:`memdyn.bridge`) freezes ``U = 1`` so that ``c`` *is* ``a``
and plain gradient descent on (c, w) with step ``lr`` is the Euler scheme of the reduced flow in
training time ``epoch * lr``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import _jax  # noqa: F401  (float64)
from .errors import InputError

ACTIVATIONS = ("linear", "tanh")
RECURRENCES = ("full", "diagonal")
OPTIMIZERS = ("gd", "sgd", "adam")
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

    def __post_init__(self):
        if self.width < 1:
            raise InputError("--width", f"must be a positive integer, got {self.width}")
        if not (math.isfinite(self.dt) and self.dt > 0):
            raise InputError("--dt", f"must be positive, got {self.dt}")
        if not (math.isfinite(self.horizon) and self.horizon >= self.dt):
            raise InputError("--T", f"must be at least dt = {self.dt}, got {self.horizon}")
        if abs(self.horizon / self.dt - round(self.horizon / self.dt)) > 1e-6 * self.horizon / self.dt:
            raise InputError("--T", f"must be a whole number of steps dt = {self.dt}, got {self.horizon}")
        if self.activation not in ACTIVATIONS:
            raise InputError("--activation", f"must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        if self.recurrence not in RECURRENCES:
            raise InputError("--recurrence", f"must be one of {', '.join(RECURRENCES)}, got {self.recurrence!r}")

    @property
    def steps(self) -> int:
        return int(round(self.horizon / self.dt))

    @property
    def times(self) -> np.ndarray:
        """Kernel lags j * dt, j = 0..K-1."""
        return self.dt * np.arange(self.steps)


# --- parameters -------------------------------------------------------------------------------
def init_params(spec: RNNSpec, key: jax.Array) -> dict:
    """A random start (the paper states none; these are memdyn's documented defaults).

    full: ``W = -I + 0.5 Z / sqrt(m)``, Z standard normal (spectrum in a disc of radius ~0.5 about -1);
    diagonal: ``w ~ U[0.5, 1.5]``; both: ``U ~ N(0, 1)``, ``c ~ N(0, 1/m)``.
    """
    m = spec.width
    kW, kU, kc = jax.random.split(key, 3)
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
        raise InputError("--w0", f"needs as many values as --a0 ({a0.size}), got {w0.size}")
    if np.any(w0 <= 0):
        raise InputError("--w0", "decay rates must be positive")
    return {"w": jnp.asarray(w0), "U": jnp.ones_like(jnp.asarray(a0)), "c": jnp.asarray(a0)}


def _matrix(params: dict) -> jax.Array:
    return params["W"] if "W" in params else -jnp.diag(params["w"])


def _sigma(spec: RNNSpec) -> Callable:
    return jnp.tanh if spec.activation == "tanh" else (lambda z: z)


# --- the network --------------------------------------------------------------------------------
def forward(spec: RNNSpec, params: dict, x: jax.Array) -> jax.Array:
    """Outputs ``c^T h_K`` for a batch of input sequences ``x`` of shape (N, K)."""
    W, U, sigma = _matrix(params), params["U"], _sigma(spec)

    def step(h, xk):
        return h + spec.dt * sigma(h @ W.T + xk[:, None] * U), None

    h, _ = jax.lax.scan(step, jnp.zeros((x.shape[0], spec.width)), x.T)
    return h @ params["c"]


def impulse_response(spec: RNNSpec, params: dict) -> jax.Array:
    """``khat_j = c^T (I + dt W)^j U`` for j < K: the same recurrence run freely after a unit impulse.

    Linear networks only: a tanh network has no kernel.
    """
    if spec.activation != "linear":
        raise InputError("--samples", "the population (Ito) loss needs a linear network; give a sample count")
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
    """The white-noise expectation of :func:`sampled_loss`: ``dt * sum_j (khat_j - rho_j)^2``."""
    return spec.dt * jnp.sum((impulse_response(spec, params) - rho_grid) ** 2)


def white_noise(key, n: int, spec: RNNSpec) -> jax.Array:
    return jax.random.normal(key, (n, spec.steps)) / math.sqrt(spec.dt)


def random_cosines(key, n: int, spec: RNNSpec, modes: int = 4) -> jax.Array:
    ka, kl = jax.random.split(key)
    alpha = jax.random.normal(ka, (n, modes, 1))
    lam = jax.random.uniform(kl, (n, modes, 1), maxval=10.0)
    return jnp.sum(alpha * jnp.cos(lam * spec.dt * jnp.arange(spec.steps)), axis=1)


def rho_grid(rho: str, params: Mapping[str, float] | None, spec: RNNSpec) -> np.ndarray:
    """rho(j dt), j < K, from the formula (parsed, never executed), refused if not finite."""
    from .api import target

    grid = target(rho, params).kernel_function(params)(spec.times)
    if not np.all(np.isfinite(grid)):
        bad = spec.times[~np.isfinite(grid)][0]
        raise InputError("--rho", f"is not finite at t = {bad:g} on the training grid")
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


# --- training -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig:
    """How to train. ``samples=None`` trains on the population (Ito) loss of a linear network."""

    optimizer: str = "gd"
    lr: float = 1.0
    epochs: int = 1000
    samples: int | None = 128
    batch: int | None = None
    """Minibatch size for sgd (default 32) and adam (default: full batch); gd is always full batch."""
    inputs: str = "white"
    delta: float = 0.01
    seed: int = 0
    chunk: int = 500
    """Epochs per compiled call (the progress bar moves once per chunk)."""

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise InputError("--optimizer", f"must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise InputError("--lr", f"must be positive, got {self.lr}")
        if self.epochs < 1:
            raise InputError("--epochs", f"must be a positive integer, got {self.epochs}")
        if self.samples is not None and self.samples < 1:
            raise InputError("--samples", f"must be a positive integer or 'inf', got {self.samples}")
        if self.inputs not in INPUTS:
            raise InputError("--inputs", f"must be one of {', '.join(INPUTS)}, got {self.inputs!r}")
        if self.samples is None and self.inputs != "white":
            raise InputError("--samples", "the population loss exists for white noise only")
        if self.samples is None and self.optimizer == "sgd":
            raise InputError("--optimizer", "sgd needs samples to draw minibatches from")
        if self.batch is not None and (self.batch < 1 or (self.samples and self.batch > self.samples)):
            raise InputError("--batch", f"must be between 1 and --samples, got {self.batch}")
        if not (math.isfinite(self.delta) and self.delta > 0):
            raise InputError("--delta", f"must be positive, got {self.delta}")

    @property
    def minibatch(self) -> int | None:
        if self.samples is None or self.optimizer == "gd":
            return None
        b = self.batch or (min(32, self.samples) if self.optimizer == "sgd" else None)
        return None if b == self.samples else b

    def optax(self) -> optax.GradientTransformation:
        return optax.adam(self.lr) if self.optimizer == "adam" else optax.sgd(self.lr)


@dataclass
class TrainResult:
    """Loss after every epoch (index 0: the start) for each seed, and the plateau-exit epochs."""

    spec: RNNSpec
    config: TrainConfig
    loss: np.ndarray
    """(seeds, epochs + 1)."""
    seeds: list[int]
    params: dict = field(repr=False, default_factory=dict)
    """Final parameters, stacked over seeds."""

    @property
    def mean(self) -> np.ndarray:
        return self.loss.mean(axis=0)

    def exit_epochs(self) -> list[int | None]:
        return [exit_epoch(row, self.config.delta) for row in self.loss]

    def recorded(self, points: int = 200) -> np.ndarray:
        """Epoch indices to report: 0, about ``points`` log-spaced epochs up to the last, and the powers of 10."""
        n = self.loss.shape[1] - 1
        if not n:
            return np.array([0])
        decades = 10 ** np.arange(int(np.log10(n)) + 1)
        return np.unique(np.concatenate([[0], np.round(np.geomspace(1, n, points)).astype(int), decades]))

    def to_json(self, points: int = 200) -> dict:
        idx = self.recorded(points)
        exit_mean = exit_epoch(self.mean, self.config.delta)
        out = {
            "epochs": idx.tolist(),
            "loss": self.mean[idx].tolist(),
            "exit_epoch": exit_mean,
            "exit_time": None if exit_mean is None else exit_mean * self.config.lr,
            "exit_epochs": self.exit_epochs(),
            "delta": self.config.delta,
            "loss_initial": float(self.mean[0]),
            "loss_final": float(self.mean[-1]),
            "seeds": self.seeds,
            "spec": {"width": self.spec.width, "dt": self.spec.dt, "T": self.spec.horizon, "steps": self.spec.steps,
                     "activation": self.spec.activation, "recurrence": self.spec.recurrence,
                     "train_input": self.spec.train_input},
            "train": {"optimizer": self.config.optimizer, "lr": self.config.lr, "epochs": self.config.epochs,
                      "samples": self.config.samples, "batch": self.config.minibatch, "inputs": self.config.inputs},
        }
        if len(self.seeds) > 1:
            out["loss_std"] = self.loss.std(axis=0)[idx].tolist()
            out["loss_seeds"] = self.loss[:, idx].tolist()
        return out


def exit_epoch(loss: np.ndarray, delta: float) -> int | None:
    """First epoch n with ``|L_n - L_0| > delta`` (the discrete tau_loss); None if never or not finite."""
    loss = np.asarray(loss)
    if not np.isfinite(loss[0]):
        return 0
    hit = np.flatnonzero((np.abs(loss - loss[0]) > delta) | ~np.isfinite(loss))
    return int(hit[0]) if hit.size else None


def _epoch_fn(spec: RNNSpec, config: TrainConfig, opt: optax.GradientTransformation) -> Callable:
    """One epoch for one seed: (params, opt_state, data, key) -> new state and the loss at the start."""
    frozen = not spec.train_input

    def objective(params, data):
        if config.samples is None:
            return population_loss(spec, params, data["rho"])
        return sampled_loss(spec, params, data["x"], data["y"])

    def update(params, opt_state, data):
        value, grads = jax.value_and_grad(objective)(params, data)
        if frozen:
            grads = {**grads, "U": jnp.zeros_like(grads["U"])}
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    b = config.minibatch

    def epoch(params, opt_state, data, key):
        if b is None:
            return update(params, opt_state, data)
        value = objective(params, data)
        n = config.samples // b
        order = jax.random.permutation(key, config.samples)[: n * b].reshape(n, b)

        def minibatch(carry, rows):
            p, s = carry
            p, s, _ = update(p, s, {"x": data["x"][rows], "y": data["y"][rows]})
            return (p, s), None

        (params, opt_state), _ = jax.lax.scan(minibatch, (params, opt_state), order)
        return params, opt_state, value

    return epoch


def train(spec: RNNSpec, rho: np.ndarray, config: TrainConfig, *, seeds: int = 1, start: dict | None = None,
          progress: Callable[[int], None] | None = None) -> TrainResult:
    """Train ``seeds`` networks at once (vmapped), each with its own start and data from its seed.

    Seed s uses ``jax.random.PRNGKey(config.seed + s)``: the start (unless ``start`` is given, shared
    by all seeds), the dataset and the minibatch order all come from it, so a run is reproducible.
    ``progress(n)`` is called after each chunk of n epochs.
    """
    if seeds < 1:
        raise InputError("--seeds", f"must be a positive integer, got {seeds}")
    rho = jnp.asarray(rho, dtype=jnp.float64)
    if rho.shape != (spec.steps,):
        raise ValueError(f"rho grid has shape {rho.shape}, expected ({spec.steps},)")
    opt = config.optax()
    ids = list(range(config.seed, config.seed + seeds))
    keys = jnp.stack([jax.random.PRNGKey(i) for i in ids])

    def setup(key):
        k_init, k_data, k_order = jax.random.split(key, 3)
        params = start if start is not None else init_params(spec, k_init)
        params = jax.tree_util.tree_map(lambda v: jnp.asarray(v, jnp.float64), params)
        if config.samples is None:
            data = {"rho": rho}
        else:
            draw = white_noise if config.inputs == "white" else random_cosines
            x = draw(k_data, config.samples, spec)
            data = {"x": x, "y": targets(spec, rho, x)}
        return params, opt.init(params), data, k_order

    params, opt_state, data, order_keys = jax.vmap(setup)(keys)
    epoch = jax.vmap(_epoch_fn(spec, config, opt))
    chunk = min(config.chunk, config.epochs)

    @jax.jit
    def run(params, opt_state, first):
        def body(carry, e):
            p, s = carry
            ks = jax.vmap(jax.random.fold_in, in_axes=(0, None))(order_keys, e)
            p2, s2, value = epoch(p, s, data, ks)
            live = e < config.epochs
            keep = lambda new, old: jax.tree_util.tree_map(lambda a, b: jnp.where(live, a, b), new, old)  # noqa: E731
            return (keep(p2, p), keep(s2, s)), value

        (params, opt_state), values = jax.lax.scan(body, (params, opt_state), first + jnp.arange(chunk))
        return params, opt_state, values

    values = []
    for first in range(0, config.epochs, chunk):
        params, opt_state, v = run(params, opt_state, first)
        values.append(np.asarray(v))
        if progress is not None:
            progress(min(chunk, config.epochs - first))
    if config.samples is None:
        final = jax.vmap(lambda p: population_loss(spec, p, rho))(params)
    else:
        final = jax.vmap(lambda p, d: sampled_loss(spec, p, d["x"], d["y"]))(params, data)
    loss = np.concatenate(values, axis=0)[: config.epochs].T
    loss = np.concatenate([loss, np.asarray(final)[:, None]], axis=1)
    return TrainResult(spec, config, loss, ids, jax.tree_util.tree_map(np.asarray, params))
