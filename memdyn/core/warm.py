"""The warm path: a formula's flow from the persistent cache, without importing SymPy.

SymPy costs 0.4 s to import and more to rebuild a derivation, while the flow itself is one cached,
compiled solve (``memdyn.core.integrate``). So when ``memdyn.core.pipeline.target`` has
lowered a formula whose loss is all closed form, it stores a small record (cache kind ``targets``)
keyed by the formula's text, the parameters' names and assumed signs and the environment:

* the derivation's fingerprint (the key of its cached solves),
* the parameters' names and signs,
* rho and ||rho||^2's closed form as expression trees in ``memdyn.core.serial``'s JSON.

A later process given the same text and signs reads the record into a ``WarmTarget``, checks
the values as the full pipeline does (``memdyn.core.params.check_values``), evaluates rho(0)
and ||rho||^2 from the trees with mpmath at 50 digits (a walk over whitelisted nodes, never Python
code; the same arithmetic as the full pipeline's mpmath lambdify) and calls the cached solve. A batch
of ``ARRAY_NORMS_FROM`` values or more goes to the full target, whose float64 path is faster there.
Whatever the record does not cover -- a function the walk does not know, a value where the closed
form is not finite, an export missing for these shapes -- is handed to the full target
(``WarmTarget.lowered``), so an answer never depends on which path gave it (a test holds warm
and cold answers equal to 1e-12).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import cache
from .data import KernelData, on_device
from .limits import ARRAY_NORMS_FROM
from .params import check_values, sign_of

if TYPE_CHECKING:
    from .lowering import Target

_DIGITS = 50
"""Working precision of the closed forms (as ``memdyn.core.lowering.Target.data`` uses)."""


class _Unsupported(Exception):
    """A tree the walk does not evaluate: the full target answers instead."""


def _mp_functions(mp) -> dict:
    """The functions the walk evaluates: those of ``memdyn.core.functions.FUNCTIONS`` with an
    mpmath name (under the name SymPy gives their class, as the stored trees do), and ``experfc``."""
    from .functions import FUNCTIONS

    table = {f.produces: getattr(mp, f.mpmath) for f in FUNCTIONS if f.mpmath is not None and f.produces}
    table["experfc"] = lambda A, z: mp.exp(A) * mp.erfc(z)
    return table


def evaluate(tree, env: Mapping[str, object]):
    """The value of a ``memdyn.core.serial.dump`` tree at ``env`` (symbol name -> mpf), in mpmath.

    Raises _Unsupported for a node outside the table (the caller then asks the full target)."""
    import mpmath as mp

    functions = _mp_functions(mp)
    constants = {"pi": mp.pi, "E": mp.e, "EulerGamma": mp.euler}

    def ev(node):
        tag = node[0]
        if tag == "S":
            if node[1] not in env:
                raise _Unsupported(f"free symbol {node[1]}")
            return env[node[1]]
        if tag == "I":
            return mp.mpf(int(node[1]))
        if tag == "Q":
            return mp.mpf(int(node[1])) / int(node[2])
        if tag == "F":
            return mp.mpf(node[1])
        if tag == "C" and node[1] in constants:
            return +constants[node[1]]
        if tag == "O":
            args = [ev(a) for a in node[2]]
            if node[1] == "Add":
                return mp.fsum(args)
            if node[1] == "Mul":
                return mp.fprod(args)
            if node[1] == "Pow":
                return mp.power(*args)
        if tag == "f" and node[1] in functions:
            return functions[node[1]](*[ev(a) for a in node[2]])
        raise _Unsupported(f"node {node[:2]}")

    return ev(tree)


def _finite_real(x) -> bool:
    import mpmath as mp

    return isinstance(x, mp.mpf) and bool(mp.isfinite(x))


def _signs(params: Mapping[str, float | Sequence[float]]) -> list[tuple[str, str]]:
    return sorted((name, sign_of(list(v) if isinstance(v, (list, tuple)) else [v])) for name, v in params.items())


def _key(rho: str, params: Mapping[str, float | Sequence[float]]) -> str:
    from .integrate import environment

    return cache.key_of("warm-target", environment(), rho, _signs(params))


@dataclass(frozen=True, eq=False)
class WarmTarget:
    """A formula's target read from its record: what a flow needs of a
    ``memdyn.core.lowering.Target`` (fingerprint, coordinates, ``data``), and the full
    target on demand (``lowered``)."""

    source: str
    """The formula's text."""
    fingerprint: str
    param_names: tuple[str, ...]
    param_signs: tuple[str, ...]
    rho: list
    norm2: list

    def internal(self, theta) -> np.ndarray:
        return np.asarray(theta, dtype=float)

    def external(self, theta) -> np.ndarray:
        return np.asarray(theta, dtype=float)

    def lowered(self) -> Target:
        """The full target (parsed, derived and lowered: ``memdyn.core.pipeline.target``'s stages,
        which store this record), for tracing or for what the record lacks."""
        from .formula import parse_kernel
        from .lowering import lower
        from .symbolic import derive

        probe = {"positive": 1.0, "negative": -1.0, "real": [1.0, -1.0]}
        return lower(
            derive(parse_kernel(self.source, {n: probe[s] for n, s in zip(self.param_names, self.param_signs)}))
        )

    def data(self, values: Mapping[str, float] | None = None) -> KernelData:
        """KernelData for one set of values, as ``memdyn.core.lowering.Target.data`` makes it."""
        return on_device(KernelData(*(x[0] for x in self.data_batch([values or {}], host=True))))

    def data_batch(self, values_list: Sequence[Mapping[str, float]], *, host: bool = False) -> KernelData:
        """KernelData for several sets of values, stacked (as ``memdyn.core.lowering.Target.data_batch``)."""
        checked = [check_values(self.param_names, self.param_signs, dict(v)) for v in values_list]
        if len(checked) >= ARRAY_NORMS_FROM:  # ||rho||^2 at array speed, as the cold path computes it
            return self.lowered().data_batch(checked, host=host)
        norms = [self._norm2(v) for v in checked]
        if None in norms:  # the full target says why (or copes)
            return self.lowered().data_batch(checked, host=host)
        n = len(checked)
        data = KernelData(
            params=np.array([[v[p] for p in self.param_names] for v in checked], dtype=float).reshape(n, -1),
            quad_t=np.zeros((n, 0)),
            quad_c=np.zeros((n, 0)),
            norm2=np.asarray(norms, dtype=float),
        )
        return data if host else on_device(data)

    def _norm2(self, values: Mapping[str, float]) -> float | None:
        """||rho||^2 from its closed form, after checking rho(0) is finite; None where the walk cannot
        say (a node it does not know, or a value that is not a finite real)."""
        import mpmath as mp

        with mp.workdps(_DIGITS):
            # the parameters enter as the decimals they spell, exactly as the full pipeline reads them
            env = {n: mp.mpf(repr(values[n])) for n in self.param_names}
            try:
                at0 = evaluate(self.rho, {**env, "t": mp.mpf(0)})
                norm2 = evaluate(self.norm2, env)
            except (_Unsupported, ZeroDivisionError, ValueError, OverflowError):
                return None
            if not (_finite_real(at0) and _finite_real(norm2) and norm2 >= 0):
                return None
            return float(norm2)


def remember(rho: str, params: Mapping[str, float | Sequence[float]], target: Target) -> None:
    """Store ``target``'s record (when its loss is all closed form), for ``warm_target``."""
    if not cache.enabled() or target.has_quadrature or target.derivation.norm2 is None:
        return
    from . import serial
    from .stable import plain

    key = _key(rho, params)
    if key in _REMEMBERED or cache.load("targets", key) is not None:
        _REMEMBERED.add(key)
        return
    kernel = target.kernel
    try:
        record = {
            "fingerprint": target.fingerprint,
            "names": list(kernel.param_names),
            "signs": list(kernel.param_signs),
            "rho": serial.dump(kernel.expr),
            "norm2": serial.dump(plain(target.derivation.norm2)),
        }
    except serial.SerialError:
        return
    cache.store("targets", key, json.dumps(record).encode())
    _REMEMBERED.add(key)


_REMEMBERED: set[str] = set()
"""Keys whose record this process has stored or seen."""


_READ: dict[str, WarmTarget] = {}
"""Records read in this process, by key and formula text: one WarmTarget each."""


def _read(rho: str, key: str) -> WarmTarget | None:
    if (rho, key) in _READ:
        return _READ[rho, key]
    payload = cache.load("targets", key)
    if payload is None:
        return None
    try:
        r = json.loads(payload)
        found = WarmTarget(
            source=rho,
            fingerprint=str(r["fingerprint"]),
            param_names=tuple(map(str, r["names"])),
            param_signs=tuple(map(str, r["signs"])),
            rho=r["rho"],
            norm2=r["norm2"],
        )
    except (ValueError, KeyError, TypeError):
        cache.warn_once("corrupt", "a cached target could not be read; deriving again")
        return None
    _READ[rho, key] = found
    return found


def warm_target(rho: str, params: Mapping[str, float | Sequence[float]] | None = None) -> WarmTarget | None:
    """The ``WarmTarget`` of ``rho`` for parameters of these names and signs, if a record was
    stored (by an earlier process or this one); None otherwise (then use the full pipeline)."""
    if not isinstance(rho, str) or not cache.enabled():
        return None
    params = dict(params or {})
    found = _read(rho, _key(rho, params))
    if found is None or sorted(found.param_names) != sorted(params):
        return None
    return found
