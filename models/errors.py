"""The refusals the domain raises, each carrying a French sentence for the person concerned.

Types only: the command line maps them to exit codes (`transitions.cli.common.EXIT_CODES`), a
web page would map them to HTTP statuses.
"""

from __future__ import annotations

from collections.abc import Sequence


class TransitionsError(Exception):
    """A refusal explained in French (`message`, and `details` listing each problem)."""

    def __init__(self, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)


class InvalidInput(TransitionsError):
    """The input (file, option, value) is wrong; nothing was changed."""


class NotFound(TransitionsError):
    """What the input names does not exist (an application, a pilot, a session, a notice)."""


class Unavailable(TransitionsError):
    """A service the command needs (the database, a server) cannot be reached; retry later."""


class Refused(TransitionsError):
    """The input is well formed but the programme's rules refuse it (deadline, state)."""

