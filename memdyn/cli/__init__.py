"""``memdyn``: the command line (``memdyn.cli.main``), one module per group of commands."""

from .main import COMMANDS, NOT_ANSWERED, build_parser, console, main

__all__ = ["main", "console", "build_parser", "COMMANDS", "NOT_ANSWERED"]
