"""Stage 3: gradient flow and the hitting times of JMLR Theorem 20, compiled once and cached.

    tau_param = inf{tau : ||theta(tau) - theta_0||_2 > delta}
    tau_loss  = inf{tau : |J(theta(tau)) - J(theta_0)| > delta}

Both are found in one call of a compiled Diffrax solve (how the events are located accurately:
``memdyn.core.solve``). This module holds what a user meets -- ``SolverConfig``,
``hitting_times``, ``FlowResult``, ``trajectory`` -- and the compiled executables
(``HittingTimes``), kept in memory and in the persistent cache.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import export

from ..errors import InputError
from ..version import __version__
from . import cache
from .data import KernelData
from .jaxsetup import float64
from .limits import MAX_T1
from .resources import check_solve
from .solvers import SolverConfig
from .starts import check_start
from .status import Status

if TYPE_CHECKING:
    from .lowering import Target

__all__ = [
    "SolverConfig",
    "FlowResult",
    "hitting_times",
    "trajectory",
    "HittingTimes",
    "solve_program",
    "forget_compiled",
    "flow_result",
    "check_horizon",
    "MAX_T1",
    "DEFAULT_T1",
]


@dataclass(repr=False)
class FlowResult:
    """How the gradient flow from one start left its plateau (``hitting_times``, ``memdyn.flow``).

    Attributes:
        tau_param: first training time tau with ||theta(tau) - theta0|| > delta (``None``: not reached).
        tau_loss: first tau with |J(theta(tau)) - J(theta0)| > delta (``None``: not reached).
        loss_initial, loss_final: J at the start and where the solve ended.
        t1: the horizon asked for; ``t_end``: where the solve ended.
        solver: the Diffrax solver's name.
        steps: accepted steps of all solves (also in ``stats``).
        status: how the solve ended (``memdyn.core.status.Status``; ``status.advice`` says what
            to change when it is not ``ok``).
        theta_final: (2m,) array, the state (a, w) where the solve ended.
        stats: ``steps``, ``rejected_steps`` (Diffrax's counts over every solve of the call), and
            ``load_s`` (loading or compiling the solve) and ``solve_s`` (running it) in seconds.
    """

    tau_param: float | None
    tau_loss: float | None
    loss_initial: float
    loss_final: float
    t1: float
    t_end: float
    solver: str
    steps: int
    status: Status
    theta_final: np.ndarray = field(default_factory=lambda: np.zeros(0))
    stats: dict[str, float] = field(default_factory=dict)
    replay: Callable[[np.ndarray], dict] | None = field(default=None, compare=False)
    """``replay(ts)``: theta, J and ||grad J|| at the times ``ts`` (``trajectory``), for plots."""

    @property
    def ok(self) -> bool:
        """Whether every requested hitting time was found (status ``ok``)."""
        return self.status is Status.OK

    def __repr__(self) -> str:
        def num(x):
            return "None" if x is None else f"{x:.6g}"

        return (
            f"FlowResult(status={str(self.status)!r}, tau_param={num(self.tau_param)}, "
            f"tau_loss={num(self.tau_loss)}, loss {self.loss_initial:.6g} -> {self.loss_final:.6g}, "
            f"steps={self.steps})"
        )

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready Python values (what ``memdyn flow --json`` prints)."""
        return {
            "tau_param": self.tau_param,
            "tau_loss": self.tau_loss,
            "loss_initial": self.loss_initial,
            "loss_final": self.loss_final,
            "t1": self.t1,
            "t_end": self.t_end,
            "solver": self.solver,
            "steps": self.steps,
            "status": str(self.status),
            "theta_final": [float(x) for x in self.theta_final],
            "advice": None if self.status is Status.OK else self.status.advice,
            "stats": dict(self.stats),
        }

    def to_pandas(self):
        """A one-row ``pandas.DataFrame`` (pandas is optional: imported here)."""
        import pandas as pd

        row = {k: v for k, v in self.to_json().items() if k not in ("theta_final", "stats", "advice")}
        return pd.DataFrame([row])

    def plot(self, ax=None, *, points: int = 200):
        """The loss J(theta(tau)) along the flow on log-log axes, the hitting times marked.

        The trajectory is solved again at ``points`` log-spaced times up to where this solve ended.
        Returns the axes (a new figure when ``ax`` is None).
        """
        from ..plots import plot_loss_curves

        if self.replay is None:
            raise ValueError("this result has no trajectory to replay (built outside hitting_times)")
        end = max(self.t_end, *(t for t in (self.tau_param, self.tau_loss) if t is not None))
        ts = np.geomspace(min(1e-3, end / 10), end * 1.5, points)
        path = self.replay(ts)
        return plot_loss_curves(
            [
                {
                    "t": ts,
                    "loss": path["loss"],
                    "label": f"{self.status}",
                    "tau_param": self.tau_param,
                    "tau_loss": self.tau_loss,
                }
            ],
            ax=ax,
        )


# --- compiled solves ---------------------------------------------------------------------------
# Compiled hitting-time solves: traced once per shape, kept in memory and on disk.
#
# A ``HittingTimes`` is what ``memdyn.core.integrate.solve_program`` returns: a
# callable ``(data, theta0, delta, t1)``. Behind it, for each (target, static solver settings,
# batched or not, gradient flow or heavy ball, argument shapes) there is one executable, found in this
# order:
#
# 1. this process's memory;
# 2. the persistent cache (``memdyn.core.cache``, ``solves/``): the traced function serialised by
#    ``jax.export`` (StableHLO, read back by JAX's deserialiser, never executed as Python), compiled
#    through JAX's persistent compilation cache (``xla/``), so a warm call neither traces nor compiles;
# 3. tracing (and storing the export for the next process).
#
# Tolerances, delta, t1 and the friction are run-time arguments of the executable: a new ``rtol``
# neither traces nor compiles. The disk key holds everything the traced code depends on: the
# derivation's fingerprint (formula structure and assumptions), the map of a reparameterised target,
# the static settings, the shapes, the versions of memdyn, jax, jaxlib, diffrax, equinox and
# optimistix, and a hash of memdyn's own ``core`` sources (so an edited checkout never reads a stale
# solve).

export.register_namedtuple_serialization(KernelData, serialized_name="memdyn.KernelData")

_EXECUTABLES: dict[tuple, Callable] = {}


@functools.lru_cache(maxsize=1)
def environment() -> tuple:
    """What every cached solve depends on besides its own key: versions, memdyn's core sources, the backend."""
    versions = []
    for name in ("jax", "jaxlib", "diffrax", "equinox", "optimistix"):
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            versions.append((name, None))
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return (__version__, tuple(versions), digest.hexdigest()[:16], jax.default_backend())


def _shapes(tree) -> list:
    # x.dtype, not np.asarray(x).dtype: this runs on every call, and asarray copies a device array to the host
    return [
        (tuple(np.shape(x)), str(x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype))
        for x in jax.tree_util.tree_leaves(tree)
    ]


class HittingTimes:
    """The compiled hitting-time solve of one target and solver config (see module docstring).

    ``hit(data, theta0, delta, t1)`` returns ``memdyn.core.integrate.make_hitting_times``'s dict
    (vmapped over ``data``, ``theta0`` and ``delta`` when ``batched``: a scalar delta is broadcast); ``prepare`` loads or builds the
    executable for given argument shapes ahead of the first call (to time compilation apart).
    """

    def __init__(self, target, config: SolverConfig, *, batched: bool = False, friction: float | None = None):
        self.target = target
        self.config = config
        self.batched = batched
        self.heavy_ball = friction is not None
        self.friction = 0.0 if friction is None else float(friction)

    def _runtime(self, delta, t1, theta0) -> tuple:
        # batched: one threshold per element (a scalar is broadcast), so a sweep can set each element's
        # threshold from its own start (e.g. relative to a plateau level) in the same compiled call
        delta = np.broadcast_to(np.asarray(delta, float), theta0.shape[:1]) if self.batched else float(delta)
        return (delta, float(t1), float(self.config.rtol), float(self.config.atol), self.friction)

    def _function(self) -> Callable:
        from .solve import make_hitting_times  # Diffrax: imported only to trace

        fn = make_hitting_times(self.target.lowered(), self.config.static, heavy_ball=self.heavy_ball)
        if self.batched:
            fn = jax.vmap(fn, in_axes=(0, 0, 0, None, None, None, None))
        return jax.jit(fn)

    def _disk_key(self, shapes) -> str:
        static = self.config.static
        return cache.key_of(
            "hitting-times",
            environment(),
            self.target.fingerprint,
            static.solver,
            static.pcoeff,
            static.icoeff,
            static.max_steps,
            static.refine,
            self.batched,
            self.heavy_ball,
            shapes,
        )

    def prepare(self, data, theta0, device=None) -> Callable:
        """The executable for these argument shapes (loaded, or traced and compiled, once), on ``device``
        (default: JAX's default device)."""
        shapes = _shapes((data, theta0))
        key = (
            self.target.fingerprint,
            self.config.static,
            self.batched,
            self.heavy_ball,
            tuple(map(tuple, shapes)),
            None if device is None else device.id,
        )
        if key in _EXECUTABLES:
            return _EXECUTABLES[key]
        if device is not None:
            data, theta0 = jax.device_put((data, theta0), device)
        args = (data, theta0, *self._runtime(1.0, 1.0, theta0))
        executable = None
        if cache.enabled():  # compiled through JAX's cache too where it is on (cache.use_compilation_cache)
            disk_key = self._disk_key(shapes)
            exported = self._load(disk_key)
            if exported is None:
                try:
                    exported = export.export(self._function())(*args)
                    cache.store("solves", disk_key, bytes(exported.serialize()))
                except Exception as err:  # a solve JAX cannot export still runs, traced as usual
                    cache.warn_once("export", f"a solve could not be exported for the cache ({type(err).__name__})")
                    exported = None
            if exported is not None:
                executable = jax.jit(exported.call).lower(*args).compile()
        if executable is None:
            executable = self._function().lower(*args).compile()
        _EXECUTABLES[key] = executable
        return executable

    @staticmethod
    def _load(key: str):
        payload = cache.load("solves", key)
        if payload is None:
            return None
        try:
            return export.deserialize(bytearray(payload))
        except Exception:  # checksummed, so only a foreign or incompatible entry gets here
            cache.warn_once("corrupt", "a cached solve could not be read; tracing again")
            return None

    def __call__(self, data, theta0, delta, t1, device=None):
        """Dispatch the solve (asynchronously: the result is a dict of arrays still being computed)."""
        if device is not None:
            data, theta0 = jax.device_put((data, theta0), device)
        return self.prepare(data, theta0, device)(data, theta0, *self._runtime(delta, t1, theta0))


def forget_compiled() -> None:
    """Drop this process's compiled solves (the persistent cache keeps its copies): the next call
    loads from the cache as a fresh process would."""
    _EXECUTABLES.clear()


def solve_program(
    target: Target, config: SolverConfig, *, batched: bool = False, friction: float | None = None
) -> HittingTimes:
    """The hitting-time solve for ``target`` and ``config``, as a callable ``(data, theta0, delta, t1)``
    (vmapped over data and theta0 when ``batched``); see ``HittingTimes``."""
    return HittingTimes(target, config, batched=batched, friction=friction)


DEFAULT_T1 = MAX_T1
"""The horizon of every hitting-time solve unless given: the longest accepted. A solve stops at its
events, so the horizon costs nothing when they come first; a flow that never leaves its plateau
ends at ``max_steps`` or ``MAX_T1`` with the status that says so."""


def check_horizon(delta, t1: float) -> None:
    """Validate a hitting-time threshold (or one per element) and a horizon."""
    bad = np.asarray(delta, float).ravel()
    bad = bad[~(np.isfinite(bad) & (bad > 0))]
    if bad.size:
        raise InputError("delta", f"must be a positive number, got {bad[0]}")
    if not (np.isfinite(t1) and 0 < t1 <= MAX_T1):
        raise InputError("t1", f"must be in (0, {MAX_T1:g}], got {t1}")


@float64
def hitting_times(
    target: Target,
    data: KernelData,
    a0,
    w0,
    *,
    delta: float,
    t1: float = DEFAULT_T1,
    config: SolverConfig = SolverConfig(),
    friction: float | None = None,
) -> FlowResult:
    """Integrate the gradient flow from (a0, w0) and return both hitting times (JMLR Thm 20).

    The pipeline stage behind :func:`memdyn.flow`, for a target you built (:func:`memdyn.target`).

    Args:
        target: the lowered kernel, or a reparameterised one (:func:`memdyn.mapped`).
        data: its run-time numbers, ``target.data(params)``.
        a0: the start's amplitudes.
        w0: the start's decay rates (> 0).
        delta: the threshold of both hitting times (> 0).
        t1: the horizon in training time (default and maximum 1e30).
        config: how to integrate (:class:`memdyn.SolverConfig`).
        friction: with gamma >= 0, the heavy-ball ODE theta'' + gamma theta' + grad J = 0, started at
            rest, replaces the gradient flow (JMLR Appendix B: momentum shortens plateaus).

    Returns:
        A :class:`FlowResult`.

    Raises:
        InputError: a bad start, threshold, horizon or friction (naming it).
    """
    theta0 = jnp.asarray(target.internal(check_start(a0, w0)))
    check_solve(theta0.shape[0] // 2, 1, "a0")
    check_horizon(delta, t1)
    if friction is not None and not (np.isfinite(friction) and friction >= 0):
        raise InputError("friction", f"must be a non-negative number, got {friction}")
    fn = solve_program(target, config, friction=None if friction is None else float(friction))
    start = time.perf_counter()
    fn.prepare(data, theta0)
    load_s = time.perf_counter() - start
    out = jax.device_get(fn(data, theta0, float(delta), float(t1)))
    result = flow_result(out, t1, config, target)
    result.stats.update(load_s=load_s, solve_s=time.perf_counter() - start - load_s)
    if friction is None:
        # float64 here too: a plot replays the flow long after this call has returned
        result.replay = float64(lambda ts: trajectory(target.lowered(), data, theta0, ts, config=config))
    return result


def flow_result(out, t1: float, config: SolverConfig, target: Target) -> FlowResult:
    """The FlowResult of one compiled solve's outputs (``make_hitting_times``'s dict, one element);
    ``theta_final`` back in (a, w) when the target is reparameterised."""
    tau = [float(x) if np.isfinite(x) else None for x in np.asarray(out["tau"])]
    status = Status.from_code(int(out["code"]), reached=None not in tau)
    steps = int(out["steps"])
    return FlowResult(
        tau_param=tau[0],
        tau_loss=tau[1],
        loss_initial=float(out["loss_initial"]),
        loss_final=float(out["loss_final"]),
        t1=float(t1),
        t_end=float(out["t_end"]),
        solver=config.solver,
        steps=steps,
        status=status,
        theta_final=np.asarray(target.external(out["theta"]), dtype=float),
        stats={"steps": steps, "rejected_steps": int(out["rejected_steps"])},
    )


_COMPILED: dict[tuple, Callable] = {}


@float64
def trajectory(target: Target, data: KernelData, theta0, ts, *, config: SolverConfig = SolverConfig()) -> dict:
    """The flow's state, loss and gradient norm at given times (no events; for plots).

    Args:
        target: the lowered kernel; ``data`` its run-time numbers.
        theta0: (2m,) array, the start (a, w) (in the trained coordinates of a mapped target).
        ts: increasing times; values between solver steps are interpolated.
        config: how to integrate.

    Returns:
        dict with ``t``, ``theta`` (len(ts), 2m), ``loss``, ``grad_norm`` and ``ok`` (the solve
        reached the last time).
    """
    key = ("trajectory", target, config)
    if key not in _COMPILED:
        from .solve import make_trajectory

        _COMPILED[key] = jax.jit(make_trajectory(target, config))
    ts = np.asarray(ts, dtype=float)
    ys, J, G, ok = jax.device_get(_COMPILED[key](data, jnp.asarray(theta0), jnp.asarray(ts)))
    return {"t": ts, "theta": np.asarray(ys), "loss": np.asarray(J), "grad_norm": np.asarray(G), "ok": bool(ok)}
