"""Sharp escape-time asymptotics: the flow near M* reduced to its slow dynamics.

Setting: a start theta0 on M* whose fitted neurons (a_i != 0) reproduce the short-memory part
exactly and whose one null neuron (a = 0) sits at rate w0. JMLR Props. 33-34: the gradient there
is exponentially small and the null neuron's rate is a flat direction. Every other direction has
O(1) curvature, so (when the scales separate) the flow relaxes fast onto the slow manifold
{fast variables minimise J at fixed w} and then drifts along w.

Reduction. To leading order in the memory part's overlaps, minimising J over the fast variables
projects the residual r0 = rho - rho_hat(theta0) onto the fast tangent space
T = span{e^{-w_i t}, t e^{-w_i t} (fitted i), e^{-w t}}. The only w-dependent part is the energy
the null neuron captures,

    F(w) = b(w)^2 / q(w),    q(w) = ||e^{-wt} - P e^{-wt}||^2,    b(w) = <r0, e^{-wt} - P e^{-wt}>,

with P the projection onto the fitted neurons' tangent space span{e^{-w_i t}, t e^{-w_i t}}. So
J_red(w) = J0 - F(w), and by the envelope theorem the slow flow is dw/dtau = F'(w) (F grows as w
falls: e^{-wt} reaches further out towards the memory). All inner products are memdyn's
templates: <e^{-ut}, e^{-vt}> = K(u, v), <e^{-ut}, t e^{-vt}> = -K_u(v, u),
<t e^{-ut}, t e^{-vt}> = K_uv(u, v), and <r0, e^{-ut}> = -dJ/da / 2, <r0, t e^{-u t}> = (dJ/dw) / (2a).

Escape time. The drift is slowest at the start, F ~ e^{-2 w0 / omega}, so

    tau_slow  = int_{w0/2}^{w0} dw / |F'(w)|                   (the reduced flow, by quadrature)
    tau_lead  = 1 / (F(w0) phi'(w0)^2),  phi = -ln F         (Laplace's endpoint rule)

and for a Gaussian bump c exp(-(t - mu)^2 / (2 s^2)) the series in 1/mu (derived by SymPy in
``derivations/04_sharp_escape_asymptotics.ipynb``)

    tau_series = q(w0) e^{2 w0 mu - w0^2 s^2} / (8 pi c^2 s^2 mu^2) * (1 + O(1/mu)).

Note the exponent 2 w0 / omega: twice the lower bound's w0 / omega in JMLR Thm 20, because the
velocity of w is the square of the exponentially small overlap (a ~ G, dw/dtau ~ a G).
Where the reduction fails: q(w0) small (e^{-w0 t} nearly in the fitted tangent space) makes the
"fast" directions slow too, and the end of the escape (w far from w0, O(1) amplitudes) is not
slow; its duration grows only polynomially, so tau_slow / tau -> 1 as the memory grows.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from scipy.integrate import quad

from ..core.fits import memory_of
from ..core.integrate import SolverConfig
from ..core.loss import gradient, split
from ..core.lowering import KernelData, Target
from ..core.starts import check_start
from ..core.sweep import run_sweep
from ..errors import InputError, MemdynError


@dataclass(frozen=True)
class SlowReduction:
    """The captured energy F(w) of the null neuron, for one target, data and start on M*."""

    target: Target
    data: KernelData
    theta0: jax.Array
    null: int
    """Index of the null neuron."""

    @classmethod
    def from_start(cls, target: Target, data: KernelData, a0, w0) -> "SlowReduction":
        a0, w0 = np.asarray(a0, float), np.asarray(w0, float)
        nulls = np.flatnonzero(a0 == 0.0)
        if nulls.size != 1:
            raise InputError("a0", f"the sharp reduction needs exactly one null neuron (a = 0), got {nulls.size}")
        return cls(target, data, jnp.asarray(np.concatenate([a0, w0])), int(nulls[0]))

    def _fitted(self):
        a, w = split(self.theta0)
        keep = np.array([i for i in range(a.shape[0]) if i != self.null])
        return a[keep], w[keep], keep

    def captured(self, w):
        """F(w): the energy a null neuron at rate w captures once the fast variables have relaxed."""
        tg = self.target
        a_f, w_f, keep = self._fitted()
        g0 = gradient(tg, self.data, self.theta0)
        m = self.theta0.shape[0] // 2
        # <r0, phi> for phi = (e^{-w_i t}, t e^{-w_i t}) of the fitted neurons
        r_phi = jnp.concatenate([-0.5 * g0[:m][keep], 0.5 * g0[m:][keep] / a_f])
        K, Ku, _, Kuv = tg.pair(w_f[:, None], w_f[None, :])
        A = jnp.block([[K, -Ku.T], [-Ku, Kuv]])
        Kw, Kuw, _, _ = tg.pair(w_f, jnp.full_like(w_f, w))      # K(w_i, w), K_u(w_i, w)
        kw = jnp.concatenate([Kw, -Kuw])                          # <e^{-wt}, phi>
        Kww = tg.pair(w, w)[0]
        # <r0, e^{-wt}> from the gradient with a neuron at w (its amplitude does not enter)
        theta_w = self.theta0.at[m + self.null].set(w)
        r_w = -0.5 * gradient(tg, self.data, theta_w)[self.null]
        sol = jnp.linalg.solve(A, jnp.stack([kw, r_phi], axis=1))
        q = Kww - kw @ sol[:, 0]
        b = r_w - kw @ sol[:, 1]
        return b**2 / q, q

    def F(self, w) -> float:
        return float(self.captured(w)[0])

    def q(self, w) -> float:
        return float(self.captured(w)[1])

    def _log_derivative(self, index: int, w) -> float:
        """d/dw ln of captured(w)[index] (0: F, 1: q), by autodiff through the templates."""
        return float(jax.grad(lambda x: jnp.log(self.captured(x)[index]))(jnp.asarray(w, dtype=jnp.float64)))

    def phi_prime(self, w) -> float:
        """d/dw of -ln F."""
        return -self._log_derivative(0, w)

    def dq_over_q(self, w) -> float:
        return self._log_derivative(1, w)

    @property
    def w0(self) -> float:
        return float(self.theta0[self.theta0.shape[0] // 2 + self.null])

    def tau_slow(self, end_fraction: float = 0.5, metric=None) -> float:
        """int_{end_fraction w0}^{w0} dw / (m(w) |F'(w)|): the time the slow flow takes to halve w.

        ``metric`` m(w) (default 1) is the factor a reparameterised rate puts on its velocity
        (:meth:`memdyn.core.reparam.MappedTarget.metric`).
        """
        w0 = self.w0
        f = jax.jit(jax.grad(lambda x: self.captured(x)[0]))
        speeds = lambda w: float(f(jnp.asarray(w, dtype=jnp.float64)))  # noqa: E731
        if speeds(w0) >= 0:
            raise MemdynError("F does not grow as w falls at the start: no slow drift towards the memory")
        m = metric or (lambda w: 1.0)
        val, _ = quad(lambda w: -1.0 / (float(m(w)) * speeds(w)), end_fraction * w0, w0, epsrel=1e-10, limit=200)
        return val

    def tau_lead(self) -> float:
        w0 = self.w0
        return 1.0 / (self.F(w0) * self.phi_prime(w0) ** 2)


def gaussian_series(q0: float, dlogq0: float, w0: float, mu: float, c: float, sigma: float, order: int = 0) -> float:
    """The 1/mu series of tau_lead for a Gaussian bump c exp(-(t - mu)^2/(2 sigma^2)), to ``order`` 0 or 1:

        q e^{2 w0 mu - w0^2 s^2} / (8 pi c^2 s^2 mu^2) * (1 + (2 w0 s^2 - q'/q) / mu + O(1/mu^2)),

    as SymPy derives it in derivations/04_sharp_escape_asymptotics.ipynb (a test compares the two).
    """
    lead = q0 * np.exp(2 * w0 * mu - w0**2 * sigma**2) / (8 * np.pi * c**2 * sigma**2 * mu**2)
    if order == 0:
        return lead
    return lead * (1.0 + (2 * w0 * sigma**2 - dlogq0) / mu)


@dataclass(frozen=True)
class SharpComparison:
    """Measured tau_loss beside the slow-manifold predictions, one row per memory (:func:`compare`)."""

    param: str
    values: list[float]
    a0: list[float]
    w0: list[float]
    delta: float
    gaussian: tuple[float, float] | None
    w_null: float
    rows: list[dict]
    """memory, tau_loss, status, tau_slow, tau_lead, q, F0 (and the series) with relative errors err_*."""

    def to_json(self) -> dict:
        return {"param": self.param, "values": self.values, "a0": self.a0, "w0": self.w0, "delta": self.delta,
                "gaussian": None if self.gaussian is None else list(self.gaussian), "w_null": self.w_null,
                "rows": self.rows}


def compare(target: Target, base: dict, param: str, values, a0, w0, *, delta: float, t1: float = 1e15,
            config=None, gaussian: tuple[float, float] | None = None, progress=None) -> SharpComparison:
    """Measured tau_loss (a batched sweep) beside tau_slow, tau_lead and, for a Gaussian bump
    ``gaussian = (c, sigma)`` at mu = the memory, the 1/mu series; relative errors against measured."""
    config = config or SolverConfig()
    theta0 = np.asarray(check_start(a0, w0))
    sw = run_sweep(target, base, param, values, theta0[None, :], delta=delta, t1=t1, config=config)
    rows = []
    for v, mem, r in zip(values, memory_of(param, values), sw.results):
        vals = {**base, param: float(v)}
        red = SlowReduction.from_start(target, target.data(vals), a0, w0)
        row = {"value": float(v), "memory": float(mem), "tau_loss": r.tau_loss, "status": str(r.status),
               "tau_slow": red.tau_slow(), "tau_lead": red.tau_lead(), "q": red.q(red.w0), "F0": red.F(red.w0)}
        if gaussian is not None:
            c, sigma = gaussian
            dlq = red.dq_over_q(red.w0)
            row["tau_series0"] = gaussian_series(row["q"], dlq, red.w0, mem, c, sigma, 0)
            row["tau_series1"] = gaussian_series(row["q"], dlq, red.w0, mem, c, sigma, 1)
        for k in [k for k in row if k.startswith("tau_") and k != "tau_loss"]:
            row["err_" + k[4:]] = None if r.tau_loss is None else row[k] / r.tau_loss - 1.0
        rows.append(row)
        if progress:
            progress(1)
    return SharpComparison(param=param, values=[float(v) for v in values], a0=list(map(float, a0)),
                           w0=list(map(float, w0)), delta=delta, gaussian=None if gaussian is None else tuple(gaussian),
                           w_null=float(np.asarray(w0)[np.asarray(a0) == 0][0]), rows=rows)
