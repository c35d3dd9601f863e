"""Sharp escape-time asymptotics: the slow-manifold reduction against measured plateaus."""

import numpy as np
import pytest

import memdyn
from memdyn import cli
from memdyn.theory.sharp import SlowReduction, SlowSystem, compare

RHO3 = "exp(-3*t) + 0.5*exp(-(t - mu)**2/2)"


def test_captured_energy_matches_a_direct_projection():
    """F(w) from the templates against a projection computed by quadrature on a grid (numpy lstsq)."""
    mu, ws, w = 10.0, 3.0, 0.6
    tg = memdyn.target(RHO3, {"mu": mu})
    red = SlowReduction.from_start(tg, tg.data({"mu": mu}), [1.0, 0.0], [ws, 0.8])
    t = np.linspace(0.0, 60.0, 600001)
    h = t[1] - t[0]
    wts = np.full_like(t, h)
    wts[[0, -1]] = h / 2
    r0 = 0.5 * np.exp(-((t - mu) ** 2) / 2)
    basis = np.stack([np.exp(-ws * t), t * np.exp(-ws * t)], axis=1)
    full = np.concatenate([basis, np.exp(-w * t)[:, None]], axis=1)

    def captured(B):
        sw = np.sqrt(wts)[:, None]
        coef = np.linalg.lstsq(B * sw, r0 * sw[:, 0], rcond=None)[0]
        return np.sum(wts * (B @ coef) ** 2)

    assert red.F(w) == pytest.approx(captured(full) - captured(basis), rel=1e-6)


def test_leading_order_escape_time_is_within_0_2_percent_at_memory_14():
    """The default run's version of the test below (one memory, the README's claim): tau_lead = 1/(F phi'^2)
    within 0.2% of the measured tau_loss at 1/omega = 14 (measured -0.12%), the flow solved as
    ``memdyn sharp`` solves it (``compare``'s other predictions, the slow systems, are the slow test's)."""
    tg = memdyn.target(RHO3, {"mu": 14.0})
    lead = SlowReduction.from_start(tg, tg.data({"mu": 14.0}), [1.0, 0.0], [3.0, 0.8]).tau_lead()
    measured = memdyn.flow(RHO3, params={"mu": 14.0}, a0=[1.0, 0.0], w0=[3.0, 0.8], delta=0.01, t1=1e12)
    assert measured.ok and abs(lead / measured.tau_loss - 1) < 0.002


@pytest.mark.parametrize("mu", [44.0, 50.0])
def test_past_1e20_the_slow_system_and_laplaces_rule_answer(mu):
    """The default run's version of the test below: at 1/omega = 44 and 50 (tau_loss 1.3e25, 1.5e29) tau_slow
    is there and within 2e-6 of the flow (measured -1.6e-6 at both), tau_lead within 1e-3 (2.7e-4, 2.1e-4)."""
    tg = memdyn.target(RHO3, {"mu": mu})
    data = tg.data({"mu": mu})
    flow = memdyn.flow(RHO3, params={"mu": mu}, a0=[1.0, 0.0], w0=[3.0, 0.8], delta=0.01)
    slow, why = SlowSystem.from_start(tg, data, [1.0, 0.0], [3.0, 0.8]).escape(0.01)
    lead = SlowReduction.from_start(tg, data, [1.0, 0.0], [3.0, 0.8]).tau_lead()
    assert flow.ok and why is None
    assert abs(slow / flow.tau_loss - 1) < 2e-6 and abs(lead / flow.tau_loss - 1) < 1e-3


def test_a_missing_prediction_says_why():
    """A horizon the plateau outlasts: no escape time, and the reason."""
    tg = memdyn.target(RHO3, {"mu": 44.0})
    slow, why = SlowSystem.from_start(tg, tg.data({"mu": 44.0}), [1.0, 0.0], [3.0, 0.8]).escape(0.01, t1=1e3)
    assert slow is None and why == "the slow system has not escaped by t1 = 1000"


@pytest.mark.slow  # 43 s on 2 cores
def test_past_1e20_the_flow_ends_ok_and_the_slow_system_answers_at_every_memory():
    """From (1, 0 | 3, 0.8) at 1/omega = 30, 44, 50 (tau_loss 5.6e15, 1.3e25, 1.5e29), as ``memdyn sharp``
    computes them: the flow ends ok, and tau_slow (once null at 30 and 36: the slow system's overlaps were
    residues float64 could not hold) is there, within 2e-6 of it (measured -1.4e-6, -1.6e-6, -1.6e-6);
    tau_adiabatic within 1e-4, Laplace's rule within 1e-3 (measured 6.1e-4, 2.7e-4, 2.1e-4), and nothing is
    reported unavailable; with a horizon the plateau outlasts, each missing value has its reason."""
    mus = [30.0, 44.0, 50.0]
    out = compare(memdyn.target(RHO3, {"mu": mus}), {}, "mu", mus, [1.0, 0.0], [3.0, 0.8], delta=0.01).to_json()
    for row in out["rows"]:
        assert row["status"] == "ok" and row["unavailable"] == {}
        assert abs(row["err_slow"]) < 2e-6 and abs(row["err_lead"]) < 1e-3
        assert abs(row["err_adiabatic"]) < 1e-4
    assert out["rows"][-1]["tau_loss"] > 1e29
    tg = memdyn.target(RHO3, {"mu": [14.0]})
    row = compare(tg, {}, "mu", [14.0], [1.0, 0.0], [3.0, 0.8], delta=0.01, t1=1e3).to_json()["rows"][0]
    assert row["tau_loss"] is None and row["tau_slow"] is None
    assert "t1_reached" in row["unavailable"]["tau_loss"]
    assert "not escaped by t1 = 1000" in row["unavailable"]["tau_slow"]


@pytest.mark.slow  # 42 s on 2 cores (three memories to 1/omega = 16); notebook 04 shows the same comparison
def test_leading_order_escape_time_is_sharp():
    """tau_lead = 1/(F phi'^2) within 1% of the measured tau_loss at 1/omega = 14 and 16, and the
    error shrinks with memory (the remainder, the non-slow end of the escape, grows only polynomially)."""
    mus = [12.0, 14.0, 16.0]
    out = compare(memdyn.target(RHO3, {"mu": mus}), {}, "mu", mus, [1.0, 0.0], [3.0, 0.8], delta=0.01).to_json()
    err = {r["memory"]: r["err_lead"] for r in out["rows"]}
    assert all(r["status"] == "ok" for r in out["rows"])
    # Measured: -3.3% at 12, -0.12% at 14, +0.17% at 16 (the README's "within 0.2% from 1/omega = 14")
    assert abs(err[12.0]) < 0.04 and abs(err[14.0]) < 0.002 and abs(err[16.0]) < 0.002
    # the exponent is 2 w0, not the lower bound's w0: ln tau rises by ~2*0.8*2 - 2 ln(16/14) per 2 units
    taus = [r["tau_loss"] for r in out["rows"]]
    slope = np.log(taus[2] / taus[1]) / 2.0
    assert slope == pytest.approx(2 * 0.8 - np.log(16 / 14), abs=0.1)


def test_sharp_cli_errors(capsys):
    code = cli.main(["sharp", "--rho", RHO3, "--sweep", "mu=10", "--a0", "1,1", "--w0", "3,0.8", "--delta", "0.01"])
    err = capsys.readouterr().err
    assert code == 2 and "--a0" in err and "null" in err
    code = cli.main(
        [
            "sharp",
            "--rho",
            RHO3,
            "--sweep",
            "mu=10",
            "--a0",
            "1,0",
            "--w0",
            "3,0.8",
            "--delta",
            "0.01",
            "--gaussian",
            "0.5",
        ]
    )
    assert code == 2 and "--gaussian" in capsys.readouterr().err
    # the series is derived for one null neuron
    code = cli.main(
        [
            "sharp",
            "--rho",
            RHO3,
            "--sweep",
            "mu=10",
            "--a0",
            "1,0,0",
            "--w0",
            "3,0.8,0.9",
            "--delta",
            "0.01",
            "--gaussian",
            "0.5,1",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "--gaussian" in err and "one null neuron" in err and "Traceback" not in err


def test_a_reparameterisation_only_rescales_the_slow_drift():
    """exp map (metric w^2): measured tau_loss(exp)/tau_loss(plain) equals the slow flow with the metric
    inside, int dw/(m(w)|F'|) / int dw/|F'|, within 1% at 1/omega = 14."""
    from memdyn.api import flow
    from memdyn.core.reparam import mapped

    mu = 14.0
    tg = memdyn.target(RHO3, {"mu": mu})
    red = SlowReduction.from_start(tg, tg.data({"mu": mu}), [1.0, 0.0], [3.0, 0.8])
    exp = mapped(tg, "exp")
    predicted = red.tau_drift(metric=lambda w: exp.metric([w])[0]) / red.tau_drift()
    taus = {
        name: flow(RHO3, params={"mu": mu}, a0=[1.0, 0.0], w0=[3.0, 0.8], delta=0.01, t1=1e12, param_map=name).tau_loss
        for name in ("plain", "exp")
    }
    # Measured 1.772 against 1.775 (0.17%)
    assert taus["exp"] / taus["plain"] == pytest.approx(predicted, rel=0.003)
    # and the metric must be taken along the drift: the crude 1/metric(w0) misses by more than 10%
    assert abs(taus["exp"] / taus["plain"] * exp.metric([0.8])[0] - 1.0) > 0.10


RHO1 = "exp(-t) + 0.5*exp(-(t - mu)**2/2)"


@pytest.mark.slow  # 20 s
def test_slow_system_where_the_scales_separate_slowly():
    """Sections 1-3's starts (w* = 1, null at 0.5 and 0.3: q(w0) = 0.012 and 0.14, the null amplitude relaxes
    at a rate ~2q). Laplace's rule is 33% and 62% off at 1/omega = 16; the slow system with the amplitude
    kept and the induced metric converges from moderate memory. Measured: w0 = 0.5: -4.1% (16), -1.9% (20);
    w0 = 0.3: +16.2% (16), +2.9% (20), -0.9% (24). The start that resists at 16 has a plateau of 8.5 time
    units, not longer than the fitted neuron's own relaxation (1/lambda_min(H_cc) = 5.3), which the
    reduction eliminates."""
    tg = memdyn.target(RHO1, {"mu": [16.0, 20.0, 24.0]})
    errs = {}
    for w0, mus in ((0.5, [16.0, 20.0]), (0.3, [16.0, 20.0, 24.0])):
        out = compare(tg, {}, "mu", mus, [1.0, 0.0], [1.0, w0], delta=0.01, t1=1e20).to_json()
        assert all(r["status"] == "ok" for r in out["rows"])
        errs[w0] = {r["memory"]: r for r in out["rows"]}
    assert abs(errs[0.5][16.0]["err_slow"]) < 0.05 and abs(errs[0.5][20.0]["err_slow"]) < 0.025
    assert abs(errs[0.3][20.0]["err_slow"]) < 0.04 and abs(errs[0.3][24.0]["err_slow"]) < 0.015
    assert 0.10 < errs[0.3][16.0]["err_slow"] < 0.20  # the resisting start, within its stated error
    # where the one-neuron reduction misses by far more
    assert errs[0.5][16.0]["err_lead"] < -0.30 and errs[0.3][16.0]["err_lead"] < -0.60
    assert errs[0.3][16.0]["err_adiabatic"] < -0.20


@pytest.mark.slow
def test_slow_system_with_nine_null_neurons():
    """Fig. 3's m = 10 starts (neuron 1 = (1, 1), nine null neurons evenly spaced from w_min = 0.5 or 0.9
    to 2): the slow system predicts the plateau within 10% (measured -1.9% and -6.0% at 1/omega = 16).
    Relaxing the null amplitudes as well (the vector F) fails outright: their Gram matrix has eigenvalues
    down to ~1e-10, and the energy those combinations would capture once relaxed exceeds delta at once
    (w_min = 0.5: tau_adiabatic ~ 0), or the relaxed system is too stiff to integrate (w_min = 0.9: LSODA
    stalls, None), although they never relax within the plateau. (slow: m = 10 compiles for a minute)"""
    from memdyn.studies.problems import RHO, fig3_starts

    mus = [16.0]
    tg = memdyn.target(RHO, {"mu": mus})
    for theta0 in fig3_starts():
        out = compare(tg, {}, "mu", mus, theta0[:10], theta0[10:], delta=0.01, t1=1e12).to_json()
        row = out["rows"][0]
        assert row["status"] == "ok" and "tau_lead" not in row
        assert abs(row["err_slow"]) < 0.07
        assert row["tau_adiabatic"] is None or row["tau_adiabatic"] < 1e-3 * row["tau_loss"]
