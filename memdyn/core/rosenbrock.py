"""Rodas4, a linearly implicit (Rosenbrock) stiff solver for Diffrax, using a known Jacobian.

Diffrax's stiff solvers are implicit Runge-Kutta methods: every stage solves a nonlinear system by
Newton's method, and every Newton iteration builds the Jacobian by autodiff and factorises it (with
LAPACK, whose vmapped factorisations were seen to differ in the last bit between batch sizes: a long
plateau amplifies that into an answer that depends on the batch).

A Rosenbrock method replaces the Newton loop by one linear solve per stage with one matrix,
``W = I/(gamma h) - J(y0)``, factorised once per step (``lu_factor``, array operations only): a fixed
amount of work per step, no inner loop, nothing that depends on the batch. For the gradient flow ``f = -grad L`` the Jacobian is ``-Hess L``,
which memdyn passes beside the vector field in a :class:`JacobianTerm` (forward-mode autodiff of the
centred gradient, ``memdyn.core.solve.Centred.hessian``); a plain ``diffrax.ODETerm`` gets its Jacobian by
forward-mode autodiff of its field.

The method is Hairer and Wanner's RODAS4 (Solving ODEs II, 2nd ed., section IV.7; the coefficients of
their ``rodas.f``): six stages, order 4 with an embedded order-3 estimate, L-stable and stiffly
accurate, with a dense output of order 3 built from the stages. Written in Hairer's transformed
variables, stage i solves

    W u_i = f(t0 + c_i h, y0 + sum_j a_ij u_j) + sum_j (C_ij / h) u_j + gamma_i h df/dt,

and the step's end is ``y1 = y0 + sum_j a_5j u_j + u_5 + u_6`` (stiffly accurate: stage 6 is taken at
stage 5's point plus u_5); the last stage, u_6, is the error estimate.
``tests/core/test_rosenbrock.py`` measures its order on problems with known solutions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from diffrax._term import WrapTerm  # what diffeqsolve hands a solver (see _ode)

# RODAS4 (Hairer & Wanner, rodas.f): a_ij, C_ij, c_i, d_i (gamma_i = d_i), the dense-output weights
GAMMA = 0.25
A = (
    (1.544000000000000,),
    (0.9466785280815826, 0.2557011698983284),
    (3.314825187068521, 2.896124015972201, 0.9986419139977817),
    (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950),
)
C = (
    (-5.668800000000000,),
    (-2.430093356833875, -0.2063599157091915),
    (-0.1073529058151375, -9.594562251023355, -20.47028614809616),
    (7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160),
    (8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054),
)
C_NODES = (0.0, 0.386, 0.21, 0.63, 1.0, 1.0)
D = (0.25, -0.1043, 0.1035, -0.0362, 0.0, 0.0)
H_DENSE = (
    (10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823, 1.025137723295662),
    (-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386, -6.594389125716872),
)


def _square(rows, n: int = 6) -> np.ndarray:
    """A strictly lower-triangular tableau (row i holds stage i + 1's coefficients) as an n x n array."""
    out = np.zeros((n, n))
    for i, row in enumerate(rows, start=1):
        out[i, : len(row)] = row
    return out


STAGE_POINTS = _square(A + (A[3] + (1.0,),))
"""Row i: the weights of u_j in stage i's point (the stiffly accurate tail: stage 6 = stage 5 + u_5)."""
STAGE_C = _square(C)
END_WEIGHTS = np.asarray(A[3] + (1.0, 1.0))
"""The step's end: stage 6's point plus u_6."""


class JacobianTerm(diffrax.ODETerm):
    """An ``ODETerm`` with its Jacobian: ``jacobian(t, y, args)`` is d(vector_field)/dy, an (n, n) array.

    ``autonomous=True`` declares that the vector field does not depend on t: the step then skips its
    time derivative (which would be traced, and is zero).
    """

    jacobian: Callable
    autonomous: bool = False


class RodasInterpolation(diffrax.AbstractLocalInterpolation):
    """RODAS4's dense output over one step: y(s) = (1 - s) y0 + s (y1 + (1 - s)(k1 + s k2)), s in [0, 1]."""

    # t0 and t1 are AbstractVars of AbstractPath, which mypy reads as ClassVars
    t0: jax.Array  # type: ignore[misc]
    t1: jax.Array  # type: ignore[misc]
    y0: jax.Array
    y1: jax.Array
    k1: jax.Array
    k2: jax.Array

    def evaluate(self, t0, t1=None, left: bool = True):
        del left
        if t1 is not None:
            return self.evaluate(t1) - self.evaluate(t0)
        s = (t0 - self.t0) / (self.t1 - self.t0)
        return (1 - s) * self.y0 + s * (self.y1 + (1 - s) * (self.k1 + s * self.k2))


def lu_factor(M: jax.Array) -> tuple[jax.Array, jax.Array]:
    """LU with partial pivoting of a small square matrix, by row operations on whole arrays: (LU, perm),
    L unit lower (below the diagonal of LU) and U upper, with M[perm] = L U.

    Written as a loop of elementwise array operations rather than LAPACK's ``getrf`` so that a batch
    element's factors do not depend on its batch: a vmapped LAPACK call was seen to change results in
    the last bit between batch sizes, which a long plateau amplifies to 4e-8 in its hitting time.
    """
    n = M.shape[0]
    rows = jnp.arange(n)

    def eliminate(k, carry):
        LU, perm = carry
        p = jnp.argmax(jnp.where(rows >= k, jnp.abs(LU[:, k]), -1.0))
        swap = jnp.where(rows == k, p, jnp.where(rows == p, k, rows))
        LU, perm = LU[swap], perm[swap]
        below = rows > k
        factors = jnp.where(below, LU[:, k] / LU[k, k], 0.0)
        LU = LU - factors[:, None] * jnp.where(below, LU[k], 0.0)[None, :]  # columns right of k
        LU = LU.at[:, k].set(jnp.where(below, factors, LU[:, k]))
        return LU, perm

    return jax.lax.fori_loop(0, n, eliminate, (M, rows))


def lu_solve(factors: tuple[jax.Array, jax.Array], b: jax.Array) -> jax.Array:
    """x with M x = b, from ``lu_factor(M)``."""
    LU, perm = factors
    n = LU.shape[0]
    rows = jnp.arange(n)

    def forward(i, y):
        return y - jnp.where(rows > i, LU[:, i], 0.0) * y[i]

    def backward(j, x):
        i = n - 1 - j
        xi = x[i] / LU[i, i]
        return jnp.where(rows == i, xi, x - jnp.where(rows < i, LU[:, i], 0.0) * xi)

    y = jax.lax.fori_loop(0, n, forward, b[perm])
    return jax.lax.fori_loop(0, n, backward, y)


def _ode(terms) -> tuple[Callable, Callable, bool]:
    """``(field, jacobian, autonomous)`` of the ODE y' = field(t, y, args) that Diffrax integrates.

    ``diffeqsolve`` hands a solver its term wrapped in ``WrapTerm``, whose clock runs backwards for a
    solve from t0 > t1: in that clock s the ODE reads dy/ds = direction f(direction s, y). Unwrapping
    it is what lets a :class:`JacobianTerm`'s own Jacobian reach the step (a test gives a field that
    autodiff cannot differentiate). Without one the Jacobian is forward-mode autodiff of the field.
    """
    direction: Any = 1  # WrapTerm.direction: an int or an integer array
    if isinstance(terms, WrapTerm):
        direction, terms = terms.direction, terms.term
    inner = terms

    def field(t, y, args):
        return direction * inner.vf(direction * t, y, args)

    if isinstance(inner, JacobianTerm):
        return field, lambda t, y, args: direction * inner.jacobian(direction * t, y, args), inner.autonomous

    def jacobian(t, y, args):
        return jax.jacfwd(lambda z: field(t, z, args))(y)

    return field, jacobian, False


class Rodas4(diffrax.AbstractAdaptiveSolver):
    """RODAS4 (order 4, embedded 3, L-stable) for an ODE on a one-dimensional state.

    Uses the Jacobian of a :class:`JacobianTerm` when given one, else forward-mode autodiff. One LU
    factorisation and six right-hand sides per step; no nonlinear iteration, so a step's work is fixed.
    """

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar = RodasInterpolation

    def order(self, terms):
        return 4

    def error_order(self, terms):
        # the embedded solution is of order 3: its error is O(h^4)
        return 4

    def init(self, terms, t0, t1, y0, args):
        return None

    def func(self, terms, t0, y0, args):
        return _ode(terms)[0](t0, y0, args)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        del solver_state, made_jump
        field, jacobian, autonomous = _ode(terms)
        h = t1 - t0
        n = y0.shape[0]
        lu = lu_factor(jnp.eye(n, dtype=y0.dtype) / (GAMMA * h) - jacobian(t0, y0, args))
        if autonomous:
            dfdt = jnp.zeros_like(y0)
        else:
            _, dfdt = jax.jvp(lambda t: field(t, y0, args), (t0,), (jnp.ones_like(t0),))

        # The six stages as one loop over rows of the tableau, so that the vector field is traced once
        # (the unrolled stages made the program 1.3x Kvaerno5's). Stage i's point is y0 + sum_j
        # a_ij u_j, the stiffly accurate tail included (stage 6 at stage 5's point plus u_5).
        points, cs, nodes, ds = (jnp.asarray(x, y0.dtype) for x in (STAGE_POINTS, STAGE_C, C_NODES, D))

        def stage(i, us):
            y_stage = y0 + jnp.sum(points[i][:, None] * us, axis=0)
            rhs = field(t0 + nodes[i] * h, y_stage, args) + ds[i] * h * dfdt
            rhs = rhs + jnp.sum(cs[i][:, None] * us, axis=0) / h
            return us.at[i].set(lu_solve(lu, rhs))

        us = jax.lax.fori_loop(0, 6, stage, jnp.zeros((6, n), dtype=y0.dtype))
        y1 = y0 + jnp.sum(END_WEIGHTS[:, None] * us, axis=0)
        k1, k2 = (jnp.sum(jnp.asarray(row)[:, None] * us[:5], axis=0) for row in H_DENSE)
        dense_info = dict(y0=y0, y1=y1, k1=k1, k2=k2)
        # a non-finite step is rejected by the step-size controller (its error is not finite)
        return y1, us[5], dense_info, None, diffrax.RESULTS.successful


Rodas4.__init__.__doc__ = "RODAS4 takes no arguments: the Jacobian comes with the term (JacobianTerm) or by autodiff."

__all__ = ["Rodas4", "JacobianTerm", "RodasInterpolation"]
