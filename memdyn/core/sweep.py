"""Batched hitting-time sweeps: one compiled, vmapped solve over parameter values x initial conditions.

Every element has its own step sizes and its own status (Diffrax under ``vmap``; a batch runs
until its slowest element finishes). Long sweeps run in equal-sized chunks of the batch (padded,
so one compilation serves every chunk) to show progress.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import jax
import numpy as np

from ..errors import InputError
from .fits import bound_ratio, fit_log_linear, memory_of
from .integrate import FlowResult, SolverConfig, check_horizon, compiled_hitting_times, flow_result
from .data import KernelData
from .resources import check_solve
from .starts import check_starts

if TYPE_CHECKING:
    from .lowering import Target

MAX_ELEMENTS = 1_000_000
"""Most solves in one sweep (values x starts)."""


@dataclass
class SweepResult:
    """Per-element results of a sweep, in the order values x starts (values outer)."""

    param: str
    values: list[float]
    memory: list[float]
    """1/omega for each element (the value itself, or its inverse for a parameter named omega)."""
    starts: np.ndarray
    """(n_starts, 2m) initial conditions."""
    results: list[FlowResult]
    compile_s: float
    run_s: float
    w_min: list[float] = field(default_factory=list)
    axes: dict[str, list[float]] = field(default_factory=dict)
    """Further grid axes (``--sweep`` given more than once): each one's value per element."""
    devices: int = 1

    def column(self, key: str) -> list:
        return [getattr(r, key) for r in self.results]

    def fits(self) -> dict:
        """Theorem 20's fits along the memory axis; None on a grid of several axes (a slope across
        other parameters means nothing: fit each slice with :func:`memdyn.core.fits.fit_log_linear`)."""
        out = {}
        if self.axes:
            return {key: None for key in ("tau_param", "tau_loss")}
        for key in ("tau_param", "tau_loss"):
            taus = self.column(key)
            plain = fit_log_linear(self.memory, taus)
            pref = fit_log_linear(self.memory, taus, q=-2.0)  # ln(tau / omega^2): the bound's own form
            w_min = min(self.w_min) if self.w_min else None
            out[key] = {"plain": plain.to_json() if plain else None,
                        "omega2": pref.to_json() if pref else None,
                        "bound_slope": w_min,
                        "bound_ratio": bound_ratio(self.memory, taus, w_min) if w_min else None}
        return out

    def to_json(self) -> dict:
        return {
            "param": self.param,
            "values": [float(v) for v in self.values],
            "axes": {name: [float(v) for v in vals] for name, vals in self.axes.items()},
            "memory": self.memory,
            "start": [list(map(float, s)) for s in self.starts],
            "tau_param": self.column("tau_param"),
            "tau_loss": self.column("tau_loss"),
            "loss_initial": self.column("loss_initial"),
            "loss_final": self.column("loss_final"),
            "steps": self.column("steps"),
            "status": [str(s) for s in self.column("status")],
            "w_min": self.w_min,
            "fit": self.fits(),
            "timing": {"compile_s": self.compile_s, "run_s": self.run_s},
            "devices": self.devices,
        }


class ChunkStore:
    """A sweep's finished chunks in a folder: ``chunk-NNNNNN.npz`` written atomically (a temporary file,
    then ``os.replace``), beside ``sweep.json``, the description of the sweep they belong to.

    Reopening the folder with the same description resumes (finished chunks are read back, not
    solved); a different description is refused, so results of two sweeps never mix. A run killed
    mid-chunk loses that chunk only: its temporary file is never renamed.
    """

    def __init__(self, folder, description: dict):
        self.folder = Path(folder)
        self.description = description
        self.key = hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()
        manifest = self.folder / "sweep.json"
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text())
            except (OSError, ValueError):
                raise InputError("out", f"{manifest} is not a memdyn sweep manifest: choose another folder") from None
            if old.get("key") != self.key:
                changed = sorted(k for k in set(description) | set(old.get("description", {}))
                                 if description.get(k) != old.get("description", {}).get(k))
                raise InputError("out", f"{self.folder} holds chunks of a different sweep (changed: "
                                        f"{', '.join(changed) or 'format'}): rerun with the same arguments to resume, "
                                        "or choose another folder")
        else:
            if self.folder.exists() and not self.folder.is_dir():
                raise InputError("out", f"{self.folder} exists and is not a folder")
            self.folder.mkdir(parents=True, exist_ok=True)
            # one temporary name per process: the processes of a distributed sweep all write the (same) manifest
            tmp = self.folder / f".sweep.{os.getpid()}.tmp"
            tmp.write_text(json.dumps({"key": self.key, "description": description}, indent=1))
            os.replace(tmp, manifest)

    def path(self, k: int) -> Path:
        return self.folder / f"chunk-{k:06d}.npz"

    def done(self) -> list[int]:
        return sorted(int(p.stem.split("-")[1]) for p in self.folder.glob("chunk-*.npz"))

    def load(self, k: int) -> dict:
        with np.load(self.path(k)) as f:
            return {name: f[name] for name in f.files}

    def save(self, k: int, out: dict) -> None:
        tmp = self.folder / f".chunk-{k:06d}.{os.getpid()}.tmp.npz"
        np.savez(tmp, **{name: np.asarray(v) for name, v in out.items()})
        os.replace(tmp, self.path(k))


def bucket(n: int) -> int:
    """The batch size a sweep of n elements is padded to: the next power of two, so that sweeps of
    50 and 64 values share one compiled (and cached) solve; padding repeats the last element."""
    return 1 << max(0, int(n) - 1).bit_length()


def _digest(delta):
    """A threshold for the manifest: the number, or a digest of the per-element thresholds."""
    if np.ndim(delta) == 0:
        return float(delta)
    return hashlib.sha256(np.ascontiguousarray(delta, dtype=float).tobytes()).hexdigest()[:16]


def run_sweep(target: Target, base: dict[str, float], param: str, values: Sequence[float],
              starts: np.ndarray, *, delta: float | np.ndarray, t1: float, config: SolverConfig = SolverConfig(),
              friction: float | None = None, chunk: int | None = None,
              progress: Callable[[int], None] | None = None, out_dir=None,
              on_resume: Callable[[int, int], None] | None = None,
              grid: Sequence[tuple[str, Sequence[float]]] = (), devices: int = 1,
              balance: bool = True, wait_s: float = 86400.0) -> SweepResult:
    """Hitting times for every (value, start) pair, solved as one compiled, batched call.

    Args:
        target: the lowered kernel; ``base`` the values of its other parameters.
        param, values: the swept parameter and its values.
        starts: (n_starts, 2m) initial conditions theta0 = (a0, w0).
        delta: the hitting times' threshold, or one per element (values x grid x starts, starts inner).
        friction: integrate the heavy-ball ODE with this friction instead of gradient flow.
        chunk: batch elements per compiled call (default: all at once), padded up to a power of two
            (:func:`bucket`); ``progress(k)`` is called with the number of elements finished after each
            chunk. ``compile_s`` is the time to load or build the solve (near zero from a warm cache).
        out_dir: keep each finished chunk there (:class:`ChunkStore`): a rerun with the same arguments
            reads them back instead of solving them (``on_resume(done, total)`` says how many chunks).
        grid: further axes (name, values): the sweep runs over the Cartesian product, ``param`` outermost
            (it stays the memory axis), then these in order, then the starts.
        devices: local devices to spread the chunks over, one chunk per device at a time (each device
            runs its own compiled batch, so one slow element holds up its own chunk only; see
            ``examples/bench_devices.py`` for the comparison with one batch sharded over the devices).
        balance: chunk the elements in order of predicted cost (results come back in the usual order).

    Under ``jax.distributed`` (``jax.process_count() > 1``) process i solves the chunks k with
    k mod count == i into ``out_dir`` (required: a folder every process reaches), then waits (up to
    ``wait_s``) until every chunk is there and reads the whole table back.
    """
    processes, me = jax.process_count(), jax.process_index()
    if processes > 1 and out_dir is None:
        raise InputError("out", f"a sweep over {processes} processes needs an output folder every process can reach")
    available = jax.local_devices()
    if not 1 <= devices <= len(available):
        raise InputError("devices", f"must be 1..{len(available)} (the local {available[0].platform} devices), "
                                    f"got {devices}")
    axes = [(param, values), *grid]
    names = [name for name, _ in axes]
    for name in names:
        if name not in target.param_names:
            raise InputError("param", f"'{name}' is not a parameter of the formula")
    if len(set(names)) < len(names):
        raise InputError("param", f"a parameter is swept twice: {', '.join(names)}")
    check_horizon(delta, t1)
    if np.ndim(delta) not in (0, 1):
        raise InputError("delta", "must be a number or one number per element")
    axes = [(name, [float(v) for v in vals]) for name, vals in axes]
    for name, vals in axes:
        if not vals:
            raise InputError("values", f"no values given for {name}")
    starts = check_starts(starts)
    m = starts.shape[1] // 2
    points = [dict(zip(names, combo)) for combo in itertools.product(*(vals for _, vals in axes))]
    if len(points) * starts.shape[0] > MAX_ELEMENTS:
        raise InputError("values", f"{len(points)} grid points x {starts.shape[0]} starts is more than "
                                   f"{MAX_ELEMENTS:,} solves in one sweep: split it")
    values = [p[param] for p in points]
    # Host arrays until the call: slicing JAX arrays would compile a small program per shape.
    data = target.data_batch([{**base, **p} for p in points], host=True)
    n_v, n_s = len(points), starts.shape[0]
    # values outer, starts inner
    data = KernelData(*(np.repeat(x, n_s, axis=0) for x in data))
    theta0 = np.tile(target.internal(starts), (n_v, 1))
    n = n_v * n_s
    step = n if chunk is None else max(1, min(chunk, n))  # elements per call
    # A batch runs until its slowest element ends: solve in order of predicted cost, ln tau ~
    # w_min/omega (Theorem 20), so that each chunk holds plateaus of like length (3x faster on a
    # grid of plateaus 1e0..1e9: examples/bench_devices.py), then restore the order.
    memory_per_point = memory_of(param, values)
    w_min = np.tile(np.min(starts[:, m:], axis=1), n_v)  # per element, values outer
    cost = np.repeat(memory_per_point, n_s) * w_min
    order = np.argsort(cost, kind="stable") if balance and step < n else np.arange(n)
    data = KernelData(*(x[order] for x in data))
    theta0 = theta0[order]
    if np.ndim(delta) == 1 and len(delta) != n:
        raise InputError("delta", f"has {len(delta)} thresholds for {n} elements")
    deltas = np.broadcast_to(np.asarray(delta, float), (n,))[order]
    size = bucket(step)  # the compiled batch: step elements, padded
    check_solve(m, size, "starts")
    fn = compiled_hitting_times(target, config, batched=True, friction=friction)

    def piece(lo):
        idx = np.minimum(np.arange(lo, lo + size), min(lo + step, n) - 1)  # pad with the piece's last element
        return jax.tree_util.tree_map(lambda x: x[idx], data), theta0[idx], deltas[idx]

    store = None
    if out_dir is not None:
        store = ChunkStore(out_dir, {
            "target": target.fingerprint, "base": {k: float(v) for k, v in sorted(base.items())}, "param": param,
            "values": values, "grid": [[name, vals] for name, vals in axes[1:]], "starts": np.asarray(starts, float).tolist(), "delta": _digest(delta), "t1": float(t1),
            "config": repr(config), "friction": friction, "chunk": step, "elements": n, "balance": balance})
    chunks = range(0, n, step)
    done = set(store.done()) if store else set()
    if on_resume and done:
        on_resume(len(done), len(chunks))
    d0, th0, _ = piece(0)
    devs = available[:devices] if devices > 1 else [None]
    start = time.perf_counter()
    if any(k not in done and k % processes == me for k in range(len(chunks))):
        for dev in devs:
            fn.prepare(d0, th0, dev)
    compile_s = time.perf_counter() - start
    outs: dict[int, dict] = {}
    in_flight: list[tuple[int, int, dict]] = []

    def finish(k, lo, pending):
        out = jax.tree_util.tree_map(lambda x: x[: min(step, n - lo)], jax.device_get(pending))
        if store:
            store.save(k, out)
        outs[k] = out
        if progress:
            progress(min(step, n - lo))

    start = time.perf_counter()
    for k, lo in enumerate(chunks):
        if k in done or k % processes != me:  # done already, or another process's chunk (read below)
            if k in done:
                outs[k] = store.load(k)
            if progress:
                progress(min(step, n - lo))
            continue
        if len(in_flight) == len(devs):  # every device busy: wait for the oldest chunk
            finish(*in_flight.pop(0))
        d, th, de = piece(lo)
        in_flight.append((k, lo, fn(d, th, de, t1, devs[k % len(devs)])))
    for item in in_flight:
        finish(*item)
    if processes > 1:  # gather the other processes' chunks through the shared folder
        deadline = time.monotonic() + wait_s
        while missing := [k for k in range(len(chunks)) if k not in outs and not store.path(k).exists()]:
            if time.monotonic() > deadline:
                raise InputError("out", f"{len(missing)} chunks of other processes did not arrive in {store.folder} "
                                        f"within {wait_s:g} s")
            time.sleep(0.05)
        for k in range(len(chunks)):
            if k not in outs:
                outs[k] = store.load(k)
    outs = [outs[k] for k in range(len(chunks))]
    run_s = time.perf_counter() - start
    out = jax.tree_util.tree_map(lambda *xs: np.concatenate(xs), *outs)
    out = jax.tree_util.tree_map(lambda x: x[np.argsort(order)], out)  # back to values x starts order
    results = [flow_result(jax.tree_util.tree_map(lambda x: x[i], out), t1, config, target) for i in range(n)]
    memory = [mu for mu in memory_per_point for _ in range(n_s)]
    extra = {name: [p[name] for p in points for _ in range(n_s)] for name, _ in axes[1:]}
    return SweepResult(param=param, values=[v for v in values for _ in range(n_s)], memory=memory,
                       starts=starts, results=results, compile_s=compile_s, run_s=run_s, w_min=w_min.tolist(), axes=extra,
                       devices=len(devs))
