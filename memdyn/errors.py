"""The one exception type for bad input.

Every check on user-supplied values raises :class:`InputError`, which names the offending
argument in the user's words. The CLI turns it into a one-line message and exit status 2.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input, naming the argument (``argument``) and the reason (``reason``)."""

    def __init__(self, argument: str, reason: str):
        self.argument = argument
        self.reason = reason
        super().__init__(f"{argument}: {reason}")
