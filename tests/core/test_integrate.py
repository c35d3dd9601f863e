"""Hitting times and flows, checked against SciPy, against a tighter solve, and against invariants."""

import jax.numpy as jnp
import numpy as np
import pytest

import memdyn
from memdyn.core.integrate import SolverConfig, hitting_times, solve_program, trajectory
from memdyn.studies.reference import scipy_hitting_times

from ..conftest import BUMP

A0, W0 = [1.0, 0.0], [1.0, 0.5]


@pytest.fixture(scope="module")
def bump():
    return memdyn.target(BUMP, {"mu": [8.0, 16.0]})


@pytest.mark.parametrize("mu", [8.0, 10.0, 12.0, 14.0, 16.0, 20.0])
def test_hitting_times_agree_with_scipy(bump, mu):
    """Both hitting times vs scipy LSODA at rtol 1e-10 on the same right-hand side: <= 1e-6 relative."""
    data = bump.data({"mu": mu})
    ours = hitting_times(bump, data, A0, W0, delta=0.01, t1=1e8)
    assert ours.status == "ok"
    ref = scipy_hitting_times(
        bump, data, A0, W0, delta=0.01, t1=3 * ours.tau_loss, method="LSODA", rtol=1e-10, atol=1e-12
    )
    # Measured: <= 1.6e-8 over 1/omega = 8..20 (LSODA's own error at rtol 1e-10 dominates); 3x margin.
    for key in ("tau_param", "tau_loss"):
        assert abs(getattr(ours, key) / ref[key] - 1) <= 5e-8, (key, getattr(ours, key), ref[key])


def test_refined_event_times_beat_the_interpolant(bump):
    """At a loose rtol the bracket-and-relocate events are closer to a tight solve than the interpolant's."""
    data = bump.data({"mu": 12.0})
    tight = hitting_times(bump, data, A0, W0, delta=0.01, t1=1e8, config=SolverConfig(rtol=1e-13, atol=1e-15))
    loose = dict(rtol=1e-6, atol=1e-8)
    refined = hitting_times(bump, data, A0, W0, delta=0.01, t1=1e8, config=SolverConfig(**loose))
    plain = hitting_times(bump, data, A0, W0, delta=0.01, t1=1e8, config=SolverConfig(refine=False, **loose))
    err_refined = abs(refined.tau_loss / tight.tau_loss - 1)
    err_plain = abs(plain.tau_loss / tight.tau_loss - 1)
    assert err_refined <= 1e-6
    assert err_refined < err_plain


def test_loss_never_increases_along_the_flow(bump):
    data = bump.data({"mu": 10.0})
    ts = np.logspace(-3, 4, 400)
    tr = trajectory(bump, data, jnp.asarray([0.3, 0.2, 2.0, 0.3]), ts)
    assert tr["ok"]
    steps = np.diff(tr["loss"])
    assert np.all(steps <= 1e-12 * tr["loss"][0]), steps.max()
    assert tr["loss"][-1] < tr["loss"][0]


@pytest.mark.parametrize(
    "a0, w0", [([1.0, 0.5, 0.0], [1.0, 3.0, 0.7]), ([0.4, 0.6, 0.5], [1.0, 1.0, 3.0])], ids=["null-neuron", "coincided"]
)
def test_invariant_set_stays_put_without_the_bump(a0, w0):
    """On M* for rho = e^{-t} + 0.5 e^{-3t} (no long memory) the gradient vanishes: the flow stays put.

    null-neuron: neuron 3 has a = 0; coincided: neurons 1 and 2 share w = 1 with amplitudes summing
    to 1 (the hard case for implicit solvers' nonlinear iterations: the Hessian is singular there). Along the
    exactly flat direction a_1 - a_2 nothing restores round-off, so the state may drift there by a
    few rtol over 1e8 time units while rho_hat, and so J, stays fixed."""
    tg = memdyn.target("exp(-t) + 0.5*exp(-3*t)")
    data = tg.data()
    g = np.asarray(memdyn.gradient(tg, data, jnp.asarray(a0 + w0)))
    assert np.max(np.abs(g)) <= 1e-14
    tr = trajectory(tg, data, jnp.asarray(a0 + w0), np.logspace(0, 8, 9))
    assert tr["ok"]
    assert np.max(np.abs(tr["theta"] - np.asarray(a0 + w0))) <= 100 * SolverConfig().rtol
    assert np.max(np.abs(tr["loss"] - tr["loss"][0])) <= 1e-14


def test_unreached_events_are_null_with_status(bump):
    data = bump.data({"mu": 16.0})
    r = hitting_times(bump, data, A0, W0, delta=0.01, t1=1.0)
    assert (r.tau_param, r.tau_loss, r.status) == (None, None, "t1_reached")
    assert r.t_end == 1.0
    r = hitting_times(bump, data, A0, W0, delta=0.01, t1=1e8, config=SolverConfig(max_steps=5))
    assert r.status == "max_steps_reached"
    assert r.tau_loss is None


def test_a_batched_sweep_matches_single_solves(bump):
    mus = [8.0, 16.0]
    data = bump.data_batch([{"mu": m} for m in mus])
    theta0 = jnp.tile(jnp.asarray(A0 + W0), (2, 1))
    out = solve_program(bump, SolverConfig(), batched=True)(data, theta0, 0.01, 1e8)
    for i, mu in enumerate(mus):
        single = hitting_times(bump, bump.data({"mu": mu}), A0, W0, delta=0.01, t1=1e8)
        assert abs(float(out["tau"][i, 0]) / single.tau_param - 1) <= 1e-8
        assert abs(float(out["tau"][i, 1]) / single.tau_loss - 1) <= 1e-8


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["kvaerno3", "kencarp4", "kencarp5", "tsit5"])
def test_other_solvers_agree(bump, solver):
    data = bump.data({"mu": 8.0})
    ref = hitting_times(bump, data, A0, W0, delta=0.01, t1=1e8)
    r = hitting_times(bump, data, A0, W0, delta=0.01, t1=1e8, config=SolverConfig(solver=solver))
    assert r.status == "ok"
    assert abs(r.tau_loss / ref.tau_loss - 1) <= 1e-6


def test_bad_starts_are_refused(bump):
    data = bump.data({"mu": 8.0})
    with pytest.raises(memdyn.InputError, match="w0: decay rates must be positive, got -0.5 at index 1"):
        hitting_times(bump, data, [1, 0], [1, -0.5], delta=0.1)
    with pytest.raises(memdyn.InputError, match="w0: has 1 values but a0 has 2"):
        hitting_times(bump, data, [1, 0], [1], delta=0.1)
    with pytest.raises(memdyn.InputError, match="a0: must be finite"):
        hitting_times(bump, data, [np.nan, 0], [1, 1], delta=0.1)
    with pytest.raises(memdyn.InputError, match="delta"):
        hitting_times(bump, data, [1, 0], [1, 1], delta=0.0)
    with pytest.raises(memdyn.InputError, match="t1"):
        hitting_times(bump, data, [1, 0], [1, 1], delta=0.1, t1=1e31)
    with pytest.raises(memdyn.InputError, match="solver"):
        SolverConfig(solver="euler")


def test_horizon_of_1e15(bump):
    """A plateau problem whose threshold is never reached runs to t1 = 1e15 in few steps."""
    data = bump.data({"mu": 16.0})
    r = hitting_times(bump, data, A0, W0, delta=10.0, t1=1e15)
    assert (r.tau_param, r.tau_loss, r.status) == (None, None, "t1_reached")
    assert r.t_end == 1e15
    assert r.steps < 5000
    assert r.loss_final < r.loss_initial
