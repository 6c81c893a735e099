"""What a command refuses, in French for the person who asked, with the field at fault when there is one.

The HTTP API answers `Invalid` with 422, `Conflict` with 409, `Forbidden`
with 403 and `NotFound` with 404; the espaces' pages show the message beside the field.
"""

from __future__ import annotations


class Refused(Exception):
    """A command that cannot be carried out as asked; nothing it did is kept."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(Refused):
    """The request itself is wrong (an unknown service, an implausible date…): correcting it helps."""


class Conflict(Refused):
    """The request is well formed but the campaign's state forbids it (closed, already published…)."""


class Forbidden(Refused):
    """The request is about someone else's data (another collectivité's dossier)."""


class NotFound(Refused):
    """The request names something that does not exist (a collectivité not registered, a dossier)."""
