"""Section 11: the paper's figures side by side with memdyn, under the settings inferred for them.

One table (``results.json`` key ``fidelity``): a row per read-off value of JMLR Figs. 1b, 2, 3 and 4
and Theorem 20's bound, with ``relative_gap`` = memdyn / paper - 1 and an ``explanation`` wherever
the gap exceeds 25%. The Figs. 2-3 settings are the best ``examples/infer_paper.py`` found
(:data:`memdyn.studies.problems.INFERRED`, checked against its committed output by a test), solved
afresh here; Fig. 1b's (unit-variance inputs, lr 0.05) is the one ``examples/fig1b_hypotheses.py``
singled out, run here; Fig. 4a comes from section 7's linear run, converted to the paper's input
scaling by the exact identity of :mod:`memdyn.rnn.model` (unit-variance inputs: every loss times dt).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import report
from ...rnn.model import RNNSpec, rho_grid
from ...rnn.train import TrainConfig, train
from ..infer import Space, predict
from ..problems import AIRY, INFERRED, PAPER_FIG1B, PAPER_FIG2_EXIT, PAPER_FIG3, PAPER_FIG4_LINEAR_GD

TITLE = "Fidelity: the paper's read-off values beside memdyn's, every gap explained"
STEPS = 1
NEEDS_RESULTS = True
"""compute() also receives the sections computed before it (Figs. 1b and 4 from 'training', the bound from 'sweeps')."""

TOLERANCE = 0.25
"""A gap beyond this (|memdyn / paper - 1|) needs an explanation."""


def _row(figure, quantity, x, paper, memdyn, setting, explanation=None) -> dict:
    gap = None if memdyn is None else memdyn / paper - 1
    if gap is None or abs(gap) > TOLERANCE:
        if not explanation:
            raise AssertionError(f"{figure} {quantity} at {x}: a gap of {gap} needs an explanation")
    return {"figure": figure, "quantity": quantity, "x": x, "paper": paper, "memdyn": memdyn, "setting": setting,
            "relative_gap": gap, "explanation": explanation if gap is None or abs(gap) > TOLERANCE else None}


def _setting_text(s: dict) -> str:
    rates = s["null_rates"]
    nulls = f"null rate {rates[0]:g}" if len(rates) == 1 else f"{len(rates)} null rates {rates[0]:g}..{rates[-1]:g}"
    a = s.get("amplitude", 1.0)
    start = "M* start" if a == 1 else f"start off M* (neuron 1 amplitude {a:g})"
    return (f"c = {s['c']:g}, sigma = {s['sigma']:g}, w* = {s['w_star']:g}, {start} ({nulls}), delta = {s['delta']:g}, "
            f"loss = {s['normalisation']:g} J")


def _flow_curve(figure: str, memories, config, t1: float) -> dict:
    """Hitting times under the inferred setting of ``figure`` at ``memories``, in the paper's time:
    :func:`memdyn.studies.infer.predict` on that one setting (None where not reached or unresolved)."""
    s = INFERRED[figure]
    rates = s["null_rates"]
    space = Space(width=len(rates) + 1, c=(s["c"],), sigma=(s["sigma"],), w_star=(s["w_star"],), null_min=(rates[0],),
                  null_max=rates[-1] if len(rates) > 1 else Space.null_max, delta=(s["delta"],),
                  normalisation=(s["normalisation"],), amplitude=(s.get("amplitude", 1.0),))
    memories = sorted(float(x) for x in memories)
    pred = predict(space, memories, t1=t1, config=config)
    reached = lambda t: float(t) if np.isfinite(t) and t * s["normalisation"] < t1 else None  # noqa: E731
    return {"memory": memories, **{q: [reached(t) for t in pred[q][0]] for q in ("tau_loss", "tau_param")}}


FIG1B_SETTING = {"noise": "unit", "lr": 0.05}
"""Fig. 1b's inferred setting (examples/fig1b_hypotheses.py): unit-variance inputs, GD at lr 0.05."""


def _fig1b(p) -> dict:
    spec = RNNSpec(width=16, dt=0.1, horizon=6.4, noise=FIG1B_SETTING["noise"])
    cfg = TrainConfig(optimizer="gd", lr=FIG1B_SETTING["lr"], epochs=max(PAPER_FIG1B), samples=None, chunk=4000)
    res = train(spec, rho_grid(AIRY, {}, spec), cfg, seeds=p.fig1_seeds)
    finite = np.isfinite(res.loss).all(axis=1)
    return {"epochs": list(PAPER_FIG1B), "mean": [float(res.loss[finite, e].mean()) for e in PAPER_FIG1B],
            "seeds": p.fig1_seeds, "diverged": int((~finite).sum())}


def compute(p, config, progress, results) -> dict:
    rows, curves = [], {}
    # --- Fig. 1b: the inferred setting, run here (10 seeds, 40k epochs: ~15 s)
    f1 = curves["fig1b"] = _fig1b(p)
    for epoch, got in zip(f1["epochs"], f1["mean"]):
        paper = PAPER_FIG1B[epoch]
        late = epoch > 25000
        rows.append(_row("Fig. 1b", f"mean loss ({f1['seeds']} seeds)", epoch, paper, got,
                         f"unit-variance inputs, GD lr {FIG1B_SETTING['lr']:g}, full W, width 16",
                         FIG1B_LATE if late else FIG1B_LEVEL))
    # --- Figs. 2 and 3: the inferred settings, solved afresh
    for figure, points in (("fig2", PAPER_FIG2_EXIT), ("fig3", PAPER_FIG3)):
        curves[figure] = _flow_curve(figure, points, config, p.t1)
    fig2, fig3 = curves["fig2"], curves["fig3"]
    for x, paper in PAPER_FIG2_EXIT.items():
        got = fig2["tau_loss"][fig2["memory"].index(x)]
        rows.append(_row("Fig. 2", "exit time τ′₀", x, paper, got, _setting_text(INFERRED["fig2"]), _off_mstar("fig2")))
    for x, (plateau, separation) in PAPER_FIG3.items():
        i = fig3["memory"].index(x)
        rows.append(_row("Fig. 3", "plateau time τ′₀", x, plateau, fig3["tau_loss"][i],
                         _setting_text(INFERRED["fig3"]), _off_mstar("fig3")))
        if separation:
            rows.append(_row("Fig. 3", "separation time τ₀", x, separation, fig3["tau_param"][i],
                             _setting_text(INFERRED["fig3"]), _off_mstar("fig3")))
    # --- Fig. 4a: section 7's linear network on 128 white-noise samples in the paper's scaling (x dt, exact for a
    # linear network and its target); its plateau level is the bump's uncaptured energy
    dt = results["training"]["settings"]["fig4"]["dt"]
    bump = dt * 0.25 * np.sqrt(np.pi)  # dt c^2 sigma sqrt(pi), memdyn's c = 0.5, sigma = 1
    curve = results["training"]["fig4"].get("white", {}).get("linear + GD")
    for epoch, paper in PAPER_FIG4_LINEAR_GD.items() if curve else ():
        e = curve["epochs"]
        i = min(range(len(e)), key=lambda k: abs(e[k] - epoch))
        if abs(e[i] - epoch) > 0.05 * epoch:
            continue  # the run is shorter than the read-off (quick profile: 1,500 epochs)
        rows.append(_row("Fig. 4a", "mean loss, linear + GD", epoch, paper, dt * curve["mean"][i],
                         f"c = 0.5, sigma = 1, unit-variance inputs (section 7's run x dt), lr {curve['lr'] / dt:g}",
                         FIG4_LEVEL.format(bump=bump, need=paper / (dt * np.sqrt(np.pi)))))
    # --- Theorem 20: the fitted slope of ln(tau'/omega^2) against the bound's w_min
    for sweep in results["sweeps"]["sweeps"]:
        fit = sweep["fit"]["tau_loss"]["omega2"]
        w = sweep["w_min"][0]
        if fit:
            rows.append(_row("Theorem 20", "slope of ln(τ′₀/ω²) (bound: ≥ w_min)", w, w, fit["slope"],
                             f"M* start, null rate {w:g}", THM20))
    progress("fidelity: Figs. 1b-3 under the inferred settings")
    return {"rows": rows, "curves": curves, "inferred": {**INFERRED, "fig1b": FIG1B_SETTING}, "tolerance": TOLERANCE}


FIG1B_LEVEL = ("the level is set by the input scaling: x_k ~ N(0, 1) per step makes every loss dt = 0.1 times the "
               "Brownian one (tested: lr /3, x3, diagonal W and the kernel read at the input time all stay several "
               "times above the paper, unit-variance inputs reach it; docs/fig1b_hypotheses.json)")
FIG1B_LATE = ("after the escape memdyn's mean descends faster than the paper's: the second descent follows the "
              "unstated init scale and the seeds' spread (the paper's band is wide); not tested further")
FIG4_LEVEL = ("the plateau is the bump's uncaptured energy, dt c^2 sigma sqrt(pi) = {bump:.3g} for memdyn's "
              "c = 0.5, sigma = 1 (tested in section 1: J on the plateau = ||bump||^2); the paper's 0.08 needs "
              "c^2 sigma = {need:.2f}, and the paper does not state c or sigma")
THM20 = ("Theorem 20 is a lower bound (slope >= w_min), not an estimate: the slope tends to 2 w_min for a null "
         "neuron at w_min (section 9, memdyn sharp), above the bound")


def _off_mstar(figure: str) -> str:
    s = INFERRED[figure]["search"]
    return (f"no M* start fits ({s['consistent']} of {s['candidates']} searched settings within 2 read-off sigmas, best "
            f"chi2 {s['chi2']:.3g}: docs/infer_{figure}.json); the paper's {OFF_MSTAR[figure]}: its start is off M*")


OFF_MSTAR = {"fig2": "loss drops in O(1) time before its plateau (Fig. 2's panels)",
             "fig3": "separation time is ~1 at 1/omega = 10 (the parameters move at once)"}


def counts(res: dict) -> dict:
    """Rows in all, within the tolerance, and beyond it without an explanation (0 by construction)."""
    within = [r["relative_gap"] is not None and abs(r["relative_gap"]) <= res["tolerance"] for r in res["rows"]]
    return {"rows": len(res["rows"]), "within_tolerance": sum(within),
            "unexplained": sum(not w and r["explanation"] is None for w, r in zip(within, res["rows"]))}


def _figure(res: dict, path: Path):
    ax1, ax2 = report.panels(2, width=5.2, height=4.0)
    f2 = res["curves"]["fig2"]
    ax1.semilogy(f2["memory"], [np.nan if t is None else t for t in f2["tau_loss"]], "s-", label="memdyn τ′₀ (inferred setting)")
    xs = sorted(PAPER_FIG2_EXIT)
    ax1.semilogy(xs, [PAPER_FIG2_EXIT[x] for x in xs], "k^", mfc="none", label="paper: exit (read off)")
    ax1.set_xlabel("memory 1/ω")
    ax1.set_ylabel("time τ")
    ax1.set_title("Fig. 2 (m = 2)", fontsize="medium")
    ax1.legend(fontsize="x-small")
    f3 = res["curves"]["fig3"]
    for key, style, paper_i, label in (("tau_loss", "s-", 0, "plateau τ′₀"), ("tau_param", "o:", 1, "separation τ₀")):
        ax2.semilogy(f3["memory"], [np.nan if t is None else t for t in f3[key]], style, label=f"memdyn {label}")
        xs = [x for x in sorted(PAPER_FIG3) if PAPER_FIG3[x][paper_i]]
        ax2.semilogy(xs, [PAPER_FIG3[x][paper_i] for x in xs], "k^" if paper_i == 0 else "kv", mfc="none",
                     label=f"paper: {label} (read off)")
    ax2.set_xlabel("memory 1/ω")
    ax2.set_title("Fig. 3 (m = 10)", fontsize="medium")
    ax2.legend(fontsize="x-small")
    report.save(ax1, path)


def figures(res: dict) -> dict:
    return {"fidelity.png": lambda path: _figure(res, path)}


def lines(res: dict) -> list[str]:
    fmt = lambda x: "—" if x is None else f"{x:+.0%}"  # noqa: E731
    rows = [(r["figure"], r["quantity"], r["x"], r["paper"], r["memdyn"], fmt(r["relative_gap"]), r["setting"],
             r["explanation"] or "") for r in res["rows"]]
    n = counts(res)
    return [f"Every read-off value of the paper beside memdyn's under the setting inferred for it; {n['within_tolerance']} of "
            f"{n['rows']} rows within {res['tolerance']:.0%}, every other row explained. Settings: "
            "`examples/infer_paper.py` (Figs. 2-3, `docs/infer_fig*.json`), `examples/fig1b_hypotheses.py` (Figs. 1b "
            "and 4, `docs/fig1b_hypotheses.json`).", "",
            report.markdown_table(["figure", "quantity", "x", "paper", "memdyn", "gap", "setting", "explanation"], rows),
            "", "![fidelity](fidelity.png)", ""]
