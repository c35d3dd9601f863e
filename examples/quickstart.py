"""Quickstart: one target, one gradient flow, one figure.

The target e^{-t} + 0.5 e^{-(t - mu)^2/2} has a short-memory part that a width-2 model fits
exactly and a bump of memory mu = 1/omega that it cannot reach without moving a decay rate
towards 0. Started on the invariant set M* (neuron 1 = the exponential, neuron 2 silent), the flow
sits on a plateau at J = ||bump||^2 for a time that grows like e^{w_min mu}, then escapes. The
script prints both hitting times of JMLR Theorem 20 and plots the loss against training time.

Run: ``python examples/quickstart.py --out quickstart-out [--mu 14]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import memdyn
from memdyn import plots


def main(out: str | Path = "quickstart-out", mu: float = 14.0, horizon: float | None = None) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rho = "exp(-t) + 0.5*exp(-(t - mu)**2/2)"
    target = memdyn.target(rho, {"mu": mu})
    data = target.data({"mu": mu})
    a0, w0 = [1.0, 0.0], [1.0, 0.5]
    result = memdyn.hitting_times(target, data, a0, w0, delta=0.01, t1=1e12)
    print(f"mu = {mu}: tau_param = {result.tau_param}, tau_loss = {result.tau_loss} ({result.status})")

    end = horizon or 30 * max(result.tau_loss or 1.0, 1.0)
    ts = np.logspace(-2, np.log10(end), 200)
    curve = memdyn.trajectory(target, data, np.asarray(a0 + w0), ts)
    ax = plots.plot_loss_curves(
        [
            {
                "label": f"1/ω = {mu:g}",
                "t": ts,
                "loss": curve["loss"],
                "tau_param": result.tau_param,
                "tau_loss": result.tau_loss,
            }
        ]
    )
    plots.save(ax, out / "quickstart_loss.png")
    return {"result": result.to_json(), "figure": str(out / "quickstart_loss.png")}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="quickstart-out", help="folder for the figure (default quickstart-out)")
    parser.add_argument("--mu", type=float, default=14.0, help="memory 1/omega of the bump (default 14)")
    args = parser.parse_args()
    main(args.out, args.mu)
