"""The benchmark's reading of PostgreSQL's write-ahead log (`bench.counters.wal_written`), on a real server."""

from __future__ import annotations

import asyncpg

from bench.counters import wal_written


async def test_the_wal_written_grows_with_the_rows_and_counts_full_page_images(database: str) -> None:
    db = await asyncpg.connect(database)

    async def written() -> dict[str, int]:
        await db.execute("SELECT pg_stat_force_next_flush()")  # this backend's statistics, now
        return await wal_written(db)

    try:
        # Messages stored out of line uncompressed, as notify's.
        await db.execute("CREATE TABLE letters (id int PRIMARY KEY, message bytea STORAGE EXTERNAL)")
        before = await written()
        await db.execute(
            "INSERT INTO letters SELECT i, decode(repeat('ab', 4000), 'hex') FROM generate_series(1, 100) i"
        )
        inserted = await written()
        await db.execute("UPDATE letters SET id = id + 1000")
        updated = await written()
        await db.execute("CHECKPOINT")
        checkpointed = await written()
        await db.execute("UPDATE letters SET id = id + 1000")
        after_checkpoint = await written()
    finally:
        await db.close()
    assert set(before) == {"WAL bytes", "WAL full-page images"}
    assert inserted["WAL bytes"] - before["WAL bytes"] >= 100 * 4000  # the messages themselves
    fpi = "WAL full-page images"
    # The same update logs whole pages only after a checkpoint: each page's first change is logged whole.
    assert after_checkpoint[fpi] - checkpointed[fpi] > updated[fpi] - inserted[fpi]
