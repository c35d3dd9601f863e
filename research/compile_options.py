"""Does XLA's optimisation level buy a faster cold start? Compile time and solve time of one flow's
hitting-time solve (m = 2, the README's first flow at 1/omega = 12; ``bench_rodas.program``, the program
whose size and compile time the benchmarks page quotes), per solver, at XLA's default options and at
``xla_backend_optimization_level`` 0, each in a fresh process.

The cold `memdyn flow` is mostly SymPy, tracing and compiling (docs/benchmarks.md, "Time to first
answer"); this measures how much of the compile a lower optimisation level removes and what it costs
the solve. Prints one JSON line per case and writes ``results/compile_options.json``.

Usage: ``python research/compile_options.py`` (about 1 minute on 2 cores).
"""

from __future__ import annotations

import json
from pathlib import Path

from bench_rodas import fresh_program

from memdyn.studies.bench import machine

OUT = Path(__file__).parent / "results" / "compile_options.json"
OPTIONS = {"default": None, "xla_backend_optimization_level=0": {"xla_backend_optimization_level": 0}}


def main() -> None:
    rows = []
    for solver in ("rodas4", "kvaerno5"):
        for name, options in OPTIONS.items():
            row = {"solver": solver, "options": name, **fresh_program(solver, options)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    OUT.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
