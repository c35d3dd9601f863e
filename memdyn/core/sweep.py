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
import re
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from ..errors import InputError, MemdynError
from .data import KernelData
from .files import replace_atomically, write_atomically
from .fits import bound_ratio, fit_log_linear, memory_of
from .integrate import FlowResult, SolverConfig, check_horizon, flow_result, solve_program
from .jaxsetup import float64
from .limits import MAX_ELEMENTS
from .resources import check_solve
from .starts import check_starts

if TYPE_CHECKING:
    from .lowering import Target


@dataclass(repr=False)
class SweepResult:
    """Per-element results of a sweep, one row per (value, start), values outer.

    The columns are NumPy arrays: ``values``, ``memory`` (1/omega: the value itself, or its inverse
    for a parameter named omega), ``tau_param`` and ``tau_loss`` (NaN where not reached),
    ``loss_initial``, ``loss_final``, ``steps`` and ``status`` (strings); ``results`` holds each
    element's ``memdyn.core.integrate.FlowResult``. ``to_json`` keeps ``None`` for a time not
    reached, as ``memdyn sweep --json`` prints it.
    """

    param: str
    values: np.ndarray
    memory: np.ndarray
    starts: np.ndarray
    """(n_starts, 2m) initial conditions."""
    results: list[FlowResult]
    compile_s: float
    run_s: float
    w_min: list[float] = field(default_factory=list)
    axes: dict[str, list[float]] = field(default_factory=dict)
    """Further grid axes (``grid``): each one's value per element."""
    devices: int = 1

    def __post_init__(self):
        self.values = np.asarray(self.values, dtype=float)
        self.memory = np.asarray(self.memory, dtype=float)

    def __len__(self) -> int:
        return len(self.results)

    def _raw(self, key: str) -> list:
        return [getattr(r, key) for r in self.results]

    def column(self, key: str) -> np.ndarray:
        """One field of every element's FlowResult as an array (``None`` as NaN)."""
        raw = self._raw(key)
        if key == "status":
            return np.array([str(x) for x in raw])
        if key == "steps":
            return np.array(raw, dtype=int)
        return np.array([np.nan if x is None else x for x in raw], dtype=float)

    tau_param = property(lambda self: self.column("tau_param"), doc="tau_param per element (NaN: not reached).")
    tau_loss = property(lambda self: self.column("tau_loss"), doc="tau_loss per element (NaN: not reached).")
    loss_initial = property(lambda self: self.column("loss_initial"), doc="J at each start.")
    loss_final = property(lambda self: self.column("loss_final"), doc="J where each solve ended.")
    steps = property(lambda self: self.column("steps"), doc="Accepted steps per element.")
    status = property(lambda self: self.column("status"), doc="Status per element, as strings.")

    @property
    def ok(self) -> bool:
        """Whether every element found its hitting times."""
        return all(r.ok for r in self.results)

    @property
    def stats(self) -> dict[str, float]:
        """Total accepted and rejected steps, and seconds to load or compile and to run the solve."""
        return {
            "steps": int(sum(r.stats.get("steps", r.steps) for r in self.results)),
            "rejected_steps": int(sum(r.stats.get("rejected_steps", 0) for r in self.results)),
            "load_s": self.compile_s,
            "solve_s": self.run_s,
        }

    def __repr__(self) -> str:
        done = sum(r.ok for r in self.results)
        taus = self.tau_loss[np.isfinite(self.tau_loss)]
        span = f", tau_loss {taus.min():.4g}..{taus.max():.4g}" if taus.size else ""
        return (
            f"SweepResult({self.param}: {len(self)} elements over {len(np.unique(self.values))} values, "
            f"ok {done}/{len(self)}{span})"
        )

    def fits(self) -> dict:
        """Theorem 20's fits along the memory axis; None on a grid of several axes (a slope across
        other parameters means nothing: fit each slice with ``memdyn.core.fits.fit_log_linear``)."""
        out = {}
        if self.axes:
            return {key: None for key in ("tau_param", "tau_loss")}
        for key in ("tau_param", "tau_loss"):
            taus = self._raw(key)
            plain = fit_log_linear(self.memory, taus)
            pref = fit_log_linear(self.memory, taus, q=-2.0)  # ln(tau / omega^2): the bound's own form
            w_min = min(self.w_min) if self.w_min else None
            out[key] = {
                "plain": plain.to_json() if plain else None,
                "omega2": pref.to_json() if pref else None,
                "bound_slope": w_min,
                "bound_ratio": bound_ratio(self.memory, taus, w_min) if w_min else None,
            }
        return out

    def to_json(self) -> dict:
        """The result as JSON-ready Python values (what ``memdyn sweep --json`` prints)."""
        return {
            "param": self.param,
            "values": [float(v) for v in self.values],
            "axes": {name: [float(v) for v in vals] for name, vals in self.axes.items()},
            "memory": [float(v) for v in self.memory],
            "start": [list(map(float, s)) for s in self.starts],
            "tau_param": self._raw("tau_param"),
            "tau_loss": self._raw("tau_loss"),
            "loss_initial": self._raw("loss_initial"),
            "loss_final": self._raw("loss_final"),
            "steps": self._raw("steps"),
            "status": [str(s) for s in self._raw("status")],
            "w_min": self.w_min,
            "fit": self.fits(),
            "timing": {"compile_s": self.compile_s, "run_s": self.run_s},
            "devices": self.devices,
        }

    def rows(self) -> tuple[list[str], list[list]]:
        """The table, one row per element: (column names, rows), as ``results.csv`` holds it."""
        axes = list(self.axes)
        columns = [
            self.param,
            *axes,
            "memory",
            "start",
            "tau_param",
            "tau_loss",
            "loss_initial",
            "loss_final",
            "steps",
            "status",
        ]
        n_starts = len(self.starts)
        rows = [
            [
                float(self.values[i]),
                *(self.axes[a][i] for a in axes),
                float(self.memory[i]),
                i % n_starts,
                r.tau_param,
                r.tau_loss,
                r.loss_initial,
                r.loss_final,
                r.steps,
                str(r.status),
            ]
            for i, r in enumerate(self.results)
        ]
        return columns, rows

    def to_pandas(self):
        """The table as a ``pandas.DataFrame`` (pandas is optional: imported here)."""
        import pandas as pd

        columns, rows = self.rows()
        return pd.DataFrame(rows, columns=columns)

    def save(self, folder) -> list[str]:
        """Write ``results.json`` and ``results.csv`` into ``folder``, both or neither."""
        columns, rows = self.rows()
        lines = [",".join(columns)] + [
            ",".join("" if c is None else repr(c) if isinstance(c, float) else str(c) for c in row) for row in rows
        ]
        text = json.dumps(self.to_json(), indent=1)
        return write_atomically(
            Path(folder),
            {
                "results.json": lambda path: path.write_text(text),
                "results.csv": lambda path: path.write_text("\n".join(lines) + "\n"),
            },
        )

    def plot(self, ax=None, *, key: str = "tau_loss"):
        """ln tau against the memory 1/omega (one line per start), beside Theorem 20's slope w_min.

        Returns the axes (a new figure when ``ax`` is None).
        """
        from ..plots import plot_lines

        n_starts = len(self.starts)
        series = {f"start {k}" if n_starts > 1 else key: list(self.column(key)[k::n_starts]) for k in range(n_starts)}
        return plot_lines(
            self.memory[::n_starts],
            series,
            ax=ax,
            xlabel=r"memory $1/\omega$",
            ylabel=key.replace("tau_", r"$\tau$ ").replace("param", "(param)").replace("loss", "(loss)"),
        )


class ChunkStore:
    """A sweep's finished chunks in a folder: ``chunk-NNNNNN.npz`` written atomically (a temporary file,
    then ``os.replace``), beside ``sweep.json``, the description of the sweep they belong to.

    Reopening the folder with the same description resumes (finished chunks are read back, not
    solved); a different description is refused, so results of two sweeps never mix. A run killed
    mid-chunk loses that chunk only: its temporary file is never renamed.

    Each chunk carries the sweep's key, its own index and a SHA-256 of its arrays, so a chunk file
    that is truncated, corrupt, or belongs to another sweep or place is not trusted: :meth:`finished`
    leaves it out (it is solved again and replaced) and says so in one line on stderr, as it does for
    files whose names look like chunks but are not this store's.
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
                changed = sorted(
                    k
                    for k in set(description) | set(old.get("description", {}))
                    if description.get(k) != old.get("description", {}).get(k)
                )
                raise InputError(
                    "out",
                    f"{self.folder} holds chunks of a different sweep (changed: "
                    f"{', '.join(changed) or 'format'}): rerun with the same arguments to resume, "
                    "or choose another folder",
                )
        else:
            if self.folder.exists() and not self.folder.is_dir():
                raise InputError("out", f"{self.folder} exists and is not a folder")
            # a link to a folder is followed; a link to nothing is refused, not created through
            if self.folder.is_symlink() and not self.folder.exists():
                raise InputError("out", f"{self.folder} is a link to {os.readlink(self.folder)}, which does not exist")
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise InputError("out", f"cannot create {self.folder}: {err.strerror or err}") from None
            # the processes of a distributed sweep all write the (same) manifest, each from its own temporary file
            text = json.dumps({"key": self.key, "description": description}, indent=1)
            replace_atomically(manifest, lambda tmp: tmp.write_text(text))

    def path(self, k: int) -> Path:
        return self.folder / f"chunk-{k:06d}.npz"

    def done(self) -> list[int]:
        """Indices of the files named like this store's chunks (not yet checked: see :meth:`finished`)."""
        return sorted(int(m.group(1)) for p in self.folder.iterdir() if (m := _CHUNK.fullmatch(p.name)))

    def finished(self) -> dict[int, dict]:
        """Every chunk that reads back whole and is this sweep's, by index; the rest are named once."""
        good, bad = {}, []
        for p in sorted(self.folder.glob("chunk-*.npz")):
            m = _CHUNK.fullmatch(p.name)
            arrays = self.load(int(m.group(1))) if m is not None else None
            if m is None or arrays is None:
                bad.append(p.name)
            else:
                good[int(m.group(1))] = arrays
        if bad:
            names = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
            print(
                f"memdyn: warning: {self.folder}: {len(bad)} chunk file(s) truncated, corrupt or not this sweep's "
                f"({names}): solving those chunks again",
                file=sys.stderr,
            )
        return good

    def load(self, k: int) -> dict | None:
        """Chunk ``k``'s arrays, or None when the file is missing, unreadable or not this sweep's chunk ``k``."""
        try:
            with np.load(self.path(k), allow_pickle=False) as f:
                arrays = {name: f[name] for name in f.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError):
            return None
        stamp = arrays.pop("_chunk", None)
        if stamp is None or stamp.shape != (3,):
            return None
        if [str(x) for x in stamp] != [self.key, str(k), _digest_arrays(arrays)]:
            return None
        return arrays

    def save(self, k: int, out: dict) -> None:
        arrays = {name: np.asarray(v) for name, v in out.items()}
        payload: dict[str, Any] = {"_chunk": np.array([self.key, str(k), _digest_arrays(arrays)]), **arrays}
        replace_atomically(self.path(k), lambda tmp: np.savez(tmp, **payload), suffix=".npz")


_CHUNK = re.compile(r"chunk-(\d{6})\.npz")


def _digest_arrays(arrays: dict) -> str:
    """A SHA-256 of named arrays: names, dtypes, shapes and bytes."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def bucket(n: int) -> int:
    """The batch size a sweep of n elements is padded to: the next power of two, so that sweeps of
    50 and 64 values share one compiled (and cached) solve; padding repeats the last element."""
    return 1 << max(0, int(n) - 1).bit_length()


def _digest(delta):
    """A threshold for the manifest: the number, or a digest of the per-element thresholds."""
    if np.ndim(delta) == 0:
        return float(delta)
    return hashlib.sha256(np.ascontiguousarray(delta, dtype=float).tobytes()).hexdigest()[:16]


DEFAULT_CHUNK = 64
"""``memdyn.sweep``'s chunk when none is given and the sweep has more elements: on a 2-core CPU the
cheapest size per element of those measured (``research/chunk_sizes.py``), and small enough that a
chunk, filled in order of predicted cost, waits for its own slowest element only."""


def default_chunk(n: int, chunk: int | None = None) -> int | None:
    """The chunk a sweep of ``n`` elements runs in: ``chunk`` if given, else ``DEFAULT_CHUNK`` above it, else
    all at once (None)."""
    return chunk or (DEFAULT_CHUNK if n > DEFAULT_CHUNK else None)


@float64
def run_sweep(
    target: Target,
    base: dict[str, float],
    param: str,
    values: Sequence[float],
    starts: np.ndarray,
    *,
    delta: float | np.ndarray,
    t1: float,
    config: SolverConfig = SolverConfig(),
    friction: float | None = None,
    chunk: int | None = None,
    progress: Callable[[int], None] | None = None,
    out_dir: str | os.PathLike | None = None,
    on_resume: Callable[[int, int], None] | None = None,
    grid: Sequence[tuple[str, Sequence[float]]] = (),
    devices: int = 1,
    balance: bool = True,
    wait_s: float = 86400.0,
) -> SweepResult:
    """Hitting times for every (value, start) pair, solved as one compiled, batched call.

    Args:
        target: the lowered kernel; ``base`` the values of its other parameters.
        param: the swept parameter.
        values: its values.
        starts: (n_starts, 2m) initial conditions theta0 = (a0, w0).
        delta: the hitting times' threshold, or one per element (values x grid x starts, starts inner).
        friction: integrate the heavy-ball ODE with this friction instead of gradient flow.
        chunk: batch elements per compiled call (default: all at once), padded up to a power of two
            (``bucket``); ``progress(k)`` is called with the number of elements finished after each
            chunk. ``compile_s`` is the time to load or build the solve (near zero from a warm cache).
        out_dir: keep each finished chunk there (``ChunkStore``): a rerun with the same arguments
            reads them back instead of solving them (``on_resume(done, total)`` says how many chunks).
        grid: further axes (name, values): the sweep runs over the Cartesian product, ``param`` outermost
            (it stays the memory axis), then these in order, then the starts.
        devices: local devices to spread the chunks over, one chunk per device at a time (each device
            runs its own compiled batch, so one slow element holds up its own chunk only; see
            ``research/bench_devices.py`` for the comparison with one batch sharded over the devices).
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
        raise InputError(
            "devices", f"must be 1..{len(available)} (the local {available[0].platform} devices), got {devices}"
        )
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
        raise InputError(
            "values",
            f"{len(points)} grid points x {starts.shape[0]} starts is more than "
            f"{MAX_ELEMENTS:,} solves in one sweep: split it",
        )
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
    # grid of plateaus 1e0..1e9: research/bench_devices.py), then restore the order.
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
    fn = solve_program(target, config, batched=True, friction=friction)

    def piece(lo):
        idx = np.minimum(np.arange(lo, lo + size), min(lo + step, n) - 1)  # pad with the piece's last element
        return jax.tree_util.tree_map(lambda x: x[idx], data), theta0[idx], deltas[idx]

    store = None
    if out_dir is not None:
        store = ChunkStore(
            out_dir,
            {
                "target": target.fingerprint,
                "base": {k: float(v) for k, v in sorted(base.items())},
                "param": param,
                "values": values,
                "grid": [[name, vals] for name, vals in axes[1:]],
                "starts": np.asarray(starts, float).tolist(),
                "delta": _digest(delta),
                "t1": float(t1),
                "config": repr(config),
                "friction": friction,
                "chunk": step,
                "elements": n,
                "balance": balance,
            },
        )
    chunks = range(0, n, step)
    finished = {k: v for k, v in store.finished().items() if k < len(chunks)} if store else {}
    done = set(finished)
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
                outs[k] = finished[k]
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
                raise InputError(
                    "out",
                    f"{len(missing)} chunks of other processes did not arrive in {store.folder} within {wait_s:g} s",
                )
            time.sleep(0.05)
        for k in range(len(chunks)):
            if k not in outs:
                gathered = store.load(k)
                if gathered is None:
                    raise MemdynError(f"{store.path(k)}, written by another process, cannot be read back")
                outs[k] = gathered
    outs = [outs[k] for k in range(len(chunks))]
    run_s = time.perf_counter() - start
    out = jax.tree_util.tree_map(lambda *xs: np.concatenate(xs), *outs)
    out = jax.tree_util.tree_map(lambda x: x[np.argsort(order)], out)  # back to values x starts order
    results = [flow_result(jax.tree_util.tree_map(lambda x: x[i], out), t1, config, target) for i in range(n)]
    memory = [mu for mu in memory_per_point for _ in range(n_s)]
    extra = {name: [p[name] for p in points for _ in range(n_s)] for name, _ in axes[1:]}
    return SweepResult(
        param=param,
        values=np.array([v for v in values for _ in range(n_s)]),
        memory=np.array(memory),
        starts=starts,
        results=results,
        compile_s=compile_s,
        run_s=run_s,
        w_min=w_min.tolist(),
        axes=extra,
        devices=len(devs),
    )
