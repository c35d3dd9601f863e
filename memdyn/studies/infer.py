"""``memdyn infer``: which unstated settings of the paper are consistent with its figures' read-offs.

The JMLR paper does not state the parameters of its Figs. 2-3 (target (99), its start, delta, how its
loss is normalised). Given points read off a figure, each with a stated read-off uncertainty, this
searches a grid of settings with batched sweeps (every candidate's hitting times from one compiled,
vmapped solve per threshold) and reports those consistent with the points, or the best and its
residuals when none is.

Family searched (``Space``):

* target  rho(t) = exp(-w* t) + c exp(-(t - mu)^2 / (2 sigma^2)), mu = 1/omega (JMLR eq. 99, a* = 1:
  an overall scale of rho is a rescaling of time and of J, which ``normalisation`` and ``delta`` cover
  only in part, so it is left fixed and said so);
* starts: neuron 1 = (``amplitude``, w*), the other m - 1 neurons null at rates evenly spaced from
  ``null_min`` to ``null_max`` (one rate, ``null_min``, for m = 2). ``amplitude`` 1 is on M*
  (Theorem 20's setting: the start is the plateau); other amplitudes start off M*, above the plateau
  (0: a network that has captured nothing, whose loss first drops in O(1) time onto the plateau, as
  the paper's Fig. 2 describes);
* the threshold ``delta`` of the hitting time, on the paper's loss. The loss hitting time is the
  plateau's exit, the first time J falls ``delta`` below the plateau's level J(M*) = J at the
  amplitude-1 start (for a start on M*, |J - J0| > delta as before; off M*, the sweep's threshold for
  that element is J0 - J(M*) + delta, one per element in the same compiled call); the parameter
  hitting time stays ||theta - theta0|| > delta;
* the loss normalisation ``kappa``: the paper's loss is ``kappa * J`` with memdyn's
  J = int (rho_hat - rho)^2 dt (kappa = 1/2 for a loss with the customary 1/2). Its flow then runs
  ``kappa`` times faster: paper time = memdyn time / kappa, and a loss change delta on the paper's
  loss is delta / kappa on J (the parameter threshold is unchanged);
* the parameter distance's normalisation ``lambda``: the paper's distance is ``lambda * ||theta - theta0||``
  (lambda = 1/sqrt(2m) for a root-mean-square over the 2m parameters), so its threshold delta is
  delta / lambda on memdyn's 2-norm.

Consistency (``score``): point i has residual r_i = ln(predicted / read-off) and one-sigma
read-off uncertainty u = ln(1 + uncertainty); a setting is consistent when every |r_i| <= 2u, and
settings are ranked by chi^2 = sum (r_i / u)^2. A hitting time not reached by ``t1`` counts as t1
(a lower bound: the setting fails every point it leaves unreached by more than the bound's margin).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..core.integrate import SolverConfig
from ..core.jaxsetup import float64
from ..core.pipeline import target as make_target
from ..core.sweep import run_sweep
from ..errors import InputError
from .problems import PAPER_FIG2_EXIT, PAPER_FIG3, mstar_start

FAMILY = "exp(-ws*t) + c*exp(-(t - mu)**2/(2*sigma**2))"
"""Target (99) with a* = 1; parameters ws (= w*), c, sigma and the memory mu."""

QUANTITIES = ("tau_loss", "tau_param")


@dataclass(frozen=True)
class ReadOff:
    """Points read off one curve of a figure: hitting times ``values`` at memories ``x`` = 1/omega."""

    figure: str
    quantity: str  # "tau_loss" (the plateau / exit time tau'_0) or "tau_param" (separation tau_0)
    x: tuple[float, ...]
    values: tuple[float, ...]
    uncertainty: float = 0.2
    """One-sigma relative read-off uncertainty (0.2: a value read off a log axis to about 20%)."""

    def __post_init__(self):
        if self.quantity not in QUANTITIES:
            raise InputError("quantity", f"must be one of {', '.join(QUANTITIES)}, got {self.quantity!r}")
        if len(self.x) != len(self.values) or not self.x:
            raise InputError("points", "needs one value per memory, at least one point")
        if not all(math.isfinite(v) and v > 0 for v in (*self.x, *self.values)):
            raise InputError("points", "memories and times must be positive and finite")
        if not 0 < self.uncertainty < 10:
            raise InputError("uncertainty", f"must be in (0, 10), got {self.uncertainty:g}")


@dataclass(frozen=True)
class Space:
    """The grid of unstated settings searched (every combination is one candidate)."""

    width: int = 2
    c: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
    sigma: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0)
    w_star: tuple[float, ...] = (1.0,)
    null_min: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    null_max: float = 2.0
    amplitude: tuple[float, ...] = (1.0,)
    """Neuron 1's amplitude at the start: 1 on M*, others off it (0: nothing captured yet)."""
    delta: tuple[float, ...] = (1e-3, 1e-2, 1e-1)
    normalisation: tuple[float, ...] = (1.0, 0.5)
    param_normalisation: tuple[float, ...] = (1.0,)
    """lambda: the paper's parameter distance is lambda ||theta - theta0|| (1/sqrt(2m): an RMS)."""

    def __post_init__(self):
        if not 2 <= self.width <= 16:
            raise InputError("width", f"must be 2..16, got {self.width}")
        for name in ("c", "sigma", "w_star", "null_min", "delta", "normalisation", "param_normalisation"):
            values = getattr(self, name)
            if not values or not all(math.isfinite(v) and v > 0 for v in values):
                raise InputError(name.replace("_", "-"), "needs positive, finite values")
        if not self.amplitude or not all(math.isfinite(a) and 0 <= a <= 10 for a in self.amplitude):
            raise InputError("amplitude", "needs finite values in [0, 10]")
        if self.width > 2 and max(self.null_min) >= self.null_max:
            raise InputError("null-min", f"must be below --null-max = {self.null_max:g}")

    @property
    def thresholds(self) -> list[float]:
        """The thresholds solved for: the paper's delta on kappa*J is delta/kappa on memdyn's J, and on
        lambda ||theta - theta0|| it is delta/lambda on memdyn's 2-norm."""
        return sorted(
            {d / k for d in self.delta for k in self.normalisation}
            | {d / lam for d in self.delta for lam in self.param_normalisation}
        )

    def null_rates(self, lo: float) -> list[float]:
        return [lo] if self.width == 2 else [float(w) for w in np.linspace(lo, self.null_max, self.width - 1)]


# The paper's read-offs (its Figs. 2 and 3), as points to infer from.
PAPER_POINTS = {
    "fig2": (
        ReadOff(
            "Fig. 2",
            "tau_loss",
            tuple(float(k) for k in PAPER_FIG2_EXIT),
            tuple(float(v) for v in PAPER_FIG2_EXIT.values()),
        ),
    ),
    "fig3": (
        ReadOff(
            "Fig. 3", "tau_loss", tuple(float(k) for k in PAPER_FIG3), tuple(float(v[0]) for v in PAPER_FIG3.values())
        ),
        ReadOff(
            "Fig. 3",
            "tau_param",
            tuple(float(k) for k, v in PAPER_FIG3.items() if v[1]),
            tuple(float(v[1]) for v in PAPER_FIG3.values() if v[1]),
        ),
    ),
}
PAPER_WIDTH = {"fig2": 2, "fig3": 10}


SEARCH_CONFIG = SolverConfig(max_steps=12_000)
"""The search's solver: the default (Rodas4) but 12,000 steps per solve. A batched solve runs until its
slowest element ends, and a few corners of a grid (a strong, wide bump near t = 0 with a tiny delta: the
start is then no plateau at all) can take 1e5 steps or more; every other element needs under ~4,000 up to
t1 (Rodas4 takes about 3.5x Kvaerno5's steps, each about 6x cheaper). Such corners count as unresolved
(never consistent) and are reported."""


def predict(
    space: Space,
    memories: Sequence[float],
    *,
    t1: float = 1e9,
    config: SolverConfig = SEARCH_CONFIG,
    chunk: int | None = 128,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Both hitting times, in the paper's time, for every candidate of ``space`` at every memory.

    Returns ``{"settings": [dict per candidate], "tau_loss": (n, len(memories)), "tau_param": ...}``
    (t1 where not reached, NaN where the solve ran out of steps). One batched sweep per (w*, delta / kappa): the grid over memory,
    c and sigma times the starts.
    """
    memories = [float(x) for x in memories]
    tg = make_target(FAMILY, {"ws": list(space.w_star), "c": list(space.c), "sigma": list(space.sigma), "mu": memories})
    n_mu, n_c, n_s, n_a, n_n = len(memories), len(space.c), len(space.sigma), len(space.amplitude), len(space.null_min)
    raw: dict[tuple[float, float], dict[str, np.ndarray]] = {}
    for ws in space.w_star:
        starts = np.stack(
            [mstar_start(space.null_rates(lo), w_star=ws, a_star=a) for a in space.amplitude for lo in space.null_min]
        )
        above = _above_plateau(tg, ws, memories, space, starts)  # (n_mu * n_c * n_s * n_a * n_n,)
        for d in space.thresholds:
            # the loss threshold: delta below the plateau's level; a start already below it has no exit (NaN)
            exits = above > -d / 2
            deltas = np.where(exits, above + d, d)
            res = run_sweep(
                tg,
                {"ws": ws},
                "mu",
                memories,
                starts,
                delta=deltas,
                t1=t1,
                config=config,
                chunk=chunk,
                grid=[("c", space.c), ("sigma", space.sigma)],
                progress=progress,
            )
            # a solve that ended otherwise than at its events or t1 (the step budget) is unresolved: NaN
            resolved = np.array([st in ("ok", "t1_reached") for st in res.column("status")])
            shape = (n_mu, n_c, n_s, n_a, n_n)
            # a time not reached by t1 counts as t1
            tau_loss = np.where(resolved & exits, np.where(np.isnan(res.tau_loss), t1, res.tau_loss), np.nan)
            tau_param = np.where(resolved, np.where(np.isnan(res.tau_param), t1, res.tau_param), np.nan)
            raw[ws, d] = {"tau_loss": tau_loss.reshape(shape), "tau_param": tau_param.reshape(shape)}
    settings, loss_t, param_t = [], [], []
    for ws, c_i, s_i, a_i, n_i, delta, kappa, lam in itertools.product(
        space.w_star,
        range(n_c),
        range(n_s),
        range(n_a),
        range(n_n),
        space.delta,
        space.normalisation,
        space.param_normalisation,
    ):
        settings.append(
            {
                "w_star": ws,
                "c": space.c[c_i],
                "sigma": space.sigma[s_i],
                "amplitude": space.amplitude[a_i],
                "null_min": space.null_min[n_i],
                "null_rates": space.null_rates(space.null_min[n_i]),
                "delta": delta,
                "normalisation": kappa,
                "param_normalisation": lam,
            }
        )
        # the paper's time is memdyn's / kappa
        loss_t.append(raw[ws, delta / kappa]["tau_loss"][:, c_i, s_i, a_i, n_i] / kappa)
        param_t.append(raw[ws, delta / lam]["tau_param"][:, c_i, s_i, a_i, n_i] / kappa)
    return {
        "memories": memories,
        "settings": settings,
        "tau_loss": np.array(loss_t),
        "tau_param": np.array(param_t),
        "t1": t1,
    }


def _above_plateau(tg, ws: float, memories: Sequence[float], space: Space, starts: np.ndarray) -> np.ndarray:
    """J(theta0) - J(M*) per sweep element (memory, c, sigma outer, starts inner): how far each start's
    loss lies above the plateau's level, the loss at the amplitude-1 start with the same null rates."""
    points = [
        {"ws": ws, "mu": mu, "c": c, "sigma": sg} for mu, c, sg in itertools.product(memories, space.c, space.sigma)
    ]
    mstar = np.stack([mstar_start(space.null_rates(lo), w_star=ws) for lo in space.null_min])
    from ..core.loss import loss  # imports SymPy: here, not at import (the CLI reads Space's defaults for --help)

    tg = tg.lowered()  # the loss's closed form (a warm target from the cache holds only the solve's data)
    data = tg.data_batch(points)
    per_point = jax.jit(jax.vmap(jax.vmap(lambda d, th: loss(tg, d, th), in_axes=(None, 0)), in_axes=(0, None)))
    J0 = np.asarray(per_point(data, jnp.asarray(tg.internal(starts))))  # (points, n_a * n_n)
    Jp = np.asarray(per_point(data, jnp.asarray(tg.internal(mstar))))  # (points, n_n)
    return (J0 - np.tile(Jp, (1, len(space.amplitude)))).ravel()


def score(prediction: dict, points: Sequence[ReadOff]) -> dict:
    """Residuals ln(predicted / read-off) of every candidate at every point, chi^2 and consistency."""
    memories = prediction["memories"]
    residuals, sigmas = [], []
    for p in points:
        cols = [memories.index(float(x)) for x in p.x]
        predicted = prediction[p.quantity][:, cols]
        residuals.append(np.log(predicted / np.asarray(p.values)))
        sigmas.append(np.full(len(p.x), math.log1p(p.uncertainty)))
    r, u = np.concatenate(residuals, axis=1), np.concatenate(sigmas)
    chi2 = np.sum((r / u) ** 2, axis=1)
    return {"residuals": r, "sigma": u, "chi2": chi2, "consistent": np.all(np.abs(r) <= 2 * u, axis=1)}


@float64
def infer(
    points: Sequence[ReadOff],
    space: Space,
    *,
    t1: float | None = None,
    config: SolverConfig = SEARCH_CONFIG,
    top: int = 10,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """The settings of ``space`` consistent with ``points`` (best first), or the best one and its residuals.

    ``t1`` (memdyn's time; default 20 x the largest read-off x the largest kappa) bounds each solve: a setting whose hitting time lies beyond it is off by more than a factor 20 there,
    inconsistent whatever the exact value, and a solve that would run on to 1e9 costs ten times the
    steps of one stopped at the plateau's exit.

    Returns a JSON-ready dict: ``candidates`` (how many settings were searched), ``solves``,
    ``consistent`` (how many), ``unresolved`` (settings with a solve out of steps), ``settings`` (the ``top`` best: setting, chi2, largest |residual| in
    sigmas), ``best`` (its per-point predicted values and residuals) and ``curves`` (the best
    setting's hitting times at every memory searched).
    """
    points = tuple(points)
    if not points:
        raise InputError("points", "no read-off points given")
    memories = _memories(points)
    if t1 is None:
        t1 = 20.0 * max(v for p in points for v in p.values) * max(space.normalisation)
    pred = predict(space, memories, t1=t1, config=config, progress=progress)
    sc = score(pred, points)
    order = np.argsort(sc["chi2"], kind="stable")
    finite = lambda x: float(x) if np.isfinite(x) else None  # noqa: E731
    ranked = [
        {
            **pred["settings"][i],
            "chi2": finite(sc["chi2"][i]),
            "consistent": bool(sc["consistent"][i]),
            "max_abs_residual_sigmas": finite(np.max(np.abs(sc["residuals"][i]) / sc["sigma"])),
        }
        for i in order[:top]
    ]
    b = int(order[0])
    rows, k = [], 0
    for p in points:
        for x, v in zip(p.x, p.values):
            predicted = finite(pred[p.quantity][b, memories.index(float(x))])
            reached = predicted is not None and predicted * ranked[0]["normalisation"] < t1
            rows.append(
                {
                    "figure": p.figure,
                    "quantity": p.quantity,
                    "x": float(x),
                    "paper": float(v),
                    "memdyn": predicted,
                    "reached": reached,
                    "residual": finite(sc["residuals"][b, k]),
                    "residual_sigmas": finite(sc["residuals"][b, k] / sc["sigma"][k]),
                    "relative_gap": None if predicted is None else predicted / float(v) - 1,
                }
            )
            k += 1
    return {
        "points": [asdict(p) for p in points],
        "space": asdict(space),
        "t1": t1,
        "candidates": len(pred["settings"]),
        "solves": solve_count(space, points),
        "consistent": int(np.sum(sc["consistent"])),
        "unresolved": int(np.sum(~np.isfinite(sc["chi2"]))),
        "settings": ranked,
        "best": {**ranked[0], "rows": rows},
        "curves": {"memory": memories, **{q: [finite(t) for t in pred[q][b]] for q in QUANTITIES}},
    }


def _memories(points: Sequence[ReadOff]) -> list[float]:
    return sorted({float(x) for p in points for x in p.x})


def solve_count(space: Space, points: Sequence[ReadOff]) -> int:
    """How many solves ``infer`` runs: (w*, threshold) runs x memories x c x sigma x starts."""
    memories = _memories(points)
    return (
        len(space.w_star)
        * len(space.thresholds)
        * len(memories)
        * len(space.c)
        * len(space.sigma)
        * len(space.amplitude)
        * len(space.null_min)
    )


def paper_points(figure: str, uncertainty: float = 0.2, drop: Sequence[float] = ()) -> tuple[ReadOff, ...]:
    """The paper's read-offs of ``figure`` ("fig2" or "fig3") with the stated read-off uncertainty, leaving
    out those at the memories ``drop`` (to test whether some points fit the others' setting)."""
    if figure not in PAPER_POINTS:
        raise InputError("figure", f"must be one of {', '.join(PAPER_POINTS)}, got {figure!r}")
    drop = {float(x) for x in drop}
    memories = {x for p in PAPER_POINTS[figure] for x in p.x}
    if not drop <= memories:
        raise InputError(
            "drop",
            f"{figure} has read-offs at 1/omega = {', '.join(f'{x:g}' for x in sorted(memories))} "
            f"only, got {', '.join(f'{x:g}' for x in sorted(drop - memories))}",
        )
    if drop == memories:
        raise InputError("drop", "leaves no read-off point")
    kept = [[(x, v) for x, v in zip(p.x, p.values) if x not in drop] for p in PAPER_POINTS[figure]]
    return tuple(
        ReadOff(p.figure, p.quantity, tuple(x for x, _ in k), tuple(v for _, v in k), uncertainty)
        for p, k in zip(PAPER_POINTS[figure], kept)
        if k
    )


__all__ = [
    "FAMILY",
    "PAPER_POINTS",
    "PAPER_WIDTH",
    "ReadOff",
    "Space",
    "infer",
    "paper_points",
    "predict",
    "score",
    "solve_count",
]
