"""`with server:` for the launcher's servers: started on entry, stopped on exit whatever happened."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self


class Server(ABC):
    """A server the launcher starts and stops (Kafka, PostgreSQL, the SMTP capture)."""

    @abstractmethod
    def start(self) -> object:
        """Start it and wait until it is ready."""

    @abstractmethod
    def stop(self) -> None:
        """Stop it; a no-op when it is not running."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
