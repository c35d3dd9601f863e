"""Approximation errors against mpmath, the Jackson bound, and monotone best fits (first part)."""

import mpmath
import numpy as np
import pytest
import sympy as sp

import memdyn
from memdyn.core.formula import T
from memdyn.theory.approx import approximate, jackson_bound, jackson_network, lp_error

CASES = [
    ("exp(-t) + 0.5*exp(-(t - 6)**2/2)", [0.8, 0.3], [1.3, 0.2], [6.0]),
    ("(1 + t)^(-1.5)", [0.5, 0.4, 0.1], [2.0, 0.5, 0.05], [1.0, 10.0, 100.0]),
]


@pytest.mark.parametrize("formula, a, w, breaks", CASES, ids=["exp+bump", "power-law"])
def test_l1_and_l2_errors_match_mpmath(formula, a, w, breaks):
    tg = memdyn.target(formula)
    rho = sp.lambdify(T, tg.kernel.expr, "mpmath")

    def residual(t):
        return sum(ai * mpmath.exp(-wi * t) for ai, wi in zip(a, w)) - rho(t)

    with mpmath.workdps(25):
        # Split the L1 integral at the residual's sign changes, found on a grid and refined.
        grid = [mpmath.mpf(x) for x in np.geomspace(1e-4, 2000, 3000)]
        roots = [
            mpmath.findroot(residual, (g0, g1), solver="anderson")
            for g0, g1 in zip(grid[:-1], grid[1:])
            if residual(g0) * residual(g1) < 0
        ]
        pts = sorted(set([0, *roots, *breaks])) + [mpmath.inf]
        l1 = mpmath.quad(lambda t: abs(residual(t)), pts)
        l2 = mpmath.sqrt(mpmath.quad(lambda t: residual(t) ** 2, [0, *breaks, mpmath.inf]))
    assert abs(lp_error(tg, {}, a, w, p=1) / l1 - 1) <= 1e-8
    assert abs(lp_error(tg, {}, a, w, p=2) / l2 - 1) <= 1e-8


def test_jackson_construction_never_exceeds_its_bound():
    tg = memdyn.target("exp(-t)*(1 + sin(t))")
    for m in (1, 2, 4, 8):
        a, w = jackson_network(tg, {}, m, 1, 0.9)
        assert np.allclose(w, np.arange(1, m + 1) * 0.9 / 2)
        err = lp_error(tg, {}, a, w, p=1)
        assert err <= jackson_bound(tg, {}, m, 1, 0.9)


def test_best_fit_errors_are_non_increasing_in_m():
    tg = memdyn.target("(1 + t)^(-1.5)")
    out = approximate(tg, {}, [1, 2, 3]).to_json()
    assert out["m"] == [1, 2, 3]
    assert all(np.diff(out["l2_error"]) <= 1e-12)
    # The L2 error of the best fit equals sqrt(J) at the optimum (up to J's cancellation floor).
    assert out["l2_error"][-1] < 0.5 * out["l2_error"][0]


@pytest.mark.slow  # 20 s on 2 cores
def test_inverse_theorem_rates_kept_below_minus_beta():
    """Decay rates held >= 0.5: the fits stall for polynomial memory, converge for exponential memory."""
    poly = approximate(memdyn.target("(1 + t)^(-1.5)"), {}, [4, 8], min_rate=0.5).to_json()
    expo = approximate(memdyn.target("exp(-t)*(1 + 0.5*cos(t)) + 0.5*exp(-2*t)"), {}, [4, 8], min_rate=0.5).to_json()
    free = approximate(memdyn.target("(1 + t)^(-1.5)"), {}, [4, 8]).to_json()
    assert all(min(w) >= 0.5 - 1e-12 for w in poly["w"] + expo["w"])
    assert poly["l2_error"][1] / poly["l2_error"][0] > 0.6  # stalls: doubling m buys < 40%
    assert expo["l2_error"][1] / expo["l2_error"][0] < 0.4  # converges
    assert poly["l2_error"][1] > 10 * free["l2_error"][1]  # the unconstrained fit goes on improving


def test_approx_cli(capsys):
    from memdyn.cli import main

    assert main(["approx", "--rho", "exp(-t)*(1 + sin(t))", "--widths", "1,2", "--beta", "0.9", "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"m", "l2_error", "l1_error", "jackson_l1_error", "jackson_bound"}
    assert all(e <= b for e, b in zip(out["jackson_l1_error"], out["jackson_bound"]))
    assert main(["approx", "--rho", "exp(-t)", "--widths", "2", "--min-rate", "-1"]) == 2
    assert "--min-rate" in capsys.readouterr().err


def test_jackson_constants_and_rate_fit():
    from memdyn.theory.approx import jackson_constants, rate_fit

    k = jackson_constants(memdyn.target("exp(-2*t)"), {}, 1, 1.0)
    # sup_t e^{t} |d^j/dt^j e^{-2t}| / 1 = 2^j at t = 0: gamma = max(1, 2) = 2, and e^{t} e^{-2t} -> 0.
    assert abs(k["gamma"] - 2.0) < 1e-12 and k["decays"]
    assert not jackson_constants(memdyn.target("exp(-t)"), {}, 1, 1.5)["decays"]
    fit = rate_fit([1, 2, 4, 8], [1.0, 0.25, 0.0625, 0.015625])
    assert abs(fit["slope"] + 2.0) < 1e-12
