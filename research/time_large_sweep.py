"""Data preparation's share of a large sweep's wall time: ``memdyn bench``'s end-to-end measurement
(``memdyn.studies.bench.end_to_end``: 32,768 distinct memories spread evenly over mu in [8, 16], Rodas4
at rtol 1e-6, from M* with a null neuron at 0.5, delta = 0.01; the sweep timed warm, a second call in the
process, the data preparation on its own) without the rest of the benchmark. Prints one line and writes
``results/large_sweep.json`` (quoted in docs/howto/large-sweeps.md).

Usage: ``python research/time_large_sweep.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import json
from pathlib import Path

from memdyn.studies.bench import end_to_end, machine

OUT = Path(__file__).parent / "results" / "large_sweep.json"


def main() -> None:
    run = end_to_end(sizes=(32768,), solvers=("rodas4",))
    row = run["rows"][0]
    data_s, wall = row["data_preparation_s"], row["wall_s"]
    print(
        f"{row['memories']} memories: data preparation {data_s:.2f} s of a {wall:.1f} s warm sweep ({data_s / wall:.1%}), "
        f"{1e3 * row['per_trajectory_s']:.3f} ms per trajectory, all ok: {row['all_ok']}"
    )
    doc = {
        "machine": machine(),
        "memories": row["memories"],
        "mu_range": run["mu_range"],
        "solver": row["solver"],
        "rtol": row["rtol"],
        "data_preparation_s": data_s,
        "sweep_s": wall,
        "all_ok": row["all_ok"],
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
