"""JMLR Fig. 4 at the paper's size: full-W RNNs, 20,000 epochs, 10 seeds, two input kinds, three trainings.

    python research/fig4_paper_size.py            # writes research/results/fig4_paper_size.json and .png (~3 h at 10 tanh seeds on 2 cores; ~50 min with --tanh-seeds 2)
    python research/fig4_paper_size.py --epochs 300 --seeds 2 --out /tmp/f4   # a smoke run

The paper's setting where it is stated (its Section 6 and Fig. 4): target (99) at 1/omega = 20,
width 16, full W, dt 0.1, T 32, 128 input samples, GD at lr 1.0 and Adam at lr 0.001, 10 starts, 20,000
epochs, white-noise and random-cosine inputs. Where it is not: the white noise is unit-variance per step
(the scaling that puts Fig. 1b at the paper's level, research/results/fig1b_hypotheses.json), the bump has memdyn's
c = 0.5, sigma = 1, and the cosines are memdyn's ``random_cosines`` of one mode (J = 1, below). Each (inputs, training) pair is one
vmapped run; a finished pair is kept in the JSON, and a pair in progress is checkpointed after every 500 epochs
(``fig4_<inputs>_<training>.ckpt.npz`` beside the JSON), so an interrupted run resumes where it stopped.

Then linear + GD on white noise again at lr 0.1, 0.25, 0.5 and 1.0 (key ``lr_scan``): where the paper's
lr sits for GD in this input scaling; and at lr 0.25 with the bump's c = 0.5, 0.7071 and 1 (key ``bump_scan``); and linear + GD on cosines of
J = 1, 2 and 4 modes at lr 0.1, of one mode at the paper's lr 1.0, and of one mode with c = 0.7071 (key
``modes_scan``: the paper does not state J, and the level grows with it). The main cosine runs take one mode,
the count that puts linear + GD's plateau and escape at the paper's. Last, GD at the paper's lr 1.0 on white noise
read at input scale dt (key ``scale_scan``: the follow-up repository's inputs are dt * randn with the same
targets): linear at c = 0.5 and 0.7071, tanh at 0.7071. And that repository's start with its inputs (key
``init_scan``: ``RNNSpec(init="relu-orthogonal")``, about half of W's rates at 0; c = 0.7071): linear + GD at
lr 1.0, 0.5 and 0.1, tanh + GD at lr 1.0 and 0.5, tanh + Adam at 1e-3.
The plateau and its escape are read off each mean curve by :func:`memdyn.rnn.train.plateau_escape` (the
longest stretch where the loss changes by under 5% per doubling of the epoch, then the first epoch below half
its level), as off the paper's figure; the tanh runs take ``--tanh-seeds`` starts (a tanh run costs many times
a linear one: see the seconds in the JSON).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import jax
import numpy as np
from tqdm import tqdm

jax.config.update("jax_enable_x64", True)  # a script configures its own process; importing memdyn does not

from memdyn import plots
from memdyn.studies.problems import PAPER_FIG4_ESCAPE as PAPER
from memdyn.studies.reproduce.training import FIG4_PAPER, fig4_run, fig4_trainings

RESULTS = Path(__file__).resolve().parent / "results"
SCAN_LRS = (0.1, 0.25, 0.5, 1.0)
BUMP_CS, BUMP_LR = (0.5, 0.7071, 1.0), 0.25
SCALE_SCAN = (
    ("linear + GD", 0.1, 0.5),
    ("linear + GD", 0.1, 0.7071),
    ("tanh + GD", 0.1, 0.7071),
)  # (training, scale, c)
SCAN_KEYS = ("lr", "escape", "plateau", "diverged", "epochs", "mean")  # what a scan keeps of a run
MODES_SCAN = ((1, 0.1, 0.5), (2, 0.1, 0.5), (4, 0.1, 0.5), (1, 1.0, 0.5), (1, 0.1, 0.7071))  # (cosine modes J, lr, c)
INIT_SCAN = (
    ("linear + GD", 1.0),
    ("linear + GD", 0.5),
    ("linear + GD", 0.1),
    ("tanh + GD", 1.0),
    ("tanh + GD", 0.5),
    ("tanh + Adam", 1e-3),
)  # (training, lr)
INIT_SETTING = {"init": "relu-orthogonal", "input_scale": 0.1, "c": 0.7071}
"""The follow-up repository's whole convention: its start (RNNSpec.init), its inputs (scale dt), the bump at the
paper's white-noise level."""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20000, help="epochs per run (default: the paper's 20000)")
    ap.add_argument("--seeds", type=int, default=10, help="starts per run (default: the paper's 10)")
    ap.add_argument(
        "--tanh-seeds",
        type=int,
        default=None,
        help="starts per tanh run (default: --seeds; a tanh run costs several times a linear one)",
    )
    ap.add_argument(
        "--out", type=Path, default=RESULTS, help="folder for fig4_paper_size.json/.png (default research/results/)"
    )
    ap.add_argument(
        "--only",
        action="append",
        metavar="INPUTS/TRAINING",
        default=None,
        help="run only this main pair, e.g. 'white/tanh + GD' (repeatable), and neither the scans nor "
        "the figure: to spread the pairs over several processes or devices (default: every pair)",
    )
    args = ap.parse_args(argv)
    pairs = [(i, t[0]) for i in ("white", "cosine") for t in fig4_trainings(FIG4_PAPER, i)]
    for only in args.only or ():
        if tuple(only.split("/", 1)) not in pairs:
            ap.error(f"--only: {only!r} is not one of " + ", ".join(f"'{i}/{t}'" for i, t in pairs))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "fig4_paper_size.json"
    size = {"epochs": args.epochs, "seeds": args.seeds, "tanh_seeds": args.tanh_seeds or args.seeds}
    doc = json.loads(path.read_text()) if path.exists() else {}
    if {k: doc.get(k) for k in size} != size:
        doc = {**size, "setting": FIG4_PAPER, "paper_escape": PAPER, "runs": {}}
    doc["machine"] = machine()
    doc["setting"] = FIG4_PAPER

    def done(inputs, label):  # run, and with the setting's cosine mode count
        run = doc["runs"].get(inputs, {}).get(label)
        return run is not None and run.get("modes") == (FIG4_PAPER["modes"] if inputs == "cosine" else None)

    todo = [
        (i, t)
        for i in ("white", "cosine")
        for t in fig4_trainings(FIG4_PAPER, i)
        if not done(i, t[0]) and (args.only is None or f"{i}/{t[0]}" in args.only)
    ]
    with tqdm(total=len(todo) * args.epochs, unit="epoch", smoothing=0, mininterval=30) as bar:
        for inputs, training in todo:
            bar.set_description(f"{inputs}: {training[0]}")
            t0 = time.perf_counter()
            seeds = size["tanh_seeds"] if training[1] == "tanh" else args.seeds
            ckpt = args.out / f"fig4_{inputs}_{training[0].replace(' + ', '_')}.ckpt.npz"  # resumed if stopped
            run = fig4_run(inputs, training, args.epochs, seeds, FIG4_PAPER, progress=bar.update, checkpoint=ckpt)
            run["seconds"] = round(time.perf_counter() - t0, 1)
            doc["runs"].setdefault(inputs, {})[training[0]] = run
            path.write_text(json.dumps(doc, indent=1) + "\n")
            bar.write(
                f"{inputs:6s} {training[0]:12s} escape {run['escape']}, plateau {run['plateau']}, "
                f"final {np.mean(run['final']):.3g} ({run['seconds']} s)"
            )

    def scanned(
        name: str, key: str, inputs: str, label: str, lr: float | None, setting: dict, with_seeds: bool = False, **what
    ):
        """One entry of scan ``name``: ``label`` on ``inputs`` at ``lr`` (None: the training's own) under the paper's
        setting changed by ``setting``, kept with ``what`` set it apart (and its seed count if ``with_seeds``); a
        finished key is not run again, a new one is saved at once."""
        entries = doc.setdefault(name, {})
        if key in entries:
            return
        training = next(t for t in fig4_trainings(FIG4_PAPER, inputs) if t[0] == label)
        seeds = size["tanh_seeds"] if training[1] == "tanh" else args.seeds
        run = fig4_run(
            inputs, (*training[:3], training[3] if lr is None else lr), args.epochs, seeds, {**FIG4_PAPER, **setting}
        )
        entries[key] = kept(run, **what, **({"seeds": seeds} if with_seeds else {}))
        path.write_text(json.dumps(doc, indent=1) + "\n")
        print(
            f"{inputs:6s} {name} [{key}] {label}: escape {run['escape']}, plateau {run['plateau']}, "
            f"diverged {run['diverged']} of {seeds}"
        )

    if args.only is not None:
        return
    # GD's learning rate on the linear network, white noise: the paper's lr 1.0 against smaller ones
    for lr in SCAN_LRS:
        scanned("lr_scan", f"{lr:g}", "white", "linear + GD", lr, {})
    # the bump's amplitude c (unstated): c = 0.5 * sqrt(2) doubles the plateau's level (||bump||^2 ~ c^2), to the
    # paper's ~0.08 from memdyn's ~0.04; at the lr where GD escapes soonest in the scan above
    for c in BUMP_CS:
        scanned("bump_scan", f"{c:g}", "white", "linear + GD", BUMP_LR, {"c": c}, c=c)
    # the cosines' mode count J (unstated; the input's power grows like J): linear + GD at J = 1, 2, 4 (lr 0.1), at
    # J = 1 with the paper's lr 1.0, and at J = 1 with the bump that puts the white-noise level at the paper's
    for j, lr, c in MODES_SCAN:
        scanned(
            "modes_scan",
            f"{j} modes, lr {lr:g}, c {c:g}",
            "cosine",
            "linear + GD",
            lr,
            {"modes": j, "c": c},
            modes=j,
            c=c,
        )
    # the follow-up repository's input convention (inputs dt * randn, the same targets): the network reads the white
    # noise at input scale dt = 0.1; GD at the paper's lr 1.0, linear at c = 0.5 and 0.7071, tanh at 0.7071
    for label, scale, c in SCALE_SCAN:
        scanned(
            "scale_scan",
            f"{label}, input scale {scale:g}, c {c:g}",
            "white",
            label,
            None,
            {"input_scale": scale, "c": c},
            with_seeds=True,
            input_scale=scale,
            c=c,
        )
    # the follow-up repository's start as well as its inputs: W = -P diag(relu(z)) P^T (about half its rates at 0),
    # U ~ U[-1, 1], c ~ U[-1/4, 1/4]; white noise at scale dt, c = 0.7071; GD at the paper's lr 1.0 and below
    for label, lr in INIT_SCAN:
        scanned("init_scan", f"{label}, lr {lr:g}", "white", label, lr, INIT_SETTING, with_seeds=True, **INIT_SETTING)
    figure(doc, args.out / "fig4_paper_size.png")


def machine() -> str:
    """The processor and its cores, and the accelerator JAX ran on, if any."""
    import os

    import jax

    device = jax.devices()[0]
    where = f"{platform.machine()}, {os.cpu_count()} cores"
    return where if device.platform == "cpu" else f"{where}; {device.device_kind} ({device.platform})"


def kept(run: dict, **setting) -> dict:
    """A scan's entry: what set the run apart, then what it measured."""
    return {**setting, **{k: run[k] for k in SCAN_KEYS}}


def figure(doc: dict, path: Path):
    axes = plots.panels(len(doc["runs"]) + bool(doc.get("init_scan")), width=4.8, height=3.6)
    for ax, (inputs, runs) in zip(axes, doc["runs"].items()):
        for (label, run), color in zip(runs.items(), ("C0", "C1", "C2")):
            e = np.maximum(run["epochs"], 1)
            ax.fill_between(e, run["lo"], run["hi"], color=color, alpha=0.2, lw=0)
            ax.plot(e, run["mean"], color=color, label=f"{label} (lr {run['lr']:g}, {len(run['seeds'])} seeds)")
            if run["escape"] is not None:
                ax.axvline(run["escape"], color=color, ls=":", lw=1)
            if label in doc["paper_escape"].get(inputs, {}):
                ax.axvline(doc["paper_escape"][inputs][label], color=color, ls="--", lw=0.8, alpha=0.6)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="epoch",
            ylabel="loss (mean, seeds' range shaded)",
            title=f"Fig. 4, {inputs} inputs",
        )
        ax.legend(fontsize=8, title="dotted: escape, dashed: paper's", title_fontsize=7)
    if doc.get("init_scan"):  # the follow-up repository's start: every scanned run's mean curve
        ax = axes[len(doc["runs"])]
        for key, run in doc["init_scan"].items():
            alive = run["seeds"] - run["diverged"]
            ax.plot(np.maximum(run["epochs"], 1), run["mean"], label=f"{key} ({alive} of {run['seeds']} seeds finite)")
        ax.axhline(0.08, color="k", ls="--", lw=0.8, alpha=0.6)
        ax.axvline(doc["paper_escape"]["white"]["linear + GD"], color="k", ls="--", lw=0.8, alpha=0.6)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="epoch",
            ylabel="loss (mean of the finite seeds, or of all)",
            title="white inputs x dt, c = 0.7071,\nthe follow-up repository's start (relu-orthogonal)",
        )
        ax.legend(fontsize=7, title="dashed: the paper's level and GD escape", title_fontsize=7)
    plots.save(axes[0], path)


if __name__ == "__main__":
    main()
