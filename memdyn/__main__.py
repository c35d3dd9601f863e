"""python -m memdyn: the command line (same as the memdyn script)."""

from .cli import console

console()
