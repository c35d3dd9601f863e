"""Stage 4: measurements set beside the theory (no SymPy, no matplotlib here).

JMLR Theorem 20 (the ICLR plateau theorem): started on M*, the hitting times satisfy

    tau'_0 >= tau_0 >~ omega^2 exp(w_min / omega) min(delta/sqrt(m), ln(1 + delta)),

so ln tau grows at least linearly in the memory 1/omega with slope w_min (the smallest initial
decay rate). It is a lower bound: a measured slope may exceed w_min.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


def memory_of(param: str, values) -> list[float]:
    """1/omega: the inverse of an ``omega`` parameter, otherwise the value (e.g. mu = 1/omega)."""
    if param == "omega":
        return [1.0 / v for v in values]
    return [float(v) for v in values]


@dataclass(frozen=True)
class LogTimeFit:
    """ln tau = intercept + slope * memory, fitted by least squares over the finite taus."""

    slope: float
    slope_stderr: float
    intercept: float
    n: int
    prefactor: str
    """``"none"``: ln tau is fitted; ``"omega^2"``: ln(tau / omega^2) is fitted (the bound's form)."""

    def to_json(self) -> dict:
        return {"slope": self.slope, "slope_stderr": self.slope_stderr,
                "intercept": self.intercept, "n": self.n, "prefactor": self.prefactor}


def fit_log_time(memory, tau, *, omega_squared: bool = False) -> LogTimeFit | None:
    """Fit ln tau (or ln(tau/omega^2) with omega = 1/memory) against memory = 1/omega.

    Returns ``None`` with fewer than three finite hitting times (no slope and error to report).
    """
    memory = np.asarray(memory, dtype=float)
    tau = np.asarray([np.nan if x is None else x for x in tau], dtype=float)
    keep = np.isfinite(tau) & (tau > 0)
    if keep.sum() < 3:
        return None
    y = np.log(tau[keep])
    if omega_squared:
        y = y - 2.0 * np.log(1.0 / memory[keep])
    res = stats.linregress(memory[keep], y)
    return LogTimeFit(slope=float(res.slope), slope_stderr=float(res.stderr),
                      intercept=float(res.intercept), n=int(keep.sum()),
                      prefactor="omega^2" if omega_squared else "none")


def bound_ratio(memory, tau, w_min: float) -> list[float | None]:
    """tau / (omega^2 e^{w_min/omega}) per element; bounded below across memories = consistent."""
    out = []
    for mu, t in zip(np.asarray(memory, dtype=float), tau):
        out.append(None if t is None or not np.isfinite(t) else float(t / (mu**-2 * np.exp(w_min * mu))))
    return out
