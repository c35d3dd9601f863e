"""Data preparation's share of a large sweep's wall time: 32,768 distinct memories (mu = 8..16 in steps of
1/4096), Rodas4 at rtol 1e-6, from M* (null neuron at 0.5), delta = 0.01; the sweep timed warm (a second
call in the process), the data preparation on its own. Prints one line and writes
``results/large_sweep.json`` (quoted in docs/howto/large-sweeps.md).

Usage: ``python research/time_large_sweep.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import memdyn  # noqa: E402
from memdyn.studies.bench import machine  # noqa: E402

OUT = Path(__file__).parent / "results" / "large_sweep.json"

RHO = "exp(-t) + 0.5*exp(-(t - mu)**2/2)"
VALUES = 8.0 + np.arange(32768) / 4096
OPTIONS = dict(a0=[1.0, 0.0], w0=[1.0, 0.5], delta=0.01, solver="rodas4", rtol=1e-6, atol=1e-8)


def main() -> None:
    target = memdyn.target(RHO, {"mu": list(VALUES[:2])})
    start = time.perf_counter()
    target.data_batch([{"mu": float(v)} for v in VALUES], host=True)
    data_s = time.perf_counter() - start
    memdyn.sweep(RHO, "mu", VALUES, **OPTIONS)  # compiles
    start = time.perf_counter()
    result = memdyn.sweep(RHO, "mu", VALUES, **OPTIONS)
    wall = time.perf_counter() - start
    print(
        f"{len(VALUES)} memories: data preparation {data_s:.2f} s of a {wall:.1f} s warm sweep ({data_s / wall:.1%}), "
        f"{1e3 * wall / len(VALUES):.3f} ms per trajectory, all ok: {result.ok}"
    )
    doc = {
        "machine": machine(),
        "memories": len(VALUES),
        "options": OPTIONS,
        "data_preparation_s": data_s,
        "sweep_s": wall,
        "all_ok": bool(result.ok),
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
