"""The pipeline: a formula in, hitting times out.

Stages, data flowing one way: :mod:`.formula` (parse rho(t), never execute it) ->
:mod:`.symbolic` (SymPy derives the loss templates; :mod:`.stable` rewrites closed forms) ->
:mod:`.lowering` (the one place SymPy meets JAX; :mod:`.quadrature` where there is no closed form)
-> :mod:`.loss` (J, gradient, Hessian) -> :mod:`.integrate` (Diffrax gradient flow and hitting
times) -> :mod:`.sweep` (batched). Beside them: :mod:`.functions` (the one table of special
functions), :mod:`.starts` (initial conditions), :mod:`.reparam` (w = g(v)), :mod:`.fits` (the
log-linear fit behind every scaling law), :mod:`.status` (how a solve ended), :mod:`.pipeline`
(the first three stages composed). ``core`` imports nothing from ``theory``, ``rnn`` or ``studies``.
"""
