"""Hitting times from memdyn's Diffrax flow beside SciPy's LSODA, on the same problem, timed side by side.

Target e^{-t} + 0.5 e^{-(t - mu)^2/2}, start a0 = (1, 0), w0 = (1, 0.5) (on M*), for
mu in {8, 10, 12, 14, 16}. memdyn: its default solver (Rodas4) + PI controller, rtol 1e-10, hitting times by
bracket-and-relocate events, compiled once, timed per solve after compilation (median of
``--repeat`` runs). SciPy: ``solve_ivp(method="LSODA", rtol=1e-10, atol=1e-12)`` on the same
closed-form right-hand side (the jitted gradient) with the Hessian as Jacobian, events for both
hitting times. Prints a Markdown table (and ``--json``).

Run: ``python examples/flow_vs_scipy.py [--delta 0.1] [--repeat 5] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)  # a script configures its own process; importing memdyn does not

import memdyn
from memdyn.core.integrate import SolverConfig, solve_program
from memdyn.core.starts import check_start
from memdyn.studies.reference import scipy_hitting_times

RHO = "exp(-t) + 0.5*exp(-(t - mu)**2/2)"
A0, W0 = [1.0, 0.0], [1.0, 0.5]


def main(delta: float = 0.1, memories=(8.0, 10.0, 12.0, 14.0, 16.0), repeat: int = 5, t1: float = 1e10) -> dict:
    target = memdyn.target(RHO, {"mu": list(memories)})
    config = SolverConfig()
    fn = solve_program(target, config)
    theta0 = check_start(A0, W0)
    rows = []
    for mu in memories:
        data = target.data({"mu": mu})
        start = time.perf_counter()
        jax.block_until_ready(fn(data, theta0, delta, t1))
        first = time.perf_counter() - start
        walls = []
        for _ in range(repeat):
            start = time.perf_counter()
            jax.block_until_ready(fn(data, theta0, delta, t1))
            walls.append(time.perf_counter() - start)
        ours = memdyn.hitting_times(target, data, A0, W0, delta=delta, t1=t1, config=config)
        horizon = 3 * max(x for x in (ours.tau_param, ours.tau_loss, 1.0) if x is not None)
        if ours.tau_loss is None:
            horizon = 1e6  # long enough for the flow to settle after its escape
        lsoda = [
            scipy_hitting_times(target, data, A0, W0, delta=delta, t1=horizon, method="LSODA", rtol=1e-10, atol=1e-12)
            for _ in range(max(1, repeat // 2))
        ]
        rows.append(
            {
                "mu": mu,
                "tau_param": ours.tau_param,
                "tau_loss": ours.tau_loss,
                "status": ours.status,
                "steps": ours.steps,
                "memdyn_s": statistics.median(walls),
                "memdyn_first_call_s": first,
                "lsoda_tau_param": lsoda[0]["tau_param"],
                "lsoda_tau_loss": lsoda[0]["tau_loss"],
                "lsoda_s": statistics.median(r["wall_s"] for r in lsoda),
                "lsoda_nfev": lsoda[0]["nfev"],
                "lsoda_t1": horizon,
            }
        )
    return {
        "delta": delta,
        "machine": f"{platform.machine()}, {jax.device_count()} JAX CPU device(s), jax {jax.__version__}",
        "rows": rows,
    }


def table(result: dict) -> str:
    lines = [
        f"delta = {result['delta']}; {result['machine']}",
        "",
        "| 1/ω | τ_param (memdyn) | τ_loss (memdyn) | status | steps | memdyn s/solve | τ_param (LSODA) | τ_loss (LSODA) | LSODA s/solve | LSODA nfev | speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    fmt = lambda x: "null" if x is None else f"{x:.10g}"  # noqa: E731
    for r in result["rows"]:
        lines.append(
            f"| {r['mu']:g} | {fmt(r['tau_param'])} | {fmt(r['tau_loss'])} | {r['status']} | {r['steps']} | "
            f"{r['memdyn_s'] * 1e3:.1f} ms | {fmt(r['lsoda_tau_param'])} | {fmt(r['lsoda_tau_loss'])} | "
            f"{r['lsoda_s'] * 1e3:.1f} ms | {r['lsoda_nfev']} | {r['lsoda_s'] / r['memdyn_s']:.1f}x |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delta", type=float, default=0.1, help="hitting-time threshold (default 0.1)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions per solve (default 5)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    args = parser.parse_args()
    result = main(args.delta, repeat=args.repeat)
    print(json.dumps(result) if args.json else table(result))
