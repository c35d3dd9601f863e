"""Sweeps over several local devices (issue 16 part 2), tested with two forced CPU devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ..conftest import BUMP



def test_two_forced_devices_give_the_one_device_hitting_times(tmp_path):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "MEMDYN_CACHE_DIR": str(tmp_path / "cache")}
    runs = {}
    for devices in ("1", "all"):
        done = subprocess.run([sys.executable, "-m", "memdyn", "sweep", "--rho", BUMP, "--sweep", "mu=6:13:1",
                               "--a0", "1,0", "--w0", "1,0.5", "--delta", "0.01", "--chunk", "2",
                               "--devices", devices, "--json"], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        runs[devices] = json.loads(done.stdout)
    assert runs["1"]["devices"] == 1 and runs["all"]["devices"] == 2
    for key in ("tau_param", "tau_loss", "steps", "status", "values"):
        assert runs["all"][key] == runs["1"][key]
    bad = subprocess.run([sys.executable, "-m", "memdyn", "sweep", "--rho", BUMP, "--sweep", "mu=6", "--a0", "1,0",
                          "--w0", "1,0.5", "--delta", "0.01", "--devices", "3"], env=env, capture_output=True,
                         text=True, timeout=600)
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "memdyn sweep: error: --devices: must be 1..2 (the local cpu devices), got 3")
