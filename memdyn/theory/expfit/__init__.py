"""Best exponential-sum fits rho ~ sum_i a_i e^{-w_i t} on [0, inf) in extended precision, in three norms.

The float64 L2 optimiser of ``memdyn.theory.approx`` stalls near width 6: the Gram matrix of
e^{-w t} is the Cauchy matrix 1/(w_i + w_j), whose condition number grows like e^{c m}, so that
solving for the amplitudes and forming J = ||rho||^2 - b^T G^-1 b (a difference of nearly equal
numbers) loses every digit once J < 1e-16 ||rho||^2. Here every quantity that cancels is formed in
binary floating point of ``PRECISION`` bits (gmpy2/MPFR, the backend mpmath itself uses), and
only the optimiser's step, which needs no such accuracy, runs in float64:

* ``l2`` -- variable projection: for given rates the amplitudes solve G a = b with
  b_i = int rho e^{-w_i t} dt (Laplace transform of rho, by the trapezoidal rule in u = ln t,
  exponentially convergent there); the rates minimise ln J by L-BFGS with the exact gradient
  dJ/dw_i = 2 a_i (int t rho e^{-w_i t} - sum_j a_j/(w_i + w_j)^2).
* ``sup`` -- the best uniform fit's error equioscillates at 2m + 1 points (exponential sums of m
  terms form a varisolvent family of degree 2m: Braess, *Nonlinear Approximation Theory*, 1986,
  ch. IV/VI). The classical Remez exchange (Newton for (a, ln w, E) on a reference) stalls near
  width 19 for 1/(1+t): its Newton steps leave their region of convergence. Following Hackbusch
  (Comput. Vis. Sci. 20, 2019), the independent variables are instead the 2m zeros xi of the
  error: the sum interpolating rho there is found by Newton, the error's extrema between the zeros
  by safeguarded Newton, and the zeros move (Newton, with the sensitivities in closed form) until
  the 2m + 1 extrema agree to ``REMEZ_TOL``. Started from the width m-1 fit's zeros, stretched.
  Certificate: de la Vallee Poussin, min_j |e(x_j)| <= E* <= max_t |e(t)|, both in the JSON;
  checked against the published tables (``memdyn.theory.hackbusch``) to width 40.
* ``l1`` -- ||rho - rho_hat||_L1 = sup_t ||H_t - H_hat_t|| (JMLR Lemma 15). The error of the best
  fit changes sign at 2m points z, and its first-order conditions int sign(e) d rho_hat/d theta = 0
  become conditions on z alone once rho_hat is the interpolant through rho there (the canonical
  points of L1 approximation, with closed-form integrals of t^p e^{-w t}); Newton in ln z solves
  them with the same node moves as the sup fits. Certificate: the first-order condition evaluated
  anew (zeros found on a grid, int_x^inf rho by mpmath quadrature), its largest relative violation
  in the JSON.

Each width starts from the width m-1 optimum with one rate added (a width-m sum contains every
width-(m-1) one), so errors are non-increasing in m by construction: a fit that does not beat its
predecessor keeps it and says so (``improved`` false).

Modules: ``.base`` (arithmetic, the kernel, a fit), ``.l2``, ``.sup``, ``.l1`` (the fitters),
``.norms`` (errors in every norm), ``.driver`` (every width in one norm).
"""

from .base import (
    L1_KKT,
    MAX_RATE,
    MAX_WIDTH,
    MIN_RATE,
    NORMS,
    PRECISION,
    QUADRATURE_ERROR,
    REMEZ_TOL,
    STEP,
    U_LOW,
    NormFit,
    PreciseKernel,
    PrecisionLost,
    exp_sum,
    mp_exp,
    precise,
    residual,
    solve,
    to_f64,
    to_mpfr,
)
from .driver import BestFits, best_fits, check_widths
from .l1 import fit_l1
from .l2 import fit_l2
from .norms import errors, l1_error, l2_error, sup_error, zeros
from .sup import GRID, MAX_NODE_STEP, fit_sup, move_nodes, node_start, search_grid, sensitivity

__all__ = [
    "BestFits",
    "GRID",
    "L1_KKT",
    "MAX_NODE_STEP",
    "MAX_RATE",
    "MAX_WIDTH",
    "MIN_RATE",
    "NORMS",
    "NormFit",
    "PRECISION",
    "PreciseKernel",
    "PrecisionLost",
    "QUADRATURE_ERROR",
    "REMEZ_TOL",
    "STEP",
    "U_LOW",
    "best_fits",
    "check_widths",
    "errors",
    "exp_sum",
    "fit_l1",
    "fit_l2",
    "fit_sup",
    "l1_error",
    "l2_error",
    "move_nodes",
    "mp_exp",
    "node_start",
    "precise",
    "residual",
    "search_grid",
    "sensitivity",
    "solve",
    "sup_error",
    "to_f64",
    "to_mpfr",
    "zeros",
]
