"""The compiled peer of memdyn bench (memdyn.studies.peer): its hand-written closed forms against memdyn's
derivation (everywhere), and its hitting times against memdyn at tight tolerance (where numba and
numbalsoda are installed: ``pip install 'memdyn[peer]'``)."""

import importlib.util
import sys

import jax
import numpy as np
import pytest

from memdyn.core.loss import gradient, loss
from memdyn.core.lowering import NUMPY
from memdyn.core.pipeline import target
from memdyn.studies import peer
from memdyn.studies.problems import DELTA, RHO, mstar_start

POINTS = [
    (8.0, [1.0, 0.0, 1.0, 0.5]),
    (12.0, [0.9, 0.1, 1.1, 0.6]),
    (16.0, [0.7, -0.3, 0.4, 2.5]),
    (1.5, [0.5, 0.8, 2.0, 3.0]),  # w > mu: the erfcx branch
    (0.2, [1.2, 0.3, 0.9, 0.25]),  # w near mu, both branches
]


@pytest.mark.parametrize("mu, theta", POINTS)
def test_the_peers_closed_forms_are_memdyns_derivation(mu, theta):
    """The hand-written loss and gradient equal the SymPy derivation's NumPy lowering (1e-13; measured 3e-16)."""
    tg = target(RHO, {"mu": mu})
    data = jax.tree_util.tree_map(np.asarray, tg.data({"mu": mu}))
    th = np.asarray(theta)
    ours = np.asarray(gradient(tg, data, th, NUMPY))
    assert np.max(np.abs(peer.bump_gradient(th, mu) - ours)) <= 1e-13 * np.max(np.abs(ours))
    assert peer.bump_loss(th, mu) + float(data.norm2) == pytest.approx(float(loss(tg, data, th, NUMPY)), abs=1e-14)


def test_without_the_extra_the_peer_says_what_is_missing(monkeypatch):
    """The first missing package is named (numba where neither is installed, as in CI)."""
    monkeypatch.setitem(sys.modules, "numbalsoda", None)  # import now raises ImportError
    absent = "numba" if importlib.util.find_spec("numba") is None else "numbalsoda"
    assert not peer.available() and peer.missing().startswith(f"{absent} is not installed")
    assert "pip install 'memdyn[peer]'" in peer.missing()
    with pytest.raises(ImportError, match=absent):
        peer.hitting_times([12.0], [1.0, 0.0], [1.0, 0.5], delta=DELTA)


@pytest.mark.skipif(not peer.available(), reason="compiled LSODA needs pip install 'memdyn[peer]'")
def test_compiled_lsoda_finds_memdyns_hitting_times():
    """At rtol 1e-12 both hitting times agree with memdyn's Kvaerno5 at rtol 1e-12 within 2e-9 (measured
    6.9e-10 for tau_param, 4.6e-10 for tau_loss over 65 memories in 8..16)."""
    import memdyn

    start = mstar_start([0.5])
    mus = [8.0, 12.0, 16.0]
    ours = memdyn.sweep(RHO, "mu", mus, a0=start[:2], w0=start[2:], delta=DELTA, rtol=1e-12, atol=1e-14)
    r = peer.hitting_times(mus, start[:2], start[2:], delta=DELTA, rtol=1e-12)
    assert r["ok"].all()
    for key in ("tau_param", "tau_loss"):
        np.testing.assert_allclose(r[key], getattr(ours, key), rtol=2e-9)
