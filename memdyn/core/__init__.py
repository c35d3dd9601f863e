"""The pipeline: a formula in, hitting times out.

Stages, data flowing one way: ``.formula`` (parse rho(t), never execute it) ->
``.symbolic`` (SymPy derives the loss templates; ``.stable`` rewrites closed forms) ->
``.lowering`` (the one place SymPy meets JAX; ``.quadrature`` where there is no closed form)
-> ``.loss`` (J, gradient, Hessian) -> ``.integrate`` (Diffrax gradient flow and hitting
times) -> ``.sweep`` (batched). Beside them: ``.functions`` (the one table of special
functions), ``.starts`` (initial conditions), ``.reparam`` (w = g(v)), ``.fits`` (the
log-linear fit behind every scaling law), ``.status`` (how a solve ended), ``.pipeline``
(the first three stages composed). ``core`` imports nothing from ``theory``, ``rnn`` or ``studies``.
"""
