"""Stage 3: gradient flow with Diffrax, and the hitting times of JMLR Theorem 20.

    tau_param = inf{tau : ||theta(tau) - theta_0||_2 > delta}
    tau_loss  = inf{tau : |J(theta(tau)) - J(theta_0)| > delta}

Both are found in one call. Diffrax events terminate a solve and locate the crossing on the
solver's dense interpolant, which for the Kvaerno family is a cubic Hermite polynomial: over the
long steps a stiff solver takes on a plateau its error is far above the tolerance asked for
(see ``notes/solvers-and-lowering.md`` 1.5). So each hitting time is found in two solves:

1. *bracket*: the main solve runs with real-valued events whose "root finder" returns the
   start of the step in which the sign changed (:class:`_StepStart`). A Hermite interpolant is
   exact at its endpoints, so the state returned there is a genuine solver state;
2. *locate*: a short solve from that state with steps capped at 1/64 of the elapsed time, whose
   event is located by bisection (:class:`_Bisect`) on that solve's short-step interpolant.

Then the flow continues from the located point with the event that has not fired yet. Everything
is jit- and vmap-compatible; a solve that cannot finish reports a status, never a silent number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from ._jax import ensure_x64
from .errors import InputError
from .loss import flow_field, gradient, loss
from .lowering import KernelData, Target
from .reparam import external, internal

SOLVERS = ("kvaerno5", "kvaerno3", "kencarp4", "kencarp5", "tsit5")
"""Solver names accepted by :class:`SolverConfig`."""

STATUS = ("ok", "t1_reached", "max_steps_reached", "solver_failed")
"""Status of a hitting-time solve: both times found; t1 reached before one of them; the step
budget ran out (raise ``max_steps`` or loosen tolerances); the solver stopped with an error
(step size underflow or nonlinear-solver failure: try another solver or tighter tolerances)."""


@dataclass(frozen=True)
class SolverConfig:
    """How to integrate the flow.

    Attributes:
        solver: one of :data:`SOLVERS`. Implicit ones (Kvaerno, KenCarp) use a full Newton
            iteration: the default chord iteration stalls on starts where neurons coincide.
        rtol, atol: the step-size controller's tolerances (on theta = (a, w)).
        pcoeff, icoeff: PI controller coefficients; (0.3, 0.3) rejected far fewer steps than
            Diffrax's default I-controller on these flows.
        max_steps: step budget of each solve.
        refine: locate event times by a short-step re-solve of the bracketing step (module doc).
    """

    solver: str = "kvaerno5"
    rtol: float = 1e-10
    atol: float = 1e-12
    pcoeff: float = 0.3
    icoeff: float = 0.3
    max_steps: int = 200_000
    refine: bool = True

    def __post_init__(self):
        if self.solver not in SOLVERS:
            raise InputError("--solver", f"unknown solver {self.solver!r} (choose from {', '.join(SOLVERS)})")
        if not (np.isfinite(self.rtol) and 1e-15 <= self.rtol < 1):
            raise InputError("--rtol", f"must be in [1e-15, 1), got {self.rtol}")
        if not (np.isfinite(self.atol) and 0 <= self.atol < 1):
            raise InputError("--atol", f"must be in [0, 1), got {self.atol}")
        if int(self.max_steps) < 1:
            raise InputError("--max-steps", f"must be positive, got {self.max_steps}")

    def make_solver(self):
        newton = diffrax.with_stepsize_controller_tols(optx.Newton)()
        if self.solver == "kvaerno5":
            return diffrax.Kvaerno5(root_finder=newton)
        if self.solver == "kvaerno3":
            return diffrax.Kvaerno3(root_finder=newton)
        if self.solver == "kencarp4":
            return diffrax.KenCarp4(root_finder=newton)
        if self.solver == "kencarp5":
            return diffrax.KenCarp5(root_finder=newton)
        return diffrax.Tsit5()

    def terms(self, field: Callable):
        if self.solver.startswith("kencarp"):
            # All of the gradient flow is stiff: treat it implicitly, with a zero explicit part.
            zero = diffrax.ODETerm(lambda t, y, args: jnp.zeros_like(y))
            return diffrax.MultiTerm(zero, diffrax.ODETerm(field))
        return diffrax.ODETerm(field)

    def controller(self, dtmax=None):
        return diffrax.PIDController(rtol=self.rtol, atol=self.atol, pcoeff=self.pcoeff, icoeff=self.icoeff,
                                     dtmax=dtmax)


class _StepStart(optx.AbstractRootFinder):
    """A 'root finder' that returns the start of the bracketing step (the solver state there)."""

    rtol: float = 0.0
    atol: float = 0.0
    norm: Callable = optx.max_norm

    def init(self, fn, y, args, options, f_struct, aux_struct, tags):
        return jnp.asarray(options["lower"], jnp.result_type(y))

    def step(self, fn, y, args, options, state, tags):
        _, aux = fn(y, args)
        return state, state, aux

    def terminate(self, fn, y, args, options, state, tags):
        return jnp.array(True), optx.RESULTS.successful

    def postprocess(self, fn, y, aux, args, options, state, tags, result):
        return state, aux, {}


def _total(values) -> jax.Array:
    # Diffrax's event function is a PyTree with one value per condition, zero for all but the
    # one that fired: their sum is the function whose root is sought.
    return sum(jax.tree_util.tree_leaves(values))


class _Bisect(optx.AbstractRootFinder):
    """Bisection on the step's bracket, direction read from the end values, never raising.

    Diffrax hands every batch element to the event's root finder, also those whose event did
    not fire (their function then has its root at the step end and *decreases*), so the
    direction must be detected, and a bracket that holds no root must not be an error.
    Newton's method on the interpolant was seen to fail to converge at 1/omega = 20.
    """

    rtol: float = 1e-14
    atol: float = 1e-14
    norm: Callable = optx.max_norm

    def init(self, fn, y, args, options, f_struct, aux_struct, tags):
        lower = jnp.asarray(options["lower"], jnp.result_type(y))
        upper = jnp.asarray(options["upper"], jnp.result_type(y))
        flip = _total(fn(lower, args)[0]) > _total(fn(upper, args)[0])
        return (lower, upper, flip)

    def step(self, fn, y, args, options, state, tags):
        lower, upper, flip = state
        value, aux = fn(y, args)
        below = flip ^ (_total(value) < 0)
        lower = jnp.where(below, y, lower)
        upper = jnp.where(below, upper, y)
        return lower + 0.5 * (upper - lower), (lower, upper, flip), aux

    def terminate(self, fn, y, args, options, state, tags):
        lower, upper, _ = state
        return jnp.abs(upper - lower) <= self.atol + self.rtol * jnp.abs(y), optx.RESULTS.successful

    def postprocess(self, fn, y, aux, args, options, state, tags, result):
        return y, aux, {}


@dataclass
class FlowResult:
    """Outcome of :func:`hitting_times` for one start.

    ``tau_param``/``tau_loss`` are ``None`` when not reached by ``t1``; ``status`` is one of
    :data:`STATUS`; ``steps`` counts accepted steps of all solves.
    """

    tau_param: float | None
    tau_loss: float | None
    loss_initial: float
    loss_final: float
    t1: float
    t_end: float
    solver: str
    steps: int
    status: str
    theta_final: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "tau_param": self.tau_param,
            "tau_loss": self.tau_loss,
            "loss_initial": self.loss_initial,
            "loss_final": self.loss_final,
            "t1": self.t1,
            "t_end": self.t_end,
            "solver": self.solver,
            "steps": self.steps,
            "status": self.status,
            "theta_final": self.theta_final,
        }


def _status_code(result) -> jax.Array:
    """0 ok/event, 2 max steps, 3 other failure (1, t1 reached, is decided by the caller)."""
    ok = (result == diffrax.RESULTS.successful) | (result == diffrax.RESULTS.event_occurred)
    return jnp.where(ok, 0, jnp.where(result == diffrax.RESULTS.max_steps_reached, 2, 3))


def _heavy_ball(target: Target, friction: float):
    """theta'' + friction theta' + grad J = 0 as a first-order system in (theta, v) (JMLR App. B)."""

    def field(tau, y, data):
        theta, v = jnp.split(y, 2)
        return jnp.concatenate([v, -friction * v - gradient(target, data, theta)])

    return field


def make_hitting_times(target: Target, config: SolverConfig, *, friction: float | None = None) -> Callable:
    """A jittable, vmappable function ``(data, theta0, delta, t1) -> dict of arrays``.

    The returned dict holds ``tau`` (2,) [param, loss] with ``inf`` where not reached, ``theta``
    (final state), ``t_end``, ``steps`` and ``code`` (0 ok, 2 max steps, 3 solver failure).
    With ``friction`` the dynamics is the heavy-ball ODE started at rest instead of gradient flow.
    """
    ensure_x64()
    field_fn = flow_field(target) if friction is None else _heavy_ball(target, friction)
    terms = config.terms(field_fn)
    solver = config.make_solver()

    def theta_of(y):
        return y if friction is None else y[: y.shape[0] // 2]

    def run(data: KernelData, theta0: jax.Array, delta, t1):
        J0 = loss(target, data, theta0)
        y_start = theta0 if friction is None else jnp.concatenate([theta0, jnp.zeros_like(theta0)])

        def moved(y):
            """How far the state has moved: (||theta - theta0||, |J(theta) - J0|)."""
            theta = theta_of(y)
            return jnp.stack([jnp.linalg.norm(theta - theta0), jnp.abs(loss(target, data, theta) - J0)])

        def conds(active):
            def condition(i):
                return lambda t, y, args, **kw: jnp.where(active[i], moved(y)[i] - delta, -1.0)

            return (condition(0), condition(1))

        def solve(t0, y0, active, root_finder, dtmax, max_steps):
            return diffrax.diffeqsolve(
                terms, solver, t0, t1, None, y0, args=data,
                saveat=diffrax.SaveAt(t1=True),
                stepsize_controller=config.controller(dtmax),
                event=diffrax.Event(conds(active), root_finder=root_finder, direction=(True, True)),
                max_steps=max_steps, throw=False, adjoint=diffrax.ForwardMode())

        def segment(t0, y0, active):
            bisect = _Bisect()
            if config.refine:
                a = solve(t0, y0, active, _StepStart(), None, config.max_steps)
                # Steps of at most 1/64 of the elapsed time make the relocating solve's interpolant
                # ~1e4x more accurate than over a plateau step (error ~ h^4), at the same tolerances:
                # tighter tolerances instead hit float64's floor on long plateaus (seen at 1/omega = 30).
                dtmax = jnp.maximum(a.ts[-1] / 64.0, 1e-2)
                b = solve(a.ts[-1], a.ys[-1], active, bisect, dtmax, config.max_steps)
                code = jnp.maximum(_status_code(a.result), _status_code(b.result))
                steps = a.stats["num_accepted_steps"] + b.stats["num_accepted_steps"]
                sol = b
            else:
                sol = solve(t0, y0, active, bisect, None, config.max_steps)
                code = _status_code(sol.result)
                steps = sol.stats["num_accepted_steps"]
            fired = jnp.stack(sol.event_mask) & (sol.result == diffrax.RESULTS.event_occurred)
            return sol.ts[-1], sol.ys[-1], fired, code, steps

        def one_segment(carry, _):
            t, y, active, tau, code, steps = carry
            # A condition already past delta at a restart crossed within the last relocating step.
            already = (moved(y) > delta) & active
            tau = jnp.where(already, t, tau)
            active = active & ~already
            t_hit, y_hit, fired, code_s, steps_s = segment(t, y, active)
            tau = jnp.where(fired, t_hit, tau)
            carry = (t_hit, y_hit, active & ~fired, tau, jnp.maximum(code, code_s), steps + steps_s)
            return carry, None

        init = (jnp.asarray(0.0), y_start, jnp.array([True, True]), jnp.full(2, jnp.inf),
                jnp.asarray(0), jnp.asarray(0))
        # Two segments (one per hitting time), compiled once as a scan body.
        (t_end, y_end, _, tau, code, steps), _ = jax.lax.scan(one_segment, init, None, length=2)
        return {"tau": tau, "theta": theta_of(y_end), "t_end": t_end, "steps": steps, "code": code,
                "loss_initial": J0, "loss_final": loss(target, data, theta_of(y_end))}

    return run


_COMPILED: dict[tuple, Callable] = {}


def compiled_hitting_times(target: Target, config: SolverConfig, *, batched: bool = False,
                           friction: float | None = None) -> Callable:
    """The jitted (optionally vmapped over data, theta0) hitting-time function, cached."""
    key = ("hitting", target, config, batched, friction)
    if key not in _COMPILED:
        fn = make_hitting_times(target, config, friction=friction)
        if batched:
            fn = jax.vmap(fn, in_axes=(0, 0, None, None))
        _COMPILED[key] = jax.jit(fn)
    return _COMPILED[key]


def check_start(a0, w0) -> jax.Array:
    """Validate an initial condition and stack it as theta0 = (a0, w0)."""
    a0 = np.asarray(a0, dtype=float).ravel()
    w0 = np.asarray(w0, dtype=float).ravel()
    if a0.size == 0:
        raise InputError("--a0", "at least one neuron is needed")
    if a0.size != w0.size:
        raise InputError("--w0", f"has {w0.size} values but --a0 has {a0.size}")
    for name, arr in (("--a0", a0), ("--w0", w0)):
        bad = np.nonzero(~np.isfinite(arr))[0]
        if bad.size:
            raise InputError(name, f"must be finite, got {arr[bad[0]]} at index {bad[0]}")
    bad = np.nonzero(w0 <= 0)[0]
    if bad.size:
        raise InputError("--w0", f"decay rates must be positive, got {w0[bad[0]]} at index {bad[0]}")
    return jnp.asarray(np.concatenate([a0, w0]))


def check_horizon(delta: float, t1: float) -> None:
    """Validate a hitting-time threshold and a horizon."""
    if not (np.isfinite(delta) and delta > 0):
        raise InputError("--delta", f"must be a positive number, got {delta}")
    if not (np.isfinite(t1) and 0 < t1 <= 1e15):
        raise InputError("--t1", f"must be in (0, 1e15], got {t1}")


def hitting_times(target: Target, data: KernelData, a0, w0, *, delta: float, t1: float = 1e8,
                  config: SolverConfig = SolverConfig(), friction: float | None = None) -> FlowResult:
    """Integrate the gradient flow from (a0, w0) and return both hitting times (JMLR Thm 20).

    With ``friction`` (gamma >= 0) the heavy-ball ODE theta'' + gamma theta' + grad J = 0, started
    at rest, replaces the gradient flow (JMLR Appendix B: momentum shortens plateaus).
    """
    theta0 = jnp.asarray(internal(target, check_start(a0, w0)))
    check_horizon(delta, t1)
    if friction is not None and not (np.isfinite(friction) and friction >= 0):
        raise InputError("--friction", f"must be a non-negative number, got {friction}")
    fn = compiled_hitting_times(target, config, friction=None if friction is None else float(friction))
    out = jax.device_get(fn(data, theta0, float(delta), float(t1)))
    return _result(out, t1, config, target)


def _result(out, t1: float, config: SolverConfig, target=None) -> FlowResult:
    """A FlowResult; ``theta_final`` back in (a, w) when the target is reparameterised."""
    tau = [float(x) if np.isfinite(x) else None for x in np.asarray(out["tau"])]
    code = int(out["code"])
    status = STATUS[code] if code else ("ok" if None not in tau else "t1_reached")
    return FlowResult(tau_param=tau[0], tau_loss=tau[1], loss_initial=float(out["loss_initial"]),
                      loss_final=float(out["loss_final"]), t1=float(t1), t_end=float(out["t_end"]),
                      solver=config.solver, steps=int(out["steps"]), status=status,
                      theta_final=[float(x) for x in external(target, out["theta"])])


def make_trajectory(target: Target, config: SolverConfig) -> Callable:
    """A jittable ``(data, theta0, ts) -> (theta(ts), J(ts), |grad J|(ts), ok)`` (no events)."""
    field_fn = flow_field(target)
    terms = config.terms(field_fn)
    solver = config.make_solver()

    def run(data, theta0, ts):
        sol = diffrax.diffeqsolve(
            terms, solver, 0.0, ts[-1], None, theta0, args=data,
            saveat=diffrax.SaveAt(ts=ts), stepsize_controller=config.controller(),
            max_steps=config.max_steps, throw=False, adjoint=diffrax.ForwardMode())
        J = jax.vmap(lambda y: loss(target, data, y))(sol.ys)
        G = jax.vmap(lambda y: jnp.linalg.norm(gradient(target, data, y)))(sol.ys)
        return sol.ys, J, G, sol.result == diffrax.RESULTS.successful

    return run


def trajectory(target: Target, data: KernelData, theta0, ts, config: SolverConfig = SolverConfig()) -> dict:
    """theta, J and ||grad J|| at the times ``ts`` (for plots; values between steps are interpolated)."""
    key = ("trajectory", target, config)
    if key not in _COMPILED:
        _COMPILED[key] = jax.jit(make_trajectory(target, config))
    ts = np.asarray(ts, dtype=float)
    ys, J, G, ok = jax.device_get(_COMPILED[key](data, jnp.asarray(theta0), jnp.asarray(ts)))
    return {"t": ts, "theta": np.asarray(ys), "loss": np.asarray(J), "grad_norm": np.asarray(G), "ok": bool(ok)}
