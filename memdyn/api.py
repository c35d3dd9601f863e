"""The Python face of memdyn: a formula in, results out, with every feature the CLI has.

These functions compose the library (parse -> derive -> lower -> integrate, starts,
reparameterisations, the theory's comparisons, training) and add nothing new to it; the CLI is a
thin shell over them. Errors are :class:`~memdyn.errors.InputError` naming the Python argument.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import jax
import numpy as np

from .core.integrate import FlowResult, SolverConfig, hitting_times
from .core.pipeline import target
from .core.starts import check_start
from .core.warm import warm_target
from .errors import InputError

if TYPE_CHECKING:  # what a call needs beyond a warm flow loads when called (SymPy, scipy.optimize, optax)
    from .core.sweep import SweepResult
    from .rnn.train import TrainResult
    from .theory.approx import Approximation
    from .theory.sharp import SharpComparison


@functools.lru_cache(maxsize=64)
def _jitted(tg):
    """Compiled loss, gradient and Hessian of one target (compiled once, reused per call)."""
    from .core.loss import gradient, hessian, loss

    return tuple(jax.jit(functools.partial(f, tg)) for f in (loss, gradient, hessian))


def evaluate(rho: str, params: Mapping[str, float] | None, a: Sequence[float], w: Sequence[float],
             *, with_hessian: bool = False) -> dict:
    """Loss, gradient (and optionally Hessian) of the reduced model at (a, w)."""
    tg = target(rho, params)
    data = tg.data(params or {})
    theta = check_start(a, w)
    m = len(theta) // 2
    f_loss, f_grad, f_hess = _jitted(tg)
    g = np.asarray(f_grad(data, theta))
    out = {"loss": float(f_loss(data, theta)), "grad_a": g[:m].tolist(), "grad_w": g[m:].tolist()}
    if with_hessian:
        out["hessian"] = np.asarray(f_hess(data, theta)).tolist()
    return out


def flow(rho: str, params: Mapping[str, float] | None, a0: Sequence[float], w0: Sequence[float], *,
         delta: float, t1: float = 1e8, config: SolverConfig = SolverConfig(), param_map: str = "plain") -> FlowResult:
    """Both hitting times of the gradient flow from (a0, w0); see :func:`memdyn.core.integrate.hitting_times`.

    ``param_map`` trains v with w = g(v) instead of w (see :mod:`memdyn.core.reparam`); starts and
    ``theta_final`` stay in (a, w), tau_param is measured in the trained coordinates (a, v).
    A formula met before is served from the persistent cache without SymPy (:mod:`memdyn.core.warm`).
    """
    tg = warm_target(rho, params) if param_map == "plain" else None
    if tg is None:
        from .core.reparam import mapped

        tg = mapped(target(rho, params), param_map)
    return hitting_times(tg, tg.data(params or {}), a0, w0, delta=delta, t1=t1, config=config)


def _swept_target(rho: str, params: Mapping[str, float] | None, param: str, values: Sequence[float], *,
                  warm: bool = False, grid: Sequence[tuple[str, Sequence[float]]] = ()):
    """(the fixed parameters, the target of the sweep); with ``warm`` from the warm path when it can."""
    base = dict(params or {})
    for name, _ in [(param, values), *grid]:
        if name in base:
            raise InputError("param", f"'{name}' is swept and also given in params")
    swept = {**base, param: list(values), **{name: list(vals) for name, vals in grid}}
    found = warm_target(rho, swept) if warm else None
    if found is not None:
        return base, found
    try:
        return base, target(rho, swept)
    except InputError as err:
        for name in [param, *(name for name, _ in grid)]:
            if err.argument == f"param {name}":
                raise InputError("param", f"'{name}' is not a parameter of the formula") from None
        raise


def distributed(coordinator: str | None = None, processes: int | None = None, process_id: int | None = None) -> None:
    """Join a ``jax.distributed`` cluster: the coordinator address HOST:PORT, the number of processes
    and this one's id, each from the argument or else from ``JAX_COORDINATOR_ADDRESS``,
    ``JAX_NUM_PROCESSES``, ``JAX_PROCESS_ID``. Call before any computation; a sweep then splits its
    chunks over the processes (see :func:`memdyn.core.sweep.run_sweep`)."""
    import os

    import jax

    coordinator = coordinator or os.environ.get("JAX_COORDINATOR_ADDRESS")
    try:
        processes = int(processes if processes is not None else os.environ.get("JAX_NUM_PROCESSES", 0))
        process_id = int(process_id if process_id is not None else os.environ.get("JAX_PROCESS_ID", -1))
    except ValueError:
        raise InputError("processes", "the number of processes and the process id must be integers") from None
    if not coordinator or ":" not in coordinator:
        raise InputError("coordinator", f"expected HOST:PORT, got {coordinator!r}")
    if processes < 1 or not 0 <= process_id < processes:
        raise InputError("process_id", f"must be in 0..{processes - 1} for {processes} processes, got {process_id}")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=processes, process_id=process_id)


def _devices(devices: int | str) -> int:
    import jax

    if devices == "all":
        return len(jax.local_devices())
    try:
        count = int(devices)
    except (TypeError, ValueError):
        raise InputError("devices", f"expected 'all' or a number of devices, got {devices!r}") from None
    if count != devices and str(count) != str(devices).strip():
        raise InputError("devices", f"expected 'all' or a number of devices, got {devices!r}")
    return count


def sweep(rho: str, params: Mapping[str, float] | None, param: str, values: Sequence[float], *,
          init: str = "explicit", a0=None, w0=None, m: int | None = None, null_rates: Sequence[float] = (),
          groups: Sequence[int] | None = None, seeds: int = 1, w_range=(0.5, 2.0), a_range=(-1.0, 1.0),
          beta: float = 1.0, delta: float, t1: float = 1e12, config: SolverConfig = SolverConfig(),
          param_map: str = "plain", chunk: int | None = None, progress: Callable[[int], None] | None = None,
          on_size: Callable[[int], None] | None = None, out_dir=None,
          on_resume: Callable[[int, int], None] | None = None,
          grid: Sequence[tuple[str, Sequence[float]]] = (), devices: int | str = 1) -> SweepResult:
    """Hitting times over ``values`` of ``param`` x starts, as one compiled, batched call.

    Starts (see :func:`memdyn.core.starts.build_starts`): ``init="explicit"`` from ``a0``/``w0``;
    ``"mstar"`` a point of M* built from the formula's exponential terms (``m``, ``null_rates``,
    ``groups``); ``"random"`` the JMLR bounded start (``m``, ``seeds``, ``w_range``, ``a_range``,
    ``beta``). ``chunk`` bounds the elements per compiled call (default: all, or 64 above 64);
    ``progress(k)`` is called after each chunk, ``on_size(n)`` once with the number of elements.
    ``out_dir`` keeps every finished chunk (resumable: see :class:`memdyn.core.sweep.ChunkStore`).
    ``grid``: further axes (name, values), swept as a Cartesian product with ``param`` outermost.
    ``devices``: how many local devices share the chunks (``"all"``: every one), one chunk each at a time.
    """
    import itertools

    from .core.resources import check_solve
    from .core.starts import build_starts
    from .core.sweep import bucket, run_sweep

    if chunk is not None and chunk < 1:
        raise InputError("chunk", f"must be positive, got {chunk}")
    if init != "explicit" and m is not None:
        # before building the starts: --m 4000 --seeds 4000 is 4000 rows of 8000 numbers already
        n_starts = seeds if init == "random" else 1
        check_solve(m, bucket(min(chunk or 64, len(values) * n_starts)), "m")
    names = [param, *(name for name, _ in grid)]
    if len(set(names)) < len(names):
        raise InputError("param", f"a parameter is swept twice: {', '.join(names)}")
    base, tg = _swept_target(rho, params, param, values, warm=param_map == "plain", grid=grid)
    kernel = tg.lowered().kernel if init == "mstar" else None  # M* reads the formula's exponential terms
    points = [dict(zip(names, combo)) for combo in itertools.product(values, *(vals for _, vals in grid))]
    starts = build_starts(kernel, [{**base, **p} for p in points], init=init, a0=a0, w0=w0, m=m,
                          null_rates=null_rates, groups=groups, seeds=seeds, w_range=w_range, a_range=a_range,
                          beta=beta)
    n = len(points) * starts.shape[0]
    if on_size:
        on_size(n)
    if param_map != "plain":
        from .core.reparam import mapped

        tg = mapped(tg.lowered(), param_map)
    return run_sweep(tg, base, param, values, starts, delta=delta, t1=t1, config=config,
                     chunk=chunk or (64 if n > 64 else None), progress=progress, out_dir=out_dir,
                     on_resume=on_resume, grid=grid, devices=_devices(devices))


def sharp(rho: str, params: Mapping[str, float] | None, param: str, values: Sequence[float], a0, w0, *,
          delta: float, t1: float = 1e15, config: SolverConfig = SolverConfig(),
          gaussian: Sequence[float] | None = None, progress: Callable[[int], None] | None = None) -> SharpComparison:
    """Measured tau_loss beside the slow-manifold predictions (see :mod:`memdyn.theory.sharp`).

    ``gaussian = (c, sigma)``: the bump is c exp(-(t - param)^2/(2 sigma^2)); adds the 1/mu series.
    """
    if gaussian is not None and (len(gaussian) != 2 or not gaussian[1] > 0):
        raise InputError("gaussian", "expected (C, SIGMA) with SIGMA > 0")
    from .theory.sharp import compare

    base, tg = _swept_target(rho, params, param, values)
    return compare(tg, base, param, list(values), a0, w0, delta=delta, t1=t1, config=config,
                   gaussian=None if gaussian is None else (float(gaussian[0]), float(gaussian[1])), progress=progress)


def approximate(rho: str, params: Mapping[str, float] | None, widths: Sequence[int], *, alpha: int = 1,
                beta: float | None = None, min_rate: float | None = None) -> Approximation:
    """Best exponential-sum fits per width, their L1/L2 errors and, with ``beta``, the Jackson network
    of JMLR Thm 10 (see :mod:`memdyn.theory.approx`)."""
    from .theory.approx import approximate as approximate_target

    values = dict(params or {})
    return approximate_target(target(rho, values), values, widths, alpha=alpha, beta=beta, min_rate=min_rate)


def best_fits(rho: str, params: Mapping[str, float] | None, widths: Sequence[int], norm: str = "l2", *,
              min_rate: float | None = None, progress: Callable[[int], None] | None = None):
    """Best exponential-sum fits in extended precision, in the L2 or sup norm, with their errors in
    every norm (see :mod:`memdyn.theory.expfit`)."""
    from .theory.expfit import Kernel, best_fits as fits

    values = dict(params or {})
    return fits(Kernel(target(rho, values), values, rho), widths, norm, min_rate=min_rate, progress=progress)


def describe(rho: str, params: Mapping[str, float] | None = None, *, m: int | None = None,
             latex: bool = False) -> dict:
    """What SymPy derived for ``rho``: terms, transforms (stable form), ||rho||^2, and for ``m`` the
    loss and flow written out (``latex`` for LaTeX). Refuses kernels whose loss is not finite."""
    from .core.symbolic import describe as describe_derivation

    values = dict(params or {})
    tg = target(rho, values)
    tg.data(values)  # refuses kernels whose loss is not finite
    return describe_derivation(tg.derivation, m=m, latex=latex)


def train(rho: str, params: Mapping[str, float] | None = None, *, width: int = 16, dt: float = 0.1,
          horizon: float = 6.4, activation: str = "linear", recurrence: str = "full", optimizer: str = "gd",
          lr: float | None = None, epochs: int = 2000, samples: int | None = 128, batch: int | None = None,
          inputs: str = "white", modes: int = 4, noise: str = "brownian", input_scale: float = 1.0,
          init: str = "memdyn", seeds: int = 1,
          seed: int = 0, delta: float = 0.01, a0=None, w0=None,
          progress: Callable[[int], None] | None = None, checkpoint=None) -> TrainResult:
    """Train a discrete RNN on ``rho`` (see :mod:`memdyn.rnn`). With ``a0``/``w0`` the network is the
    diagonal linear RNN with U = 1, c = a0, w = w0: the discrete counterpart of :func:`flow`.
    ``lr`` defaults to 0.01 (gd, sgd) or 1e-3 (adam); ``samples=None`` is the exact white-noise loss;
    ``noise`` scales white noise: "brownian" x_k ~ N(0, 1/dt), "unit" x_k ~ N(0, 1) (every loss x dt);
    ``modes`` is the number of random cosines summed per cosine input (the target's mean power grows like it);
    the network reads ``input_scale`` times the input, the target does not; ``init`` names the random start
    ("memdyn" or "relu-orthogonal", :func:`memdyn.rnn.model.init_params`) (see :class:`memdyn.rnn.model.RNNSpec`).
    ``checkpoint``: a file to save the run to after every chunk of epochs and to resume it from, bit-identically
    (:func:`memdyn.rnn.train.train`)."""
    from .rnn.model import RNNSpec, diagonal_start, rho_grid
    from .rnn.train import TrainConfig
    from .rnn.train import train as train_rnn

    if (a0 is None) != (w0 is None):
        raise InputError("w0" if w0 is None else "a0", "a0 and w0 go together", mentions=("a0", "w0"))
    start, train_input = None, True
    if a0 is not None:
        start = diagonal_start(a0, w0)
        width, recurrence, train_input = len(a0), "diagonal", False
    if lr is None:
        lr = 1e-3 if optimizer == "adam" else 0.01
    spec = RNNSpec(width=width, dt=dt, horizon=horizon, activation=activation, recurrence=recurrence,
                   train_input=train_input, noise=noise, input_scale=input_scale, init=init)
    config = TrainConfig(optimizer=optimizer, lr=lr, epochs=epochs, samples=samples, batch=batch, inputs=inputs,
                         modes=modes, delta=delta, seed=seed)
    if samples is None and activation != "linear":
        raise InputError("samples", "the exact white-noise expectation needs activation='linear'")
    return train_rnn(spec, rho_grid(rho, params, spec), config, seeds=seeds, start=start, progress=progress,
                     checkpoint=checkpoint)


__all__ = ["target", "evaluate", "flow", "sweep", "sharp", "approximate", "describe", "train"]
