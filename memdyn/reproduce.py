"""``memdyn reproduce``: the paper's optimisation-side prediction, measured, into a report.

Setting (the paper leaves its own unstated; these are memdyn's documented defaults):

* target  rho(t) = exp(-t) + 0.5 exp(-(t - mu)^2 / 2): short memory a* = w* = 1, a Gaussian bump
  (c = 0.5, sigma = 1) at mu = 1/omega;
* model   width m = 2, started on the invariant set M*: neuron 1 = (a, w) = (1, 1) fits exp(-t)
  exactly, neuron 2 = (0, 0.5) is a null neuron, so w_min = 0.5;
* hitting times of JMLR Theorem 20 with delta = 0.01, horizon t1 = 1e12.

The profile sets the memories: ``quick`` mu = 6..16 (a minute or so on 2 cores), ``full``
mu = 6..30. Everything is written to a temporary folder and moved into ``--out`` only when it is
complete, so an interrupted run leaves nothing half-written.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from . import __version__
from .analysis import bound_ratio, fit_log_time
from .api import target as make_target
from .integrate import SolverConfig, _result, compiled_hitting_times, trajectory

RHO = "exp(-t) + 0.5*exp(-(t - mu)**2/2)"
A0 = (1.0, 0.0)
W0 = (1.0, 0.5)


@dataclass(frozen=True)
class Profile:
    memories: tuple[float, ...]
    delta: float = 0.01
    t1: float = 1e12
    curve_points: int = 200


PROFILES = {
    "quick": Profile(memories=(6.0, 8.0, 10.0, 12.0, 14.0, 16.0)),
    "full": Profile(memories=tuple(float(x) for x in range(6, 31, 2))),
}


def plateau_sweep(profile: Profile, config: SolverConfig = SolverConfig(), progress=None) -> dict:
    """Hitting times over the memories, solved as one batched (vmapped) compiled call."""
    tg = make_target(RHO, {"mu": list(profile.memories)})
    data = tg.data_batch([{"mu": mu} for mu in profile.memories])
    n = len(profile.memories)
    theta0 = jnp.tile(jnp.asarray(A0 + W0), (n, 1))
    fn = compiled_hitting_times(tg, config, batched=True)
    start = time.perf_counter()
    compiled = fn.lower(data, theta0, profile.delta, profile.t1).compile()
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    out = jax.device_get(compiled(data, theta0, profile.delta, profile.t1))
    run_s = time.perf_counter() - start
    results = [_result(jax.tree_util.tree_map(lambda x: x[i], out), profile.t1, config) for i in range(n)]
    if progress:
        progress(f"swept {n} memories in {run_s:.2f} s (compile {compile_s:.1f} s)")

    curves = []
    for mu, res, d in zip(profile.memories, results, [jax.tree_util.tree_map(lambda x: x[i], data) for i in range(n)]):
        horizon = 30.0 * max(res.tau_loss or 0.0, res.tau_param or 0.0, 10.0)
        ts = np.logspace(-2, np.log10(horizon), profile.curve_points)
        tr = trajectory(tg, d, jnp.asarray(A0 + W0), ts, config)
        curves.append({"label": f"1/ω = {mu:g}", "mu": mu, "t": ts.tolist(), "loss": tr["loss"].tolist(),
                       "grad_norm": tr["grad_norm"].tolist(), "tau_param": res.tau_param,
                       "tau_loss": res.tau_loss})
        if progress:
            progress(f"loss curve at 1/ω = {mu:g}")

    w_min = min(W0)
    memories = list(profile.memories)
    fits = {}
    for key in ("tau_param", "tau_loss"):
        taus = [getattr(r, key) for r in results]
        plain = fit_log_time(memories, taus)
        pref = fit_log_time(memories, taus, omega_squared=True)
        fits[key] = {"plain": plain.to_json() if plain else None,
                     "omega2": pref.to_json() if pref else None,
                     "bound_ratio": bound_ratio(memories, taus, w_min)}
    return {
        "setting": {"rho": RHO, "a0": list(A0), "w0": list(W0), "delta": profile.delta, "t1": profile.t1,
                    "w_min": w_min, "solver": config.solver, "rtol": config.rtol, "atol": config.atol},
        "memories": memories,
        "results": [r.to_json() for r in results],
        "fits": fits,
        "timing": {"compile_s": compile_s, "run_s": run_s},
        "curves": curves,
    }


def write_report(sweep: dict, out: Path) -> list[str]:
    """Figures, JSON and a Markdown report of a plateau sweep into the folder ``out``."""
    from . import report
    from .analysis import LogTimeFit

    files = []
    ax = report.plot_loss_curves(sweep["curves"])
    report.save(ax, out / "loss_curves.png")
    files.append("loss_curves.png")

    fit_d = sweep["fits"]["tau_param"]["plain"]
    fit = LogTimeFit(**fit_d) if fit_d else None
    res = sweep["results"]
    ax = report.plot_escape_times(sweep["memories"], [r["tau_param"] for r in res],
                                  [r["tau_loss"] for r in res], w_min=sweep["setting"]["w_min"], fit=fit)
    report.save(ax, out / "escape_times.png")
    files.append("escape_times.png")

    s = sweep["setting"]
    rows = [(mu, r["tau_param"], r["tau_loss"], r["loss_initial"], r["loss_final"], r["steps"], r["status"],
             br) for mu, r, br in zip(sweep["memories"], res, sweep["fits"]["tau_param"]["bound_ratio"])]
    table = report.markdown_table(
        ["1/ω", "τ₀ (param)", "τ'₀ (loss)", "J(θ₀)", "J at stop", "steps", "status", "τ₀ / (ω² e^{w_min/ω})"], rows)

    def fit_line(name, f):
        if f is None:
            return f"- {name}: fewer than three hitting times, no fit."
        return (f"- {name}: slope of ln τ vs 1/ω = **{f['slope']:.4f} ± {f['slope_stderr']:.4f}** "
                f"(prefactor {f['prefactor']}, {f['n']} points)")

    lines = [
        "# memdyn reproduce: the curse of memory in optimisation",
        "",
        f"memdyn {__version__}. Target ρ(t) = `{s['rho']}` with μ = 1/ω; width m = 2 started on M* at "
        f"a₀ = {s['a0']}, w₀ = {s['w0']} (w_min = {s['w_min']}); hitting times with δ = {s['delta']}, "
        f"horizon t₁ = {s['t1']:.0e}; solver {s['solver']} (rtol {s['rtol']:g}, atol {s['atol']:g}).",
        "",
        "JMLR Theorem 20 predicts a plateau at J ≈ ||ρ₀||² = 0.25 √π ≈ 0.4431 and hitting times "
        "τ'₀ ≥ τ₀ ≳ ω² e^{w_min/ω}: ln τ grows at least linearly in 1/ω with slope w_min.",
        "",
        table,
        "",
        "Fits (least squares over the memories with a finite hitting time):",
        "",
        fit_line("τ₀", sweep["fits"]["tau_param"]["plain"]),
        fit_line("τ₀ with the ω² prefactor removed", sweep["fits"]["tau_param"]["omega2"]),
        fit_line("τ'₀", sweep["fits"]["tau_loss"]["plain"]),
        fit_line("τ'₀ with the ω² prefactor removed", sweep["fits"]["tau_loss"]["omega2"]),
        f"- the bound's slope: w_min = {s['w_min']}",
        "",
        f"Batched solve of all memories: compile {sweep['timing']['compile_s']:.2f} s, "
        f"run {sweep['timing']['run_s']:.3f} s.",
        "",
        "![loss curves](loss_curves.png)",
        "",
        "![escape times](escape_times.png)",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))
    files.append("report.md")
    data = {k: v for k, v in sweep.items()}
    (out / "results.json").write_text(json.dumps(data, indent=1))
    files.append("results.json")
    return files


def reproduce(profile_name: str, out: Path, config: SolverConfig = SolverConfig(), progress=None) -> dict:
    """Run a profile and write its report into ``out`` (created; files replaced only when complete)."""
    profile = PROFILES[profile_name]
    sweep = plateau_sweep(profile, config, progress=progress)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".partial-") as tmp:
        files = write_report(sweep, Path(tmp))
        for name in files:
            shutil.move(str(Path(tmp) / name), str(out / name))
    summary = {k: v for k, v in sweep.items() if k != "curves"}
    summary["profile"] = profile_name
    summary["out"] = str(out)
    summary["files"] = files
    return summary
