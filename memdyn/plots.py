"""Figures: the one module that imports matplotlib.

Each plot function takes ``ax=None`` (a new figure when omitted), draws, and returns the axes; none
calls ``plt.show()`` and none chooses a backend (the command line uses Agg; a notebook keeps its own).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    return ax


def plot_loss_curves(curves: Sequence[dict], *, ax=None, label_key: str = "label"):
    """Loss J against training time tau on log-log axes, one line per curve.

    Each curve is a dict with ``t``, ``loss`` and a label; the plateau at ||rho_0||^2 and the
    exit from it show as a shelf and a drop.
    """
    ax = _axes(ax)
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(len(curves), 1)))
    for curve, color in zip(curves, colors):
        ax.loglog(curve["t"], curve["loss"], color=color, label=curve[label_key])
        for key, style in (("tau_param", "o"), ("tau_loss", "s")):
            tau = curve.get(key)
            if tau is not None:
                ax.plot(
                    [tau],
                    [np.interp(np.log(tau), np.log(curve["t"]), curve["loss"])],
                    style,
                    color=color,
                    ms=4,
                    mfc="none",
                )
    ax.set_xlabel(r"training time $\tau$")
    ax.set_ylabel(r"loss $J(\theta(\tau))$")
    ax.legend(fontsize="small", ncol=2)
    ax.set_title("Gradient flow: plateau, then escape (o: $\\tau_0$, s: $\\tau'_0$)", fontsize="medium")
    return ax


def plot_lines(
    x,
    series: dict,
    *,
    ax=None,
    xlabel: str = "",
    ylabel: str = "",
    logx: bool = False,
    logy: bool = True,
    styles: dict | None = None,
):
    """Several named series against one x (None values skipped), on optional log axes."""
    ax = _axes(ax)
    styles = styles or {}
    for label, ys in series.items():
        xs = np.asarray(x, dtype=float)
        y = np.array([np.nan if v is None else v for v in ys], dtype=float)
        ax.plot(xs, y, styles.get(label, "o-"), label=label, ms=4)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax


def panels(n: int, *, width: float = 5.0, height: float = 3.8):
    """A row of ``n`` axes in one figure."""
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), constrained_layout=True)
    return list(np.atleast_1d(axes))


def save(ax, path) -> None:
    """Write the figure of ``ax`` to ``path`` and close it."""
    ax.figure.savefig(path, dpi=120)
    plt.close(ax.figure)


def plot_work_precision(rows, *, ax=None):
    """Error in tau against wall time per solve, one line per method (log-log)."""
    ax = _axes(ax)
    methods = []
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
    for i, method in enumerate(methods):
        pts = sorted((r["wall_s"], r["error"]) for r in rows if r["method"] == method and r["error"])
        if pts:
            x, y = zip(*pts)
            ax.loglog(
                x,
                y,
                "o-" if method.startswith("diffrax") else ("s--" if method.startswith("scipy") else "^:"),
                color=plt.cm.tab10(i % 10),
                ms=4,
                label=method,
            )
    ax.set_xlabel("wall time per solve (s)")
    ax.set_ylabel(r"relative error in $\tau'_0$")
    ax.legend(fontsize="x-small", ncol=2)
    return ax
