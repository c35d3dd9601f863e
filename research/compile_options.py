"""Does XLA's optimisation level buy a faster cold start? Compile time and solve time of one flow's
hitting-time solve (m = 2, the README's first flow at 1/omega = 12), per solver, at XLA's default options
and at ``xla_backend_optimization_level`` 0, each compile in a fresh process with memdyn's caches off.

The cold `memdyn flow` is mostly SymPy, tracing and compiling (docs/benchmarks.md, "Time to first
answer"); this measures how much of the compile a lower optimisation level removes and what it costs
the solve. Prints one JSON line per case and writes ``results/compile_options.json``.

Usage: ``python research/compile_options.py`` (about 1 minute on 2 cores).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).parent / "results" / "compile_options.json"
OPTIONS = {"default": None, "xla_backend_optimization_level=0": {"xla_backend_optimization_level": 0}}

CASE = """
import json, sys, time
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
import memdyn
from memdyn.core.integrate import HittingTimes
from memdyn.core.solvers import SolverConfig
solver, options = sys.argv[1], json.loads(sys.argv[2])
tg = memdyn.target("exp(-t) + 0.5*exp(-(t - mu)**2/2)", {"mu": 12})
data, theta0 = tg.data({"mu": 12}), jnp.asarray([1.0, 0.0, 1.0, 0.5])
ht = HittingTimes(tg, SolverConfig(solver=solver))
args = (data, theta0, *ht._runtime(0.01, 1e30, theta0))
start = time.perf_counter(); lowered = ht._function().lower(*args); trace = time.perf_counter() - start
start = time.perf_counter(); executable = lowered.compile(compiler_options=options); compile_s = time.perf_counter() - start
out = jax.block_until_ready(executable(*args))
solves = []
for _ in range(7):
    start = time.perf_counter(); out = jax.block_until_ready(executable(*args)); solves.append(time.perf_counter() - start)
print(json.dumps({"trace_s": trace, "compile_s": compile_s, "solve_s": sorted(solves)[3],
                  "tau_loss": float(out["tau"][1]), "steps": int(out["steps"])}))
"""


def main() -> None:
    rows = []
    env = {**os.environ, "MEMDYN_CACHE": "off"}
    for solver in ("rodas4", "kvaerno5"):
        for name, options in OPTIONS.items():
            proc = subprocess.run(
                [sys.executable, "-c", CASE, solver, json.dumps(options)], env=env, capture_output=True, text=True
            )
            if proc.returncode:
                raise SystemExit(proc.stderr[-2000:])
            row = {"solver": solver, "options": name, **json.loads(proc.stdout.strip().splitlines()[-1])}
            print(json.dumps(row), flush=True)
            rows.append(row)
    from memdyn.studies.bench import machine

    OUT.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
