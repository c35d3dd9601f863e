"""What a user would otherwise run: exp(-t) + 0.5 exp(-(t - mu)^2/2), width 2 from (a, w) = (1, 0 | 1, 0.5),
both hitting times with delta = 0.01, by SciPy's LSODA at rtol 1e-10 on a hand-written stable gradient."""
import json, sys
import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import erfcx

MUS = [float(x) for x in sys.argv[1].split(",")]
DELTA, C = 0.01, 0.5


def solve(mu):
    def L(w):  # Laplace transform of rho and its derivative: exp(A) erfc(z) = exp(-mu^2/2) erfcx(z)
        z, g = (w - mu) / np.sqrt(2), np.exp(-mu**2 / 2)
        bump = C * np.sqrt(np.pi / 2) * g * erfcx(z)
        return 1 / (w + 1) + bump, -1 / (w + 1) ** 2 + (w - mu) * bump - C * g

    def J(y):  # the loss up to the constant ||rho||^2
        a, w = y[:2], y[2:]
        return a @ (1 / (w[:, None] + w[None, :])) @ a - 2 * a @ L(w)[0]

    def rhs(t, y):
        a, w = y[:2], y[2:]
        K = 1 / (w[:, None] + w[None, :])
        Lw, dLw = L(w)
        return -np.concatenate([2 * K @ a - 2 * Lw, -2 * a * ((K**2) @ a) - 2 * a * dLw])

    y0 = np.array([1.0, 0.0, 1.0, 0.5])
    J0 = J(y0)
    ev_param = lambda t, y: np.linalg.norm(y - y0) - DELTA  # noqa: E731
    ev_loss = lambda t, y: abs(J(y) - J0) - DELTA  # noqa: E731
    ev_param.direction = ev_loss.direction = 1
    ev_loss.terminal = True
    sol = solve_ivp(rhs, (0, 1e8), y0, method="LSODA", rtol=1e-10, atol=1e-12, events=(ev_param, ev_loss))
    return [float(e[0]) if len(e) else None for e in sol.t_events]


print(json.dumps({repr(mu): solve(mu) for mu in MUS}))
