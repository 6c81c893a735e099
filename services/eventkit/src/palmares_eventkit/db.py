"""PostgreSQL access: one schema per service, versioned SQL migrations at start-up.

Migrations are plain `NNNN_name.sql` files shipped inside a package. They are
applied in order, each in its own transaction, under an advisory lock so that
two instances starting together do not race, and recorded in
`<schema>.schema_migrations(component, version)`. Written by hand rather than
with a migration tool because each service only needs "apply these numbered
files once, in order, per schema" and the tools add an ORM or a CLI we do not use.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from prometheus_client import Counter

log = logging.getLogger(__name__)

# Every statement is a round trip, the largest cost on both sides (docs/benchmark.md): the
# benchmark reads this counter to report statements per dossier for each service.
DB_STATEMENTS = Counter("palmares_db_statements_total", "SQL statements sent to PostgreSQL by this process")

Connection = asyncpg.Connection | PoolConnectionProxy
"""A connection of the service's pool, or one opened alone: what a transaction runs on."""


class PooledConnection(asyncpg.Connection):
    """asyncpg's connection, reset on release only when it kept session state.

    asyncpg's pool sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` whenever a connection goes back to it: one more round trip per
    transaction, for every event handled and every request served, although a
    service's transactions leave nothing behind (their locks are
    ``pg_advisory_xact_lock``, their settings ``SET LOCAL``, their temporary
    tables ``ON COMMIT DROP``). The few users that do keep session state (the
    outbox relay's advisory lock and ``SET``, a ``LISTEN``, the migrations'
    lock) call :func:`keep_session_state`, and only their connection gets the
    full reset. A transaction left open is rolled back by the pool whatever
    this says (``Connection._reset``). ``get_reset_query`` is asyncpg's
    documented hook for this (a subclass decides what ``reset`` sends).
    """

    _session_state = False

    def mark_session_state(self) -> None:
        self._session_state = True

    def get_reset_query(self) -> str:
        if not self._session_state:
            return ""
        self._session_state = False
        return str(super().get_reset_query())


def keep_session_state(conn: Connection) -> None:
    """Declare that ``conn`` (of :func:`create_pool`) now holds session state: the pool resets it fully."""
    mark = getattr(conn, "mark_session_state", None)
    if mark is None:
        raise TypeError(f"{conn!r} is not a connection of palmares_eventkit.db.create_pool")
    mark()


_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_MIGRATION_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    component: str
    version: int
    name: str
    sql: str


def load_migrations(component: str, folder: Traversable) -> list[Migration]:
    """Read the numbered SQL files of a package folder, in order."""
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match:
            found.append(Migration(component, int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations of {component} must be numbered 0001, 0002, … without gaps: {versions}")
    return found


def eventkit_migrations() -> list[Migration]:
    """The inbox, outbox and dead-letter bookkeeping every service schema holds."""
    return load_migrations("eventkit", resources.files("palmares_eventkit") / "migrations")


def check_schema_name(schema: str) -> str:
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    return schema


async def create_pool(
    dsn: str,
    schema: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    idle_in_transaction_timeout_s: float | None = None,
) -> asyncpg.Pool:
    """A pool whose connections see the service's schema first.

    With `idle_in_transaction_timeout_s`, PostgreSQL ends a session that sits
    in a transaction without a statement for that long: the fence against a
    frozen process (SIGSTOP, a VM paused) whose open transaction would
    otherwise keep its row and inbox locks, and block the instance that took
    its work over, until it wakes (docs/reliability.md, "Paused processes").
    """
    check_schema_name(schema)
    settings = {"search_path": schema, "application_name": f"palmares-{schema}"}
    if idle_in_transaction_timeout_s:
        settings["idle_in_transaction_session_timeout"] = str(int(idle_in_transaction_timeout_s * 1000))
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings=settings,
        command_timeout=60,
        init=_count_statements,
        connection_class=PooledConnection,
    )
    assert pool is not None
    return pool


async def _count_statements(conn: asyncpg.Connection) -> None:
    conn.add_query_logger(_count_statement)


def _count_statement(_query: object) -> None:
    DB_STATEMENTS.inc()


async def migrate(pool: asyncpg.Pool, schema: str, migrations: list[Migration]) -> list[str]:
    """Create the schema if needed and apply the migrations not yet applied. Returns their names."""
    check_schema_name(schema)
    applied: list[str] = []
    async with pool.acquire() as conn:
        # Session-level lock keyed on the schema: concurrent instances wait here.
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"migrate:{schema}")
        keep_session_state(conn)
        try:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            await conn.execute(
                f"""CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
                        component text NOT NULL,
                        version int NOT NULL,
                        name text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now(),
                        PRIMARY KEY (component, version))"""
            )
            done = {
                (r["component"], r["version"])
                for r in await conn.fetch(f"SELECT component, version FROM {schema}.schema_migrations")
            }
            for migration in migrations:
                if (migration.component, migration.version) in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f"SET LOCAL search_path TO {schema}")
                    await conn.execute(migration.sql)
                    await conn.execute(
                        f"INSERT INTO {schema}.schema_migrations (component, version, name) VALUES ($1, $2, $3)",
                        migration.component,
                        migration.version,
                        migration.name,
                    )
                applied.append(f"{migration.component}/{migration.name}")
                log.info("migration applied", extra={"schema": schema, "migration": migration.name})
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", f"migrate:{schema}")
    return applied
