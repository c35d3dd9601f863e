"""Sweeps over several local devices, tested with two forced CPU devices, and over
several processes through jax.distributed (part 3), tested with two local processes on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from ..conftest import BUMP

SWEEP = [
    "sweep",
    "--rho",
    BUMP,
    "--sweep",
    "mu=6:13:1",
    "--a0",
    "1,0",
    "--w0",
    "1,0.5",
    "--delta",
    "0.01",
    "--chunk",
    "2",
    "--json",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One compilation cache for the module's processes: the solve is compiled once."""
    return str(tmp_path_factory.mktemp("cache"))


@pytest.mark.slow  # two fresh processes, each compiling: 34 s
def test_two_forced_devices_give_the_one_device_hitting_times_on_a_tiny_grid():
    """The default run's version of the test below: one process with two forced CPU devices, four memories
    in chunks of two, solved on one device and split over both; every hitting time, step count and status
    is the same to the last bit."""
    probe = (
        "import json, memdyn\n"
        "memdyn.use_compilation_cache()\n"
        "kw = dict(a0=[1.0, 0.0], w0=[1.0, 0.5], delta=0.01, chunk=2)\n"
        f"runs = {{d: memdyn.sweep({BUMP!r}, 'mu', [6.0, 7.0, 8.0, 9.0], devices=d, **kw) for d in (1, 'all')}}\n"
        "print(json.dumps({str(d): dict(devices=r.devices, tau_param=r.tau_param.tolist(), "
        "tau_loss=r.tau_loss.tolist(), steps=r.steps.tolist(), status=[str(s) for s in r.status]) "
        "for d, r in runs.items()}))"
    )
    # the suite's own caches: the derivation and the one-device solve are usually there already
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout.strip().splitlines()[-1])
    assert runs["1"]["devices"] == 1 and runs["all"]["devices"] == 2
    assert runs["1"]["status"] == ["ok"] * 4
    for key in ("tau_param", "tau_loss", "steps", "status"):
        assert runs["all"][key] == runs["1"][key], key


@pytest.mark.slow  # three processes, each loading the solve: about a minute on 2 cores
def test_two_forced_devices_give_the_one_device_hitting_times(cache):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "MEMDYN_CACHE_DIR": cache}
    runs = {}
    for devices in ("1", "all"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "memdyn",
                "sweep",
                "--rho",
                BUMP,
                "--sweep",
                "mu=6:13:1",
                "--a0",
                "1,0",
                "--w0",
                "1,0.5",
                "--delta",
                "0.01",
                "--chunk",
                "2",
                "--devices",
                devices,
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        runs[devices] = json.loads(done.stdout)
    assert runs["1"]["devices"] == 1 and runs["all"]["devices"] == 2
    for key in ("tau_param", "tau_loss", "steps", "status", "values"):
        assert runs["all"][key] == runs["1"][key]
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "memdyn",
            "sweep",
            "--rho",
            BUMP,
            "--sweep",
            "mu=6",
            "--a0",
            "1,0",
            "--w0",
            "1,0.5",
            "--delta",
            "0.01",
            "--devices",
            "3",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "memdyn sweep: error: --devices: must be 1..2 (the local cpu devices), got 3"
    )


@pytest.mark.slow  # three processes: about a minute on 2 cores
def test_two_local_processes_give_the_one_process_table(cache, tmp_path):
    env = {**os.environ, "MEMDYN_CACHE_DIR": cache}
    env.pop("XLA_FLAGS", None)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = [
        sys.executable,
        "-m",
        "memdyn",
        *SWEEP,
        "--out",
        str(tmp_path / "shared"),
        "--coordinator",
        f"127.0.0.1:{port}",
        "--processes",
        "2",
        "--process-id",
    ]
    procs = [
        subprocess.Popen([*argv, str(i)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in (1, 0)
    ]
    (out1, err1), (out0, err0) = (p.communicate(timeout=600) for p in procs)
    assert procs[1].returncode == 0 and procs[0].returncode == 0, err0 + err1
    assert out1 == "" and "process 1 of 2 done" in err1
    single = subprocess.run(
        [sys.executable, "-m", "memdyn", *SWEEP], env=env, capture_output=True, text=True, timeout=600
    )
    gathered, alone = json.loads(out0), json.loads(single.stdout)
    for key in ("values", "tau_param", "tau_loss", "steps", "status"):
        assert gathered[key] == alone[key]
    assert json.loads((tmp_path / "shared" / "results.json").read_text())["tau_loss"] == alone["tau_loss"]


@pytest.mark.slow  # one process, the m = 2 solve on each of two forced devices: about 30 s on 2 cores
def test_bench_measures_throughput_against_the_number_of_devices(cache):
    """memdyn bench's device table: a row per device count, hitting times equal to one device's."""
    probe = (
        "import json; from memdyn.studies.bench import device_scaling; "
        "print(json.dumps(device_scaling(elements={2: 8})))"
    )
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "MEMDYN_CACHE_DIR": cache}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    table = json.loads(done.stdout.strip().splitlines()[-1])
    assert table["available"] == 2 and [r["devices"] for r in table["rows"]] == [1, 2]
    for row in table["rows"]:
        assert row["all_ok"] and row["equal_to_one_device"] and row["chunk"] == 4
        assert row["trajectories_per_s"] == pytest.approx(8 / row["run_s"])
