"""memdyn as a library: the host process left alone, one API that is the CLI's twin, non-answers
that are not success, results that work in a notebook, and the habits (ruff, mypy) checked."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import memdyn
from memdyn import api
from memdyn.cli import COMMANDS, NOT_ANSWERED, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
BUMP = "exp(-t) + 0.5*exp(-(t - mu)**2/2)"

HOST = """
import importlib, json, pkgutil, sys
import jax, matplotlib
matplotlib.use("pdf")  # the user's choice, before memdyn
def settings():
    return [bool(jax.config.jax_enable_x64), jax.config.jax_compilation_cache_dir, matplotlib.get_backend()]
before = settings()
import memdyn
names = [m.name for m in pkgutil.walk_packages(memdyn.__path__, "memdyn.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
after_import = settings()
res = memdyn.flow("exp(-t)", a0=[1.0], w0=[2.0], delta=0.01, rtol=1e-8)
after_flow = settings()
print(json.dumps({"before": before, "after_import": after_import, "after_flow": after_flow, "modules": len(names),
                  "tau_loss": res.tau_loss, "dtype": str(res.theta_final.dtype)}))
"""


def test_importing_every_module_and_solving_leaves_the_hosts_settings_alone(tmp_path):
    env = {**os.environ, "MEMDYN_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("JAX_ENABLE_X64", None)
    out = subprocess.run([sys.executable, "-c", HOST], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["before"] == [False, None, "pdf"]
    assert got["after_import"] == got["before"] and got["after_flow"] == got["before"]
    assert got["modules"] > 60  # every module of the package was imported
    # the answer was still computed in float64: rho = e^{-t} from (1, 2) relaxes to (1, 1)
    assert got["tau_loss"] is not None and got["dtype"] == "float64"


def test_a_stage_reached_without_x64_says_how_to_enable_it():
    import jax

    from memdyn.core.jaxsetup import require_x64

    with jax.enable_x64(False):
        with pytest.raises(memdyn.MemdynError, match="jax_enable_x64"):
            require_x64()
        # while a public function still computes in float64 and restores the setting
        assert memdyn.evaluate("exp(-t)", a0=[1.0], w0=[1.0])["loss"] == pytest.approx(0.0, abs=1e-15)
        assert not jax.config.jax_enable_x64


def test_flow_takes_solver_settings_as_keywords_and_answers_at_memory_40_with_the_default_horizon():
    res = memdyn.flow("exp(-t)", a0=[1], w0=[1], delta=0.1, rtol=1e-8)
    assert res.status == "t1_reached" and not res.ok  # at the target already: nothing moves
    res = memdyn.flow(BUMP, params={"mu": 40}, a0=[1, 0], w0=[1, 0.5], delta=0.01)
    assert res.ok, res.status.advice
    # the same element through the batched sweep (the default horizon is one for every command)
    sw = memdyn.sweep(BUMP, "mu", [40], a0=[1, 0], w0=[1, 0.5], delta=0.01)
    assert sw.tau_loss[0] == pytest.approx(res.tau_loss, rel=1e-6)
    assert repr(res).startswith("FlowResult(status='ok'") and "\n" not in repr(res)
    assert res.stats["steps"] == res.steps and res.stats["rejected_steps"] >= 0 and res.stats["solve_s"] > 0


def test_throw_raises_with_the_result_and_its_advice():
    with pytest.raises(memdyn.SolveError, match="raise t1") as err:
        memdyn.flow(BUMP, params={"mu": 10}, a0=[1, 0], w0=[1, 0.5], delta=0.01, t1=10.0, throw=True)
    assert err.value.result.status == "t1_reached"


def test_a_result_that_is_not_an_answer_exits_3_and_still_prints_its_json(capsys):
    code = main(
        [
            "flow",
            "--rho",
            BUMP,
            "--param",
            "mu=10",
            "--a0",
            "1,0",
            "--w0",
            "1,0.5",
            "--delta",
            "0.01",
            "--t1",
            "10",
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == NOT_ANSWERED == 3
    assert json.loads(captured.out)["status"] == "t1_reached"
    assert captured.err.strip().splitlines() == [
        "memdyn flow: not answered: t1_reached: " + memdyn.Status.T1_REACHED.advice
    ]


def _cli_defaults(command) -> dict:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command.name]
    return {
        a.dest: a.default
        for a in sub._actions
        if a.dest not in ("help", "json") and a.default is not None and a.default is not argparse.SUPPRESS
    }


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.function], ids=lambda c: c.name)
def test_every_commands_defaults_equal_its_python_functions(command):
    signature = inspect.signature(getattr(api, command.function)).parameters
    # --param NAME=VALUE (repeated; none by default) is the function's params mapping (None by default)
    cli = {("params" if dest == "param" else dest): default for dest, default in _cli_defaults(command).items()}
    shared = {
        dest: default
        for dest, default in cli.items()
        if dest in signature and signature[dest].default is not inspect.Parameter.empty
    }
    assert shared, f"{command.name}: no option shared with memdyn.{command.function}"
    for dest, default in shared.items():
        expected = signature[dest].default
        expected = list(expected) if isinstance(expected, tuple) else expected
        if dest == "params":
            default, expected = default or None, expected
        assert default == expected, f"memdyn {command.name} --{dest.replace('_', '-')}: {default!r} != {expected!r}"


def test_every_command_has_its_function_at_the_front_door():
    for command in COMMANDS:
        names = {"cache": ["cache_info", "clear_cache"]}.get(command.name, [command.function])
        for name in names:
            assert name in memdyn.__all__ and callable(getattr(memdyn, name))


def test_a_sweep_in_python_gives_arrays_a_short_repr_a_table_and_the_clis_files(tmp_path):
    pd = pytest.importorskip("pandas")
    sw = memdyn.sweep(
        BUMP, "mu", [8, 9, 10], init="mstar", m=2, null_rates=[0.5], delta=0.01, rtol=1e-8, out=str(tmp_path / "run")
    )
    assert isinstance(sw.tau_loss, np.ndarray) and sw.tau_loss.dtype == np.float64 and sw.tau_loss.shape == (3,)
    assert np.all(np.diff(sw.tau_loss) > 0) and sw.ok and list(sw.status) == ["ok"] * 3
    assert len(repr(sw)) < 120 and "\n" not in repr(sw)
    frame = sw.to_pandas()
    assert isinstance(frame, pd.DataFrame) and list(frame["tau_loss"]) == list(sw.tau_loss)
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {"results.json", "results.csv", "sweep.json"}
    table = json.loads((tmp_path / "run" / "results.json").read_text())
    assert table["tau_loss"] == sw.to_json()["tau_loss"]
    assert sw.stats["steps"] == int(sw.steps.sum())


def test_plots_compose_on_a_given_axes_and_choose_no_backend():
    import matplotlib

    backend = matplotlib.get_backend()
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    res = memdyn.flow(BUMP, params={"mu": 8}, a0=[1, 0], w0=[1, 0.5], delta=0.01, rtol=1e-8)
    assert res.plot(ax=axes[0]) is axes[0] and len(axes[0].lines) >= 1
    sw = memdyn.sweep(BUMP, "mu", [8, 9], a0=[1, 0], w0=[1, 0.5], delta=0.01, rtol=1e-8)
    assert sw.plot(ax=axes[1]) is axes[1]
    plt.close(fig)
    assert matplotlib.get_backend() == backend


def _tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


LINTED = ("memdyn", "tests", "research", "examples", "derivations")


def test_ruff_finds_nothing_and_the_code_is_formatted():
    pytest.importorskip("ruff")
    out = _tool("ruff", "check", *LINTED)
    assert out.returncode == 0, out.stdout[-3000:]
    out = _tool("ruff", "format", "--check", *LINTED)
    assert out.returncode == 0, out.stdout[-3000:]


MYPY_BASELINE = ROOT / "tests" / "mypy-baseline.txt"
"""Known type errors, one per line as mypy prints them (without line numbers): may only shrink."""


def test_mypy_finds_no_error_beyond_the_baseline():
    pytest.importorskip("mypy")
    from tests.mypy_baseline import current

    found = current()
    known = {line for line in MYPY_BASELINE.read_text().splitlines() if line.strip()}
    assert not found - known, "new type errors:\n" + "\n".join(sorted(found - known))
    assert not known - found, "fixed: rerun python tests/mypy_baseline.py to shrink the baseline:\n" + "\n".join(
        sorted(known - found)
    )


def test_every_result_has_a_one_line_repr_and_a_table():
    pytest.importorskip("pandas")
    trained = memdyn.train("exp(-t)", width=2, epochs=20, samples=None, seeds=2)
    fits = memdyn.approximate("exp(-t)*(1 + 0.5*cos(t))", widths=[1, 2])
    for result, rows in ((trained, 21), (fits, 2)):
        text = repr(result)
        assert "\n" not in text and len(text) < 200, text
        assert len(result.to_pandas()) == rows
