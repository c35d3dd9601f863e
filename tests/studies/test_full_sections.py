"""The README's numbers from the full profile's sections 8-9 (reparameterised rates, sharp escape times),
recomputed by those sections' own code with the full profile's settings (slow: about 5 minutes)."""

from __future__ import annotations

import pytest

from memdyn.core.integrate import SolverConfig
from memdyn.studies.reproduce import reparam, sharp
from memdyn.studies.reproduce.profile import PROFILES

pytestmark = pytest.mark.slow


def _quiet(*_):
    pass


@pytest.fixture(scope="module")
def reparam_tables():
    return reparam.compute(PROFILES["full"], SolverConfig(), _quiet)["tables"]


@pytest.fixture(scope="module")
def sharp_tables():
    return sharp.compute(PROFILES["full"], SolverConfig(), _quiet)["tables"]


def _table(tables, w_star, w0):
    (tab,) = [t for t in tables if t["start"] == [1.0, 0.0, w_star, w0]]
    return tab["maps"]


def test_maps_keep_the_exponent_and_follow_the_slow_flow_where_scales_separate(reparam_tables):
    """README section 8: slopes 1.357-1.369 for all five maps at w* = 3, w0 = 0.8, 1/omega = 10..16;
    at 1/omega = 14 tau_map/tau_plain measured / slow-flow prediction: exp 1.772 / 1.775, softplus
    3.581 / 3.586, StableSSM 0.643 / 0.644; LRU = exp."""
    maps = _table(reparam_tables, 3.0, 0.8)
    slopes = [round(v["fit"]["plain"]["slope"], 3) for v in maps.values()]
    assert min(slopes) == 1.357 and max(slopes) == 1.369
    i = maps["plain"]["memory"].index(14.0)
    for name, measured, predicted in (("exp", 1.772, 1.775), ("softplus", 3.581, 3.586), ("best", 0.643, 0.644)):
        assert round(maps[name]["ratio"][i], 3) == measured, name
        assert round(maps[name]["slow_ratio"][i], 3) == predicted, name
    assert maps["lru"]["tau_loss"] == pytest.approx(maps["exp"]["tau_loss"], rel=1e-6)


def test_where_scales_separate_slowly_the_ratio_is_still_climbing(reparam_tables):
    """README section 8: w* = 1, w0 = 0.5: exp's ratio 1.3 at 1/omega = 6, 4.57 at 18, slow flow 4.92."""
    maps = _table(reparam_tables, 1.0, 0.5)
    memory = maps["plain"]["memory"]
    assert round(maps["exp"]["ratio"][memory.index(6.0)], 1) == 1.3
    assert round(maps["exp"]["ratio"][memory.index(18.0)], 2) == 4.57
    assert round(maps["exp"]["slow_ratio"][memory.index(18.0)], 2) == 4.92


def test_tau_lead_where_q_is_small(sharp_tables):
    """README section 8-9: at w* = 1, w0 = 0.5 tau_lead is off by -71% at 1/omega = 12 and -33% at 16."""
    (tab,) = [t for t in sharp_tables if t["w0"] == [1.0, 0.5]]
    err = {r["memory"]: r["err_lead"] for r in tab["rows"]}
    assert round(100 * err[12.0]) == -71 and round(100 * err[16.0]) == -33
