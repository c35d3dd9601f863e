"""Compare two ``memdyn reproduce`` results.json files leaf by leaf, timings aside.

    python research/compare_results.py OLD/results.json NEW/results.json

Prints how many leaves were compared, and every leaf that differs (numbers exactly, strings as text);
exits 1 if any number differs. Keys whose path names a timing (``timing``, ``*_s``, ``wall``) are skipped.
"""

from __future__ import annotations

import json
import math
import sys


def _timing(path: str) -> bool:
    last = path.rsplit("/", 1)[-1]
    return "timing" in path or last.endswith("_s") or "wall" in last or last == "seconds"


def leaves(old, new, path=""):
    """(path, old, new) for every leaf of ``old``, with None for what ``new`` lacks."""
    if _timing(path):
        return
    if isinstance(old, dict):
        for key, value in old.items():
            yield from leaves(value, new.get(key) if isinstance(new, dict) else None, f"{path}/{key}")
    elif isinstance(old, list):
        for i, value in enumerate(old):
            other = new[i] if isinstance(new, list) and i < len(new) else None
            yield from leaves(value, other, f"{path}[{i}]")
    else:
        yield path, old, new


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def main(argv: list[str]) -> int:
    old, new = (json.loads(open(p).read()) for p in argv[1:3])
    rows = list(leaves(old, new))
    numbers = [r for r in rows if isinstance(r[1], (int, float)) and not same(r[1], r[2])]
    texts = [r for r in rows if not isinstance(r[1], (int, float)) and not same(r[1], r[2])]
    print(f"{len(rows)} leaves compared: {len(numbers)} numbers and {len(texts)} other leaves differ")
    for path, a, b in numbers + texts:
        print(f"  {path}: {str(a)[:80]!s} -> {str(b)[:80]!s}")
    return 1 if numbers else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
