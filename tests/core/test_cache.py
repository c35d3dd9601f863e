"""The persistent caches: a warm answer equals the cold one, and no fault of the cache changes a number.

Each test points MEMDYN_CACHE_DIR at its own folder and drops this process's compiled solves
(``forget_compiled``), so the second call reads the disk exactly as a fresh process would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import memdyn
from memdyn.cli import main
from memdyn.core import cache, symbolic
from memdyn.core.integrate import SolverConfig, forget_compiled, solve_program

from ..conftest import BUMP
from ..faults import fill_the_disk


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMDYN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MEMDYN_CACHE", "on")
    cache._state["warned"].clear()
    forget_compiled()
    yield tmp_path / "cache"
    forget_compiled()
    cache._state["disabled"] = None


def _solve(mu=12.0, rtol=1e-10):
    tg = memdyn.target(BUMP, {"mu": mu})
    fn = solve_program(tg, SolverConfig(rtol=rtol, atol=rtol * 1e-2))
    return jax.device_get(fn(tg.data({"mu": mu}), np.array([1.0, 0.0, 1.0, 0.5]), 0.01, 1e8))


def test_warm_answer_equals_the_cold_answer(fresh_cache):
    cold = _solve()
    assert len(list((fresh_cache / "solves").iterdir())) == 1
    forget_compiled()
    warm = _solve()
    np.testing.assert_array_equal(warm["tau"], cold["tau"])  # the same executable: bit for bit
    np.testing.assert_array_equal(warm["theta"], cold["theta"])
    # tolerances and parameter values are run-time values: no new entry for them
    forget_compiled()
    _solve(mu=13.0, rtol=1e-8)
    assert len(list((fresh_cache / "solves").iterdir())) == 1


def test_a_corrupt_entry_is_detected_and_rebuilt(fresh_cache, capsys):
    cold = _solve()
    entry = next((fresh_cache / "solves").iterdir())
    raw = entry.read_bytes()
    entry.write_bytes(raw[: len(raw) // 2])  # half-written
    forget_compiled()
    again = _solve()
    np.testing.assert_array_equal(again["tau"], cold["tau"])
    err = capsys.readouterr().err
    assert err.count("corrupt cache entry") == 1
    assert cache.load("solves", entry.name) is not None  # rebuilt and stored again


def test_an_unwritable_cache_folder_warns_once_and_answers(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MEMDYN_CACHE_DIR", str(blocker / "cache"))
    cache._state["warned"].clear()
    forget_compiled()
    try:
        out = _solve()
        forget_compiled()
        out2 = _solve()
    finally:
        cache._state["disabled"] = None
    np.testing.assert_array_equal(out["tau"], out2["tau"])
    assert np.isfinite(out["tau"]).all()
    err = capsys.readouterr().err
    assert err.count("memdyn: warning:") == 1 and "going on without it" in err


def test_a_full_disk_warns_once_and_answers(fresh_cache, monkeypatch, capsys):
    import tempfile

    fill_the_disk(monkeypatch, tempfile, "mkstemp")
    out = _solve()
    assert np.isfinite(out["tau"]).all()
    err = capsys.readouterr().err
    assert err.count("No space left on device") == 1
    assert not (fresh_cache / "solves").exists() or not any((fresh_cache / "solves").iterdir())


def test_the_derivation_cache_reads_back_the_same_derivation(fresh_cache, capsys):
    kernel = memdyn.parse_kernel("exp(-t) + c*exp(-(t - mu)**2/2)", {"c": 0.5, "mu": 9.0})
    fresh = symbolic._derive_uncached(kernel)
    symbolic._derive_cached.cache_clear()
    first = symbolic.derive(kernel)  # derives and stores
    symbolic._derive_cached.cache_clear()
    stored = symbolic.derive(kernel)  # reads
    for d in (first, stored):
        assert d.terms == fresh.terms and d.norm2 == fresh.norm2 and d.pair == fresh.pair
    # A tampered entry (a symbol name that is code) is refused by the parser, never run: derived again.
    key = symbolic.fingerprint(kernel)
    data = json.loads(cache.load("derivations", key))
    data["norm2"] = ["S", "__import__('os').system('touch canary')", []]
    cache.store("derivations", key, json.dumps(data).encode())
    symbolic._derive_cached.cache_clear()
    again = symbolic.derive(kernel)
    assert again.norm2 == fresh.norm2
    assert "could not be read" in capsys.readouterr().err
    assert not os.path.exists("canary")
    symbolic._derive_cached.cache_clear()


def test_cache_info_and_clear(fresh_cache, capsys):
    _solve()
    assert main(["cache", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["path"] == str(fresh_cache) and info["kinds"]["solves"]["entries"] == 1
    assert main(["cache", "clear", "--json"]) == 0
    capsys.readouterr()
    assert main(["cache", "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bytes"] == 0


def test_no_cache_writes_nothing(fresh_cache, capsys):
    try:
        assert main(["--no-cache", "loss", "--rho", "exp(-1.2345*t)", "--a0", "1", "--w0", "2", "--json"]) == 0
    finally:  # the rest of the test run keeps its caches
        cache._state["disabled"] = None
        jax.config.update("jax_enable_compilation_cache", True)
    assert not (fresh_cache / "derivations").exists()


@pytest.mark.slow
def test_two_processes_filling_the_cache_at_once(tmp_path):
    """Two cold processes race to fill one cache; a third reads it warm, with no corrupt entry."""
    env = {**os.environ, "MEMDYN_CACHE_DIR": str(tmp_path / "cache"), "MEMDYN_CACHE": "on"}
    argv = [
        sys.executable,
        "-m",
        "memdyn.cli",
        "flow",
        "--rho",
        BUMP,
        "--param",
        "mu=12",
        "--a0",
        "1,0",
        "--w0",
        "1,0.5",
        "--delta",
        "0.01",
        "--json",
    ]
    procs = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    third = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert third.returncode == 0 and "warning" not in third.stderr
    taus = {json.loads(o)["tau_loss"] for o, _ in outs} | {json.loads(third.stdout)["tau_loss"]}
    assert len(taus) == 1
