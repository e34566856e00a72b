"""The refusals the domain raises, each carrying a French sentence for the person concerned.

Types only: the command line maps them to exit codes (`transitions.cli.common.EXIT_CODES`), a
web page would map them to HTTP statuses. `Verdict` is what a « may this person do X now? »
predicate answers: allowed, or the refusal the act would raise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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


class DatabaseUnreachable(Unavailable):
    """The database does not answer (stopped, refused, cut off) or refuses the connection
    (`models.failures.told`); nothing of the operation under way was recorded."""


class DiskFull(Unavailable):
    """A disk has no room left (ENOSPC, SQLite's « database or disk is full », PostgreSQL's
    SQLSTATE 53100); the message names the disk and the folder (`models.failures.told`)."""


class Refused(TransitionsError):
    """The input is well formed but the programme's rules refuse it (deadline, state)."""


class UnknownPerson(TransitionsError):
    """Nothing is held about the person an address names (`models.person_data.find_person`): not a
    lookup of a programme's object, so exit 1 rather than NotFound's 3."""



@dataclass(frozen=True)
class Verdict:
    """The answer of a « may this person do X now? » predicate (`may_<act>` in the concept
    modules): allowed when `reason` is None (the verdict is then truthy), otherwise refused with
    `reason`, the French sentence the act raises (`enforce`), as a `refusal` (`Refused` unless the
    rule says the thing does not exist for this person, `NotFound`, or the input names no such
    thing, `InvalidInput`). A page reads the verdict to offer the act; the act enforces it."""

    reason: str | None = None
    refusal: type[TransitionsError] = Refused

    def __bool__(self) -> bool:
        return self.reason is None

    def enforce(self) -> None:
        """Raise the refusal when not allowed."""
        if self.reason is not None:
            raise self.refusal(self.reason)


ALLOWED = Verdict()
"""The verdict of a predicate that finds nothing against the act."""
