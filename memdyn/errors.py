"""memdyn's exceptions: one base class, so that every library error reaches a user as one line.

``MemdynError`` is the base of every error memdyn raises on purpose. ``InputError``
(bad input) names the offending argument as the Python API spells it (``rtol``, ``w0``,
``param mu``); the command line translates that name into its flag (``--rtol``, ``--w0``,
``--param mu``) and prints ``memdyn CMD: error: ARGUMENT: REASON`` with exit status 2.
"""

from __future__ import annotations


class MemdynError(Exception):
    """Base class of every error memdyn raises on purpose (never a bug)."""


class InputError(MemdynError, ValueError):
    """Bad input, naming the argument (``argument``) and the reason (``reason``).

    ``mentions`` lists other arguments the reason names (``"has 1 values but a0 has 2"``), so that
    the command line can spell those as flags too.
    """

    def __init__(self, argument: str, reason: str, *, mentions: tuple[str, ...] = ()):
        self.argument = argument
        self.reason = reason
        self.mentions = tuple(mentions)
        super().__init__(f"{argument}: {reason}")


class LoweringError(MemdynError, ValueError):
    """An expression uses something the lowering table cannot evaluate."""


__all__ = ["MemdynError", "InputError", "LoweringError"]
