"""Section 6: approximation (JMLR Thms 10-11, section 4.3): rates, the inverse theorem, the curse of memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import plots
from ...core.pipeline import target as make_target
from ...theory.approx import approximate
from ..curse import curse_table
from ..tables import markdown_table

TITLE = "Approximation (JMLR Thms 10-11, section 4.3)"
STEPS = 3

APPROX_SMOOTH = "exp(-t)*(1 + sin(t))"
APPROX_POLY = "(1 + t)^(-1.5)"
APPROX_EXP = "exp(-t)*(1 + 0.5*cos(t)) + 0.5*exp(-2*t)"


def compute(p, config, progress) -> dict:
    alpha, beta = 1, 0.9
    smooth = approximate(make_target(APPROX_SMOOTH, {}), {}, p.approx_widths, alpha=alpha, beta=beta).to_json()
    rates = {k: v for k, v in smooth.items() if k not in ("rate_best_l1", "rate_jackson_l1")}
    rates["rate_best"], rates["rate_jackson"] = smooth["rate_best_l1"], smooth["rate_jackson_l1"]
    progress("approximation rates")
    inverse = {
        name: approximate(make_target(rho, {}), {}, p.approx_widths, min_rate=0.5).to_json()
        for name, rho in (
            ("polynomial memory " + APPROX_POLY, APPROX_POLY),
            ("exponential memory " + APPROX_EXP, APPROX_EXP),
        )
    }
    progress("inverse theorem")
    curse = curse_table(p.curse_omegas, p.curse_eps, m_max=p.curse_m_max)
    progress("curse of memory in approximation")
    return {"rates": {"rho": APPROX_SMOOTH, **rates}, "inverse": inverse, "curse": curse}


def _figure(res: dict, path: Path):
    ax1, ax2, ax3 = plots.panels(3, width=4.6)
    r = res["rates"]
    plots.plot_lines(
        r["m"],
        {
            "best L2 fit: L1 error": r["l1_error"],
            "Jackson network: L1 error": r["jackson_l1_error"],
            "Thm 10 bound (computed)": r["jackson_bound"],
        },
        ax=ax1,
        logx=True,
        xlabel="width m",
        ylabel="L1 error",
        styles={"Thm 10 bound (computed)": "k--"},
    )
    ax1.set_title(f"rates: {r['rho']}", fontsize="small")
    series = {name.split(" ")[0] + " memory": v["l2_error"] for name, v in res["inverse"].items()}
    plots.plot_lines(
        next(iter(res["inverse"].values()))["m"],
        series,
        ax=ax2,
        logx=True,
        xlabel="width m",
        ylabel="L2 error, decay rates ≥ 0.5",
    )
    ax2.set_title("inverse theorem: spectrum kept below −0.5", fontsize="small")
    c = res["curse"]
    for i, k in enumerate(c["kernels"]):
        eps = [r["eps"] for r in k["rows"]]
        ax3.loglog(eps, [r["m_free"] or np.nan for r in k["rows"]], "o-", color=f"C{i}", label=f"{k['rho']}: best fits")
        ax3.loglog(
            eps,
            [r["m_bounded"] or np.nan for r in k["rows"]],
            "s--",
            color=f"C{i}",
            mfc="none",
            label=f"rates ≥ {c['min_rate']:g}",
        )
        if k["omega"] is not None:
            ax3.loglog(eps, [r["omega_law"] for r in k["rows"]], ":", color=f"C{i}", label="ω ε^(−1/ω)")
        if k["law"]:
            ax3.loglog(
                eps,
                [r["sqrt_law"] for r in k["rows"]],
                "-.",
                color=f"C{i}",
                alpha=0.5,
                label=f"exp(−{k['law']['c']:.2f}√m) law",
            )
    ax3.invert_xaxis()
    ax3.set_ylim(0.8, 1e4)
    ax3.set_xlabel("L2 accuracy ε")
    ax3.set_ylabel("smallest width m(ε)")
    ax3.legend(fontsize="xx-small", ncol=2, loc="upper left")
    ax3.set_title("curse of memory: m(ε) of best L2 fits", fontsize="small")
    plots.save(ax1, path)


def figures(res: dict) -> dict:
    return {"approx.png": lambda path: _figure(res, path)}


def lines(res: dict) -> list[str]:
    r = res["rates"]
    k = r["constants"]
    inverse = res["inverse"]
    curse = res["curse"]
    return [
        f"Rates for ρ = `{r['rho']}` with α = {r['alpha']}, β = {r['beta']} (γ = {k['gamma']:.4g}, sup over a grid; "
        f"e^(βt)ρ^(j) decays: {k['decays']}):",
        "",
        markdown_table(
            ["m", "best fit L2", "best fit L1", "Jackson L1", "Thm 10 bound", "fit improved"],
            list(zip(r["m"], r["l2_error"], r["l1_error"], r["jackson_l1_error"], r["jackson_bound"], r["improved"])),
        ),
        "",
        f"Slope of ln(L1 error) against ln m: best fit {r['rate_best']['slope']:.2f}, Jackson network "
        f"{r['rate_jackson']['slope']:.2f} (Thm 10: at most −α = −{r['alpha']}). "
        + (
            "The Jackson error stays under the computed bound at every width. "
            if all(e <= b for e, b in zip(r["jackson_l1_error"], r["jackson_bound"]))
            else "**The Jackson error exceeds the computed bound somewhere: see the table.** "
        )
        + (
            "".join(
                f"At m = {m} the Jackson network beats the best-fit L1 error: the L2 optimiser stalls there "
                "(J's float64 conditioning), so treat that fit as an upper bound. "
                for m, bl1, jl1 in zip(r["m"], r["l1_error"], r["jackson_l1_error"])
                if jl1 < bl1
            )
        ),
        "",
        "Inverse theorem: best fits with every decay rate ≥ 0.5 (W's spectrum below −0.5):",
        "",
        markdown_table(
            ["m"] + list(inverse),
            [
                (m, *[v["l2_error"][i] for v in inverse.values()])
                for i, m in enumerate(next(iter(inverse.values()))["m"])
            ],
        ),
        "",
        "Curse of memory, measured (`memdyn.theory.expfit.curse_table`, 256-bit best L2 fits, searched to m = "
        f"{curse['m_max']}; — = not reached): smallest width m(ε) whose best fit reaches L2 error ε, with free "
        f"rates and with rates ≥ {curse['min_rate']:g} (Thm 11's bounded spectrum), beside the paper's ω ε^(−1/ω) "
        "and the exp(−c√m) law fitted to the free fits from m = 4:",
        "",
        markdown_table(
            ["ρ", "ε", "m free", f"m rates ≥ {curse['min_rate']:g}", "ω ε^(−1/ω)", "exp(−c√m) law", "c"],
            [
                (
                    k["rho"],
                    r["eps"],
                    r["m_free"],
                    r["m_bounded"],
                    r["omega_law"],
                    r["sqrt_law"],
                    k["law"]["c"] if k["law"] else None,
                )
                for k in curse["kernels"]
                for r in k["rows"]
            ],
        ),
        "",
        "Best L2 errors by width:",
        "",
        markdown_table(
            ["m"] + [f"{k['rho']} {kind}" for k in curse["kernels"] for kind in ("free", "bounded")],
            [
                (m, *[k[f"l2_{kind}"][m - 1] for k in curse["kernels"] for kind in ("free", "bounded")])
                for m in range(1, curse["m_max"] + 1)
            ],
        ),
        "",
        "Power-law memory: free rates converge like exp(−c√m) (completely monotone kernels), so m(ε) grows like "
        "ln(1/ε)^2, far below ω ε^(−1/ω) (a construction's upper bound); with the spectrum kept below "
        f"−{curse['min_rate']:g} the fits stall, as the inverse theorem says they must. The exponentially "
        "decaying kernel converges geometrically either way.",
        "",
        "![approximation](approx.png)",
        "",
    ]
