"""Small text helpers shared by the report's sections."""

from __future__ import annotations


def fit_text(f, name="slope of ln τ vs 1/ω") -> str:
    """A fit's slope and its error in bold, or why there is none."""
    if not f:
        return "too few finite values to fit"
    return f"{name} = **{f['slope']:.3f} ± {f['slope_stderr']:.3f}**"


def fit_json(memory, taus, **kw):
    """The Theorem-20 fit of ln tau against the memory as JSON (None when too few points)."""
    from ...core.fits import fit_log_linear

    f = fit_log_linear(memory, taus, **kw)
    return f.to_json() if f else None
