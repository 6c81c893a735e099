"""The history of a campaign: every client operation, each attempt and its answer (Jepsen's model).

An operation is *invoked*, then completes as:
- `ok`: the server acknowledged it (a 2xx answer, its value recorded);
- `fail`: the server refused it for good (a 4xx answer): it did not happen;
- `info`: indeterminate (a broken connection, a timeout, a 5xx): it may or may
  not have happened, and the client may try again with the same
  `Idempotency-Key`.

Each line of a history file is one such entry, as JSON.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

EntryType = Literal["invoke", "ok", "fail", "info"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the history."""

    index: int
    time: float  # epoch seconds (compared with Kafka's record timestamps)
    process: str  # the client: a collectivité code, or "operator"
    type: EntryType
    f: str  # the operation: "register", "submit", "palmares"
    key: str = ""  # the Idempotency-Key (one per intended revision)
    attempt: int = 1
    edition: int | None = None
    contact: str | None = None
    status: int | None = None
    value: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class History:
    """Recorded by the campaign driver; written as JSON lines to `path` (if any) as it goes."""

    path: Path | None = None
    entries: list[Entry] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("")

    def record(self, process: str, type: EntryType, f: str, **fields: Any) -> Entry:
        with self._lock:
            entry = Entry(index=len(self.entries), time=time.time(), process=process, type=type, f=f, **fields)
            self.entries.append(entry)
            if self.path is not None:
                with self.path.open("a") as out:
                    out.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
        return entry

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    @property
    def started_at(self) -> float:
        return self.entries[0].time if self.entries else time.time()


def load(path: Path) -> History:
    """A history written by `History(path=…)`."""
    return History(entries=list(read(path.read_text().splitlines())))


def read(lines: Iterable[str]) -> Iterator[Entry]:
    for line in lines:
        if line.strip():
            yield Entry(**json.loads(line))
