"""Initial conditions: points of the invariant set M*, the JMLR random bounded start, explicit values.

M* (JMLR Remark 21, Lemma 30) is where rho_hat equals the short-memory part
rho_bar = sum_j a*_j exp(-w*_j t) exactly: each neuron either joins a group sitting at some w*_j
whose amplitudes sum to a*_j, or a "null" group (amplitudes summing to 0; one neuron with a = 0 at
any rate is the simplest). Theorem 20 starts there.

Every start is checked by one validator, ``check_start``, and returned as theta0 = (a0, w0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from .jaxsetup import float64

if TYPE_CHECKING:
    from .formula import Kernel


def check_start(a0, w0, *, argument: str = "") -> np.ndarray:
    """Validate an initial condition and stack it as theta0 = (a0, w0) (float64, shape (2m,)).

    ``argument`` prefixes the names in messages (e.g. ``"starts"`` for a row of a start table).
    """
    a_name, w_name = (f"{argument} a0", f"{argument} w0") if argument else ("a0", "w0")
    a0 = np.asarray(a0, dtype=float).ravel()
    w0 = np.asarray(w0, dtype=float).ravel()
    if a0.size == 0:
        raise InputError(a_name, "at least one neuron is needed")
    if a0.size != w0.size:
        raise InputError(w_name, f"has {w0.size} values but {a_name} has {a0.size}", mentions=(a_name,))
    for name, arr in ((a_name, a0), (w_name, w0)):
        bad = np.nonzero(~np.isfinite(arr))[0]
        if bad.size:
            raise InputError(name, f"must be finite, got {arr[bad[0]]} at index {bad[0]}")
    bad = np.nonzero(w0 <= 0)[0]
    if bad.size:
        raise InputError(w_name, f"decay rates must be positive, got {w0[bad[0]]} at index {bad[0]}")
    return np.concatenate([a0, w0])


def check_starts(starts) -> np.ndarray:
    """A table of starts (n, 2m), each row checked by ``check_start``."""
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    if starts.ndim != 2 or starts.shape[1] % 2:
        raise InputError("starts", f"expected rows (a0, w0) of even length, got shape {starts.shape}")
    m = starts.shape[1] // 2
    return np.stack([check_start(row[:m], row[m:]) for row in starts])


def exponential_part(kernel: Kernel, values: dict[str, float]) -> list[tuple[float, float]]:
    """The terms ``a* exp(-w* t)`` (numeric a*, w* > 0) of a kernel, as (a*, w*) pairs.

    Terms with the same rate are merged; terms of any other form (the long memory) are left out.
    """
    # here, not at the top: validating a start must not import SymPy (memdyn.core.warm)
    from .symbolic import exponential_term, split_terms

    expr = kernel.substitute(values)
    found: dict[float, float] = {}
    for term in split_terms(expr):
        pair = exponential_term(term)
        if pair is None or not (pair[0].is_number and pair[1].is_number):
            continue
        rate = float(pair[1])
        found[rate] = found.get(rate, 0.0) + float(pair[0])
    return sorted(((a, w) for w, a in found.items() if a != 0), key=lambda p: p[1])


@float64
def on_invariant_set(
    short: Sequence[tuple[float, float]],
    m: int,
    *,
    null_rates: Sequence[float] = (),
    group_sizes: Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A point of M*: groups at the rates of ``short`` (amplitudes split equally), the rest null.

    Args:
        short: the (a*_j, w*_j) of rho_bar (see ``exponential_part``).
        m: width.
        null_rates: decay rates of the null neurons (a = 0), one per neuron outside the groups.
        group_sizes: neurons per group (default one each); a group of size k splits a*_j equally.
    """
    sizes = list(group_sizes) if group_sizes is not None else [1] * len(short)
    if len(sizes) != len(short):
        raise InputError("groups", f"needs one size per exponential term ({len(short)}), got {len(sizes)}")
    if any(k < 1 for k in sizes):
        raise InputError("groups", "group sizes must be positive")
    n_null = m - sum(sizes)
    if n_null < 0:
        raise InputError("m", f"width {m} is smaller than the {sum(sizes)} neurons the groups need")
    if len(null_rates) != n_null:
        raise InputError("null_rates", f"needs {n_null} rate(s) for the null neurons, got {len(null_rates)}")
    if any(not (np.isfinite(r) and r > 0) for r in null_rates):
        raise InputError("null_rates", "rates must be positive")
    a, w = [], []
    for (a_star, w_star), k in zip(short, sizes):
        a += [a_star / k] * k
        w += [w_star] * k
    a += [0.0] * n_null
    w += list(null_rates)
    return np.asarray(a, float), np.asarray(w, float)


@float64
def random_bounded(
    m: int, *, w_range=(0.5, 2.0), a_range=(-1.0, 1.0), beta: float = 1.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The JMLR bounded random start (eq. 109): w0 ~ U[w_l, w_r], a0 = a0' m^-beta, a0' ~ U[a_l, a_r].

    Args:
        m: the width.
        w_range: (w_l, w_r) with 0 < w_l <= w_r.
        a_range: (a_l, a_r) with a_l <= a_r.
        beta: the amplitudes' scaling with width.
        seed: the random seed.

    Returns:
        (a0, w0), two arrays of length m.
    """
    for name, pair in (("w_range", w_range), ("a_range", a_range)):
        if len(pair) != 2:
            raise InputError(name, f"needs two numbers LOW,HIGH, got {len(pair)}")
    if not (0 < w_range[0] <= w_range[1]):
        raise InputError("w_range", f"needs 0 < w_l <= w_r, got {tuple(w_range)}")
    if a_range[0] > a_range[1]:
        raise InputError("a_range", f"needs a_l <= a_r, got {tuple(a_range)}")
    rng = np.random.default_rng(seed)
    w = rng.uniform(*w_range, size=m)
    a = rng.uniform(*a_range, size=m) * float(m) ** (-beta)
    return a, w


def build_starts(
    kernel: Kernel | None,
    param_values: Sequence[dict[str, float]],
    *,
    init: str = "explicit",
    a0=None,
    w0=None,
    m: int | None = None,
    null_rates: Sequence[float] = (),
    groups: Sequence[int] | None = None,
    seeds: int = 1,
    w_range=(0.5, 2.0),
    a_range=(-1.0, 1.0),
    beta: float = 1.0,
) -> np.ndarray:
    """The table of starts (n_starts, 2m) a sweep runs from.

    Args:
        kernel: the target's kernel (read by ``mstar`` only); ``param_values`` the parameter sets of the
            sweep (an M* start must be one point of M* for all of them).
        init: ``explicit`` (``a0``, ``w0``), ``mstar`` (``on_invariant_set`` from the formula's
            exponential terms, width ``m`` or groups + nulls) or ``random`` (``random_bounded``,
            seeds 0..``seeds``-1).
    """
    if init == "explicit":
        if a0 is None or w0 is None:
            raise InputError("a0", "give a0 and w0 (or init='mstar' / init='random')", mentions=("w0",))
        return check_start(a0, w0)[None, :]
    if init == "mstar":
        parts = [exponential_part(kernel, v) for v in param_values]
        if any(p != parts[0] for p in parts):
            raise InputError("init", "the exponential terms change across the sweep: no common M* start")
        if not parts[0]:
            raise InputError("init", "the formula has no term a*exp(-w*t) to build M* from")
        width = m if m is not None else (sum(groups) if groups else len(parts[0])) + len(null_rates)
        a, w = on_invariant_set(parts[0], width, null_rates=null_rates, group_sizes=groups)
        return check_start(a, w)[None, :]
    if init == "random":
        if m is None or m < 1:
            raise InputError("m", "give a positive width for init='random'")
        if seeds < 1:
            raise InputError("seeds", f"must be positive, got {seeds}")
        return np.stack(
            [
                np.concatenate(random_bounded(m, w_range=tuple(w_range), a_range=tuple(a_range), beta=beta, seed=s))
                for s in range(seeds)
            ]
        )
    raise InputError("init", f"must be explicit, mstar or random, got {init!r}")
