"""memdyn: the curse of memory in recurrent networks as a dynamical system.

The package, by layer (imports go one way, checked by ``tests/test_architecture.py``):

* :mod:`memdyn.core` -- the pipeline: formula (parse rho(t)) -> symbolic (SymPy derives the loss
  templates) -> lowering (JAX) -> loss -> integrate (Diffrax gradient flow, hitting times) -> sweep;
* :mod:`memdyn.theory` -- spectra and timescales on M*, momentum, sharp escape times, approximation;
* :mod:`memdyn.rnn` -- real discrete RNNs, their training, the bridge to the flow;
* :mod:`memdyn.studies` -- the paper's problems, ``reproduce``, ``bench``, independent references;
* :mod:`memdyn.api` (the functions below), :mod:`memdyn.report` (plots), :mod:`memdyn.cli`.

The names below are the front door. They are imported on first use (PEP 562), so that
``import memdyn`` and the command line pay only for what they use; float64 is turned on (and
checked) before anything is computed.
"""

from __future__ import annotations

import importlib

from .core import precision as _precision  # noqa: F401  (turns on and checks float64 before anything else)
from .version import __version__ as __version__

_EXPORTS = {
    "api": ("approximate", "describe", "evaluate", "flow", "sharp", "sweep", "target", "train"),
    "core.formula": ("Kernel", "parse_kernel"),
    "core.integrate": ("FlowResult", "SolverConfig", "hitting_times", "trajectory"),
    "core.loss": ("gradient", "hessian", "loss"),
    "core.lowering": ("KernelData", "Target", "lower"),
    "core.reparam": ("mapped",),
    "core.starts": ("on_invariant_set", "random_bounded"),
    "core.status": ("Status",),
    "core.sweep": ("SweepResult", "run_sweep"),
    "core.symbolic": ("Derivation", "derive"),
    "errors": ("InputError", "MemdynError"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE) + ["__version__"]


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'memdyn' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
