"""The Python face of memdyn: one function per command of the ``memdyn`` command line.

Each function takes the command's options as keyword arguments with the same names and the same
defaults (the command line reads its defaults from these signatures; ``tests/test_library_form.py`` checks
that they agree). Flags are the names with ``-`` for ``_``:

=====================  ======================  ==================================================
command                function                returns
=====================  ======================  ==================================================
``memdyn loss``        ``evaluate``        dict: loss, grad_a, grad_w (and the Hessian)
``memdyn flow``        ``flow``            ``memdyn.core.integrate.FlowResult``
``memdyn sweep``       ``sweep``           ``memdyn.core.sweep.SweepResult``
``memdyn sharp``       ``sharp``           ``memdyn.theory.sharp.SharpComparison``
``memdyn approx``      ``approximate``     ``memdyn.theory.approx.Approximation`` or
                                               ``memdyn.theory.expfit.BestFits``
``memdyn derive``      ``describe``        dict: terms, transforms, ||rho||^2, flow
``memdyn train``       ``train``           ``memdyn.rnn.train.TrainResult``
``memdyn infer``       ``infer``           dict: settings ranked by chi^2
``memdyn bench``       ``bench``           dict (and files with ``out``)
``memdyn reproduce``   ``reproduce``       dict (and the report in ``out``)
``memdyn cache``       ``cache_info``,     dict
                       ``clear_cache``
=====================  ======================  ==================================================

**Results that are not answers.** A solve that ends before its hitting times (horizon ``t1``
reached, step budget spent, solver failure) is returned with its ``memdyn.core.status.Status``
and that status's ``advice``; with ``throw=True`` it raises ``memdyn.errors.SolveError``
instead (the result is on the exception). The command line exits with status 3 in that case.

**float64 without side effects.** Every function here computes in float64 whatever the user's
``jax_enable_x64`` setting, and leaves that setting as it was (``memdyn.core.jaxsetup``).

Errors are ``memdyn.errors.InputError`` naming the Python argument.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from .core.integrate import DEFAULT_T1, FlowResult, SolverConfig, hitting_times
from .core.jaxsetup import float64
from .core.pipeline import target
from .core.starts import check_start
from .core.status import SolveError
from .core.warm import warm_target
from .errors import InputError

if TYPE_CHECKING:  # what a call needs beyond a warm flow loads when called (SymPy, scipy.optimize, optax)
    from .core.sweep import SweepResult
    from .rnn.train import TrainResult
    from .theory.sharp import SharpComparison

SOLVER_DEFAULTS = SolverConfig()
"""The solver options' defaults, stated once (``SolverConfig``'s fields), read by every signature below."""


def _config(solver: str, rtol: float, atol: float, max_steps: int) -> SolverConfig:
    return SolverConfig(solver=solver, rtol=rtol, atol=atol, max_steps=max_steps)


def _checked(result, throw: bool):
    """``result``, or ``SolveError`` when ``throw`` and it is not an answer."""
    if throw and not result.ok:
        raise SolveError(result)
    return result


def _bar(progress: bool, **kw):
    """A tqdm bar on stderr (off unless ``progress``, and off when stderr is not a terminal)."""
    from tqdm import tqdm

    return tqdm(file=sys.stderr, disable=None if progress else True, leave=False, **kw)


@functools.lru_cache(maxsize=64)
def _jitted(tg):
    """Compiled loss, gradient and Hessian of one target (compiled once, reused per call)."""
    from .core.loss import gradient, hessian, loss

    return tuple(jax.jit(functools.partial(f, tg)) for f in (loss, gradient, hessian))


@float64
def evaluate(
    rho: str,
    *,
    a0: Sequence[float],
    w0: Sequence[float],
    params: Mapping[str, float] | None = None,
    hessian: bool = False,
) -> dict:
    """Loss, gradient (and optionally Hessian) of the reduced model at theta = (a0, w0).

    The reduced model is rho_hat(t) = sum_i a_i exp(-w_i t) and its loss
    J(a, w) = int_0^inf (rho_hat(t) - rho(t))^2 dt, in closed form from SymPy's derivation.

    Args:
        rho: the target kernel, a formula in ``t`` (e.g. ``"exp(-t) + 0.5*exp(-(t - mu)**2/2)"``).
        a0: amplitudes a_i.
        w0: decay rates w_i (> 0), as many as ``a0``.
        params: values of the formula's other symbols (``{"mu": 10}``).
        hessian: also return the 2m x 2m Hessian of J in (a, w).

    Returns:
        ``{"loss": J, "grad_a": [...], "grad_w": [...]}`` and ``"hessian"`` (nested lists) if asked.

    Raises:
        InputError: a malformed formula, a missing parameter, non-positive rates.

    Example:
        >>> memdyn.evaluate("exp(-t)", a0=[1.0], w0=[1.0])["loss"]
        0.0
    """
    tg = target(rho, params)
    data = tg.data(params or {})
    theta = check_start(a0, w0)
    m = len(theta) // 2
    f_loss, f_grad, f_hess = _jitted(tg)
    g = np.asarray(f_grad(data, theta))
    out = {"loss": float(f_loss(data, theta)), "grad_a": g[:m].tolist(), "grad_w": g[m:].tolist()}
    if hessian:
        out["hessian"] = np.asarray(f_hess(data, theta)).tolist()
    return out


@float64
def flow(
    rho: str,
    *,
    a0: Sequence[float],
    w0: Sequence[float],
    delta: float,
    params: Mapping[str, float] | None = None,
    t1: float = DEFAULT_T1,
    solver: str = SOLVER_DEFAULTS.solver,
    rtol: float = SOLVER_DEFAULTS.rtol,
    atol: float = SOLVER_DEFAULTS.atol,
    max_steps: int = SOLVER_DEFAULTS.max_steps,
    param_map: str = "plain",
    throw: bool = False,
) -> FlowResult:
    """Integrate the gradient flow d(a, w)/dtau = -grad J from (a0, w0) and return both hitting times.

    The hitting times of JMLR Theorem 20 with threshold ``delta``::

        tau_param = inf{tau : ||theta(tau) - theta0||_2 > delta}
        tau_loss  = inf{tau : |J(theta(tau)) - J(theta0)| > delta}

    tau is training time (gradient-flow time, the continuum limit of epochs x learning rate). The
    solve stops at the later of the two events, or at ``t1``.

    Args:
        rho: the target kernel, a formula in ``t``.
        a0: the start's amplitudes.
        w0: the start's decay rates (> 0), as many as ``a0``.
        delta: the threshold of both hitting times (> 0).
        params: values of the formula's other symbols.
        t1: the horizon in training time, at most ``MAX_T1`` = 1e30 (default: that). A solve stops at
            its events, so a long horizon costs nothing when they come first.
        solver: a solver name (``memdyn.core.solvers.SOLVERS``: memdyn's ``"rodas4"``, the default, and
            Diffrax's ``"kvaerno5"``, ``"kvaerno3"``, ``"kencarp4"``, ``"kencarp5"``, ``"tsit5"``).
        rtol: the step-size controller's relative tolerance on theta (default 1e-10).
        atol: its absolute tolerance (default 1e-12).
        max_steps: the step budget of each solve (default 200,000).
        param_map: train v with w = g(v) instead of w: ``"plain"`` (w = v), ``"exp"``,
            ``"softplus"``, ``"best"``, ``"lru"``; starts and ``theta_final`` stay in (a, w),
            tau_param is measured in (a, v).
        throw: raise ``memdyn.errors.SolveError`` when the status is not ``ok`` (default: return
            the result, whose ``status.advice`` says what to change).

    Returns:
        A ``memdyn.core.integrate.FlowResult`` (tau_param, tau_loss: ``None`` when not reached).

    Example:
        >>> res = memdyn.flow("exp(-t) + 0.5*exp(-(t - mu)**2/2)", params={"mu": 10}, a0=[1, 0],
        ...                   w0=[1, 0.5], delta=0.01)
        >>> res.status, round(res.tau_loss, -2)  # doctest: +SKIP
        (<Status.OK: 'ok'>, 64000.0)
    """
    config = _config(solver, rtol, atol, max_steps)
    tg = warm_target(rho, params) if param_map == "plain" else None  # SymPy-free for a formula met before
    if tg is None:
        from .core.reparam import mapped

        tg = mapped(target(rho, params), param_map)
    result = hitting_times(tg, tg.data(params or {}), a0, w0, delta=delta, t1=t1, config=config)
    return _checked(result, throw)


def _swept_target(
    rho: str,
    params: Mapping[str, float] | None,
    param: str,
    values: Sequence[float],
    *,
    warm: bool = False,
    grid: Sequence[tuple[str, Sequence[float]]] = (),
):
    """(the fixed parameters, the target of the sweep); with ``warm`` from the warm path when it can."""
    base = dict(params or {})
    for name, _ in [(param, values), *grid]:
        if name in base:
            raise InputError("params", f"'{name}' is swept and also given in params")
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
    """Join a ``jax.distributed`` cluster before a sweep over several hosts.

    Args:
        coordinator: the coordinator's HOST:PORT (else ``JAX_COORDINATOR_ADDRESS``).
        processes: the number of processes (else ``JAX_NUM_PROCESSES``).
        process_id: this process's id, 0..processes-1 (else ``JAX_PROCESS_ID``).

    Call before any computation; a sweep with ``out`` then splits its chunks over the processes.
    """
    import os

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
    if devices == "all":
        return len(jax.local_devices())
    try:
        count = int(devices)
    except (TypeError, ValueError):
        raise InputError("devices", f"expected 'all' or a number of devices, got {devices!r}") from None
    if count != devices and str(count) != str(devices).strip():
        raise InputError("devices", f"expected 'all' or a number of devices, got {devices!r}")
    return count


@float64
def sweep(
    rho: str,
    param: str,
    values: Sequence[float],
    *,
    delta: float,
    params: Mapping[str, float] | None = None,
    grid: Sequence[tuple[str, Sequence[float]]] = (),
    init: str = "explicit",
    a0: Sequence[float] | None = None,
    w0: Sequence[float] | None = None,
    m: int | None = None,
    null_rates: Sequence[float] = (),
    groups: Sequence[int] | None = None,
    seeds: int = 1,
    w_range: Sequence[float] = (0.5, 2.0),
    a_range: Sequence[float] = (-1.0, 1.0),
    beta: float = 1.0,
    t1: float = DEFAULT_T1,
    solver: str = SOLVER_DEFAULTS.solver,
    rtol: float = SOLVER_DEFAULTS.rtol,
    atol: float = SOLVER_DEFAULTS.atol,
    max_steps: int = SOLVER_DEFAULTS.max_steps,
    param_map: str = "plain",
    chunk: int | None = None,
    devices: int | str = 1,
    out: str | None = None,
    progress: bool = False,
    throw: bool = False,
) -> SweepResult:
    """Hitting times over the values of a parameter (x starts), as one compiled, batched solve.

    Args:
        rho: the target kernel, a formula in ``t``.
        param: the swept parameter (the memory axis: 1/omega is the value itself, or its inverse
            for a parameter named ``omega``).
        values: its values.
        delta: the hitting times' threshold (see ``flow``).
        params: values of the formula's other symbols.
        grid: further axes ``[(name, values), ...]``, swept as a Cartesian product, ``param`` outermost.
        init: the starts. ``"explicit"``: ``a0``/``w0``. ``"mstar"``: a point of the invariant set M*
            built from the formula's exponential terms (``m`` neurons, ``null_rates`` for the null
            neurons, ``groups`` neurons per term). ``"random"``: the JMLR bounded start (``m``,
            ``seeds`` starts, w0 ~ U[``w_range``], a0 = U[``a_range``] m^-``beta``).
        t1: the horizon, as in ``flow``.
        solver: as in ``flow``.
        rtol: as in ``flow``.
        atol: as in ``flow``.
        max_steps: as in ``flow``.
        param_map: as in ``flow``.
        chunk: elements per compiled call (default: all, or 64 above 64).
        devices: local devices that share the chunks (``"all"``: every one).
        out: a folder that keeps each finished chunk (a rerun with the same arguments resumes) and the
            final table, ``results.json`` and ``results.csv``.
        progress: a progress bar on stderr.
        throw: raise ``memdyn.errors.SolveError`` when an element is not ``ok``.

    Returns:
        A ``memdyn.core.sweep.SweepResult``: one row per (value, start), values outer.

    Example:
        >>> sw = memdyn.sweep("exp(-t) + 0.5*exp(-(t - mu)**2/2)", "mu", [8, 10, 12], init="mstar", m=2,
        ...                   null_rates=[0.5], delta=0.01)
        >>> sw.tau_loss  # doctest: +SKIP
        array([ 1134.4...,  6561.6..., 35845.3...])
    """
    import itertools

    from .core.resources import check_solve
    from .core.starts import build_starts
    from .core.sweep import DEFAULT_CHUNK, bucket, default_chunk, run_sweep

    config = _config(solver, rtol, atol, max_steps)
    if chunk is not None and chunk < 1:
        raise InputError("chunk", f"must be positive, got {chunk}")
    if init != "explicit" and m is not None:
        # before building the starts: m = 4000 with 4000 seeds is 4000 rows of 8000 numbers already
        n_starts = seeds if init == "random" else 1
        check_solve(m, bucket(min(chunk or DEFAULT_CHUNK, len(values) * n_starts)), "m")
    names = [param, *(name for name, _ in grid)]
    if len(set(names)) < len(names):
        raise InputError("param", f"a parameter is swept twice: {', '.join(names)}")
    base, tg = _swept_target(rho, params, param, values, warm=param_map == "plain", grid=grid)
    kernel = tg.lowered().kernel if init == "mstar" else None  # M* reads the formula's exponential terms
    points = [dict(zip(names, combo)) for combo in itertools.product(values, *(vals for _, vals in grid))]
    starts = build_starts(
        kernel,
        [{**base, **p} for p in points],
        init=init,
        a0=a0,
        w0=w0,
        m=m,
        null_rates=null_rates,
        groups=groups,
        seeds=seeds,
        w_range=w_range,
        a_range=a_range,
        beta=beta,
    )
    n = len(points) * starts.shape[0]
    if param_map != "plain":
        from .core.reparam import mapped

        tg = mapped(tg.lowered(), param_map)

    def resumed(done, total):
        if progress:
            rest = "solving the rest" if done < total else "nothing left to solve"
            print(f"memdyn sweep: resuming {out}: {done} of {total} chunks already done, {rest}", file=sys.stderr)

    with _bar(progress, desc="sweep", unit="solve", total=n) as bar:
        result = run_sweep(
            tg,
            base,
            param,
            values,
            starts,
            delta=delta,
            t1=t1,
            config=config,
            chunk=default_chunk(n, chunk),
            progress=bar.update,
            out_dir=out,
            on_resume=resumed,
            grid=grid,
            devices=_devices(devices),
        )
    if out is not None and jax.process_index() == 0:
        result.save(out)
    return _checked(result, throw)


@float64
def sharp(
    rho: str,
    param: str,
    values: Sequence[float],
    *,
    a0: Sequence[float],
    w0: Sequence[float],
    delta: float,
    params: Mapping[str, float] | None = None,
    gaussian: Sequence[float] | None = None,
    t1: float = DEFAULT_T1,
    solver: str = SOLVER_DEFAULTS.solver,
    rtol: float = SOLVER_DEFAULTS.rtol,
    atol: float = SOLVER_DEFAULTS.atol,
    max_steps: int = SOLVER_DEFAULTS.max_steps,
    progress: bool = False,
    throw: bool = False,
) -> SharpComparison:
    """Measured tau_loss beside the sharp predictions of the slow dynamics on M*.

    Near the invariant set M* the fitted neurons relax fast and the null neurons (``a0`` entries equal
    to 0) drift slowly; ``memdyn.theory.sharp`` integrates that slow system. Per value of ``param``:
    ``tau_slow`` (the slow system's time to change the loss by ``delta``), ``tau_adiabatic`` (with the
    null amplitudes relaxed too), ``tau_lead`` = 1/(F phi'^2) with one null neuron, and with
    ``gaussian`` the 1/mu series, each with its relative error against the measured tau_loss.

    Args:
        rho: the target kernel, a formula in ``t``.
        param: its memory parameter (as ``sweep``).
        values: that parameter's values.
        a0: the start's amplitudes on M*: the fitted ones and at least one 0 (the null neurons).
        w0: the start's decay rates.
        delta: the hitting-time threshold.
        params: values of the formula's other symbols.
        gaussian: ``(c, sigma)`` when the bump is c exp(-(t - param)^2/(2 sigma^2)): adds the 1/mu series.
        t1: as in ``flow``.
        solver: as in ``flow``.
        rtol: as in ``flow``.
        atol: as in ``flow``.
        max_steps: as in ``flow``.
        progress: a progress bar on stderr.
        throw: raise ``memdyn.errors.SolveError`` when a measured flow is not ``ok``.

    Returns:
        A ``memdyn.theory.sharp.SharpComparison``.
    """
    if gaussian is not None and (len(gaussian) != 2 or not gaussian[1] > 0):
        raise InputError("gaussian", "expected (C, SIGMA) with SIGMA > 0")
    from .theory.sharp import compare

    base, tg = _swept_target(rho, params, param, values)
    with _bar(progress, total=len(values), desc="sharp") as bar:
        result = compare(
            tg,
            base,
            param,
            list(values),
            a0,
            w0,
            delta=delta,
            t1=t1,
            config=_config(solver, rtol, atol, max_steps),
            gaussian=None if gaussian is None else (float(gaussian[0]), float(gaussian[1])),
            progress=bar.update,
        )
    return _checked(result, throw)


@float64
def approximate(
    rho: str,
    *,
    widths: Sequence[int],
    params: Mapping[str, float] | None = None,
    alpha: int = 1,
    beta: float | None = None,
    min_rate: float | None = None,
    norm: str | None = None,
    progress: bool = False,
) -> Any:
    """Best exponential-sum approximations rho ~ sum_i a_i exp(-w_i t) of each width.

    Without ``norm``: the best float64 L2 fits (several starts, warm-started from width m-1), their L2
    and L1 errors, and with ``beta`` the constructive network of JMLR Thm 10 with its error and bound.
    With ``norm`` (``"l2"``, ``"l1"`` or ``"sup"``): best fits in that norm in 256-bit arithmetic
    (widths to 40), with their errors in every norm (``memdyn.theory.expfit``).

    Args:
        rho: the kernel, a formula in ``t``.
        widths: the widths m to fit, e.g. ``[1, 2, 4, 8]``.
        params: values of the formula's other symbols.
        alpha: smoothness order of Thm 10 (default 1).
        beta: decay rate of Thm 10; enables the Jackson network and bound (not with ``norm``).
        min_rate: keep every fitted decay rate >= this (the inverse theorem, Thm 11).
        norm: the extended-precision engine's norm (default: off, the float64 L2 fits).
        progress: a progress bar on stderr (with ``norm``).

    Returns:
        ``memdyn.theory.approx.Approximation``, or with ``norm`` ``memdyn.theory.expfit.BestFits``.
    """
    values = dict(params or {})
    widths = _widths(widths)
    if norm is None:
        from .theory.approx import approximate as approximate_target

        return approximate_target(target(rho, values), values, widths, alpha=alpha, beta=beta, min_rate=min_rate)
    if beta is not None:
        raise InputError("beta", "the Jackson network is offered without norm only", mentions=("norm",))
    from .theory.expfit import PreciseKernel, best_fits

    with _bar(progress, total=max(widths), desc="fits", unit="width") as bar:
        return best_fits(
            PreciseKernel(target(rho, values), values, rho),
            widths,
            norm,
            min_rate=min_rate,
            progress=lambda m: bar.update(1),
        )


def _widths(widths) -> list[int]:
    try:
        out = [int(m) for m in widths]
    except (TypeError, ValueError):
        raise InputError("widths", f"expected positive integers, got {widths!r}") from None
    if not out or any(m < 1 or m != float(v) for m, v in zip(out, widths)):
        raise InputError("widths", f"expected positive integers, got {list(widths)!r}")
    return out


@float64
def describe(rho: str, *, params: Mapping[str, float] | None = None, m: int | None = None, latex: bool = False) -> dict:
    """What SymPy derived for ``rho``: terms, Laplace transforms (stable form), ||rho||^2.

    Args:
        rho: the kernel, a formula in ``t``.
        params: values of the formula's other symbols.
        m: also write out the loss and the flow for this width (1..8).
        latex: LaTeX instead of plain text.

    Refuses kernels whose loss is not finite (``memdyn.errors.InputError`` naming ``rho``).
    """
    from .core.symbolic import describe as describe_derivation

    values = dict(params or {})
    tg = target(rho, values)
    tg.data(values)  # refuses kernels whose loss is not finite
    return describe_derivation(tg.derivation, m=m, latex=latex)


def _train_defaults():
    from .rnn.model import RNNSpec
    from .rnn.train import TrainConfig

    return RNNSpec, TrainConfig


@float64
def train(
    rho: str,
    *,
    params: Mapping[str, float] | None = None,
    width: int = 16,
    dt: float = 0.1,
    horizon: float = 6.4,
    activation: str = "linear",
    recurrence: str = "full",
    optimizer: str = "gd",
    lr: float | None = None,
    epochs: int = 2000,
    samples: int | None = 128,
    batch: int | None = None,
    inputs: str = "white",
    modes: int = 4,
    noise: str = "brownian",
    input_scale: float = 1.0,
    init: str = "memdyn",
    seeds: int = 1,
    seed: int = 0,
    delta: float = 0.01,
    a0: Sequence[float] | None = None,
    w0: Sequence[float] | None = None,
    checkpoint: str | None = None,
    progress: bool = False,
) -> TrainResult:
    """Train a discrete RNN on the target ``rho`` (JMLR Figs. 1 and 4).

    The network is h_{k+1} = h_k + dt sigma(W h_k + U x_k), y = c^T h_K; the target is the exact
    discrete convolution dt sum_j rho(j dt) x_{K-1-j}. With ``a0``/``w0`` the network is the diagonal
    linear RNN with U = 1, c = a0, w = w0: the discrete counterpart of ``flow`` (exit epoch x lr
    against its tau_loss).

    Args:
        rho: the kernel, a formula in ``t``; ``params`` its other symbols.
        width: hidden width (set by ``a0`` when given). ``dt``: Euler step. ``horizon``: sequence
            length in time, a multiple of ``dt``.
        activation: ``"linear"`` or ``"tanh"``. ``recurrence``: ``"full"`` W or ``"diagonal"``.
        optimizer: ``"gd"`` (full batch), ``"sgd"`` or ``"adam"`` (optax); ``lr`` defaults to 0.01
            (gd, sgd) or 1e-3 (adam). ``epochs``: number of epochs.
        samples: training sequences, or ``None`` for the exact white-noise loss (linear only);
            ``batch`` the minibatch size (default 32 for sgd, full batch for adam).
        inputs: ``"white"`` or ``"cosine"`` (``modes`` random cosines per input).
        noise: ``"brownian"`` x_k ~ N(0, 1/dt) or ``"unit"`` x_k ~ N(0, 1) (every loss x dt).
        input_scale: the network reads this times the input, the target does not.
        init: the random start, ``"memdyn"`` or ``"relu-orthogonal"``.
        seeds: networks trained at once (seeds ``seed``..``seed + seeds - 1``).
        delta: exit threshold on |L - L_0|.
        checkpoint: a file to save the run to after every chunk of epochs and resume it from,
            bit-identically.
        progress: a progress bar on stderr.

    Returns:
        A ``memdyn.rnn.train.TrainResult``.
    """
    from .rnn.model import RNNSpec, diagonal_start, rho_grid
    from .rnn.train import TrainConfig
    from .rnn.train import train as train_rnn

    if (a0 is None) != (w0 is None):
        raise InputError("w0" if w0 is None else "a0", "a0 and w0 go together", mentions=("a0", "w0"))
    start, train_input = None, True
    if a0 is not None:
        start = diagonal_start(a0, w0)
        width, recurrence, train_input = len(a0), "diagonal", False
    spec = RNNSpec(
        width=width,
        dt=dt,
        horizon=horizon,
        activation=activation,
        recurrence=recurrence,
        train_input=train_input,
        noise=noise,
        input_scale=input_scale,
        init=init,
    )
    config = TrainConfig(
        optimizer=optimizer,
        lr=lr,
        epochs=epochs,
        samples=samples,
        batch=batch,
        inputs=inputs,
        modes=modes,
        delta=delta,
        seed=seed,
    )
    if samples is None and activation != "linear":
        raise InputError("samples", "the exact white-noise expectation needs activation='linear'")
    with _bar(progress, total=epochs, desc="train", unit="epoch") as bar:
        return train_rnn(
            spec,
            rho_grid(rho, params, spec),
            config,
            seeds=seeds,
            start=start,
            progress=bar.update,
            checkpoint=checkpoint,
        )


@float64
def infer(
    *,
    figure: str | None = None,
    points: Sequence[tuple[float, float]] | None = None,
    quantity: str = "tau_loss",
    uncertainty: float = 0.2,
    drop: Sequence[float] = (),
    m: int | None = None,
    space: Mapping[str, Any] | None = None,
    top: int = 10,
    progress: bool = False,
) -> dict:
    """Which unstated settings of the paper fit its read-off hitting times (Figs. 2-3).

    Searches the target exp(-w* t) + c exp(-(t - mu)^2/(2 sigma^2)), the start, the threshold and the
    loss normalisation with batched sweeps, and ranks the settings by chi^2 against the read-offs
    (``memdyn.studies.infer``).

    Args:
        figure: the paper's read-offs, ``"fig2"`` or ``"fig3"``; or give ``points``.
        points: your own read-offs as (1/omega, hitting time) pairs.
        quantity: what ``points`` are, ``"tau_loss"`` or ``"tau_param"``.
        uncertainty: one-sigma relative read-off uncertainty of every point.
        drop: with ``figure``, memories whose read-offs are left out.
        m: the width (default: 2, or 10 for ``fig3``).
        space: the searched values, by the fields of ``memdyn.studies.infer.Space``
            (``c``, ``sigma``, ``w_star``, ``amplitude``, ``null_min``, ``null_max``, ``delta``,
            ``normalisation``, ``param_normalisation``); the rest keep their defaults.
        top: settings listed (1..1000).
        progress: a progress bar on stderr.
    """
    from .studies.infer import PAPER_WIDTH, ReadOff, Space, paper_points, solve_count
    from .studies.infer import infer as run_infer

    if (figure is None) == (points is None):
        raise InputError("points", "give either figure or points", mentions=("figure",))
    if drop and not figure:
        raise InputError("drop", "needs figure (it leaves out some of the paper's read-offs)", mentions=("figure",))
    if figure:
        read = paper_points(figure, uncertainty, drop=drop)
    else:
        try:
            xs, ts = zip(*[(float(x), float(t)) for x, t in points])  # type: ignore[union-attr]
        except (TypeError, ValueError):
            raise InputError("points", f"expected (memory, time) number pairs, got {points!r}") from None
        read = (ReadOff("points", quantity, xs, ts, uncertainty),)
    try:
        chosen = Space(
            width=m or PAPER_WIDTH.get(figure, 2),
            **{k: (tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in (space or {}).items()},
        )
    except InputError as err:
        if err.argument == "width":  # Space calls it width; this function, like the command line, m
            raise InputError("m", err.reason) from None
        raise
    if not 1 <= top <= 1000:
        raise InputError("top", f"must be 1..1000, got {top}")
    with _bar(progress, desc="infer", unit="solve", total=solve_count(chosen, read)) as bar:
        return run_infer(read, chosen, top=top, progress=bar.update)


def _ticker(bar) -> Callable[[str], None]:
    def tick(message: str) -> None:
        bar.set_postfix_str(message)
        bar.update(1)

    return tick


@float64
def bench(*, profile: str = "quick", latency: bool = False, out: str | None = None, progress: bool = False) -> dict:
    """Solver benchmarks: work-precision, cost against plateau length, batched throughput, compile times.

    Args:
        profile: ``"quick"`` (a few minutes) or ``"full"`` (more tolerances, batches up to 65,536).
        latency: instead, time to first answer in fresh processes (``memdyn flow`` and a sweep, cold and
            warm) beside the SciPy script doing the same work.
        out: a folder for ``bench.md``, ``bench.json`` and ``work_precision.png`` (with ``latency``:
            ``latency.md``, ``latency.json``).
        progress: a progress bar on stderr.

    Returns:
        The measurements as a dict, with ``"markdown"`` the table a person reads.
    """
    from .core.files import prepare_output
    from .studies.bench import markdown, run_bench, write_bench, write_latency

    if profile not in ("quick", "full"):
        raise InputError("profile", f"must be 'quick' or 'full', got {profile!r}")
    folder = prepare_output(out, "out") if out else None
    with _bar(progress, desc="bench") as bar:
        if latency:
            from .studies import latency as latency_study

            result = latency_study.measure(progress=_ticker(bar))
            result["markdown"] = latency_study.markdown(result)
        else:
            result = run_bench(profile, progress=_ticker(bar))
            result["markdown"] = markdown(result)
    if folder is not None:
        (write_latency if latency else write_bench)(result, folder)
    return result


@float64
def reproduce(*, profile: str = "quick", out: str = "reproduce-out", progress: bool = False) -> dict:
    """Reproduce the paper's optimisation results into ``out``: report.md, results.json, PNG figures.

    On exp(-t) + 0.5 exp(-(t - mu)^2/2) started on M*: plateau sweeps and Theorem-20 fits, Figs. 2 and
    3, the Hessian and gradient scalings on M* (Props. 33-34), the two stages from a random start,
    momentum (App. B), approximation, training, and a fidelity table.

    Args:
        profile: ``"quick"`` (memories 6..16, a few minutes on 2 cores) or ``"full"``.
        out: the output folder (created; filled atomically at the end).
        progress: a progress bar on stderr.
    """
    from .core.files import prepare_output
    from .studies.reproduce import reproduce as run_reproduce
    from .studies.reproduce import total_steps

    if profile not in ("quick", "full"):
        raise InputError("profile", f"must be 'quick' or 'full', got {profile!r}")
    folder = prepare_output(out, "out")
    with _bar(progress, total=total_steps(), desc="reproduce") as bar:
        return run_reproduce(profile, folder, progress=_ticker(bar))


def cache_info() -> dict:
    """Where memdyn's persistent caches are, whether they are on, their entries and sizes by kind."""
    from .core import cache

    return cache.info()


def clear_cache() -> dict:
    """Remove every entry of memdyn's persistent caches; returns what ``cache_info`` said before."""
    from .core import cache

    return cache.clear()


__all__ = [
    "evaluate",
    "flow",
    "sweep",
    "sharp",
    "approximate",
    "describe",
    "train",
    "infer",
    "bench",
    "reproduce",
    "cache_info",
    "clear_cache",
    "distributed",
    "SolveError",
]
