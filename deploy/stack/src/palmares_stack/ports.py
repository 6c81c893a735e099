"""Free-port allocation and TCP probes.

Every server of the stack listens on a port chosen at random, never on a fixed
number: several stacks and test sessions can then run side by side on one
machine.

The ports are drawn *below* the kernel's ephemeral range
(``/proc/sys/net/ipv4/ip_local_port_range``), not handed out by ``bind(0)``.
A port from the ephemeral range is free only while its server runs: when a
server stops for a moment (a broker restarted by a reliability test), the
kernel may give the same number to another process's ``bind(0)`` or as the
source port of an outgoing connection — a client retrying ``connect()`` to
the stopped port can even connect to itself — and the server cannot bind its
port again ("Address already in use"; CI saw Kafka's controller fail so).
Ports outside the ephemeral range are never handed out by the kernel, so only
another explicit choice like ours can take them, and the probe below sees it.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOCALHOST = "127.0.0.1"

#: Lowest port we hand out: above the well-known and most registered services.
_LOWEST = 10_000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_ATTEMPTS = 200


def _ephemeral_low() -> int:
    """First port of the kernel's ephemeral range (Linux default 32768)."""
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _bind_outside_ephemeral(host: str) -> socket.socket:
    """A socket bound to a random free port below the ephemeral range.

    Falls back to ``bind(0)`` when the range below is too small to draw from
    (a machine whose ephemeral range starts low).
    """
    high = _ephemeral_low() - 1
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if high - _LOWEST >= 1_000:
            for _ in range(_ATTEMPTS):
                # No SO_REUSEADDR: a port with a connection still in TIME_WAIT
                # counts as taken, so the server never inherits stray packets.
                try:
                    sock.bind((host, random.randint(_LOWEST, high)))
                except OSError:
                    continue
                return sock
        sock.bind((host, 0))
        return sock
    except BaseException:
        sock.close()
        raise


def free_port(host: str = LOCALHOST) -> int:
    """Return a TCP port that is free on ``host`` right now.

    The socket is closed before the port is used by the server, so another
    process could grab it in between; callers that start a server on it detect
    that (the server dies with "address already in use") and report it.
    """
    with _bind_outside_ephemeral(host) as sock:
        return int(sock.getsockname()[1])


def free_ports(count: int, host: str = LOCALHOST) -> list[int]:
    """Return ``count`` distinct free ports.

    All sockets stay bound until every port is chosen, so no port comes twice.
    """
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(_bind_outside_ephemeral(host))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_is_free(port: int, host: str = LOCALHOST) -> bool:
    """True when ``port`` can be bound on ``host`` (used to re-use a recorded port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR mirrors what servers do: a port in TIME_WAIT is reusable.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def port_is_open(port: int, host: str = LOCALHOST, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
