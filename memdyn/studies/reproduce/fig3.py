"""Section 3: JMLR Fig. 3, plateau and separation times for m = 10 (nine null neurons)."""

from __future__ import annotations

from pathlib import Path

from ... import plots
from ...core.pipeline import target as make_target
from ...core.sweep import run_sweep
from ..problems import DELTA, FIG3_NULL_RANGES, PAPER_FIG3, RHO, fig3_starts
from ..tables import markdown_table
from .text import fit_json, fit_text

TITLE = "Fig. 3: plateau and separation times, m = 10"
STEPS = 1


def compute(p, config, progress) -> dict:
    tg = make_target(RHO, {"mu": list(p.fig3_memories)})
    res = run_sweep(tg, {}, "mu", p.fig3_memories, fig3_starts(), delta=DELTA, t1=p.t1, config=config)
    progress("Fig. 3 sweep (m = 10)")
    n = len(FIG3_NULL_RANGES)
    runs = []
    for j, (lo, hi) in enumerate(FIG3_NULL_RANGES):
        pick = list(range(j, len(res.results), n))
        memory = [float(res.memory[i]) for i in pick]
        tau_loss = [res.results[i].tau_loss for i in pick]
        tau_param = [res.results[i].tau_param for i in pick]
        runs.append(
            {
                "null_range": [lo, hi],
                "w_min": lo,
                "memory": memory,
                "tau_loss": tau_loss,
                "tau_param": tau_param,
                "status": [res.results[i].status for i in pick],
                "fit_tau_loss": fit_json(memory, tau_loss),
                "fit_tau_loss_omega2": fit_json(memory, tau_loss, q=-2.0),
                "fit_tau_param": fit_json(memory, tau_param),
            }
        )
    return {
        "runs": runs,
        "paper": {str(k): v for k, v in PAPER_FIG3.items()},
        "timing": {"compile_s": res.compile_s, "run_s": res.run_s},
    }


def _figure(res: dict, path: Path):
    ax = plots.panels(1, width=6, height=4.2)[0]
    paper = res["paper"]
    xs = sorted(int(k) for k in paper)
    series, styles = {}, {}
    for run in res["runs"]:
        series[f"plateau τ′₀, w_min = {run['w_min']:g}"] = run["tau_loss"]
        series[f"separation τ₀, w_min = {run['w_min']:g}"] = run["tau_param"]
        styles[f"plateau τ′₀, w_min = {run['w_min']:g}"] = "s-"
        styles[f"separation τ₀, w_min = {run['w_min']:g}"] = "o:"
    plots.plot_lines(res["runs"][0]["memory"], series, ax=ax, xlabel="memory 1/ω", ylabel="time τ", styles=styles)
    ax.plot(xs, [paper[str(k)][0] for k in xs], "k^", mfc="none", label="paper: plateauing time (read off)")
    ax.plot(
        [k for k in xs if paper[str(k)][1]],
        [paper[str(k)][1] for k in xs if paper[str(k)][1]],
        "kv",
        mfc="none",
        label="paper: separation time (read off)",
    )
    ax.legend(fontsize="x-small")
    ax.set_title("Fig. 3: m = 10 on M* (paper's setting unknown: trend only)", fontsize="medium")
    plots.save(ax, path)


def figures(res: dict) -> dict:
    return {"fig3.png": lambda path: _figure(res, path)}


def lines(res: dict) -> list[str]:
    paper, runs = res["paper"], res["runs"]
    header = (
        ["1/ω"]
        + [f"{k} (w_min = {r['w_min']:g})" for r in runs for k in ("plateau τ′₀", "separation τ₀")]
        + ["paper plateau", "paper separation"]
    )
    rows = []
    for i, mu in enumerate(runs[0]["memory"]):
        pv = paper.get(str(int(mu))) or (None, None)
        rows.append((mu, *[x for r in runs for x in (r["tau_loss"][i], r["tau_param"][i])], pv[0], pv[1]))
    out = [
        "Starts: neuron 1 = (1, 1), nine null neurons at rates evenly spaced in "
        + " or ".join(f"[{r['null_range'][0]:g}, {r['null_range'][1]:g}]" for r in runs)
        + ".",
        "",
        markdown_table(header, rows),
        "",
    ]
    out += [
        f"- w_min = {r['w_min']:g}: {fit_text(r['fit_tau_loss'], 'slope of ln τ′₀')}, with the ω² prefactor "
        f"removed {fit_text(r['fit_tau_loss_omega2'], 'slope')}; all statuses "
        f"{'ok' if all(s == 'ok' for s in r['status']) else 'NOT ok: ' + str(r['status'])}."
        for r in runs
    ]
    return out + ["- the paper's read-off plateau times rise with slope ≈ 0.9.", "", "![Fig. 3](fig3.png)", ""]
