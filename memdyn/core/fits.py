"""The one log-linear fit behind every scaling law memdyn reports, and the memory of a parameter.

Every law memdyn measures is ``ln|y| = c + s x + q ln x``: plateau length against the memory
(JMLR Thm 20: x = 1/omega, q = 0, or q = -2 for the bound's omega^2 prefactor), gradient and Hessian
scalings on M* (Props. 33-34: q free), approximation error against width (x = ln m). One least-squares
helper fits them all and returns one type.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class LogLinearFit:
    """``ln|y| = intercept + slope x + q ln x`` fitted by least squares.

    ``q`` is fitted when ``q_fixed`` is false, else held (0 for a plain exponential law). Standard
    errors are the usual OLS ones with ``n - (fitted parameters)`` degrees of freedom.
    """

    slope: float
    slope_stderr: float | None
    intercept: float
    q: float
    q_stderr: float | None
    q_fixed: bool
    n: int
    min_x: float

    def to_json(self) -> dict:
        return asdict(self)


def fit_log_linear(
    x, y, *, q: float | None = 0.0, min_x: float = -np.inf, min_points: int | None = None
) -> LogLinearFit | None:
    """Fit ``ln|y| = c + s x + q ln x`` over the finite, nonzero y with x >= ``min_x``.

    Args:
        x, y: the data (``None`` in y counts as missing).
        q: the power of x held fixed (default 0), or ``None`` to fit it too (x must then be positive).
        min_x: fit only the tail x >= min_x (asymptotic laws hold for long memory).

    Returns ``None`` when fewer than ``min_points`` remain (default: the fitted parameters + 1, so
    that an error can be given); with exactly as many points as parameters the errors are ``None``.
    """
    x = np.asarray(x, dtype=float)
    y = np.abs(np.asarray([np.nan if v is None else v for v in y], dtype=float))
    keep = np.isfinite(y) & (y > 0) & (x >= min_x)
    n = int(keep.sum())
    free = 3 if q is None else 2
    if n < max(free, free + 1 if min_points is None else min_points):
        return None
    xs = x[keep]
    rhs = np.log(y[keep]) - (0.0 if not q else q * np.log(xs))
    X = np.column_stack([np.ones(n), xs] + ([np.log(xs)] if q is None else []))
    coef, *_ = np.linalg.lstsq(X, rhs, rcond=None)
    if n > free:
        sigma2 = float(np.sum((X @ coef - rhs) ** 2)) / (n - free)
        err = np.sqrt(np.diag(sigma2 * np.linalg.inv(X.T @ X)))
    else:
        err = [None] * free
    return LogLinearFit(
        slope=float(coef[1]),
        slope_stderr=None if err[1] is None else float(err[1]),
        intercept=float(coef[0]),
        q=float(coef[2]) if q is None else float(q),
        q_stderr=(None if err[2] is None else float(err[2])) if q is None else 0.0,
        q_fixed=q is not None,
        n=n,
        min_x=float(min_x),
    )


def memory_of(param: str, values) -> list[float]:
    """1/omega: the inverse of an ``omega`` parameter, otherwise the value (e.g. mu = 1/omega)."""
    if param == "omega":
        return [1.0 / v for v in values]
    return [float(v) for v in values]


def bound_ratio(memory, tau, w_min: float) -> list[float | None]:
    """tau / (omega^2 e^{w_min/omega}) per element (JMLR Thm 20); bounded below = consistent."""
    out = []
    for mu, t in zip(np.asarray(memory, dtype=float), tau):
        out.append(None if t is None or not np.isfinite(t) else float(t / (mu**-2 * np.exp(w_min * mu))))
    return out
