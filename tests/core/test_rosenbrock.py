"""Rodas4, the linearly implicit solver given the flow's Jacobian: its order on problems with known
solutions, its hitting times against the hand-written SciPy reference and against Kvaerno5, the hard
start, and answers that do not depend on the batch."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sl

import memdyn
from memdyn.core.rosenbrock import JacobianTerm, Rodas4, lu_factor, lu_solve

from .. import handwritten as hw

BUMP3 = "exp(-3*t) + 0.5*exp(-(t - mu)**2/2)"


def _constant_steps(term, y0, t1, n, **saveat):
    return diffrax.diffeqsolve(
        term,
        Rodas4(),
        0.0,
        jnp.asarray(t1),
        jnp.asarray(t1 / n),  # arrays, not Python floats: one compiled solve for every n
        y0,
        stepsize_controller=diffrax.ConstantStepSize(),
        saveat=diffrax.SaveAt(t1=True, **saveat),
        max_steps=1000,
    )


def test_order_4_on_a_stiff_linear_system():
    """y' = M y (eigenvalues -1..-50) against expm: halving the step divides the error by 2^4
    (measured ratios 16.3, 16.1, 16.1)."""
    M = np.array([[-1.0, 2.0, 0.0], [0.0, -50.0, 1.0], [0.5, 0.0, -3.0]])
    y0 = np.array([1.0, 0.5, -0.2])
    exact = sl.expm(M) @ y0
    term = diffrax.ODETerm(lambda t, y, args: jnp.asarray(M) @ y)
    errs = [np.max(np.abs(_constant_steps(term, jnp.asarray(y0), 1.0, n).ys[-1] - exact)) for n in (10, 20, 40, 80)]
    ratios = np.array(errs[:-1]) / np.array(errs[1:])
    assert np.all((ratios > 15.0) & (ratios < 17.5)), ratios


def test_order_4_and_a_third_order_dense_output_on_a_non_autonomous_problem():
    """y' = y cos t, y = exp(sin t): the end point converges at order >= 4 (df/dt enters the stages)
    and the dense output inside a step at order 3 (local error h^4: ratios 19, 17, 16.6 measured)."""
    term = diffrax.ODETerm(lambda t, y, args: y * jnp.cos(t))
    end, mid = [], []
    for n in (10, 20, 40, 80):
        sol = _constant_steps(term, jnp.array([1.0]), 3.0, n, dense=True)
        s = 0.87 * 3.0 / n  # inside the first step
        end.append(abs(float(sol.ys[-1][0]) - np.exp(np.sin(3.0))))
        mid.append(abs(float(sol.evaluate(s)[0]) - np.exp(np.sin(s))))
    assert np.all(np.array(end[:-1]) / np.array(end[1:]) > 15.0)
    dense = np.array(mid[:-1]) / np.array(mid[1:])
    assert np.all((dense > 15.0) & (dense < 20.0)), dense


def test_a_very_stiff_problem_with_steps_far_beyond_its_time_scale():
    """Prothero-Robinson, y' = lambda (y - sin t) + cos t with lambda = -1e4 (y = sin t) and a given
    Jacobian: steps 125 to 1000 times the stiff time scale stay within 3e-7 (L-stability; measured 2.2e-7
    at 10 steps, falling with the step as Rosenbrock methods' order reduction allows)."""
    lam = -1e4
    term = JacobianTerm(lambda t, y, args: lam * (y - jnp.sin(t)) + jnp.cos(t), lambda t, y, args: lam * jnp.eye(1))
    errs = [abs(float(_constant_steps(term, jnp.array([0.0]), 1.0, n).ys[-1][0]) - np.sin(1.0)) for n in (10, 80)]
    assert errs[0] < 3e-7 and errs[1] < errs[0] / 5


def test_the_step_uses_the_jacobian_it_is_given():
    """Prothero-Robinson again, with a field autodiff sees as constant in y (``stop_gradient``): given
    its Jacobian, the step is the same as above; left to autodiff, it would be an explicit step 1,000
    times the stable one. Diffrax hands solvers their term wrapped (``WrapTerm``), which once hid the
    given Jacobian from the step."""
    lam = -1e4

    def field(t, y, args):
        return lam * (jax.lax.stop_gradient(y) - jnp.sin(t)) + jnp.cos(t)

    given = JacobianTerm(field, lambda t, y, args: lam * jnp.eye(1))
    err = abs(float(_constant_steps(given, jnp.array([0.0]), 1.0, 10).ys[-1][0]) - np.sin(1.0))
    assert err < 3e-7
    blind = diffrax.ODETerm(field)
    assert not abs(float(_constant_steps(blind, jnp.array([0.0]), 1.0, 10).ys[-1][0]) - np.sin(1.0)) < 1.0


def test_backwards_in_time_and_the_autonomous_shortcut():
    """y' = -2 t y (y = exp(-t^2)) from t = 1 back to 0, with the Jacobian given and by autodiff: fourth
    order (errors at 20, 40, 80 steps measured 1.2e-7, 8.2e-9, 5.3e-10: ratios 14.8 and 15.5; a step
    that missed the reversed clock's sign integrates y' = 2 t y, error 0.86). And y' = M y declared
    autonomous agrees to the last bits with the same step not declared so (its time derivative is zero
    either way)."""

    def field(t, y, args):
        return -2.0 * t * y

    for term in (diffrax.ODETerm(field), JacobianTerm(field, lambda t, y, args: -2.0 * t * jnp.eye(1))):
        errs = []
        for n in (20, 40, 80):
            sol = diffrax.diffeqsolve(
                term,
                Rodas4(),
                1.0,
                0.0,
                jnp.asarray(-1.0 / n),
                jnp.array([np.exp(-1.0)]),
                stepsize_controller=diffrax.ConstantStepSize(),
                max_steps=100,
            )
            errs.append(abs(float(sol.ys[-1][0]) - 1.0))
        ratios = np.array(errs[:-1]) / np.array(errs[1:])
        assert np.all((ratios > 14.0) & (ratios < 17.5)) and errs[-1] < 1e-9, errs

    M = jnp.array([[-1.0, 2.0], [0.0, -50.0]])
    ends = [
        _constant_steps(
            JacobianTerm(lambda t, y, args: M @ y, lambda t, y, args: M, autonomous=a), jnp.ones(2), 1.0, 10
        ).ys[-1]
        for a in (False, True)
    ]
    np.testing.assert_allclose(np.asarray(ends[1]), np.asarray(ends[0]), rtol=1e-15, atol=0)


def test_the_pivoted_lu_solves_what_numpy_solves():
    """Including a zero leading entry (pivoting needed) and a 40 x 40 system (width 20)."""
    rng = np.random.default_rng(0)
    for n in (2, 4, 7, 40):
        M = rng.normal(size=(n, n))
        M[0, 0] = 0.0
        b = rng.normal(size=n)
        x = np.asarray(lu_solve(lu_factor(jnp.asarray(M)), jnp.asarray(b)))
        np.testing.assert_allclose(x, np.linalg.solve(M, b), rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("mu, tolerance", [(10.0, 1e-9), (16.0, 1e-8)])
def test_hitting_times_equal_scipy_on_the_handwritten_flow(mu, tolerance):
    """Both hitting times from (1, 0 | 3, 0.8): Rodas4 (given the centred field's Jacobian) against SciPy's LSODA on the
    hand-written gradient and Hessian (rtol 1e-12). Measured (tau_param, tau_loss): 3.8e-12, 4.8e-10 at 10;
    5.7e-9, 2.7e-9 at 16 (Kvaerno5 measures 5.6e-11, 4.8e-10 and 5.7e-9, 2.6e-9: the reference's own error)."""
    ref = hw.hitting_times(hw.Bump(mu, V=3.0), [1.0, 0.0, 3.0, 0.8], 0.01, rtol=1e-12)
    res = memdyn.flow(BUMP3, params={"mu": mu}, a0=[1, 0], w0=[3, 0.8], delta=0.01, solver="rodas4")
    assert res.ok
    assert abs(res.tau_param / ref[0] - 1) <= tolerance and abs(res.tau_loss / ref[1] - 1) <= tolerance


def test_hitting_times_equal_kvaerno5s():
    """At 1/omega = 14 (tau_loss 2.5e5) the two solvers agree to 1e-10 at rtol 1e-10 (measured 2.7e-13 and
    7.7e-12); Kvaerno5 is the less accurate of the two there (bench: work-precision)."""
    kw = dict(params={"mu": 14.0}, a0=[1, 0], w0=[3, 0.8], delta=0.01)
    ours, theirs = memdyn.flow(BUMP3, solver="rodas4", **kw), memdyn.flow(BUMP3, **kw)
    assert ours.ok and abs(ours.tau_param / theirs.tau_param - 1) <= 1e-10
    assert abs(ours.tau_loss / theirs.tau_loss - 1) <= 1e-10


def test_coinciding_neurons_stay_put():
    """On M* without the bump, neurons 1 and 2 share w = 1 (the start that stalls a chord iteration, and a
    singular Hessian): the flow stays put to t = 1e8 and the loss does not move."""
    hard = memdyn.flow(
        "exp(-t) + 0.5*exp(-3*t)", a0=[0.4, 0.6, 0.5], w0=[1.0, 1.0, 3.0], delta=1e-6, t1=1e8, solver="rodas4"
    )
    assert str(hard.status) == "t1_reached" and hard.tau_param is None
    assert abs(hard.loss_final - hard.loss_initial) <= 1e-15


@pytest.mark.slow  # compiles Rodas4's batched solve at three batch sizes: 37 s with empty caches
def test_an_elements_answer_does_not_depend_on_its_batch():
    """mu = 8 in a batch of its own, and beside a neighbour that runs out of steps (mu = 10 with a budget
    of 1,500 steps a solve, which mu = 8 keeps within): the same hitting times, step count and status to
    the last bit. (Kvaerno5 differs in this situation: its LAPACK factorisations and Newton iterations
    change in the last bit with the batch, which a long plateau amplifies: 2.4e-8 in its hitting time at
    tau = 5.6e15.) ``memdyn.flow`` runs an unbatched program, whose arithmetic XLA orders differently: it
    agrees to 1e-12 (measured 4e-13)."""
    kw = dict(a0=[1.0, 0.0], w0=[3.0, 0.8], delta=0.01, solver="rodas4", max_steps=1500)
    alone = memdyn.sweep(BUMP3, "mu", [8.0], **kw)
    pair = memdyn.sweep(BUMP3, "mu", [10.0, 8.0], **kw)
    assert [str(s) for s in alone.status] == ["ok"] and [str(s) for s in pair.status] == ["max_steps_reached", "ok"]
    assert pair.tau_param[1] == alone.tau_param[0] and pair.tau_loss[1] == alone.tau_loss[0]
    assert pair.steps[1] == alone.steps[0]
    flow = memdyn.flow(BUMP3, params={"mu": 8.0}, **kw)
    assert abs(flow.tau_param / alone.tau_param[0] - 1) <= 1e-12 and abs(flow.tau_loss / alone.tau_loss[0] - 1) <= 1e-12


def test_the_derived_hessian_is_minus_the_flows_jacobian_off_a_plateau(bump_target):
    """The flow's Jacobian (autodiff of the centred field, which Rodas4 is given) against minus the Hessian
    derived in SymPy, away from a plateau, where float64 holds the plain overlaps (on a long one it does
    not: ``Centred.hessian``)."""
    from memdyn.core.loss import hessian
    from memdyn.core.solve import Centred

    data = bump_target.data({"mu": 10.0})
    theta = jnp.array([0.9, 0.05, 1.1, 0.6])
    coords = Centred(bump_target)
    _, jac = coords.flow()
    at = coords.anchor(data, jnp.array([1.0, 0.0, 1.0, 0.5]))
    args = (data, at, None)
    d = theta - at.theta
    given = jax.jit(lambda y: jac(0.0, y, args))(d)
    derived = jax.jit(lambda y: -hessian(bump_target, data, at.theta + y))(d)
    np.testing.assert_allclose(np.asarray(given), np.asarray(derived), rtol=1e-13, atol=1e-15)
