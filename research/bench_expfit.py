"""Benchmark of the extended-precision fits: time to a width-20 L2 fit, what dominates it,
the best uniform fits of 1/(1+t) to width 40 beside the published ones (memdyn.theory.hackbusch),
the best L1 fits of (1+t)^-1.5 to width 30, and the decay of best errors with width against exp(-c sqrt(m)).

    python research/bench_expfit.py            # writes research/results/bench_expfit.json (about 20 minutes on 2 cores)

Timings are wall-clock in this process after import, on the machine named in the JSON.
"""

from __future__ import annotations

import cProfile
import json
import math
import os
import platform
import pstats
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)  # a script configures its own process; memdyn's import does not

from memdyn.core.pipeline import target
from memdyn.studies.curse import sqrt_law
from memdyn.theory import expfit as ef
from memdyn.theory import hackbusch

OUT = Path(__file__).resolve().parent / "results" / "bench_expfit.json"
SUP_WIDTH = ef.MAX_WIDTH
L1_WIDTH = 30  # past it the L1 iteration runs out of steps before converging (README, limits)


def main():
    out = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "precision_bits": ef.PRECISION,
    }
    poly = ef.PreciseKernel(target("(1+t)^(-1.5)", {}), {}, "(1+t)^(-1.5)")
    start = time.perf_counter()
    ef.best_fits(poly, [20], "l2")  # widths 1..20 fitted, errors in every norm at width 20
    out["l2_width20_seconds"] = time.perf_counter() - start
    profile = cProfile.Profile()
    profile.enable()
    fits = ef.best_fits(poly, range(1, 25), "l2")
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt
    parts = {
        name: sum(v[3] for k, v in stats.stats.items() if k[2] in funcs)  # cumulative time
        for name, funcs in {
            "errors in every norm (mpmath tails, search grids)": ("errors",),
            "Newton on ln w (J, gradient, Hessian)": ("_newton",),
            "of which MPFR Gaussian elimination": ("solve",),
        }.items()
    }
    out["l2_width24_breakdown"] = {k: v / total for k, v in parts.items()}
    rows = fits.rows
    out["l2_poly"] = {
        "rho": "(1+t)^(-1.5)",
        "m": [r["m"] for r in rows],
        "l2_error": [r["l2_error"] for r in rows],
        "l1_error": [r["l1_error"] for r in rows],
        "sup_error": [r["sup_error"] for r in rows],
    }
    out["l2_poly"]["law"] = sqrt_law(out["l2_poly"]["m"][5:], out["l2_poly"]["l2_error"][5:])
    print(f"L2 width 20: {out['l2_width20_seconds']:.1f} s; width 24 error {rows[-1]['l2_error']:.4e}", flush=True)

    inv = ef.PreciseKernel(target("1/(1+t)", {}), {}, "1/(1+t)")
    start, reached = time.perf_counter(), {}
    sup = ef.best_fits(
        inv, range(1, SUP_WIDTH + 1), "sup", progress=lambda m: reached.__setitem__(m, time.perf_counter() - start)
    )
    rows = sup.rows
    out["sup_inverse_seconds"] = {"to_width_20": reached[20], f"to_width_{SUP_WIDTH}": reached[SUP_WIDTH]}
    out["sup_inverse"] = {
        "rho": "1/(1+t)",
        "m": [r["m"] for r in rows],
        "sup_error": [r["error"] for r in rows],
        "lower_bound": [r.get("lower_bound") for r in rows],
        "iterations": [r.get("iterations") for r in rows],
        "converged": [r["converged"] for r in rows],
        "last_alternation_t": [r["alternation"][-1] for r in rows],
        "published": [hackbusch.published(r["m"], r["alternation"][-1]) for r in rows],
    }
    out["sup_inverse"]["law"] = sqrt_law(out["sup_inverse"]["m"][5:], out["sup_inverse"]["sup_error"][5:])
    out["sup_inverse"]["braess_hackbusch_c"] = math.pi * math.sqrt(2)
    print(
        f"sup widths 1-{SUP_WIDTH}: {reached[SUP_WIDTH]:.1f} s (to 20: {reached[20]:.1f} s), "
        f"c = {out['sup_inverse']['law']['c']:.3f}"
    )

    start, reached = time.perf_counter(), {}
    l1 = ef.best_fits(
        poly, range(1, L1_WIDTH + 1), "l1", progress=lambda m: reached.__setitem__(m, time.perf_counter() - start)
    )
    rows = l1.rows
    out["l1_poly_seconds"] = reached[L1_WIDTH]
    out["l1_poly"] = {
        "rho": "(1+t)^(-1.5)",
        "m": [r["m"] for r in rows],
        "l1_error": [r["error"] for r in rows],
        "kkt": [r.get("kkt") for r in rows],
        "iterations": [r.get("iterations") for r in rows],
        "converged": [r["converged"] for r in rows],
        "improved": [r["improved"] for r in rows],
    }
    out["l1_poly"]["law"] = sqrt_law(out["l1_poly"]["m"][5:], out["l1_poly"]["l1_error"][5:])
    print(
        f"L1 widths 1-{L1_WIDTH}: {reached[L1_WIDTH]:.1f} s, converged to width "
        f"{max((m for m, c in zip(out['l1_poly']['m'], out['l1_poly']['converged']) if c), default=0)}"
    )
    OUT.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
