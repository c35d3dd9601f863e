"""Section 2: JMLR Fig. 2, loss and gradient norm against training time for m = 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import plots
from ...core.integrate import trajectory
from ...core.pipeline import target as make_target
from ...core.sweep import run_sweep
from ..problems import DELTA, PAPER_FIG2_EXIT, RHO, mstar_start
from ..tables import markdown_table

TITLE = "Fig. 2: loss and gradient norm, m = 2"
STEPS = 1


def compute(p, config, progress) -> dict:
    tg = make_target(RHO, {"mu": list(p.fig2_memories)})
    start = mstar_start([0.5])
    res = run_sweep(tg, {}, "mu", p.fig2_memories, start, delta=DELTA, t1=p.t1, config=config)
    curves = []
    for mu, r in zip(p.fig2_memories, res.results):
        horizon = 30.0 * max(r.tau_loss or 0.0, r.tau_param or 0.0, 10.0)
        ts = np.logspace(-2, np.log10(horizon), p.curve_points)
        tr = trajectory(tg, tg.data({"mu": mu}), start, ts, config=config)
        curves.append(
            {
                "label": f"1/ω = {mu:g}",
                "mu": mu,
                "t": ts.tolist(),
                "loss": tr["loss"].tolist(),
                "grad_norm": tr["grad_norm"].tolist(),
                "tau_param": r.tau_param,
                "tau_loss": r.tau_loss,
                "paper_exit": PAPER_FIG2_EXIT.get(int(mu)),
            }
        )
    progress("Fig. 2 curves")
    return {"start": start.tolist(), "curves": curves}


def _figure(res: dict, path: Path):
    ax1, ax2 = plots.panels(2)
    plots.plot_loss_curves(res["curves"], ax=ax1)
    colors = plots.plt.cm.viridis(np.linspace(0, 0.9, len(res["curves"])))
    for c, color in zip(res["curves"], colors):
        ax2.loglog(c["t"], c["grad_norm"], color=color, label=c["label"])
    ax2.set_xlabel("training time τ")
    ax2.set_ylabel("‖∇J‖")
    ax2.legend(fontsize="small", ncol=2)
    ax2.set_title("gradient norm: small on the plateau, a spike at the exit", fontsize="medium")
    plots.save(ax1, path)


def figures(res: dict) -> dict:
    return {"fig2.png": lambda path: _figure(res, path)}


def lines(res: dict) -> list[str]:
    return [
        markdown_table(
            ["1/ω", "τ₀", "τ′₀ (memdyn)", "paper's exit (read off)"],
            [(c["mu"], c["tau_param"], c["tau_loss"], c["paper_exit"]) for c in res["curves"]],
        ),
        "",
        "![Fig. 2](fig2.png)",
        "",
    ]
