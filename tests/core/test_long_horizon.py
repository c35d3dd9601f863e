"""Plateaus longer than float64's clock resolves, up to 1e29: the restarted clock of memdyn.core.solve and
the centred flow (memdyn.core.loss.centred_gradient) against independent solves.

At t ~ 1e17 the spacing of doubles is 16, while the escape that ends the plateau takes steps of O(1): a
solve on one absolute clock ended in ``max_steps_reached`` there. Past tau ~ 1e20 a second limit met the
plain flow: the null neuron's plateau amplitude is a residue of O(1) overlaps, within ~100 ulp of them, so
in plain coordinates the flow itself was not determined (1/omega = 44 ran out of steps). Start (a, w) =
(1, 0 | 3, 0.8) on exp(-3t) + 0.5 exp(-(t - mu)^2/2), the sharp-escape start.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

import memdyn
from memdyn.core.integrate import hitting_times
from memdyn.core.loss import anchor, centred_gradient, gradient
from memdyn.studies.reference import scipy_long_hitting_times

from .. import handwritten as hw

RHO3 = "exp(-3*t) + 0.5*exp(-(t - mu)**2/2)"
START = [1.0, 0.0, 3.0, 0.8]


@pytest.mark.parametrize("mu", [pytest.param(32.0, marks=pytest.mark.slow), 34.0])  # 32: 14 s
def test_hitting_times_beyond_1e16_agree_with_scipy_with_restarts(mu):
    tg = memdyn.target(RHO3, {"mu": mu})
    data = tg.data({"mu": mu})
    ours = hitting_times(tg, data, START[:2], START[2:], delta=0.01, t1=1e30)
    ref = scipy_long_hitting_times(tg, data, START[:2], START[2:], delta=0.01, t1=1e30, method="LSODA", rtol=1e-10)
    assert ours.status == "ok" and ref["restarts"] >= 1
    assert ours.tau_loss > 1e17
    # Measured (both centred, both at rtol 1e-10): 8.5e-8 and 1.3e-7 at 1/omega = 32, 1.1e-7 and 1.5e-7 at
    # 34; each is within 1e-7 of the hand-written reference below, so this is the two solvers' error.
    # (In plain coordinates the two disagreed by up to 1e-6: the flow's own float64 floor there.)
    assert ours.tau_param == pytest.approx(ref["tau_param"], rel=3e-7)
    assert ours.tau_loss == pytest.approx(ref["tau_loss"], rel=3e-7)


@pytest.mark.parametrize("mu", [32.0, 44.0, 50.0])
def test_plateaus_to_1e29_end_ok_and_agree_with_the_handwritten_centred_flow(mu):
    """memdyn.flow at its defaults against tests/handwritten.py's centred flow (no SymPy, no lowering, the
    overlaps' differences written by hand in another form) by SciPy's LSODA in log time at rtol 1e-12.
    Measured: 2.4e-8 and 5.1e-8 at 1/omega = 32; 4.7e-8 and 7.0e-8 at 44 (tau ~ 1e25); 6.3e-8 and 8.0e-8 at
    50 (tau ~ 1.5e29). memdyn at rtol 1e-12 comes within 3e-9, Rodas4 at 1e-12 within 1.2e-10: the
    difference is memdyn's step error at rtol 1e-10, converging."""
    ours = memdyn.flow(RHO3, params={"mu": mu}, a0=START[:2], w0=START[2:], delta=0.01)
    ref = hw.centred_hitting_times(hw.Bump(mu, V=3.0), START, 0, 0.01)
    assert ours.ok
    assert ours.tau_param == pytest.approx(ref[0], rel=2e-7)
    assert ours.tau_loss == pytest.approx(ref[1], rel=2e-7)
    if mu == 50.0:
        assert ours.tau_loss > 1e29


@pytest.mark.parametrize("mu", [44.0, 50.0, 60.0])
def test_the_centred_gradient_on_a_plateau_is_exact_where_the_plain_one_is_noise(mu):
    """At a plateau state theta = anchor + d, the gradient against 60-digit mpmath of the plain formulas at
    the exact sum anchor + d: memdyn's centred gradient and the hand-written one agree to 1e-13 in every
    component (measured 2.4e-15 at 1/omega = 44, 7e-15 at 50 and 60), while the plain float64 gradient is
    off by 4e-3 (44), 25% (50) and 100% (60) in its worst component."""
    tg = memdyn.target(RHO3, {"mu": mu})
    data = tg.data({"mu": mu})
    fam = hw.Bump(mu, V=3.0)
    origin = np.array([1.0, 0.0, 3.0, 0.0])
    a2 = 0.5 * fam.c * fam.s * math.sqrt(2 * math.pi) * float(fam._E(np.array(0.7))[0]) * 1.4  # ~ 2 w L_bump(w)
    d = np.array([-0.6 * a2, a2, 5 * a2, 0.7])
    with mp.workdps(60):
        exact = hw.precise_gradient(fam, [mp.mpf(x) + mp.mpf(y) for x, y in zip(origin, d)])
        exact = np.array([float(x) for x in exact])
    at = anchor(tg, data, np.array(START))
    assert np.array_equal(np.asarray(at.theta), origin)
    centred = np.asarray(centred_gradient(tg, data, at, d))
    handwritten = hw.centred_gradient(fam, 0, d)
    plain = np.asarray(gradient(tg, data, origin + d))
    scale = np.abs(exact)
    assert np.all(np.abs(centred - exact) <= 1e-13 * scale)
    assert np.all(np.abs(handwritten - exact) <= 1e-13 * scale)
    assert np.max(np.abs(plain - exact) / scale) > 1e-3  # the residues plain float64 cannot hold


def test_horizons_up_to_1e30_are_accepted_and_beyond_refused():
    from memdyn.core.integrate import check_horizon
    from memdyn.errors import InputError

    check_horizon(0.01, 1e30)
    with pytest.raises(InputError, match="t1"):
        check_horizon(0.01, 1e31)


def test_a_threshold_out_of_reach_ends_restarts_exhausted_not_max_steps():
    """From (1, 0 | 3, 0.6) at 1/omega = 60 the null neuron escapes (tau_param 7e25) and then drifts towards
    w = 0, the loss levelling off just short of delta = 0.01 (one null neuron captures at most about 0.58/mu
    of the bump's energy). The clock restarts until the segments run out, far inside the step budget: the
    status says so, and its advice points at delta, not at max_steps."""
    r = memdyn.flow(RHO3, params={"mu": 60.0}, a0=[1.0, 0.0], w0=[3.0, 0.6], delta=0.01)
    assert r.status == "restarts_exhausted" and not r.ok
    assert r.tau_param is not None and r.tau_loss is None
    assert r.steps < memdyn.SolverConfig().max_steps / 10  # measured 3,913 of 200,000
    assert 0.009 < r.loss_initial - r.loss_final < 0.01  # measured 0.009845
    assert "lower delta" in r.status.advice and "max_steps" not in r.status.advice
