"""Ports handed out by the stack stay out of the kernel's ephemeral range."""

from __future__ import annotations

import socket

from palmares_stack import ports


def test_free_ports_are_distinct_bindable_and_below_the_ephemeral_range() -> None:
    low = ports._ephemeral_low()
    chosen = ports.free_ports(20)
    assert len(set(chosen)) == 20
    assert all(10_000 <= p < low for p in chosen), chosen
    for port in chosen:
        assert ports.port_is_free(port)


def test_a_port_in_use_is_never_handed_out(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as taken:
        taken.bind((ports.LOCALHOST, ports.free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        # Force every random draw onto the taken port, then fall back to bind(0).
        monkeypatch.setattr(ports.random, "randint", lambda a, b: port)
        assert ports.free_port() != port


def test_a_short_range_below_falls_back_to_the_kernel(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ports, "_ephemeral_low", lambda: 10_500)
    assert ports.free_port() > 0
