"""python -m memdyn.cli: the command line."""

from .main import console

console()
