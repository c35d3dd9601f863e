"""Section 6: approximation (JMLR Thms 10-11, section 4.3): rates, the inverse theorem, the curse of memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import report
from ...core.pipeline import target as make_target
from ...theory.approx import approximate, width_for_accuracy

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
    inverse = {name: approximate(make_target(rho, {}), {}, p.approx_widths, min_rate=0.5).to_json()
               for name, rho in (("polynomial memory " + APPROX_POLY, APPROX_POLY),
                                 ("exponential memory " + APPROX_EXP, APPROX_EXP))}
    progress("inverse theorem")
    curse = width_for_accuracy(p.curse_omegas, p.curse_eps, m_max=p.curse_m_max)
    progress("curse of memory in approximation")
    return {"rates": {"rho": APPROX_SMOOTH, **rates}, "inverse": inverse, "curse": curse}


def _figure(res: dict, path: Path):
    ax1, ax2, ax3 = report.panels(3, width=4.6)
    r = res["rates"]
    report.plot_lines(r["m"], {"best L2 fit: L1 error": r["l1_error"], "Jackson network: L1 error": r["jackson_l1_error"],
                               "Thm 10 bound (computed)": r["jackson_bound"]}, ax=ax1, logx=True,
                      xlabel="width m", ylabel="L1 error", styles={"Thm 10 bound (computed)": "k--"})
    ax1.set_title(f"rates: {r['rho']}", fontsize="small")
    series = {name.split(" ")[0] + " memory": v["l2_error"] for name, v in res["inverse"].items()}
    report.plot_lines(next(iter(res["inverse"].values()))["m"], series, ax=ax2, logx=True, xlabel="width m",
                      ylabel="L2 error, decay rates ≥ 0.5")
    ax2.set_title("inverse theorem: spectrum kept below −0.5", fontsize="small")
    c = res["curse"]
    for i, eps in enumerate(sorted({row["eps"] for row in c["rows"]}, reverse=True)):
        rows = sorted((row for row in c["rows"] if row["eps"] == eps), key=lambda row: row["omega"])
        memory = [1.0 / row["omega"] for row in rows]
        ax3.semilogy(memory, [row["m"] if row["m"] else np.nan for row in rows], "o-", color=f"C{i}",
                     label=f"ε = {eps:g}: measured")
        ax3.semilogy(memory, [row["theory"] for row in rows], ":", color=f"C{i}", label=f"ε = {eps:g}: ω ε^(−1/ω)")
    ax3.set_xlabel("memory 1/ω")
    ax3.set_ylabel("smallest width m")
    ax3.legend(fontsize="x-small")
    ax3.set_title("curse of memory: ρ = (1+t)^−(1+ω)", fontsize="small")
    report.save(ax1, path)


def figures(res: dict) -> dict:
    return {"approx.png": lambda path: _figure(res, path)}


def lines(res: dict) -> list[str]:
    r = res["rates"]
    k = r["constants"]
    inverse = res["inverse"]
    curse = res["curse"]
    return [f"Rates for ρ = `{r['rho']}` with α = {r['alpha']}, β = {r['beta']} (γ = {k['gamma']:.4g}, sup over a grid; "
            f"e^(βt)ρ^(j) decays: {k['decays']}):", "",
            report.markdown_table(["m", "best fit L2", "best fit L1", "Jackson L1", "Thm 10 bound", "fit improved"],
                                  list(zip(r["m"], r["l2_error"], r["l1_error"], r["jackson_l1_error"],
                                           r["jackson_bound"], r["improved"]))), "",
            f"Slope of ln(L1 error) against ln m: best fit {r['rate_best']['slope']:.2f}, Jackson network "
            f"{r['rate_jackson']['slope']:.2f} (Thm 10: at most −α = −{r['alpha']}). "
            + ("The Jackson error stays under the computed bound at every width. "
               if all(e <= b for e, b in zip(r["jackson_l1_error"], r["jackson_bound"]))
               else "**The Jackson error exceeds the computed bound somewhere: see the table.** ")
            + ("".join(f"At m = {m} the Jackson network beats the best-fit L1 error: the L2 optimiser stalls there "
                       "(J's float64 conditioning), so treat that fit as an upper bound. "
                       for m, bl1, jl1 in zip(r["m"], r["l1_error"], r["jackson_l1_error"]) if jl1 < bl1)), "",
            "Inverse theorem: best fits with every decay rate ≥ 0.5 (W's spectrum below −0.5):", "",
            report.markdown_table(["m"] + list(inverse),
                                  [(m, *[v["l2_error"][i] for v in inverse.values()])
                                   for i, m in enumerate(next(iter(inverse.values()))["m"])]), "",
            "Curse of memory: smallest width whose best L2 fit reaches L1 error ε for ρ = (1+t)^−(1+ω) "
            f"(searched up to m = {curse['m_max']}; — = not reached), beside ω ε^(−1/ω):", "",
            report.markdown_table(["ω", "ε", "measured m", "ω ε^(−1/ω)"],
                                  [(row["omega"], row["eps"], row["m"], row["theory"]) for row in curse["rows"]]),
            "", f"Fitted constant C in m ≈ C ω ε^(−1/ω) (median ratio): {curse['constant']}. The construction "
            "behind ω ε^(−1/ω) is an upper bound; best fits can need fewer neurons at these accuracies.", "",
            "![approximation](approx.png)", ""]
