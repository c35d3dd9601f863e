"""Rodas4 (given the flow's Jacobian, one LU per step) against Kvaerno5 and SciPy's LSODA, on the sweep a user
outgrows SciPy at: 4,097 distinct memories, mu = 8..16 in steps of 1/512, from M* (neuron 1 = (1, 1),
a null neuron at w = 0.5), delta = 0.01. Writes ``results/bench_rodas.json`` (docs/benchmarks.md quotes it;
tests/test_quotes.py holds the quotes).

* accuracy: the largest relative error of tau_loss (and tau_param) over 65 of the memories (every 64th)
  against Kvaerno5 at rtol 1e-12, itself checked against Rodas4 at rtol 1e-12;
* warm sweep: ``memdyn.sweep`` over all 4,097 memories, called a second time in the process (compiled),
  end to end: data preparation included, and timed on its own beside it;
* fresh process: ``memdyn sweep ... --json`` as a user runs it, with memdyn's caches warm (the median of
  two runs after one that fills them), start-up, import, loading the compiled solve and data preparation
  included;
* SciPy LSODA on the same 65 memories one at a time, on the NumPy lowering of the same derivation with
  the analytic Jacobian (what a user without JAX would run), stopped at the loss event;
* LSODA compiled (``memdyn.studies.peer``: numbalsoda on a numba right-hand side, the event search in
  compiled code too) over all 4,097 memories one at a time on one core, after a first call that compiles
  it: what a speed-minded user would run. Needs ``pip install 'memdyn[peer]'``; without it the rows say so.

Usage: ``python research/bench_rodas.py`` (about 8 minutes on 2 cores).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import memdyn  # noqa: E402
from memdyn.studies import peer  # noqa: E402
from memdyn.studies.bench import machine  # noqa: E402
from memdyn.studies.problems import DELTA, RHO, mstar_start  # noqa: E402
from memdyn.studies.reference import scipy_hitting_times  # noqa: E402

OUT = Path(__file__).parent / "results" / "bench_rodas.json"
STEP = 1 / 512
VALUES = 8.0 + STEP * np.arange(4097)
SAMPLE = np.arange(0, 4097, 64)
START = mstar_start([0.5])
A0, W0 = list(START[:2]), list(START[2:])
SOLVERS = ("kvaerno5", "rodas4")
RTOLS = (1e-6, 1e-7, 1e-8, 1e-9, 1e-10)
LSODA_RTOLS = (1e-6, 1e-8, 1e-10)
PEER_RTOLS = (1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11)
METHODS = ("memdyn kvaerno5", "memdyn rodas4", "scipy LSODA", "compiled LSODA")
ACCURACIES = (1e-6, 1e-8)


def sweep(values, solver: str, rtol: float):
    return memdyn.sweep(RHO, "mu", values, a0=A0, w0=W0, delta=DELTA, solver=solver, rtol=rtol, atol=rtol * 1e-2)


def errors(taus: dict, ref: dict) -> dict:
    """The largest relative error of each hitting time (tau_param, tau_loss) against the reference."""
    return {k: float(np.max(np.abs(np.asarray(taus[k], float) / ref[k] - 1))) for k in ref}


def program(solver: str, options: dict | None = None) -> dict:
    """Size of the traced hitting-time program (StableHLO text, one trajectory), the seconds to trace and to
    compile it (with XLA's ``options``, default none), and its solve (median of 7 after a first call), in
    this process (``fresh_program`` runs it in a fresh one)."""
    import jax.numpy as jnp

    from memdyn.core.solve import make_hitting_times
    from memdyn.core.solvers import SolverConfig

    tg = memdyn.target(RHO, {"mu": 12.0})
    run = make_hitting_times(tg, SolverConfig(solver=solver))
    fn = jax.jit(lambda data, theta0: run(data, theta0, DELTA, 1e15, 1e-10, 1e-12, 0.0))
    args = (tg.data({"mu": 12.0}), jnp.asarray(START))
    t = time.perf_counter()
    lowered = fn.lower(*args)
    trace_s = time.perf_counter() - t
    t = time.perf_counter()
    executable = lowered.compile(compiler_options=options)
    compile_s = time.perf_counter() - t
    out = jax.block_until_ready(executable(*args))
    solves = []
    for _ in range(7):
        t = time.perf_counter()
        out = jax.block_until_ready(executable(*args))
        solves.append(time.perf_counter() - t)
    return {
        "hlo_chars": len(lowered.as_text()),
        "trace_s": trace_s,
        "compile_s": compile_s,
        "solve_s": statistics.median(solves),
        "tau_loss": float(out["tau"][1]),
        "steps": int(out["steps"]),
    }


def fresh_program(solver: str, options: dict | None = None) -> dict:
    """``program(solver, options)`` in a fresh process: at the end of this long run the same compile measured
    1.5x slower (7.5 s against 4.8-5.5 s)."""
    argv = [sys.executable, __file__, "--program", solver, json.dumps(options)]
    proc = subprocess.run(argv, check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fresh_process(solver: str, rtol: float) -> float:
    argv = [
        *(sys.executable, "-m", "memdyn", "sweep", "--rho", RHO, "--sweep", f"mu=8:16:{STEP}"),
        *("--a0", ",".join(map(str, A0)), "--w0", ",".join(map(str, W0)), "--delta", str(DELTA)),
        *("--solver", solver, "--rtol", str(rtol), "--atol", str(rtol * 1e-2), "--json"),
    ]
    walls = []
    for _ in range(3):  # the first fills memdyn's caches
        t = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        walls.append(time.perf_counter() - t)
    return statistics.median(walls[1:])


def markdown(doc: dict) -> str:
    """The tables docs/benchmarks.md shows (tests/test_quotes.py checks they are this artefact's)."""
    lines = [
        "| method | rtol | ms per trajectory | steps (mean, max) | max error of τ′₀ | max error of τ₀ |",
        "|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        steps = f"{r['steps_mean']:.0f}, {r['steps_max']}" if "steps_mean" in r else "–"
        lines.append(
            f"| {r['method']} | {r['rtol']:.0e} | {r['per_trajectory_ms']:.3g} | {steps} "
            f"| {r['tau_loss']:.1e} | {r['tau_param']:.1e} |"
        )
    missing = doc["compiled_lsoda"] if isinstance(doc["compiled_lsoda"], str) else None
    lines += [
        "",
        "| τ accuracy | Rodas4 | Kvaerno5 | SciPy LSODA | compiled LSODA | Rodas4 vs Kvaerno5 | Rodas4 vs SciPy LSODA "
        "| Rodas4 vs compiled LSODA |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in doc["matched"]:
        cell = lambda k: (  # noqa: E731
            f"{m[k]['per_trajectory_ms']:.3g} ms (rtol {m[k]['rtol']:.0e})"
            if k in m
            else "not installed"
            if k == "compiled LSODA" and missing
            else "not reached"
        )
        ratio = lambda k: (  # noqa: E731
            f"{m[k]['per_trajectory_ms'] / m['memdyn rodas4']['per_trajectory_ms']:.1f}x"
            if k in m and "memdyn rodas4" in m
            else "–"
        )
        lines.append(
            f"| {m['accuracy']:.0e} | {cell('memdyn rodas4')} | {cell('memdyn kvaerno5')} | {cell('scipy LSODA')} "
            f"| {cell('compiled LSODA')} | {ratio('memdyn kvaerno5')} | {ratio('scipy LSODA')} "
            f"| {ratio('compiled LSODA')} |"
        )
    return "\n".join(lines + ["", peer_verdict(doc)])


def peer_verdict(doc: dict) -> str:
    """The sentence on compiled LSODA against Rodas4 at each matched accuracy, saying which side this run
    measured faster (the two are near parity on a CPU, and runs on a busy VM may fall either way)."""
    matched = [m for m in doc["matched"] if "compiled LSODA" in m and "memdyn rodas4" in m]
    if not matched:
        return "Compiled LSODA was not measured in this run (not installed, or no accuracy both reached)."
    ms = [
        (m["accuracy"], m["compiled LSODA"]["per_trajectory_ms"], m["memdyn rodas4"]["per_trajectory_ms"])
        for m in matched
    ]
    costs = "At τ accuracy " + ", and at ".join(
        f"{a:.0e} compiled LSODA costs {c:.3g} ms per trajectory against Rodas4's {r:.3g} ms" for a, c, r in ms
    )
    ahead = {a for a, c, r in ms if c < r}
    if len(ahead) == len(ms):
        head, tail = (
            "Compiled LSODA is the faster in this run",
            "one core of compiled LSODA outruns memdyn's batch on two",
        )
    elif not ahead:
        head, tail = (
            "memdyn's batch is the faster in this run",
            "memdyn's batch on two cores outruns one core of compiled LSODA",
        )
    else:
        lead = ", ".join(f"{a:.0e}" for a, _, _ in ms if a in ahead)
        head = "Compiled LSODA and memdyn's batch trade places in this run"
        tail = f"compiled LSODA is ahead at τ accuracy {lead} only"
    return f"**{head}.** {costs}: {tail}."


def main() -> None:
    n = len(VALUES)
    sample = VALUES[SAMPLE]
    ref_runs = {
        s: memdyn.sweep(RHO, "mu", sample, a0=A0, w0=W0, delta=DELTA, solver=s, rtol=1e-12, atol=1e-14) for s in SOLVERS
    }
    ref = {k: getattr(ref_runs["kvaerno5"], k) for k in ("tau_param", "tau_loss")}
    check = errors({k: getattr(ref_runs["rodas4"], k) for k in ref}, ref)

    tg = memdyn.target(RHO, {"mu": list(VALUES[:2])})
    t = time.perf_counter()
    tg.data_batch([{"mu": float(v)} for v in VALUES], host=True)
    data_s = time.perf_counter() - t

    rows = []
    for solver in SOLVERS:
        for rtol in RTOLS:
            sweep(VALUES, solver, rtol)  # compiles (once per solver: tolerances are run-time values)
            t = time.perf_counter()
            res = sweep(VALUES, solver, rtol)
            wall = time.perf_counter() - t
            assert all(str(s) == "ok" for s in res.status), (solver, rtol)
            rows.append(
                {
                    "method": f"memdyn {solver}",
                    "rtol": rtol,
                    "warm_sweep_s": wall,
                    "per_trajectory_ms": 1e3 * wall / n,
                    "steps_mean": float(np.mean(res.steps)),
                    "steps_max": int(np.max(res.steps)),
                    "rejected_mean": res.stats["rejected_steps"] / n,
                    **errors({k: getattr(res, k)[SAMPLE] for k in ref}, ref),
                }
            )
            print(rows[-1], flush=True)
    for rtol in LSODA_RTOLS:
        walls, taus = [], {"tau_param": [], "tau_loss": []}
        for mu in sample:
            data = tg.data({"mu": float(mu)})
            r = scipy_hitting_times(
                tg, data, A0, W0, delta=DELTA, t1=1e15, method="LSODA", rtol=rtol, backend="numpy", stop_at_loss=True
            )
            walls.append(r["wall_s"])
            for k in taus:
                taus[k].append(r[k])
        rows.append(
            {
                "method": "scipy LSODA",
                "rtol": rtol,
                "per_trajectory_ms": 1e3 * float(np.mean(walls)),
                **errors(taus, ref),
            }
        )
        print(rows[-1], flush=True)

    peer_compile_s = None
    if peer.available():
        t = time.perf_counter()
        peer.hitting_times(VALUES[:1], A0, W0, delta=DELTA, t1=1e15)
        peer_compile_s = time.perf_counter() - t
        for rtol in PEER_RTOLS:
            r = peer.hitting_times(VALUES, A0, W0, delta=DELTA, t1=1e15, rtol=rtol)
            assert r["ok"].all() and np.isfinite(r["tau_loss"]).all(), rtol
            rows.append(
                {
                    "method": "compiled LSODA",
                    "rtol": rtol,
                    "warm_sweep_s": r["wall_s"],
                    "per_trajectory_ms": 1e3 * r["wall_s"] / n,
                    **errors({k: r[k][SAMPLE] for k in ref}, ref),
                }
            )
            print(rows[-1], flush=True)

    matched = []
    for accuracy in ACCURACIES:
        best = {}
        for method in METHODS:
            ok = [r for r in rows if r["method"] == method and max(r["tau_param"], r["tau_loss"]) <= accuracy]
            if ok:
                best[method] = min(ok, key=lambda r: r["per_trajectory_ms"])
        entry = {
            "accuracy": accuracy,
            **{m: {"rtol": r["rtol"], "per_trajectory_ms": r["per_trajectory_ms"]} for m, r in best.items()},
        }
        for solver in ("kvaerno5", "rodas4"):
            method = f"memdyn {solver}"
            if method in best:
                entry[method]["fresh_process_s"] = fresh_process(solver, best[method]["rtol"])
        matched.append(entry)
        print(entry, flush=True)

    OUT.write_text(
        json.dumps(
            {
                "machine": machine(),
                "jax": jax.__version__,
                "memdyn": memdyn.__version__,
                "memories": n,
                "sample": len(SAMPLE),
                "reference": "kvaerno5 at rtol 1e-12",
                "reference_check_rodas4": check,
                "data_preparation_s": data_s,
                "program": {s: fresh_program(s) for s in SOLVERS},
                "compiled_lsoda": peer.missing() or {"compile_s": peer_compile_s},
                "rows": rows,
                "matched": matched,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--program"]:
        print(json.dumps(program(sys.argv[2], json.loads(sys.argv[3]))))
    else:
        main()
