"""The two profiles of ``memdyn reproduce``: what each section computes, how far and how long."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problems import FIG3_NULL_RANGES


@dataclass(frozen=True)
class Profile:
    memories: tuple[float, ...]
    null_rates: tuple[float, ...] = (0.5, 0.3)
    fig2_memories: tuple[float, ...] = (10.0, 11.0, 12.0, 13.0, 14.0, 15.0)
    fig3_memories: tuple[float, ...] = tuple(float(x) for x in range(10, 20))
    spectrum_memories: tuple[float, ...] = tuple(float(x) for x in range(8, 41, 2))
    momentum_memories: tuple[float, ...] = (8.0, 10.0, 12.0, 14.0, 16.0)
    saddle_eps: tuple[float, ...] = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4)
    approx_widths: tuple[int, ...] = (1, 2, 4, 8)
    curse_omegas: tuple[float, ...] = (0.5, 1.0, 2.0)
    curse_eps: tuple[float, ...] = (1e-2, 1e-3, 1e-4)
    curse_m_max: int = 8
    t1: float = 1e12
    curve_points: int = 160
    # training: Fig. 1 on the exact white-noise loss, Fig. 4 on 128 samples, the bridge
    fig1_epochs: int = 40000
    fig1_seeds: int = 10
    fig4_epochs: int = 1500
    fig4_seeds: int = 2
    fig4_inputs: tuple[str, ...] = ("white",)
    bridge_lrs: tuple[float, ...] = (0.04, 0.02, 0.01, 0.005)
    bridge_dts: tuple[float, ...] = (0.1, 0.05, 0.02, 0.01)
    bridge_horizons: tuple[float, ...] = (8.0, 9.0, 10.0, 12.0, 16.0)
    bridge_samples: tuple[int, ...] = (128, 1024, 4096)
    bridge_sample_seeds: int = 3
    # full profile only: reparameterised rates and sharp escape times
    reparam_settings: tuple[tuple[float, float, tuple[float, ...]], ...] = ()
    """(w*, null rate w0, memories) per reparameterisation table."""
    sharp_settings: tuple[tuple[float, float, tuple[float, ...]], ...] = ()
    """(w*, null rates, memories) per sharp table: neuron 1 = (1, w*), null neurons at the rates."""
    slope_settings: tuple[tuple[float, float, tuple[float, ...]], ...] = ()
    """(w*, null rate w0, memories) per local-slope run (section 10)."""


PROFILES = {
    "quick": Profile(memories=(6.0, 8.0, 10.0, 12.0, 14.0, 16.0)),
    "full": Profile(
        memories=tuple(float(x) for x in range(6, 31, 2)),
        momentum_memories=tuple(float(x) for x in range(8, 23, 2)),
        approx_widths=(1, 2, 3, 4, 6, 8, 12),
        curse_omegas=(0.5, 1.0, 2.0),
        curse_eps=(1e-2, 1e-4, 1e-6, 1e-8, 1e-10),
        curse_m_max=30,
        fig4_epochs=20000,
        fig4_seeds=10,
        fig4_inputs=("white", "cosine"),
        bridge_samples=(128, 1024, 8192, 65536),
        bridge_sample_seeds=5,
        reparam_settings=((1.0, 0.5, (6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0)), (3.0, 0.8, (10.0, 12.0, 14.0, 16.0))),
        sharp_settings=(
            (3.0, (0.8,), (10.0, 11.0, 12.0, 13.0, 14.0, 16.0, 18.0)),
            (3.0, (0.6,), (10.0, 12.0, 14.0, 16.0, 18.0, 20.0)),
            (1.0, (0.3,), (12.0, 16.0, 20.0, 24.0, 28.0, 32.0)),
            (1.0, (0.5,), (12.0, 14.0, 16.0, 18.0, 20.0, 24.0)),
            *(
                (1.0, tuple(float(w) for w in np.linspace(lo, hi, 9)), (12.0, 14.0, 16.0, 18.0, 19.0))
                for lo, hi in FIG3_NULL_RANGES
            ),
        ),
        slope_settings=(
            (1.0, 0.3, tuple(float(x) for x in range(20, 61, 4))),
            (1.0, 0.5, tuple(float(x) for x in range(20, 61, 4))),
            (3.0, 0.6, tuple(float(x) for x in range(20, 61, 4))),
        ),
    ),
}
