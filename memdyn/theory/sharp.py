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
Where that reduction fails: q(w0) small (e^{-w0 t} nearly in the fitted tangent space) makes the
null amplitude slow too (its relaxation rate is ~ 2q), and with several null neurons at nearby rates
the Gram matrix of their exponentials has eigenvalues down to 1e-10: those amplitude combinations
never relax within a plateau.

The slow system (``SlowSystem``, any number of null neurons). Only the fitted neurons are
eliminated; every null neuron's amplitude AND rate stay slow variables s = (a_N, w_N). Near M* the
fitted neurons move by exponentially little, so the loss is exactly quadratic in their displacement
c (to O(|c|^2) in the residual): J(c, s) = J(0, s) + g_c(s).c + c^T H_cc c / 2, with H_cc the fitted
block of the Hessian at theta0. They relax to c*(s) = -H_cc^{-1} g_c(s). The flow of s on that
manifold is NOT -grad J_red: c must follow c*(s(tau)), and the lag c - c* = -H_cc^{-1} Dc* s' feeds
back through the coupling H_sc, giving (derivation in ``derivations/04_...``)

    G(s) s' = -grad J_red(s),    G = I + Dc*^T Dc*     (the metric the embedding s -> (c*(s), s) induces),

the gradient flow on the slow manifold in its induced metric. Dc* is O(1) in the amplitude directions
(c* follows a as a e^{-wt} is projected on the fitted tangent space), so G is O(1) there: without it a
null amplitude would relax 1 + |Dc*|^2 times too fast. ``tau_slow`` integrates this system until the reduced loss
has dropped by delta (the measured tau_loss's event); ``tau_adiabatic`` eliminates the null
amplitudes too (a*(w) minimises the quadratic J_red(a, w); its captured energy is the vector
F(w) = b^T Q^{-1} b of the one-neuron formula) and integrates the rates' flow dw/dtau = grad F in the
same way. Both run on restarted clocks (as ``memdyn.core.solve``), so plateaus far past 1e16 are in
reach. What they still leave out: the fitted neurons' own relaxation (time ~ 1/lambda_min(H_cc), about
5 for w* = 1), which matters only when the whole plateau is that short, and their nonlinearity once they
have moved by O(0.1) at the end of an escape (README, Limits).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from scipy.integrate import quad, solve_ivp

from ..core.fits import memory_of
from ..core.integrate import DEFAULT_T1, SolverConfig
from ..core.jaxsetup import float64
from ..core.loss import anchor, centred_gradient, hessian, loss, split
from ..core.lowering import KernelData, Target
from ..core.solve import MAX_SEGMENTS, RESTART_RATIO
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
    def from_start(cls, target: Target, data: KernelData, a0, w0) -> SlowReduction:
        nulls = null_neurons(a0)
        if len(nulls) != 1:
            raise InputError("a0", f"the sharp reduction needs exactly one null neuron (a = 0), got {len(nulls)}")
        return cls(target, data, jnp.asarray(np.concatenate([np.asarray(a0, float), np.asarray(w0, float)])), nulls[0])

    def _fitted(self):
        a, w = split(self.theta0)
        keep = np.array([i for i in range(a.shape[0]) if i != self.null])
        return a[keep], w[keep], keep

    def _gradient(self, theta):
        """grad J at ``theta`` in the centred form (``memdyn.core.loss.centred_gradient``), anchored at
        theta0: the overlaps b are residues far below float64's resolution of the O(1) transforms."""
        at = anchor(self.target, self.data, self.theta0)
        return centred_gradient(self.target, self.data, at, theta - at.theta)

    def captured(self, w):
        """F(w): the energy a null neuron at rate w captures once the fast variables have relaxed."""
        tg = self.target
        a_f, w_f, keep = self._fitted()
        g0 = self._gradient(self.theta0)
        m = self.theta0.shape[0] // 2
        # <r0, phi> for phi = (e^{-w_i t}, t e^{-w_i t}) of the fitted neurons
        r_phi = jnp.concatenate([-0.5 * g0[:m][keep], 0.5 * g0[m:][keep] / a_f])
        K, Ku, _, Kuv = tg.pair(w_f[:, None], w_f[None, :])
        A = jnp.block([[K, -Ku.T], [-Ku, Kuv]])
        Kw, Kuw, _, _ = tg.pair(w_f, jnp.full_like(w_f, w))  # K(w_i, w), K_u(w_i, w)
        kw = jnp.concatenate([Kw, -Kuw])  # <e^{-wt}, phi>
        Kww = tg.pair(w, w)[0]
        # <r0, e^{-wt}> from the gradient with a neuron at w (its amplitude does not enter)
        theta_w = self.theta0.at[m + self.null].set(w)
        r_w = -0.5 * self._gradient(theta_w)[self.null]
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

    def tau_drift(self, end_fraction: float = 0.5, metric=None) -> float:
        """int_{end_fraction w0}^{w0} dw / (m(w) |F'(w)|): the time the slow flow takes to halve w.

        ``metric`` m(w) (default 1) is the factor a reparameterised rate puts on its velocity
        (``memdyn.core.reparam.MappedTarget.metric``).
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


MAX_EVALUATIONS = 50_000
"""Field evaluations after which the slow system's integration counts as stalled (a healthy escape takes
a few thousand; with the overlaps b computed plainly, as residues of O(1) transforms, LSODA stalled on their
noise from b ~ 1e-11: the centred gradient removed that; the guard stays, with its reason in the result)."""


class _Stalled(Exception):
    pass


def null_neurons(a0) -> tuple[int, ...]:
    """Indices of the null neurons (a = 0) of a start on M*; refuses a start without one."""
    nulls = tuple(int(i) for i in np.flatnonzero(np.asarray(a0, float) == 0.0))
    if not nulls:
        raise InputError("a0", "the slow reduction needs at least one null neuron (a = 0)")
    return nulls


@functools.lru_cache(maxsize=16)
def _slow_functions(target: Target, m: int, nulls: tuple[int, ...], level: str):
    """Jitted ``(data, theta0, s) -> ...`` for one target, width and null set, compiled once and reused
    for every memory: the flow s' = -G^{-1} grad J_red(s) and its Jacobian, and the captured loss.

    The fitted neurons' displacement c enters through the quadratic model J(0, s) + g_c(s).c +
    c^T H_cc c / 2 (H_cc at theta0), minimised exactly: c*(s) = -H_cc^{-1} g_c(s). With ``level``
    "adiabatic" the null amplitudes are minimised too (J_red is exactly quadratic in them: one Newton
    step from a = 0). The embedding s -> theta(s) gives the metric G = Dtheta^T Dtheta (module docstring).
    """
    fitted = [i for i in range(m) if i not in nulls]
    ci = np.array(fitted + [m + i for i in fitted], dtype=int)
    si = np.array(list(nulls) + [m + i for i in nulls], dtype=int)
    k = len(nulls)
    slow = si if level == "kept" else si[k:]

    def kept(data, theta0):
        """(anchor, embed, gradient) for s = (a_N, w_N): ``embed(s)`` is (the state on the slow manifold as a
        displacement d from theta0's anchor, J_red(s)); ``gradient(s)`` is grad J_red(s) from the centred
        overlaps. The fitted neurons' displacement c* is exponentially small: carried in d exactly."""
        at = anchor(target, data, theta0)
        d0 = theta0 - at.theta
        Hcc = hessian(target, data, theta0)[np.ix_(ci, ci)] if ci.size else None

        def unrelaxed(s):  # (0, s): the fitted neurons where theta0 has them
            return d0.at[si].set(s - at.theta[si])

        def g_c(s):
            return centred_gradient(target, data, at, unrelaxed(s))[ci]

        def embed(s):
            d = unrelaxed(s)
            if ci.size == 0:
                return d, loss(target, data, at.theta + d)
            g = g_c(s)
            step = jnp.linalg.solve(Hcc, g)
            return d.at[ci].add(-step), loss(target, data, at.theta + d) - 0.5 * g @ step

        def gradient(s):
            # d/ds [J(0, s) - g_c(s)^T H_cc^{-1} g_c(s) / 2] = dJ(0, s)/ds + (dg_c/ds)^T c*: both parts from the
            # centred gradient (its s-derivative by autodiff), so the overlaps b stay exact
            direct = centred_gradient(target, data, at, unrelaxed(s))[si]
            if ci.size == 0:
                return direct
            g, pullback = jax.vjp(g_c, s)
            return direct + pullback(-jnp.linalg.solve(Hcc, g))[0]

        return at, embed, gradient

    def reduced(data, theta0):
        """(embed, gradient) of the slow variables (``slow``): s itself, or with "adiabatic" the null rates,
        the amplitudes at the minimum a*(w) of the quadratic J_red(., w) (one Newton step from a = 0)."""
        at, embed_kept, gradient_kept = kept(data, theta0)
        if level == "kept":
            return embed_kept, gradient_kept

        def relaxed(w):
            zero = jnp.zeros(k)
            grad_a = lambda a: gradient_kept(jnp.concatenate([a, w]))[:k]  # noqa: E731
            return jnp.concatenate([-jnp.linalg.solve(jax.jacfwd(grad_a)(zero), grad_a(zero)), w])

        # envelope theorem: a* minimises, so dJ_red/dw is the w-part of the kept gradient at (a*, w)
        return (lambda w: embed_kept(relaxed(w))), (lambda w: gradient_kept(relaxed(w))[k:])

    def flow(data, theta0, s):
        embed, gradient = reduced(data, theta0)
        D = jax.jacfwd(lambda x: embed(x)[0])(s)
        return -jnp.linalg.solve(D.T @ D, gradient(s))

    def drop(data, theta0, s):
        return loss(target, data, theta0) - reduced(data, theta0)[0](s)[1]

    return {
        "flow": jax.jit(flow),
        "jac": jax.jit(jax.jacfwd(flow, argnums=2)),
        "drop": jax.jit(drop),
        "slow": slow,
    }


@dataclass(frozen=True)
class SlowSystem:
    """The slow system of a start on M* with any number of null neurons (module docstring).

    ``level`` "kept": the null neurons' amplitudes and rates are slow, the fitted neurons relaxed, in
    the metric the slow manifold induces; "adiabatic": the null amplitudes relaxed too (vector F).
    """

    target: Target
    data: KernelData
    theta0: np.ndarray
    nulls: tuple[int, ...]
    level: str = "kept"

    @classmethod
    def from_start(cls, target: Target, data: KernelData, a0, w0, level: str = "kept") -> SlowSystem:
        if level not in ("kept", "adiabatic"):
            raise InputError("level", f"expected 'kept' or 'adiabatic', got {level!r}")
        theta0 = np.asarray(check_start(a0, w0), dtype=float)
        return cls(target, data, theta0, null_neurons(a0), level)

    def _functions(self):
        return _slow_functions(self.target, self.theta0.shape[0] // 2, self.nulls, self.level)

    def drop(self, s) -> float:
        """J(theta0) - J_red(s): how much loss the slow state s has captured."""
        return float(self._functions()["drop"](self.data, jnp.asarray(self.theta0), jnp.asarray(s)))

    def escape_time(self, delta: float, t1: float = 1e30, rtol: float = 1e-7) -> float | None:
        """First tau with J(theta0) - J_red(s(tau)) = delta (the measured tau_loss's event), or None
        when it is not found (:meth:`escape` says why)."""
        return self.escape(delta, t1, rtol)[0]

    def escape(self, delta: float, t1: float = 1e30, rtol: float = 1e-7) -> tuple[float | None, str | None]:
        """(escape time, None), or (None, why it was not found): t1 came first, or LSODA stalled (more
        than MAX_EVALUATIONS field evaluations), or the clock needed more than MAX_SEGMENTS restarts.

        LSODA, on a clock restarted whenever tau ||s'|| / (1 + ||s||) passes RESTART_RATIO (as the full
        solve does), so that float64 keeps resolving the escape however long the plateau was."""
        fns = self._functions()
        data, theta0 = self.data, jnp.asarray(self.theta0)
        s = self.theta0[fns["slow"]]
        if self.drop(s) >= delta:
            return 0.0, None

        calls = [0]

        def field(t, x):
            calls[0] += 1
            if calls[0] > MAX_EVALUATIONS:
                raise _Stalled
            return np.asarray(fns["flow"](data, theta0, jnp.asarray(x)))

        def jac(t, x):
            return np.asarray(fns["jac"](data, theta0, jnp.asarray(x)))

        def hit(t, x):
            return float(fns["drop"](data, theta0, jnp.asarray(x))) - delta

        def hurry(t, x):
            return t * np.linalg.norm(field(t, x)) / (1.0 + np.linalg.norm(x)) - RESTART_RATIO

        hit.terminal = hurry.terminal = True
        hit.direction = hurry.direction = 1.0
        # Absolute tolerances per coordinate: rates are O(1); amplitudes start at 0 and grow to about
        # their overlap b = -dJ/da / 2, which may be 1e-17 (1/omega = 50 at w0 = 0.8), so their scale is
        # taken from it. The overlaps come from the centred gradient, exact to float64's relative precision.
        k = len(self.nulls)
        atol = np.full(s.shape, 1e-12)
        if self.level == "kept":
            at = anchor(self.target, data, theta0)
            overlap = float(
                np.max(np.abs(centred_gradient(self.target, data, at, theta0 - at.theta)[np.array(self.nulls)]))
            )
            atol[:k] = rtol * overlap / 2 + 1e-300
        offset = 0.0
        for _ in range(MAX_SEGMENTS):
            try:
                sol = solve_ivp(
                    field, (0.0, t1 - offset), s, method="LSODA", jac=jac, events=(hit, hurry), rtol=rtol, atol=atol
                )
            except _Stalled:
                return None, f"the slow system's integration stalled (over {MAX_EVALUATIONS} field evaluations)"
            if sol.t_events[0].size:
                return offset + float(sol.t_events[0][0]), None
            if sol.status < 0:
                return None, f"the slow system's integration failed (LSODA: {sol.message})"
            if not sol.t_events[1].size:
                return None, f"the slow system has not escaped by t1 = {t1:g}"
            offset, s = offset + float(sol.t[-1]), sol.y[:, -1]
        return None, f"the slow system's escape needed more than {MAX_SEGMENTS} restarts of the clock"


def gaussian_series(q0: float, dlogq0: float, w0: float, mu: float, c: float, sigma: float, order: int = 0) -> float:
    """The 1/mu series of tau_lead for a Gaussian bump c exp(-(t - mu)^2/(2 sigma^2)), to ``order`` 0 or 1:

        q e^{2 w0 mu - w0^2 s^2} / (8 pi c^2 s^2 mu^2) * (1 + (2 w0 s^2 - q'/q) / mu + O(1/mu^2)),

    as SymPy derives it in derivations/04_sharp_escape_asymptotics.ipynb (a test compares the two).
    """
    lead = q0 * np.exp(2 * w0 * mu - w0**2 * sigma**2) / (8 * np.pi * c**2 * sigma**2 * mu**2)
    if order == 0:
        return lead
    return lead * (1.0 + (2 * w0 * sigma**2 - dlogq0) / mu)


@dataclass(frozen=True, repr=False)
class SharpComparison:
    """Measured tau_loss beside the slow-manifold predictions, one row per memory (:func:`memdyn.sharp`).

    Attributes:
        param: the memory parameter; ``values`` its values.
        a0, w0: the start on M*; ``delta`` the threshold; ``gaussian`` (c, sigma) or None.
        w_null: the smallest null rate (w_min).
        rows: per memory: ``memory``, ``tau_loss`` and its ``status``, ``tau_slow``, ``tau_adiabatic``
            and, with one null neuron, ``tau_lead`` (and the series), each with ``err_*`` its
            relative error against tau_loss; ``unavailable`` maps each missing one to the reason.
    """

    param: str
    values: list[float]
    a0: list[float]
    w0: list[float]
    delta: float
    gaussian: tuple[float, float] | None
    w_null: float
    """The smallest null rate (w_min)."""
    rows: list[dict]
    """memory, tau_loss, status, tau_slow, tau_adiabatic and, with one null neuron, tau_lead, q, F0
    (and the series), with relative errors err_* against tau_loss, and ``unavailable``: for each
    prediction (or measurement) that has no value, why."""

    @property
    def ok(self) -> bool:
        """Whether every measured flow found its tau_loss."""
        return all(r["status"] == "ok" for r in self.rows)

    def __repr__(self) -> str:
        return (
            f"SharpComparison({self.param}: {len(self.rows)} memories, null w_min = {self.w_null:g}, "
            f"ok {sum(r['status'] == 'ok' for r in self.rows)}/{len(self.rows)})"
        )

    def to_pandas(self):
        """One row per memory as a ``pandas.DataFrame`` (pandas is optional: imported here)."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    def plot(self, ax=None):
        """Measured tau_loss and each prediction against the memory 1/omega (log y). Returns the axes."""
        from ..plots import plot_lines

        keys = [k for k in self.rows[0] if k.startswith("tau_")] if self.rows else []
        series = {k: [r.get(k) for r in self.rows] for k in keys}
        styles = {k: "ko" if k == "tau_loss" else "-" for k in keys}
        return plot_lines(
            [r["memory"] for r in self.rows],
            series,
            ax=ax,
            xlabel=r"memory $1/\omega$",
            ylabel=r"$\tau$",
            styles=styles,
        )

    def to_json(self) -> dict:
        return {
            "param": self.param,
            "values": self.values,
            "a0": self.a0,
            "w0": self.w0,
            "delta": self.delta,
            "gaussian": None if self.gaussian is None else list(self.gaussian),
            "w_null": self.w_null,
            "rows": self.rows,
        }


@float64
def compare(
    target: Target,
    base: dict,
    param: str,
    values,
    a0,
    w0,
    *,
    delta: float,
    t1: float = DEFAULT_T1,
    config=None,
    gaussian: tuple[float, float] | None = None,
    progress=None,
) -> SharpComparison:
    """Measured tau_loss (a batched sweep) beside the slow system's escape time (``tau_slow``, any
    number of null neurons), its adiabatic limit (``tau_adiabatic``, null amplitudes relaxed too) and,
    with one null neuron, Laplace's rule ``tau_lead`` and, for a Gaussian bump ``gaussian = (c, sigma)``
    at mu = the memory, the 1/mu series; relative errors against measured."""
    config = config or SolverConfig()
    nulls = null_neurons(a0)
    if gaussian is not None and len(nulls) != 1:
        raise InputError("gaussian", f"the 1/mu series is derived for one null neuron, the start has {len(nulls)}")
    theta0 = np.asarray(check_start(a0, w0))
    sw = run_sweep(target, base, param, values, theta0[None, :], delta=delta, t1=t1, config=config)
    rows = []
    for v, mem, r in zip(values, memory_of(param, values), sw.results):
        data = target.data({**base, param: float(v)})
        row: dict[str, Any] = {"value": float(v), "memory": float(mem), "tau_loss": r.tau_loss, "status": str(r.status)}
        unavailable = {} if r.tau_loss is not None else {"tau_loss": f"the flow ended {r.status}: {r.status.advice}"}
        for key, level in (("tau_slow", "kept"), ("tau_adiabatic", "adiabatic")):
            row[key], why = SlowSystem.from_start(target, data, a0, w0, level=level).escape(delta, t1)
            if why is not None:
                unavailable[key] = why
        if len(nulls) != 1:
            unavailable["tau_lead"] = f"Laplace's rule is derived for one null neuron; the start has {len(nulls)}"
        else:
            red = SlowReduction.from_start(target, data, a0, w0)
            row.update({"tau_lead": red.tau_lead(), "q": red.q(red.w0), "F0": red.F(red.w0)})
            if gaussian is not None:
                c, sigma = gaussian
                dlq = red.dq_over_q(red.w0)
                row["tau_series0"] = gaussian_series(row["q"], dlq, red.w0, mem, c, sigma, 0)
                row["tau_series1"] = gaussian_series(row["q"], dlq, red.w0, mem, c, sigma, 1)
        for k in [k for k in row if k.startswith("tau_") and k != "tau_loss"]:
            row["err_" + k[4:]] = None if r.tau_loss is None or row[k] is None else row[k] / r.tau_loss - 1.0
        row["unavailable"] = unavailable
        rows.append(row)
        if progress:
            progress(1)
    return SharpComparison(
        param=param,
        values=[float(v) for v in values],
        a0=list(map(float, a0)),
        w0=list(map(float, w0)),
        delta=delta,
        gaussian=None if gaussian is None else tuple(gaussian),
        w_null=float(np.min(np.asarray(w0, float)[list(nulls)])),
        rows=rows,
    )
