"""Fits of every requested width in one norm, each started from the one before."""

from __future__ import annotations

from dataclasses import dataclass

from ...core.jaxsetup import float64
from ...errors import InputError
from .base import MAX_WIDTH, NORMS, PRECISION, NormFit, PreciseKernel
from .l1 import fit_l1
from .l2 import fit_l2
from .norms import errors, sup_error
from .sup import fit_sup


@dataclass(repr=False)
class BestFits:
    """Best fits of rho in one norm for each width (:func:`memdyn.approximate` with ``norm``).

    Attributes:
        rho: the kernel's formula; ``norm``: ``"l2"``, ``"l1"`` or ``"sup"``; ``min_rate``: the bound on rates.
        fits: each width's :class:`NormFit` (amplitudes, rates, error, certificate).
        rows: one dict per width: ``m``, the errors in every norm (``l2_error``, ``l1_error``,
            ``sup_error``), ``improved``, ``converged``, and for sup fits ``lower_bound`` and
            ``alternation`` (the equioscillation certificate).
    """

    rho: str
    norm: str
    min_rate: float | None
    fits: list
    rows: list

    def __repr__(self) -> str:
        return f"BestFits({self.rho!r}, norm={self.norm!r}, widths {[r['m'] for r in self.rows]})"

    def to_pandas(self):
        """One row per width with its errors in every norm, as a ``pandas.DataFrame``."""
        import pandas as pd

        keys = ("m", "l2_error", "l1_error", "sup_error", "improved")
        return pd.DataFrame([{k: r.get(k) for k in keys} for r in self.rows])

    def plot(self, ax=None):
        """The errors in the three norms against the width (log y). Returns the axes."""
        from ..plots import plot_lines

        series = {k: [r.get(k) for r in self.rows] for k in ("l2_error", "l1_error", "sup_error")}
        return plot_lines([r["m"] for r in self.rows], series, ax=ax, xlabel="width m", ylabel="error")

    def to_json(self) -> dict:
        return {
            "rho": self.rho,
            "norm": self.norm,
            "min_rate": self.min_rate,
            "precision_bits": PRECISION,
            "m": [r["m"] for r in self.rows],
            "error": [r["error"] for r in self.rows],
            "fits": self.rows,
        }


def check_widths(widths) -> list[int]:
    out = []
    for m in widths:
        if m != int(m) or not 1 <= m <= MAX_WIDTH:
            raise InputError("widths", f"widths must be integers in 1..{MAX_WIDTH}, got {m:g}")
        out.append(int(m))
    return sorted(set(out))


@float64
def best_fits(
    kernel: PreciseKernel, widths, norm: str = "l2", *, min_rate: float | None = None, progress=None
) -> BestFits:
    """Best fits of widths 1..max(widths) in ``norm`` (each warm-started from the last), reported at
    ``widths`` with their errors in every norm (None where that norm of rho - rho_hat is infinite).

    ``sup`` fits start from the width m-1 best uniform fit, else from the L2 fit of the same width (so
    L2 fits are computed on the way); a width whose extrema were not equalised is reported with
    ``converged`` false (with the L2 fit's errors when no start had 2m sign changes, as when the L2
    rates merge into t^k e^{-wt} terms). ``min_rate`` (rates >= min_rate, Thm 11's setting) applies
    to ``l2`` fits only.
    """
    ms = check_widths(widths)
    if norm not in NORMS:
        raise InputError("norm", f"must be one of {', '.join(NORMS)}, got {norm!r}")
    if not kernel.finite(norm) or (norm == "sup" and not kernel.finite("l2")):
        raise InputError(
            "norm",
            f"the {norm} norm of rho - rho_hat is infinite for rho = {kernel.text} "
            f"(|rho| decays like t^-{kernel.decay:.3g})",
        )
    if min_rate is not None and norm != "l2":
        raise InputError("min_rate", "applies to --norm l2 fits only")
    if min_rate is not None and not min_rate > 0:
        raise InputError("min_rate", f"must be positive, got {min_rate}")
    l2_fit, last_sup, l1_fit, rows, fits = None, None, None, [], []
    for m in range(1, max(ms) + 1):
        l2_fit = fit_l2(kernel, m, previous=l2_fit, min_rate=min_rate)
        fit = l2_fit
        if norm == "l1":
            l1_fit = fit = fit_l1(kernel, m, start=l2_fit, previous=l1_fit)
        if norm == "sup":
            sup = fit_sup(kernel, m, start=l2_fit, previous=last_sup)
            if sup is None:  # no equalisation started: the L2 fit, measured in the sup norm
                sup = NormFit(
                    "sup",
                    m,
                    l2_fit.a,
                    l2_fit.w,
                    sup_error(kernel, *l2_fit.exact),
                    False,
                    {"converged": False},
                    l2_fit.exact,
                )
            if last_sup is not None and sup.error > last_sup.error:  # keep the m-1 fit: errors non-increasing
                sup = last_sup.widened(m, 1.0, dict(last_sup.certificate))
            last_sup = fit = sup
        if m in ms:
            row = {**fit.to_json(), **errors(kernel, fit)}
            row.setdefault("converged", True)
            rows.append(row)
            fits.append(fit)
        if progress:
            progress(m)
    return BestFits(kernel.text, norm, min_rate, fits, rows)
