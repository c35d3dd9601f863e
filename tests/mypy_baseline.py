"""Write tests/mypy-baseline.txt from mypy's current errors (run after fixing some: the list may only shrink).

python tests/mypy_baseline.py
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def strip_line(line: str) -> str:
    """``path:line: error: ...`` without the line number, which moves with every edit."""
    path, _, rest = line.partition(":")
    _, _, rest = rest.partition(":")
    return f"{path}:{rest}".strip()


def current() -> set[str]:
    out = subprocess.run([sys.executable, "-m", "mypy", "memdyn"], cwd=ROOT, capture_output=True, text=True)
    return {strip_line(line) for line in out.stdout.splitlines() if ": error:" in line}


if __name__ == "__main__":
    (ROOT / "tests" / "mypy-baseline.txt").write_text("\n".join(sorted(current())) + "\n")
