"""Shared fixtures. float64 is turned on once for every test here (memdyn's own import leaves JAX's
settings alone; its public functions turn float64 on for their own calls, which tests/test_library_form.py
checks in a fresh interpreter)."""

import os

import jax
import pytest
from hypothesis import settings

jax.config.update("jax_enable_x64", True)

import memdyn  # noqa: E402

# Property-based tests: the same examples on every run by default (derandomised, so CI is repeatable);
# MEMDYN_HYPOTHESIS=thorough draws new ones, ten times as many.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("thorough", derandomize=False, print_blob=True)
PROFILE = os.environ.get("MEMDYN_HYPOTHESIS", "repeatable")
settings.load_profile(PROFILE)
HYPOTHESIS_SCALE = 10 if PROFILE == "thorough" else 1

BUMP = "exp(-t) + 0.5*exp(-(t - mu)**2/2)"
"""The plateau target: e^{-t} plus a Gaussian bump (c = 0.5, sigma = 1) at mu = 1/omega."""


@pytest.fixture(scope="session")
def x64():
    assert jax.config.jax_enable_x64
    return True


@pytest.fixture(scope="session")
def bump_target():
    return memdyn.target(BUMP, {"mu": 10.0})
