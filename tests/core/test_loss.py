"""The assembled loss, gradient and Hessian, three ways: quadrature, autodiff and the unrolled oracle."""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import sympy as sp

import memdyn
from memdyn.core.formula import T
from memdyn.core.loss import gradient, hessian, loss
from memdyn.core.symbolic import W

CASES = [
    ("exp(-t) + 0.5*exp(-(t - mu)**2/2)", {"mu": 12.0}, [12.0]),
    ("exp(-t) + 0.5*exp(-(t - mu)**2/2)", {"mu": 40.0}, [40.0]),
    ("airyai(2.25*(t - 3))", {}, [3.0, 6.0]),
    ("exp(-a*t)*cos(b*t) + (1 + t)^(-1.5)", {"a": 0.5, "b": 3.0}, [5.0, 50.0]),
]
THETAS = [np.array([1.0, -0.3, 0.2, 1.0, 0.5, 2.0]), np.array([0.7, 0.7, 0.1, 0.05, 0.05, 3.0])]


@pytest.mark.parametrize("formula, params, breaks", CASES, ids=["bump12", "bump40", "airy", "osc+power"])
def test_loss_equals_quadrature_of_the_squared_residual(formula, params, breaks):
    tg = memdyn.target(formula, params)
    data = tg.data(params)
    rho = sp.lambdify(T, tg.kernel.substitute(params), "mpmath")
    for theta in THETAS:
        a, w = theta[:3], theta[3:]
        with mpmath.workdps(25):
            ref = mpmath.quad(
                lambda t: (sum(ai * mpmath.exp(-wi * t) for ai, wi in zip(a, w)) - rho(t)) ** 2,
                [0, 1, *breaks, mpmath.inf],
            )
        got = float(loss(tg, data, jnp.asarray(theta)))
        assert abs(got - ref) <= 5e-15 * max(1.0, abs(ref))  # achieved: 5.6e-16


@pytest.mark.parametrize("formula, params, breaks", CASES, ids=["bump12", "bump40", "airy", "osc+power"])
def test_symbolic_gradient_and_hessian_equal_autodiff(formula, params, breaks):
    tg = memdyn.target(formula, params)
    data = tg.data(params)
    for theta in THETAS:
        theta = jnp.asarray(theta)
        g = gradient(tg, data, theta)
        g_ad = jax.grad(lambda th: loss(tg, data, th))(theta)
        assert float(jnp.max(jnp.abs(g - g_ad))) <= 5e-15 * max(1.0, float(jnp.max(jnp.abs(g_ad))))  # 3.3e-16
        H = hessian(tg, data, theta)
        H_ad = jax.hessian(lambda th: loss(tg, data, th))(theta)
        assert float(jnp.max(jnp.abs(H - H_ad))) <= 5e-15 * max(1.0, float(jnp.max(jnp.abs(H_ad))))  # 4.5e-16
        assert float(jnp.max(jnp.abs(H - H.T))) == 0.0


def test_unrolled_oracle_matches_vectorised_code():
    """J and the flow written out symbol by symbol (m = 3) agree with the vectorised templates."""
    params = {"mu": 12.0}
    tg = memdyn.target("exp(-t) + 0.5*exp(-(t - mu)**2/2)", params)
    data = tg.data(params)
    a, w, J, ga, gw = tg.derivation.unrolled(3)
    theta = THETAS[0]
    subs = {**dict(zip(a, theta[:3])), **dict(zip(w, theta[3:])), tg.kernel.params[0]: 12}
    from memdyn.core.stable import plain

    def num(e):
        return float(sp.N(plain(e).subs(subs), 30))

    assert abs(num(J) - float(loss(tg, data, jnp.asarray(theta)))) <= 1e-12
    g = np.asarray(gradient(tg, data, jnp.asarray(theta)))
    assert np.allclose([num(x) for x in ga + gw], g, rtol=0, atol=1e-12)


def test_plateau_level_on_the_invariant_set():
    """On M* (rho_hat = e^{-t} exactly) J = ||bump||^2 = c^2 sigma sqrt(pi) (1 - erfc(mu/sigma)/2)."""
    mu = 20.0
    tg = memdyn.target("exp(-t) + 0.5*exp(-(t - mu)**2/2)", {"mu": mu})
    J = float(loss(tg, tg.data({"mu": mu}), jnp.asarray([1.0, 0.0, 1.0, 0.5])))
    with mpmath.workdps(30):
        ref = 0.25 * mpmath.sqrt(mpmath.pi) * (1 - mpmath.erfc(mu) / 2)
    assert abs(J - ref) <= 1e-13


def test_templates_are_derived_by_sympy():
    d = memdyn.target("exp(-t)").derivation
    U, V = sp.symbols("u v", positive=True)
    assert sp.simplify(d.pair[0] - 1 / (U + V)) == 0
    (tt,) = d.terms
    assert sp.simplify(tt.laplace - 1 / (W + 1)) == 0
    assert d.norm2 == sp.Rational(1, 2)


def test_float64_everywhere(x64):
    tg = memdyn.target("exp(-t)")
    data = tg.data()
    assert data.norm2.dtype == jnp.float64 and data.params.dtype == jnp.float64
    out = gradient(tg, data, jnp.asarray([1.0, 1.0]))
    assert out.dtype == jnp.float64


CENTRED_CASES = [
    ("exp(-t) + 0.5*exp(-(t - mu)**2/2)", {"mu": 12.0}, [1.0, 0.0, 0.3, 1.0, 0.5, 2.0], [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]),
    (
        "2*exp(-k*t) + 0.5*exp(-3*t) + (1 + t)^(-1.5)",
        {"k": 0.7},
        [1.8, 0.6, 0.0, 0.6, 2.5, 1.0],
        [2.0, 0.5, 0.0, 0.7, 3.0, 0.0],
    ),
    ("airyai(2.25*(t - 3))", {}, [1.0, -0.3, 0.2, 1.0, 0.5, 2.0], [0.0] * 6),
]


@pytest.mark.parametrize("formula, params, start, expected", CENTRED_CASES, ids=["bump", "two-exp+power", "no-exp"])
def test_the_centred_gradient_is_the_gradient_and_pairs_neurons_with_exponential_terms(
    formula, params, start, expected
):
    """anchor pairs each term c e^{-lambda t} with the nearest neuron at the start (a null neuron, a = 0, never),
    parameter-dependent rates included; away from a plateau the centred gradient equals the plain one (here
    to 1e-13 relative, at the start and at a point moved from it), with or without quadrature terms."""
    from memdyn.core.loss import anchor, centred_gradient

    tg = memdyn.target(formula, params)
    data = tg.data(params)
    at = anchor(tg, data, np.asarray(start))
    assert np.asarray(at.theta).tolist() == expected
    for theta in (np.asarray(start), np.asarray(start) + np.array([0.05, -0.02, 0.03, 0.1, -0.05, 0.2])):
        plain = np.asarray(gradient(tg, data, theta))
        centred = np.asarray(centred_gradient(tg, data, at, theta - np.asarray(at.theta)))
        np.testing.assert_allclose(centred, plain, rtol=1e-13, atol=1e-15 * np.max(np.abs(plain)))
