"""Training discrete RNNs (``memdyn.rnn.model``) by GD, SGD or Adam (optax), seeds vmapped.

Epochs run in jitted chunks (``lax.scan``); the progress callback moves once per chunk, and a padded
last chunk keeps one compilation. ``samples=None`` trains on the exact white-noise (Ito) loss of a
linear network.
"""

from __future__ import annotations

import hashlib
import math
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..core.files import replace_atomically
from ..core.jaxsetup import float64
from ..core.resources import check_memory
from ..errors import InputError
from .model import INPUTS, RNNSpec, init_params, population_loss, random_cosines, sampled_loss, targets, white_noise

OPTIMIZERS = ("gd", "sgd", "adam")


@dataclass(frozen=True)
class TrainConfig:
    """How to train. ``samples=None`` trains on the population (Ito) loss of a linear network."""

    optimizer: str = "gd"
    lr: float | None = None
    """Learning rate; ``None``: 0.01 for gd and sgd, 1e-3 for adam."""
    epochs: int = 2000
    samples: int | None = 128
    batch: int | None = None
    """Minibatch size for sgd (default 32) and adam (default: full batch); gd is always full batch."""
    inputs: str = "white"
    modes: int = 4
    """Cosine modes J per input sequence (JMLR Fig. 4b; the paper does not state J). The target's mean power grows
    like J (the plateau's level grows with it, though not in proportion: research/results/fig4_paper_size.json)."""
    delta: float = 0.01
    seed: int = 0
    chunk: int = 500
    """Epochs per compiled call (the progress bar moves once per chunk)."""

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise InputError("optimizer", f"must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.lr is None:
            object.__setattr__(self, "lr", 1e-3 if self.optimizer == "adam" else 0.01)
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise InputError("lr", f"must be positive, got {self.lr}")
        if self.epochs < 1:
            raise InputError("epochs", f"must be a positive integer, got {self.epochs}")
        if self.samples is not None and self.samples < 1:
            raise InputError("samples", f"must be a positive integer or 'inf', got {self.samples}")
        if self.inputs not in INPUTS:
            raise InputError("inputs", f"must be one of {', '.join(INPUTS)}, got {self.inputs!r}")
        if not 1 <= self.modes <= 64:
            raise InputError("modes", f"must be 1..64, got {self.modes}")
        if self.samples is None and self.inputs != "white":
            raise InputError("samples", "the population loss exists for white noise only")
        if self.samples is None and self.optimizer == "sgd":
            raise InputError("optimizer", "sgd needs samples to draw minibatches from")
        if self.batch is not None and (self.batch < 1 or (self.samples and self.batch > self.samples)):
            raise InputError("batch", f"must be between 1 and samples, got {self.batch}", mentions=("samples",))
        if not (math.isfinite(self.delta) and self.delta > 0):
            raise InputError("delta", f"must be positive, got {self.delta}")

    @property
    def minibatch(self) -> int | None:
        if self.samples is None or self.optimizer == "gd":
            return None
        b = self.batch or (min(32, self.samples) if self.optimizer == "sgd" else None)
        return None if b == self.samples else b

    def optax(self) -> optax.GradientTransformation:
        return optax.adam(self.lr) if self.optimizer == "adam" else optax.sgd(self.lr)


@dataclass(repr=False)
class TrainResult:
    """Loss after every epoch (index 0: the start) for each seed, and the plateau-exit epochs
    (:func:`memdyn.train`).

    Attributes:
        spec: the network (:class:`~memdyn.rnn.model.RNNSpec`); ``config`` the training.
        loss: (seeds, epochs + 1) array.
        seeds: the seeds trained.
        params: the final parameters, stacked over seeds.
    """

    spec: RNNSpec
    config: TrainConfig
    loss: np.ndarray
    """(seeds, epochs + 1)."""
    seeds: list[int]
    params: dict = field(repr=False, default_factory=dict)
    """Final parameters, stacked over seeds."""

    def __repr__(self) -> str:
        exits = self.exit_epochs()
        return (
            f"TrainResult({self.spec.activation} {self.spec.recurrence} width {self.spec.width}, "
            f"{self.config.optimizer} lr {self.config.lr:g}, {len(self.seeds)} seed(s), "
            f"{self.loss.shape[1] - 1} epochs, loss {self.mean[0]:.4g} -> {self.mean[-1]:.4g}, exit epochs {exits})"
        )

    def to_pandas(self):
        """The loss per epoch, one column per seed, as a :class:`pandas.DataFrame` (pandas is optional)."""
        import pandas as pd

        return pd.DataFrame(self.loss.T, columns=[f"seed {s}" for s in self.seeds]).rename_axis("epoch")

    def plot(self, ax=None):
        """The loss against the epoch on log-log axes, one line per seed. Returns the axes."""
        from ..plots import plot_lines

        epochs = np.arange(1, self.loss.shape[1])
        series = {f"seed {s}": list(row[1:]) for s, row in zip(self.seeds, self.loss)}
        return plot_lines(
            epochs, series, ax=ax, logx=True, xlabel="epoch", ylabel="loss", styles={k: "-" for k in series}
        )

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
            "spec": {
                "width": self.spec.width,
                "dt": self.spec.dt,
                "T": self.spec.horizon,
                "steps": self.spec.steps,
                "activation": self.spec.activation,
                "recurrence": self.spec.recurrence,
                "train_input": self.spec.train_input,
                "noise": self.spec.noise,
                "input_scale": self.spec.input_scale,
            },
            "train": {
                "optimizer": self.config.optimizer,
                "lr": self.config.lr,
                "epochs": self.config.epochs,
                "samples": self.config.samples,
                "batch": self.config.minibatch,
                "inputs": self.config.inputs,
                **({"modes": self.config.modes} if self.config.inputs == "cosine" else {}),
            },
        }
        if len(self.seeds) > 1:
            out["loss_std"] = self.loss.std(axis=0)[idx].tolist()
            out["loss_seeds"] = self.loss[:, idx].tolist()
        return out


def plateau_escape(
    loss, epochs=None, *, flat: float = 0.05, drop: float = 0.5, first: int = 10
) -> tuple[float | None, int | None]:
    """A plateau read off a loss curve as one reads it off a log-log plot: ``(level, escape epoch)``.

    ``loss`` at ``epochs`` (default 0, 1, 2, ...; recorded points of a longer run will do: the curve is
    interpolated in log-log). On doublings ``[n, 2n]`` (n from ``first`` to half the last epoch, 80
    log-spaced), the plateau is the longest stretch of consecutive doublings over which the loss changes
    by less than ``flat`` (relative), or the flattest doubling if none is; its level is the loss where it
    starts, and the escape is the first later epoch whose loss is below ``drop`` times that level.
    ``(None, None)`` when the curve is not finite; the escape is None when the loss never drops that far.
    """
    loss = np.asarray(loss, dtype=float)
    epochs = np.arange(loss.size) if epochs is None else np.asarray(epochs, dtype=float)
    if not np.isfinite(loss).all() or loss.size < 2 or epochs[-1] < 2 * first or np.any(loss <= 0):
        return None, None
    log_e, log_l = np.log(np.maximum(epochs, 0.5)), np.log(loss)
    n = np.geomspace(first, epochs[-1] / 2, 80)
    change = np.abs(np.interp(np.log(2 * n), log_e, log_l) - np.interp(np.log(n), log_e, log_l))
    flat_at = np.append(change < np.log1p(flat), False)
    runs, k = [], 0  # (length in ln n, first index) of each stretch of flat doublings
    while k < len(n):
        if flat_at[k]:
            end = k + int(np.argmin(flat_at[k:]))
            runs.append((math.log(n[end - 1] / n[k]), -k))
            k = end
        else:
            k += 1
    start = n[-max(runs)[1]] if runs else n[int(np.argmin(change))]
    level = float(np.exp(np.interp(math.log(start), log_e, log_l)))
    below = np.flatnonzero((epochs > start) & (loss < drop * level))
    return level, (int(epochs[below[0]]) if below.size else None)


def halved_after(loss, start: int) -> int | None:
    """The first epoch after ``start`` whose loss is below half the loss at ``start`` (None if never)."""
    loss = np.asarray(loss)
    below = np.flatnonzero(loss[start:] < loss[start] / 2)
    return int(start + below[0]) if below.size else None


def exit_epoch(loss: np.ndarray, delta: float) -> int | None:
    """First epoch n with ``|L_n - L_0| > delta`` (the discrete tau_loss); None if never or not finite."""
    loss = np.asarray(loss)
    if not np.isfinite(loss[0]):
        return 0
    hit = np.flatnonzero((np.abs(loss - loss[0]) > delta) | ~np.isfinite(loss))
    return int(hit[0]) if hit.size else None


def exit_crossing(loss: np.ndarray, delta: float) -> float | None:
    """Where ``|L - L_0|`` crosses ``delta``, in epochs, interpolated linearly between the last epoch
    below and the first above (``exit_epoch`` rounds it up to a whole epoch, an error of up to
    one epoch that interpolation reduces to second order in the learning rate)."""
    k = exit_epoch(loss, delta)
    if k is None or k == 0 or not np.isfinite(loss[k]):
        return None if k is None else float(k)
    before, after = abs(loss[k - 1] - loss[0]), abs(loss[k] - loss[0])
    return float(k - 1 + (delta - before) / (after - before))


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


MAX_EPOCHS = 10_000_000
"""Most epochs of one run (the loss of every epoch is kept)."""


def check_training(spec: RNNSpec, config: TrainConfig, seeds: int) -> None:
    """Refuse, before any allocation, a run that cannot fit: the data (seeds x samples x steps), the
    hidden states kept for the backward pass (seeds x batch x steps x width, a few copies), the
    weights and the loss history."""
    if config.epochs > MAX_EPOCHS:
        raise InputError("epochs", f"at most {MAX_EPOCHS:,} in one run, got {config.epochs:,}")
    samples = config.samples or 1
    batch = config.minibatch or samples
    steps, width = spec.steps, spec.width
    need = (
        8.0
        * seeds
        * (2 * samples * steps + 4 * batch * steps * width + 4 * (width * width + 3 * width) + config.epochs + 1)
    )
    check_memory(
        need,
        "width",
        f"training {seeds} network(s) of width {width} on {samples} sequences of "
        f"{steps} steps for {config.epochs} epochs",
        "use a smaller width, fewer samples or seeds, or minibatches (--batch)",
    )


@float64
def train(
    spec: RNNSpec,
    rho: np.ndarray,
    config: TrainConfig,
    *,
    seeds: int = 1,
    start: dict | None = None,
    progress: Callable[[int], None] | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> TrainResult:
    """Train ``seeds`` networks at once (vmapped), each with its own start and data from its seed.

    Seed s uses ``jax.random.PRNGKey(config.seed + s)``: the start (unless ``start`` is given, shared
    by all seeds), the dataset and the minibatch order all come from it, so a run is reproducible.
    ``progress(n)`` is called after each chunk of n epochs.

    ``checkpoint``: a file (``.npz``) where the state (weights, optimiser state, losses so far) is saved,
    atomically, after every chunk. A run given a checkpoint of the same run (same spec, config, seeds,
    start and target) resumes after its last saved chunk and ends bit-identical to a run never stopped;
    a checkpoint of another run is ignored and overwritten. The file is removed when the run ends.
    """
    if seeds < 1:
        raise InputError("seeds", f"must be a positive integer, got {seeds}")
    check_training(spec, config, seeds)
    rho = jnp.asarray(rho, dtype=jnp.float64)
    if rho.shape != (spec.steps,):
        raise InputError("rho", f"the grid has shape {rho.shape}, expected ({spec.steps},)")
    saved = _Checkpoint(checkpoint, (spec, config, seeds, start, rho)) if checkpoint is not None else None
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
            if config.inputs == "white":
                x = white_noise(k_data, config.samples, spec)
            else:
                x = random_cosines(k_data, config.samples, spec, modes=config.modes)
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

    values, begin = [], 0
    if saved is not None and (state := saved.load((params, opt_state))) is not None:
        (params, opt_state), done = state
        values, begin = [done], done.shape[0]
        if progress is not None:
            progress(min(begin, config.epochs))
    for first in range(begin, config.epochs, chunk):
        params, opt_state, v = run(params, opt_state, first)
        values.append(np.asarray(v))
        if saved is not None:
            saved.save((params, opt_state), np.concatenate(values, axis=0))
        if progress is not None:
            progress(min(chunk, config.epochs - first))
    if config.samples is None:
        final = jax.vmap(lambda p: population_loss(spec, p, rho))(params)
    else:
        final = jax.vmap(lambda p, d: sampled_loss(spec, p, d["x"], d["y"]))(params, data)
    loss = np.concatenate(values, axis=0)[: config.epochs].T
    loss = np.concatenate([loss, np.asarray(final)[:, None]], axis=1)
    if saved is not None:
        saved.remove()
    return TrainResult(spec, config, loss, ids, jax.tree_util.tree_map(np.asarray, params))


class _Checkpoint:
    """A training's state after its last finished chunk, in one ``.npz`` file, keyed by a fingerprint of
    the run (so a file left by another run is never resumed)."""

    def __init__(self, path, run):
        self.path = Path(path)
        folder = self.path.parent
        if self.path.is_dir():
            raise InputError("checkpoint", f"{str(self.path)!r} is a folder; give a file name")
        if not folder.is_dir():
            raise InputError("checkpoint", f"the folder {str(folder)!r} does not exist")
        if not os.access(folder, os.W_OK):
            raise InputError("checkpoint", f"the folder {str(folder)!r} is not writable")
        digest = hashlib.sha256()
        for part in run:
            if part is None or isinstance(part, (RNNSpec, TrainConfig, int)):
                digest.update(repr(part).encode())
            else:  # the start (a dict of arrays) or the target's grid
                for leaf in jax.tree_util.tree_leaves(part):
                    digest.update(np.ascontiguousarray(leaf, dtype=np.float64).tobytes())
        self.fingerprint = digest.hexdigest()

    def load(self, like):
        """The saved (state shaped as ``like``, losses), or None without a checkpoint of this run."""
        if not self.path.exists():
            return None
        try:
            with np.load(self.path) as f:
                if str(f["fingerprint"]) != self.fingerprint:
                    return None
                leaves, tree = jax.tree_util.tree_flatten(like)
                state = [jnp.asarray(f[f"leaf{i}"]) for i in range(len(leaves))]
                return jax.tree_util.tree_unflatten(tree, state), f["losses"]
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):  # unreadable or cut short: start afresh
            return None

    def save(self, state, losses: np.ndarray) -> None:
        arrays = {f"leaf{i}": np.asarray(leaf) for i, leaf in enumerate(jax.tree_util.tree_leaves(state))}
        replace_atomically(
            self.path, lambda tmp: np.savez(tmp, fingerprint=self.fingerprint, losses=losses, **arrays), suffix=".npz"
        )

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
