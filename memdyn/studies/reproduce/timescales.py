"""Section 4: gradient and Hessian on M* (Props. 33-34), and the two stages from a random start (Lemma 42)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import plots
from ...core.integrate import trajectory
from ...core.pipeline import target as make_target
from ...core.starts import random_bounded
from ...theory.timescales import spectrum_on_invariant_set, two_stages
from ..problems import RHO, mstar_start
from ..tables import markdown_table

TITLE = "Timescales: gradient and Hessian on M* (Props. 33-34), two stages (Lemma 42)"
STEPS = 2


def compute(p, config, progress) -> dict:
    tg = make_target(RHO, {"mu": list(p.spectrum_memories)})
    spectra = {}
    for name, nulls in (("m=2", [0.5]), ("m=3", [0.5, 0.8])):
        spectra[name] = spectrum_on_invariant_set(tg, {}, "mu", p.spectrum_memories, mstar_start(nulls))
    progress("Hessian spectra on M*")
    mu = 16.0
    a0, w0 = random_bounded(10, w_range=(0.5, 2.0), a_range=(-1.0, 1.0), beta=1.0, seed=0)
    ts = np.logspace(-3, 3, 80)
    stages = two_stages(tg, tg.data({"mu": mu}), np.concatenate([a0, w0]), ts, lambda *a: trajectory(*a, config=config))
    stages["mu"] = mu
    progress("two stages from a random start")
    return {"spectra": spectra, "stages": stages}


def _fig_spectra(res: dict, path: Path):
    axes = plots.panels(len(res["spectra"]))
    for ax, (name, sp) in zip(axes, res["spectra"].items()):
        mem = np.asarray(sp["memory"])
        plots.plot_lines(
            mem,
            {"‖∇J‖ on M*": sp["grad_norm"], "smallest |λ| of ∇²J": [abs(x) for x in sp["smallest"]]},
            ax=ax,
            xlabel="memory 1/ω",
            ylabel="size",
        )
        for key, style in (("fit_grad", "C0:"), ("fit_smallest", "C1:")):
            f = sp[key]
            if f:
                ax.plot(mem, np.exp(f["intercept"] + f["slope"] * mem + f["q"] * np.log(mem)), style, lw=1)
        ax.set_title(f"{name}: fits ln y = c + s/ω + q ln(1/ω)", fontsize="medium")
    plots.save(axes[0], path)


def _fig_stages(res: dict, path: Path):
    ax = plots.panels(1, width=6, height=4.2)[0]
    st = res["stages"]
    plots.plot_lines(
        st["t"],
        {"‖a(τ) − a₀‖ (amplitudes)": st["da"], "‖w(τ) − w₀‖ (decay rates)": st["dw"]},
        ax=ax,
        logx=True,
        xlabel="training time τ",
        ylabel="distance moved",
        styles={"‖a(τ) − a₀‖ (amplitudes)": "-", "‖w(τ) − w₀‖ (decay rates)": "-"},
    )
    twin = ax.twinx()
    twin.loglog(st["t"], st["stiffness"], "k:", lw=1)
    twin.set_ylabel("stiffness max|λ|/min|λ| (dotted)")
    ax.set_title(f"random start, m = 10, 1/ω = {st['mu']:g}: fast a, slow w", fontsize="medium")
    plots.save(ax, path)


def figures(res: dict) -> dict:
    return {"spectra.png": lambda path: _fig_spectra(res, path), "stages.png": lambda path: _fig_stages(res, path)}


def lines(res: dict) -> list[str]:
    out = [
        "Fits of ln y = c + s·(1/ω) + q·ln(1/ω); the propositions bound ‖∇J‖ by (s, q) = (−w_min, 1) and the small "
        "Hessian eigenvalues by (−w_min, 2).",
        "",
    ]
    rows = []
    for name, sp in res["spectra"].items():
        for label, key, theory in (
            ("‖∇J‖", "fit_grad", sp["theory_grad"]),
            ("smallest eigenvalue (abs.)", "fit_smallest", sp["theory_hessian"]),
        ):
            f = sp[key]
            rows.append(
                (
                    name,
                    label,
                    None if not f else f"{f['slope']:.3f} ± {f['slope_stderr']:.3f}",
                    None if not f else f"{f['q']:.2f} ± {f['q_stderr']:.2f}",
                    theory["s"],
                    theory["q"],
                    None if not f else f"{f['slope'] / -sp['w_min']:.2f}",
                    f"{sp['near_zero'][-1]} at 1/ω = {sp['memory'][-1]:g} (m − m* = {sp['m_minus_m_star']})",
                )
            )
    tail = next(iter(res["spectra"].values()))["fit_grad"]["min_x"]
    out += [
        markdown_table(
            [
                "start (null rates)",
                "quantity",
                "fitted s",
                "fitted q",
                "bound s",
                "bound q",
                "s / (−w_min)",
                "near-zero eigenvalues",
            ],
            rows,
        ),
        "",
        f"Fitted over 1/ω ≥ {tail:g} (the long-memory half). Starts: m=2 has one null neuron at 0.5, m=3 two at "
        "0.5 and 0.8. Near zero means |λ| < 1e-3 max|λ|; the propositions say at least m − m*. Both propositions are "
        "upper bounds: compare the fitted s with −w_min (ratio 1 = the bound's rate; above 1 = decays faster).",
        "",
        "![spectra](spectra.png)",
        "",
    ]
    st = res["stages"]
    out += [
        f"From the JMLR random start (m = 10, w₀ ~ U[0.5, 2], a₀ = a₀′/m, a₀′ ~ U[−1, 1], seed 0) at 1/ω = "
        f"{st['mu']:g}: by τ = 1 the amplitudes have moved {st['at_tau_1']['da']:.3g} and the decay rates "
        f"{st['at_tau_1']['dw']:.3g} (Stage I fits the short memory with a); over τ ≤ {st['t'][-1]:g} the "
        f"amplitudes cover 90% of their motion by τ = {st['t90_a']:.3g}, the rates by τ = {st['t90_w']:.3g}. "
        f"The Hessian's stiffness ratio along the path reaches {max(st['stiffness']):.3g}.",
        "",
        "![two stages](stages.png)",
        "",
    ]
    return out
