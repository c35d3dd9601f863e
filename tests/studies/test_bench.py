"""The benchmark machinery on a small setting: its numbers are checked, not just produced."""

import pytest

from memdyn.studies.bench import (
    compile_times,
    cost_growth,
    device_counts,
    device_scaling,
    end_to_end,
    markdown,
    throughput,
    work_precision,
)

COMPILED_LSODA_ERROR = 1e-6
"""tau_loss error of the compiled peer at 1/omega = 10, rtol 1e-8 (measured 3.4e-7)."""
COMPILED_LSODA_MATCHED_RTOL = 1e-8
"""Its loosest tolerance reaching 1e-6 there among rtol 1e-6 (error 2.7e-5) and 1e-8."""


@pytest.fixture(scope="module")
def small():
    wp = work_precision(mu=10.0, rtols=(1e-8,), solvers=("kvaerno5",), scipy_methods=("LSODA",), etas=(0.05,))
    cg = cost_growth(memories=(8.0, 12.0), gd_up_to=1e2)
    tp = throughput(batches=(1, 4))
    dv = device_scaling(elements={2: 4})
    ee = end_to_end(sizes=(8,), solvers=("rodas4",))
    return {
        "machine": "test",
        "profile": "test",
        "work_precision": wp,
        "cost_growth": cg,
        "throughput": tp,
        "devices": dv,
        "end_to_end": ee,
        "compile": {"rows": []},
    }


def test_reference_is_checked_by_a_second_method(small):
    wp = small["work_precision"]
    assert wp["reference_agreement"] <= 5e-10  # achieved: 3.5e-11


def test_errors_are_measured_against_the_reference(small):
    rows = {r["method"]: r for r in small["work_precision"]["rows"]}
    assert rows["diffrax kvaerno5"]["error"] <= 1e-7  # achieved: 8.4e-9 at rtol 1e-8
    assert rows["scipy LSODA"]["error"] <= 5e-6  # achieved: 3.4e-7
    compiled = small["work_precision"]["compiled_lsoda"]
    if compiled == "measured":  # memdyn.studies.peer installed (pip install 'memdyn[peer]')
        assert rows["compiled LSODA"]["error"] <= COMPILED_LSODA_ERROR
    else:
        assert "compiled LSODA" not in rows and "memdyn[peer]" in compiled
    gd = rows["gradient descent"]
    # First-order method: tau = k eta overshoots by at most about one step.
    assert 0 <= gd["tau"] - small["work_precision"]["reference_tau"] <= 2 * gd["eta"]


def test_cost_growth_and_throughput_rows(small):
    cg = small["cost_growth"]
    assert cg["plateau_ratio"] > 1 and all(r["code"] == 0 for r in cg["rows"])
    assert all(abs(r["lsoda_tau"] / r["tau"] - 1) < 2e-7 for r in cg["rows"])  # achieved: 1.5e-8
    assert [r["batch"] for r in small["throughput"]["rows"]] == [1, 4]
    assert all(r["all_ok"] for r in small["throughput"]["rows"])
    text = markdown(small)
    assert "Work-precision" in text and "trajectories/s" in text and "Throughput against devices" in text


def test_the_matched_sentence_names_the_compiled_peer_or_why_it_is_missing(small):
    """How bench.md renders a matched entry, with the compiled peer measured and without it."""
    base = {"accuracy": 1e-6, "batch": 64, "solver": "rodas4", "rtol": 1e-6, "per_trajectory_s": 4e-4}
    base.update(scipy_method="scipy LSODA", scipy_rtol=1e-8, scipy_s=0.06, ratio=150.0)
    measured = {**base, "compiled_rtol": 1e-8, "compiled_s": 2.5e-4, "compiled_ratio": 0.625}
    missing = {**base, "compiled_note": "numbalsoda is not installed (ImportError): pip install 'memdyn[peer]'"}
    text = markdown({**small, "matched": [measured, missing]})
    assert (
        "Compiled LSODA (numbalsoda on a numba right-hand side, rtol 1e-08): 0.25 ms per trajectory, **0.62x**." in text
    )
    assert "Compiled LSODA: numbalsoda is not installed (ImportError): pip install 'memdyn[peer]'." in text


def test_the_end_to_end_row_is_what_memdyn_sweep_does(small):
    """The end-to-end row of 8 memories: every element ok, its steps per trajectory those of the same
    memdyn.sweep called directly (accepted and rejected, both event passes), one LU factorisation per
    attempted Rodas4 step; Kvaerno5's factorisations are said to be not counted."""
    import numpy as np

    import memdyn
    from memdyn.studies.problems import DELTA, RHO
    from memdyn.studies.problems import mstar_start as start

    (row,) = small["end_to_end"]["rows"]
    assert row["all_ok"] and row["memories"] == 8 and row["solver"] == "rodas4"
    assert 0 < row["data_preparation_s"] < row["wall_s"]
    theta0 = start([0.5])
    res = memdyn.sweep(
        RHO, "mu", np.linspace(8.0, 16.0, 8), a0=theta0[:2], w0=theta0[2:], delta=DELTA, rtol=1e-6, atol=1e-8
    )
    attempted = (res.stats["steps"] + res.stats["rejected_steps"]) / 8
    assert row["steps_per_trajectory"] == attempted == row["factorisations_per_trajectory"]
    kvaerno = {**row, "solver": "kvaerno5", "factorisations_per_trajectory": None}
    text = markdown({**small, "end_to_end": {**small["end_to_end"], "rows": [row, kvaerno]}})
    assert "### End to end" in text and f"| 8 | rodas4 | 1e-06 | {row['wall_s']:.2f} s |" in text
    assert "| not counted | True |" in text


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


@pytest.mark.slow  # compiles Rodas4's solve twice (one trajectory, a batch): about 20 s on 2 cores
def test_the_matched_comparison_runs_for_rodas4():
    """memdyn bench's per-solver row at matched accuracy: Rodas4's loosest tolerance reaching 1e-6, a batch of
    4 at it, against LSODA; Rodas4 reaches 1e-6 at rtol 1e-6 (measured error 1.3e-7) and is faster per
    trajectory than LSODA one at a time."""
    from memdyn.studies.bench import matched_comparison

    wp = work_precision(mu=10.0, rtols=(1e-6, 1e-8), solvers=("rodas4",), scipy_methods=("LSODA",), etas=())
    rows = {(r["method"], r["rtol"]): r for r in wp["rows"]}
    assert rows["diffrax rodas4", 1e-6]["error"] <= 1e-6
    mc = matched_comparison(10.0, 1e-6, wp, batch=4, solver="rodas4")
    assert mc["solver"] == "rodas4" and mc["rtol"] == 1e-6 and mc["ratio"] > 1
    if wp["compiled_lsoda"] == "measured":
        assert mc["compiled_rtol"] == COMPILED_LSODA_MATCHED_RTOL and mc["compiled_s"] > 0
    else:
        assert "memdyn[peer]" in mc["compiled_note"]
