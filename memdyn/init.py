"""Initial conditions: points of the invariant set M*, the JMLR random bounded start, explicit values.

M* (JMLR Remark 21, Lemma 30) is where rho_hat equals the short-memory part
rho_bar = sum_j a*_j exp(-w*_j t) exactly: each neuron either joins a group sitting at some w*_j
whose amplitudes sum to a*_j, or a "null" group (amplitudes summing to 0; one neuron with a = 0 at
any rate is the simplest). Theorem 20 starts there.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import sympy as sp

from .errors import InputError
from .formula import T, Kernel
from .symbolic import split_terms


def exponential_part(kernel: Kernel, values: dict[str, float]) -> list[tuple[float, float]]:
    """The terms ``a* exp(-w* t)`` (numeric a*, w* > 0) of a kernel, as (a*, w*) pairs.

    Terms with the same rate are merged; terms of any other form (the long memory) are left out.
    """
    expr = kernel.substitute(values)
    found: dict[float, float] = {}
    for term in split_terms(expr):
        coeff, rest = term.as_independent(T, as_Add=False)
        if rest == 1 or not isinstance(rest, sp.exp):
            continue
        exponent = sp.expand(rest.args[0])
        rate = -exponent / T
        if rate.free_symbols or not rate.is_number:
            continue
        rate = float(rate)
        if rate > 0 and coeff.is_number:
            found[rate] = found.get(rate, 0.0) + float(coeff)
    return sorted(((a, w) for w, a in found.items() if a != 0), key=lambda p: p[1])


def on_invariant_set(short: Sequence[tuple[float, float]], m: int, *, null_rates: Sequence[float] = (),
                     group_sizes: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A point of M*: groups at the rates of ``short`` (amplitudes split equally), the rest null.

    Args:
        short: the (a*_j, w*_j) of rho_bar (see :func:`exponential_part`).
        m: width.
        null_rates: decay rates of the null neurons (a = 0), one per neuron outside the groups.
        group_sizes: neurons per group (default one each); a group of size k splits a*_j equally.
    """
    sizes = list(group_sizes) if group_sizes is not None else [1] * len(short)
    if len(sizes) != len(short):
        raise InputError("--groups", f"needs one size per exponential term ({len(short)}), got {len(sizes)}")
    if any(k < 1 for k in sizes):
        raise InputError("--groups", "group sizes must be positive")
    n_null = m - sum(sizes)
    if n_null < 0:
        raise InputError("--m", f"width {m} is smaller than the {sum(sizes)} neurons the groups need")
    if len(null_rates) != n_null:
        raise InputError("--null-rates", f"needs {n_null} rate(s) for the null neurons, got {len(null_rates)}")
    if any(not (np.isfinite(r) and r > 0) for r in null_rates):
        raise InputError("--null-rates", "rates must be positive")
    a, w = [], []
    for (a_star, w_star), k in zip(short, sizes):
        a += [a_star / k] * k
        w += [w_star] * k
    a += [0.0] * n_null
    w += list(null_rates)
    return np.asarray(a, float), np.asarray(w, float)


def random_bounded(m: int, *, w_range=(0.5, 2.0), a_range=(-1.0, 1.0), beta: float = 1.0,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The JMLR bounded random start (eq. 109): w0 ~ U[w_l, w_r], a0 = a0' m^-beta, a0' ~ U[a_l, a_r]."""
    if not (0 < w_range[0] <= w_range[1]):
        raise InputError("--w-range", f"needs 0 < w_l <= w_r, got {w_range}")
    if a_range[0] > a_range[1]:
        raise InputError("--a-range", f"needs a_l <= a_r, got {a_range}")
    rng = np.random.default_rng(seed)
    w = rng.uniform(*w_range, size=m)
    a = rng.uniform(*a_range, size=m) * float(m) ** (-beta)
    return a, w
