"""The paper's problems and what is built on them: the problems defined once (``.problems``),
``memdyn reproduce`` (``.reproduce``, one module per report section), ``memdyn bench``
(``.bench``), independent references (``.reference``: SciPy, mpmath) and output folders
(``.output``)."""
