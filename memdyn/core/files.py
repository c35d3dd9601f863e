"""Files memdyn writes: output folders checked before any computing and filled atomically after
it, and single files replaced atomically (the one helper every writer uses: caches, sweep chunks,
training checkpoints, reports).

A command that writes (``reproduce``, ``bench``) calls ``prepare_output`` first, so that a
folder that cannot be created or written is refused in one line before minutes of work, and
``write_atomically`` last: every file is written into a hidden temporary folder inside the
output folder and moved into place only when all of them are complete, so an interrupted or failed
run leaves the folder as it was (no partial report beside an old results.json).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from ..errors import InputError

_PARTIAL: list[Path] = []
"""Folders this run made and has not completed (created output folders, temporary folders)."""


def prepare_output(path: str | os.PathLike, argument: str = "out") -> Path:
    """Create ``path`` if needed and check that files can be written there; returns it.

    Raises InputError naming ``argument`` when it exists as a file, cannot be created, or is not
    writable. A folder this call created is left in place (empty) for the run to fill.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError(argument, f"{out} exists and is not a folder")
    missing = [p for p in [out, *out.parents] if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".memdyn-write-check-"):
            pass
    except OSError as err:
        for p in missing:  # leave nothing behind
            shutil.rmtree(p, ignore_errors=True)
        raise InputError(argument, f"cannot write to {out}: {err.strerror or err}") from None
    if missing:
        _PARTIAL.append(missing[-1])  # the outermost folder this call created
    return out


def remove_partial() -> None:
    """Remove what an unfinished run made (called when a command fails or is interrupted)."""
    while _PARTIAL:
        shutil.rmtree(_PARTIAL.pop(), ignore_errors=True)


def write_atomically(out: Path, writers: Mapping[str, Callable[[Path], None]]) -> list[str]:
    """Call ``writers[name](path)`` for each file in a temporary folder inside ``out``, then move
    every file into ``out``; nothing is moved unless all writers succeeded. Returns the names."""
    out = Path(out)
    with tempfile.TemporaryDirectory(dir=out, prefix=".partial-") as tmp:
        _PARTIAL.append(Path(tmp))
        for name, write in writers.items():
            write(Path(tmp) / name)
        for name in writers:
            os.replace(Path(tmp) / name, out / name)
    _PARTIAL.clear()  # complete: the output folder stays, the temporary one is gone
    return list(writers)


def replace_atomically(path: str | os.PathLike, write: Callable[[Path], None], *, suffix: str = "") -> None:
    """Write one file: ``write(tmp)`` fills a temporary file beside ``path`` (same folder, so the
    rename is atomic; ``suffix`` is its ending, for writers that insist on one such as ``.npz``), which
    then replaces ``path``. A failure or a kill leaves ``path`` as it was and no temporary file
    behind (a kill mid-write leaves a hidden ``.tmp`` file, never a partial ``path``)."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{suffix}")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


__all__ = ["prepare_output", "remove_partial", "write_atomically", "replace_atomically"]
