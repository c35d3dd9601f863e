"""Section 5: momentum (JMLR Appendix B): the saddle, and the heavy ball on the memory problem."""

from __future__ import annotations

from pathlib import Path

from ... import plots
from ...core.pipeline import target as make_target
from ...core.sweep import run_sweep
from ...theory.momentum import saddle_scan
from ..problems import DELTA, RHO, mstar_start
from ..tables import markdown_table
from .text import fit_text

TITLE = "Momentum (JMLR Appendix B)"
STEPS = 2


def compute(p, config, progress) -> dict:
    saddle = {
        name: saddle_scan(p.saddle_eps, friction=fr)
        for name, fr in (("gradient flow", None), ("heavy ball, gamma = 0", 0.0), ("heavy ball, gamma = 0.5", 0.5))
    }
    progress("saddle escape times")
    tg = make_target(RHO, {"mu": list(p.momentum_memories)})
    start = mstar_start([0.5])
    rows = {}
    for name, friction in (("gradient flow", None), ("heavy ball, gamma = 0.3", 0.3)):
        res = run_sweep(
            tg, {}, "mu", p.momentum_memories, start, delta=DELTA, t1=p.t1, config=config, friction=friction
        )
        table = res.to_json()
        rows[name] = {
            "tau_param": table["tau_param"],
            "tau_loss": table["tau_loss"],
            "status": table["status"],
            "fit_tau_loss": table["fit"]["tau_loss"]["plain"],
        }
    progress("heavy ball on the memory problem")
    return {
        "saddle": saddle,
        "memory_problem": {"memories": list(p.momentum_memories), "start": start.tolist(), **rows},
    }


def _figure(res: dict, path: Path):
    ax1, ax2 = plots.panels(2)
    for name, sc in res["saddle"].items():
        ax1.loglog(sc["eps"], sc["tau"], "o-", ms=4, label=f"{name}: τ ~ ε^{sc['exponent']:.2f}")
    ax1.set_xlabel("negative curvature ε")
    ax1.set_ylabel("escape time")
    ax1.legend(fontsize="small")
    ax1.set_title("JMLR App. B saddle", fontsize="medium")
    mp = res["memory_problem"]
    series = {name: v["tau_loss"] for name, v in mp.items() if isinstance(v, dict)}
    plots.plot_lines(mp["memories"], series, ax=ax2, xlabel="memory 1/ω", ylabel="τ′₀ (loss moves δ)")
    ax2.set_title("memory problem, m = 2 on M*", fontsize="medium")
    plots.save(ax1, path)


def figures(res: dict) -> dict:
    return {"momentum.png": lambda path: _figure(res, path)}


def lines(res: dict) -> list[str]:
    rows = [
        (name, f"{sc['exponent']:.3f} ± {sc['exponent_stderr']:.3f}", f"{sc['max_rel_error']:.1e}")
        for name, sc in res["saddle"].items()
    ]
    mp = res["memory_problem"]
    return [
        "Saddle f = (x₁² − εx₂²)/2 from (1, 10⁻³), escape at |x₂| = 1, ε from 1e-1 to 1e-4: fitted exponent of "
        "τ ~ ε^p (theory: −1 for gradient flow, −1/2 for the undamped heavy ball; a fixed friction returns to −1 "
        "as ε → 0), and the largest error against the exact escape time.",
        "",
        markdown_table(["dynamics", "exponent p", "max rel. error vs exact"], rows),
        "",
        "On the memory problem (m = 2 on M*, null rate 0.5):",
        "",
        markdown_table(
            ["1/ω"] + [k for k, v in mp.items() if isinstance(v, dict)],
            [
                (mu, *[v["tau_loss"][i] for v in mp.values() if isinstance(v, dict)])
                for i, mu in enumerate(mp["memories"])
            ],
        ),
        "",
        "; ".join(
            f"{k}: {fit_text(v['fit_tau_loss'], 'slope of ln τ′₀')}" for k, v in mp.items() if isinstance(v, dict)
        )
        + ".",
        "",
        "![momentum](momentum.png)",
        "",
    ]
