"""A minimal Kafka wire-protocol client: one Metadata request, for readiness.

The launcher must know when a broker is *really* ready (registered with the
controller quorum and visible in metadata), not just listening. Asking for
metadata needs no Kafka client library, so the launcher keeps no dependency on
aiokafka or the JVM tools (which take a second or more to start).

Metadata v4 is used: Kafka 4 removed v0-v3 (KIP-896), and v4-v8 are the last
non-"flexible" versions, whose encoding is a handful of fixed-width fields.

On a SASL listener the probe authenticates first with SASL/PLAIN (RFC 4616):
SaslHandshake v1 then SaslAuthenticate v1, both non-flexible too (KIP-152).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

_METADATA_API_KEY = 3
_METADATA_VERSION = 4
_SASL_HANDSHAKE_API_KEY = 17
_SASL_HANDSHAKE_VERSION = 1
_SASL_AUTHENTICATE_API_KEY = 36
_SASL_AUTHENTICATE_VERSION = 1
_CLIENT_ID = b"palmares-stack"


@dataclass(frozen=True)
class BrokerInfo:
    """One broker as advertised in a metadata response."""

    node_id: int
    host: str
    port: int


@dataclass(frozen=True)
class ClusterMetadata:
    """The parts of a metadata response that readiness needs."""

    cluster_id: str | None
    controller_id: int
    brokers: tuple[BrokerInfo, ...]

    @property
    def broker_ids(self) -> set[int]:
        """Ids of the brokers the answering node sees as alive (registered, not fenced)."""
        return {b.node_id for b in self.brokers}


class SaslAuthenticationError(ConnectionError):
    """The broker refused the probe's SASL/PLAIN credentials (or the mechanism)."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def _take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self._data, self._pos)
        self._pos += struct.calcsize(fmt)
        return int(value)

    def int16(self) -> int:
        return self._take(">h")

    def int32(self) -> int:
        return self._take(">i")

    def string_array(self) -> list[str]:
        return [self.nullable_string() or "" for _ in range(self.int32())]

    def nullable_string(self) -> str | None:
        length = self.int16()
        if length < 0:
            return None
        value = self._data[self._pos : self._pos + length].decode()
        self._pos += length
        return value


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        chunks += chunk
    return bytes(chunks)


def _request(sock: socket.socket, api_key: int, version: int, correlation_id: int, body: bytes) -> _Reader:
    """Send one request (header v1) and return a reader positioned after the response's correlation id."""
    header = struct.pack(">hhih", api_key, version, correlation_id, len(_CLIENT_ID)) + _CLIENT_ID
    request = header + body
    sock.sendall(struct.pack(">i", len(request)) + request)
    (size,) = struct.unpack(">i", _recv_exactly(sock, 4))
    reader = _Reader(_recv_exactly(sock, size))
    if reader.int32() != correlation_id:
        raise ConnectionError(f"unexpected correlation id in the response to API key {api_key}")
    return reader


def _string(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">h", len(data)) + data


def _sasl_plain(sock: socket.socket, username: str, password: str) -> None:
    """Authenticate the connection with SASL/PLAIN; raise :class:`SaslAuthenticationError` if refused."""
    reader = _request(sock, _SASL_HANDSHAKE_API_KEY, _SASL_HANDSHAKE_VERSION, 1, _string("PLAIN"))
    error_code = reader.int16()
    mechanisms = reader.string_array()
    if error_code != 0:
        raise SaslAuthenticationError(f"SASL mechanism PLAIN refused (error {error_code}); broker offers {mechanisms}")
    token = b"\0" + username.encode() + b"\0" + password.encode()  # authzid, authcid, password
    reader = _request(
        sock, _SASL_AUTHENTICATE_API_KEY, _SASL_AUTHENTICATE_VERSION, 2, struct.pack(">i", len(token)) + token
    )
    error_code = reader.int16()
    message = reader.nullable_string()
    if error_code != 0:
        raise SaslAuthenticationError(
            f"SASL/PLAIN authentication of {username!r} failed (error {error_code}): {message}"
        )


def fetch_metadata(
    host: str, port: int, timeout: float = 2.0, *, sasl_plain: tuple[str, str] | None = None
) -> ClusterMetadata:
    """Ask the broker at ``host:port`` for cluster metadata (no topics).

    ``sasl_plain=(username, password)`` authenticates first, for a
    ``SASL_PLAINTEXT`` listener with the PLAIN mechanism enabled.
    Raises ``OSError``/``ConnectionError`` when the broker is not reachable or
    closes the connection (e.g. still starting up), and
    :class:`SaslAuthenticationError` when it refuses the credentials.
    """
    correlation_id = 3
    # topics = empty array (not null: null means "all topics"), allow_auto_topic_creation = false
    body = struct.pack(">ib", 0, 0)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        if sasl_plain is not None:
            _sasl_plain(sock, *sasl_plain)
        reader = _request(sock, _METADATA_API_KEY, _METADATA_VERSION, correlation_id, body)
    reader.int32()  # throttle_time_ms
    brokers = []
    for _ in range(reader.int32()):
        node_id = reader.int32()
        broker_host = reader.nullable_string() or ""
        broker_port = reader.int32()
        reader.nullable_string()  # rack
        brokers.append(BrokerInfo(node_id, broker_host, broker_port))
    cluster_id = reader.nullable_string()
    controller_id = reader.int32()
    return ClusterMetadata(cluster_id, controller_id, tuple(sorted(brokers, key=lambda b: b.node_id)))
