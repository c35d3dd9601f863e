"""Resumable sweeps: chunks written atomically to --out, a rerun skips them, the
table equals an uninterrupted run's, a changed argument is refused, a killed run loses one chunk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import memdyn
from memdyn.cli import main
from memdyn.core.sweep import ChunkStore, run_sweep
from memdyn.errors import InputError

from ..conftest import BUMP
from ..faults import fill_the_disk

VALUES = [6.0, 7.0, 8.0, 9.0]
START = np.array([[1.0, 0.0, 1.0, 0.5]])


@pytest.fixture(scope="module")
def bump():
    return memdyn.target(BUMP, {"mu": VALUES})


def test_an_interrupted_sweep_resumes_to_the_uninterrupted_table(bump, tmp_path):
    whole = run_sweep(bump, {}, "mu", VALUES, START, delta=0.01, t1=1e12, chunk=1)

    def stop_after_two(_):
        stop_after_two.calls += 1
        if stop_after_two.calls == 2:
            raise KeyboardInterrupt

    stop_after_two.calls = 0
    with pytest.raises(KeyboardInterrupt):
        run_sweep(
            bump, {}, "mu", VALUES, START, delta=0.01, t1=1e12, chunk=1, out_dir=tmp_path, progress=stop_after_two
        )
    assert sorted(p.name for p in tmp_path.glob("chunk-*")) == ["chunk-000000.npz", "chunk-000001.npz"]
    said = []
    again = run_sweep(
        bump,
        {},
        "mu",
        VALUES,
        START,
        delta=0.01,
        t1=1e12,
        chunk=1,
        out_dir=tmp_path,
        on_resume=lambda done, total: said.append((done, total)),
    )
    assert said == [(2, 4)]
    for key in ("tau_param", "tau_loss", "steps", "loss_final"):
        np.testing.assert_array_equal(again.column(key), whole.column(key))


def test_a_changed_argument_is_refused_not_mixed(bump, tmp_path):
    run_sweep(bump, {}, "mu", VALUES[:2], START, delta=0.01, t1=1e12, chunk=1, out_dir=tmp_path)
    with pytest.raises(InputError, match=r"different sweep \(changed: delta\)"):
        run_sweep(bump, {}, "mu", VALUES[:2], START, delta=0.02, t1=1e12, chunk=1, out_dir=tmp_path)


def test_a_half_written_chunk_is_ignored(tmp_path):
    store = ChunkStore(tmp_path, {"x": 1})
    store.save(0, {"tau": np.arange(3.0)})
    (tmp_path / ".chunk-000001.123.tmp.npz").write_bytes(b"PK\x03\x04 truncated by SIGKILL")
    assert store.done() == [0]
    assert np.array_equal(ChunkStore(tmp_path, {"x": 1}).load(0)["tau"], np.arange(3.0))


@pytest.mark.slow  # three CLI processes
def test_a_sigkilled_cli_sweep_loses_at_most_the_chunk_in_flight(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "MEMDYN_CACHE_DIR": str(tmp_path / "cache")}
    argv = [
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
        "1",
        "--out",
        str(out),
        "--json",
    ]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and not (out / "chunk-000000.npz").exists():
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = sorted(p.name for p in out.glob("chunk-*.npz"))
    assert kept and len(kept) < 8
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{len(kept)} of 8 chunks already done" in done.stderr
    fresh = subprocess.run(argv[:-3] + ["--json"], env=env, capture_output=True, text=True, timeout=300)
    resumed, whole = json.loads(done.stdout), json.loads(fresh.stdout)
    for key in ("values", "tau_param", "tau_loss", "steps", "status"):
        assert resumed[key] == whole[key]
    assert json.loads((out / "results.json").read_text())["tau_loss"] == whole["tau_loss"]
    assert (out / "results.csv").read_text().count("\n") == 9


def test_cli_refuses_a_changed_sweep_in_one_line(tmp_path, capsys):
    base = ["sweep", "--rho", BUMP, "--a0", "1,0", "--w0", "1,0.5", "--delta", "0.01", "--out", str(tmp_path)]
    assert main([*base, "--sweep", "mu=6:7:1"]) == 0
    capsys.readouterr()
    assert main([*base, "--sweep", "mu=6:8:1"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "different sweep" in err and err.count("\n") == 1


@pytest.mark.slow  # compiles a second target's solve (about 35 s on 2 cores)
def test_a_grid_equals_its_slices():
    """--sweep twice: the Cartesian product (first axis outermost) gives each slice's hitting times."""
    rho = "exp(-t) + c*exp(-(t-mu)^2/2)"
    tg = memdyn.target(rho, {"mu": [6.0, 7.0], "c": [0.3, 0.5]})
    grid = run_sweep(tg, {}, "mu", [6.0, 7.0], START, delta=0.01, t1=1e12, grid=[("c", [0.3, 0.5])])
    assert grid.values.tolist() == [6.0, 6.0, 7.0, 7.0] and grid.axes == {"c": [0.3, 0.5, 0.3, 0.5]}
    assert grid.fits() == {"tau_param": None, "tau_loss": None}
    for c in (0.3, 0.5):
        one = run_sweep(tg, {"c": c}, "mu", [6.0, 7.0], START, delta=0.01, t1=1e12)
        mine = [t for t, cc in zip(grid.column("tau_loss"), grid.axes["c"]) if cc == c]
        np.testing.assert_allclose(mine, one.column("tau_loss"), rtol=1e-10)


def test_a_parameter_swept_twice_is_refused(capsys):
    assert (
        main(
            [
                "sweep",
                "--rho",
                BUMP,
                "--sweep",
                "mu=6,7",
                "--sweep",
                "mu=8",
                "--a0",
                "1,0",
                "--w0",
                "1,0.5",
                "--delta",
                "0.01",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "swept twice" in err and err.count("\n") == 1


def test_a_truncated_chunk_and_a_foreign_file_are_solved_again_with_one_warning(tmp_path, capsys):
    """The faults a cluster job's folder meets: a chunk cut short (a full disk, a copy interrupted) and a
    foreign file named like a chunk. The rerun exits 0, says so in one line, and equals an uninterrupted run."""
    argv = [
        "sweep",
        "--rho",
        BUMP,
        "--sweep",
        "mu=6,7,8,9",
        "--a0",
        "1,0",
        "--w0",
        "1,0.5",
        "--delta",
        "0.01",
        "--chunk",
        "1",
        "--json",
    ]
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0
    whole = json.loads(capsys.readouterr().out)
    run = tmp_path / "run"
    assert main([*argv, "--out", str(run)]) == 0
    capsys.readouterr()
    chunk = run / "chunk-000001.npz"
    chunk.write_bytes(chunk.read_bytes()[:100])  # truncated
    (run / "chunk-abc002.npz").write_bytes(b"not a chunk")  # foreign, named like one
    (run / "chunk-000002.npz").write_bytes((tmp_path / "whole" / "chunk-000003.npz").read_bytes())  # another place's
    assert main([*argv, "--out", str(run)]) == 0
    out, err = capsys.readouterr()
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "3 chunk file(s)" in warnings[0] and "solving those chunks again" in warnings[0]
    again = json.loads(out)
    for key in ("tau_param", "tau_loss", "steps", "status", "loss_final"):
        assert again[key] == whole[key], key
    assert ChunkStore(run, json.loads((run / "sweep.json").read_text())["description"]).load(1) is not None


def test_a_chunk_of_another_sweep_is_not_trusted(tmp_path):
    first, second = ChunkStore(tmp_path / "a", {"x": 1}), ChunkStore(tmp_path / "b", {"x": 2})
    first.save(0, {"tau": np.arange(3.0)})
    assert first.load(0) is not None and np.array_equal(first.load(0)["tau"], np.arange(3.0))
    (tmp_path / "b" / "chunk-000000.npz").write_bytes((tmp_path / "a" / "chunk-000000.npz").read_bytes())
    assert second.load(0) is None and second.finished() == {}


def test_a_linked_out_folder_is_followed_and_a_dangling_link_refused(tmp_path, capsys):
    argv = ["sweep", "--rho", BUMP, "--sweep", "mu=6,7", "--a0", "1,0", "--w0", "1,0.5", "--delta", "0.01"]
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert main([*argv, "--out", str(tmp_path / "link")]) == 0
    assert {"results.json", "results.csv", "sweep.json"} <= {p.name for p in (tmp_path / "real").iterdir()}
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    capsys.readouterr()
    assert main([*argv, "--out", str(tmp_path / "dangling")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("memdyn sweep: error: --out: ") and "does not exist" in err[0]
    assert not (tmp_path / "nowhere").exists()


def test_a_full_disk_mid_sweep_is_one_line_and_keeps_what_was_written(tmp_path, capsys, monkeypatch):
    """ENOSPC while a chunk is written: exit 74 with one line, the chunks written before intact (a rerun
    resumes from them), no temporary file left."""
    argv = [
        "sweep",
        "--rho",
        BUMP,
        "--sweep",
        "mu=6,7,8",
        "--a0",
        "1,0",
        "--w0",
        "1,0.5",
        "--delta",
        "0.01",
        "--chunk",
        "1",
        "--out",
        str(tmp_path / "run"),
    ]
    real = fill_the_disk(monkeypatch, np, "savez", when=lambda call, *args: call == 2)  # the second chunk
    assert main(argv) == 74
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write" in err[0] and "No space left on device" in err[0], err
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["chunk-000000.npz", "sweep.json"]
    monkeypatch.setattr(np, "savez", real)
    assert main(argv) == 0
    assert "1 of 3 chunks already done" in capsys.readouterr().err
