"""Managed child processes: start detached, wait until ready, stop by pid.

Every server of the stack (Kafka nodes, Postgres, the SMTP capture, later the
four services) goes through :func:`start_process`, so they all share one set of
rules:

* each runs in its own session and process group, so a Ctrl-C in the terminal
  does not reach it and stopping it also stops its children (Postgres
  backends);
* stdout and stderr go to one log file, whose tail is quoted in every error;
* readiness is polled (TCP port, HTTP URL or any callable) with a deadline, and
  a process that dies while we wait is reported at once with its exit code;
* stopping is by pid only: the stop signal, a grace period, then SIGKILL. A
  recorded pid is only signalled if the process start time still matches, so
  a pid recycled by the kernel for somebody else's process is never touched.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from .ports import LOCALHOST, port_is_open

ReadyCheck = Callable[[], bool]

# Polling backs off from fast (servers that start in milliseconds) to moderate
# (JVMs that take seconds) without sleeping a fixed amount.
_POLL_FIRST = 0.02
_POLL_MAX = 0.25


class ProcessError(RuntimeError):
    """A managed process failed to start, become ready or stop."""


class ProcessDied(ProcessError):
    """The process exited while we waited for it to become ready."""


class ReadinessTimeout(ProcessError):
    """The process stayed alive but never became ready in time."""


# --------------------------------------------------------------------------- readiness checks


def tcp_ready(port: int, host: str = LOCALHOST) -> ReadyCheck:
    """Ready when ``host:port`` accepts a TCP connection."""
    return lambda: port_is_open(port, host)


def http_ready(url: str, timeout: float = 1.0) -> ReadyCheck:
    """Ready when ``GET url`` answers with a status below 400."""

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return int(response.status) < 400
        except (urllib.error.URLError, OSError, ValueError):
            return False

    return check


def all_ready(*checks: ReadyCheck) -> ReadyCheck:
    """Ready when every check is."""
    return lambda: all(check() for check in checks)


# --------------------------------------------------------------------------- pid bookkeeping


def process_start_time(pid: int) -> float | None:
    """Creation time of ``pid`` (seconds since the epoch, as psutil tells it), None if it does not exist.

    Together with the pid it names one process: a recycled pid has another creation time.
    """
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.NoSuchProcess:
        return None


def pid_alive(pid: int, start_time: float | None = None) -> bool:
    """True when ``pid`` runs and, if given, was started at ``start_time``.

    Zombies count as dead: a detached server whose parent exited may stay a
    zombie until init reaps it, yet it serves nothing.
    """
    try:
        process = psutil.Process(pid)
        if process.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return False
        return start_time is None or process.create_time() == start_time
    except psutil.NoSuchProcess:
        return False


def _pdeathsig_prefix() -> list[str]:
    """``setpriv --pdeathsig KILL`` so the child dies with its parent (pytest sessions).

    Linux delivers the parent-death signal when the *thread* that forked the
    child ends, so it is only safe from the main thread; elsewhere we skip it.
    """
    if threading.current_thread() is not threading.main_thread():
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


# --------------------------------------------------------------------------- the process handle


@dataclass
class ManagedProcess:
    """A started (or recorded) server process, addressed by pid.

    Instances created by :func:`start_process` hold the ``Popen`` so the
    process is reaped; instances rebuilt with :meth:`from_record` (e.g. by
    ``palmares_stack down``) only know the pid and its start time.
    """

    name: str
    pid: int
    argv: list[str]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    start_time: float | None = None
    started_at: str = ""
    tier: int = 0
    log_offset: int = 0
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    # ---- state

    def is_alive(self) -> bool:
        """True while the process runs (reaps it first when it is our child)."""
        if self.popen is not None and self.popen.poll() is not None:
            return False
        return pid_alive(self.pid, self.start_time)

    @property
    def returncode(self) -> int | None:
        """Exit code when known (only for processes started by this interpreter)."""
        return None if self.popen is None else self.popen.poll()

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines this run wrote to its log file."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self.log_offset)
                data = log.read()
        except OSError:
            return "(no log)"
        text = data.decode("utf-8", errors="replace").rstrip("\n")
        return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"

    # ---- readiness

    def wait_ready(self, ready: ReadyCheck, timeout: float, what: str | None = None) -> float:
        """Poll ``ready`` until it returns True; return the seconds waited.

        See :func:`wait_until_ready`.
        """
        return wait_until_ready([self], ready, timeout, what or self.name)

    # ---- stopping

    def _is_group_leader(self) -> bool:
        try:
            return os.getpgid(self.pid) == self.pid
        except ProcessLookupError:
            return False

    def send_signal(self, sig: int) -> None:
        """Signal the process (its whole group when it leads one). No-op if it is gone."""
        if not self.is_alive():
            return
        try:
            if self._is_group_leader():
                os.killpg(self.pid, sig)
            else:
                os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def wait_exit(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the process to end; True if it did."""
        if self.popen is not None:
            try:
                self.popen.wait(timeout=timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + timeout
        delay = _POLL_FIRST
        while self.is_alive():
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 1.5, _POLL_MAX)
        return True

    def _kill_group_leftovers(self) -> None:
        """SIGKILL children that outlived their leader, which we just saw exit.

        Only called right after observing the leader's exit: the kernel does not
        reuse a process-group id while any member lives, so whatever still has
        this group id is ours. Never called for a pid found dead on arrival.
        """
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful stop: the stop signal, up to ``timeout`` seconds, then SIGKILL."""
        if not self.is_alive():
            return
        self.send_signal(self.stop_signal)
        if not self.wait_exit(timeout):
            self.send_signal(signal.SIGKILL)
            if not self.wait_exit(10.0):
                raise ProcessError(f"{self.name} (pid {self.pid}) survived SIGKILL")
        self._kill_group_leftovers()

    def kill(self) -> None:
        """Crash the process on purpose (SIGKILL to its group) and wait until it is gone."""
        if not self.is_alive():
            return
        self.send_signal(signal.SIGKILL)
        if not self.wait_exit(10.0):
            raise ProcessError(f"{self.name} (pid {self.pid}) survived SIGKILL")
        self._kill_group_leftovers()

    # ---- persistence (pid registry)

    def to_record(self) -> dict[str, Any]:
        """JSON-able description, enough to stop the process from another interpreter."""
        return {
            "name": self.name,
            "pid": self.pid,
            "argv": self.argv,
            "log_path": str(self.log_path),
            "stop_signal": int(self.stop_signal),
            "start_time": self.start_time,
            "started_at": self.started_at,
            "tier": self.tier,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ManagedProcess:
        """Rebuild a handle from :meth:`to_record` output."""
        return cls(
            name=str(record["name"]),
            pid=int(record["pid"]),
            argv=[str(a) for a in record.get("argv", [])],
            log_path=Path(record.get("log_path", "/dev/null")),
            stop_signal=int(record.get("stop_signal", signal.SIGTERM)),
            start_time=record.get("start_time"),
            started_at=str(record.get("started_at", "")),
            tier=int(record.get("tier", 0)),
        )


def wait_until_ready(processes: Sequence[ManagedProcess], ready: ReadyCheck, timeout: float, what: str) -> float:
    """Poll ``ready`` until it returns True while every process stays alive.

    Returns the seconds waited. Raises :class:`ProcessDied` as soon as one of
    the processes exits and :class:`ReadinessTimeout` after ``timeout``
    seconds, both quoting the relevant log tails. Exceptions raised by
    ``ready`` count as "not yet" (the last one is quoted on timeout).
    """
    started = time.monotonic()
    deadline = started + timeout
    delay = _POLL_FIRST
    last_error: BaseException | None = None
    while True:
        for process in processes:
            if not process.is_alive():
                code = process.returncode
                raise ProcessDied(
                    f"{process.name} exited{'' if code is None else f' with code {code}'} "
                    f"before {what} was ready (log: {process.log_path}):\n{process.log_tail()}"
                )
        try:
            if ready():
                return time.monotonic() - started
        except Exception as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            hint = f" (last check error: {last_error!r})" if last_error else ""
            tails = "\n".join(f"--- {p.name} (log: {p.log_path}):\n{p.log_tail(20)}" for p in processes)
            raise ReadinessTimeout(f"{what} not ready after {timeout:.0f}s{hint}:\n{tails}")
        time.sleep(delay)
        delay = min(delay * 1.5, _POLL_MAX)


def _user_kwargs(user: str | None) -> dict[str, Any]:
    """Popen arguments that drop root privileges to ``user`` (no-op when not root)."""
    if user is None or os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def start_process(
    name: str,
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    inherit_env: bool = True,
    cwd: Path | None = None,
    ready: ReadyCheck | None = None,
    timeout: float = 60.0,
    stop_signal: int = signal.SIGTERM,
    user: str | None = None,
    tie_to_parent: bool = False,
    tier: int = 0,
) -> ManagedProcess:
    """Start ``argv`` detached (own session), logging to ``log_path``; wait for ``ready``.

    ``env`` is merged over the current environment unless ``inherit_env`` is
    False. ``tie_to_parent`` makes the child die with this interpreter (test
    sessions); leave it False for servers that must outlive the launcher
    (``palmares_stack up``). If readiness fails the process is stopped before
    the error propagates, so a failed start leaves nothing running.
    """
    if not argv:
        raise ValueError("argv must not be empty")
    executable = argv[0]
    if os.sep not in executable and shutil.which(executable) is None:
        raise ProcessError(f"{name}: executable {executable!r} not found on PATH")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    child_env = {**(os.environ if inherit_env else {}), **(env or {})}
    full_argv = (_pdeathsig_prefix() if tie_to_parent else []) + list(argv)

    with log_path.open("ab") as log:
        header = f"=== {datetime.now(UTC).isoformat()} start {name}: {' '.join(argv)}\n"
        log.write(header.encode())
        log.flush()
        offset = log.tell()
        popen = subprocess.Popen(
            full_argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=child_env,
            start_new_session=True,
            close_fds=True,
            **_user_kwargs(user),
        )
    process = ManagedProcess(
        name=name,
        pid=popen.pid,
        argv=list(argv),
        log_path=log_path,
        stop_signal=stop_signal,
        start_time=process_start_time(popen.pid),
        started_at=datetime.now(UTC).isoformat(),
        tier=tier,
        log_offset=offset,
        popen=popen,
    )
    if ready is not None:
        try:
            process.wait_ready(ready, timeout)
        except BaseException:
            process.stop(timeout=10.0)
            raise
    return process


def stop_all(processes: Sequence[ManagedProcess], timeout: float = 30.0) -> None:
    """Stop several processes concurrently: signal all, then wait for all, then SIGKILL.

    Concurrent matters for a Kafka quorum: stopped one by one, the last nodes
    lose their controller majority and hang in controlled shutdown.
    """
    alive = [p for p in processes if p.is_alive()]
    for process in alive:
        process.send_signal(process.stop_signal)
    deadline = time.monotonic() + timeout
    for process in alive:
        if not process.wait_exit(max(0.0, deadline - time.monotonic())):
            process.send_signal(signal.SIGKILL)
    errors = []
    for process in alive:
        if not process.wait_exit(10.0):
            errors.append(f"{process.name} (pid {process.pid})")
        else:
            process._kill_group_leftovers()
    if errors:
        raise ProcessError(f"survived SIGKILL: {', '.join(errors)}")
