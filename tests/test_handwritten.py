"""References that share nothing with memdyn: the loss, gradient and Hessian written out by hand
(tests/handwritten.py, from the closed-form Laplace transforms) and flows integrated by SciPy on that
right-hand side, against memdyn's derivation, lowering and solves; and the parser's precedence against
kernels coded by hand in mpmath. A wrong sign in a derived term, a lost factor or a precedence slip
fails here, where a reference built on memdyn's own right-hand side would agree with it."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

import memdyn
from memdyn.core.formula import T

from . import handwritten as hw

BUMP3 = "exp(-3*t) + 0.5*exp(-(t - mu)**2/2)"
POINTS = ([1.0, 0.0, 3.0, 0.8], [0.7, -0.3, 2.5, 0.4], [1.2, 0.5, 0.6, 45.0])
"""On M* (a null neuron), off it, and a rate far above the bump's (the stable form's far branch)."""


def _relative(got, ref) -> float:
    got, ref = np.asarray(got, dtype=float), np.asarray(ref, dtype=float)
    return float(np.max(np.abs(got - ref)) / max(np.max(np.abs(ref)), 1e-300))


@pytest.mark.parametrize("family", [hw.Bump(10.0, V=3.0), hw.PowerLaw(1.5)], ids=["bump", "power"])
def test_the_handwritten_derivatives_are_the_derivatives_of_the_handwritten_loss(family):
    """The reference checks itself: central differences of J (mpmath at 40 digits, on the float64 J)
    against the hand gradient, and of the hand gradient against the hand Hessian."""
    theta = np.array([0.7, -0.3, 2.5, 0.4])
    h = 1e-5
    for k in range(4):
        e = np.zeros(4)
        e[k] = h
        fd_grad = (hw.loss(family, theta + e) - hw.loss(family, theta - e)) / (2 * h)
        assert fd_grad == pytest.approx(hw.gradient(family, theta)[k], rel=1e-7, abs=1e-9)
        fd_hess = (hw.gradient(family, theta + e) - hw.gradient(family, theta - e)) / (2 * h)
        np.testing.assert_allclose(fd_hess, hw.hessian(family, theta)[:, k], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mu", [10.0, 40.0])
def test_memdyns_loss_gradient_and_hessian_equal_the_handwritten_ones_for_the_bump(mu):
    """Measured: loss and gradient within 2.3e-16, Hessian within 1.6e-16 (relative to the largest entry),
    at 1/omega = 10 and 40, on and off M* and at a rate of 45."""
    family = hw.Bump(mu, V=3.0)
    for theta in POINTS:
        out = memdyn.evaluate(BUMP3, params={"mu": mu}, a0=theta[:2], w0=theta[2:], hessian=True)
        assert abs(out["loss"] / hw.loss(family, theta) - 1) <= 1e-15
        assert _relative(out["grad_a"] + out["grad_w"], hw.gradient(family, theta)) <= 1e-15
        assert _relative(out["hessian"], hw.hessian(family, theta)) <= 1e-15


def test_memdyns_loss_gradient_and_hessian_equal_the_handwritten_ones_for_a_power_law():
    """(1 + t)^-1.5: SymPy's transform is an incomplete gamma memdyn lowers in its own way; the hand one
    is mpmath's at 50 digits. Measured: within 5e-15."""
    family = hw.PowerLaw(1.5)
    for theta in ([0.2, 2.0], [0.5, -0.2, 0.5, 3.0]):
        m = len(theta) // 2
        out = memdyn.evaluate("(1+t)^(-1.5)", a0=theta[:m], w0=theta[m:], hessian=True)
        assert abs(out["loss"] / hw.loss(family, theta) - 1) <= 2e-14
        assert _relative(out["grad_a"] + out["grad_w"], hw.gradient(family, theta)) <= 2e-14
        assert _relative(out["hessian"], hw.hessian(family, theta)) <= 2e-14


FLOWS = [
    # (1/omega, the reference's rtol, the tolerance; measured agreement of (tau_param, tau_loss) beside)
    pytest.param(10.0, 1e-12, 5e-9, id="mu10"),  # tau_loss 1.3e3: 5.6e-11, 4.8e-10
    pytest.param(16.0, 1e-12, 5e-8, id="mu16"),  # 4.5e6: 5.7e-9, 2.6e-9
    pytest.param(24.0, 1e-12, 3e-7, id="mu24"),  # 6.3e11: 3.5e-8, 1.9e-8
    # 1.2e17, past float64's absolute clock: the reference's own error dominates here, falling as its
    # tolerance tightens (9.5e-7 at rtol 1e-10, 3.5e-7 at 1e-11, 1.3e-7 at 1e-12 in 36 s)
    pytest.param(32.0, 1e-11, 1e-6, id="mu32"),
]


@pytest.mark.parametrize("mu, rtol, tolerance", FLOWS)
def test_memdyns_hitting_times_equal_scipy_on_the_handwritten_flow(mu, rtol, tolerance):
    """Both hitting times from (1, 0 | 3, 0.8) on exp(-3t) + 0.5 exp(-(t - mu)^2/2): memdyn's solve
    (restarted clocks, Kvaerno5) against SciPy's LSODA in log time on the hand-written gradient and Hessian."""
    ref = hw.hitting_times(hw.Bump(mu, V=3.0), [1.0, 0.0, 3.0, 0.8], 0.01, rtol=rtol)
    res = memdyn.flow(BUMP3, params={"mu": mu}, a0=[1, 0], w0=[3, 0.8], delta=0.01)
    assert res.ok
    assert abs(res.tau_param / ref[0] - 1) <= tolerance and abs(res.tau_loss / ref[1] - 1) <= tolerance


TRAPS = [
    # (formula, the kernel coded by hand, what it must not be read as)
    ("-t^2", lambda t: -(t**2), "(-t)^2"),
    ("2^-t", lambda t: mp.power(2, -t), "(2^-1)*t"),
    ("exp(-t)/2*t", lambda t: mp.exp(-t) / 2 * t, "exp(-t)/(2t)"),
    ("(1+t)^(-3/2)", lambda t: (1 + t) ** mp.mpf(-1.5), "integer division 3/2 = 1"),
    ("E**-t*cos(2*pi*t)", lambda t: mp.exp(-t) * mp.cos(2 * mp.pi * t), "E**(-t*cos(...))"),
    ("2^3^t", lambda t: mp.power(2, mp.power(3, t)), "(2^3)^t: powers associate to the right"),
    ("-2^2*t", lambda t: -4 * t, "(-2)^2 t"),
]


@pytest.mark.parametrize("formula, by_hand, not_this", TRAPS, ids=[t[0] for t in TRAPS])
def test_the_parser_reads_precedence_as_mathematics(formula, by_hand, not_this):
    kernel = memdyn.parse_kernel(formula)
    parsed = sp.lambdify(T, kernel.expr, "mpmath")
    with mp.workdps(30):
        for t in (mp.mpf("0.3"), mp.mpf("1.7"), mp.mpf(2)):
            assert abs(parsed(t) - by_hand(t)) <= mp.mpf(10) ** -25 * max(1, abs(by_hand(t))), (formula, not_this)
