"""The submission service's entry points run no SQL and open no transaction: the service layer and the stores do.

A route or a page maps a request to a command (`commands.run(runtime.transaction, …)`) or to a query, and its
outcome to a response (docs/architecture.md, "Inside the submission service"). Read from the source, no server.
"""

from __future__ import annotations

import ast
from pathlib import Path

import palmares_submission

PACKAGE = Path(palmares_submission.__file__).parent

# The entry points: HTTP routes, the espaces' pages, the Kafka handlers.
ENTRY_POINTS = sorted(
    [
        *(PACKAGE / name for name in ("api.py", "progress.py", "consumers.py")),
        *PACKAGE.glob("*_api.py"),
        *(p for p in (PACKAGE / "web").glob("*.py") if not p.name.endswith("_store.py")),
    ]
)
# Database calls of asyncpg's connections and pools, and the runtime's transaction.
DATABASE_CALLS = {
    "fetch", "fetchrow", "fetchval", "execute", "executemany", "copy_records_to_table", "copy_to_table",
    "transaction", "cursor", "prepare",
}  # fmt: skip


def database_calls(path: Path) -> list[str]:
    """`file:line name` of every call of a database method in the module (`commands.run(x.transaction, …)`,
    which passes the method without calling it, is the one way in)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DATABASE_CALLS:
            found.append(f"{path.name}:{node.lineno} {node.func.attr}")
    return found


def test_the_entry_points_are_found() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in ENTRY_POINTS}
    assert {"api.py", "accounts_api.py", "progress.py", "web/sign_in.py", "web/jury.py"} <= names
    assert "account_store.py" not in names and "web/page_store.py" not in names


def test_no_entry_point_runs_sql_or_opens_a_transaction() -> None:
    found = [call for path in ENTRY_POINTS for call in database_calls(path)]
    assert found == []


def test_the_check_catches_a_route_that_runs_sql(tmp_path: Path) -> None:
    route = tmp_path / "route.py"
    route.write_text(
        "async def page(runtime):\n"
        "    async with runtime.transaction() as tx:\n"
        "        await tx.conn.execute('DELETE FROM x')\n"
        "    async with runtime.pool.acquire() as conn:\n"
        "        return await conn.fetch('SELECT 1')\n"
    )
    assert [c.split(" ")[1] for c in database_calls(route)] == ["transaction", "execute", "fetch"]
