"""Section 1: plateau length against memory for two values of w_min, with the Theorem-20 fits."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import plots
from ...core.pipeline import target as make_target
from ...core.sweep import run_sweep
from ..problems import DELTA, RHO, mstar_start
from ..tables import markdown_table
from .text import fit_text

TITLE = "Plateau length against memory (Theorem 20)"
STEPS = 2


def compute(p, config, progress) -> dict:
    tg = make_target(RHO, {"mu": list(p.memories)})
    out = []
    for w_null in p.null_rates:
        res = run_sweep(tg, {}, "mu", p.memories, mstar_start([w_null]), delta=DELTA, t1=p.t1, config=config)
        progress(f"plateau sweep, w_min = {w_null}")
        js = res.to_json()
        js["null_rate"] = w_null
        out.append(js)
    return {"rho": RHO, "delta": DELTA, "sweeps": out}


def _figure(res: dict, path: Path):
    ax = plots.panels(1, width=6.5, height=4.5)[0]
    for sweep, color in zip(res["sweeps"], ("C0", "C1", "C2")):
        mem = np.asarray(sweep["memory"])
        w = sweep["w_min"][0]
        for key, style in (("tau_param", "o"), ("tau_loss", "s")):
            y = np.array([np.nan if v is None else v for v in sweep[key]], dtype=float)
            ax.semilogy(
                mem,
                y,
                style,
                color=color,
                mfc="none" if key == "tau_param" else color,
                label=f"w_min = {w:g}: {'τ₀' if key == 'tau_param' else 'τ′₀'}",
            )
            fit = sweep["fit"][key]["plain"]
            if fit:
                ax.semilogy(
                    mem,
                    np.exp(fit["intercept"] + fit["slope"] * mem),
                    "-" if key == "tau_loss" else ":",
                    color=color,
                    lw=1,
                )
        # The bound's shape omega^2 e^{w_min/omega}, anchored at the first tau_param.
        first = next((i for i, v in enumerate(sweep["tau_param"]) if v is not None), None)
        if first is not None:
            shape = mem**-2 * np.exp(w * mem)
            ax.semilogy(
                mem,
                shape * sweep["tau_param"][first] / shape[first],
                "--",
                color=color,
                lw=0.8,
                alpha=0.7,
                label=f"bound shape ω² e^(w_min/ω), w_min = {w:g}",
            )
    ax.set_xlabel("memory 1/ω")
    ax.set_ylabel("hitting time τ")
    ax.legend(fontsize="x-small", ncol=2)
    ax.set_title("Theorem 20: ln τ grows at least like w_min/ω", fontsize="medium")
    plots.save(ax, path)


def figures(res: dict) -> dict:
    return {"escape_times.png": lambda path: _figure(res, path)}


def lines(res: dict) -> list[str]:
    out = [
        "The bound: τ′₀ ≥ τ₀ ≳ ω² e^{w_min/ω}, so ln(τ/ω²) grows at least linearly in 1/ω with slope w_min "
        "(the verdict below uses that form; the plain slope of ln τ is shown too, and at finite memory it may sit "
        "up to 2ω below w_min without contradicting the bound).",
        "",
    ]
    for sweep in res["sweeps"]:
        w = sweep["w_min"][0]
        rows = [
            (mu, tp, tl, li, st, br)
            for mu, tp, tl, li, st, br in zip(
                sweep["memory"],
                sweep["tau_param"],
                sweep["tau_loss"],
                sweep["loss_initial"],
                sweep["status"],
                sweep["fit"]["tau_param"]["bound_ratio"],
            )
        ]
        verdict = []
        for label, key in (("τ₀", "tau_param"), ("τ′₀", "tau_loss")):
            plain, pref = sweep["fit"][key]["plain"], sweep["fit"][key]["omega2"]
            if plain and pref:
                ok = pref["slope"] + 2 * pref["slope_stderr"] >= w
                verdict.append(
                    f"{label}: {fit_text(plain)}; of ln(τ/ω²) = **{pref['slope']:.3f} ± "
                    f"{pref['slope_stderr']:.3f}** ({'consistent with' if ok else 'BELOW'} the bound's {w:g})"
                )
        out += [
            f"### m = 2, null neuron at w = {w:g} (w_min = {w:g})",
            "",
            markdown_table(["1/ω", "τ₀", "τ′₀", "J(θ₀)", "status", "τ₀/(ω² e^{w_min/ω})"], rows),
            "",
            "- " + "\n- ".join(verdict),
            "",
        ]
    return out + ["![escape times](escape_times.png)", ""]
