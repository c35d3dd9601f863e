"""What one Rodas4 step costs per batch element, and the per-trajectory floor it sets, beside compiled LSODA.

On the problem of ``bench_rodas.py`` (rho = exp(-t) + 0.5 exp(-(t - mu)^2/2), width 2 from M*, a batch of
distinct memories mu in [8, 16)), vmapped and jitted, each part repeated 100 times in a ``fori_loop`` (so
that the loop's own cost is shared as in a solve), the least of 15 calls per batch size, in interleaved rounds:

* ``field``: the flow's vector field (the centred gradient), which a Rodas4 step evaluates six times;
* ``jacobian``: the flow's Jacobian as the solver is given it (forward-mode autodiff of the centred
  gradient); ``hessian``: the plain derived Hessian, for comparison;
* ``lu``: the batch-independent pivoted LU of a 4 x 4 system and one solve with it (a step has six);
* ``step``: one whole Rodas4 step (``memdyn.core.rosenbrock.Rodas4.step``) with a fixed step size;
* ``hitting_times``: the whole hitting-time solve (events, both passes, the controller), per step of its
  slowest element, at rtol 1e-6 (the rtol at which Rodas4 matches tau accuracy 1e-6 in ``bench_rodas.py``).

``floor_ms`` is the step's cost times the mean number of steps (accepted and rejected) of a trajectory at
that rtol: what a trajectory would cost with no controller, no events and no wait for a batch's slowest
element. Compiled LSODA per trajectory at the same tau accuracy comes from ``results/bench_rodas.json``
(run that first). Writes ``results/step_cost.json``.

Usage: ``python research/step_cost.py`` (about 2 minutes on 2 cores).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from diffrax._term import WrapTerm

jax.config.update("jax_enable_x64", True)

import memdyn  # noqa: E402
from memdyn.core import rosenbrock  # noqa: E402
from memdyn.core.loss import hessian  # noqa: E402
from memdyn.core.solve import Centred, make_hitting_times, terms  # noqa: E402
from memdyn.core.solvers import SolverConfig  # noqa: E402
from memdyn.studies.bench import machine  # noqa: E402
from memdyn.studies.problems import DELTA, RHO, mstar_start  # noqa: E402

RESULTS = Path(__file__).parent / "results"
OUT = RESULTS / "step_cost.json"
START = jnp.asarray(mstar_start([0.5]))
BATCHES = (1, 64, 256)
REPEAT = 100
RTOL = 1e-6
ACCURACY = 1e-6


def parts(tg) -> dict:
    """Each part as ``(data, theta0) -> array``, repeated ``REPEAT`` times on its own output."""
    coords = Centred(tg)
    field, jac = coords.flow()
    config = SolverConfig(solver="rodas4")
    term = terms(config, field, jac)
    solver = rosenbrock.Rodas4()

    def repeated(update):
        def run(data, theta0):
            at = coords.anchor(data, theta0)
            args = (data, at, None)
            return jax.lax.fori_loop(0, REPEAT, lambda i, y: update(y, args), theta0 - at.theta)

        return run

    def lu(y, args):
        M = jnp.eye(y.shape[0]) * 3.0 + jnp.outer(y, y)
        return y + 1e-9 * rosenbrock.lu_solve(rosenbrock.lu_factor(M), y)

    def step(y, args):
        # wrapped as diffeqsolve hands it to a solver (the step unwraps it)
        return solver.step(WrapTerm(term, 1), 0.0, 0.01, y, args, None, False)[0]

    return {
        "field": repeated(lambda y, args: y + 1e-9 * field(0.0, y, args)),
        "jacobian": repeated(lambda y, args: y + 1e-9 * jac(0.0, y, args)[0]),
        "hessian": repeated(lambda y, args: y + 1e-9 * hessian(tg, args[0], args[1].theta + y)[0]),
        "lu": repeated(lu),
        "step": repeated(step),
    }


def best(fns: dict, *args, rounds: int = 5, calls: int = 3) -> dict:
    """The least wall of each function over ``rounds`` interleaved rounds of ``calls`` calls (this VM's
    timings move by tens of per cent within a minute: interleaving spreads that over every part), and
    its last output."""
    out = {k: jax.block_until_ready(fn(*args)) for k, fn in fns.items()}
    walls: dict = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            for _ in range(calls):
                t = time.perf_counter()
                out[k] = jax.block_until_ready(fn(*args))
                walls[k].append(time.perf_counter() - t)
    return {k: (min(w), out[k]) for k, w in walls.items()}


def main() -> None:
    tg = memdyn.target(RHO, {"mu": 12.0})
    hitting = make_hitting_times(tg, SolverConfig(solver="rodas4"))
    fns = {k: jax.jit(jax.vmap(f)) for k, f in parts(tg).items()}
    solve = jax.jit(jax.vmap(lambda data, theta0: hitting(data, theta0, DELTA, 1e15, RTOL, RTOL * 1e-2, 0.0)))
    rows = []
    for batch in BATCHES:
        values = 8.0 + 8.0 * np.arange(batch) / batch
        data = tg.data_batch([{"mu": float(v)} for v in values])
        theta0 = jnp.tile(START, (batch, 1))
        row: dict = {"batch": batch}
        timed = best({**fns, "hitting_times": solve}, data, theta0)
        for name in fns:
            row[f"{name}_ns"] = 1e9 * timed[name][0] / REPEAT / batch
        wall, out = timed["hitting_times"]
        steps = np.asarray(out["steps"] + out["rejected_steps"])
        row.update(
            hitting_times_ns=1e9 * wall / int(steps.max()) / batch,
            steps_mean=float(steps.mean()),
            steps_max=int(steps.max()),
            per_trajectory_ms=1e3 * wall / batch,
            floor_ms=1e-6 * row["step_ns"] * float(steps.mean()),
        )
        rows.append(row)
        print(json.dumps(row), flush=True)
    doc: dict = {"machine": machine(), "jax": jax.__version__, "rtol": RTOL, "repeat": REPEAT, "rows": rows}
    bench = json.loads((RESULTS / "bench_rodas.json").read_text())
    matched = next(m for m in bench["matched"] if m["accuracy"] == ACCURACY)
    if "compiled LSODA" in matched:
        peer = matched["compiled LSODA"]["per_trajectory_ms"]
        floor = min(r["floor_ms"] for r in rows)
        doc["compiled_lsoda"] = {
            "accuracy": ACCURACY,
            "per_trajectory_ms": peer,
            "floor_ms": floor,
            "floor_ratio": peer / floor,
        }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")


def markdown(doc: dict) -> str:
    """The paragraph docs/benchmarks.md shows (tests/test_quotes.py checks it is this artefact's)."""
    rows = {r["batch"]: r for r in doc["rows"]}
    r, big = rows[64], rows[256]
    text = (
        f"**The floor of the step.** With nothing else in the loop, a Rodas4 step on a batch of 64 costs "
        f"{r['step_ns']:.0f} ns per element: six vector fields at {r['field_ns']:.0f} ns each, the Jacobian at "
        f"{r['jacobian_ns']:.0f} ns, an LU factorisation and a solve at {r['lu_ns']:.0f} ns. Times the "
        f"{r['steps_mean']:.0f} steps (accepted and rejected) a trajectory takes at rtol {doc['rtol']:.0e}, that is "
        f"{r['floor_ms']:.3f} ms per trajectory before the step-size controller, the events and the wait for the "
        f"batch's slowest element, which bring the whole solve to {r['per_trajectory_ms']:.3f} ms."
    )
    peer = doc.get("compiled_lsoda")
    if peer:
        text += (
            f" Compiled LSODA's {peer['per_trajectory_ms']:.3f} ms at τ accuracy {peer['accuracy']:.0e} is "
            f"{peer['floor_ratio']:.1f}x that floor: batched on this CPU, a method of six right-hand sides and a "
            f"Jacobian a step cannot be 5x faster than a compiled multistep method, which evaluates about one "
            f"right-hand side a step and its Jacobian only now and then."
        )
    text += (
        f" At a batch of 256 the step costs {big['step_ns']:.0f} ns per element, its Jacobian "
        f"{big['jacobian_ns']:.0f} ns (forward-mode autodiff; the derived Hessian {big['hessian_ns']:.0f} ns): "
        f"XLA's CPU code for the batched derivative slows down past some size, one more reason sweeps run in "
        f"chunks of 64 (`python research/step_cost.py`, `research/results/step_cost.json`)."
    )
    return text


if __name__ == "__main__":
    main()
