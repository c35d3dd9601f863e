"""Spreading a sweep over local devices: one batch per device (what `memdyn sweep --devices` does)
against one batch sharded over a device mesh (jax.sharding), and chunks ordered by predicted cost
against chunks that mix short and long plateaus; and `memdyn bench`'s throughput against the number of
devices (m = 2 and 10).

    python research/bench_devices.py     # writes research/results/bench_devices.json (about 5 minutes on 2 cores)

It forces two CPU devices (XLA_FLAGS, set here before JAX starts) unless XLA_FLAGS is already set, so it
measures the mechanism on any machine; on a GPU host unset nothing and it uses the GPUs.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import jax  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

jax.config.update("jax_enable_x64", True)  # a script configures its own process; memdyn's import does not

import memdyn  # noqa: E402
from memdyn.core.integrate import SolverConfig  # noqa: E402
from memdyn.core.solve import make_hitting_times  # noqa: E402
from memdyn.core.sweep import run_sweep  # noqa: E402
from memdyn.studies.bench import device_scaling  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "bench_devices.json"
RHO = "exp(-t) + 0.5*exp(-(t-mu)^2/2)"
# plateaus from ~1e0 to ~1e9 (tau ~ e^{0.5 mu}): every value twice, 64 elements
MUS = [float(x) for x in np.repeat(np.linspace(6.0, 44.0, 32), 2)]
START = np.array([[1.0, 0.0, 1.0, 0.5]])


def timed(name, f, repeats=2):
    f()  # warm: compile and first run
    best = min(_time(f) for _ in range(repeats))
    print(f"{name}: {best:.2f} s", flush=True)
    return best


def _time(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def main():
    devices = jax.local_devices()
    tg = memdyn.target(RHO, {"mu": MUS})
    out = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "devices": [str(d) for d in devices],
        "elements": len(MUS),
        "t1": 1e12,
    }
    kw = dict(delta=0.01, t1=1e12)
    # 1. one device, two chunks of 32, one after the other
    one = lambda: run_sweep(tg, {}, "mu", MUS, START, chunk=32, **kw)  # noqa: E731
    out["one_device_s"] = timed("one device", one)
    # 2. one chunk per device
    per = lambda: run_sweep(tg, {}, "mu", MUS, START, chunk=32, devices=len(devices), **kw)  # noqa: E731
    out["per_device_batches_s"] = timed("per-device batches", per)
    ref, mine = one(), per()
    out["per_device_equal"] = ref.column("tau_loss") == mine.column("tau_loss")
    # 3. one batch of 64 sharded over a mesh of the devices
    fn = jax.vmap(make_hitting_times(tg.lowered(), SolverConfig().static), in_axes=(0, 0, None, None, None, None, None))
    mesh = Mesh(np.array(devices), ("batch",))
    batch = NamedSharding(mesh, PartitionSpec("batch"))
    data = jax.device_put(tg.data_batch([{"mu": v} for v in MUS]), batch)
    theta = jax.device_put(np.tile(tg.internal(START), (len(MUS), 1)), batch)
    cfg = SolverConfig()
    sharded = jax.jit(fn)
    args = (data, theta, 0.01, 1e12, cfg.rtol, cfg.atol, 0.0)
    out["sharded_batch_s"] = timed("sharded batch", lambda: jax.block_until_ready(sharded(*args)))
    got = jax.device_get(sharded(*args))["tau"][:, 1]
    expected = [np.inf if t is None else t for t in ref.column("tau_loss")]
    out["sharded_equal"] = bool(np.allclose(got, expected, rtol=1e-10))
    # 4. load balance on one device: chunks of 8 ordered by predicted cost (run_sweep's default) against
    #    chunks that each mix short and long plateaus
    order = np.argsort(MUS)
    mixed = [MUS[i] for i in np.concatenate([order[k::8] for k in range(8)])]
    out["balanced_chunks_s"] = timed(
        "balanced chunks (the default)", lambda: run_sweep(tg, {}, "mu", mixed, START, chunk=8, **kw)
    )
    out["mixed_chunks_s"] = timed(
        "mixed chunks", lambda: run_sweep(tg, {}, "mu", mixed, START, chunk=8, balance=False, **kw)
    )
    steps = ref.column("steps")
    out["steps_range"] = [int(min(steps)), int(max(steps))]
    taus = [t for t in ref.column("tau_loss") if t]
    out["plateau_range"] = [float(min(taus)), float(max(taus))]
    # 5. memdyn bench's table: trajectories per second against the number of devices, m = 2 and 10
    out["throughput"] = device_scaling()
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
