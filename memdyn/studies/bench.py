"""``memdyn bench``: how memdyn's solving compares with what a user would otherwise do.

Problem: rho = exp(-t) + 0.5 exp(-(t - mu)^2/2), started on M* (neuron 1 = (1, 1), null neurons
at stated rates), tau_loss with delta = 0.01. Three measurements:

* **work-precision** -- error in tau_loss against wall time per solve for Diffrax Kvaerno3/5,
  KenCarp4/5 and Tsit5, memdyn's Rodas4 (every solver of ``memdyn.core.solvers.SOLVERS``), SciPy Radau/BDF/LSODA on the NumPy lowering of the same SymPy derivation
  (analytic Jacobian = the symbolic Hessian), and plain gradient descent (tau = k * eta, the
  first iteration k past the threshold). The reference is Kvaerno5 at rtol 1e-12, checked
  against Radau at rtol 1e-12;
* **cost growth** -- steps and wall time of the default solver (and LSODA's evaluations) as the
  plateau grows from ~1e1 to ~1e11;
* **throughput** -- trajectories per second of one compiled, vmapped batch for batch sizes 1..N,
  and the compile time cold and with JAX's persistent compilation cache;
* **end to end** -- ``memdyn.sweep`` over 4,096 (and in the full profile 32,768) distinct memories per
  solver, warm, data preparation included and timed on its own, with steps and LU factorisations per
  trajectory;
* **matched** -- per solver (Kvaerno5, Rodas4), a batch of 64 at the loosest tolerance reaching tau
  accuracy 1e-6, per trajectory, against the fastest SciPy method reaching it, and against LSODA
  compiled (``memdyn.studies.peer``: numbalsoda on a numba right-hand side, an optional extra; the
  row says so when it is not installed);
* **devices** -- trajectories per second of one sweep against the number of local devices it is
  spread over (the path of ``memdyn sweep --devices``), at widths m = 2 and m = 10.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import plots
from ..core.files import write_atomically
from ..core.integrate import DEFAULT_T1, SolverConfig, solve_program
from ..core.jaxsetup import float64
from ..core.loss import gradient, hessian, loss
from ..core.pipeline import target as make_target
from ..core.solvers import DEFAULT_SOLVER, SOLVERS
from ..core.sweep import default_chunk, run_sweep
from . import peer
from .problems import DELTA, RHO
from .problems import mstar_start as start
from .reference import scipy_hitting_times
from .tables import markdown_table

REFERENCE = SolverConfig(solver="kvaerno5", rtol=1e-12, atol=1e-14)
"""The work-precision reference: Kvaerno5 at rtol 1e-12, a method other than the default (Rodas4), checked
against SciPy's Radau at rtol 1e-12 in every run."""


def machine() -> str:
    return (
        f"{platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, "
        f"jax {jax.__version__} on {jax.devices()[0].platform}"
    ).replace("  ", " ")


def _timed(fn: Callable, repeat: int) -> tuple[float, object]:
    out = fn()
    walls = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t)
    return statistics.median(walls), out


def diffrax_tau(tg, data, theta0, config: SolverConfig, *, t1=1e15, repeat=3) -> dict:
    fn = solve_program(tg, config)
    run = lambda: jax.device_get(fn(data, jnp.asarray(theta0), DELTA, t1))  # noqa: E731
    t = time.perf_counter()
    run()
    first = time.perf_counter() - t
    wall, out = _timed(run, repeat)
    tau = float(out["tau"][1])
    return {
        "tau": tau if np.isfinite(tau) else None,
        "wall_s": wall,
        "first_call_s": first,
        "steps": int(out["steps"]),
        "code": int(out["code"]),
    }


def scipy_tau(tg, data, theta0, method: str, rtol: float, *, t1: float, repeat=1) -> dict:
    """tau_loss from SciPy on the NumPy lowering (analytic Jacobian), stopped at the loss event."""
    m = len(theta0) // 2
    r = scipy_hitting_times(
        tg,
        data,
        theta0[:m],
        theta0[m:],
        delta=DELTA,
        t1=t1,
        method=method,
        rtol=rtol,
        backend="numpy",
        stop_at_loss=True,
        repeat=repeat,
    )
    return {"tau": r["tau_loss"], "wall_s": r["wall_s"], "nfev": r["nfev"], "njev": r["njev"], "status": r["status"]}


def gd_tau(tg, data, theta0, eta: float, *, max_iter: int = 50_000_000) -> dict:
    """Plain gradient descent theta <- theta - eta grad J until |J - J0| > delta; tau = k eta."""
    J0 = loss(tg, data, jnp.asarray(theta0))

    @jax.jit
    def run(theta):
        def cond(c):
            k, th = c
            return (jnp.abs(loss(tg, data, th) - J0) <= DELTA) & (k < max_iter)

        def body(c):
            k, th = c
            return k + 1, th - eta * gradient(tg, data, th)

        return jax.lax.while_loop(cond, body, (0, theta))[0]

    run(jnp.asarray(theta0))
    wall, k = _timed(lambda: int(run(jnp.asarray(theta0))), 1)
    return {"tau": k * eta if k < max_iter else None, "wall_s": wall, "iterations": k, "eta": eta}


def work_precision(
    mu: float = 12.0,
    null_rates=(0.5,),
    rtols=(1e-5, 1e-7, 1e-9, 1e-11),
    solvers=tuple(SOLVERS),
    scipy_methods=("LSODA", "BDF", "Radau"),
    etas=(0.3, 0.1, 0.03, 0.01),
    progress=None,
) -> dict:
    tg = make_target(RHO, {"mu": mu})
    data = tg.data({"mu": mu})
    theta0 = start(null_rates)
    ref = diffrax_tau(tg, data, theta0, REFERENCE, repeat=1)["tau"]
    check = scipy_tau(tg, data, theta0, "Radau", 1e-12, t1=3 * ref)["tau"]
    rows = []
    for solver in solvers:
        for rtol in rtols:
            r = diffrax_tau(tg, data, theta0, SolverConfig(solver=solver, rtol=rtol, atol=rtol * 1e-2))
            rows.append({"method": f"diffrax {solver}", "rtol": rtol, **r})
        if progress:
            progress(f"work-precision: {solver}")
    for method in scipy_methods:
        for rtol in rtols:
            r = scipy_tau(tg, data, theta0, method, rtol, t1=3 * ref)
            rows.append({"method": f"scipy {method}", "rtol": rtol, **r})
        if progress:
            progress(f"work-precision: scipy {method}")
    peer_missing = peer.missing()
    if peer_missing is None:
        m = len(theta0) // 2
        for rtol in rtols:
            r = peer.hitting_times([mu], theta0[:m], theta0[m:], delta=DELTA, t1=3 * ref, rtol=rtol)
            tau = float(r["tau_loss"][0])
            rows.append(
                {
                    "method": "compiled LSODA",
                    "rtol": rtol,
                    "tau": tau if np.isfinite(tau) else None,
                    "wall_s": r["wall_s"],
                }
            )
        if progress:
            progress("work-precision: compiled LSODA")
    lam = float(np.max(np.linalg.eigvalsh(np.asarray(hessian(tg, data, jnp.asarray(theta0))))))
    for eta in etas:
        eta = min(eta, 1.0 / lam)
        rows.append({"method": "gradient descent", "rtol": None, **gd_tau(tg, data, theta0, eta)})
    for r in rows:
        r["error"] = None if r["tau"] is None else abs(r["tau"] / ref - 1)
    return {
        "mu": mu,
        "m": len(theta0) // 2,
        "reference_tau": ref,
        "reference_check_radau": check,
        "reference_agreement": abs(check / ref - 1),
        "compiled_lsoda": peer_missing or "measured",
        "rows": rows,
    }


def cost_growth(
    memories=(6.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0),
    null_rates=(0.6,),
    others_up_to: float = 1e7,
    gd_up_to: float = 1e4,
    progress=None,
) -> dict:
    """The default solver (``DEFAULT_SOLVER``) at every memory; LSODA and Tsit5 while tau <= ``others_up_to``; gradient
    descent at its stable step 1/lambda_max while tau <= ``gd_up_to`` (it needs tau/eta iterations)."""
    tg = make_target(RHO, {"mu": list(memories)})
    theta0 = start(null_rates)
    rows = []
    for mu in memories:
        data = tg.data({"mu": mu})
        r = diffrax_tau(tg, data, theta0, SolverConfig(), repeat=1)
        row = {"mu": mu, "tau": r["tau"], "steps": r["steps"], "wall_s": r["wall_s"], "code": r["code"]}
        if r["tau"] is not None and r["tau"] <= others_up_to:
            s = scipy_tau(tg, data, theta0, "LSODA", 1e-10, t1=3 * r["tau"])
            row.update({"lsoda_nfev": s["nfev"], "lsoda_wall_s": s["wall_s"], "lsoda_tau": s["tau"]})
            e = diffrax_tau(tg, data, theta0, SolverConfig(solver="tsit5"), repeat=1)
            row.update({"tsit5_steps": e["steps"], "tsit5_wall_s": e["wall_s"], "tsit5_tau": e["tau"]})
        if r["tau"] is not None and r["tau"] <= gd_up_to:
            lam = float(np.max(np.linalg.eigvalsh(np.asarray(hessian(tg, data, jnp.asarray(theta0))))))
            g = gd_tau(tg, data, theta0, 1.0 / lam)
            row.update({"gd_iterations": g["iterations"], "gd_wall_s": g["wall_s"], "gd_tau": g["tau"]})
        rows.append(row)
        if progress:
            progress(f"cost growth: 1/omega = {mu:g}")
    ok = [r for r in rows if r["tau"]]
    growth = (
        {"plateau_ratio": ok[-1]["tau"] / ok[0]["tau"], "steps_ratio": ok[-1]["steps"] / ok[0]["steps"]} if ok else {}
    )
    # On the plateau proper (tau >= 1e2; shorter "plateaus" are mostly the escape itself).
    long = [r for r in ok if r["tau"] >= 1e2]
    if len(long) >= 2:
        growth.update(
            {
                "plateau_regime_ratio": long[-1]["tau"] / long[0]["tau"],
                "plateau_regime_steps_ratio": long[-1]["steps"] / long[0]["steps"],
            }
        )
    return {"null_rates": list(null_rates), "solver": DEFAULT_SOLVER, "rows": rows, **growth}


def throughput(
    batches=(1, 8, 64, 512, 4096), mu_range=(8.0, 16.0), config: SolverConfig = SolverConfig(), progress=None
) -> dict:
    tg = make_target(RHO, {"mu": list(mu_range)})
    fn = solve_program(tg, config, batched=True)
    rows = []
    for n in batches:
        mus = np.linspace(*mu_range, n)
        data = tg.data_batch([{"mu": float(m)} for m in mus])
        th = jnp.tile(jnp.asarray(start([0.5])), (n, 1))
        t = time.perf_counter()
        fn.prepare(data, th)
        compile_s = time.perf_counter() - t
        wall, out = _timed(lambda: jax.block_until_ready(fn(data, th, DELTA, 1e15)), 1)
        rows.append(
            {
                "batch": n,
                "run_s": wall,
                "per_trajectory_s": wall / n,
                "trajectories_per_s": n / wall,
                "compile_s": compile_s,
                "all_ok": bool(np.all(np.asarray(out["code"]) == 0)),
            }
        )
        if progress:
            progress(f"throughput: batch {n}")
    return {"mu_range": list(mu_range), "rtol": config.rtol, "rows": rows}


@float64
def end_to_end(
    sizes=(4096,), solvers=("rodas4", "kvaerno5"), rtol: float = 1e-6, mu_range=(8.0, 16.0), progress=None
) -> dict:
    """What a user's sweep of many distinct memories costs: ``memdyn.sweep``'s path (``run_sweep`` with its
    defaults: chunks of 64 in order of predicted cost) over ``n`` memories spread over ``mu_range``, per
    solver at ``rtol``, timed warm (the second call in the process) from the lowered target to the
    results, data preparation included; the data preparation is also timed on its own. Steps per trajectory count both event
    passes, accepted and rejected; for Rodas4 each attempted step is one LU factorisation, while
    Kvaerno5's factorisations (one per Newton iteration) are not counted by Diffrax."""
    theta0 = start([0.5])[None, :]
    tg = make_target(RHO, {"mu": list(mu_range)})
    rows = []
    for n in sizes:
        mus = np.linspace(*mu_range, n)
        t = time.perf_counter()
        tg.data_batch([{"mu": float(m)} for m in mus], host=True)
        data_s = time.perf_counter() - t
        for solver in solvers:
            config = SolverConfig(solver=solver, rtol=rtol, atol=rtol * 1e-2)

            def sweep():  # memdyn.sweep's path, from the lowered target on
                return run_sweep(
                    tg, {}, "mu", mus, theta0, delta=DELTA, t1=DEFAULT_T1, config=config, chunk=default_chunk(n)
                )

            sweep()  # compiles (or loads) the chunk's solve
            t = time.perf_counter()
            result = sweep()
            wall = time.perf_counter() - t
            attempted = result.stats["steps"] + result.stats["rejected_steps"]
            rows.append(
                {
                    "memories": n,
                    "solver": solver,
                    "rtol": rtol,
                    "wall_s": wall,
                    "per_trajectory_s": wall / n,
                    "trajectories_per_s": n / wall,
                    "data_preparation_s": data_s,
                    "steps_per_trajectory": attempted / n,
                    # a linearly implicit solver factorises once per attempted step
                    "factorisations_per_trajectory": attempted / n if SOLVERS[solver].jacobian else None,
                    "all_ok": bool(result.ok),
                }
            )
            if progress:
                progress(f"end to end: {n} memories, {solver}")
    return {"mu_range": list(mu_range), "rows": rows}


def device_counts(available: int) -> list[int]:
    """1, 2, 4, .. and every local device: the counts the device table measures."""
    counts = [1 << k for k in range(available.bit_length()) if 1 << k <= available]
    return counts + ([available] if counts[-1] != available else [])


@float64
def device_scaling(elements: dict[int, int] = {2: 256, 10: 32}, mu_range=(8.0, 16.0), progress=None) -> dict:  # noqa: B006
    """Trajectories per second of a sweep against the number of local devices it is spread over,
    through ``memdyn.core.sweep.run_sweep`` (one compiled batch per device); ``elements`` maps
    each width m to the sweep's size (memories evenly spread over ``mu_range``).

    Every device count runs the same chunks (``elements / all devices`` each), so the rows differ
    only in how many run at once; the hitting times of every count are compared with one device's.
    Width m starts on M*: neuron 1 = (1, 1), m - 1 null neurons at rates 0.5..2 (Fig. 3's start).
    """
    available = len(jax.local_devices())
    counts = device_counts(available)
    tg = make_target(RHO, {"mu": list(mu_range)})
    rows = []
    for m, n in elements.items():
        chunk = -(-n // available)
        mus = [float(x) for x in np.linspace(*mu_range, n)]
        theta0 = start(list(np.linspace(0.5, 2.0, m - 1)))[None, :]
        ref = None
        for d in counts:
            sweep = lambda: run_sweep(
                tg,
                {},
                "mu",
                mus,
                theta0,
                delta=DELTA,
                t1=1e15,
                chunk=chunk,  # noqa: E731
                devices=d,
            )
            first = sweep()  # compiles (or loads) the solve for every device used
            result = sweep()
            taus = np.where(np.isnan(result.tau_loss), np.inf, result.tau_loss)
            ref = taus if ref is None else ref
            rows.append(
                {
                    "m": m,
                    "devices": d,
                    "elements": n,
                    "chunk": chunk,
                    "run_s": result.run_s,
                    "trajectories_per_s": n / result.run_s,
                    "compile_s": first.compile_s,
                    "all_ok": all(r.status == "ok" for r in result.results),
                    "equal_to_one_device": bool(np.allclose(taus, ref, rtol=1e-10, atol=0)),
                }
            )
            if progress:
                progress(f"devices: m = {m}, {d} device(s)")
    return {
        "platform": jax.local_devices()[0].platform,
        "available": available,
        "device_kind": jax.local_devices()[0].device_kind,
        "mu_range": list(mu_range),
        "rows": rows,
    }


def matched_comparison(
    mu: float, accuracy: float, wp: dict, batch: int = 64, progress=None, solver: str = "kvaerno5"
) -> dict:
    """Wall per trajectory of a ``batch``-sized sweep with the loosest tolerance of ``solver`` that
    reaches ``accuracy`` in the work-precision run, against the fastest SciPy method (one trajectory
    at a time) reaching it there, on the same problem."""
    ok = [r for r in wp["rows"] if r["error"] is not None and r["error"] <= accuracy]
    ours = [r for r in ok if r["method"] == f"diffrax {solver}"]
    theirs = [r for r in ok if r["method"].startswith("scipy")]
    if not ours or not theirs:
        return {"accuracy": accuracy, "note": "no method reached the accuracy"}
    rtol = max(r["rtol"] for r in ours)
    best = min(theirs, key=lambda r: r["wall_s"])
    tg = make_target(RHO, {"mu": mu})
    data = tg.data_batch([{"mu": mu}] * batch)
    th = jnp.tile(jnp.asarray(start([0.5])), (batch, 1))
    fn = solve_program(tg, SolverConfig(solver=solver, rtol=rtol, atol=rtol * 1e-2), batched=True)
    wall, out = _timed(lambda: jax.block_until_ready(fn(data, th, DELTA, 1e15)), 3)
    if progress:
        progress(f"accuracy-matched comparison: {solver}")
    per = wall / batch
    out = {
        "accuracy": accuracy,
        "batch": batch,
        "solver": solver,
        "rtol": rtol,
        "per_trajectory_s": per,
        "scipy_method": best["method"],
        "scipy_rtol": best["rtol"],
        "scipy_s": best["wall_s"],
        "ratio": best["wall_s"] / per,
    }
    # the compiled peer (memdyn.studies.peer), when installed: its loosest tolerance reaching the accuracy
    compiled = [r for r in ok if r["method"] == "compiled LSODA"]
    if compiled:
        fastest = min(compiled, key=lambda r: r["wall_s"])
        out.update(compiled_rtol=fastest["rtol"], compiled_s=fastest["wall_s"], compiled_ratio=fastest["wall_s"] / per)
    else:
        note = wp.get("compiled_lsoda", "not measured")
        out["compiled_note"] = "compiled LSODA did not reach the accuracy" if note == "measured" else note
    return out


_COMPILE_PROBE = """
import os, sys, time
os.environ["MEMDYN_CACHE_DIR"] = sys.argv[1]
import jax, jax.numpy as jnp, numpy as np, memdyn
jax.config.update("jax_enable_x64", True)
memdyn.use_compilation_cache()  # as the command line does
from memdyn.core.integrate import SolverConfig, solve_program
m = int(sys.argv[2])
tg = memdyn.target("exp(-t) + 0.5*exp(-(t - mu)**2/2)", {"mu": 12.0})
data = tg.data({"mu": 12.0})
theta0 = jnp.asarray([1.0] + [0.0] * (m - 1) + [1.0] + list(np.linspace(0.5, 2.0, m - 1)))
fn = solve_program(tg, SolverConfig())
t = time.perf_counter()
fn.prepare(data, theta0)
print(time.perf_counter() - t)
"""


def compile_times(widths=(2, 16), cache_dir: str | None = None) -> dict:
    """Time to a ready hitting-time solve (trace + compile cold; load from memdyn's cache warm), fresh processes."""
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = cache_dir or tmp
        for m in widths:
            times = []
            for _ in range(2):  # the first run fills the cache, the second reads it
                proc = subprocess.run(
                    [sys.executable, "-c", _COMPILE_PROBE, cache, str(m)], capture_output=True, text=True, check=True
                )
                times.append(float(proc.stdout.strip().splitlines()[-1]))
            rows.append({"m": m, "cold_s": times[0], "warm_cache_s": times[1]})
    return {"rows": rows}


PROFILES = {
    "quick": dict(
        wp=dict(rtols=(1e-6, 1e-8, 1e-10), etas=(0.1, 0.01)),
        growth=dict(memories=(6.0, 10.0, 15.0, 20.0, 25.0, 30.0)),
        throughput=dict(batches=(1, 8, 64, 512)),
        end_to_end=dict(sizes=(4096,)),
        compile=dict(widths=(2, 16)),
        devices=dict(elements={2: 256, 10: 32}),
    ),
    "full": dict(
        wp=dict(),
        growth=dict(memories=(6.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0)),
        throughput=dict(batches=(1, 8, 64, 512, 4096, 65536)),
        end_to_end=dict(sizes=(4096, 32768)),
        compile=dict(widths=(2, 8, 16)),
        devices=dict(elements={2: 4096, 10: 512}),
    ),
}


@float64
def run_bench(profile: str = "quick", progress=None) -> dict:
    p = PROFILES[profile]
    out: dict[str, Any] = {"machine": machine(), "profile": profile}
    out["work_precision"] = work_precision(progress=progress, **p["wp"])
    out["cost_growth"] = cost_growth(progress=progress, **p["growth"])
    out["throughput"] = throughput(progress=progress, **p["throughput"])
    out["end_to_end"] = end_to_end(progress=progress, **p["end_to_end"])
    out["devices"] = device_scaling(progress=progress, **p["devices"])
    wp = out["work_precision"]
    out["matched"] = [
        matched_comparison(wp["mu"], 1e-6, wp, progress=progress, solver=s) for s in ("kvaerno5", "rodas4")
    ]
    out["compile"] = compile_times(**p["compile"])
    if progress:
        progress("compile times")
    return out


def markdown(result: dict, figure: str | None = None) -> str:
    """The benchmark as Markdown tables (what research/README.md shows)."""

    wp = result["work_precision"]
    lines = [
        f"Machine: {result['machine']}; profile `{result['profile']}`.",
        "",
        f"### Work-precision (1/ω = {wp['mu']:g}, m = {wp['m']}, τ′₀ reference {wp['reference_tau']:.12g}; "
        f"Radau at rtol 1e-12 agrees to {wp['reference_agreement']:.1e})",
        "",
        markdown_table(
            ["method", "rtol / η", "τ′₀", "rel. error", "wall per solve", "steps / nfev / iterations"],
            [
                (
                    r["method"],
                    r["rtol"] if r["rtol"] is not None else f"η = {r['eta']:.3g}",
                    "null" if r["tau"] is None else f"{r['tau']:.12g}",
                    r["error"],
                    f"{r['wall_s'] * 1e3:.2f} ms",
                    r.get("steps", r.get("nfev", r.get("iterations"))),
                )
                for r in wp["rows"]
            ],
        ),
        "",
    ]
    if figure:
        lines += [f"![work-precision]({figure})", ""]
    cg = result["cost_growth"]
    lines += [
        f"### Cost against plateau length (null rate {cg['null_rates'][0]:g})",
        "",
        markdown_table(
            [
                "1/ω",
                "τ′₀",
                f"{cg['solver']} steps",
                "wall",
                "Tsit5 steps",
                "LSODA nfev",
                "GD iterations",
            ],
            [
                (
                    r["mu"],
                    "null" if r["tau"] is None else f"{r['tau']:.6g}",
                    r["steps"],
                    f"{r['wall_s'] * 1e3:.1f} ms",
                    r.get("tsit5_steps"),
                    r.get("lsoda_nfev"),
                    r.get("gd_iterations"),
                )
                for r in cg["rows"]
            ],
        ),
        "",
        f"Plateau grows {cg.get('plateau_ratio', float('nan')):.3g}x, the default solver's steps "
        f"{cg.get('steps_ratio', float('nan')):.3g}x; from τ′₀ ≥ 1e2 on, the plateau grows "
        f"{cg.get('plateau_regime_ratio', float('nan')):.3g}x and the steps "
        f"{cg.get('plateau_regime_steps_ratio', float('nan')):.3g}x.",
        "",
    ]
    tp = result["throughput"]
    lines += [
        "### Batched throughput (one compiled, vmapped call; 1/ω spread over "
        f"{tp['mu_range'][0]:g}..{tp['mu_range'][1]:g})",
        "",
        markdown_table(
            ["batch", "run", "per trajectory", "trajectories/s", "compile", "all ok"],
            [
                (
                    r["batch"],
                    f"{r['run_s']:.3f} s",
                    f"{r['per_trajectory_s'] * 1e3:.2f} ms",
                    f"{r['trajectories_per_s']:.0f}",
                    f"{r['compile_s']:.1f} s",
                    r["all_ok"],
                )
                for r in tp["rows"]
            ],
        ),
        "",
    ]
    ee = result.get("end_to_end")
    if ee:
        lines += [
            f"### End to end: a sweep of distinct memories (`memdyn.sweep`, warm, 1/ω over "
            f"{ee['mu_range'][0]:g}..{ee['mu_range'][1]:g}, data preparation included)",
            "",
            markdown_table(
                [
                    "memories",
                    "solver",
                    "rtol",
                    "wall",
                    "per trajectory",
                    "trajectories/s",
                    "data preparation",
                    "steps per trajectory",
                    "LU factorisations per trajectory",
                    "all ok",
                ],
                [
                    (
                        r["memories"],
                        r["solver"],
                        r["rtol"],
                        f"{r['wall_s']:.2f} s",
                        f"{r['per_trajectory_s'] * 1e3:.3f} ms",
                        f"{r['trajectories_per_s']:.0f}",
                        f"{r['data_preparation_s']:.2f} s ({r['data_preparation_s'] / r['wall_s']:.1%})",
                        f"{r['steps_per_trajectory']:.0f}",
                        "not counted"
                        if r["factorisations_per_trajectory"] is None
                        else f"{r['factorisations_per_trajectory']:.0f}",
                        r["all_ok"],
                    )
                    for r in ee["rows"]
                ],
            ),
            "",
        ]
    dv = result.get("devices")
    if dv:
        lines += [
            f"### Throughput against devices ({dv['available']} local {dv['platform']} device(s), "
            f"{dv['device_kind']}; one sweep of memories over {dv['mu_range'][0]:g}..{dv['mu_range'][1]:g}, "
            "the same chunks for every device count, one batch per device)",
            "",
            markdown_table(
                ["m", "elements", "chunk", "devices", "run", "trajectories/s", "compile", "all ok", "= one device"],
                [
                    (
                        r["m"],
                        r["elements"],
                        r["chunk"],
                        r["devices"],
                        f"{r['run_s']:.3f} s",
                        f"{r['trajectories_per_s']:.0f}",
                        f"{r['compile_s']:.1f} s",
                        r["all_ok"],
                        r["equal_to_one_device"],
                    )
                    for r in dv["rows"]
                ],
            ),
            "",
        ]
    for mc in result.get("matched", []):
        if "ratio" in mc:
            lines += [
                f"At τ accuracy {mc['accuracy']:g}: a batch of {mc['batch']} with {mc['solver']} at rtol {mc['rtol']:g} "
                f"costs {mc['per_trajectory_s'] * 1e3:.2f} ms per trajectory; the fastest SciPy method reaching that "
                f"accuracy ({mc['scipy_method']}, rtol {mc['scipy_rtol']:g}) {mc['scipy_s'] * 1e3:.1f} ms per "
                f"trajectory: **{mc['ratio']:.1f}x**. "
                + (
                    f"Compiled LSODA (numbalsoda on a numba right-hand side, rtol {mc['compiled_rtol']:g}): "
                    f"{mc['compiled_s'] * 1e3:.2f} ms per trajectory, **{mc['compiled_ratio']:.2f}x**."
                    if "compiled_s" in mc
                    else f"Compiled LSODA: {mc.get('compiled_note', 'not measured')}."
                ),
                "",
            ]
    ct = result["compile"]
    lines += [
        "### Compile time of the hitting-time solve (fresh process)",
        "",
        markdown_table(
            ["m", "cold", "persistent cache warm"],
            [(r["m"], f"{r['cold_s']:.2f} s", f"{r['warm_cache_s']:.2f} s") for r in ct["rows"]],
        ),
        "",
    ]
    return "\n".join(lines)


def write_bench(result: dict, out) -> list[str]:
    """bench.md, bench.json and work_precision.png into ``out`` (a folder checked beforehand), atomically."""
    import json

    return write_atomically(
        out,
        {
            "work_precision.png": lambda path: plots.save(
                plots.plot_work_precision(result["work_precision"]["rows"]), path
            ),
            "bench.md": lambda path: path.write_text(markdown(result, "work_precision.png")),
            "bench.json": lambda path: path.write_text(json.dumps(result, indent=1)),
        },
    )


def write_latency(result: dict, out) -> list[str]:
    """latency.md, latency.json and the SciPy script it ran, into ``out``, atomically."""
    import json

    return write_atomically(
        out,
        {
            "latency.md": lambda path: path.write_text(result["markdown"] + "\n"),
            "latency.json": lambda path: path.write_text(
                json.dumps({k: v for k, v in result.items() if k != "markdown"}, indent=1)
            ),
            "scipy_flow.py": lambda path: path.write_text(result["scipy_script"]),
        },
    )
