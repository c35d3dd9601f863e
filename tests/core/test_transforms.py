"""Every Laplace transform memdyn lowers, checked against mpmath quadrature at 30 digits.

For each target family: L(w) = int e^{-wt} rho, L'(w) = -int t e^{-wt} rho and
L''(w) = int t^2 e^{-wt} rho at 24 log-uniform random decay rates w in [0.02, 20] plus
far-memory points (bumps out to 1/omega = 40, decay rates down to 0.005 for power-law tails).
The error is taken relative to int t^k e^{-wt} |rho| dt (for a positive rho, the plain relative
error; for an oscillating one, relative to the size of the integrand, since L' can pass through
zero) and must be <= 1e-10. A reference below float64's range (< 1e-300) must come out as such.

Known limit, measured in ``test_large_rate_precision_loss``: the closed-form *derivatives* of a
bump's transform cancel for w >> mu/sigma^2 (erfcx's asymptotic terms against polynomials), losing
digits like (w sigma^2 - mu)^(k+2); decay rates that large are far outside what flows visit.
"""

import jax
import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import integrate

import memdyn
from memdyn.core.formula import T
from memdyn.core.stable import plain
from memdyn.studies.reference import mpmath_laplace

RNG = np.random.default_rng(20261126)
W_RANDOM = np.exp(RNG.uniform(np.log(0.02), np.log(20.0), 24))

FAMILIES = [
    # (id, formula, params, extra w points, mpmath breakpoints, sign-changing);
    # a bump (centre, width) as breakpoints: the integrand e^{-wt} bump peaks at centre - w width^2.
    ("exp-sum", "2*exp(-3*t) - exp(-0.5*t) + 0.25*exp(-10*t)", {}, [], [], True),
    ("bump-omega-10", "0.5*exp(-(t - 1/omega)**2/2)", {"omega": 0.1}, [10.0, 20.0], (10.0, 1.0), False),
    ("bump-omega-40", "0.5*exp(-(t - 1/omega)**2/2)", {"omega": 0.025}, [20.0, 40.0, 80.0], (40.0, 1.0), False),
    (
        "bump-general",
        "c*exp(-(t - mu)**2/(2*sigma**2))",
        {"c": 0.7, "mu": 30.0, "sigma": 2.0},
        [7.5, 10.0],
        (30.0, 2.0),
        False,
    ),
    ("exp+bump-far", "exp(-t) + 0.5*exp(-(t - mu)**2/2)", {"mu": 40.0}, [40.0], (40.0, 1.0), False),
    ("power-law-sym", "(1 + t/s)^(-p)", {"s": 2.0, "p": 1.5}, [0.005, 0.01], [1.0, 10.0, 100.0, 1000.0], False),
    ("power-law-3/2", "(1 + t)^(-1.5)", {}, [0.005, 0.01], [1.0, 10.0, 100.0, 1000.0], False),
    ("damped-osc", "exp(-a*t)*cos(b*t)", {"a": 0.5, "b": 3.0}, [], [5.0, 20.0], True),
    # airy: the one quadrature-only family, 16 s of mpmath on 2 cores: with the slow tests
    pytest.param("airy", "airyai(2.25*(t - 3))", {}, [], [1.0, 3.0, 6.0], True, marks=pytest.mark.slow, id="airy"),
    ("products", "t*exp(-t)*sin(2*t) + exp(-2*t)*(1 + t)^(-2)", {}, [], [5.0, 20.0], True),
]


def _abs_scale(rho_np, w, k, points):
    """int t^k e^{-wt} |rho| dt: only the size against which an error is measured."""
    f = lambda t: t**k * np.exp(-w * t) * abs(rho_np(t))  # noqa: E731
    edges = [0.0, *points]
    finite = sum(integrate.quad(f, a, b, limit=200)[0] for a, b in zip(edges[:-1], edges[1:]))
    return finite + integrate.quad(f, edges[-1], np.inf, limit=200)[0]


def _breakpoints(breaks, w):
    if isinstance(breaks, tuple):  # a bump (centre, width)
        centre, width = breaks
        peak = centre - w * width**2
        return sorted({max(p, 0.0) for p in (peak - 8 * width, peak, peak + 8 * width, centre)} - {0.0})
    return breaks


@pytest.mark.parametrize(
    "name, formula, params, extra, breaks, signed", FAMILIES, ids=[getattr(f, "id", None) or f[0] for f in FAMILIES]
)
def test_transforms_match_mpmath(name, formula, params, extra, breaks, signed):
    tg = memdyn.target(formula, params)
    data = tg.data(params)
    ws = np.concatenate([W_RANDOM, extra])
    L, d1, d2 = (np.asarray(x) for x in jax.jit(tg.transforms)(jax.numpy.asarray(ws), data))
    rho = tg.kernel.substitute(params)
    rho_np = sp.lambdify(T, rho, modules=["scipy", "numpy"])
    for k, got in enumerate((L, -d1, d2)):
        for w, value in zip(ws, got):
            points = _breakpoints(breaks, w)
            ref = mpmath_laplace(rho, w, order=k, breakpoints=points, dps=20)
            scale = _abs_scale(rho_np, w, k, points) if signed else abs(ref)
            if abs(ref) < 1e-300:  # below float64's normal range: must underflow, not blow up
                assert abs(value) < 1e-290
                continue
            err = float(abs(value - ref) / scale)
            assert err <= 1e-10, f"{name}: order {k}, w = {w}: memdyn {value!r}, mpmath {mpmath.nstr(ref, 17)}"


def test_families_take_the_documented_path():
    rows = [getattr(f, "values", f) for f in FAMILIES]  # a pytest.param's values
    methods = {name: [tt.method for tt in memdyn.target(f, p).derivation.terms] for name, f, p, *_ in rows}
    assert set(methods["bump-omega-40"]) == {"closed form"}
    assert set(methods["power-law-3/2"]) == {"closed form"}
    assert set(methods["airy"]) == {"quadrature"}
    assert set(methods["power-law-sym"]) == {"quadrature"}  # uppergamma(1 - p, .) has no stable JAX form


def test_the_printed_sympy_form_is_the_trap_the_stable_form_avoids():
    """SymPy's own form of the far bump's transform is 0 * inf in float64; the stable one is not."""
    tg = memdyn.target("0.5*exp(-(t - mu)**2/2)", {"mu": 40.0})
    (tt,) = tg.derivation.terms
    W = sp.Symbol("w", positive=True)
    printed = sp.laplace_transform(tt.term, T, W, noconds=True)
    naive = sp.lambdify((W, tg.kernel.params[0]), printed, modules=["scipy", "numpy"])
    with np.errstate(all="ignore"):
        naive_value = naive(20.0, 40.0)
    stable = float(jax.jit(tg.transforms)(jax.numpy.asarray([20.0]), tg.data({"mu": 40.0}))[0][0])
    ref = float(mpmath_laplace(tg.kernel.substitute({"mu": 40.0}), 20.0, breakpoints=_breakpoints((40.0, 1.0), 20.0)))
    assert not np.isfinite(naive_value) or abs(naive_value - ref) > 0.5 * ref
    assert abs(stable - ref) <= 1e-12 * ref
    assert "experfc" in str(tt.laplace) and "erfc" in str(plain(tt.laplace))


def test_norm_matches_mpmath():
    for formula, params, breaks in [
        ("exp(-t) + 0.5*exp(-(t - mu)**2/2)", {"mu": 40.0}, [40.0]),
        ("airyai(2.25*(t - 3))", {}, [3.0, 6.0]),
        ("(1 + t/s)^(-p)", {"s": 2.0, "p": 1.5}, [1.0, 10.0, 100.0]),
    ]:
        tg = memdyn.target(formula, params)
        f = sp.lambdify(T, tg.kernel.substitute(params), "mpmath")
        with mpmath.workdps(30):
            ref = mpmath.quad(lambda t: f(t) ** 2, [0, *breaks, mpmath.inf])
        assert abs(float(tg.data(params).norm2) - ref) <= 1e-10 * ref


def test_large_rate_precision_loss():
    """Documents the limit above: sigma = 2, mu = 30 at w = 33 (w sigma^2 - mu = 103)."""
    params = {"c": 0.7, "mu": 30.0, "sigma": 2.0}
    tg = memdyn.target("c*exp(-(t - mu)**2/(2*sigma**2))", params)
    rho = tg.kernel.substitute(params)
    L, d1, d2 = (float(x[0]) for x in jax.jit(tg.transforms)(jax.numpy.asarray([33.0]), tg.data(params)))
    errors = []
    for k, value in enumerate((L, -d1, d2)):
        ref = mpmath_laplace(rho, 33.0, order=k, breakpoints=_breakpoints((30.0, 2.0), 33.0), dps=20)
        errors.append(float(abs(value - ref) / abs(ref)))
    # Measured: 4e-17, 3.8e-13 and 5.9e-10: the derivatives lose digits to cancellation, the second most.
    assert errors[0] <= 1e-15  # the transform itself stays exact
    assert errors[1] <= 2e-12
    assert errors[2] <= 2e-9  # the second derivative keeps 9 digits there
