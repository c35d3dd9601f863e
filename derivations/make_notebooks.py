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


ON_MSTAR = [
    ("md", r"""# Gradient and Hessian on the invariant set $M^*$ (JMLR Props. 33-34)

Target $\rho = e^{-t} + c\,e^{-(t-\mu)^2/2}$, width $m = 2$, started on $M^*$: neuron 1 at
$(a, w) = (1, 1)$ reproduces $e^{-t}$ exactly, neuron 2 is *null* ($a_2 = 0$) at rate $w_2$. On $M^*$
the residual is the bump alone, so every gradient component is an overlap of the bump with
$e^{-w_k t}$ or $t e^{-w_k t}$: exponentially small in $\mu = 1/\omega$. SymPy derives the gradient
and the Hessian there from the same templates memdyn integrates."""),
    ("code", """import numpy as np, sympy as sp, jax, jax.numpy as jnp
import memdyn
from memdyn.stable import plain
from memdyn.timescales import fit_exponential_scaling
target = memdyn.target("exp(-t) + c*exp(-(t - mu)**2/2)", {"c": 0.5, "mu": 20.0})
d = target.derivation
a, w, J, ga, gw = d.unrolled(2)
c, mu = d.kernel.params
on_mstar = {a[0]: 1, a[1]: 0, w[0]: 1}
grad = [sp.simplify(g.subs(on_mstar)) for g in ga + gw]
grad"""),
    ("md", r"""The $e^{-t}$ part cancels exactly: $\partial J/\partial a_k = -2c\,L_{bump}(w_k)$,
$\partial J/\partial w_2 = 0$ (because $a_2 = 0$) and $\partial J/\partial w_1 = 2c\,\Delta_1(1)$ with
$\Delta_1(w) = \int t e^{-wt} e^{-(t-\mu)^2/2}dt$. The largest is $\partial J/\partial a_2 \propto e^{-w_2\mu}$, so
$\|\nabla J\| \sim e^{-w_{min}/\omega}$ with *no* power of $1/\omega$ in front (Prop. 33 allows $\omega^{-1}$)."""),
    ("code", """theta = list(a) + list(w)
H = sp.Matrix(4, 4, lambda i, j: sp.diff(J, theta[i], theta[j])).subs(on_mstar)
H_null = sp.simplify(H[[1, 3], [1, 3]])   # the (a_2, w_2) block of the null neuron
H_null"""),
    ("md", r"""For the null neuron, $\partial^2 J/\partial w_2^2 = 0$ exactly on $M^*$ and $\partial^2J/\partial a_2\partial w_2 = 2c\,\Delta_1(w_2)$
is the only place the bump enters the $w_2$-direction. The $w_2$-direction is flat to first order; the
bump bends it only at second order, through the stiff $a$-block. Eliminating the other three directions
(a Schur complement) gives the smallest eigenvalue

$$\lambda_{small} \approx -\big(2c\,\Delta_1(w_2)\big)^2\,[S^{-1}]_{a_2a_2} \;\propto\; \mu^2 e^{-2 w_2 \mu},$$

with $S$ the Hessian without the $w_2$ row and column: exponent $2w_{min}$, power $\mu^2$. Prop. 34 bounds
it by $\omega^{-2}e^{-w_{min}/\omega}$; the true decay is twice as fast. Numerically:"""),
    ("code", """H_num = jax.jit(lambda dat, th: memdyn.hessian(target, dat, th))
theta0 = jnp.asarray([1.0, 0.0, 1.0, 0.5])
rows = []
for m_ in np.arange(12.0, 41.0, 4.0):
    dat = target.data({"c": 0.5, "mu": float(m_)})
    Hn = np.asarray(H_num(dat, theta0))
    smallest = np.linalg.eigvalsh(Hn)[np.argmin(np.abs(np.linalg.eigvalsh(Hn)))]
    keep = [0, 1, 2]                       # a_1, a_2, w_1: everything but w_2
    S = Hn[np.ix_(keep, keep)]
    b = Hn[keep, 3]
    schur = Hn[3, 3] - b @ np.linalg.solve(S, b)   # exact elimination of the other directions
    rows.append((m_, smallest, schur, smallest / schur))
for r in rows:
    print("1/omega = %4.0f   smallest eigenvalue % .6e   Schur prediction % .6e   ratio %.9f" % r)
assert abs(rows[-1][3] - 1) < 1e-6"""),
    ("code", """mus = np.array([r[0] for r in rows]); lam = np.array([r[1] for r in rows])
free = fit_exponential_scaling(mus, lam, min_memory=20.0)
held = fit_exponential_scaling(mus, lam, q=2.0, min_memory=20.0)
print("free fit: s = %.4f +- %.4f, q = %.2f +- %.2f" % (free["s"], free["s_stderr"], free["q"], free["q_stderr"]))
print("q held at 2: s = %.4f +- %.4f" % (held["s"], held["s_stderr"]))
assert abs(held["s"] + 1.0) < 0.01   # e^{-2 w_2 mu} with w_2 = 0.5: twice Prop. 34's rate"""),
]


JACKSON = [
    ("md", r"""# The Jackson construction of JMLR Theorem 10

If $\rho$ and its first $\alpha$ derivatives decay faster than $e^{-\beta t}$, substitute
$s = e^{-\beta t/(\alpha+1)}$ and set $q(s) = \rho\big(-(\alpha+1)\ln s/\beta\big)/s$ on $(0, 1]$, $q(0) = 0$.
Then $q \in C^\alpha[0,1]$ with $q^{(k)}(0) = 0$, a degree-$(m-1)$ polynomial $Q$ approximates it, and
$\hat\rho(t) = s\,Q(s) = \sum_{k=1}^m u_k e^{-k\beta t/(\alpha+1)}$ is a width-$m$ linear RNN with
$\|\rho - \hat\rho\|_{L^1} = \frac{\alpha+1}{\beta}\int_0^1 |q - Q|\,ds$."""),
    ("code", """import numpy as np, sympy as sp
import memdyn
from memdyn.approx import q_function, jackson_network, jackson_bound, lp_error, jackson_constants
target = memdyn.target("exp(-t)*(1 + sin(t))")
alpha, beta = 1, sp.Rational(9, 10)
s, q = q_function(target, {}, alpha, float(beta))
q"""),
    ("code", """# q and its first alpha derivatives vanish at s = 0 (that is the decay condition of the theorem)
[sp.limit(sp.diff(q, s, k), s, 0, "+") for k in range(alpha + 1)]"""),
    ("code", """sp.simplify(sp.diff(q, s, alpha))   # the derivative whose sup enters Jackson's bound"""),
    ("md", r"""The bound memdyn computes for its construction (Chebyshev interpolation, so a Lebesgue constant
$1 + \Lambda_{m-1} \le 2 + \frac{2}{\pi}\ln m$ times Jackson's $E_{m-1}(q) \le (\pi/4)^\alpha \|q^{(\alpha)}\|_\infty / (m(m-1)\cdots(m-\alpha+1))$
on $[0, 1]$), against the measured error:"""),
    ("code", """rows = []
for m in (1, 2, 4, 8, 16):
    a, w = jackson_network(target, {}, m, alpha, float(beta))
    err = lp_error(target, {}, a, w, p=1)
    bound = jackson_bound(target, {}, m, alpha, float(beta))
    rows.append((m, err, bound))
    print(f"m = {m:2d}   L1 error {err:.3e}   bound {bound:.3e}")
assert all(e <= b for _, e, b in rows)
print(jackson_constants(target, {}, alpha, float(beta)))"""),
]


def build(cells, path):
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src) for kind, src in cells]
    nbf.write(nb, path)


if __name__ == "__main__":
    build(EXP_BUMP, HERE / "01_exp_bump_loss_and_flow.ipynb")
    build(ON_MSTAR, HERE / "02_gradient_and_hessian_on_mstar.ipynb")
    build(JACKSON, HERE / "03_jackson_construction.ipynb")
