"""Domain exceptions. ``service/errors.py`` maps each to an HTTP status in one table.

Every exception carries an optional ``where`` (the field, feature or row at fault) so the
web layer can say precisely what was wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class CatchmentError(Exception):
    """Base of every domain error."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where


class InvalidInput(CatchmentError, ValueError):
    """The caller sent something malformed (bad coordinates, bad GeoJSON, bad field).

    Also a ValueError, so pydantic validators that raise it report a normal validation error.
    """


class InvalidGeometry(InvalidInput):
    """A geometry that is not a polygon or that cannot be repaired."""


class UnsupportedFile(InvalidInput):
    """A file whose content is not what its name says, or a format we do not read."""


class Infeasible(InvalidInput):
    """A planning problem with no answer under its hard constraints (a travel cap that leaves a
    school with no district, more seats asked for than exist); the message says which option and why.

    An InvalidInput, so the web layer answers 422 with the reason without a table entry of its own.
    ``message_zh`` says the same in Chinese (``text`` gives both as ``{"en": ..., "zh": ...}``).
    ``shortfalls`` says where and by how much: one mapping per school or area with ``schools``
    (codes), ``area`` (a label), ``demand`` and ``seats`` (pupils) and ``short`` (pupils over the
    seats), so a planner sees what to change instead of getting an empty plan.
    """

    def __init__(self, message: str, *, message_zh: str | None = None, shortfalls: Sequence[Mapping[str, Any]] = (),
                 where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.message_zh = message_zh or message
        self.shortfalls = tuple(dict(s) for s in shortfalls)

    @property
    def text(self) -> dict[str, str]:
        return {"en": self.message, "zh": self.message_zh}


class Cancelled(CatchmentError):
    """The caller's cancel check asked a long computation (an optimisation) to stop."""
class TooLarge(InvalidInput):
    """Input over a configured bound: an archive that unpacks too far, too many points in one call."""


class NotFound(CatchmentError):
    """A school, plan, zone or key that does not exist."""


class Conflict(CatchmentError):
    """The write clashes with the stored state (duplicate key, stale version, wrong status)."""


class StaleVersion(Conflict):
    """An If-Match precondition that no longer holds."""


class PreconditionRequired(CatchmentError):
    """A write that must say which version it changes (If-Match) and did not."""


class Unauthorized(CatchmentError):
    """No key, or an unknown or revoked one."""


class Forbidden(CatchmentError):
    """A valid key whose role may not do this."""


class Unavailable(CatchmentError):
    """A dependency (database, remote geocoder) is down; retry later."""


class AddressNotFound(NotFound):
    """No address, street or locality matches the text (geocoding)."""


class AmbiguousAddress(CatchmentError):
    """The address text matches several places about equally well; ``candidates`` lists them.

    ``candidates`` are geocode results, best first, so that a client can ask the user to pick one
    instead of the geocoder guessing. This module knows nothing of their type or of the wire: the
    web layer (``service/errors.py``) turns them into the error body.
    """

    def __init__(self, message: str, *, candidates: Sequence[Any], where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.candidates = tuple(candidates)


class InsufficientCapacity(Infeasible):
    """Not enough seats: some schools or areas fall short of their demand (see ``shortfalls``)."""
