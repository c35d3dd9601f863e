"""Numerically stable rewrites of SymPy closed forms.

SymPy prints the Laplace transform of a Gaussian bump moved out to mu as
``exp(w**2/2 - mu*w) * erfc((w - mu)/sqrt(2))``-like products (often through ``1 - erf``). In
float64 the exponential overflows or the erfc underflows long before the product does:
at mu = 20, w = 20 the printed form returns 0 where the true value is ~1e-9. The cure is to
never let the two factors meet as numbers: ``experfc`` ``(A, z)`` *is* the product
``exp(A) * erfc(z)``, and it is lowered as ``exp(A - z**2) * erfcx(z)`` for z >= 0 (with
``A - z**2`` expanded symbolically, so the huge exponents cancel exactly) and as the plain product
for z < 0, where erfc(z) lies in (1, 2]. Both are finite whenever the product is.

``stabilise`` rewrites an expression so that every ``erf``/``erfc`` appears inside an
``experfc`` together with all the exponentials that multiply it, with their exponents expanded
(so that ``exp(A - z**2)`` in derivatives cancels symbolically, not in floating point).
"""

from __future__ import annotations

from collections import defaultdict

import sympy as sp


class experfc(sp.Function):
    """``experfc(A, z) = exp(A) * erfc(z)``, kept as one function so it can be evaluated stably."""

    nargs = 2

    def fdiff(self, argindex=1):
        A, z = self.args
        if argindex == 1:
            return self
        if argindex == 2:
            # d/dz erfc(z) = -2/sqrt(pi) exp(-z^2); the exponent is combined before evaluation.
            return -2 / sp.sqrt(sp.pi) * sp.exp(sp.expand(A - z**2))
        raise sp.ArgumentIndexError(self, argindex)

    def _eval_rewrite_as_erfc(self, A, z, **kwargs):
        return sp.exp(A) * sp.erfc(z)

    def _eval_evalf(self, prec):
        A, z = self.args
        return (sp.exp(A) * sp.erfc(z))._eval_evalf(prec)

    def _latex(self, printer):
        A, z = (printer._print(arg) for arg in self.args)
        return rf"e^{{{A}}}\operatorname{{erfc}}\left({z}\right)"


def plain(expr: sp.Expr) -> sp.Expr:
    """The expression with ``experfc`` written out as ``exp * erfc`` (for display and mpmath)."""
    return expr.replace(experfc, lambda A, z: sp.exp(A) * sp.erfc(z))


def _split_term(term: sp.Expr):
    """Split a product into (exponent, erfc argument or None, coefficient)."""
    exponent = sp.Integer(0)
    z = None
    coeff = []
    for factor in sp.Mul.make_args(term):
        base, power = factor.as_base_exp()
        if isinstance(base, sp.exp) or base is sp.E:
            arg = base.args[0] if isinstance(base, sp.exp) else sp.Integer(1)
            exponent += arg * power
        elif isinstance(factor, sp.erfc) and z is None:
            z = factor.args[0]
        elif isinstance(factor, experfc) and z is None:
            exponent += factor.args[0]
            z = factor.args[1]
        else:
            coeff.append(factor)
    return sp.expand(exponent), z, sp.Mul(*coeff)


def stabilise(expr: sp.Expr) -> sp.Expr:
    """Rewrite ``expr`` into a sum of ``coefficient * exp(A)`` and ``coefficient * experfc(A, z)``.

    Terms that share an exponential and an erfc argument are merged and their rational
    coefficients cancelled, which removes removable singularities SymPy leaves in (e.g. a
    ``(1 - mu/(sigma**2 w))`` both above and below the line). A pair ``c exp(A) erfc(z) - 2c exp(A)``
    (from ``1 + erf(z)``) becomes ``-c experfc(A, -z)``, avoiding the cancellation ``2 - erfc(z)``.
    """
    expr = plain(sp.sympify(expr))
    expr = expr.replace(sp.erf, lambda z: 1 - sp.erfc(z))
    expr = sp.expand(sp.powsimp(sp.expand(expr, power_exp=False), combine="exp"), power_exp=False)
    groups: dict[tuple, sp.Expr] = defaultdict(lambda: sp.Integer(0))
    for term in sp.Add.make_args(expr):
        # Pull exponentials out of sums in a denominator (SymPy leaves exp(mu^2/2) * (...) there).
        num, den = sp.fraction(sp.together(term))
        exponent, z, coeff = _split_term(sp.factor_terms(num) / sp.factor_terms(den))
        if z is not None and sp.expand(z).could_extract_minus_sign():
            # erfc(-x) = 2 - erfc(x): keep one canonical sign of the argument per group.
            groups[(exponent, sp.expand(-z))] += -coeff
            groups[(exponent, None)] += 2 * coeff
        else:
            groups[(exponent, None if z is None else sp.expand(z))] += coeff
    merged = {key: sp.factor(sp.cancel(coeff)) for key, coeff in groups.items()}
    out = sp.Integer(0)
    for (exponent, z), coeff in merged.items():
        if coeff == 0:
            continue
        if z is None:
            partner = [k for k in merged if k[0] == exponent and k[1] is not None]
            # c exp(A) erfc(z) + p exp(A) with p = -2c is -c exp(A) erfc(-z): no cancellation.
            if any(sp.simplify(coeff + 2 * merged[k]) == 0 for k in partner):
                continue
            out += coeff * sp.exp(exponent)
        else:
            plain_coeff = merged.get((exponent, None), sp.Integer(0))
            if plain_coeff != 0 and sp.simplify(plain_coeff + 2 * coeff) == 0:
                out += -coeff * experfc(exponent, sp.expand(-z))
            else:
                out += coeff * experfc(exponent, z)
    return out
