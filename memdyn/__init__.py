"""memdyn: the curse of memory in recurrent networks as a dynamical system.

Stages (data flows one way): :mod:`~memdyn.formula` (parse rho(t)) -> :mod:`~memdyn.symbolic`
(SymPy derives the loss templates) -> :mod:`~memdyn.lowering` (JAX) -> :mod:`~memdyn.integrate`
(Diffrax gradient flow, hitting times) -> :mod:`~memdyn.analysis` (fits, comparisons with theory)
-> :mod:`~memdyn.report` (figures, Markdown) -> :mod:`~memdyn.cli`.
"""

from importlib.metadata import PackageNotFoundError, version

from . import _jax  # noqa: F401  (turns on and checks float64 before anything else)
from .api import evaluate as evaluate, flow as flow, target as target
from .errors import InputError as InputError
from .formula import Kernel as Kernel, parse_kernel as parse_kernel
from .integrate import (
    FlowResult as FlowResult,
    SolverConfig as SolverConfig,
    hitting_times as hitting_times,
    trajectory as trajectory,
)
from .loss import gradient as gradient, hessian as hessian, loss as loss
from .lowering import KernelData as KernelData, Target as Target, lower as lower
from .symbolic import Derivation as Derivation, derive as derive

try:
    __version__ = version("memdyn")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"
