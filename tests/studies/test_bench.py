"""The benchmark machinery on a small setting: its numbers are checked, not just produced."""

import pytest

from memdyn.studies.bench import (
    compile_times,
    cost_growth,
    device_counts,
    device_scaling,
    markdown,
    throughput,
    work_precision,
)
from tests.quotes import site_text


@pytest.fixture(scope="module")
def small():
    wp = work_precision(mu=10.0, rtols=(1e-8,), solvers=("kvaerno5",), scipy_methods=("LSODA",), etas=(0.05,))
    cg = cost_growth(memories=(8.0, 12.0), gd_up_to=1e2)
    tp = throughput(batches=(1, 4))
    dv = device_scaling(elements={2: 4})
    return {
        "machine": "test",
        "profile": "test",
        "work_precision": wp,
        "cost_growth": cg,
        "throughput": tp,
        "devices": dv,
        "compile": {"rows": []},
    }


def test_reference_is_checked_by_a_second_method(small):
    wp = small["work_precision"]
    assert wp["reference_agreement"] <= 1e-8


def test_errors_are_measured_against_the_reference(small):
    rows = {r["method"]: r for r in small["work_precision"]["rows"]}
    assert rows["diffrax kvaerno5"]["error"] <= 1e-6
    assert rows["scipy LSODA"]["error"] <= 1e-4
    gd = rows["gradient descent"]
    # First-order method: tau = k eta overshoots by at most about one step.
    assert 0 <= gd["tau"] - small["work_precision"]["reference_tau"] <= 2 * gd["eta"]


def test_cost_growth_and_throughput_rows(small):
    cg = small["cost_growth"]
    assert cg["plateau_ratio"] > 1 and all(r["code"] == 0 for r in cg["rows"])
    assert all(abs(r["lsoda_tau"] / r["tau"] - 1) < 1e-6 for r in cg["rows"])
    assert [r["batch"] for r in small["throughput"]["rows"]] == [1, 4]
    assert all(r["all_ok"] for r in small["throughput"]["rows"])
    text = markdown(small)
    assert "Work-precision" in text and "trajectories/s" in text and "Throughput against devices" in text


def test_device_table_rows(small):
    """One local device here (the two-device run is tests/core/test_devices.py, slow): one row, all ok."""
    dv = small["devices"]
    assert [r["devices"] for r in dv["rows"]] == [1] * len(dv["rows"]) and dv["available"] == 1
    assert all(r["all_ok"] and r["equal_to_one_device"] for r in dv["rows"])


@pytest.mark.parametrize("available, counts", [(1, [1]), (2, [1, 2]), (6, [1, 2, 4, 6]), (8, [1, 2, 4, 8])])
def test_device_counts(available, counts):
    assert device_counts(available) == counts


@pytest.mark.slow
def test_compile_times_with_the_persistent_cache():
    rows = compile_times(widths=(2,))["rows"]
    assert rows[0]["warm_cache_s"] < rows[0]["cold_s"]


def test_the_readme_quotes_the_committed_latency_benchmark():
    """README's latency table and ratios are the committed artefact's (regenerate both together)."""
    import json
    from pathlib import Path

    from memdyn.studies.latency import SCIPY_SCRIPT
    from memdyn.studies.latency import markdown as latency_markdown

    root = Path(__file__).resolve().parents[2]
    result = json.loads((root / "research" / "results" / "latency.json").read_text())
    readme = site_text()
    assert latency_markdown(result) in readme
    r = result["ratios"]  # the paragraph on the targets quotes the same run
    for quoted in (
        f"warm `memdyn flow` is {r['flow_warm_over_scipy']:.1f}x",
        f"{r['flow_warm_new_value_over_scipy']:.1f}x with a new parameter value",
        f"Cold is {r['flow_cold_over_scipy']:.0f}x",
        f"sweep warm is {r['scipy64_over_sweep_warm']:.2f}x",
        f"already takes 1/{r['scipy64_over_jax_floor']:.1f} of the SciPy",
    ):
        assert quoted in " ".join(readme.split()), quoted
    assert (root / "research" / "scipy_flow.py").read_text() == SCIPY_SCRIPT == result["scipy_script"]
    # every run the artefact reports finished, and the stages add up to no more than the process
    for stages in result["stages"].values():
        assert all(v > 0 for v in stages.values())


def test_the_readme_quotes_the_committed_reproduce_timing():
    """README's reproduce --quick times are research/results/reproduce.json's (time_reproduce.py)."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    t = json.loads((root / "research" / "results" / "reproduce.json").read_text())
    readme = site_text(flat=True)
    assert f"{t['cold_s']:.0f} s with empty caches, {t['warm_s']:.0f} s warm" in readme
    assert f"({t['warm_sections_s']['training']:.0f} s warm)" in readme
    assert t["warm_s"] < t["cold_s"]


def test_the_readme_quotes_the_timed_set_up_commands():
    """The set-up section's times and test count are research/results/setup.json's (time_setup.py), measured on
    the very commands the README gives (the script reads them from it)."""
    import importlib.util
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
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
