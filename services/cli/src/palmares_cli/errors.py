"""Typed failures of the CLI, each bound to its exit code.

Exit codes (README): 0 ok, 1 the operation failed (the API said 4xx/5xx, a
wait timed out, a file is invalid), 2 usage error (typer's own, and missing
configuration), 3 the API or Kafka cannot be reached.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class CliError(Exception):
    """A failure reported as one clear message, never as a traceback."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OperationFailed(CliError):
    """The command ran but did not achieve its purpose (exit 1)."""


class UsageProblem(CliError):
    """The command cannot run as invoked: missing configuration, contradictory options (exit 2)."""

    exit_code = EXIT_USAGE


class Unreachable(CliError):
    """The API, Kafka or Jaeger did not answer at all (exit 3)."""

    exit_code = EXIT_UNREACHABLE


@dataclass(frozen=True, slots=True)
class FieldError:
    """One entry of the API's `detail`: the field at fault and the French message, verbatim."""

    field: str | None
    message: str


class ApiError(OperationFailed):
    """The API answered with an error status.

    `message` is the API's own French `error` sentence; `details` its
    field-level messages. They are shown as they are: an operator relays them
    to the collectivité, who reads French.
    """

    def __init__(
        self, status: int, message: str, details: list[FieldError] | None = None, *, method: str = "", path: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.details = details or []
        self.method = method
        self.path = path

    def __str__(self) -> str:
        return f"{self.status} {self.message}"


class ApiTimeout(OperationFailed):
    """The API was reached but did not answer in time (exit 1: it may have done the work)."""


def exit_code_for(exc: BaseException) -> int:
    """The process exit code for a failure (anything unexpected counts as a failed operation)."""
    if isinstance(exc, CliError):
        return exc.exit_code
    return EXIT_FAILED
