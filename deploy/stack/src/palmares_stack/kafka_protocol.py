"""A minimal Kafka wire-protocol client: one Metadata request, for readiness.

The launcher must know when a broker is *really* ready (registered with the
controller quorum and visible in metadata), not just listening. Asking for
metadata needs no Kafka client library, so the launcher keeps no dependency on
aiokafka or the JVM tools (which take a second or more to start).

Metadata v4 is used: Kafka 4 removed v0-v3 (KIP-896), and v4-v8 are the last
non-"flexible" versions, whose encoding is a handful of fixed-width fields.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

_METADATA_API_KEY = 3
_METADATA_VERSION = 4
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


def fetch_metadata(host: str, port: int, timeout: float = 2.0) -> ClusterMetadata:
    """Ask the broker at ``host:port`` for cluster metadata (no topics).

    Raises ``OSError``/``ConnectionError`` when the broker is not reachable or
    closes the connection (e.g. still starting up).
    """
    correlation_id = 1
    header = struct.pack(">hhih", _METADATA_API_KEY, _METADATA_VERSION, correlation_id, len(_CLIENT_ID)) + _CLIENT_ID
    # topics = empty array (not null: null means "all topics"), allow_auto_topic_creation = false
    body = struct.pack(">ib", 0, 0)
    request = header + body
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _recv_exactly(sock, 4))
        payload = _recv_exactly(sock, size)
    reader = _Reader(payload)
    if reader.int32() != correlation_id:
        raise ConnectionError("unexpected correlation id in metadata response")
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
