"""A minimal PostgreSQL wire-protocol client (protocol 3.0, trust auth, simple queries).

The launcher needs two things from a fresh server: "does it accept a session"
(readiness: an open port is not enough, the server answers 57P03 "starting up"
for a while) and "CREATE DATABASE palmares". Both fit in a few messages, so
the launcher needs no driver (asyncpg belongs to the services) and no ``psql``.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from types import TracebackType

_PROTOCOL_3_0 = 196608


class PgWireError(RuntimeError):
    """An ErrorResponse from the server (``sqlstate`` holds its code, e.g. 57P03)."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.sqlstate = fields.get("C", "")
        self.fields = fields
        super().__init__(f"{fields.get('S', 'ERROR')} {self.sqlstate}: {fields.get('M', '')}")


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("server closed the connection")
        data += chunk
    return bytes(data)


def _parse_error(payload: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in payload.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", errors="replace")
    return fields


class PgConnection:
    """One session authenticated with trust (no password)."""

    def __init__(self, host: str, port: int, user: str, database: str, timeout: float = 5.0) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._sock.settimeout(timeout)
        try:
            params = f"user\0{user}\0database\0{database}\0\0".encode()
            body = struct.pack(">i", _PROTOCOL_3_0) + params
            self._sock.sendall(struct.pack(">i", len(body) + 4) + body)
            self._read_until_ready()
        except BaseException:
            self._sock.close()
            raise

    def _read_message(self) -> tuple[bytes, bytes]:
        kind = _recv_exactly(self._sock, 1)
        (length,) = struct.unpack(">i", _recv_exactly(self._sock, 4))
        return kind, _recv_exactly(self._sock, length - 4)

    def _read_until_ready(self) -> list[list[str | None]]:
        rows: list[list[str | None]] = []
        error: PgWireError | None = None
        while True:
            kind, payload = self._read_message()
            if kind == b"R":
                (code,) = struct.unpack_from(">i", payload)
                if code != 0:
                    raise PgWireError({"C": "28000", "M": f"server asks for auth method {code}"})
            elif kind == b"E":
                error = PgWireError(_parse_error(payload))
                if not rows and self._is_startup_error(error):
                    raise error  # during startup the server closes right after the error
            elif kind == b"D":
                rows.append(self._parse_row(payload))
            elif kind == b"Z":
                if error is not None:
                    raise error
                return rows

    @staticmethod
    def _is_startup_error(error: PgWireError) -> bool:
        # Class 57 (operator intervention: starting up, shutting down), 28 (auth),
        # 3D (no such database): the server sends no ReadyForQuery after these.
        return error.sqlstate[:2] in ("57", "28", "3D", "08")

    @staticmethod
    def _parse_row(payload: bytes) -> list[str | None]:
        (count,) = struct.unpack_from(">h", payload)
        offset = 2
        values: list[str | None] = []
        for _ in range(count):
            (size,) = struct.unpack_from(">i", payload, offset)
            offset += 4
            if size < 0:
                values.append(None)
            else:
                values.append(payload[offset : offset + size].decode())
                offset += size
        return values

    def query(self, sql: str) -> list[list[str | None]]:
        """Run ``sql`` with the simple-query protocol; return the rows as text."""
        body = sql.encode() + b"\0"
        self._sock.sendall(b"Q" + struct.pack(">i", len(body) + 4) + body)
        return self._read_until_ready()

    def close(self) -> None:
        with contextlib.suppress(OSError):  # the server may already be gone
            self._sock.sendall(b"X" + struct.pack(">i", 4))
        self._sock.close()

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def accepts_sessions(host: str, port: int, user: str, database: str) -> bool:
    """True when the server completes a session start-up (readiness probe)."""
    try:
        with PgConnection(host, port, user, database, timeout=2.0):
            return True
    except (OSError, PgWireError):
        return False
