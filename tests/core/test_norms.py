"""||rho||^2 for a large batch at array speed: the float64 closed form where it is safe, 50-digit mpmath
(memdyn's per-element path) wherever it is not, and the same value for an element however it is batched."""

import numpy as np
import pytest

import memdyn
from memdyn.core.limits import ARRAY_NORMS_FROM


def _counted(monkeypatch, target):
    """The per-element path, counting its calls for this test (targets are shared: one per derivation);
    returns the calls and the path itself for ``target``."""
    calls = []
    per_element = type(target)._norm2
    monkeypatch.setattr(
        type(target), "_norm2", lambda self, values: (calls.append(values), per_element(self, values))[1]
    )
    return calls, lambda values: per_element(target, values)


def _checked(target, name, values):
    return [target.check_values({name: float(v)}) for v in values]


def test_a_large_batch_takes_the_float64_closed_form_within_a_few_ulp_of_mpmath(monkeypatch):
    """The plateau kernel from 1/omega = 0.1 to 60 (far memory included), at most 16 values by mpmath
    (the samples), the rest in float64 within 4 ulp of 50-digit mpmath (measured: 3)."""
    tg = memdyn.target("exp(-t) + 0.5*exp(-(t - mu)**2/2)", {"mu": [1.0, 2.0]})
    checked = _checked(tg, "mu", np.linspace(0.1, 60.0, ARRAY_NORMS_FROM + 1))
    calls, per_element = _counted(monkeypatch, tg)
    fast = tg._norms(checked)
    assert len(calls) <= 16
    slow = np.array([per_element(v) for v in checked])
    assert np.max(np.abs(fast - slow) / np.spacing(slow)) <= 4


def test_a_closed_form_that_loses_digits_in_float64_is_computed_by_mpmath(monkeypatch):
    """exp(-a t) - exp(-1.0001 t) near a = 1.0001: ||rho||^2 = (a - 1.0001)^2 / (2 a 1.0001 (a + 1.0001)),
    where float64 rounds the decimal 1.0001 (2e-12 relative at a = 1.00005). A sampled element
    disagrees with mpmath, so every element takes mpmath: the values are mpmath's exactly."""
    tg = memdyn.target("exp(-a*t) - exp(-1.0001*t)", {"a": [1.2, 1.3]})
    checked = _checked(tg, "a", np.linspace(1.00005, 1.1, ARRAY_NORMS_FROM + 44))
    calls, per_element = _counted(monkeypatch, tg)
    fast = tg._norms(checked)
    assert len(calls) > len(checked)  # the samples, then every element
    assert np.array_equal(fast, [per_element(v) for v in checked])


@pytest.mark.parametrize("rho, name, values", [("(1+t)^(-p)", "p", np.linspace(0.6, 4.0, ARRAY_NORMS_FROM))])
def test_a_closed_form_without_a_float64_form_is_computed_by_mpmath(monkeypatch, rho, name, values):
    """The power law's ||rho||^2 = 1/(2p - 1) is derived through gamma functions, which have no
    lowering in the function table: every element by the per-element path, exactly."""
    tg = memdyn.target(rho, {name: [1.5, 2.0]})
    checked = _checked(tg, name, values)
    calls, per_element = _counted(monkeypatch, tg)
    assert np.array_equal(tg._norms(checked), [per_element(v) for v in checked])


def test_small_batches_and_single_flows_keep_the_50_digit_values(monkeypatch):
    """Below ARRAY_NORMS_FROM elements the per-element path runs for every element (a flow's loss is
    what it was), and the first elements of a large batch agree with it to 4 ulp."""
    tg = memdyn.target("exp(-t) + 0.5*exp(-(t - mu)**2/2)", {"mu": [1.0, 2.0]})
    small = _checked(tg, "mu", np.linspace(6.0, 16.0, ARRAY_NORMS_FROM - 1))
    calls, per_element = _counted(monkeypatch, tg)
    assert np.array_equal(tg._norms(small), [per_element(v) for v in small]) and len(calls) == len(small)
    large = tg.data_batch([{"mu": float(v)} for v in np.linspace(6.0, 16.0, ARRAY_NORMS_FROM)], host=True)
    one = tg.data({"mu": 6.0})
    assert abs(float(large.norm2[0]) - float(one.norm2)) <= 4 * np.spacing(float(one.norm2))
