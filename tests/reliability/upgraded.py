"""The "next version" of a service for the rolling-upgrade campaign: `python -m tests.reliability.upgraded <service>`.

It is the service as it is, with the contracts of the next release:
`SubmissionScored` at schema version 2, which adds one optional field
(`model`: which pré-notation model scored the dossier) and stays readable by
version-1 consumers (`COMPATIBLE_SINCE = 1`, docs/architecture.md, "Event
versions"). The upgraded scoring service publishes version 2; every upgraded
consumer reads versions 1 and 2; the services not yet upgraded read version 2
as version 1, ignoring the new field.
"""

from __future__ import annotations

import runpy
import sys
from typing import ClassVar

import palmares_contracts
from palmares_contracts import SCORES, events, topics
from pydantic import Field

PREVIOUS = events.SubmissionScored


class SubmissionScored(PREVIOUS):
    """Version 2: the model that scored the dossier (additive: absent means the only model of version 1)."""

    SCHEMA_VERSION: ClassVar[int] = 2
    COMPATIBLE_SINCE: ClassVar[int] = 1

    schema_version: int = Field(default=2, ge=1)
    model: str | None = Field(default="pre-notation-2018", max_length=100)


def upgrade_contracts() -> None:
    """Bind the names and the topic registry to version 2, before the service imports them."""
    SubmissionScored.__name__ = PREVIOUS.__name__
    events.SubmissionScored = SubmissionScored  # type: ignore[misc]
    palmares_contracts.SubmissionScored = SubmissionScored  # type: ignore[misc]
    object.__setattr__(SCORES, "events", (SubmissionScored,))  # the registry's topics are frozen dataclasses
    topics._BY_EVENT[SubmissionScored] = SCORES


def main() -> None:
    service = sys.argv[1]
    upgrade_contracts()
    sys.argv = [f"palmares_{service}", *sys.argv[2:]]
    runpy.run_module(f"palmares_{service}", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
