"""Which settings of target (99), M* starts, delta and loss normalisation fit the paper's Figs. 2 and 3?

    python research/infer_paper.py [fig2] [fig2_off] [fig3] ...  # writes research/results/infer_<name>.json (~5-15 min each, 2 cores)

The same search as `memdyn infer --figure fig2` (and fig3 with the grid below), kept as committed
artefacts that the README quotes and tests/studies/test_infer.py checks.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)  # a script configures its own process; importing memdyn does not

from memdyn.studies.infer import Space, infer, paper_points, predict

RESULTS = Path(__file__).resolve().parent / "results"
SPACES = {
    # Two broader grids came first (c 0.25..4, sigma 0.5..3, w* 1..3, null rate 0.3..1, delta 1e-3..0.1, kappa 1
    # and 1/2; 1536 and 1152 settings): their best lay on the grid's edge (sigma 3, w* 3, null rate 1, chi2 14.3);
    # this grid is centred there and reaches past it.
    "fig2": Space(
        width=2,
        c=(1.0, 2.0, 4.0),
        sigma=(2.0, 3.0, 4.0),
        w_star=(2.0, 3.0, 4.0),
        null_min=(0.8, 1.0, 1.2, 1.4),
        delta=(0.01, 0.1),
        normalisation=(1.0, 0.5),
    ),
    # Off M*: neuron 1 starts with amplitude below 1 (0: nothing captured; the loss drops onto the plateau
    # first, as the paper's Fig. 2 describes). Two grids came first: amplitude 0, c 0.5..4, sigma 1..4, w* 1..4,
    # null rate 0.1..0.8 (720 settings; best on the edge: c 0.5, sigma 4, w* 4, null rate 0.8, chi2 24.3), then
    # amplitude 0 and 0.5, c 0.25..1, sigma 2..6, w* 2..6, null rate 0.8..1.5 (864 settings; best c 1, sigma 4,
    # w* 6, amplitude 0.5, null rate 1.2, chi2 11.8, w* on the edge); this grid is centred there and reaches past.
    "fig2_off": Space(
        width=2,
        c=(0.5, 1.0, 2.0),
        sigma=(3.0, 4.0, 5.0),
        w_star=(6.0, 9.0, 12.0),
        null_min=(1.0, 1.2, 1.5, 2.0),
        amplitude=(0.25, 0.5, 0.75),
        delta=(0.01, 0.1),
        normalisation=(1.0, 0.5),
    ),
    # Fig. 3 off M* (m = 10): neuron 1 below its amplitude, nine null neurons, around Fig. 2's off-M* best.
    "fig3_off": Space(
        width=10,
        c=(1.0, 2.0),
        sigma=(1.0, 2.0, 4.0),
        w_star=(1.0, 3.0, 9.0),
        null_min=(0.5, 0.8, 1.2),
        amplitude=(0.5, 0.75),
        delta=(0.01,),
        normalisation=(1.0, 0.5),
    ),
    # Fig. 3 on M*: two grids came first, each best on its edge: c 0.5..2, sigma 1..2, w* 1, null rate 0.5..0.9
    # (60 settings; best c 2, sigma 1, null rate 0.8, chi2 413), then c 2..8, sigma 0.5..1, w* 1 and 3, null rate
    # 0.7..1 (144 settings; best c 8, sigma 1, w* 3, null rate 0.9, chi2 298, its separation times 3-8 sigmas
    # short of the paper's while its plateau times are long). Then "fig3_lambda" below (kept: it compares the
    # parameter distance's normalisations), and a grid past its edge (c 16..64, sigma 0.75..1.5, w* 9, null rate
    # 0.85..1, kappa 1 and 1/2, lambda 1/sqrt(20) and 0.1; 144 settings) that found the same best, now inside the
    # grid in c, sigma, null rate and lambda. This grid refines it and searches delta, held at 0.01 until here.
    "fig3": Space(
        width=10,
        c=(12.0, 16.0, 24.0),
        sigma=(0.75, 1.0, 1.25),
        w_star=(9.0,),
        null_min=(0.85, 0.9, 0.95),
        delta=(0.003, 0.01, 0.03),
        normalisation=(1.0,),
        param_normalisation=(1 / math.sqrt(20),),
    ),
    # Fig. 3 on M* without its 1/omega = 10 pair (DROP below): every grid above misses most at 1/omega = 10, where
    # the paper's separation time is a twentieth of its plateau time. Two grids came first, without that pair:
    # "fig3" and "fig3_lambda" above (best chi2 19.2 and 14.8, each 2.0-2.2 sigmas off at one point), then c 8..12,
    # sigma 0.5..1, null rate 0.8..0.9, delta 0.01 and 0.02 (54 settings; best c 10, sigma 0.75, null rate 0.85,
    # chi2 10.9, 2.09 sigmas off). This grid is centred there.
    "fig3_12on": Space(
        width=10,
        c=(9.0, 10.0, 11.0),
        sigma=(0.625, 0.75, 0.875),
        w_star=(9.0,),
        null_min=(0.825, 0.85, 0.875),
        delta=(0.007, 0.01, 0.014),
        normalisation=(1.0,),
        param_normalisation=(1 / math.sqrt(20),),
    ),
    # The 1/omega = 10 pair and the parameter threshold: fig3_12on's best with the paper's parameter distance read at
    # larger lambda (a smaller threshold delta / lambda on memdyn's 2-norm), scored on every point. The separation
    # time shortens in proportion at every memory, so no threshold fits the 1/omega = 10 point alone.
    "fig3_threshold": Space(
        width=10,
        c=(11.0,),
        sigma=(0.75,),
        w_star=(9.0,),
        null_min=(0.85,),
        delta=(0.014,),
        normalisation=(1.0,),
        param_normalisation=(1 / math.sqrt(20), 0.5, 1.0, 2.0, 4.0),
    ),
    # The parameter distance's normalisation: lambda = 1 (the 2-norm) or 1/sqrt(2m) (an RMS over the 2m parameters:
    # the paper's delta is then sqrt(20) delta on memdyn's 2-norm), c 4..16, sigma 0.5..1, w* 3 and 9.
    "fig3_lambda": Space(
        width=10,
        c=(4.0, 8.0, 16.0),
        sigma=(0.5, 1.0),
        w_star=(3.0, 9.0),
        null_min=(0.8, 0.9, 1.0),
        delta=(0.01,),
        normalisation=(1.0, 0.5),
        param_normalisation=(1.0, 1 / math.sqrt(20)),
    ),
}


DROP = {"fig3_12on": (10.0,)}
"""Read-offs left out of a search (their memories 1/omega)."""
EVERY = ("fig3_12on", "fig3_threshold")
"""Searches whose artefact also holds every setting's hitting times at every memory of the figure ("every_setting"):
how far left-out points lie from all of them, and how the separation time moves with the threshold."""


def main(figures=tuple(SPACES)):
    for figure in figures:
        space, name = SPACES[figure], figure.split("_")[0]
        out = infer(paper_points(name, drop=DROP.get(figure, ())), space)
        if figure in EVERY:
            memories = sorted({x for p in paper_points(name) for x in p.x})
            pred = predict(space, memories, t1=out["t1"])
            out["every_setting"] = {
                "memory": memories,
                "settings": [
                    {
                        **s,
                        **{
                            q: [float(t) if math.isfinite(t) else None for t in pred[q][i]]
                            for q in ("tau_loss", "tau_param")
                        },
                    }
                    for i, s in enumerate(pred["settings"])
                ],
            }
        (RESULTS / f"infer_{figure}.json").write_text(json.dumps(out, indent=1) + "\n")
        best = out["best"]
        print(
            f"{figure}: {out['candidates']} candidates, {out['consistent']} consistent; best "
            + ", ".join(
                f"{k} {best[k]:g}" for k in ("c", "sigma", "w_star", "amplitude", "null_min", "delta", "normalisation")
            )
            + f", chi2 {best['chi2']:.3g}",
            flush=True,
        )


if __name__ == "__main__":
    import sys

    main(tuple(sys.argv[1:]) or tuple(SPACES))
