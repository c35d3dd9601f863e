"""The bridge: plateau exits of real (discrete, sampled) training against the reduced gradient flow.

The reduced flow of ``memdyn.core.integrate`` is an idealisation in four steps: white noise and the
Ito isometry (infinitely many samples), T -> infinity, diagonal W with c and U merged into a,
and continuous time (dt -> 0, lr -> 0). This module trains the diagonal linear RNN of
``memdyn.rnn.model`` with U frozen at 1 (so c = a exactly) by plain gradient descent from the same
start as the flow, and compares the exit ``epoch * lr`` (first epoch with ``|L - L_0| > delta``)
with the flow's ``tau_loss``, undoing one idealisation at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..core.integrate import SolverConfig, hitting_times
from ..core.pipeline import target as make_target
from ..errors import MemdynError
from .model import RNNSpec, diagonal_start, rho_grid
from .train import TrainConfig, exit_crossing, train


@dataclass(frozen=True)
class BridgeSetting:
    """One discrete training run to hold against the reduced flow."""

    lr: float
    dt: float
    horizon: float
    samples: int | None = None
    seed: int = 0


def reduced_tau(
    rho: str, params: Mapping[str, float] | None, a0, w0, delta: float, config: SolverConfig = SolverConfig()
) -> dict:
    tg = make_target(rho, params)
    r = hitting_times(tg, tg.data(params), a0, w0, delta=delta, t1=1e8, config=config)
    if r.tau_loss is None:
        raise MemdynError(f"the reduced flow does not leave the plateau by 1e8 ({r.status}); pick a shorter memory")
    return {"tau_loss": r.tau_loss, "loss_initial": r.loss_initial}


def discrete_exit(
    rho: str, params: Mapping[str, float] | None, a0, w0, delta: float, s: BridgeSetting, *, budget: float
) -> dict:
    """Train the diagonal linear RNN from (c, w) = (a0, w0), U = 1, for ``budget / lr`` epochs."""
    spec = RNNSpec(
        width=len(a0), dt=s.dt, horizon=s.horizon, activation="linear", recurrence="diagonal", train_input=False
    )
    grid = rho_grid(rho, params, spec)
    config = TrainConfig(
        optimizer="gd",
        lr=s.lr,
        epochs=int(math.ceil(budget / s.lr)),
        samples=s.samples,
        delta=delta,
        seed=s.seed,
        chunk=2000,
    )
    res = train(spec, grid, config, start=diagonal_start(a0, w0))
    ex = res.exit_epochs()[0]
    crossing = exit_crossing(res.loss[0], delta)
    return {
        "lr": s.lr,
        "dt": s.dt,
        "T": s.horizon,
        "samples": s.samples,
        "seed": s.seed,
        "loss_initial": float(res.loss[0, 0]),
        "exit_epoch": ex,
        "exit_time": None if ex is None else ex * s.lr,
        "exit_time_interpolated": None if crossing is None else crossing * s.lr,
    }


def compare(
    rho: str,
    params: Mapping[str, float] | None,
    a0: Sequence[float],
    w0: Sequence[float],
    delta: float,
    settings: Sequence[BridgeSetting],
    *,
    budget_factor: float = 3.0,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Each setting's exit time beside the reduced flow's tau_loss, with the relative gap.

    Runs train for ``budget_factor * tau_loss`` in training time; an exit not reached by then is None.
    """
    ref = reduced_tau(rho, params, a0, w0, delta)
    rows = []
    for s in settings:
        row = discrete_exit(rho, params, a0, w0, delta, s, budget=budget_factor * ref["tau_loss"])
        row["rel_gap"] = None if row["exit_time"] is None else row["exit_time"] / ref["tau_loss"] - 1.0
        rows.append(row)
        if progress is not None:
            progress(f"lr={s.lr:g} dt={s.dt:g} T={s.horizon:g} N={s.samples}")
    return {
        "rho": rho,
        "params": dict(params or {}),
        "a0": list(a0),
        "w0": list(w0),
        "delta": delta,
        "tau_loss": ref["tau_loss"],
        "loss_initial": ref["loss_initial"],
        "rows": rows,
    }


def sample_spread(rows: Sequence[dict]) -> dict[int, dict]:
    """Per sample count: mean and standard deviation of the relative gap over seeds (exits only)."""
    out: dict[int, dict] = {}
    for n in sorted({r["samples"] for r in rows if r["samples"] is not None}):
        gaps = [r["rel_gap"] for r in rows if r["samples"] == n and r["rel_gap"] is not None]
        missing = sum(1 for r in rows if r["samples"] == n and r["rel_gap"] is None)
        out[n] = {
            "mean": float(np.mean(gaps)) if gaps else None,
            "std": float(np.std(gaps)) if gaps else None,
            "runs": len(gaps) + missing,
            "no_exit": missing,
        }
    return out
