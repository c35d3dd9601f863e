"""Reparameterised decay rates: the SymPy chain rule against autodiff, and the flow in v
against the plain flow under the metric g'(g^{-1}(w))^2 integrated independently by SciPy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from memdyn import cli
from memdyn.api import target
from memdyn.core import reparam
from memdyn.core.integrate import trajectory
from memdyn.core.loss import gradient, hessian, loss

from ..conftest import BUMP

# the metrics, written by hand here as the independent oracle (reparam.py never writes them)
HAND_METRIC = {
    "exp": lambda w: w**2,
    "softplus": lambda w: (1.0 - np.exp(-w)) ** 2,
    "best": lambda w: 4.0 * w**3 * (1.0 - 0.1 * w),
    "lru": lambda w: w**2,
}


@pytest.mark.parametrize("name", ["exp", "softplus", "best", "lru"])
def test_symbolic_chain_rule_matches_autodiff(name):
    tg = reparam.mapped(target(BUMP, {"mu": 6.0}), name)
    data = tg.data({"mu": 6.0})
    theta = jnp.asarray(tg.internal([0.7, -0.2, 0.3, 0.9, 0.45, 1.7]))
    g_auto = jax.grad(lambda th: loss(tg, data, th))(theta)
    h_auto = jax.hessian(lambda th: loss(tg, data, th))(theta)
    np.testing.assert_allclose(gradient(tg, data, theta), g_auto, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(hessian(tg, data, theta), h_auto, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tg.metric([0.3, 1.7]), HAND_METRIC[name](np.array([0.3, 1.7])), rtol=1e-12)


@pytest.mark.parametrize("name", ["exp", "softplus", "best"])
def test_flow_in_v_is_the_plain_flow_under_the_metric(name):
    """theta(tau) of the v-flow, mapped back to w, against dw/dtau = -m(w) dJ/dw, da/dtau = -dJ/da
    integrated by LSODA (rtol 1e-11) on the plain target: same trajectory through the plateau exit."""
    mu = 8.0
    plain = target(BUMP, {"mu": mu})
    data = plain.data({"mu": mu})
    tg = reparam.mapped(plain, name)
    theta0 = np.array([1.0, 0.0, 1.0, 0.5])
    ts = np.array([0.5, 2.0, 5.0, 10.0, 20.0])
    traj = trajectory(tg, data, tg.internal(theta0), ts)
    assert traj["ok"]
    ours = tg.external(traj["theta"])

    grad = jax.jit(lambda th: gradient(plain, data, th))

    def field(t, th):
        g = np.asarray(grad(jnp.asarray(th)))
        return -np.concatenate([g[:2], HAND_METRIC[name](th[2:]) * g[2:]])

    ref = solve_ivp(field, (0, ts[-1]), theta0, method="LSODA", t_eval=ts, rtol=1e-11, atol=1e-13).y.T
    # Measured: |ours - ref| <= 7e-10, relative <= 6e-9 (memdyn at rtol 1e-10 against LSODA at 1e-11)
    np.testing.assert_allclose(ours, ref, rtol=2e-8, atol=2e-9)
    # and the metric matters: the plain flow is elsewhere by then
    plain_traj = trajectory(plain, data, theta0, ts)["theta"]
    assert np.max(np.abs(plain_traj - ours)) > 1e-2


@pytest.mark.slow  # 17 s on 2 cores; the other reparameterisations' flows stay in the default run
def test_lru_and_exp_are_one_flow_in_w():
    from memdyn.api import flow

    exp = flow(BUMP, params={"mu": 8.0}, a0=[1.0, 0.0], w0=[1.0, 0.5], delta=0.01, param_map="exp")
    lru = flow(BUMP, params={"mu": 8.0}, a0=[1.0, 0.0], w0=[1.0, 0.5], delta=0.01, param_map="lru")
    assert lru.tau_loss == pytest.approx(exp.tau_loss, rel=1e-7)
    np.testing.assert_allclose(lru.theta_final, exp.theta_final, rtol=1e-6)


def test_param_map_errors(capsys):
    code = cli.main(["flow", "--rho", "exp(-t)", "--a0", "1", "--w0", "1", "--delta", "0.1", "--param-map", "cube"])
    err = capsys.readouterr().err
    assert code == 2 and "--param-map" in err and "Traceback" not in err
    # w = 1/(v^2 + 0.1) cannot exceed 10
    code = cli.main(["flow", "--rho", "exp(-t)", "--a0", "1", "--w0", "20", "--delta", "0.1", "--param-map", "best"])
    err = capsys.readouterr().err
    assert code == 2 and "--param-map" in err
