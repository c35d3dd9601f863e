"""Studies of the gradient flow built on :mod:`memdyn.core`: Hessian spectra and timescales on M*
(:mod:`.timescales`), momentum (:mod:`.momentum`), sharp escape times from the slow dynamics
(:mod:`.sharp`) and approximation by exponential sums (:mod:`.approx`)."""
