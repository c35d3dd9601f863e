"""Writes the derivation notebooks from the cells below (run: python derivations/make_notebooks.py).

The notebooks are committed; this script is the single source of their cells, so an edit
here followed by a rerun keeps them reviewable as plain Python.
"""

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).parent

EXP_BUMP = [
    ("md", r"""# The loss and gradient flow for $e^{-t}$ + a Gaussian bump far away

Target (JMLR eq. 99): $\rho(t) = a^* e^{-w^* t} + c\,e^{-(t-\mu)^2/(2\sigma^2)}$ with the bump at
$\mu = 1/\omega$. Model: $\hat\rho(t) = \sum_i a_i e^{-w_i t}$. With white-noise inputs the loss is
the $L^2$ distance (Itô isometry):

$$J(a,w) = \sum_{ij}\frac{a_i a_j}{w_i+w_j} - 2\sum_i a_i\,L[\rho](w_i) + \|\rho\|^2,\qquad
L[\rho](w) = \int_0^\infty e^{-wt}\rho(t)\,dt .$$

Everything below is what `memdyn` derives; the cells check it numerically."""),
    ("code", """import numpy as np, sympy as sp, mpmath, jax, jax.numpy as jnp
import memdyn
from memdyn.formula import T
from memdyn.symbolic import W
from memdyn.stable import plain
rho = "a*exp(-b*t) + c*exp(-(t - mu)**2/(2*sigma**2))"
values = {"a": 1.0, "b": 1.0, "c": 0.5, "mu": 20.0, "sigma": 1.0}
target = memdyn.target(rho, values)
d = target.derivation
d.kernel.expr"""),
    ("md", "## The Laplace transform, as SymPy prints it and as memdyn keeps it"),
    ("code", """bump = d.terms[1].term
printed = sp.laplace_transform(bump, T, W, noconds=True)
printed"""),
    ("code", """d.terms[1].laplace   # experfc(A, z) = exp(A) * erfc(z), one function"""),
    ("md", r"""The printed form multiplies $e^{A}$ with $A \approx w^2\sigma^2/2 - \mu w$ by an erf/erfc of
$z = (w\sigma^2-\mu)/(\sigma\sqrt2)$. For $w > \mu/\sigma^2$ the erfc underflows while the exponential
overflows: in float64 the product is $0\cdot\infty$. memdyn's stabiliser merges every exponential
with the erfc it multiplies into `experfc(A, z)` and lowers it as $e^{A-z^2}\,\mathrm{erfcx}(z)$ for
$z\ge0$, with $A - z^2$ expanded symbolically:"""),
    ("code", """A, z = d.terms[1].laplace.atoms(memdyn.stable.experfc).pop().args
sp.expand(A - z**2)   # the exponent that is actually evaluated: no large cancelling terms"""),
    ("code", """bump_values = {k: values[k] for k in ("c", "mu", "sigma")}
bump_target = memdyn.target("c*exp(-(t - mu)**2/(2*sigma**2))", bump_values)
params = bump_target.kernel.params
bump_printed = sp.laplace_transform(bump_target.kernel.expr, T, W, noconds=True)
naive = sp.lambdify((W, *params), bump_printed, modules=["scipy", "numpy"])
args = [bump_values[p.name] for p in params]
with np.errstate(all="ignore"):
    naive_value = float(naive(30.0, *args))
stable_value = float(bump_target.transforms(jnp.asarray([30.0]), bump_target.data(bump_values))[0][0])
from memdyn.reference import mpmath_laplace
ref = float(mpmath_laplace(bump_target.kernel.substitute(bump_values), 30.0, breakpoints=[1.0, 8.0, 20.0]))
print(f"w = 30, mu = 20:  printed form {naive_value!r}   stable form {stable_value!r}   mpmath {ref!r}")
assert abs(stable_value - ref) <= 1e-10 * ref"""),
    ("md", r"""## Moments and the gradient

$\partial_w L = -\int t e^{-wt}\rho\,dt$ and $\partial_w^2 L = \int t^2 e^{-wt}\rho\,dt$ are
SymPy derivatives of the stable form (stabilised again):"""),
    ("code", """d.terms[1].d1"""),
    ("code", """a, w, J, ga, gw = d.unrolled(2)
sp.Eq(sp.Symbol(r"\\dot w_1"), -gw[0])"""),
    ("md", "## Numerical checks: transforms against mpmath, far memory included"),
    ("code", """worst = 0.0
for mu in (10.0, 20.0, 40.0):
    vals = dict(values, mu=mu)
    dat = target.data(vals)
    ws = np.array([0.05, 0.5, 2.0, 8.0, 15.0])
    L, d1, _ = (np.asarray(x) for x in target.transforms(jnp.asarray(ws), dat))
    rho_num = d.kernel.substitute(vals)
    for wv, Lv, d1v in zip(ws, L, d1):
        peak = max(mu - wv, 0.0)
        pts = sorted({p for p in (peak - 8, peak, peak + 8, mu) if p > 0})
        r0 = mpmath_laplace(rho_num, wv, breakpoints=pts)
        r1 = mpmath_laplace(rho_num, wv, order=1, breakpoints=pts)
        worst = max(worst, float(abs(Lv - r0) / abs(r0)), float(abs(-d1v - r1) / abs(r1)))
print(f"worst relative error over 30 values: {worst:.2e}")
assert worst <= 1e-10"""),
    ("md", r"""## The gradient flow and the plateau

On the invariant set $M^*$ (neuron 1 = $(a^*, w^*)$, neuron 2 with $a = 0$) the loss equals
$\|\text{bump}\|^2 = c^2\sigma\sqrt{\pi}\,(1-\mathrm{erfc}(\mu/\sigma)/2)$, and the symbolic gradient
equals automatic differentiation of the loss:"""),
    ("code", """data = target.data(values)
theta0 = jnp.asarray([1.0, 0.0, 1.0, 0.5])
J0 = float(memdyn.loss(target, data, theta0))
level = 0.25 * float(mpmath.sqrt(mpmath.pi) * (1 - mpmath.erfc(20.0) / 2))
g = memdyn.gradient(target, data, theta0)
g_ad = jax.grad(lambda th: memdyn.loss(target, data, th))(theta0)
print(J0, level, np.asarray(g))
assert abs(J0 - level) <= 1e-13 and float(jnp.max(jnp.abs(g - g_ad))) <= 1e-12"""),
    ("code", """res = memdyn.hitting_times(target, data, [1.0, 0.0], [1.0, 0.5], delta=0.01, t1=1e12)
res"""),
]


def build(cells, path):
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src) for kind, src in cells]
    nbf.write(nb, path)


if __name__ == "__main__":
    build(EXP_BUMP, HERE / "01_exp_bump_loss_and_flow.ipynb")
