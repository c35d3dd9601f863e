"""The SymPy-free warm path (memdyn.core.warm): the same numbers as the full pipeline, without SymPy.

References: the full pipeline's own KernelData (the walk must reproduce it bit for bit), SymPy's
``evalf`` at 60 digits for the walk over closed forms, and a fresh process for "SymPy is not imported".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import sympy as sp

from memdyn.core import cache, serial, warm
from memdyn.core.integrate import forget_compiled
from memdyn.core.pipeline import target
from memdyn.core.stable import plain
from memdyn.errors import InputError

from ..conftest import BUMP


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMDYN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MEMDYN_CACHE", "on")
    cache._state["warned"].clear()
    warm._READ.clear()
    warm._REMEMBERED.clear()
    yield tmp_path / "cache"
    forget_compiled()
    warm._READ.clear()
    warm._REMEMBERED.clear()
    cache._state["disabled"] = None


KERNELS = [  # (formula, parameter values): closed forms with erfc, powers, rationals, pi
    (BUMP, {"mu": 12.0}),
    (BUMP, {"mu": 40.0}),  # far memory: exp(mu^2/2) erfc(...) products in the closed form
    ("exp(-t) + 0.5*exp(-(t - mu)**2/(2*s**2))", {"mu": 7.5, "s": 0.3}),
    ("c*t**2*exp(-t/2) + exp(-3*t)", {"c": -0.7}),
    ("exp(-t)*cos(b*t)", {"b": 2.5}),
]


@pytest.mark.parametrize("rho, values", KERNELS)
def test_warm_data_equals_the_full_pipeline(fresh_cache, rho, values):
    full = target(rho, values)
    found = warm.warm_target(rho, values)
    assert found is not None and found.fingerprint == full.fingerprint
    a, b = full.data_batch([values], host=True), found.data_batch([values], host=True)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("rho, values", KERNELS)
def test_the_walk_agrees_with_sympy_evalf(fresh_cache, rho, values):
    full = target(rho, values)
    closed = plain(full.derivation.norm2)
    reference = sp.N(
        closed.subs(
            {
                sp.Symbol(n, **{s: True}): sp.Rational(repr(values[n]))
                for n, s in zip(full.kernel.param_names, full.kernel.param_signs)
            }
        ),
        60,
    )
    with mpmath.workdps(60):
        walked = warm.evaluate(serial.dump(closed), {n: mpmath.mpf(repr(v)) for n, v in values.items()})
        assert abs(walked - mpmath.mpf(str(reference))) <= mpmath.mpf(10) ** -50 * abs(walked)


def test_a_sign_change_or_a_new_name_misses_the_record(fresh_cache):
    target(BUMP, {"mu": 12.0})
    assert warm.warm_target(BUMP, {"mu": 12.0}) is not None
    assert warm.warm_target(BUMP, {"mu": [8.0, 9.0]}) is not None  # a sweep of the same sign
    assert warm.warm_target(BUMP, {"mu": -1.0}) is None  # another derivation
    assert warm.warm_target(BUMP, {"nu": 1.0}) is None
    assert warm.warm_target(BUMP + " ", {"mu": 12.0}) is None  # keyed by the text as typed


def test_values_are_checked_as_the_full_pipeline_checks_them(fresh_cache):
    full = target(BUMP, {"mu": 12.0})
    found = warm.warm_target(BUMP, {"mu": 12.0})
    for bad in ({}, {"mu": -2.0}, {"mu": float("nan")}, {"mu": 1.0, "c": 2.0}):
        with pytest.raises(InputError) as a:
            full.data(bad)
        with pytest.raises(InputError) as b:
            found.data(bad)
        assert str(a.value) == str(b.value)


def test_what_the_walk_cannot_evaluate_goes_to_the_full_target(fresh_cache):
    target(BUMP, {"mu": 12.0})
    found = warm.warm_target(BUMP, {"mu": 12.0})
    tampered = warm.WarmTarget(
        source=found.source,
        fingerprint=found.fingerprint,
        param_names=found.param_names,
        param_signs=found.param_signs,
        rho=["f", "besselj", [["I", "0"], ["S", "t", []]]],
        norm2=found.norm2,
    )
    assert tampered._norm2({"mu": 12.0}) is None
    for x, y in zip(tampered.data({"mu": 12.0}), target(BUMP, {"mu": 12.0}).data({"mu": 12.0})):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_a_corrupt_record_is_ignored_with_one_warning(fresh_cache, capsys):
    target(BUMP, {"mu": 12.0})
    (entry,) = (fresh_cache / "targets").iterdir()
    key = entry.name
    cache.store("targets", key, b'{"fingerprint": 1}')  # well checksummed, wrong content
    warm._READ.clear()
    assert warm.warm_target(BUMP, {"mu": 12.0}) is None
    assert capsys.readouterr().err.count("could not be read") == 1


@pytest.mark.slow  # fresh processes, cold and warm: 21 s
def test_a_warm_process_never_imports_sympy_and_answers_as_a_cold_one(fresh_cache):
    """A first `memdyn flow` fills the cache; a second, with a new parameter value and tolerance, answers
    from it without importing SymPy (``-X importtime`` lists every module a process imports), equal to
    the full pipeline's answer in this process to 1e-12."""
    env = {**os.environ, "MEMDYN_CACHE_DIR": str(fresh_cache), "MEMDYN_CACHE": "on"}
    argv = [
        sys.executable,
        "-X",
        "importtime",
        "-m",
        "memdyn.cli",
        "flow",
        "--rho",
        BUMP,
        "--a0",
        "1,0",
        "--w0",
        "1,0.5",
        "--delta",
        "0.01",
        "--json",
    ]
    first = subprocess.run(argv + ["--param", "mu=12"], env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0 and " sympy" in first.stderr  # the cold process derives
    proc = subprocess.run(
        argv + ["--param", "mu=13.5", "--rtol", "1e-8"], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.rpartition("|")[2].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "memdyn.core.warm" in imported and not {m for m in imported if m.split(".")[0] == "sympy"}
    out = json.loads(proc.stdout)
    from memdyn.api import flow

    warm._READ.clear()  # the reference runs the full pipeline, with the cache off
    cache._state["disabled"] = True
    try:
        cold = flow(BUMP, params={"mu": 13.5}, a0=[1.0, 0.0], w0=[1.0, 0.5], delta=0.01, rtol=1e-8).to_json()
    finally:
        cache._state["disabled"] = None
    for k in ("tau_param", "tau_loss", "loss_initial", "loss_final"):
        assert out[k] == pytest.approx(cold[k], rel=1e-12, abs=0)
    np.testing.assert_allclose(out["theta_final"], cold["theta_final"], rtol=1e-12, atol=0)
