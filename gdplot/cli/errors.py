"""How the command reports: a :class:`CommandError` is one line on stderr and an exit
status; a note is a line ``gdplot: note: ...`` on stderr.
"""

from __future__ import annotations

import sys

USAGE_ERROR = 2
TRAINING_ERROR = 1


class CommandError(Exception):
    """A failure to report as one line, with the exit status to return."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def note(message: str) -> None:
    """A notice: something left out or assumed, that the user should know about."""
    print(f"gdplot: note: {message}", file=sys.stderr)
