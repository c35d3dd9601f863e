"""memdyn's persistent caches: what a fresh process can reuse instead of deriving, tracing, compiling.

Three kinds, all under one folder (``cache_dir``: ``$MEMDYN_CACHE_DIR``, else
``$XDG_CACHE_HOME/memdyn``, else ``~/.cache/memdyn``), all on by default (``MEMDYN_CACHE=off``, or
``disable``, turns them off):

* ``xla/``: JAX's own persistent compilation cache (compiled executables). JAX's cache settings
  are the user's: memdyn points them here only from the command line or when asked to, with
  ``use_compilation_cache`` (``memdyn.use_compilation_cache()``), never on import;
* ``derivations/``: each formula's SymPy derivation, as JSON read back by memdyn's own expression
  parser (``memdyn.core.serial``), never by ``eval`` or pickle;
* ``solves/``: traced hitting-time solves, serialised by ``jax.export`` (StableHLO), keyed by the
  derivation, the shapes, the static solver settings and the versions of memdyn, jax, jaxlib and
  diffrax; a warm call neither traces nor (with ``xla/``) compiles.

Entries are written atomically (a temporary file, then ``os.replace``), so two processes filling
the cache at once never leave a half-written entry, and each carries a SHA-256 of its payload: a
corrupt or truncated entry is detected, removed and rebuilt. Any fault of the cache itself (an
unwritable folder, a full disk, a corrupt entry) is reported once on stderr and the computation goes
on without it: the cache can cost time, never a wrong number or a crash.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .files import replace_atomically

_MAGIC = b"memdyn-cache-1\n"
_KINDS = ("xla", "derivations", "solves")
_state = {"disabled": None, "warned": set(), "jax_configured": False}


def cache_dir() -> Path:
    """The cache folder (not created here)."""
    explicit = os.environ.get("MEMDYN_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "memdyn"


def enabled() -> bool:
    """Whether the caches are on (``MEMDYN_CACHE`` = 0/off/false/no turns them off)."""
    if _state["disabled"] is not None:
        return not _state["disabled"]
    return os.environ.get("MEMDYN_CACHE", "on").strip().lower() not in ("0", "off", "false", "no")


def disable() -> None:
    """Turn the caches off for this process (JAX's compilation cache too, if memdyn turned it on)."""
    _state["disabled"] = True
    if _state["jax_configured"] == "on":
        import jax

        jax.config.update("jax_enable_compilation_cache", False)


def warn_once(category: str, message: str) -> None:
    """One line on stderr per kind of problem (``category``) and process, then silence."""
    if category not in _state["warned"]:
        _state["warned"].add(category)
        print(f"memdyn: warning: {message}; going on without it", file=sys.stderr)


def _folder_fault(folder: Path, err: OSError) -> None:
    """The cache folder cannot be used: say so once, and stop using it in this process."""
    warn_once("folder", f"the cache folder {folder} cannot be used ({err.strerror or err})")
    _state["disabled"] = True


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
        return True
    except OSError as err:
        _folder_fault(folder, err)
        return False


def use_compilation_cache() -> bool:
    """Point JAX's persistent compilation cache at memdyn's ``xla/`` folder, so that a later process
    reuses the compiled solves instead of compiling them again (seconds each on 2 cores).

    This changes JAX's process-wide settings, so memdyn does it only when asked: the command line
    calls it at start, a Python user may call it once before computing. It does nothing when the
    caches are off or when JAX already has a cache folder of the user's. Returns whether JAX's
    cache now points at memdyn's folder.

    Example:
        >>> import memdyn
        >>> memdyn.use_compilation_cache()  # doctest: +SKIP
        True
    """
    if _state["jax_configured"] or not enabled():
        return _state["jax_configured"] == "on"
    _state["jax_configured"] = "skipped"
    import jax

    if jax.config.jax_compilation_cache_dir:
        return False
    folder = cache_dir() / "xla"
    if not _writable(folder):
        return False
    _state["jax_configured"] = "on"
    jax.config.update("jax_compilation_cache_dir", str(folder))
    # Every compile of a solve is worth keeping: the smallest take seconds on 2 cores.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return True


def key_of(*parts) -> str:
    """A stable hex key for JSON-able parts."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:40]


def load(kind: str, key: str) -> bytes | None:
    """The payload stored under (kind, key), or None if absent, disabled or corrupt (then removed)."""
    if not enabled():
        return None
    path = cache_dir() / kind / key
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        _folder_fault(path.parent, err)
        return None
    digest, payload = raw[len(_MAGIC) : len(_MAGIC) + 64], raw[len(_MAGIC) + 64 :]
    if not raw.startswith(_MAGIC) or hashlib.sha256(payload).hexdigest().encode() != digest:
        warn_once("corrupt", f"a corrupt cache entry was found and removed ({path.name} in {kind})")
        try:
            path.unlink()
        except OSError:
            pass
        return None
    return payload


def store(kind: str, key: str, payload: bytes) -> None:
    """Store ``payload`` atomically; a failure (unwritable folder, full disk) only warns once."""
    if not enabled():
        return
    folder = cache_dir() / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
        replace_atomically(
            folder / key, lambda tmp: tmp.write_bytes(_MAGIC + hashlib.sha256(payload).hexdigest().encode() + payload)
        )
    except OSError as err:
        _folder_fault(folder, err)


def info() -> dict:
    """Where the cache is, whether it is on, and the entries and bytes of each kind."""
    root = cache_dir()
    kinds = {}
    for kind in _KINDS:
        files = [p for p in (root / kind).rglob("*") if p.is_file()] if (root / kind).is_dir() else []
        kinds[kind] = {"entries": len(files), "bytes": sum(p.stat().st_size for p in files)}
    return {"path": str(root), "enabled": enabled(), "kinds": kinds, "bytes": sum(k["bytes"] for k in kinds.values())}


def clear() -> dict:
    """Remove every entry of every kind; returns what ``info`` said before."""
    before = info()
    root = cache_dir()
    for kind in _KINDS:
        shutil.rmtree(root / kind, ignore_errors=True)
    return before


__all__ = [
    "cache_dir",
    "enabled",
    "disable",
    "use_compilation_cache",
    "key_of",
    "load",
    "store",
    "info",
    "clear",
    "warn_once",
]
