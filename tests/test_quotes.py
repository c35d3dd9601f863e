"""Every number the README and the docs site quote, held against the committed artefact or the run
that produced it (research/results/, examples/): the checks of the documentation's quotes, in one place.
A quote may move between pages (tests/quotes.py reads them all) and stay held."""

import json
import math

import numpy as np

from memdyn.theory import expfit as ef
from tests.quotes import site_text
from tests.studies.test_infer import _at_memory, _doc
from tests.test_docs import _load
from tests.theory.test_expfit import _agrees_with_published


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _short(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}e}".replace("e-0", "e-")


def test_the_readme_states_what_the_device_benchmark_measured():
    """research/results/bench_devices.json (research/bench_devices.py) holds the README's 'Large sweeps' figures."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    bench = json.loads((root / "research" / "results" / "bench_devices.json").read_text())
    readme = site_text()
    assert bench["per_device_equal"] and bench["sharded_equal"] and len(bench["devices"]) == 2
    for key in ("sharded_batch_s", "per_device_batches_s", "one_device_s", "balanced_chunks_s", "mixed_chunks_s"):
        assert f"{bench[key]:.2f} s" in readme, key
    low, high = bench["plateau_range"]
    assert f"plateaus {low:.1f} to {high:.1e}".replace("e+", "e") in readme
    assert bench["sharded_batch_s"] > bench["per_device_batches_s"]  # why per-device batches were kept
    assert bench["mixed_chunks_s"] > bench["balanced_chunks_s"]


def test_the_readme_states_the_device_throughput():
    """memdyn bench's device table, as research/bench_devices.py recorded it, is what the README quotes."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    table = json.loads((root / "research" / "results" / "bench_devices.json").read_text())["throughput"]
    readme = site_text()
    assert table["available"] == 2 and all(r["equal_to_one_device"] and r["all_ok"] for r in table["rows"])
    for m in (2, 10):
        rates = [r["trajectories_per_s"] for r in table["rows"] if r["m"] == m]
        assert f"m = {m}: " + " → ".join(f"{x:.0f}" for x in rates) in readme


def test_the_readme_states_the_gpu_throughput():
    """research/results/bench_gpu_throughput.json (research/bench_gpu_throughput.py, run on an H200) holds the README's
    GPU figures: trajectories per second, run and compile times, the shortfall against 30,000 per second, and the
    size that did not finish."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    bench = json.loads((root / "research" / "results" / "bench_gpu_throughput.json").read_text())
    readme = site_text(flat=True)
    assert bench["platform"] == "gpu" and bench["device_kind"] == "NVIDIA H200"
    assert all(r["all_ok"] and r["devices"] == 1 for r in bench["rows"])
    rows = {r["m"]: r for r in bench["rows"]}
    two, ten = rows[2], rows[10]
    assert (
        f"m = 2: {two['trajectories_per_s']:.0f} trajectories per second at {two['elements']} per batch "
        f"({two['run_s']:.2f} s, after an {two['compile_s']:.1f} s compile)"
    ) in readme
    assert f"m = 10: {ten['trajectories_per_s']:.0f} at {ten['elements']} per batch ({ten['run_s']:.2f} s)" in readme
    assert f"{two['trajectories_per_s']:.0f} is {30000 / two['trajectories_per_s']:.1f}x short" in readme
    assert [u["elements"] for u in bench["unfinished"]] == [32768] and "batch of 32768 did not finish" in readme
    assert f"within its {bench['limit_s']:.0f} s" in readme


def test_the_readme_quotes_the_committed_latency_benchmark():
    """README's latency table and ratios are the committed artefact's (regenerate both together)."""
    import json
    from pathlib import Path

    from memdyn.studies.latency import SCIPY_SCRIPT
    from memdyn.studies.latency import markdown as latency_markdown

    root = Path(__file__).resolve().parents[1]
    result = json.loads((root / "research" / "results" / "latency.json").read_text())
    readme = site_text()
    assert latency_markdown(result) in readme
    r = result["ratios"]  # the paragraph on the targets quotes the same run
    by = {row["case"]: row["wall_s"] for row in result["rows"]}
    for quoted in (
        f"warm `memdyn flow` is {r['flow_warm_over_scipy']:.1f}x",
        f"{r['flow_warm_new_value_over_scipy']:.1f}x with a new parameter value",
        f"Cold is {r['flow_cold_over_scipy']:.0f}x",
        f"sweep warm is {r['scipy64_over_sweep_warm']:.2f}x",
        f"already takes 1/{r['scipy64_over_jax_floor']:.1f} of the SciPy",
        f"JAX alone, started and run once, took {r['jax_floor_over_scipy']:.1f}x the SciPy script",
        f"`memdyn flow` took {by['memdyn flow, warm cache (mu = 12)'] / by['jax alone: import and one operation']:.2f}x "
        "JAX's own floor",
    ):
        assert quoted in " ".join(readme.split()), quoted
    assert (root / "research" / "scipy_flow.py").read_text() == SCIPY_SCRIPT == result["scipy_script"]
    # every run the artefact reports finished, and the stages add up to no more than the process
    for stages in result["stages"].values():
        assert all(v > 0 for v in stages.values())


def test_the_benchmarks_page_states_what_compile_options_measured():
    """research/results/compile_options.json (research/compile_options.py) holds the sentence on XLA's
    optimisation level: a lower level compiles a little faster and solves slower, in the same run."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    doc = json.loads((root / "research" / "results" / "compile_options.json").read_text())
    rows = {(r["solver"], r["options"]): r for r in doc["rows"]}
    r0, r1 = rows["rodas4", "default"], rows["rodas4", "xla_backend_optimization_level=0"]
    k0 = rows["kvaerno5", "default"]
    flat = site_text(flat=True)
    assert (
        f"solve took {r1['compile_s']:.2f} s against {r0['compile_s']:.2f} s, and the solve ran "
        f"{r1['solve_s'] / r0['solve_s']:.1f}x slower"
    ) in flat
    assert (
        f"traced in {k0['trace_s']:.2f} s against Rodas4's {r0['trace_s']:.2f} s and compiled in {k0['compile_s']:.2f} s"
        in flat
    )
    assert r1["compile_s"] < r0["compile_s"] and r1["solve_s"] > r0["solve_s"]
    # the options change the arithmetic's order, not the answer beyond the tolerance
    for solver in ("rodas4", "kvaerno5"):
        a, b = rows[solver, "default"], rows[solver, "xla_backend_optimization_level=0"]
        assert a["steps"] == b["steps"] and abs(a["tau_loss"] / b["tau_loss"] - 1) < 1e-12


def test_the_benchmarks_page_shows_the_committed_flow_vs_scipy_run():
    """docs/benchmarks.md's "one flow beside LSODA" table is examples/flow_vs_scipy.py's rendering of its
    committed --json run (research/results/flow_vs_scipy.json), and that run's two solvers agree to 2e-8."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    result = json.loads((root / "research" / "results" / "flow_vs_scipy.json").read_text())
    table = _load("flow_vs_scipy").table(result)
    assert table[table.index("| 1/ω") :].rstrip() in site_text()
    for row in result["rows"]:
        assert row["status"] == "ok"
        for key in ("tau_param", "tau_loss"):
            assert abs(row[key] / row[f"lsoda_{key}"] - 1) < 2e-8


def test_the_benchmark_pages_state_what_memdyn_bench_measured():
    """research/results/bench.json (``memdyn bench --out research/results``) holds the headline on the
    benchmarks page and research/README.md's table of targets and observations; bench.md is its rendering."""
    import json
    from pathlib import Path

    from memdyn.studies.bench import markdown

    root = Path(__file__).resolve().parents[1]
    d = json.loads((root / "research" / "results" / "bench.json").read_text())
    assert (
        markdown(d, figure="work_precision.png").strip()
        == (root / "research" / "results" / "bench.md").read_text().strip()
    )
    m = {x["solver"]: x for x in d["matched"]}
    r, k = m["rodas4"], m["kvaerno5"]
    cg, rows = d["cost_growth"], {x["mu"]: x for x in d["cost_growth"]["rows"]}
    tp = {x["batch"]: x for x in d["throughput"]["rows"]}
    ct = {x["m"]: x for x in d["compile"]["rows"]}
    ee = {(x["memories"], x["solver"]): x for x in d["end_to_end"]["rows"]}
    r4, k5 = ee[4096, "rodas4"], ee[4096, "kvaerno5"]
    lo, hi = sorted(f"{c['warm_cache_s']:.2f}" for c in ct.values())[:: len(ct) - 1]
    warm = f"{lo} s" if lo == hi else f"{lo}-{hi} s"
    assert cg["solver"] == "rodas4" and r["solver"] == "rodas4"
    site = site_text(flat=True)
    for quoted in (
        f"batch of the default Rodas4 costs {r['ratio']:.0f}x less per trajectory",
        f"(scipy LSODA at rtol {r['scipy_rtol']:g}; Kvaerno5's batch: {k['ratio']:.0f}x)",
        f"compiled LSODA the same ratio is {r['compiled_ratio']:.2f}x",
        f"solver's steps grow {cg['plateau_regime_steps_ratio']:.2f}x while the plateau grows 5e6x.",
        f"{r4['memories']:,} distinct memories (rtol 1e-6, data preparation included) costs "
        f"{r4['per_trajectory_s'] * 1e3:.3f} ms per trajectory with Rodas4 ({r4['trajectories_per_s']:,.0f} trajectories/s, "
        f"{r4['steps_per_trajectory']:.0f} steps and LU factorisations each) and {k5['per_trajectory_s'] * 1e3:.3f} ms with "
        f"Kvaerno5; preparing the data took {r4['data_preparation_s']:.2f} s of it.",
    ):
        assert quoted in site, quoted
    assert r4["all_ok"] and k5["all_ok"] and r4["per_trajectory_s"] < k5["per_trajectory_s"]
    assert (r["compiled_ratio"] < 1) == ("(below 1: compiled LSODA, on one core, is the faster)" in site)
    research = " ".join((root / "research" / "README.md").read_text().split())
    for quoted in (
        f"batch of 64: {r['per_trajectory_s'] * 1e3:.2f} ms per trajectory",
        f"LSODA at rtol {r['scipy_rtol']:g}: {r['scipy_s'] * 1e3:.1f} ms → **{r['ratio']:.1f}x**",
        f"(Kvaerno5 at rtol {k['rtol']:g}: {k['per_trajectory_s'] * 1e3:.2f} ms, {k['ratio']:.1f}x; compiled LSODA at rtol "
        f"{r['compiled_rtol']:g}: {r['compiled_s'] * 1e3:.2f} ms, so Rodas4's batch runs at {r['compiled_ratio']:.2f}x its speed)",
        f"steps go {rows[15.0]['steps']} → {rows[30.0]['steps']}: **{cg['plateau_regime_steps_ratio']:.2f}x**",
        f"(9.4e8x): {cg['steps_ratio']:.1f}x",
        f"cold {ct[2]['cold_s']:.1f}-{ct[16]['cold_s']:.1f} s, warm cache **{warm}**",
        f"({rows[20.0]['tsit5_steps']:,} steps at τ′₀ = 6e4 against Rodas4's {rows[20.0]['steps']:,})",
        f"({rows[15.0]['gd_iterations']:,} at τ′₀ = {rows[15.0]['tau']:.0f})",
        f"({rows[6.0]['lsoda_nfev']} → {rows[20.0]['lsoda_nfev']:,} from τ′₀ = 3 to 6e4)",
        f"{tp[64]['per_trajectory_s'] * 1e3:.2f} ms in a batch of 64 and {tp[512]['per_trajectory_s'] * 1e3:.2f} ms in one of 512",
        f"(they agree to {d['work_precision']['reference_agreement']:.1e})",
    ):
        assert quoted in research, quoted
    assert r["ratio"] >= 100 and k["ratio"] >= 30  # the targets the table calls met
    assert cg["plateau_regime_steps_ratio"] <= 3 and max(c["warm_cache_s"] for c in ct.values()) <= 2


def test_the_readme_quotes_the_committed_reproduce_timing():
    """README's reproduce --quick times are research/results/reproduce.json's (time_reproduce.py)."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    t = json.loads((root / "research" / "results" / "reproduce.json").read_text())
    readme = site_text(flat=True)
    assert f"{t['cold_s']:.0f} s with empty caches, {t['warm_s']:.0f} s warm" in readme
    assert (
        f"({t['warm_sections_s']['training']:.0f} s warm) and the best exponential sums ({t['warm_sections_s']['approx']:.0f} s)"
        in readme
    )
    assert t["warm_s"] < t["cold_s"]


def test_the_readme_quotes_the_timed_set_up_commands():
    """The set-up section's times and test count are research/results/setup.json's (time_setup.py), measured on
    the very commands the README gives (the script reads them from it)."""
    import importlib.util
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    t = json.loads((root / "research" / "results" / "setup.json").read_text())
    text = site_text()
    spec = importlib.util.spec_from_file_location("time_setup", root / "research" / "time_setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.setup_commands(text) == (t["main_job"], t["tests"])
    readme = " ".join(text.split())
    assert f"(quick profile; {t['main_job_s'] / 60:.1f} min on 2 cores from a fresh clone, install included" in readme
    assert f"({t['tests_passed']} tests, {t['pytest_s'] / 60:.1f} min of pytest on 2 cores with empty caches" in readme
    assert t["pytest_s"] < t["tests_s"] and t["tests_passed"] > 300


def test_the_readme_quotes_the_fig1b_hypotheses():

    readme = site_text()
    rows = _doc("fig1b_hypotheses.json")["rows"]
    unit = sorted(r["level_ratio_to_paper"] for r in rows if r.get("noise") == "unit")
    other = sorted(r["level_ratio_to_paper"] for r in rows if r.get("noise") != "unit")
    assert f"{unit[0]:.2f}-{unit[-1]:.2f}x the paper's" in readme
    assert f"{other[0]:.1f}-{other[-1]:.1f}x above" in readme
    lr05 = next(r for r in rows if r["hypothesis"] == "unit-variance inputs, lr 0.05")
    assert f"ends at epoch {lr05['exit_epoch']:,}" in readme
    assert f"holds {lr05['loss_3k']:.3f}-{lr05['loss_10k']:.3f} from epoch 3k to 10k" in readme
    exact, finite = lr05, next(r for r in rows if r.get("samples") == 128)
    for r in (exact, finite):
        assert f"{min(r['seed_exit_epochs']):,}-{max(r['seed_exit_epochs']):,}" in readme
    assert f"standard error of {exact['sem_40k']:.1%}" in readme and f"that error is {finite['sem_40k']:.0%}" in readme
    assert f"the mean's exit at epoch {finite['exit_epoch']:,}" in readme


def test_the_readme_quotes_the_searches():

    readme = site_text(flat=True)
    fig2, fig3 = _doc("infer_fig2.json"), _doc("infer_fig3.json")
    assert fig2["consistent"] == 0 and fig3["consistent"] == 0
    assert f"{fig2['candidates']} settings) all end at χ² ≈ {fig2['best']['chi2']:.0f}" in readme
    assert f"worst point {fig2['best']['max_abs_residual_sigmas']:.1f} sigmas off" in readme
    b3 = fig3["best"]
    assert (
        f"({fig3['candidates']} settings, m = 10) with the best χ² = {b3['chi2']:.0f}: c = {b3['c']:g}, "
        f"σ = {b3['sigma']:g}, w* = {b3['w_star']:g}, null rates {b3['null_min']:g}..2, δ = {b3['delta']:g}, loss J, "
        "and the paper's parameter distance an RMS"
    ) in readme
    assert b3["normalisation"] == 1 and b3["param_normalisation"] == 1 / math.sqrt(20)
    later = max(abs(r["residual_sigmas"]) for r in b3["rows"] if r["x"] >= 12)
    assert later <= 2.7 and f"within {math.ceil(later * 10) / 10:.1f} sigmas" in readme
    at10 = {r["quantity"]: r for r in b3["rows"] if r["x"] == 10}
    assert (
        f"start's separation time is {at10['tau_param']['memdyn']:.1f} of {at10['tau_loss']['memdyn']:.0f} "
        f"({at10['tau_param']['residual_sigmas']:.1f} sigmas off)"
    ) in readme
    # the search without the 1/omega = 10 pair, and what its settings give there
    drop = _doc("infer_fig3_12on.json")
    b = drop["best"]
    assert drop["consistent"] > 0 and b["consistent"] and b["normalisation"] == 1
    assert (
        f"{drop['consistent']} of {drop['candidates']} settings on M* (m = 10) are consistent with all eleven other "
        f"points; the best is c = {b['c']:g}, σ = {b['sigma']:g}, w* = {b['w_star']:g}, null rates "
        f"{b['null_min']:g}..2, δ = {b['delta']:g}, loss J, and the paper's parameter distance an RMS"
    ) in readme
    assert len(b["rows"]) == 11 and b["param_normalisation"] == 1 / math.sqrt(20)
    assert f"with χ² = {b['chi2']:.1f} and the worst point {b['max_abs_residual_sigmas']:.2f} sigmas off" in readme
    i, at, ratios = _at_memory(drop)
    assert (
        f"gives a plateau time of {at['tau_loss'][i]:.1f} (the paper's ~20) and a separation time of "
        f"{at['tau_param'][i]:.1f} (the paper's ~1)"
    ) in readme
    from memdyn.studies.problems import PAPER_FIG3

    others = [t / s for x, (t, s) in PAPER_FIG3.items() if s and x != 10]
    assert (
        f"the paper's plateau time there is {PAPER_FIG3[10][0] / PAPER_FIG3[10][1]:.0f}x its separation time, "
        f"{min(others):.1f}-{max(others):.1f}x at every other memory, and {min(ratios):.1f}-{max(ratios):.1f}x in "
        f"every one of the {drop['candidates']} settings"
    ) in readme
    sep = _doc("fig3_separation.json")["rows"]
    entry = {f"{r['from_entry']:.2f}" for r in sep}
    assert len(entry) == 1 and f"it is {entry.pop()} at every memory" in readme
    assert f"slowest point {sep[0]['departure']:.0f} → {sep[-1]['departure']:,.0f}" in readme
    flat = readme
    off2, off3 = _doc("infer_fig2_off.json"), _doc("infer_fig3_off.json")
    b = off2["best"]
    assert (
        f"of {off2['candidates']:,} settings, {off2['consistent']} are consistent with all six points, the best "
        f"c = {b['c']:g}, σ = {b['sigma']:g}, w* = {b['w_star']:g}, neuron 1 at amplitude {b['amplitude']:g}, null "
        f"rate {b['null_min']:g}, δ = {b['delta']:g}, loss J (χ² = {b['chi2']:.1f}, worst point "
        f"{b['max_abs_residual_sigmas']:.2f} sigmas off"
    ) in flat and b["normalisation"] == 1
    slopes = np.diff(np.log([r["memdyn"] for r in b["rows"]]))
    assert f"Its local slope rises {slopes[0]:.2f} → {slopes[-1]:.2f}" in flat
    b3 = off3["best"]
    assert off3["consistent"] == 0 and f"Off M* ({off3['candidates']} settings" in flat
    assert (
        f"(best: c = {b3['c']:g}, σ = {b3['sigma']:g}, w* = {b3['w_star']:g}, null rates {b3['null_min']:g}..2)" in flat
    )
    separation = [r["memdyn"] for r in b3["rows"] if r["quantity"] == "tau_param"]
    assert f"the separation time is {min(separation):.2f}-{max(separation):.2f} at every memory" in flat
    assert f"(χ² = {b3['chi2']:.1e})".replace("e+04", "e4") in flat
    assert max(abs(r["residual_sigmas"]) for r in b3["rows"] if r["quantity"] == "tau_loss") < 3


def test_the_readme_quotes_the_paper_size_fig4():

    from memdyn.studies.problems import FIG4_PAPER_SIZE as s

    readme = site_text(flat=True)
    white = s["runs"]["white"]
    assert (
        f"tanh + GD leaves its plateau ({white['tanh + GD']['plateau']:.3f}) at epoch "
        f"{white['tanh + GD']['escape']:,} and tanh + Adam at {white['tanh + Adam']['escape']:,}"
    ) in readme
    lin = white["linear + GD"]
    assert f"{lin['diverged']} of its 10 seeds diverge and the rest hold {lin['plateau']:.3f}" in readme
    lr = s["lr_scan"]
    assert (
        f"GD escapes at epoch {lr[0.1]['escape']:,} (lr 0.1), {lr[0.25]['escape']:,} (0.25), "
        f"{lr[0.5]['escape']:,} (0.5; one seed diverges) and not at all at 1.0"
    ) in readme
    assert lr[0.5]["diverged"] == 1 and lr[1.0]["escape"] is None
    c = s["bump_scan"]
    assert f"doubles it to {c[0.7071]['plateau']:.3f}" in readme
    assert f"c = 1 gives {c[1.0]['plateau'] / c[0.5]['plateau']:.2f}x" in readme
    assert c[0.7071]["escape"] is None
    modes, scale = s["modes_scan"], s["scale_scan"]
    one, two, four = modes[(1, 0.1, 0.5)], modes[(2, 0.1, 0.5)], modes[(4, 0.1, 0.5)]
    assert (
        f"plateau {one['plateau']:.3f} (the paper's 0.045), left at epoch {one['escape']:,} (the paper's ~3,000); two "
        f"modes give {two['plateau']:.3f} and four {four['plateau']:.3f} (left at {two['escape']:,} and "
        f"{four['escape']:,})"
    ) in readme
    assert f"diverges on them: {modes[(1, 1.0, 0.5)]['diverged']} of 10 seeds" in readme
    assert f"puts the cosines' at {modes[(1, 0.1, 0.7071)]['plateau']:.3f}" in readme
    tanh, linear = scale[("tanh + GD", 0.1, 0.7071)], scale[("linear + GD", 0.1, 0.7071)]
    assert f"({tanh['plateau']:.3f} and {linear['plateau']:.3f} at c = 0.7071)" in readme
    assert all(v["escape"] is None for v in scale.values())
    init, runs = s["init_scan"], _doc("fig4_paper_size.json")["init_scan"]
    gd1, gd05, gd01 = init[("linear + GD", 1.0)], init[("linear + GD", 0.5)], init[("linear + GD", 0.1)]
    adam = init[("tanh + Adam", 0.001)]
    start = runs["linear + GD, lr 0.1"]["mean"][0]  # the one lr where every seed stays finite: the 10 starts' mean
    assert (
        f"linear + GD starts at the paper's ~0.15 ({start:.3f}, the 10 seeds' mean) and plateaus at the paper's "
        f"0.08, but at the paper's lr 1.0 {gd1['diverged']} of its 10 seeds diverge (the one left holds "
        f"{gd1['plateau']:.3f}); at lr 0.5 {gd05['diverged']} of 10 diverge and the mean holds {gd05['plateau']:.3f} "
        f"to epoch 20,000; at lr 0.1 the reading finds only its starting level, {gd01['plateau']:.3f}, left at epoch "
        f"{gd01['escape']:,}; tanh + GD diverges for {init[('tanh + GD', 1.0)]['diverged']} of 2 seeds at lr 1.0 and "
        f"{init[('tanh + GD', 0.5)]['diverged']} of 2 at 0.5; tanh + Adam leaves its starting level "
        f"({adam['plateau']:.3f}) at epoch {adam['escape']}"
    ) in readme
    assert (
        gd01["diverged"] == 0 and gd1["diverged"] == 9 and adam["plateau"] > 0.1
    )  # Adam's flattest stretch: its start
    assert gd05["escape"] is None and adam["diverged"] == 0
    assert (f"puts linear + GD's first loss and level at the paper's ({start:.3f} and {gd1['plateau']:.3f})") in readme
    from memdyn.studies.problems import PAPER_FIG4_ESCAPE, PAPER_FIG4_PLATEAU

    cosine = s["runs"]["cosine"]["linear + GD"]
    gaps = (
        cosine["plateau"] / PAPER_FIG4_PLATEAU["cosine"] - 1,
        cosine["escape"] / PAPER_FIG4_ESCAPE["cosine"]["linear + GD"] - 1,
    )
    assert f"paper's (within {abs(gaps[0]):.1%} and {abs(gaps[1]):.1%})" in readme
    minutes = [
        v["seconds"] / 60
        for runs in _doc("fig4_paper_size.json")["runs"].values()
        for k, v in runs.items()
        if k.startswith("tanh")
    ]
    assert f"each took {round(min(minutes))}-{round(max(minutes))} min here" in readme


def test_flow_vs_scipy_example_runs_and_holds_the_readme_table():
    """examples/flow_vs_scipy.py at two memories: memdyn and LSODA agree, and the README's "Measured"
    table quotes these hitting times (its 10 significant digits)."""
    result = _load("flow_vs_scipy").main(delta=0.01, memories=(8.0, 12.0), repeat=1, t1=1e8)
    readme = site_text()
    for row in result["rows"]:
        assert row["status"] == "ok"
        for key in ("tau_param", "tau_loss"):
            assert abs(row[key] / row[f"lsoda_{key}"] - 1) <= 5e-8
        # the README prints 10 significant digits; the solve is accurate to about rtol = 1e-10
        quoted = [line for line in readme.splitlines() if line.startswith(f"| {row['mu']:g} | ")]
        assert quoted, row["mu"]
        tau_param, tau_loss = (float(x) for x in quoted[0].split("|")[2:4])
        assert abs(tau_param / row["tau_param"] - 1) <= 2e-9 and abs(tau_loss / row["tau_loss"] - 1) <= 2e-9


def test_the_readme_states_what_the_committed_benchmark_measured():
    """research/results/bench_expfit.json (research/bench_expfit.py) holds the README's figures, and its sup fits
    of 1/(1+t) agree with the published tables at every width to 40."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    bench = json.loads((root / "research" / "results" / "bench_expfit.json").read_text())
    readme = site_text()
    sup, l2, l1 = bench["sup_inverse"], bench["l2_poly"], bench["l1_poly"]
    assert all(sup["converged"]) and sup["m"] == list(range(1, ef.MAX_WIDTH + 1))
    assert all(b < a for a, b in zip(sup["sup_error"], sup["sup_error"][1:]))
    assert all(b <= a for a, b in zip(l2["l2_error"], l2["l2_error"][1:]))
    assert all(b <= a for a, b in zip(l1["l1_error"], l1["l1_error"][1:]))
    for low, high in zip(sup["lower_bound"], sup["sup_error"]):
        assert (high - low) / low < 1e-5
    for m, error, last in zip(sup["m"], sup["sup_error"], sup["last_alternation_t"]):
        assert _agrees_with_published({"m": m, "error": error, "alternation": [last]})
    converged = [k for k, c in zip(l1["kkt"], l1["converged"]) if c]
    assert all(k < ef.L1_KKT for k in converged)
    seconds = bench["sup_inverse_seconds"]
    stated = [
        _short(sup["sup_error"][0]),
        _short(sup["sup_error"][-1]),
        f"c = {sup['law']['c']:.2f} fitted",
        f"Widths 1..20 take {seconds['to_width_20']:.0f} s, 1..40 {_duration(seconds['to_width_40'])}",
        f"{_short(l2['l2_error'][-1], 1)} at m = 24 (c = {l2['law']['c']:.2f})",
        f"about {5 * round(bench['l2_width20_seconds'] / 5)} s",
        f"reach {_short(l1['l1_error'][-1])} at m = {l1['m'][-1]} with first-order residual at most "
        f"{_short(max(converged), 0)} ({len(converged)} of {len(l1['m'])} widths converged)",
        f"in {_duration(bench['l1_poly_seconds'])}",
    ]
    for text in stated:
        assert text in " ".join(readme.split()), text
    assert bench["l2_width20_seconds"] < 60  # a width-20 fit within a minute on 2 cores
    assert seconds["to_width_20"] < 60


def test_the_benchmarks_page_states_what_bench_rodas_measured():
    """research/results/bench_rodas.json (research/bench_rodas.py) holds the Rodas4 section: its tables are
    the script's rendering of the artefact, every sentence's number is the artefact's, and the claims the
    section makes hold in it (Rodas4 faster at matched accuracy, more accurate at equal tolerance)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    doc = json.loads((root / "research" / "results" / "bench_rodas.json").read_text())
    text, flat = site_text(), site_text(flat=True)
    assert _load("bench_rodas").markdown(doc) in text
    matched = {m["accuracy"]: m for m in doc["matched"]}
    for accuracy, ours, theirs in ((1e-8, "1e-07", "1e-09"), (1e-6, None, None)):
        m = matched[accuracy]
        r, k = m["memdyn rodas4"]["fresh_process_s"], m["memdyn kvaerno5"]["fresh_process_s"]
        assert f"{r:.1f} s against" in flat and f"{k:.1f} s" in flat
        assert m["memdyn rodas4"]["per_trajectory_ms"] < m["memdyn kvaerno5"]["per_trajectory_ms"] and r < k
        if ours:
            assert m["memdyn rodas4"]["rtol"] == float(ours) and m["memdyn kvaerno5"]["rtol"] == float(theirs)
    rows = {(r["method"], r["rtol"]): r for r in doc["rows"]}
    for rtol in (1e-6, 1e-7, 1e-8, 1e-9, 1e-10):
        assert rows["memdyn rodas4", rtol]["tau_loss"] < rows["memdyn kvaerno5", rtol]["tau_loss"]
    assert (
        f"τ′₀ to {rows['memdyn rodas4', 1e-10]['tau_loss']:.1e} at rtol 1e-10, "
        f"Kvaerno5 {rows['memdyn kvaerno5', 1e-10]['tau_loss']:.1e}"
    ) in flat
    assert f"matches to {max(doc['reference_check_rodas4'].values()):.1e})" in flat
    assert f"memories takes {doc['data_preparation_s']:.2f} s" in flat
    pr = doc["program"]
    assert f"is {pr['rodas4']['hlo_chars'] / 1e3:.0f}k characters of StableHLO against Kvaerno5's" in flat
    assert f"{pr['kvaerno5']['hlo_chars'] / 1e3:.0f}k; tracing takes {pr['rodas4']['trace_s']:.2f} s" in flat
    assert f"against {pr['kvaerno5']['trace_s']:.2f} s and compiling {pr['rodas4']['compile_s']:.2f} s" in flat
    assert f"against {pr['kvaerno5']['compile_s']:.2f} s (each in a fresh process)." in flat
    # the compiled peer (memdyn.studies.peer), measured where it was installed
    compiled = {a: e["compiled LSODA"] for a, e in matched.items()}
    rodas = {a: e["memdyn rodas4"] for a, e in matched.items()}
    assert f"after a first call that compiles it ({doc['compiled_lsoda']['compile_s']:.1f} s, not counted)" in flat
    # the verdict the tables end with (part of markdown(doc) above) names the side this run measured faster
    verdict = _load("bench_rodas").peer_verdict(doc)
    ahead = [a for a in compiled if compiled[a]["per_trajectory_ms"] < rodas[a]["per_trajectory_ms"]]
    expected = (
        "Compiled LSODA is the faster"
        if len(ahead) == len(compiled)
        else "memdyn's batch is the faster"
        if not ahead
        else "Compiled LSODA and memdyn's batch trade places"
    )
    assert verdict.startswith(f"**{expected} in this run.**")
    for a in compiled:
        assert (
            f"{compiled[a]['per_trajectory_ms']:.3g} ms per trajectory against Rodas4's "
            f"{rodas[a]['per_trajectory_ms']:.3g} ms" in verdict
        )


def test_the_benchmarks_page_states_the_step_cost_floor():
    """research/results/step_cost.json (research/step_cost.py) holds the paragraph on the floor one Rodas4 step
    sets, and that paragraph's claims hold in it: the floor is below the measured solve, the parts add up to
    no more than the step, and compiled LSODA is under 5x the floor (so 5x faster than it is out of reach)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    doc = json.loads((root / "research" / "results" / "step_cost.json").read_text())
    assert _load("step_cost").markdown(doc) in site_text()
    r = {row["batch"]: row for row in doc["rows"]}[64]
    assert r["floor_ms"] < r["per_trajectory_ms"]
    assert 6 * r["field_ns"] + r["jacobian_ns"] + r["lu_ns"] <= r["step_ns"]
    bench = json.loads((root / "research" / "results" / "bench_rodas.json").read_text())
    peer = next(m for m in bench["matched"] if m["accuracy"] == doc["compiled_lsoda"]["accuracy"])["compiled LSODA"]
    assert peer["per_trajectory_ms"] == doc["compiled_lsoda"]["per_trajectory_ms"]
    assert doc["compiled_lsoda"]["floor_ratio"] < 5


def test_the_readme_states_rodas4s_range_of_speed_ups():
    """The README's "3.6-5.2x" is the Rodas4 section's pair of matched ratios (bench_rodas.json)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    doc = json.loads((root / "research" / "results" / "bench_rodas.json").read_text())
    ratios = sorted(
        m["memdyn kvaerno5"]["per_trajectory_ms"] / m["memdyn rodas4"]["per_trajectory_ms"] for m in doc["matched"]
    )
    assert f"{ratios[0]:.1f}-{ratios[-1]:.1f}x faster per trajectory" in site_text(flat=True)


def test_the_large_sweeps_page_states_the_chunk_sizes_measured():
    """docs/howto/large-sweeps.md's per-trajectory costs by chunk size are research/results/chunk_sizes.json's
    (research/chunk_sizes.py), and the default chunk of 64 is the cheaper one of the sizes quoted."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    rows = {
        r["chunk"]: r["per_trajectory_ms"]
        for r in json.loads((root / "research" / "results" / "chunk_sizes.json").read_text())["rows"]
    }
    assert (
        f"costs {rows[64]:.2f} ms per trajectory in chunks of 64, {rows[256]:.2f} ms in chunks of 256 and "
        f"{rows[4097]:.2f} ms as one call"
    ) in site_text(flat=True)
    assert rows[64] < rows[256] < rows[4097]
    big = json.loads((root / "research" / "results" / "large_sweep.json").read_text())
    assert big["all_ok"] and big["memories"] == 32768
    assert big["solver"] == "rodas4" and big["rtol"] == 1e-6  # what the sentence says it measured
    share = big["data_preparation_s"] / big["sweep_s"]
    assert (
        f"for {big['memories']:,} distinct memories (Rodas4 at rtol 1e-6) it took {big['data_preparation_s']:.2f} s of a "
        f"{big['sweep_s']:.1f} s warm sweep ({share:.1%}), {1e3 * big['sweep_s'] / big['memories']:.3f} ms per trajectory"
    ) in site_text(flat=True)
    assert share <= 0.10  # data preparation at most a tenth of a large sweep
