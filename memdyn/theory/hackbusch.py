"""Published best uniform approximations of 1/x on [1, R] by sums of k exponentials (the reference
for the sup-norm fits of ``memdyn.theory.expfit``).

Source: W. Hackbusch's tables of best approximations, computed by the Remez algorithm
(D. Braess and W. Hackbusch, IMA J. Numer. Anal. 25 (2005) 685-697; W. Hackbusch, Comput. Vis. Sci.
20 (2019) 1-11, https://doi.org/10.1007/s00791-018-00308-4), published at
http://www.mis.mpg.de/scicomp/EXP_SUM/1_x and transcribed, with their errors to four significant
digits, into CP2K's ``src/minimax/minimax_exp_k53.F`` (arrays ``R_mm``, ``err_mm``, ``k_p``), from
which the two largest tabulated R of each k were copied here.

1/(1+t) on [0, oo) is 1/x on [1, oo) (x = 1 + t, and a e^{-w t} = (a e^{w}) e^{-w x}), and
E_k[1, R] = E_k[1, oo) once R reaches the last alternation point of the best fit on [1, oo): that
fit then equioscillates 2k+1 times inside [1, R], which characterises the best fit there too. The
tables' error rising no further from the next-largest R (k = 1, 12, 29, 35, 49, 53 repeat it) shows
the same saturation.
"""

from __future__ import annotations

INVERSE = {
    # k: (next-largest R, its error, largest tabulated R, its error E_k[1, R])
    1: (9e0, 8.556e-02, 1e1, 8.556e-02),
    2: (4e1, 1.784e-02, 5e1, 1.785e-02),
    3: (1e2, 4.789e-03, 2e2, 5.052e-03),
    4: (4e2, 1.695e-03, 5e2, 1.700e-03),
    5: (1e3, 6.385e-04, 2e3, 6.428e-04),
    6: (2e3, 2.570e-04, 3e3, 2.646e-04),
    7: (6e3, 1.162e-04, 7e3, 1.163e-04),
    8: (1e4, 5.271e-05, 2e4, 5.392e-05),
    9: (2e4, 2.546e-05, 3e4, 2.611e-05),
    10: (5e4, 1.307e-05, 6e4, 1.312e-05),
    11: (1e5, 6.795e-06, 2e5, 6.807e-06),
    12: (2e5, 3.630e-06, 3e5, 3.630e-06),
    13: (3e5, 1.966e-06, 4e5, 1.984e-06),
    14: (6e5, 1.105e-06, 7e5, 1.108e-06),
    15: (1e6, 6.280e-07, 2e6, 6.311e-07),
    16: (2e6, 3.658e-07, 3e6, 3.659e-07),
    17: (3e6, 2.148e-07, 4e6, 2.155e-07),
    18: (5e6, 1.284e-07, 6e6, 1.289e-07),
    19: (9e6, 7.806e-08, 1e7, 7.811e-08),
    20: (1e7, 4.679e-08, 2e7, 4.794e-08),
    21: (2e7, 2.955e-08, 3e7, 2.976e-08),
    22: (3e7, 1.848e-08, 4e7, 1.868e-08),
    23: (6e7, 1.184e-08, 7e7, 1.185e-08),
    24: (9e7, 7.575e-09, 1e8, 7.583e-09),
    25: (1e8, 4.802e-09, 2e8, 4.898e-09),
    26: (2e8, 3.179e-09, 3e8, 3.190e-09),
    27: (3e8, 2.086e-09, 4e8, 2.094e-09),
    28: (5e8, 1.384e-09, 6e8, 1.385e-09),
    29: (8e8, 9.227e-10, 9e8, 9.227e-10),
    30: (1e9, 6.162e-10, 2e9, 6.188e-10),
    31: (1e9, 4.053e-10, 2e9, 4.177e-10),
    32: (2e9, 2.814e-10, 3e9, 2.837e-10),
    33: (3e9, 1.925e-10, 4e9, 1.938e-10),
    34: (5e9, 1.329e-10, 6e9, 1.331e-10),
    35: (8e9, 9.194e-11, 9e9, 9.194e-11),
    36: (1e10, 6.365e-11, 2e10, 6.382e-11),
    37: (1e10, 4.353e-11, 2e10, 4.452e-11),
    38: (2e10, 3.110e-11, 3e10, 3.121e-11),
    39: (3e10, 2.194e-11, 4e10, 2.197e-11),
    40: (4e10, 1.548e-11, 5e10, 1.554e-11),
    41: (6e10, 1.102e-11, 7e10, 1.104e-11),
    42: (9e10, 7.866e-12, 1e11, 7.869e-12),
    43: (1e11, 5.591e-12, 2e11, 5.633e-12),
    44: (1e11, 3.938e-12, 2e11, 4.047e-12),
    45: (2e11, 2.902e-12, 3e11, 2.919e-12),
    46: (3e11, 2.107e-12, 4e11, 2.113e-12),
    47: (4e11, 1.529e-12, 5e11, 1.534e-12),
    48: (6e11, 1.117e-12, 7e11, 1.118e-12),
    49: (9e11, 8.172e-13, 1e12, 8.172e-13),
    50: (1e12, 5.966e-13, 2e12, 5.992e-13),
    51: (1e12, 4.321e-13, 2e12, 4.407e-13),
    52: (2e12, 3.245e-13, 3e12, 3.251e-13),
    53: (3e12, 2.405e-13, 4e12, 2.405e-13),
}


def published(k: int, last_alternation_t: float) -> float | None:
    """E_k[1, oo) for 1/x (= the best sup error of 1/(1+t) with k terms) from the tables, or None
    where the tables stop short of the best fit's last alternation point (x = 1 + t)."""
    if k not in INVERSE:
        return None
    _, _, R, error = INVERSE[k]
    return error if 1 + last_alternation_t <= R else None
