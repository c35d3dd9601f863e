"""Hostile and oversized input: one line on stderr, exit status 2, nothing written, in bounded time.

Each case from the issue that used to break the promise has a test here: deep nesting, constant
towers, look-alike characters, overflowing constants, sizes that would exhaust the machine, output
folders that cannot be written, library errors from every subpackage. The property-based tests
(hypothesis) feed the parser and the CLI random expression trees and random strings: never a
traceback, never executed (a canary file is checked, not only the message), always within a bound.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memdyn
from memdyn.cli import main
from memdyn.core.formula import parse_kernel
from memdyn.core.params import parse_range
from memdyn.errors import InputError

from .conftest import BUMP, HYPOTHESIS_SCALE


def run(capsys, *argv):
    start = time.perf_counter()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err, time.perf_counter() - start


def refused(capsys, *argv, fragment: str, within: float = 10.0):
    code, out, err, wall = run(capsys, *argv)
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert fragment in err, err
    assert wall < within, f"took {wall:.1f} s"
    return err


@pytest.mark.parametrize(
    "rho, fragment",
    [
        ("-" * 1500 + "t", "nests deeper than"),
        ("(" * 60 + "t" + ")" * 60, "nests deeper than"),
        ("t*((9**999)**999)**999", "outside float64's range"),
        ("exp(-t)*9**-999", "outside float64's range"),
        ("exp(-t)*" + "9" * 400, "overflows float64"),
        ("exp(-t)*1e300*1e300", "overflows float64"),
        ("exp(1000)*exp(-t)", "overflows float64"),
        ("exp(-ｔ)", "only ASCII characters"),
        ("exp(-t)·2", "only ASCII characters"),
        ("t**1001", "larger than 1000"),
        ("gamma(t+1)", "not finite on [0, oo)"),  # rho^2 overflows float64 at t ~ 170 (found by the fuzz test below)
        ("t**sqrt(-pi)", "not a real number"),  # the next two found by the fuzz tests below
        ("\x00", "null byte"),  # a ValueError, not a SyntaxError, from ast.parse on some Python 3.11 builds
        ("1/sin(1E20)", "not square-integrable"),  # 10^20 is an integer past int64, which NumPy's sin refused (fuzz)
    ],
)
def test_hostile_formulas_are_refused_in_one_line(capsys, rho, fragment):
    refused(capsys, "loss", "--rho=" + rho, "--a0", "1", "--w0", "1", fragment=fragment)


def test_a_derivation_over_its_budget_falls_back_to_quadrature(capsys, monkeypatch):
    """Eight nested sines: SymPy would grind for minutes; the budget hands the term to quadrature."""
    from memdyn.core import symbolic

    monkeypatch.setattr(symbolic, "SYMPY_SECONDS", 2.0)
    symbolic._derive_cached.cache_clear()
    start = time.perf_counter()
    code, out, err, _ = run(capsys, "derive", "--rho", "exp(-t)*sin(sin(sin(sin(sin(sin(sin(sin(t))))))))", "--json")
    wall = time.perf_counter() - start
    assert code == 0, err
    assert "quadrature" in out and "no answer in" in out
    assert wall < 30
    symbolic._derive_cached.cache_clear()


def test_the_budget_holds_in_a_worker_thread(monkeypatch):
    """Signals reach only the main thread: from a worker, the derivation runs in a child process
    that is killed at the deadline, and the terms go to quadrature."""
    import threading

    from memdyn.core import symbolic

    monkeypatch.setattr(symbolic, "SYMPY_SECONDS", 2.0)
    kernel = parse_kernel("exp(-t)*sin(sin(sin(sin(sin(sin(sin(sin(t))))))))")
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("d", symbolic._derive_uncached(kernel)))
    start = time.perf_counter()
    worker.start()
    worker.join(120)
    wall = time.perf_counter() - start
    assert not worker.is_alive()
    assert [tt.method for tt in out["d"].terms] == ["quadrature"]
    assert "no answer in 2 s" in out["d"].terms[0].note
    assert wall < 2.0 + symbolic._CHILD_START_SECONDS


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (
            [
                "flow",
                "--rho",
                "exp(-t)",
                "--a0",
                ",".join(["0.1"] * 20000),
                "--w0",
                ",".join(["1"] * 20000),
                "--delta",
                "0.1",
            ],
            "width 20000",
        ),
        (
            [
                "sweep",
                "--rho",
                BUMP,
                "--sweep",
                "mu=8,9",
                "--init",
                "random",
                "--m",
                "4000",
                "--seeds",
                "4000",
                "--delta",
                "0.01",
            ],
            "--m",
        ),
        (["train", "--rho", "exp(-t)", "--width", "5000", "--samples", "100000", "--epochs", "10"], "GB"),
        (["train", "--rho", "exp(-t)", "--epochs", "1000000000"], "--epochs"),
    ],
)
def test_sizes_beyond_the_machine_are_refused_before_work(capsys, argv, fragment):
    refused(capsys, *argv, fragment=fragment, within=20.0)


@pytest.mark.parametrize("command", [["reproduce", "--quick"], ["bench", "--quick"]])
def test_unwritable_output_folders_are_refused_before_computing(capsys, tmp_path, command):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    refused(capsys, *command, "--out", str(blocker / "sub"), fragment="--out", within=5.0)
    refused(capsys, *command, "--out", "/proc/memdyn/x", fragment="--out", within=5.0)
    assert not (blocker.parent / "sub").exists()


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["sharp", "--rho", BUMP, "--sweep", "mu=10", "--a0", "1,1", "--w0", "1,0.5", "--delta", "0.01"], "--a0"),
        (
            [
                "flow",
                "--rho",
                BUMP,
                "--param",
                "mu=8",
                "--a0",
                "1,0",
                "--w0",
                "1,0.5",
                "--delta",
                "0.01",
                "--param-map",
                "best",
                "--t1",
                "10",
            ],
            None,
        ),
        (["train", "--rho", "exp(-t)", "--activation", "relu"], "--activation"),
        (["train", "--rho", "exp(-t)", "--init", "xavier"], "--init"),
        (["train", "--rho", "exp(-t)", "--init", "relu-orthogonal", "--recurrence", "diagonal"], "--init"),
        (["train", "--rho", "exp(-t)", "--epochs", "5", "--checkpoint", "/nonexistent-folder/run.npz"], "--checkpoint"),
        (["train", "--rho", "exp(-t)", "--epochs", "5", "--checkpoint", "/"], "--checkpoint"),
        (["derive", "--rho", "exp(-t)", "--m", "9"], "--m"),
        (["infer", "--points", "10:14,11"], "--points"),
        (["infer", "--points", "10:-3"], "--points"),
        (["infer", "--figure", "fig2", "--points", "10:14"], "--points"),
        (["infer", "--points", "10:14", "--sigma", "0,1"], "--sigma"),
        (["infer", "--points", "10:14", "--m", "40"], "--m"),
        (["infer", "--figure", "fig3", "--null-min", "2.5"], "--null-min"),
        (["infer", "--figure", "fig3", "--drop", "11"], "--drop"),
        (["infer", "--figure", "fig2", "--drop", "10,11,12,13,14,15"], "--drop"),
        (["infer", "--points", "10:14", "--drop", "10"], "--drop"),
        (["infer", "--points", "10:14", "--amplitude", "-1"], "--amplitude"),
        (["infer", "--points", "10:14", "--param-normalisation", "0"], "--param-normalisation"),
    ],
)
def test_library_errors_reach_the_cli_as_one_line(capsys, argv, fragment):
    code, out, err, _ = run(capsys, *argv)
    assert "Traceback" not in err
    if fragment is None:  # not an error: the reparameterised flow answers within --t1 10
        assert code == 0 and err == "" and "status       = ok" in out, err
    else:
        assert code == 2 and err.count("\n") == 1 and fragment in err, err


# --- properties --------------------------------------------------------------------------------
CANARY = Path(os.environ.get("TMPDIR", "/tmp")) / "memdyn-canary"

_atoms = st.sampled_from(["t", "pi", "E", "1", "2.5", "0", "1e300", "9", "mu", "__import__", "os", "x"])
_unary = st.sampled_from(
    ["-", "+", "exp", "sin", "sqrt", "log", "abs", "gamma", "airyai", "erfc", "open", "__import__", "eval", "lambda: "]
)
_binary = st.sampled_from(["+", "-", "*", "/", "**", "^", ".", ",", "%", "//", "@", " if ", "and"])


def _trees():
    return st.recursive(
        _atoms,
        lambda inner: st.one_of(
            st.tuples(_unary, inner).map(
                lambda u: f"{u[0]}({u[1]})" if u[0][0].isalpha() or u[0][0] == "_" else f"{u[0]}{u[1]}"
            ),
            st.tuples(inner, _binary, inner).map(lambda b: f"({b[0]}{b[1]}{b[2]})"),
        ),
        max_leaves=40,
    )


_hostile = [
    f"__import__('os').system('touch {CANARY}')",
    f"open('{CANARY}', 'w')",
    f"(lambda: open('{CANARY}', 'w'))()",
    "t.__class__",
    "[t for t in ()]",
    "{}",
    "t[0]",
    "exp(x=1)",
]


@settings(max_examples=300 * HYPOTHESIS_SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_trees(), st.text(max_size=200), st.sampled_from(_hostile)))
def test_the_parser_never_fails_otherwise_nor_runs_code(formula):
    start = time.perf_counter()
    try:
        kernel = parse_kernel(formula, {"mu": 1.0})
    except InputError as err:
        assert err.argument in ("rho", "param mu")
    else:
        assert kernel.expr is not None
    assert time.perf_counter() - start < 5.0
    assert not CANARY.exists()


@settings(
    max_examples=25 * HYPOTHESIS_SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.one_of(st.text(max_size=60), st.sampled_from(_hostile), _trees()))
def test_the_cli_answers_any_string_in_one_line(capsys, formula):
    from memdyn.core import symbolic

    budget, symbolic.SYMPY_SECONDS = symbolic.SYMPY_SECONDS, 2.0
    try:
        code, out, err, wall = run(capsys, "derive", "--rho=" + formula, "--param", "mu=1", "--json")
    finally:
        symbolic.SYMPY_SECONDS = budget
    assert code in (0, 2)
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1 and out == ""
    assert not CANARY.exists()
    assert wall < 60


def test_a_kernel_too_fast_to_resolve_is_refused_in_a_second_not_hours():
    """The quadrature's bisection is capped: sin(10^4 t) e^-t (6.7 million nodes) is refused after MAX_SPLITS
    panel tests, where the uncapped rule took 76 s and sin(10^20 t) never ended (found by the fuzz test);
    sin(1000 t) e^-t still resolves: its integral 1000 / (1 + 1000^2) to 1e-11 of int |rho| ~ 2/pi (the error is
    measured at 4e-12 of it: 53,000 panels, each accepted at 1e-14)."""
    from memdyn.core.quadrature import Unresolved, adapted_rule

    start = time.perf_counter()
    with pytest.raises(Unresolved, match="rho varies too fast to integrate"):
        adapted_rule([lambda t: np.sin(1e4 * t) * np.exp(-t)])
    assert time.perf_counter() - start < 10.0
    rule = adapted_rule([lambda t: np.sin(1e3 * t) * np.exp(-t)])
    got = np.sum(rule.weights * np.sin(1e3 * rule.t) * np.exp(-rule.t))
    assert abs(got - 1e3 / (1 + 1e6)) < 1e-11 * (2 / np.pi)


def test_a_closed_pipe_ends_the_cli_quietly():
    """``memdyn ... | head``: the reader leaves first; no BrokenPipeError traceback, SIGPIPE's status 141."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "memdyn.cli", "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == 141, stderr
    assert stderr == ""


def test_a_canary_is_a_real_check():
    """The canary test would see code that ran: the same payload, executed, creates the file."""
    try:
        subprocess.run([sys.executable, "-c", _hostile[0]], check=True)
        assert CANARY.exists()
    finally:
        CANARY.unlink(missing_ok=True)


def test_ctrl_c_ends_a_long_command_in_seconds_and_leaves_nothing(tmp_path):
    """SIGINT in the middle of reproduce's compiled solves: one line, exit 130 within a few seconds,
    no output folder and no temporary folder left behind."""
    import signal

    out = tmp_path / "report"
    proc = subprocess.Popen(
        [sys.executable, "-m", "memdyn.cli", "reproduce", "--quick", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MEMDYN_CACHE": "off"},
    )
    deadline = time.monotonic() + 120
    while not out.exists() and time.monotonic() < deadline:  # the folder is made (and checked) first
        time.sleep(0.2)
    time.sleep(8.0)  # well inside the first section's trace and compile
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    waited = time.monotonic() - sent
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["memdyn reproduce: interrupted"], stderr
    assert "Traceback" not in stderr and stdout == ""
    assert waited < 5.0, f"took {waited:.1f} s to stop"
    assert not out.exists()
    assert not list(tmp_path.iterdir())


_GC_INTERRUPT = """
import gc, sys, time
from memdyn.cli.interrupt import InterruptWatcher

fired = []

def callback(phase, info):  # what JAX's _xla_gc_callback meets when Ctrl-C lands inside it
    if not fired:
        fired.append(phase)
        raise KeyboardInterrupt

gc.callbacks.append(callback)
watcher = InterruptWatcher("test", lambda: None) if sys.argv[1] == "watched" else None
try:
    gc.collect()
    for _ in range(2000):
        time.sleep(0.001)
    print("ran on")
except KeyboardInterrupt:
    print("interrupted")
finally:
    if watcher is not None:
        watcher.stop()
print(sys.unraisablehook is sys.__unraisablehook__)
"""


@pytest.mark.parametrize("mode", ["watched", "bare"])
def test_ctrl_c_inside_a_gc_callback_still_interrupts_quietly(mode):
    """An interrupt raised inside a garbage-collector callback cannot propagate: bare Python prints
    'Exception ignored in ...' with a traceback and runs on (it happens with JAX's gc callback during
    the Ctrl-C test above). Under the watcher it is delivered again, silently, as an ordinary
    KeyboardInterrupt; and stop() puts the previous hook back."""
    proc = subprocess.run([sys.executable, "-c", _GC_INTERRUPT, mode], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    if mode == "watched":
        assert proc.stdout.split() == ["interrupted", "True"]
        assert proc.stderr == ""
    else:
        assert proc.stdout.split() == ["ran", "on", "True"]
        assert "Exception ignored" in proc.stderr and "KeyboardInterrupt" in proc.stderr


def test_train_noise_flag(capsys):
    """--noise unit is the Brownian run's loss times dt at lr x 1/dt (the same iterates); a bad value is one line."""
    argv = ["train", "--rho", "exp(-t)*(1+sin(t))", "--width", "3", "--samples", "inf", "--epochs", "50", "--json"]
    code, out, _, _ = run(capsys, *argv, "--lr", "0.01")
    brownian = json.loads(out)
    code2, out2, _, _ = run(capsys, *argv, "--lr", "0.1", "--noise", "unit")
    unit = json.loads(out2)
    assert code == code2 == 0 and unit["spec"]["noise"] == "unit"
    assert np.allclose(unit["loss"], 0.1 * np.asarray(brownian["loss"]), rtol=1e-10)
    refused(capsys, "train", "--rho", "exp(-t)", "--noise", "pink", fragment="--noise")


SIGNALLED_SWEEP = "mu=6:18:0.5"
"""25 memories, one chunk each: long enough to be stopped mid-way, short enough to finish again quickly."""
SIGNALLED_VALUES = parse_range(SIGNALLED_SWEEP)[1]


@pytest.fixture(scope="module")
def uninterrupted():
    """The signalled sweep run whole, in this process."""
    return memdyn.sweep(BUMP, "mu", SIGNALLED_VALUES, a0=[1.0, 0.0], w0=[1.0, 0.5], delta=0.01, chunk=1)


@pytest.mark.parametrize(
    "signame, status, word",
    [("SIGTERM", 143, "terminated"), ("SIGHUP", 129, "hung up"), ("SIGKILL", -9, None)],
)
def test_a_signalled_sweep_keeps_its_finished_chunks_and_resumes_to_the_uninterrupted_answer(
    tmp_path, uninterrupted, signame, status, word
):
    """A scheduler's SIGTERM (or a closed terminal's SIGHUP) mid-sweep ends it like Ctrl-C: one line, exit
    128 + the signal's number, no traceback. After any of those or a SIGKILL, the chunks finished so far stay
    in --out, the same command resumes from them, and its table equals an uninterrupted run's to the last bit.
    (The slow step holds the same for an eight-chunk sweep killed after its first chunk.)"""
    import signal

    out = tmp_path / "sweep"
    argv = [
        sys.executable,
        "-m",
        "memdyn.cli",
        "sweep",
        "--rho",
        BUMP,
        "--sweep",
        SIGNALLED_SWEEP,
        "--a0",
        "1,0",
        "--w0",
        "1,0.5",
        "--delta",
        "0.01",
        "--chunk",
        "1",
        "--out",
        str(out),
        "--json",
    ]
    env = dict(os.environ)  # the suite's caches: the solve is usually compiled already
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len(list(out.glob("chunk-*.npz"))) < 2:
        time.sleep(0.01)
    proc.send_signal(getattr(signal, signame))
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == status, stderr
    if word is not None:
        assert stderr.strip().splitlines()[-1] == f"memdyn sweep: {word}" and "Traceback" not in stderr
    assert stdout == ""
    kept = len(list(out.glob("chunk-*.npz")))
    n = len(SIGNALLED_VALUES)
    assert 2 <= kept < n  # what finished is kept, and the sweep was not done
    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"{kept} of {n} chunks already done" in again.stderr
    resumed = json.loads(again.stdout)
    assert resumed["status"] == ["ok"] * n
    for key in ("tau_param", "tau_loss", "steps"):
        assert resumed[key] == getattr(uninterrupted, key).tolist(), key


def test_a_bounded_kernel_without_a_limit_at_zero_is_refused_in_one_line(capsys):
    """exp(-t)*sin(1/t) is bounded and square-integrable, but oscillates without limit at t = 0: the rule
    cannot integrate it to float64 accuracy (its loss would be off in the fifth digit, against mpmath's
    0.4710208755988), so it is refused with exit 2 and the reason, never an internal error."""
    code = main(["flow", "--rho", "exp(-t)*sin(1/t)", "--a0", "1", "--w0", "1", "--delta", "0.1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("memdyn flow: error: --rho: rho oscillates without limit near t = 0")


def test_a_jump_is_still_integrated(capsys):
    """The refusal above is not a refusal of discontinuities: a step leaves about 1e-8 of its integral
    in unresolved panels, under the 1e-7 allowed. Reference: e^-2t on [3, oo) and the closed forms."""
    import math

    code = main(["loss", "--rho", "heaviside(t-3)*exp(-t)", "--a0", "1", "--w0", "1", "--json"])
    got = json.loads(capsys.readouterr().out)["loss"]
    # J = 1/2 - 2 int_3^oo e^-2t dt + int_3^oo e^-2t dt = 1/2 - e^-6/2
    assert code == 0 and got == pytest.approx(0.5 - math.exp(-6) / 2, rel=1e-10)  # achieved: 2.3e-11
