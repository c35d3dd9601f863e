"""``memdyn bench --latency``: time to first answer, in fresh processes, beside the SciPy script.

What a user feels is a whole process: import, derivation, tracing, compilation and the solve. Each
case below is run as a new Python process (``subprocess``) and timed from start to exit, with the
persistent cache (``memdyn.core.cache``) empty (*cold*) or filled by an earlier process (*warm*),
beside the SciPy script a user would otherwise write (``SCIPY_SCRIPT``: the same target, start
and thresholds, a hand-written stable gradient, LSODA at rtol 1e-10). A probe process also times the
stages of one flow (import, derivation and lowering, tracing, compilation, solve) cold and warm.

The problem is the paper's: rho = exp(-t) + 0.5 exp(-(t - mu)^2/2), width 2 from (a, w) = (1, 0 | 1, 0.5),
delta = 0.01; the sweep runs 64 memories in [8, 16].
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .problems import RHO
from .tables import markdown_table

SCIPY_SCRIPT = '''"""What a user would otherwise run: exp(-t) + 0.5 exp(-(t - mu)^2/2), width 2 from (a, w) = (1, 0 | 1, 0.5),
both hitting times with delta = 0.01, by SciPy's LSODA at rtol 1e-10 on a hand-written stable gradient."""
import json, sys
import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import erfcx

MUS = [float(x) for x in sys.argv[1].split(",")]
DELTA, C = 0.01, 0.5


def solve(mu):
    def L(w):  # Laplace transform of rho and its derivative: exp(A) erfc(z) = exp(-mu^2/2) erfcx(z)
        z, g = (w - mu) / np.sqrt(2), np.exp(-mu**2 / 2)
        bump = C * np.sqrt(np.pi / 2) * g * erfcx(z)
        return 1 / (w + 1) + bump, -1 / (w + 1) ** 2 + (w - mu) * bump - C * g

    def J(y):  # the loss up to the constant ||rho||^2
        a, w = y[:2], y[2:]
        return a @ (1 / (w[:, None] + w[None, :])) @ a - 2 * a @ L(w)[0]

    def rhs(t, y):
        a, w = y[:2], y[2:]
        K = 1 / (w[:, None] + w[None, :])
        Lw, dLw = L(w)
        return -np.concatenate([2 * K @ a - 2 * Lw, -2 * a * ((K**2) @ a) - 2 * a * dLw])

    y0 = np.array([1.0, 0.0, 1.0, 0.5])
    J0 = J(y0)
    ev_param = lambda t, y: np.linalg.norm(y - y0) - DELTA  # noqa: E731
    ev_loss = lambda t, y: abs(J(y) - J0) - DELTA  # noqa: E731
    ev_param.direction = ev_loss.direction = 1
    ev_loss.terminal = True
    sol = solve_ivp(rhs, (0, 1e8), y0, method="LSODA", rtol=1e-10, atol=1e-12, events=(ev_param, ev_loss))
    return [float(e[0]) if len(e) else None for e in sol.t_events]


print(json.dumps({repr(mu): solve(mu) for mu in MUS}))
'''
"""The SciPy script (20 lines of a user's own), run as ``python script.py MU1,MU2,..``."""

STAGE_PROBE = """
import json, os, sys, time
t0 = time.perf_counter()
import memdyn
from memdyn.core.integrate import SolverConfig, solve_program
from memdyn.core.pipeline import target
from memdyn.core.warm import warm_target
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
memdyn.use_compilation_cache()  # as the command line does
t1 = time.perf_counter()
tg = warm_target(sys.argv[1], {"mu": 12.0}) or target(sys.argv[1], {"mu": 12.0})  # as memdyn.api.flow does
data = tg.data({"mu": 12.0})
t2 = time.perf_counter()
fn = solve_program(tg, SolverConfig())
theta0 = jnp.asarray([1.0, 0.0, 1.0, 0.5])
fn.prepare(data, theta0)
t3 = time.perf_counter()
out = jax.block_until_ready(fn(data, theta0, 0.01, 1e8))
t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "derive_lower_s": t2 - t1, "trace_compile_or_load_s": t3 - t2,
                  "solve_s": t4 - t3}))
"""


JAX_FLOOR = "import jax; jax.config.update('jax_enable_x64', True); import jax.numpy as jnp; (jnp.ones(3) + 1).block_until_ready()"
"""What any JAX program pays before its own work (the floor of a warm memdyn call)."""


def _run(argv: list[str], env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} ... failed: {proc.stderr.strip().splitlines()[-1:]}")
    return wall, proc.stdout


def measure(repeat: int = 5, progress=None) -> dict:
    """All cases; each warm one the median of ``repeat`` fresh processes, run in interleaved rounds
    (every case once per round) so that a change of load on the machine falls on all cases alike.
    Wall times in seconds."""
    memdyn_cli = [sys.executable, "-m", "memdyn.cli"]
    mus64 = ",".join(repr(float(x)) for x in np.linspace(8.0, 16.0, 64))
    flow = memdyn_cli + ["flow", "--rho", RHO, "--a0", "1,0", "--w0", "1,0.5", "--delta", "0.01", "--json"]
    sweep = memdyn_cli + [
        "sweep",
        "--rho",
        RHO,
        "--sweep",
        f"mu={mus64}",
        "--a0",
        "1,0",
        "--w0",
        "1,0.5",
        "--delta",
        "0.01",
        "--t1",
        "1e8",
        "--json",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "scipy_flow.py"
        script.write_text(SCIPY_SCRIPT)
        probe = Path(tmp) / "probe.py"
        probe.write_text(STAGE_PROBE)
        env_flow = {**os.environ, "MEMDYN_CACHE_DIR": str(Path(tmp) / "cache"), "MEMDYN_CACHE": "on"}
        env_sweep = {**env_flow, "MEMDYN_CACHE_DIR": str(Path(tmp) / "cache-sweep")}
        env_probe = {**env_flow, "MEMDYN_CACHE_DIR": str(Path(tmp) / "cache-probe")}
        # (name, argv, environment, kind), in table order
        cases = [
            ("scipy: one flow (mu = 12)", [sys.executable, str(script), "12.0"], env_flow, "scipy"),
            # the floor under any JAX program: start Python, import jax, run one float64 operation
            ("jax alone: import and one operation", [sys.executable, "-c", JAX_FLOOR], env_flow, "floor"),
            ("memdyn flow, cold cache (mu = 12)", flow + ["--param", "mu=12"], env_flow, "cold"),
            ("memdyn flow, warm cache (mu = 12)", flow + ["--param", "mu=12"], env_flow, "warm"),
            (
                "memdyn flow, warm cache, new mu = 13.5 and rtol 1e-8",
                flow + ["--param", "mu=13.5", "--rtol", "1e-8"],
                env_flow,
                "warm",
            ),
            ("scipy: 64 flows (mu in [8, 16])", [sys.executable, str(script), mus64], env_flow, "scipy"),
            ("memdyn sweep of 64, cold cache", sweep, env_sweep, "cold"),
            ("memdyn sweep of 64, warm cache", sweep, env_sweep, "warm"),
        ]
        walls: dict[str, list[float]] = {name: [] for name, *_ in cases}
        for name, argv, env, kind in cases:  # cold first: each fills its cache for the warm cases
            if kind == "cold":
                walls[name].append(_run(argv, env)[0])
                if progress:
                    progress(f"latency: {name}")
        for r in range(repeat):
            for name, argv, env, kind in cases:
                if kind != "cold":
                    walls[name].append(_run(argv, env)[0])
            if progress:
                progress(f"latency: round {r + 1} of {repeat}")
        rows = [
            {"case": name, "wall_s": statistics.median(walls[name]), "runs": len(walls[name]), "kind": kind}
            for name, _, _, kind in cases
        ]
        stages_warm = json.loads(_run([sys.executable, str(probe), RHO], env_flow)[1])
        stages_cold = json.loads(_run([sys.executable, str(probe), RHO], env_probe)[1])
    by = {r["case"]: r["wall_s"] for r in rows}
    scipy1, scipy64 = by["scipy: one flow (mu = 12)"], by["scipy: 64 flows (mu in [8, 16])"]
    ratios = {
        "flow_cold_over_scipy": by["memdyn flow, cold cache (mu = 12)"] / scipy1,
        "flow_warm_over_scipy": by["memdyn flow, warm cache (mu = 12)"] / scipy1,
        "flow_warm_new_value_over_scipy": by["memdyn flow, warm cache, new mu = 13.5 and rtol 1e-8"] / scipy1,
        "scipy64_over_sweep_cold": scipy64 / by["memdyn sweep of 64, cold cache"],
        "scipy64_over_sweep_warm": scipy64 / by["memdyn sweep of 64, warm cache"],
        "jax_floor_over_scipy": by["jax alone: import and one operation"] / scipy1,
        "scipy64_over_jax_floor": scipy64 / by["jax alone: import and one operation"],
    }
    return {
        "rows": rows,
        "ratios": ratios,
        "stages": {"cold": stages_cold, "warm": stages_warm},
        "scipy_script": SCIPY_SCRIPT,
    }


def markdown(result: dict) -> str:
    r = result["ratios"]
    lines = [
        markdown_table(
            ["case (fresh process, end to end)", "wall", "runs"],
            [(row["case"], f"{row['wall_s']:.2f} s", row["runs"]) for row in result["rows"]],
        ),
        "",
        f"memdyn flow / SciPy script: cold {r['flow_cold_over_scipy']:.1f}x, warm {r['flow_warm_over_scipy']:.1f}x, "
        f"warm with a new parameter value and tolerance {r['flow_warm_new_value_over_scipy']:.1f}x. "
        f"64 SciPy solves / memdyn sweep of 64: cold {r['scipy64_over_sweep_cold']:.2f}x, "
        f"warm {r['scipy64_over_sweep_warm']:.2f}x (above 1: memdyn is faster). JAX alone (import, one "
        f"operation) takes {r['jax_floor_over_scipy']:.1f}x the one-flow script and 1/{r['scipy64_over_jax_floor']:.1f} "
        "of the 64 SciPy solves.",
        "",
        markdown_table(
            ["stage of one flow (in one process)", "cold cache", "warm cache"],
            [
                (
                    k.removesuffix("_s").replace("_", " "),
                    f"{result['stages']['cold'][k]:.2f} s",
                    f"{result['stages']['warm'][k]:.2f} s",
                )
                for k in result["stages"]["cold"]
            ],
        ),
    ]
    return "\n".join(lines)
