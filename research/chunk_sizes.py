"""Wall per trajectory of a 4,097-memory sweep against the chunk size (elements per compiled call).

``memdyn.sweep`` solves more than 64 elements in chunks of 64 (``chunk=None``), ordered by predicted
cost, so that a chunk waits for its own slowest element only; this measures that choice against larger
chunks (one call of 4,097 elements is padded to 8,192). Rodas4 at rtol 1e-6 on the setting of
``bench_rodas.py``; the median of three warm sweeps per size. Prints one JSON line per size and writes
``results/chunk_sizes.json``.

Usage: ``python research/chunk_sizes.py`` (about 3 minutes on 2 cores).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import memdyn  # noqa: E402
from memdyn.studies.bench import machine  # noqa: E402
from memdyn.studies.problems import DELTA, RHO, mstar_start  # noqa: E402

OUT = Path(__file__).parent / "results" / "chunk_sizes.json"
VALUES = 8.0 + np.arange(4097) / 512
START = mstar_start([0.5])
CHUNKS = (16, 32, 64, 128, 256, 1024, 4097)


def main() -> None:
    rows = []
    for chunk in CHUNKS:

        def run():
            return memdyn.sweep(
                RHO,
                "mu",
                VALUES,
                a0=START[:2],
                w0=START[2:],
                delta=DELTA,
                solver="rodas4",
                rtol=1e-6,
                atol=1e-8,
                chunk=chunk,
            )

        run()  # compiles this chunk's batch size
        walls = []
        for _ in range(3):
            t = time.perf_counter()
            res = run()
            walls.append(time.perf_counter() - t)
        rows.append(
            {
                "chunk": chunk,
                "per_trajectory_ms": 1e3 * statistics.median(walls) / len(VALUES),
                "walls_s": walls,
                "steps_mean": float(np.mean(res.steps)),
                "steps_max": int(np.max(res.steps)),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    OUT.write_text(json.dumps({"machine": machine(), "jax": jax.__version__, "rows": rows}, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
