"""Studies of the gradient flow built on ``memdyn.core``: Hessian spectra and timescales on M*
(``.timescales``), momentum (``.momentum``), sharp escape times from the slow dynamics
(``.sharp``) and approximation by exponential sums (``.approx``)."""
