"""Section 11: the paper's figures side by side with memdyn, under the settings inferred for them.

One table (``results.json`` key ``fidelity``): a row per read-off value of JMLR Figs. 1b, 2, 3 and 4
and Theorem 20's bound, with ``relative_gap`` = memdyn / paper - 1 and an ``explanation`` wherever
the gap exceeds 25%. The Figs. 2-3 settings are the best ``research/infer_paper.py`` found
(``memdyn.studies.problems.INFERRED``, checked against its committed output by a test; Fig. 3's from
the search that leaves out its 1/omega = 10 pair, whose rows say why), solved afresh here; Fig. 1b's
(unit-variance inputs, 128 samples, lr 0.046) is the one ``research/fig1b_hypotheses.py`` singled out,
run here; Fig. 4a comes from section 7's linear run, converted to the paper's input scaling by the exact
identity of ``memdyn.rnn.model`` (unit-variance inputs: every loss times dt).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import plots
from ...rnn.model import RNNSpec, rho_grid
from ...rnn.train import TrainConfig, halved_after, train
from ..infer import Space, predict
from ..problems import (
    AIRY,
    FIG4_PAPER_SIZE,
    INFERRED,
    PAPER_FIG1B,
    PAPER_FIG2_EXIT,
    PAPER_FIG3,
    PAPER_FIG4_ESCAPE,
    PAPER_FIG4_LINEAR_GD,
    PAPER_FIG4_PLATEAU,
)
from ..tables import markdown_table

TITLE = "Fidelity: the paper's read-off values beside memdyn's, every gap explained or its cause marked untested"
STEPS = 1
NEEDS_RESULTS = True
"""compute() also receives the sections computed before it (Figs. 1b and 4 from 'training', the bound from 'sweeps')."""

TOLERANCE = 0.25
"""A gap beyond this (|memdyn / paper - 1|) needs an explanation."""


def _row(figure, quantity, x, paper, memdyn, setting, explanation=None, tested: bool = True) -> dict:
    """A table row; past the tolerance it needs an explanation, and ``tested`` says whether a run (a test or a
    committed script) establishes that cause or the explanation only reports what was measured."""
    gap = None if memdyn is None else memdyn / paper - 1
    beyond = gap is None or abs(gap) > TOLERANCE
    if beyond and not explanation:
        raise AssertionError(f"{figure} {quantity} at {x}: a gap of {gap} needs an explanation")
    return {
        "figure": figure,
        "quantity": quantity,
        "x": x,
        "paper": paper,
        "memdyn": memdyn,
        "setting": setting,
        "relative_gap": gap,
        "explanation": explanation if beyond else None,
        "cause_tested": tested if beyond else None,
    }


def _setting_text(s: dict) -> str:
    rates = s["null_rates"]
    nulls = f"null rate {rates[0]:g}" if len(rates) == 1 else f"{len(rates)} null rates {rates[0]:g}..{rates[-1]:g}"
    return (
        f"c = {s['c']:g}, sigma = {s['sigma']:g}, w* = {s['w_star']:g}, start {_start_text(s)} ({nulls}), "
        f"delta = {s['delta']:g}, "
        f"loss = {s['normalisation']:g} J"
        + (
            ""
            if s.get("param_normalisation", 1.0) == 1
            else f", parameter distance = {s['param_normalisation']:.3g} ||theta - theta0||"
        )
    )


def _flow_curve(figure: str, memories, config, t1: float) -> dict:
    """Hitting times under the inferred setting of ``figure`` at ``memories``, in the paper's time:
    ``memdyn.studies.infer.predict`` on that one setting (None where not reached or unresolved)."""
    s = INFERRED[figure]
    rates = s["null_rates"]
    space = Space(
        width=len(rates) + 1,
        c=(s["c"],),
        sigma=(s["sigma"],),
        w_star=(s["w_star"],),
        null_min=(rates[0],),
        null_max=rates[-1] if len(rates) > 1 else Space.null_max,
        delta=(s["delta"],),
        normalisation=(s["normalisation"],),
        amplitude=(s.get("amplitude", 1.0),),
        param_normalisation=(s.get("param_normalisation", 1.0),),
    )
    memories = sorted(float(x) for x in memories)
    pred = predict(space, memories, t1=t1, config=config)
    reached = lambda t: float(t) if np.isfinite(t) and t * s["normalisation"] < t1 else None  # noqa: E731
    return {"memory": memories, **{q: [reached(t) for t in pred[q][0]] for q in ("tau_loss", "tau_param")}}


FIG1B_SETTING = {"noise": "unit", "lr": 0.046, "samples": 128}
"""Fig. 1b's inferred setting (research/fig1b_hypotheses.py): unit-variance inputs (the level), a dataset of
128 sequences per seed (the seeds' spread), GD at lr 0.046 (the mean's exit at the paper's 25k epochs)."""


def _fig1b(p) -> dict:
    spec = RNNSpec(width=16, dt=0.1, horizon=6.4, noise=FIG1B_SETTING["noise"])
    cfg = TrainConfig(
        optimizer="gd", lr=FIG1B_SETTING["lr"], epochs=max(PAPER_FIG1B), samples=FIG1B_SETTING["samples"], chunk=4000
    )
    res = train(spec, rho_grid(AIRY, {}, spec), cfg, seeds=p.fig1_seeds)
    finite = np.isfinite(res.loss).all(axis=1)
    L = res.loss[finite]
    first = min(PAPER_FIG1B)
    exits = [e for e in (halved_after(row, first) for row in L) if e is not None]
    return {
        "epochs": list(PAPER_FIG1B),
        "mean": [float(L[:, e].mean()) for e in PAPER_FIG1B],
        "sem": [float(L[:, e].std(ddof=1) / np.sqrt(len(L))) for e in PAPER_FIG1B],
        "seed_exits": sorted(exits),
        "seeds": p.fig1_seeds,
        "diverged": int((~finite).sum()),
    }


def _fig1b_explanation(f1: dict, i: int, paper: float) -> str:
    """Why a Fig. 1b point differs, from the run's own seeds: within two standard errors of the mean, or not."""
    sem, gap = f1["sem"][i], f1["mean"][i] - paper
    spread = (
        (
            f"the seeds' own exits spread over epochs {f1['seed_exits'][0]:,}-{f1['seed_exits'][-1]:,}"
            f" ({len(f1['seed_exits'])} of {f1['seeds']} within 40k)"
        )
        if f1["seed_exits"]
        else "no seed exits"
    )
    if abs(gap) <= 2 * sem:
        return (
            f"within 2 standard errors of the {f1['seeds']}-seed mean (se {sem / f1['mean'][i]:.0%} of it): with 128 "
            f"samples per seed {spread}, so after the exit the mean follows its slowest seeds (the paper: 'the spread "
            f"across seeds is large'); research/fig1b_hypotheses.py"
        )
    return (
        f"{abs(gap) / sem:.1f} standard errors of the {f1['seeds']}-seed mean away ({spread}): memdyn's descent after "
        f"the exit is steeper than the paper's (cause not found)"
    )


def compute(p, config, progress, results) -> dict:
    rows, curves = [], {}
    # --- Fig. 1b: the inferred setting, run here (10 seeds, 40k epochs: ~30 s)
    f1 = curves["fig1b"] = _fig1b(p)
    for i, (epoch, got) in enumerate(zip(f1["epochs"], f1["mean"])):
        paper = PAPER_FIG1B[epoch]
        rows.append(
            _row(
                "Fig. 1b",
                f"mean loss ({f1['seeds']} seeds)",
                epoch,
                paper,
                got,
                f"unit-variance inputs, {FIG1B_SETTING['samples']} samples, GD lr {FIG1B_SETTING['lr']:g}, "
                "full W, width 16",
                _fig1b_explanation(f1, i, paper),
            )
        )
    # --- Figs. 2 and 3: the inferred settings, solved afresh
    for figure, points in (("fig2", PAPER_FIG2_EXIT), ("fig3", PAPER_FIG3)):
        curves[figure] = _flow_curve(figure, points, config, p.t1)
    fig2, fig3 = curves["fig2"], curves["fig3"]
    for x, paper in PAPER_FIG2_EXIT.items():
        got = fig2["tau_loss"][fig2["memory"].index(x)]
        rows.append(
            _row(
                "Fig. 2",
                "exit time τ′₀",
                x,
                paper,
                got,
                _setting_text(INFERRED["fig2"]),
                _search_explanation("fig2"),
                _fitted("fig2"),
            )
        )
    for x, (plateau, separation) in PAPER_FIG3.items():
        i = fig3["memory"].index(x)
        why, tested = (
            (_dropped_explanation(x), False)
            if x in INFERRED["fig3"]["search"].get("dropped", ())
            else (_search_explanation("fig3"), _fitted("fig3"))
        )
        rows.append(
            _row(
                "Fig. 3",
                "plateau time τ′₀",
                x,
                plateau,
                fig3["tau_loss"][i],
                _setting_text(INFERRED["fig3"]),
                why,
                tested,
            )
        )
        if separation:
            rows.append(
                _row(
                    "Fig. 3",
                    "separation time τ₀",
                    x,
                    separation,
                    fig3["tau_param"][i],
                    _setting_text(INFERRED["fig3"]),
                    why,
                    tested,
                )
            )
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
        rows.append(
            _row(
                "Fig. 4a",
                "mean loss, linear + GD",
                epoch,
                paper,
                dt * curve["mean"][i],
                f"c = 0.5, sigma = 1, unit-variance inputs (section 7's run x dt), lr {curve['lr'] / dt:g}",
                FIG4_LEVEL.format(bump=bump, need=paper / (dt * np.sqrt(np.pi))),
            )
        )
    # --- Fig. 4 at the paper's size: research/fig4_paper_size.py's committed run (problems.FIG4_PAPER_SIZE)
    rows += _fig4_paper_size()
    # --- Theorem 20: the fitted slope of ln(tau'/omega^2) against the bound's w_min
    for sweep in results["sweeps"]["sweeps"]:
        fit = sweep["fit"]["tau_loss"]["omega2"]
        w = sweep["w_min"][0]
        if fit:
            rows.append(
                _row(
                    "Theorem 20",
                    "slope of ln(τ′₀/ω²) (bound: ≥ w_min)",
                    w,
                    w,
                    fit["slope"],
                    f"M* start, null rate {w:g}",
                    THM20,
                )
            )
    progress("fidelity: Figs. 1b-3 under the inferred settings")
    return {"rows": rows, "curves": curves, "inferred": {**INFERRED, "fig1b": FIG1B_SETTING}, "tolerance": TOLERANCE}


FIG4_LEVEL = (
    "the plateau is the bump's uncaptured energy, dt c^2 sigma sqrt(pi) = {bump:.3g} for memdyn's "
    "c = 0.5, sigma = 1 (tested in section 1: J on the plateau = ||bump||^2); the paper's 0.08 needs "
    "c^2 sigma = {need:.2f}, and the paper does not state c or sigma"
)
THM20 = (
    "Theorem 20 is a lower bound (slope >= w_min), not an estimate: the slope tends to 2 w_min for a null "
    "neuron at w_min (section 9, memdyn sharp), above the bound"
)


def _fig4_paper_size() -> list[dict]:
    """Rows of the paper-size Fig. 4 run: the plateau's level and escape epoch per input kind and training."""
    run, rows = FIG4_PAPER_SIZE, []

    def escape(v):
        return "none" if v["escape"] is None else f"{v['escape']:,}"

    lrs = ", ".join(f"{escape(v)} at lr {lr:g}" for lr, v in run["lr_scan"].items())
    cs = ", ".join(f"level {v['plateau']:.3g}, escape {escape(v)} at c = {c:g}" for c, v in run["bump_scan"].items())
    scale = run["scale_scan"]
    small = ", ".join(f"{label} at c = {c:g} holds {v['plateau']:.3g}" for (label, _, c), v in scale.items())
    scans = (
        f"linear + GD escapes at epoch {lrs} (c = 0.5; at lr 0.25 with c = 0.7071 or 1 it does not); with the "
        f"inputs read at scale dt (the follow-up repository's) lr 1.0 is stable but nothing leaves: {small}"
    )
    inits = "; ".join(
        f"{label} at lr {lr:g}: {v['diverged']} of {v['seeds']} seeds diverged"
        + ("" if v["plateau"] is None else f", level {v['plateau']:.3g}, escape {escape(v)}")
        for (label, lr), v in run["init_scan"].items()
    )
    inits = f"with that repository's start as well ({INIT_TEXT}): {inits}"
    scans += f"; {inits}"
    modes = run["modes_scan"]
    joint = modes[(1, 0.1, 0.7071)]["plateau"]
    for inputs, figure in (("white", "Fig. 4a"), ("cosine", "Fig. 4b")):
        for label, r in run["runs"][inputs].items():
            setting = (
                f"paper-size run (research/fig4_paper_size.py): {r['seeds']} seeds ({r['diverged']} diverged), "
                f"{run['epochs']:,} epochs, lr {r['lr']:g}, c = 0.5, sigma = 1, "
                + ("unit-variance white noise" if inputs == "white" else f"{run['modes']}-mode cosines")
            )
            if label == "linear + GD":
                level = (
                    FIG4_WHITE_LEVEL.format(scans=cs, joint=joint)
                    if inputs == "white"
                    else FIG4_COSINE_LEVEL.format(levels=_modes_text(modes))
                )
                rows.append(
                    _row(
                        figure,
                        "plateau level, linear + GD",
                        20.0,
                        PAPER_FIG4_PLATEAU[inputs],
                        r["plateau"],
                        setting,
                        level,
                    )
                )
                lr1 = run["lr_scan"][1.0]
                why, tested = FIG4_ESCAPE.format(scans=scans, diverged=lr1["diverged"], seeds=run["seeds"]), True
            else:
                linear = run["runs"][inputs]["linear + GD"]
                epochs = f"{run['epochs']:,}"
                why = (
                    FIG4_NO_PLATEAU.format(level=r["plateau"], paper=PAPER_FIG4_ESCAPE[inputs][label])
                    if r["escape"] is None
                    else FIG4_TANH.format(
                        tanh=escape(r),
                        small=scale[("tanh + GD", 0.1, 0.7071)]["plateau"],
                        small_linear=scale[("linear + GD", 0.1, 0.7071)]["plateau"],
                        epochs=epochs,
                        seeds=run["tanh_seeds"],
                        paper_seeds=run["seeds"],
                        inits=inits,
                        linear=f"not within {epochs} epochs"
                        if linear["escape"] is None
                        else f"at {linear['escape']:,}",
                    )
                )
                tested = False
            rows.append(
                _row(
                    figure,
                    f"plateau escape epoch, {label}",
                    20.0,
                    PAPER_FIG4_ESCAPE[inputs][label],
                    r["escape"],
                    setting,
                    why,
                    tested=tested,
                )
            )
    return rows


def _modes_text(modes: dict) -> str:
    return ", ".join(f"{v['plateau']:.3g} at J = {j}" for (j, lr, c), v in modes.items() if lr == 0.1 and c == 0.5)


INIT_TEXT = (
    "W = -P diag(relu(z)) P^T, about half its rates at 0, U ~ U[-1, 1], c ~ U[-1/4, 1/4]; inputs at scale dt, "
    "c = 0.7071; research/results/fig4_paper_size.json, init_scan"
)
FIG4_WHITE_LEVEL = (
    "the plateau is the bump's uncaptured energy, which grows like c^2: at c = 0.7071 instead of 0.5 "
    "it is at the paper's 0.08 ({scans}; research/results/fig4_paper_size.json); that c puts the one-mode cosines' "
    "level at {joint:.3g}, twice the paper's Fig. 4b: no one c fits both panels' levels"
)
FIG4_COSINE_LEVEL = (
    "the paper does not state its cosines' mode count J; linear + GD's level: {levels} "
    "(research/results/fig4_paper_size.json, modes_scan)"
)
FIG4_ESCAPE = (
    "the escape epoch is not reproduced, and it depends strongly on what the paper leaves unstated: "
    "{scans}; the paper's lr 1.0 is past GD's stable range at memdyn's input scale ({diverged} of {seeds} seeds "
    "diverge)"
)
FIG4_NO_PLATEAU = (
    "its mean curve passes the paper's plateau level without holding it, so the reading finds only its "
    "final flat stretch, at {level:.2g}; why the paper's holds to ~{paper:,} epochs is not tested"
)
FIG4_TANH = (
    "memdyn's tanh network leaves at epoch {tanh}, its linear one {linear}, while the paper's leave together; "
    "on white noise read at scale dt (the follow-up repository's inputs) tanh and linear + GD track each other "
    "(levels {small:.3g} and {small_linear:.3g}) but neither leaves by epoch {epochs}; {inits}; no tested setting "
    "gives the paper's escape ({seeds} tanh seeds, not {paper_seeds})"
)


def _search_explanation(figure: str) -> str:
    """Why a Fig. 2-3 point differs: what the committed searches found (problems.INFERRED, tied to them by a test)."""
    s = INFERRED[figure]
    found = s["search"]
    tried = "; ".join(
        f"{o['candidates']} settings {o['start']}: {o['consistent']} consistent, best chi2 {o['chi2']:.3g} "
        f"(research/results/{o['artefact']})"
        for o in s.get("also_searched", ())
    )
    if found["consistent"]:
        dropped = found.get("dropped")
        points = (
            f"every point except those at 1/ω = {', '.join(f'{x:g}' for x in dropped)}, which it leaves out"
            if dropped
            else "every point"
        )
        return (
            f"inside the read-offs' 2-sigma band (20% each): this setting, {_start_text(s)}, is one of "
            f"{found['consistent']} of {found['candidates']} searched settings consistent with {points} "
            f"(research/results/{found['artefact']}); also searched: {tried}"
        )
    return (
        f"no searched setting is within 2 read-off sigmas of every point: best chi2 {found['chi2']:.3g} of "
        f"{found['candidates']} settings, {_start_text(s)} (research/results/{found['artefact']})"
        + (f"; also searched: {tried}" if tried else "")
        + f"; the paper's {OFF_MSTAR[figure]}"
    )


def _dropped_explanation(x: float) -> str:
    """Why a Fig. 3 read-off the search left out differs: no searched setting fits it together with the others."""
    s = INFERRED["fig3"]
    found = s["search"]
    paper_ratio = PAPER_FIG3[x][0] / PAPER_FIG3[x][1]
    full = min((o for o in s["also_searched"] if o["start"] == "on M*"), key=lambda o: o["chi2"])
    lo, hi = found["dropped_ratio"]
    others = [t / sep for m, (t, sep) in PAPER_FIG3.items() if sep and m not in found["dropped"]]
    return (
        f"left out of the fit: no M* start searched fits it with the other points (best chi2 {full['chi2']:.3g} of "
        f"{full['candidates']} settings, docs/{full['artefact']}), while {found['consistent']} of "
        f"{found['candidates']} fit all the others; the paper's plateau time here is {paper_ratio:.0f}x its "
        f"separation time, against {lo:.1f}-{hi:.1f}x for every one of those {found['candidates']} settings "
        f"(research/results/{found['artefact']}, 'every_setting'), and {min(others):.1f}-{max(others):.1f}x in the paper at "
        f"every other memory; a smaller parameter threshold shortens the separation time by the same factor at "
        f"every memory (research/results/infer_fig3_threshold.json), so none fits this point alone; what the paper did "
        f"differently at 1/ω = {x:g} is not found"
    )


OFF_MSTAR = {
    "fig2": "loss drops in O(1) time before its plateau (Fig. 2's panels): its start is off M*",
    "fig3": (
        "separation time at the shortest memory is a far smaller part of its plateau time than any M* "
        "start's (the worst misfit on M*); its plateau times come within 3 sigmas from starts off M*, "
        "where the parameters move at once (separation ~0.36 at every memory), while its separation "
        "times grow like an M* start's; counted instead from the plateau's entry (as Theorem 23 counts "
        "from a time the short memory is fitted), or as the departure from the flow's slowest point, "
        "they fit no better (research/results/fig3_separation.json)"
    ),
}


def _fitted(figure: str) -> bool:
    """A gap is accounted for when the searches found settings consistent with every point (it is then inside
    the read-offs' band); where none is, what would close it is not tested."""
    return INFERRED[figure]["search"]["consistent"] > 0


def _start_text(s: dict) -> str:
    a = s.get("amplitude", 1.0)
    return "on M*" if a == 1 else f"off M* (neuron 1 starts at amplitude {a:g})"


def counts(res: dict) -> dict:
    """Rows in all, within the tolerance, and beyond it without an explanation (0 by construction)."""
    within = [r["relative_gap"] is not None and abs(r["relative_gap"]) <= res["tolerance"] for r in res["rows"]]
    return {
        "rows": len(res["rows"]),
        "within_tolerance": sum(within),
        "unexplained": sum(not w and r["explanation"] is None for w, r in zip(within, res["rows"])),
        "cause_untested": sum(not w and r.get("cause_tested") is False for w, r in zip(within, res["rows"])),
    }


def _figure(res: dict, path: Path):
    ax1, ax2 = plots.panels(2, width=5.2, height=4.0)
    f2 = res["curves"]["fig2"]
    ax1.semilogy(
        f2["memory"], [np.nan if t is None else t for t in f2["tau_loss"]], "s-", label="memdyn τ′₀ (inferred setting)"
    )
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
        ax2.semilogy(
            xs,
            [PAPER_FIG3[x][paper_i] for x in xs],
            "k^" if paper_i == 0 else "kv",
            mfc="none",
            label=f"paper: {label} (read off)",
        )
    ax2.set_xlabel("memory 1/ω")
    ax2.set_title("Fig. 3 (m = 10)", fontsize="medium")
    ax2.legend(fontsize="x-small")
    plots.save(ax1, path)


def figures(res: dict) -> dict:
    return {"fidelity.png": lambda path: _figure(res, path)}


def lines(res: dict) -> list[str]:
    fmt = lambda x: "—" if x is None else f"{x:+.0%}"  # noqa: E731
    mark = lambda r: " (cause not tested)" if r.get("cause_tested") is False else ""  # noqa: E731
    rows = [
        (
            r["figure"],
            r["quantity"],
            r["x"],
            r["paper"],
            r["memdyn"],
            fmt(r["relative_gap"]),
            r["setting"],
            (r["explanation"] or "") + mark(r),
        )
        for r in res["rows"]
    ]
    n = counts(res)
    return [
        f"Every read-off value of the paper beside memdyn's under the setting inferred for it; {n['within_tolerance']} of "
        f"{n['rows']} rows within {res['tolerance']:.0%}, every other row with an explanation, of which "
        f"{n['cause_untested']} only report what was measured (their cause is not tested). Settings: "
        "`research/infer_paper.py` (Figs. 2-3, `research/results/infer_fig*.json`), `research/fig1b_hypotheses.py` (Fig. 1b, "
        "`research/results/fig1b_hypotheses.json`), `research/fig4_paper_size.py` (Fig. 4 at the paper's size, "
        "`research/results/fig4_paper_size.json` and `.png`).",
        "",
        markdown_table(["figure", "quantity", "x", "paper", "memdyn", "gap", "setting", "explanation"], rows),
        "",
        "![fidelity](fidelity.png)",
        "",
    ]
