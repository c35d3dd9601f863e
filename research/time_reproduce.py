"""Time `memdyn reproduce --quick` end to end in fresh processes, with empty caches and then warm.

Writes ``results/reproduce.json`` (the README quotes it; ``tests/studies/test_bench.py``
checks the quote). Run: ``python research/time_reproduce.py`` (about 7 minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MEMDYN_CACHE_DIR": str(Path(tmp) / "cache"), "MEMDYN_CACHE": "on"}
        for kind in ("cold", "warm"):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "memdyn.cli", "reproduce", "--quick", "--out", str(Path(tmp) / kind)],
                env=env,
                check=True,
                capture_output=True,
            )
            out[f"{kind}_s"] = time.perf_counter() - start
            timing = json.loads((Path(tmp) / kind / "results.json").read_text())["timing_s"]
            out[f"{kind}_sections_s"] = timing
    out["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    (Path(__file__).parent / "results" / "reproduce.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
