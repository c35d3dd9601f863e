"""Sweep throughput on one accelerator: trajectories per second of `memdyn sweep`'s batched path
(:func:`memdyn.studies.bench.device_scaling`, Fig. 3's start on M*, memories 8..16) at widths m = 2 and 10.

    python research/bench_gpu_throughput.py                          # 2:4096, 2:32768, 10:512, 60 s each
    python research/bench_gpu_throughput.py --size 2:256 --out /tmp/t.json  # a check on any machine

Each size runs in its own process under a time limit (compile, one warm-up sweep, one timed sweep): a size that
does not finish in time is recorded as such, not left out. Writes research/results/bench_gpu_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "bench_gpu_throughput.json"
ONE = (
    "import json; import jax; jax.config.update('jax_enable_x64', True); "
    "from memdyn.studies.bench import device_scaling; "
    "print(json.dumps(device_scaling(elements={{{m}: {n}}})))"
)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--size",
        action="append",
        metavar="M:N",
        default=None,
        help="width m and sweep size n (repeatable; default 2:4096, 2:32768, 10:512)",
    )
    ap.add_argument("--limit", type=float, default=60.0, help="seconds allowed per size (default 60)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"JSON to write (default {OUT.relative_to(OUT.parents[2])})")
    args = ap.parse_args(argv)
    sizes = [tuple(int(v) for v in s.split(":")) for s in (args.size or ["2:4096", "2:32768", "10:512"])]
    doc = {
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
        "limit_s": args.limit,
        "rows": [],
        "unfinished": [],
    }
    for m, n in sizes:
        try:
            proc = subprocess.run(
                [sys.executable, "-c", ONE.format(m=m, n=n)], capture_output=True, text=True, timeout=args.limit
            )
        except subprocess.TimeoutExpired:
            doc["unfinished"].append({"m": m, "elements": n})
            print(f"m = {m}, {n} trajectories: not finished in {args.limit:g} s")
            continue
        if proc.returncode:
            sys.exit(f"m = {m}, {n}: {proc.stderr.strip().splitlines()[-1]}")
        part = json.loads(proc.stdout.strip().splitlines()[-1])
        doc.update({k: part[k] for k in ("platform", "device_kind", "mu_range")})
        doc["rows"] += part["rows"]
        r = part["rows"][0]
        print(f"m = {m}, {n} trajectories: {r['trajectories_per_s']:.0f} per second (compile {r['compile_s']:.1f} s)")
    args.out.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
