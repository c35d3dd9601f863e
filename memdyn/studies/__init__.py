"""The paper's problems and what is built on them: the problems defined once (:mod:`.problems`),
``memdyn reproduce`` (:mod:`.reproduce`, one module per report section), ``memdyn bench``
(:mod:`.bench`), independent references (:mod:`.reference`: SciPy, mpmath) and output folders
(:mod:`.output`)."""
