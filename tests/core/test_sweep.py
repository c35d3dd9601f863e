"""Sweeps, initialisations, the Theorem-20 comparison, timescales and momentum."""

import json

import jax.numpy as jnp
import numpy as np
import pytest

import memdyn
from memdyn.cli import main
from memdyn.core.fits import fit_log_linear
from memdyn.core.starts import exponential_part, on_invariant_set, random_bounded
from memdyn.core.sweep import run_sweep
from memdyn.theory.momentum import exact_escape, saddle_scan
from memdyn.theory.timescales import spectrum_on_invariant_set

from ..conftest import BUMP

MEMORIES = [8.0, 10.0, 12.0, 14.0, 16.0]


@pytest.fixture(scope="module")
def bump():
    return memdyn.target(BUMP, {"mu": MEMORIES})


def test_a_sweep_element_equals_memdyn_flow(capsys):
    assert (
        main(
            [
                "sweep",
                "--rho",
                BUMP,
                "--sweep",
                "mu=9,13",
                "--a0",
                "1,0",
                "--w0",
                "1,0.5",
                "--delta",
                "0.01",
                "--t1",
                "1e8",
                "--json",
            ]
        )
        == 0
    )
    sweep = json.loads(capsys.readouterr().out)
    assert set(sweep) >= {"param", "values", "tau_param", "tau_loss", "loss_initial", "status", "fit", "timing"}
    for i, mu in enumerate((9, 13)):
        assert (
            main(
                [
                    "flow",
                    "--rho",
                    BUMP,
                    "--param",
                    f"mu={mu}",
                    "--a0",
                    "1,0",
                    "--w0",
                    "1,0.5",
                    "--delta",
                    "0.01",
                    "--json",
                ]
            )
            == 0
        )
        flow = json.loads(capsys.readouterr().out)
        for key in ("tau_param", "tau_loss"):
            assert abs(sweep[key][i] / flow[key] - 1) <= 1e-8


@pytest.mark.parametrize("w_null", [0.5, 0.3])
def test_theorem_20_slope_for_two_values_of_w_min(bump, w_null):
    """ln(tau/omega^2), the bound's form, and ln tau itself grow with 1/omega at least as fast as
    w_min (up to 2 standard errors), for both hitting times."""
    start = np.array([1.0, 0.0, 1.0, w_null])
    res = run_sweep(bump, {}, "mu", MEMORIES, start, delta=0.01, t1=1e12)
    assert all(r.status == "ok" for r in res.results)
    for key in ("tau_param", "tau_loss"):
        for form in ("omega2", "plain"):
            fit = res.fits()[key][form]
            assert fit["slope"] + 2 * fit["slope_stderr"] >= w_null, (key, form, fit)
    assert res.fits()["tau_loss"]["bound_slope"] == w_null


def test_chunked_sweep_matches_one_batch(bump):
    start = np.array([[1.0, 0.0, 1.0, 0.5], [1.0, 0.0, 1.0, 0.4]])
    whole = run_sweep(bump, {}, "mu", MEMORIES[:2], start, delta=0.01, t1=1e12)
    seen = []
    chunked = run_sweep(bump, {}, "mu", MEMORIES[:2], start, delta=0.01, t1=1e12, chunk=3, progress=seen.append)
    assert sum(seen) == 4 and len(seen) == 2
    assert np.array_equal(whole.tau_loss, chunked.tau_loss)
    assert whole.memory.tolist() == [8.0, 8.0, 10.0, 10.0]


def test_per_element_thresholds_equal_one_sweep_per_threshold(bump):
    """delta may be one number per element (values outer, starts inner), chunked and reordered by cost
    like the elements themselves: each element's times are those of a sweep with its scalar delta."""
    start = np.array([[1.0, 0.0, 1.0, 0.5], [1.0, 0.0, 1.0, 0.4]])
    deltas = np.array([0.01, 0.03, 0.003, 0.01])
    mixed = run_sweep(bump, {}, "mu", MEMORIES[:2], start, delta=deltas, t1=1e12, chunk=2)
    for d in set(deltas.tolist()):
        alone = run_sweep(bump, {}, "mu", MEMORIES[:2], start, delta=d, t1=1e12)
        for i in np.flatnonzero(deltas == d):
            for key in ("tau_param", "tau_loss"):
                assert mixed.column(key)[i] == pytest.approx(alone.column(key)[i], rel=1e-9)
    assert len(set(mixed.column("tau_loss"))) == 4  # the thresholds did differ per element
    with pytest.raises(memdyn.InputError, match="delta: has 3 thresholds for 4 elements"):
        run_sweep(bump, {}, "mu", MEMORIES[:2], start, delta=deltas[:3], t1=1e12)
    with pytest.raises(memdyn.InputError, match="delta: must be a positive number"):
        run_sweep(bump, {}, "mu", MEMORIES[:2], start, delta=-deltas, t1=1e12)


def test_invariant_set_and_random_starts():
    k = memdyn.parse_kernel("2*exp(-t) - 0.5*exp(-3*t) + exp(-(t - mu)**2)", {"mu": 10.0})
    short = exponential_part(k, {"mu": 10.0})
    assert short == [(2.0, 1.0), (-0.5, 3.0)]
    a, w = on_invariant_set(short, 5, null_rates=[0.7], group_sizes=[2, 2])
    assert a.tolist() == [1.0, 1.0, -0.25, -0.25, 0.0] and w.tolist() == [1.0, 1.0, 3.0, 3.0, 0.7]
    # Without the bump that point is a critical point: the gradient vanishes.
    tg = memdyn.target("2*exp(-t) - 0.5*exp(-3*t)")
    g = np.asarray(memdyn.gradient(tg, tg.data(), jnp.asarray(np.concatenate([a, w]))))
    assert np.max(np.abs(g)) <= 1e-14
    a1, w1 = random_bounded(8, w_range=(0.5, 2.0), a_range=(-1, 1), beta=1.0, seed=3)
    a2, w2 = random_bounded(8, w_range=(0.5, 2.0), a_range=(-1, 1), beta=1.0, seed=3)
    assert np.array_equal(a1, a2) and np.array_equal(w1, w2)
    assert np.all((w1 >= 0.5) & (w1 <= 2.0)) and np.all(np.abs(a1) <= 1 / 8)
    with pytest.raises(memdyn.InputError, match="null_rates"):
        on_invariant_set(short, 4, null_rates=[])


def test_scaling_fit_recovers_known_exponents():
    mu = np.arange(10.0, 41.0, 2.0)
    y = 3.0 * mu**2 * np.exp(-0.7 * mu)
    f = fit_log_linear(mu, y, q=None)
    assert abs(f.slope + 0.7) < 1e-10 and abs(f.q - 2.0) < 1e-8
    f = fit_log_linear(mu, y, q=2.0, min_x=20.0)
    assert abs(f.slope + 0.7) < 1e-10 and f.n == 11


def test_gradient_on_invariant_set_follows_prop_33(bump):
    """||grad J|| on M* decays like e^{-w_min/omega}: the fitted rate is w_min (Prop. 33)."""
    spec = spectrum_on_invariant_set(bump, {}, "mu", list(range(16, 41, 2)), np.array([1.0, 0.0, 1.0, 0.5]))
    assert abs(spec["fit_grad"]["slope"] + 0.5) < 0.01
    assert spec["near_zero"][-1] >= spec["m_minus_m_star"]
    # The smallest eigenvalue decays at least as fast as Prop. 34's bound e^{-w_min/omega}.
    assert spec["fit_smallest"]["slope"] <= -0.5


def test_momentum_on_the_saddle():
    gf = saddle_scan([1e-1, 1e-2, 1e-3, 1e-4], friction=None)
    hb = saddle_scan([1e-1, 1e-2, 1e-3, 1e-4], friction=0.0)
    assert abs(gf["exponent"] + 1.0) < 1e-3 and abs(hb["exponent"] + 0.5) < 1e-3
    # Measured 1.2e-12 (gradient flow) and 2e-15 (heavy ball) against the exact escape times
    assert gf["max_rel_error"] < 2e-12 and hb["max_rel_error"] < 5e-14
    assert abs(exact_escape(1e-2, 1e-3, 0.0) - np.arccosh(1e3) / 0.1) < 1e-9


def test_heavy_ball_shortens_the_memory_plateau(bump):
    data = bump.data({"mu": 14.0})
    gf = memdyn.hitting_times(bump, data, [1, 0], [1, 0.5], delta=0.01, t1=1e12)
    hb = memdyn.hitting_times(bump, data, [1, 0], [1, 0.5], delta=0.01, t1=1e12, friction=0.3)
    assert hb.status == "ok" and hb.tau_loss < 0.6 * gf.tau_loss
    with pytest.raises(memdyn.InputError, match="friction"):
        memdyn.hitting_times(bump, data, [1, 0], [1, 0.5], delta=0.01, friction=-1.0)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--sweep", "mu"], "--sweep: expected NAME=V1,V2"),
        (["--param", "mu=8", "--sweep", "nu=1,2"], "--sweep: 'nu' is not a parameter"),
        (["--sweep", "mu=1,x"], "--sweep"),
        (["--sweep", "mu=8", "--init", "random"], "--m"),
        (["--sweep", "mu=8"], "--a0"),
    ],
)
def test_sweep_bad_input(capsys, argv, fragment):
    code = main(["sweep", "--rho", BUMP, "--delta", "0.01", *argv])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and err.count("\n") == 1


def test_sweep_mstar_needs_exponential_terms(capsys):
    code = main(["sweep", "--rho", "exp(-(t - mu)**2)", "--sweep", "mu=8,9", "--init", "mstar", "--delta", "0.01"])
    assert code == 2 and "no term a*exp(-w*t)" in capsys.readouterr().err
