"""The managed-process helper: readiness errors, stop escalation, pid-reuse safety."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest
from palmares_stack.ports import free_port
from palmares_stack.process import (
    ManagedProcess,
    ProcessDied,
    ProcessError,
    ReadinessTimeout,
    pid_alive,
    start_process,
    tcp_ready,
)
from palmares_stack.registry import ProcessRegistry


def test_ready_by_tcp_port_then_graceful_stop(tmp_path: Path) -> None:
    port = free_port()
    server = (
        "import socket, time; s = socket.socket(); "
        f"s.bind(('127.0.0.1', {port})); s.listen(); print('listening', flush=True); time.sleep(60)"
    )
    process = start_process(
        "tcp",
        [sys.executable, "-c", server],
        log_path=tmp_path / "tcp.log",
        ready=tcp_ready(port),
        timeout=20,
        tie_to_parent=True,
    )
    assert process.is_alive() and "listening" in process.log_tail()
    process.stop(timeout=5)
    assert not process.is_alive() and process.returncode == -signal.SIGTERM


def start_never_ready(tmp_path: Path, name: str, script: str, timeout: float) -> None:
    """A shell script started as a server that never answers its readiness check."""
    start_process(name, ["sh", "-c", script], log_path=tmp_path / f"{name}.log", ready=lambda: False, timeout=timeout)


def test_process_dying_before_ready_reports_exit_code_and_log(tmp_path: Path) -> None:
    with pytest.raises(ProcessDied, match=r"(?s)exited with code 3.*cannot bind: boom"):
        start_never_ready(tmp_path, "dies", "echo 'cannot bind: boom'; exit 3", timeout=10)


def test_readiness_timeout_stops_the_process(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ReadinessTimeout, match="still starting"):
        start_never_ready(tmp_path, "slow", "echo still starting; sleep 60", timeout=0.5)
    assert time.monotonic() - started < 10
    assert "sleep 60" not in _own_children()


def test_stop_escalates_to_sigkill_and_reaches_children(tmp_path: Path) -> None:
    # The shell ignores SIGTERM, and so does its child (ignored signals survive exec).
    process = start_process(
        "stubborn",
        ["sh", "-c", "trap '' TERM; sleep 60 & wait"],
        log_path=tmp_path / "stubborn.log",
    )
    time.sleep(0.2)
    started = time.monotonic()
    process.stop(timeout=0.5)
    assert not process.is_alive()
    assert 0.5 <= time.monotonic() - started < 10
    assert "sleep 60" not in _own_children()


def test_recycled_pid_is_never_signalled(tmp_path: Path) -> None:
    sleeper = start_process("sleeper", ["sleep", "60"], log_path=tmp_path / "s.log")
    try:
        registry = ProcessRegistry(tmp_path / "pids")
        record = sleeper.to_record()
        record["start_time"] = int(record["start_time"]) + 1  # as if the pid were reused
        stale = ManagedProcess.from_record(record)
        assert not stale.is_alive()
        stale.stop(timeout=1)
        stale.kill()
        assert sleeper.is_alive()  # untouched

        registry.record(sleeper)
        (loaded,) = registry.processes()
        assert loaded.pid == sleeper.pid and loaded.is_alive()
        loaded.stop(timeout=5)
        assert not pid_alive(sleeper.pid, sleeper.start_time)
    finally:
        sleeper.stop(timeout=1)


def test_missing_executable_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProcessError, match="not found on PATH"):
        start_process("nope", ["no-such-binary-palmares"], log_path=tmp_path / "n.log")


def _own_children() -> str:
    import subprocess

    return subprocess.run(
        ["ps", "-o", "args=", "--ppid", str(__import__("os").getpid())],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
