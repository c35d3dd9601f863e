"""Shared fixtures. Importing memdyn turns float64 on (and checks it) once for every test."""

import jax
import pytest

import memdyn

BUMP = "exp(-t) + 0.5*exp(-(t - mu)**2/2)"
"""The issue's plateau target: e^{-t} plus a Gaussian bump (c = 0.5, sigma = 1) at mu = 1/omega."""


@pytest.fixture(scope="session")
def x64():
    assert jax.config.jax_enable_x64
    return True


@pytest.fixture(scope="session")
def bump_target():
    return memdyn.target(BUMP, {"mu": 10.0})
