"""The reparameterisations w = g(v) offered (:mod:`memdyn.core.reparam`), by name and in words.

Apart from their SymPy forms so that the command line's help reads them without importing SymPy.
"""

DESCRIPTIONS: dict[str, str] = {
    "plain": "w = v",
    "exp": "w = exp(v)",
    "softplus": "w = log(1 + exp(v))",
    "best": "w = 1/(v^2 + 0.1) (StableSSM)",
    "lru": "w = exp(v)/Delta, Delta = 0.1 (LRU lambda = exp(-exp(v)))",
}
