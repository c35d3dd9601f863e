"""``memdyn reproduce``: the paper's predictions, measured, into one report.

The problems are defined once in ``memdyn.studies.problems``. Each report section is one module
here with ``TITLE``, ``STEPS`` (progress ticks), ``compute(profile, config, progress) -> dict``,
``figures(result) -> {file name: draw(path)}`` and ``lines(result) -> Markdown lines`` (a section
with ``NEEDS_RESULTS = True`` also gets the sections before it as ``results=``); the table
``SECTIONS`` gives their order, keys in ``results.json`` and numbering in the report. A section
that computes nothing in a profile (8-10 in ``quick``) returns ``{}`` and is left out of the report.

Profiles (``.profile``): ``quick`` (a few minutes on 2 cores) and ``full`` (longer memories,
Fig. 4 at the paper's size, sections 8-10). Everything is written to a temporary folder and moved
into the output folder only when complete.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import ModuleType

from ...core.files import write_atomically
from ...core.integrate import SolverConfig
from ...core.jaxsetup import float64
from ...version import __version__
from ..problems import DELTA, RHO
from . import approx, fidelity, fig2, fig3, momentum, reparam, sharp, slopes, sweeps, timescales, training
from .profile import PROFILES, Profile

SECTIONS: tuple[tuple[str, ModuleType], ...] = (
    ("sweeps", sweeps),
    ("fig2", fig2),
    ("fig3", fig3),
    ("timescales", timescales),
    ("momentum", momentum),
    ("approx", approx),
    ("training", training),
    ("reparam", reparam),
    ("sharp", sharp),
    ("slopes", slopes),
    ("fidelity", fidelity),
)
"""(key in results.json, section module), in report order: section n is the n-th row."""


def total_steps() -> int:
    """Progress ticks of a whole run."""
    return sum(module.STEPS for _, module in SECTIONS)


def compute(profile: Profile, config: SolverConfig = SolverConfig(), progress=None) -> dict:
    progress = progress or (lambda message: None)
    out = {
        "memdyn": __version__,
        "rho": RHO,
        "delta": DELTA,
        "solver": {"name": config.solver, "rtol": config.rtol, "atol": config.atol},
    }
    timing = {}
    for key, module in SECTIONS:
        start = time.perf_counter()
        # a section that reads earlier ones (NEEDS_RESULTS) gets them
        extra = {"results": out} if getattr(module, "NEEDS_RESULTS", False) else {}
        out[key] = module.compute(profile, config, progress, **extra)
        timing[key] = time.perf_counter() - start
    out["timing_s"] = timing
    return out


def report_lines(results: dict) -> list[str]:
    sol = results["solver"]
    lines = [
        "# memdyn reproduce: the curse of memory in optimisation",
        "",
        f"memdyn {results['memdyn']}, profile `{results['profile']}`. Target ρ(t) = `{results['rho']}`, μ = 1/ω "
        f"(short memory a* = w* = 1; bump c = 0.5, σ = 1). Starts on M*: neuron 1 = (1, 1), the others null "
        f"(a = 0) at stated rates. Hitting times (JMLR Thm 20) with δ = {results['delta']}; solver {sol['name']} "
        f"(rtol {sol['rtol']:g}, atol {sol['atol']:g}). The paper does not state its parameters: its values are "
        "set beside ours for the trend only.",
        "",
    ]
    for number, (key, module) in enumerate(SECTIONS, start=1):
        if results.get(key):
            lines += [f"## {number}. {module.TITLE}", "", *module.lines(results[key])]
    lines += ["Section timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in results["timing_s"].items()), ""]
    return lines


def write_report(results: dict, out: Path) -> list[str]:
    """report.md, its figures and results.json into ``out``, atomically; returns the file names."""
    writers = {}
    for key, module in SECTIONS:
        if results.get(key):
            writers.update(module.figures(results[key]))
    writers["report.md"] = lambda path: path.write_text("\n".join(report_lines(results)))
    writers["results.json"] = lambda path: path.write_text(json.dumps(results, indent=1))
    names = write_atomically(out, writers)
    return ["report.md", *[n for n in names if n != "report.md"]]


@float64
def reproduce(profile_name: str, out: Path, config: SolverConfig = SolverConfig(), progress=None) -> dict:
    """Run a profile and write its report into ``out`` (a folder checked beforehand; see
    ``memdyn.core.files.prepare_output``); files are replaced only when all are complete."""
    results = compute(PROFILES[profile_name], config, progress=progress)
    results["profile"] = profile_name
    files = write_report(results, Path(out))
    return {"profile": profile_name, "out": str(out), "files": files, "summary": summary(results)}


def summary(results: dict) -> dict:
    """The headline numbers (what ``--json`` prints): fits beside the theory's slopes and exponents."""
    sweeps_ = [
        {
            "w_min": s["w_min"][0],
            "slope_tau_param": s["fit"]["tau_param"]["plain"],
            "slope_tau_loss": s["fit"]["tau_loss"]["plain"],
            "slope_tau_param_omega2": s["fit"]["tau_param"]["omega2"],
            "slope_tau_loss_omega2": s["fit"]["tau_loss"]["omega2"],
            "memory": s["memory"],
            "tau_param": s["tau_param"],
            "tau_loss": s["tau_loss"],
            "status": s["status"],
        }
        for s in results["sweeps"]["sweeps"]
    ]
    spectra = {
        k: {
            "fit_grad": v["fit_grad"],
            "fit_smallest": v["fit_smallest"],
            "theory_grad": v["theory_grad"],
            "theory_hessian": v["theory_hessian"],
            "near_zero": v["near_zero"],
            "m_minus_m_star": v["m_minus_m_star"],
        }
        for k, v in results["timescales"]["spectra"].items()
    }
    st = results["timescales"]["stages"]
    mom = results["momentum"]
    rates = results["approx"]["rates"]
    return {
        "sweeps": sweeps_,
        "fig3": [
            {k: r[k] for k in ("w_min", "memory", "tau_loss", "tau_param", "fit_tau_loss", "fit_tau_loss_omega2")}
            for r in results["fig3"]["runs"]
        ],
        "spectra": spectra,
        "two_stages": {
            "at_tau_1": st["at_tau_1"],
            "t90_a": st["t90_a"],
            "t90_w": st["t90_w"],
            "max_stiffness": max(st["stiffness"]),
        },
        "saddle_exponents": {k: v["exponent"] for k, v in mom["saddle"].items()},
        "memory_momentum": {k: v["fit_tau_loss"] for k, v in mom["memory_problem"].items() if isinstance(v, dict)},
        "approx": {
            "rate_best": rates["rate_best"],
            "rate_jackson": rates["rate_jackson"],
            "jackson_within_bound": all(e <= b for e, b in zip(rates["jackson_l1_error"], rates["jackson_bound"])),
            "curse_laws": {k["rho"]: k["law"] for k in results["approx"]["curse"]["kernels"]},
        },
        "training": training.summary(results["training"]),
        "fidelity": fidelity.counts(results["fidelity"]),
        "timing_s": results["timing_s"],
    }


__all__ = ["PROFILES", "Profile", "SECTIONS", "compute", "reproduce", "summary", "total_steps", "write_report"]
