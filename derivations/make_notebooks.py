"""Writes the derivation notebooks from the cells below (run: python derivations/make_notebooks.py).

The notebooks are committed; this script is the single source of their cells, so an edit
here followed by a rerun keeps them reviewable as plain Python.
"""

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).parent

EXP_BUMP = [
    (
        "md",
        r"""# The loss and gradient flow for $e^{-t}$ + a Gaussian bump far away

Target (JMLR eq. 99): $\rho(t) = a^* e^{-w^* t} + c\,e^{-(t-\mu)^2/(2\sigma^2)}$ with the bump at
$\mu = 1/\omega$. Model: $\hat\rho(t) = \sum_i a_i e^{-w_i t}$. With white-noise inputs the loss is
the $L^2$ distance (Itô isometry):

$$J(a,w) = \sum_{ij}\frac{a_i a_j}{w_i+w_j} - 2\sum_i a_i\,L[\rho](w_i) + \|\rho\|^2,\qquad
L[\rho](w) = \int_0^\infty e^{-wt}\rho(t)\,dt .$$

Everything below is what `memdyn` derives; the cells check it numerically.""",
    ),
    (
        "code",
        """import numpy as np, sympy as sp, mpmath, jax, jax.numpy as jnp
import memdyn
jax.config.update("jax_enable_x64", True)  # this notebook computes in float64 (memdyn leaves the setting to you)
from memdyn.core.formula import T
from memdyn.core.symbolic import W
from memdyn.core.stable import plain
rho = "a*exp(-b*t) + c*exp(-(t - mu)**2/(2*sigma**2))"
values = {"a": 1.0, "b": 1.0, "c": 0.5, "mu": 20.0, "sigma": 1.0}
target = memdyn.target(rho, values)
d = target.derivation
d.kernel.expr""",
    ),
    ("md", "## The Laplace transform, as SymPy prints it and as memdyn keeps it"),
    (
        "code",
        """bump = d.terms[1].term
printed = sp.laplace_transform(bump, T, W, noconds=True)
printed""",
    ),
    ("code", """d.terms[1].laplace   # experfc(A, z) = exp(A) * erfc(z), one function"""),
    (
        "md",
        r"""The printed form multiplies $e^{A}$ with $A \approx w^2\sigma^2/2 - \mu w$ by an erf/erfc of
$z = (w\sigma^2-\mu)/(\sigma\sqrt2)$. For $w > \mu/\sigma^2$ the erfc underflows while the exponential
overflows: in float64 the product is $0\cdot\infty$. memdyn's stabiliser merges every exponential
with the erfc it multiplies into `experfc(A, z)` and lowers it as $e^{A-z^2}\,\mathrm{erfcx}(z)$ for
$z\ge0$, with $A - z^2$ expanded symbolically:""",
    ),
    (
        "code",
        """A, z = d.terms[1].laplace.atoms(memdyn.core.stable.experfc).pop().args
sp.expand(A - z**2)   # the exponent that is actually evaluated: no large cancelling terms""",
    ),
    (
        "code",
        """bump_values = {k: values[k] for k in ("c", "mu", "sigma")}
bump_target = memdyn.target("c*exp(-(t - mu)**2/(2*sigma**2))", bump_values)
params = bump_target.kernel.params
bump_printed = sp.laplace_transform(bump_target.kernel.expr, T, W, noconds=True)
naive = sp.lambdify((W, *params), bump_printed, modules=["scipy", "numpy"])
args = [bump_values[p.name] for p in params]
with np.errstate(all="ignore"):
    naive_value = float(naive(30.0, *args))
stable_value = float(bump_target.transforms(jnp.asarray([30.0]), bump_target.data(bump_values))[0][0])
from memdyn.studies.reference import mpmath_laplace
ref = float(mpmath_laplace(bump_target.kernel.substitute(bump_values), 30.0, breakpoints=[1.0, 8.0, 20.0]))
print(f"w = 30, mu = 20:  printed form {naive_value!r}   stable form {stable_value!r}   mpmath {ref!r}")
assert abs(stable_value - ref) <= 1e-10 * ref""",
    ),
    (
        "md",
        r"""## Moments and the gradient

$\partial_w L = -\int t e^{-wt}\rho\,dt$ and $\partial_w^2 L = \int t^2 e^{-wt}\rho\,dt$ are
SymPy derivatives of the stable form (stabilised again):""",
    ),
    ("code", """d.terms[1].d1"""),
    (
        "code",
        """a, w, J, ga, gw = d.unrolled(2)
sp.Eq(sp.Symbol(r"\\dot w_1"), -gw[0])""",
    ),
    ("md", "## Numerical checks: transforms against mpmath, far memory included"),
    (
        "code",
        """worst = 0.0
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
assert worst <= 1e-10""",
    ),
    (
        "md",
        r"""## The gradient flow and the plateau

On the invariant set $M^*$ (neuron 1 = $(a^*, w^*)$, neuron 2 with $a = 0$) the loss equals
$\|\text{bump}\|^2 = c^2\sigma\sqrt{\pi}\,(1-\mathrm{erfc}(\mu/\sigma)/2)$, and the symbolic gradient
equals automatic differentiation of the loss:""",
    ),
    (
        "code",
        """data = target.data(values)
theta0 = jnp.asarray([1.0, 0.0, 1.0, 0.5])
J0 = float(memdyn.loss(target, data, theta0))
level = 0.25 * float(mpmath.sqrt(mpmath.pi) * (1 - mpmath.erfc(20.0) / 2))
g = memdyn.gradient(target, data, theta0)
g_ad = jax.grad(lambda th: memdyn.loss(target, data, th))(theta0)
print(J0, level, np.asarray(g))
assert abs(J0 - level) <= 1e-13 and float(jnp.max(jnp.abs(g - g_ad))) <= 1e-12""",
    ),
    (
        "code",
        """res = memdyn.hitting_times(target, data, [1.0, 0.0], [1.0, 0.5], delta=0.01, t1=1e12)
res""",
    ),
]


ON_MSTAR = [
    (
        "md",
        r"""# Gradient and Hessian on the invariant set $M^*$ (JMLR Props. 33-34)

Target $\rho = e^{-t} + c\,e^{-(t-\mu)^2/2}$, width $m = 2$, started on $M^*$: neuron 1 at
$(a, w) = (1, 1)$ reproduces $e^{-t}$ exactly, neuron 2 is *null* ($a_2 = 0$) at rate $w_2$. On $M^*$
the residual is the bump alone, so every gradient component is an overlap of the bump with
$e^{-w_k t}$ or $t e^{-w_k t}$: exponentially small in $\mu = 1/\omega$. SymPy derives the gradient
and the Hessian there from the same templates memdyn integrates.""",
    ),
    (
        "code",
        """import numpy as np, sympy as sp, jax, jax.numpy as jnp
import memdyn
jax.config.update("jax_enable_x64", True)  # this notebook computes in float64 (memdyn leaves the setting to you)
from memdyn.core.stable import plain
from memdyn.core.fits import fit_log_linear
target = memdyn.target("exp(-t) + c*exp(-(t - mu)**2/2)", {"c": 0.5, "mu": 20.0})
d = target.derivation
a, w, J, ga, gw = d.unrolled(2)
c, mu = d.kernel.params
on_mstar = {a[0]: 1, a[1]: 0, w[0]: 1}
grad = [sp.simplify(g.subs(on_mstar)) for g in ga + gw]
grad""",
    ),
    (
        "md",
        r"""The $e^{-t}$ part cancels exactly: $\partial J/\partial a_k = -2c\,L_{bump}(w_k)$,
$\partial J/\partial w_2 = 0$ (because $a_2 = 0$) and $\partial J/\partial w_1 = 2c\,\Delta_1(1)$ with
$\Delta_1(w) = \int t e^{-wt} e^{-(t-\mu)^2/2}dt$. The largest is $\partial J/\partial a_2 \propto e^{-w_2\mu}$, so
$\|\nabla J\| \sim e^{-w_{min}/\omega}$ with *no* power of $1/\omega$ in front (Prop. 33 allows $\omega^{-1}$).""",
    ),
    (
        "code",
        """theta = list(a) + list(w)
H = sp.Matrix(4, 4, lambda i, j: sp.diff(J, theta[i], theta[j])).subs(on_mstar)
H_null = sp.simplify(H[[1, 3], [1, 3]])   # the (a_2, w_2) block of the null neuron
H_null""",
    ),
    (
        "md",
        r"""For the null neuron, $\partial^2 J/\partial w_2^2 = 0$ exactly on $M^*$ and $\partial^2J/\partial a_2\partial w_2 = 2c\,\Delta_1(w_2)$
is the only place the bump enters the $w_2$-direction. The $w_2$-direction is flat to first order; the
bump bends it only at second order, through the stiff $a$-block. Eliminating the other three directions
(a Schur complement) gives the smallest eigenvalue

$$\lambda_{small} \approx -\big(2c\,\Delta_1(w_2)\big)^2\,[S^{-1}]_{a_2a_2} \;\propto\; \mu^2 e^{-2 w_2 \mu},$$

with $S$ the Hessian without the $w_2$ row and column: exponent $2w_{min}$, power $\mu^2$. Prop. 34 bounds
it by $\omega^{-2}e^{-w_{min}/\omega}$; the true decay is twice as fast. Numerically:""",
    ),
    (
        "code",
        """H_num = jax.jit(lambda dat, th: memdyn.hessian(target, dat, th))
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
assert abs(rows[-1][3] - 1) < 1e-6""",
    ),
    (
        "code",
        """mus = np.array([r[0] for r in rows]); lam = np.array([r[1] for r in rows])
free = fit_log_linear(mus, lam, q=None, min_x=20.0)
held = fit_log_linear(mus, lam, q=2.0, min_x=20.0)
print("free fit: s = %.4f +- %.4f, q = %.2f +- %.2f" % (free.slope, free.slope_stderr, free.q, free.q_stderr))
print("q held at 2: s = %.4f +- %.4f" % (held.slope, held.slope_stderr))
assert abs(held.slope + 1.0) < 0.01   # e^{-2 w_2 mu} with w_2 = 0.5: twice Prop. 34's rate""",
    ),
]


JACKSON = [
    (
        "md",
        r"""# The Jackson construction of JMLR Theorem 10

If $\rho$ and its first $\alpha$ derivatives decay faster than $e^{-\beta t}$, substitute
$s = e^{-\beta t/(\alpha+1)}$ and set $q(s) = \rho\big(-(\alpha+1)\ln s/\beta\big)/s$ on $(0, 1]$, $q(0) = 0$.
Then $q \in C^\alpha[0,1]$ with $q^{(k)}(0) = 0$, a degree-$(m-1)$ polynomial $Q$ approximates it, and
$\hat\rho(t) = s\,Q(s) = \sum_{k=1}^m u_k e^{-k\beta t/(\alpha+1)}$ is a width-$m$ linear RNN with
$\|\rho - \hat\rho\|_{L^1} = \frac{\alpha+1}{\beta}\int_0^1 |q - Q|\,ds$.""",
    ),
    (
        "code",
        """import numpy as np, sympy as sp
import jax
import memdyn
jax.config.update("jax_enable_x64", True)  # this notebook computes in float64 (memdyn leaves the setting to you)
from memdyn.theory.approx import q_function, jackson_network, jackson_bound, lp_error, jackson_constants
target = memdyn.target("exp(-t)*(1 + sin(t))")
alpha, beta = 1, sp.Rational(9, 10)
s, q = q_function(target, {}, alpha, float(beta))
q""",
    ),
    (
        "code",
        """# q and its first alpha derivatives vanish at s = 0 (that is the decay condition of the theorem)
[sp.limit(sp.diff(q, s, k), s, 0, "+") for k in range(alpha + 1)]""",
    ),
    ("code", """sp.simplify(sp.diff(q, s, alpha))   # the derivative whose sup enters Jackson's bound"""),
    (
        "md",
        r"""The bound memdyn computes for its construction (Chebyshev interpolation, so a Lebesgue constant
$1 + \Lambda_{m-1} \le 2 + \frac{2}{\pi}\ln m$ times Jackson's $E_{m-1}(q) \le (\pi/4)^\alpha \|q^{(\alpha)}\|_\infty / (m(m-1)\cdots(m-\alpha+1))$
on $[0, 1]$), against the measured error:""",
    ),
    (
        "code",
        """rows = []
for m in (1, 2, 4, 8, 16):
    a, w = jackson_network(target, {}, m, alpha, float(beta))
    err = lp_error(target, {}, a, w, p=1)
    bound = jackson_bound(target, {}, m, alpha, float(beta))
    rows.append((m, err, bound))
    print(f"m = {m:2d}   L1 error {err:.3e}   bound {bound:.3e}")
assert all(e <= b for _, e, b in rows)
print(jackson_constants(target, {}, alpha, float(beta)))""",
    ),
]

SHARP = [
    (
        "md",
        r"""# Sharp escape times from the slow dynamics on $M^*$

JMLR Theorem 20 bounds the plateau from below, $\tau \gtrsim \omega^2 e^{w_0/\omega}$. Here we derive its
leading-order *value*. Setting: $\rho(t) = e^{-w^* t} + c\,e^{-(t-\mu)^2/(2\sigma^2)}$, width 2, started on
$M^*$: neuron 1 $=(1, w^*)$ fits the short memory, neuron 2 is null, $(0, w_0)$.

**Reduction.** On $M^*$ every direction but the null neuron's rate $w$ has $O(1)$ curvature
(Prop. 34: $J̄$'s Hessian has $m - m^*$ zero eigenvalues). Let the fast variables $(a_1, w_1, a_2)$ relax
at fixed $w$: to leading order in the bump's overlaps they project the residual $r_0 = \rho - \hat\rho(\theta_0)$
onto $T = \mathrm{span}\{e^{-w^*t}, t e^{-w^*t}, e^{-wt}\}$. The $w$-dependent part of the captured energy is

$$F(w) = \frac{b(w)^2}{q(w)},\quad q(w) = \|e^{-wt} - P e^{-wt}\|^2,\quad b(w) = \langle r_0, e^{-wt} - Pe^{-wt}\rangle,$$

$P$ = projection onto span$\{e^{-w^*t}, te^{-w^*t}\}$. So $J_{red}(w) = J_0 - F(w)$ and (envelope theorem)
the slow flow is $\dot w = F'(w)$. Its time to leave $w_0$ is dominated by the start, where $F$ is
smallest: Laplace's endpoint rule gives $\tau \approx e^{\varphi(w_0)}/\varphi'(w_0)^2$, $\varphi = -\ln F$.""",
    ),
    (
        "code",
        """import numpy as np, sympy as sp
import jax
import memdyn
jax.config.update("jax_enable_x64", True)  # this notebook computes in float64 (memdyn leaves the setting to you)
from memdyn.theory.sharp import SlowReduction, gaussian_series, compare
t, w, ws, mu, c, s, eps = sp.symbols("t w w_star mu c sigma epsilon", positive=True)
phi1, phi2, e = sp.exp(-ws*t), t*sp.exp(-ws*t), sp.exp(-w*t)
ip = lambda f, g: sp.simplify(sp.integrate(f*g, (t, 0, sp.oo)))
A = sp.Matrix([[ip(phi1, phi1), ip(phi1, phi2)], [ip(phi2, phi1), ip(phi2, phi2)]])
k = sp.Matrix([ip(e, phi1), ip(e, phi2)])
q = sp.factor(sp.simplify(ip(e, e) - (k.T * A.inv() * k)[0]))
q""",
    ),
    (
        "md",
        r"""$q$ vanishes to fourth order as $w \to w^*$: $e^{-wt}$ then lies almost in the fitted neuron's tangent
space, the "fast" directions are slow too, and the reduction needs $q(w_0)$ of order one. memdyn computes
$q$ from its lowered pair-kernel templates; the two agree:""",
    ),
    (
        "code",
        """rho = "exp(-3*t) + 0.5*exp(-(t - mu)**2/2)"
tg = memdyn.target(rho, {"mu": 12.0})
red = SlowReduction.from_start(tg, tg.data({"mu": 12.0}), [1.0, 0.0], [3.0, 0.8])
q_sym = float(q.subs({w: 0.8, ws: 3}))
print(q_sym, red.q(0.8))
assert abs(q_sym - red.q(0.8)) < 1e-12 * q_sym""",
    ),
    (
        "md",
        r"""For the bump $b(w) = c\,G(w)$ with $G(w) = \sigma\sqrt{2\pi}\,e^{-w\mu + w^2\sigma^2/2}$ up to the erfc
factor $\to 1$ (exponentially accurate for $\mu \gg w\sigma^2$); the bump's own projection onto the fitted
tangent space is $O(e^{-w^*\mu})$ and drops out at leading order when $w_0 < w^*$. Then the series in $1/\mu$:""",
    ),
    (
        "code",
        """G = s*sp.sqrt(2*sp.pi)*sp.exp(-w*mu + w**2*s**2/2)
F = (c*G)**2 / q
phi = -sp.log(F)
tau_lead = sp.exp(phi) / sp.diff(phi, w)**2
R = sp.simplify(tau_lead * sp.exp(-2*w*mu))          # strip the exponential
series = sp.series(R.subs(mu, 1/eps), eps, 0, 4).removeO()
lead = sp.simplify(series.coeff(eps, 2))
first = sp.simplify(series.coeff(eps, 3) / lead)
lead, first""",
    ),
    (
        "md",
        r"""So $\tau = \dfrac{q(w_0)\,e^{2w_0\mu - w_0^2\sigma^2}}{8\pi c^2\sigma^2\mu^2}\Big(1 + \dfrac{2w_0\sigma^2 - q'(w_0)/q(w_0)}{\mu} + O(\mu^{-2})\Big)$.

**The exponent is $2w_0/\omega$**, twice the lower bound's: the null neuron's amplitude is only as large
as its overlap $G$, and its rate moves at $a\,G \sim G^2$. `memdyn.theory.sharp.gaussian_series` is this series;
check it against SymPy at a point:""",
    ),
    (
        "code",
        """pt = {w: 0.8, ws: 3, mu: 12, c: 0.5, s: 1}
dlogq = float(sp.diff(sp.log(q), w).subs(pt))
ours0 = gaussian_series(float(q.subs(pt)), dlogq, 0.8, 12.0, 0.5, 1.0, order=0)
ours1 = gaussian_series(float(q.subs(pt)), dlogq, 0.8, 12.0, 0.5, 1.0, order=1)
sym0 = float((lead * eps**2 * sp.exp(2*w*mu)).subs(eps, 1/mu).subs(pt))
sym1 = float(((lead * eps**2 + series.coeff(eps, 3) * eps**3) * sp.exp(2*w*mu)).subs(eps, 1/mu).subs(pt))
print(ours0, sym0, ours1, sym1)
assert abs(ours0 / sym0 - 1) < 1e-12 and abs(ours1 / sym1 - 1) < 1e-12""",
    ),
    (
        "md",
        r"""## Against the measured plateau

`memdyn sharp` (or `memdyn.theory.sharp.compare`) sets $\tau_{slow}$ (the slow system below, integrated to the measured event),
$\tau_{lead}$ (Laplace's rule with the exact $F$) and the series beside the measured $\tau'_0$ ($\delta = 0.01$):""",
    ),
    (
        "code",
        """mus = [11.0, 12.0, 13.0]
tgs = memdyn.target(rho, {"mu": mus})
out = compare(tgs, {}, "mu", mus, [1.0, 0.0], [3.0, 0.8], delta=0.01, gaussian=(0.5, 1.0))
for r in out.rows:
    print(f"1/omega = {r['memory']:4g}  measured {r['tau_loss']:.5g}  slow system {r['err_slow']:+.1%}  "
          f"lead {r['err_lead']:+.1%}  series {r['err_series0']:+.1%} / {r['err_series1']:+.1%}")
assert all(abs(r["err_lead"]) < 0.10 for r in out.rows if r["memory"] >= 12)""",
    ),
    (
        "md",
        r"""The leading-order value is within 10% from $1/\omega = 12$ and within 1% from 14 (see `memdyn reproduce --full`
for 10..18 and other starts). The $1/\mu$ series converges slowly: its first correction is
$(2w_0\sigma^2 - q'/q)/\mu$, and $q'/q$ is large where $q$ is small.

## When the null amplitude is slow too: the slow system and its metric

With $w^* = 1$, $w_0 = 0.5$ (the start of `memdyn reproduce`), $q(0.5) = 0.012$: the null amplitude relaxes
at a rate $\sim 2q$, no faster than the plateau at moderate memory, and Laplace's rule is 33% off at
$1/\omega = 16$. So keep the null neurons' amplitudes **and** rates as slow variables $s$ and eliminate only
the fitted neurons' displacement $c$. The question is what flow $s$ obeys. The model problem: one fast
coordinate $c$ and one slow $a$, $J = \tfrac12 (h c^2 + 2 k c a + g a^2)$, with the fast curvature $h \to \infty$
while the slaving $c^*(a) = -k a / h = -\kappa a$ stays $O(1)$ ($k = \kappa h$) and the reduced curvature
$J_{red}'' = g - k^2/h = q$ stays fixed. The gradient flow's slow rate is the small eigenvalue of the Hessian:""",
    ),
    (
        "code",
        """h, kap, qq = sp.symbols("h kappa q", positive=True)
k_, g_ = kap*h, kap**2*h + qq
lam_slow = ((h + g_) - sp.sqrt((h - g_)**2 + 4*k_**2)) / 2
sp.simplify(sp.limit(lam_slow, h, sp.oo))""",
    ),
    (
        "md",
        r"""**Not $q$ but $q/(1 + \kappa^2)$.** The reduced loss alone ($\dot a = -J_{red}'(a)$, the envelope theorem)
is too fast by the factor $1 + \kappa^2$: $c$ must be dragged along $c^*(a)$, and its lag
$c - c^* = -h^{-1}\kappa\,\dot a$ feeds back through the coupling $k$. In general the slow flow is the gradient
flow on the slow manifold in the metric its embedding $s \mapsto (c^*(s), s)$ induces,
$G(s)\,\dot s = -\nabla J_{red}(s)$, $G = I + Dc^{*T}Dc^*$. In the rate directions $Dc^*$ is $O(a)$ (the
amplitude multiplies $te^{-wt}$), so the one-neuron reduction above was right to drop it; in the amplitude
directions $Dc^*$ is the coefficient vector of $Pe^{-w_0t}$, of order one. memdyn's `SlowSystem` builds $G$ from
JAX's Jacobian of the embedding; check it on the model problem (here the "target" is the loss itself):""",
    ),
    (
        "code",
        """import jax, jax.numpy as jnp
hv, kv, gv = 40.0, 40.0 * 0.7, 40.0 * 0.49 + 0.3
c_star = lambda a: -kv * a / hv
embed = lambda a: jnp.stack([c_star(a), a])
D = jax.jacfwd(embed)(0.2)
G = float(D @ D)
rate_memdyn = (gv - kv**2 / hv) / G               # J_red'' / G, as SlowSystem's flow has it
H = np.array([[hv, kv], [kv, gv]])
print(rate_memdyn, np.linalg.eigvalsh(H)[0], float(lam_slow.subs({h: hv, kap: 0.7, qq: 0.3})))
assert abs(rate_memdyn / np.linalg.eigvalsh(H)[0] - 1) < 0.02   # O(q/h) apart: the next order""",
    ),
    (
        "md",
        r"""With several null neurons the same projection gives the vector form of the captured energy,
$F(w) = b^TQ^{-1}b$ with $Q_{jk} = \langle(I-P)e^{-w_jt}, (I-P)e^{-w_kt}\rangle$ and $b_j = \langle r_0, (I-P)e^{-w_jt}\rangle$:
their mutual coupling is $Q$'s off-diagonal. That is `SlowSystem(level="adiabatic")` (amplitudes relaxed). A
check against an independent projection on a grid, two null neurons:""",
    ),
    (
        "code",
        """from memdyn.theory.sharp import SlowSystem
mu0, ws0, nulls = 12.0, 3.0, [0.8, 1.4]
tgq = memdyn.target(rho, {"mu": mu0})
sys_ = SlowSystem.from_start(tgq, tgq.data({"mu": mu0}), [1.0, 0.0, 0.0], [ws0, *nulls], level="adiabatic")
tt = np.linspace(0.0, 60.0, 600001); hh = tt[1] - tt[0]
wts = np.full_like(tt, hh); wts[[0, -1]] = hh / 2
r0 = 0.5 * np.exp(-(tt - mu0)**2 / 2)
fitted_ = np.stack([np.exp(-ws0*tt), tt*np.exp(-ws0*tt)], axis=1)
def captured(B):
    sw = np.sqrt(wts)[:, None]
    coef = np.linalg.lstsq(B * sw, r0 * sw[:, 0], rcond=None)[0]
    return np.sum(wts * (B @ coef)**2)
full_ = np.concatenate([fitted_, np.exp(-np.outer(tt, nulls))], axis=1)
print(sys_.drop(nulls), captured(full_))
assert abs(sys_.drop(nulls) / captured(full_) - 1) < 1e-6""",
    ),
    (
        "md",
        r"""But relaxing the amplitudes is exactly what fails with many null neurons: for Fig. 3's nine null
rates in $[0.5, 2]$ the Gram matrix $Q$ has eigenvalues down to about $10^{-10}$, so those combinations never
relax within a plateau, yet $b^TQ^{-1}b$ counts their energy as captured (`tau_adiabatic` is then about 0). The
slow system keeps them. Against the measured plateau (the start of `memdyn reproduce`, $w_0 = 0.5$):""",
    ),
    (
        "code",
        """mus = [16.0, 20.0]
tg1 = memdyn.target("exp(-t) + 0.5*exp(-(t - mu)**2/2)", {"mu": mus})
out = compare(tg1, {}, "mu", mus, [1.0, 0.0], [1.0, 0.5], delta=0.01)
for r in out.rows:
    print(f"1/omega = {r['memory']:4g}  measured {r['tau_loss']:.5g}  slow system {r['err_slow']:+.1%}  "
          f"adiabatic {r['err_adiabatic']:+.1%}  lead {r['err_lead']:+.1%}")
assert all(abs(r["err_slow"]) < 0.05 for r in out.rows)""",
    ),
    (
        "md",
        r"""What the slow system still leaves out is the fitted neurons' own relaxation (time
$1/\lambda_{min}(H_{cc}) \approx 5$ for $w^* = 1$) and their nonlinearity once they have moved by $O(0.1)$ at
the end of an escape; the first costs +16% at $w_0 = 0.3$, $1/\omega = 16$, where the whole plateau lasts 8.5
time units, the second -6% to -9% for Fig. 3's $w_{min} = 0.9$ start at $1/\omega = 16$-$19$.""",
    ),
]


RATE_LAWS = [
    (
        "md",
        r"""# Rate laws for the curse of memory in approximation

memdyn's report sets three width laws side by side for $\rho(t) = (1+t)^{-(1+\omega)}$ (JMLR section 4.3);
this notebook derives them.

**1. The paper's $\omega\,\varepsilon^{-1/\omega}$.** A width-$m$ network whose slowest rate is $w_{min}$ forgets
by $T \sim 1/w_{min}$; what $\rho$ keeps beyond $T$ is lost in $L^1$:""",
    ),
    (
        "code",
        """import sympy as sp
t, T, w, eps, s = sp.symbols("t T omega epsilon s", positive=True)
tail = sp.integrate((1 + t)**(-(1 + w)), (t, T, sp.oo))
tail""",
    ),
    (
        "code",
        """# the memory a fit must reach for an L1 error eps grows like eps^(-1/omega): the paper's law
sp.solve(sp.Eq(tail, eps), T)""",
    ),
    (
        "md",
        r"""With neurons spaced so that each covers a fixed fraction of that memory, $m \sim \omega\,\varepsilon^{-1/\omega}$
(JMLR section 4.3): a construction, so an upper bound on the width needed.

**2. Completely monotone kernels: $\exp(-c\sqrt m)$.** $\rho$ is a Laplace transform of a positive measure:""",
    ),
    (
        "code",
        """mu = s**w * sp.exp(-s) / sp.gamma(1 + w)      # the spectral density of (1+t)^-(1+omega)
sp.simplify(sp.integrate(mu * sp.exp(-s * t), (s, 0, sp.oo), conds="none"))""",
    ),
    (
        "md",
        r"""so $\rho(t) = \int e^{-st}\mu(s)\,ds = \int e^{-e^x t}\,e^{x}\mu(e^x)\,dx$. The trapezoidal rule in $x = \ln s$
with step $h$ *is* an exponential sum (rates $e^{x_k}$, amplitudes $h\,e^{x_k}\mu(e^{x_k})$). Its error has two
parts: discretisation, $\sim e^{-2\pi d/h}$ with $d = \pi/2$ the half-width of the strip where the integrand
is analytic ($\operatorname{Re} e^{x + iy} t > 0$), and truncation at $s_{low} = e^{-mh}$, where the measure
left out is $\int_0^{s_{low}} s^\omega ds \sim e^{-(1+\omega) m h}$ (the upper end is cut by $e^{-s}$ within
$O(\ln m)$ terms). Balancing the two:""",
    ),
    (
        "code",
        """h, m, c = sp.symbols("h m c", positive=True)
h_star = sp.solve(sp.Eq(sp.pi**2 / h, (1 + w) * m * h), h)[0]
exponent = sp.simplify(sp.pi**2 / h_star)
h_star, exponent     # error ~ exp(-pi sqrt((1+omega) m))""",
    ),
    (
        "md",
        r"""So a width-$m$ sum reaches $\exp(-\pi\sqrt{(1+\omega)m})$, and $m(\varepsilon) \approx \ln(1/\varepsilon)^2/(\pi^2(1+\omega))$:
polylogarithmic in $1/\varepsilon$, not a power. Best fits can only do better. For $1/x$ on $[1,\infty)$ Braess &
Hackbusch prove $\exp(-c\sqrt m)$ and conjecture $c = \pi\sqrt2$, the $\omega = 0$ value of the same balance
with the measure's $e^{-s}$ edge counted twice.

The construction, built and measured against memdyn's best $L^2$ fits for $\omega = 1$:""",
    ),
    (
        "code",
        """import math, mpmath, numpy as np
import jax
import memdyn
jax.config.update("jax_enable_x64", True)  # this notebook computes in float64 (memdyn leaves the setting to you)
from memdyn.theory import expfit
mpmath.mp.dps = 30
om = 1.0
def sinc_sum(m):
    hh = math.pi / math.sqrt((1 + om) * m)
    xs = [math.log(6.0) - k * hh for k in range(m)]     # from s = 6 (e^-s cuts the rest) downwards
    return ([hh * math.exp(x) * math.exp(x)**om * math.exp(-math.exp(x)) / math.gamma(1 + om) for x in xs],
            [math.exp(x) for x in xs])
def l2(a, w):
    r = lambda x: (1 + x)**(-(1 + om)) - mpmath.fsum(ai * mpmath.exp(-wi * x) for ai, wi in zip(a, w))
    return float(mpmath.sqrt(mpmath.quad(lambda x: r(x)**2, [0, 1, 10, 100, 1e4, mpmath.inf])))
kernel = expfit.PreciseKernel(memdyn.target("(1+t)^(-2)"), {}, "(1+t)^(-2)")
best = expfit.best_fits(kernel, [4, 8], "l2")
errs = {}
for m, row in zip((4, 8), best.rows):
    errs[m] = (l2(*sinc_sum(m)), math.exp(-math.pi*math.sqrt(2*m)), row["l2_error"])
    print(f"m = {m}: sinc construction {errs[m][0]:.3e}, exp(-pi sqrt(2m)) = {errs[m][1]:.3e}, "
          f"best L2 fit {errs[m][2]:.3e}")
    assert errs[m][2] < errs[m][0]
print("fall from m = 4 to 8:", [f"{a / b:.1f}x" for a, b in zip(errs[4], errs[8])],
      "(construction, law, best fit)")""",
    ),
    (
        "md",
        r"""At these widths the construction carries a large constant and falls more slowly than its asymptotic
law; the best fits already fall at the law's rate. `python research/bench_expfit.py` extends the comparison to
width 24 and fits $c$.""",
    ),
    (
        "md",
        r"""**3. Rates bounded below (JMLR Thm 11).** If every $w_i \ge \beta$, the fit decays like $e^{-\beta t}$ while $\rho$
decays like a power: the error is at least what $\rho$ keeps where the fit has died, a fixed amount for every
width. The report's table shows those fits stalling near $10^{-2}$ while free rates keep converging; for the
exponentially decaying $e^{-t}/(1+t)$ (spectral measure on $[1, \infty)$) the bound $w_i \ge 0.5$ costs nothing.""",
    ),
]


CENTRED = [
    (
        "md",
        r"""# The centred flow: plateaus to $10^{30}$ in float64

On a plateau that starts on $M^*$, the fitted neuron sits on the short-memory term $c\,e^{-\lambda t}$ to within
exponentially small displacements, and the null neuron's amplitude is the residue of overlaps of size one:

$$\partial_{a_2} J / 2 = \frac{a_1}{w_2 + w_1} + \frac{a_2}{2 w_2} - L[\rho](w_2),\qquad
L[\rho](w) = \frac{c}{w+\lambda} + L[\text{bump}](w).$$

At $1/\omega = 50$ the residue is about $10^{-15}$ against terms of $0.25$: float64 holds it to a few per
cent, at $1/\omega = 60$ not at all. memdyn therefore integrates the *displacement* $d = \theta - \theta_\text{anchor}$:
each exponential term $c\,e^{-\lambda t}$ of $\rho$ is paired with the neuron nearest to it at the start, whose anchor
is $(c, \lambda)$; every other neuron's anchor is $(0, 0)$. This notebook derives the overlaps in $d$ with SymPy,
checks them against the code and against 60-digit arithmetic.""",
    ),
    (
        "code",
        """import math, numpy as np, sympy as sp, mpmath as mp, jax
import memdyn
jax.config.update("jax_enable_x64", True)  # this notebook computes in float64 (memdyn leaves the setting to you)
from memdyn.core.symbolic import X, DA, DW, ALPHA, BETA, U, V, centred_pair, exponential_term
from memdyn.core.formula import T
K = 1 / (U + V)
pair = (K, sp.diff(K, U))
D0, D1 = centred_pair(pair)
D0""",
    ),
    (
        "md",
        r"""$D_0(x) = \langle a e^{-wt} - \alpha e^{-\beta t}, e^{-xt}\rangle$ for $a = \alpha + \delta_a$,
$w = \beta + \delta_w$: put over one denominator with the numerator expanded, the products $\alpha K$ cancel in
SymPy and every term left is proportional to $\delta_a$ or $\delta_w$. The same for the $t$-weighted overlap
that the rate's gradient needs:""",
    ),
    ("code", "D1"),
    (
        "code",
        """a, w = ALPHA + DA, BETA + DW
assert sp.simplify(D0 - (a / (X + w) - ALPHA / (X + BETA))) == 0
assert sp.simplify(D1 - (a / (X + w) ** 2 - ALPHA / (X + BETA) ** 2)) == 0
# the numerators hold no term free of the displacements: nothing of size one is left to cancel in floating point
for D in (D0, D1):
    numerator = sp.fraction(D)[0]
    assert all(term.has(DA) or term.has(DW) for term in sp.Add.make_args(numerator))
print("D0, D1 are the overlaps of the change, in the small quantities only")""",
    ),
    (
        "md",
        r"""The paired term's own transform cancels against the anchor's exactly: $L[c\,e^{-\lambda t}](x) =
c/(x + \lambda) = \alpha K(x, \beta)$. So the gradient needs only the transform of the rest of $\rho$ (here the
bump), and the terms of $\rho$ no neuron is paired with:

$$\tfrac12\partial_{a_k} J = \sum_j D_0^{(j)}(w_k) - \sum_{\text{unpaired } l} c_l K(w_k, \lambda_l) - L[\rho_\text{rest}](w_k),$$
$$\tfrac12\partial_{w_k} J = -a_k\Big(\sum_j D_1^{(j)}(w_k) - \sum_{\text{unpaired } l} \frac{c_l}{(w_k+\lambda_l)^2}
+ L'[\rho_\text{rest}](w_k)\Big),$$

with an unpaired neuron's share the plain $a_j K(x, w_j)$ ($D$ with $\alpha = \beta = 0$).""",
    ),
    (
        "code",
        """c, lam = sp.symbols("c lambda", positive=True)
term = c * sp.exp(-lam * T)
print(exponential_term(term))
sp.simplify(sp.laplace_transform(term, T, X, noconds=True) - c * K.subs({U: X, V: lam}))""",
    ),
    ("md", "## Against 60 digits, on the plateau at $1/\\omega = 50$"),
    (
        "code",
        """from memdyn.core.loss import anchor, centred_gradient, gradient
mu = 50.0
rho = "exp(-3*t) + 0.5*exp(-(t - mu)**2/2)"
tg = memdyn.target(rho, {"mu": mu})
data = tg.data({"mu": mu})
at = anchor(tg, data, np.array([1.0, 0.0, 3.0, 0.8]))
print("anchor", np.asarray(at.theta))       # neuron 1 paired with exp(-3t); the null neuron unpaired
a2 = 1.4e-15                                # the null amplitude's plateau size here
d = np.array([-0.6 * a2, a2, 5 * a2, 0.7])  # fitted neuron displaced by about a2; null rate 0.7


def exact_gradient(theta, dps=60):
    with mp.workdps(dps):
        a, w = theta[:2], theta[2:]
        E = lambda x: mp.sqrt(mp.pi / 2) * 0.5 * mp.exp(-x * mu + x**2 / 2) * mp.erfc((x - mu) / mp.sqrt(2))
        L = lambda x: 1 / (x + 3) + E(x)
        ga = [2 * (sum(a[j] / (w[i] + w[j]) for j in range(2)) - L(w[i])) for i in range(2)]
        gw = [-2 * a[i] * (sum(a[j] / (w[i] + w[j]) ** 2 for j in range(2)) + mp.diff(L, w[i])) for i in range(2)]
        return np.array([float(x) for x in ga + gw])


with mp.workdps(60):
    exact = exact_gradient([mp.mpf(x) + mp.mpf(y) for x, y in zip(np.asarray(at.theta), d)])
centred = np.asarray(centred_gradient(tg, data, at, d))
plain = np.asarray(gradient(tg, data, np.asarray(at.theta) + d))
print("relative error, centred:", np.abs(centred / exact - 1).max())
print("relative error, plain:  ", np.abs(plain / exact - 1))
assert np.abs(centred / exact - 1).max() < 1e-13""",
    ),
    ("md", "## The flow to $10^{29}$, and the slow system beside it"),
    (
        "code",
        """for mu in (44.0, 50.0):
    r = memdyn.flow(rho, params={"mu": mu}, a0=[1, 0], w0=[3, 0.8], delta=0.01)
    print(f"1/omega = {mu:g}:", r)""",
    ),
    (
        "md",
        r"""`memdyn sharp --rho "exp(-3*t) + 0.5*exp(-(t - mu)**2/2)" --sweep mu=30,44,50 --a0 1,0 --w0 3,0.8
--delta 0.01` sets these beside the slow system (`tau_slow`, within 2e-6 of the flow at all three) and
Laplace's rule (`tau_lead`, within 6e-4); `tests/core/test_long_horizon.py` holds the flow against a hand-written
centred flow solved by SciPy, and `tests/theory/test_sharp.py` the predictions.""",
    ),
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
    build(SHARP, HERE / "04_sharp_escape_asymptotics.ipynb")
    build(RATE_LAWS, HERE / "05_approximation_rate_laws.ipynb")
    build(CENTRED, HERE / "06_centred_flow.ipynb")
