"""memdyn: the curse of memory in recurrent networks as a dynamical system.

The front door. Each command of the ``memdyn`` command line is a function here with the same
option names and defaults (``memdyn.api``): ``evaluate`` (``memdyn loss``), ``flow``,
``sweep``, ``sharp``, ``approximate`` (``approx``), ``describe`` (``derive``),
``train``, ``infer``, ``bench``, ``reproduce``, ``cache_info`` and
``clear_cache`` (``cache``). Beneath them, the pipeline's stages for those who compose their own:
``target`` (parse, derive, lower), ``loss``, ``gradient``, ``hessian``,
``hitting_times``, ``trajectory``, ``run_sweep``.

Importing memdyn changes nothing in the host process: JAX's x64 flag, JAX's compilation cache and
matplotlib's backend stay as they were. memdyn's functions compute in float64 within their own
calls (``memdyn.core.jaxsetup``); ``use_compilation_cache`` opts in to JAX's persistent
compilation cache in memdyn's folder.

The package, by layer (imports go one way, checked by ``tests/test_architecture.py``):
``core`` (the pipeline) < ``theory``, ``rnn`` < ``studies`` < ``api`` < ``cli``; ``plots`` and
``errors`` import nothing of memdyn's. Names are imported on first use (PEP 562), so that
``import memdyn`` costs little.
"""

from __future__ import annotations

import importlib
from typing import Any

from .version import __version__ as __version__

_EXPORTS = {
    "api": (
        "approximate",
        "bench",
        "cache_info",
        "clear_cache",
        "describe",
        "distributed",
        "evaluate",
        "flow",
        "infer",
        "reproduce",
        "sharp",
        "sweep",
        "train",
    ),
    "core.cache": ("use_compilation_cache",),
    "core.formula": ("Kernel", "parse_kernel"),
    "core.integrate": ("DEFAULT_T1", "FlowResult", "SolverConfig", "hitting_times", "trajectory"),
    "core.limits": ("MAX_T1",),
    "core.loss": ("gradient", "hessian", "loss"),
    "core.lowering": ("KernelData", "Target", "lower"),
    "core.pipeline": ("target",),
    "core.reparam": ("mapped",),
    "core.solvers": ("SOLVERS",),
    "core.starts": ("on_invariant_set", "random_bounded"),
    "core.status": ("SolveError", "Status"),
    "core.sweep": ("SweepResult", "run_sweep"),
    "core.symbolic": ("Derivation", "derive"),
    "errors": ("InputError", "MemdynError"),
    "rnn.train": ("TrainResult",),
    "theory.approx": ("Approximation",),
    "theory.expfit": ("BestFits",),
    "theory.sharp": ("SharpComparison",),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'memdyn' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
