"""Time the README's two set-up commands as a new user meets them: each in a fresh clone of HEAD, a clean
environment (no inherited variables, a new HOME) and empty caches, install included.

The commands are read from the README's "Set-up: two commands" section, so what is timed is what the
README says. Writes ``results/setup.json`` (the README quotes it; ``tests/studies/test_bench.py``
checks the quote). Run: ``python research/time_setup.py`` (about 15 minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_commands(readme: str) -> tuple[str, str]:
    """The (main job, tests) commands: the ``python3 -m venv`` lines of the README's set-up section."""
    section = readme.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    commands = [line for line in section.splitlines() if line.startswith("python3 -m venv")]
    if len(commands) != 2:
        raise SystemExit(f"expected two set-up commands in the README, found {len(commands)}")
    return commands[0], commands[1]


def timed(command: str, tmp: Path, name: str) -> tuple[float, str]:
    clone = tmp / name
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp / f"{name}-home"),
        "MEMDYN_CACHE_DIR": str(tmp / f"{name}-cache"),
    }
    start = time.perf_counter()
    proc = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{name}: exit {proc.returncode}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return seconds, proc.stdout


def main() -> None:
    main_job, tests = setup_commands((ROOT / "README.md").read_text())
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        main_s, _ = timed(main_job, Path(tmp), "main")
        tests_s, log = timed(tests, Path(tmp), "tests")
    summary = re.search(r"=+ ([^=\n]*\d+ passed[^=\n]*) in ([\d.]+)s", log)
    if summary is None:
        raise SystemExit("no pytest summary line in the test command's output")
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary[1])}  # passed, skipped, ...
    if counts.get("failed") or counts.get("errors") or counts.get("error"):
        raise SystemExit(f"the test command did not pass: {summary[1]}")
    out = {
        "commit": commit,
        "main_job": main_job,
        "main_job_s": main_s,
        "tests": tests,
        "tests_s": tests_s,
        "tests_passed": counts["passed"],
        "tests_skipped": counts.get("skipped", 0),
        "tests_deselected": counts.get("deselected", 0),
        "pytest_s": float(summary[2]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    (Path(__file__).parent / "results" / "setup.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
