"""The traced Diffrax solves behind ``memdyn.core.integrate``: gradient flow and hitting times.

    tau_param = inf{tau : ||theta(tau) - theta_0||_2 > delta}
    tau_loss  = inf{tau : |J(theta(tau)) - J(theta_0)| > delta}

Both are found in one call. Diffrax events terminate a solve and locate the crossing on the
solver's dense interpolant (a cubic Hermite polynomial for the Kvaerno family, the order-3 dense output
for Rodas4): over the long steps a stiff solver takes on a plateau its error is far above the tolerance
asked for (Kvaerno5 at rtol 1e-6: 9e-6 in tau_loss, against 7e-7 with the relocating pass below; see
docs/architecture.md). So each hitting time is found in two solves:

1. *bracket*: the main solve runs with real-valued events whose "root finder" returns the
   start of the step in which the sign changed (``_Locate`` with ``bisect`` false). A Hermite interpolant is
   exact at its endpoints, so the state returned there is a genuine solver state;
2. *locate*: a short solve from that state with steps capped at 1/64 of the elapsed time, whose
   event is located by bisection (``_Locate`` with ``bisect`` true) on that solve's short-step interpolant.

Then the flow continues from the located point with the event that has not fired yet. Everything
is jit- and vmap-compatible; a solve that cannot finish reports a status, never a silent number.

*Long plateaus: clocks that restart.* float64 cannot step by O(1) at t ~ 1e16 (the spacing of
doubles there is 2), yet the escape that ends a plateau of that length happens on O(1)-O(100) time
scales, and a solve that starts at t ~ 1e16 picks a first step of 1e-6 that does not move t at all.
The flow is autonomous, so every solve runs on its own clock from 0 (elapsed time is added up
outside, in float64: relative error ~1e-16 per segment), and the bracketing pass also stops -- a
third event, at a genuine solver state -- once the state moves fast compared with its clock,
``t ||f(y)|| / (1 + ||y||) > 1e8`` (from ``t = 1e4`` on), to go on from there on a new clock: the
escape's steps, about ``(1 + ||y||)/||f||`` times the tolerance's fifth root, then stay far above
the spacing of doubles. On a plateau ``t ||f||`` stays O(1) (the state moves less than delta in
all), so plateaus shorter than 1e4 never restart. Checked beyond 1e16 against SciPy with its own
restarts (``tests/core/test_long_horizon.py``).

*Long plateaus: coordinates that hold the small quantities.* On a plateau from M* the null neuron's
amplitude is a residue of O(1) overlaps (1e-15 at 1/omega = 50 from the sharp-escape start), which the
plain flow in theta = (a, w) cannot hold: past tau ~ 1e20 it was not determined in float64 and its steps
exploded. So the state is the displacement d = theta - anchor from rho's exponential part
(``memdyn.core.loss.anchor``), and the field is ``memdyn.core.loss.centred_gradient``, whose overlaps are
sums of small quantities (their O(1) parts cancelled in SymPy). Thresholds, the loss and the output are
in theta; plateaus to 1e29 end ok and agree with a hand-written centred flow to 1e-7.

This module imports Diffrax and Optimistix (about 0.7 s); ``memdyn.core.integrate`` imports it
only to trace, so a process that finds its solve in the cache never pays for them.
"""

from __future__ import annotations

from collections.abc import Callable

import diffrax
import jax
import jax.numpy as jnp
import optimistix as optx

from . import rosenbrock
from .jaxsetup import require_x64
from .loss import Anchor, anchor, centrable, centred_gradient, gradient, loss
from .lowering import KernelData, Target
from .solvers import SOLVERS, SolverConfig
from .status import Status


def make_solver(config):
    """The Diffrax solver of ``config.solver`` (``memdyn.core.solvers.SOLVERS``)."""
    spec = SOLVERS[config.solver]
    cls = getattr(rosenbrock if spec.jacobian else diffrax, spec.diffrax_class)
    if spec.implicit:
        return cls(root_finder=diffrax.with_stepsize_controller_tols(optx.Newton)())
    return cls()


def terms(config, field: Callable, jacobian: Callable | None = None):
    """The ODE term(s) of ``field`` for ``config.solver``; ``jacobian(t, y, args)`` is d field/dy, given to
    the solvers that use it (the others never evaluate it), with the field declared autonomous (every flow
    memdyn integrates is)."""
    spec = SOLVERS[config.solver]
    if spec.split:
        # All of the gradient flow is stiff: treat it implicitly, with a zero explicit part.
        zero = diffrax.ODETerm(lambda t, y, args: jnp.zeros_like(y))
        return diffrax.MultiTerm(zero, diffrax.ODETerm(field))
    if spec.jacobian and jacobian is not None:
        return rosenbrock.JacobianTerm(field, jacobian, autonomous=True)
    return diffrax.ODETerm(field)


def controller(config, dtmax=None, rtol=None, atol=None):
    """The PI controller; ``rtol``/``atol`` may be traced values (they default to the config's)."""
    return diffrax.PIDController(
        rtol=config.rtol if rtol is None else rtol,
        atol=config.atol if atol is None else atol,
        pcoeff=config.pcoeff,
        icoeff=config.icoeff,
        dtmax=dtmax,
    )


def _total(values) -> jax.Array:
    # Diffrax's event function is a PyTree with one value per condition, zero for all but the
    # one that fired: their sum is the function whose root is sought.
    return sum(jax.tree_util.tree_leaves(values))


class _Locate(optx.AbstractRootFinder):
    """The event's "root finder" of both passes of a hitting time, chosen at run time by ``bisect``.

    ``bisect`` false (the bracketing pass): return the start of the step in which the sign changed,
    where the solver's Hermite interpolant is exact, so the state there is a genuine solver state.
    ``bisect`` true (the relocating pass): bisection on the step's bracket, the direction read from
    the end values, never raising. Diffrax hands every batch element to the event's root finder,
    also those whose event did not fire (their function then has its root at the step end and
    *decreases*), so the direction must be detected, and a bracket that holds no root must not be an
    error. Newton's method on the interpolant was seen to fail to converge at 1/omega = 20.

    One class for both passes lets them run as one ``lax.scan``: the solve is traced once.
    """

    bisect: jax.Array
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
        new_lower = jnp.where(self.bisect & below, y, lower)
        new_upper = jnp.where(self.bisect & ~below, y, upper)
        return new_lower + 0.5 * (new_upper - new_lower), (new_lower, new_upper, flip), aux

    def terminate(self, fn, y, args, options, state, tags):
        lower, upper, _ = state
        converged = jnp.abs(upper - lower) <= self.atol + self.rtol * jnp.abs(y)
        return converged | ~self.bisect, optx.RESULTS.successful

    def postprocess(self, fn, y, aux, args, options, state, tags, result):
        return jnp.where(self.bisect, y, state[0]), aux, {}


def _status_code(result) -> jax.Array:
    """The ``Status`` code of a Diffrax result: 0 ok/event, 2 max steps, 3 other failure (1, t1
    reached, is decided on the host)."""
    ok = (result == diffrax.RESULTS.successful) | (result == diffrax.RESULTS.event_occurred)
    return jnp.where(
        ok,
        Status.OK.code,
        jnp.where(
            result == diffrax.RESULTS.max_steps_reached, Status.MAX_STEPS_REACHED.code, Status.SOLVER_FAILED.code
        ),
    )


class Centred:
    """The flow's coordinates: the state is d = theta - anchor.theta (``memdyn.core.loss.anchor``).

    The vector fields take ``args = (data, anchor, friction)``. A target that cannot be centred (a
    reparameterised one) has a zero anchor and its plain gradient, so d = theta there.
    """

    def __init__(self, target: Target):
        self.target = target
        self.centred = centrable(target)

    def anchor(self, data, theta0) -> Anchor:
        if self.centred:
            return anchor(self.target, data, theta0)
        zero = jnp.zeros(0, dtype=theta0.dtype)
        return Anchor(jnp.zeros_like(theta0), zero, zero)

    def gradient(self, data, at: Anchor, d):
        """grad J at theta = at.theta + d."""
        if self.centred:
            return centred_gradient(self.target, data, at, d)
        return gradient(self.target, data, d)

    def hessian(self, data, at: Anchor, d):
        """Hess J at theta = at.theta + d: forward-mode autodiff of :meth:`gradient`, so it inherits the
        centred overlaps. The derived Hessian in theta (``memdyn.core.loss.hessian``) equals it in exact
        arithmetic, but its O(1) overlaps cancel in float64 on a long plateau: given it, Rodas4's
        hitting time at 1/omega = 50 (tau ~ 9e28) moved 3.6e-7 from the hand-written centred flow,
        against 8e-8 with this one (``tests/core/test_long_horizon.py``)."""
        return jax.jacfwd(lambda z: self.gradient(data, at, z))(d)

    def flow(self):
        """-grad J in d, in Diffrax's signature, and its Jacobian -Hess J."""

        def field(tau, d, args):
            data, at, _ = args
            return -self.gradient(data, at, d)

        def jac(tau, d, args):
            data, at, _ = args
            return -self.hessian(data, at, d)

        return field, jac

    def heavy_ball(self):
        """theta'' + friction theta' + grad J = 0 as a first-order system in (d, v) (JMLR App. B), and its
        Jacobian [[0, I], [-Hess J, -friction I]]; the friction is a run-time argument."""

        def field(tau, y, args):
            data, at, friction = args
            d, v = jnp.split(y, 2)
            return jnp.concatenate([v, -friction * v - self.gradient(data, at, d)])

        def jac(tau, y, args):
            data, at, friction = args
            d = y[: y.shape[0] // 2]
            n = d.shape[0]
            eye = jnp.eye(n, dtype=y.dtype)
            top = jnp.concatenate([jnp.zeros((n, n), y.dtype), eye], axis=1)
            bottom = jnp.concatenate([-self.hessian(data, at, d), -friction * eye], axis=1)
            return jnp.concatenate([top, bottom], axis=0)

        return field, jac


RESTART_AFTER = 1e4
"""Local time before which the clock is never restarted."""
RESTART_RATIO = 1e8
"""Restart the clock when t ||f(y)|| / (1 + ||y||) exceeds this (module docstring)."""
MAX_SEGMENTS = 24
"""Most solves of one hitting-time call: one per hitting time plus the clock's restarts."""


def make_hitting_times(target: Target, config: SolverConfig, *, heavy_ball: bool = False) -> Callable:
    """A jittable, vmappable ``(data, theta0, delta, t1, rtol, atol, friction) -> dict of arrays``.

    The returned dict holds ``tau`` (2,) [param, loss] with ``inf`` where not reached, ``theta``
    (final state), ``t_end``, ``steps`` and ``code`` (a ``Status`` code: 0 ok, 2 max steps, 3
    solver failure, 4 the clock restarted ``MAX_SEGMENTS`` times with a time still sought). Tolerances
    and friction are run-time values: only ``config.static`` shapes the compiled code. With ``heavy_ball`` the dynamics is the heavy-ball ODE started at rest.
    """
    require_x64()
    coords = Centred(target)
    field_fn, jac_fn = coords.heavy_ball() if heavy_ball else coords.flow()
    terms_ = terms(config, field_fn, jac_fn)
    solver = make_solver(config)

    def run(data: KernelData, theta0: jax.Array, delta, t1, rtol, atol, friction):
        J0 = loss(target, data, theta0)
        at = coords.anchor(data, theta0)
        d0 = theta0 - at.theta
        y_start = jnp.concatenate([d0, jnp.zeros_like(d0)]) if heavy_ball else d0
        args = (data, at, friction)

        def displacement(y):
            return y[: y.shape[0] // 2] if heavy_ball else y

        def theta_of(y):
            return at.theta + displacement(y)

        # How far the state has moved, by each hitting time's measure: ||theta - theta0||, |J(theta) - J0|.
        # Each event condition evaluates its own only (Diffrax traces every condition at every call site).
        distances = (
            lambda y: jnp.linalg.norm(displacement(y) - d0),
            lambda y: jnp.abs(loss(target, data, theta_of(y)) - J0),
        )

        def moved(y):
            return jnp.stack([distance(y) for distance in distances])

        def hurry(t, y):
            """log(t ||f(y)|| / (1 + ||y||)) - log(RESTART_RATIO): positive when the clock should restart
            (||y|| of the state in (a, w), the heavy ball's velocity included)."""
            y_abs = jnp.concatenate([theta_of(y), y[y.shape[0] // 2 :]]) if heavy_ball else theta_of(y)
            speed = jnp.linalg.norm(field_fn(t, y, args)) / (1.0 + jnp.linalg.norm(y_abs))
            return jnp.log(t * speed + 1e-300) - jnp.log(RESTART_RATIO)

        def conds(active, restart):
            def condition(i):
                return lambda t, y, args, **kw: jnp.where(active[i], distances[i](y) - delta, -1.0)

            def fast(t, y, args, **kw):
                return jnp.where(restart & (t > RESTART_AFTER), hurry(t, y), -1.0)

            return (condition(0), condition(1), fast)

        def solve(y0, span, active, restart, bisect, dtmax):
            # every solve runs on its own clock from 0: the flow is autonomous, and float64 resolves
            # the steps near 0 however much time has elapsed (module docstring)
            return diffrax.diffeqsolve(
                terms_,
                solver,
                0.0,
                span,
                None,
                y0,
                args=args,
                saveat=diffrax.SaveAt(t1=True),
                stepsize_controller=controller(config, dtmax, rtol, atol),
                event=diffrax.Event(conds(active, restart), root_finder=_Locate(bisect), direction=(True, True, True)),
                max_steps=config.max_steps,
                throw=False,
                adjoint=diffrax.ForwardMode(),
            )

        def one_pass(active, horizon):
            def body(carry, mode):
                bisect, capped = mode[0], mode[1]
                t, y, fired, restarted, code, steps = carry
                # The relocating pass takes steps of at most 1/64 of the elapsed time (on the segment's
                # clock): its interpolant is then ~1e4x more accurate than over a plateau step (error
                # ~ h^4), at the same tolerances (tighter tolerances instead hit float64's floor on long
                # plateaus, seen at 1/omega = 30). The bracketing pass is not capped (dtmax = inf).
                dtmax = jnp.where(capped, jnp.maximum(t / 64.0, 1e-2), jnp.inf)
                # A pass after a restart of the clock has nothing to relocate: it ends where it starts.
                span = jnp.where(restarted, 0.0, horizon - t)
                sol = solve(y, span, active, ~capped, bisect, dtmax)  # restarts in the main pass only
                mask = jnp.stack(sol.event_mask) & (sol.result == diffrax.RESULTS.event_occurred)
                hit = mask[:2] & ~restarted
                return (
                    t + sol.ts[-1],
                    sol.ys[-1],
                    fired | hit,
                    restarted | (mask[2] & ~jnp.any(hit)),
                    jnp.maximum(code, _status_code(sol.result)),
                    steps + jnp.stack([sol.stats["num_accepted_steps"], sol.stats["num_rejected_steps"]]),
                ), None

            return body

        def segment(t0, y0, active, horizon):
            # (bisect, capped) per pass: bracket then relocate, or (refine off) one bisecting pass
            passes = jnp.array([[False, False], [True, True]]) if config.refine else jnp.array([[True, False]])
            init = (t0, y0, jnp.zeros(2, dtype=bool), jnp.asarray(False), jnp.asarray(0), jnp.zeros(2, dtype=int))
            (t, y, fired, restarted, code, steps), _ = jax.lax.scan(one_pass(active, horizon), init, passes)
            return t, y, fired, restarted, code, steps

        def new_clock(offset, t, when):
            """Where ``when``: the clock's time joins the offset and the clock starts again at zero."""
            return jnp.where(when, offset + t, offset), jnp.where(when, 0.0, t)

        def running(carry):
            _, t, _, active, _, code, _, n = carry
            return jnp.any(active) & (code == 0) & (n < MAX_SEGMENTS)

        def one_segment(carry):
            offset, t, y, active, tau, code, steps, n = carry
            # A condition already past delta at a restart crossed within the last relocating step.
            already = (moved(y) > delta) & active
            tau = jnp.where(already, offset + t, tau)
            active = active & ~already
            # a segment that starts late on its clock (after a long plateau's hitting time) starts a new
            # clock, so that the next relocating pass is capped by the time since that hitting time
            due = t > RESTART_AFTER
            offset, t = new_clock(offset, t, due)
            t_hit, y_hit, fired, restarted, code_s, steps_s = segment(t, y, active, t1 - offset)
            tau = jnp.where(fired, offset + t_hit, tau)
            offset, t_hit = new_clock(offset, t_hit, restarted)
            # the horizon ends the loop (status t1_reached, decided on the host)
            active = active & ~fired & ((offset + t_hit < t1) | restarted)
            return (offset, t_hit, y_hit, active, tau, jnp.maximum(code, code_s), steps + steps_s, n + 1)

        init = (
            jnp.asarray(0.0),
            jnp.asarray(0.0),
            y_start,
            jnp.array([True, True]),
            jnp.full(2, jnp.inf),
            jnp.asarray(0),
            jnp.zeros(2, dtype=int),
            jnp.asarray(0),
        )
        offset, t_local, y_end, active, tau, code, steps, n = jax.lax.while_loop(running, one_segment, init)
        # segments exhausted with a time still sought: report it, never a silent number (not as max steps:
        # no solve ran out of its step budget, and raising it would change nothing)
        code = jnp.where(jnp.any(active) & (code == 0) & (n >= MAX_SEGMENTS), Status.RESTARTS_EXHAUSTED.code, code)
        return {
            "tau": tau,
            "theta": theta_of(y_end),
            "t_end": offset + t_local,
            "steps": steps[0],
            "rejected_steps": steps[1],
            "code": code,
            "loss_initial": J0,
            "loss_final": loss(target, data, theta_of(y_end)),
        }

    return run


def make_trajectory(target: Target, config: SolverConfig) -> Callable:
    """A jittable ``(data, theta0, ts) -> (theta(ts), J(ts), |grad J|(ts), ok)`` (no events)."""
    coords = Centred(target)
    terms_ = terms(config, *coords.flow())
    solver = make_solver(config)

    def run(data, theta0, ts):
        at = coords.anchor(data, theta0)
        sol = diffrax.diffeqsolve(
            terms_,
            solver,
            0.0,
            ts[-1],
            None,
            theta0 - at.theta,
            args=(data, at, None),
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=controller(config),
            max_steps=config.max_steps,
            throw=False,
            adjoint=diffrax.ForwardMode(),
        )
        ys = at.theta + sol.ys
        J = jax.vmap(lambda y: loss(target, data, y))(ys)
        G = jax.vmap(lambda d: jnp.linalg.norm(coords.gradient(data, at, d)))(sol.ys)
        return ys, J, G, sol.result == diffrax.RESULTS.successful

    return run
