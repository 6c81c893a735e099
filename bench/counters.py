"""Where the work goes, counted at each phase boundary: statements per service, records and bytes per topic.

- **Statements**: each service counts the SQL statements it sends
  (`palmares_db_statements_total` on its `/metrics`, from an asyncpg query
  logger on every pooled connection; an `executemany` counts once, it is one
  round trip). Read from every service at each boundary.
- **Kafka records**: the sum of the end offsets of a topic's partitions (no
  transactions, no compaction here: one offset per record).
- **Kafka bytes**: the size of a topic's log segments on the broker's disk
  (`node-0/data/<topic>-<partition>/*.log`): record batches as stored,
  compression and batch headers included, indexes left out.
- **PostgreSQL's write-ahead log**: the bytes it wrote (its insert position)
  and the full-page images among its records (`pg_stat_wal`, which each
  backend updates within a second), for the whole server: the stack's
  services are its only clients. Each page's first change after a checkpoint
  is logged whole, so full-page images grow with the checkpoints a phase
  meets, not only with its rows.

`per_dossier` turns the deltas between two boundaries into figures per dossier.
"""

from __future__ import annotations

import asyncio
import itertools
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

STATEMENTS_METRIC = "palmares_db_statements"  # the parser drops the counter's `_total`


@dataclass(frozen=True)
class Snapshot:
    statements: dict[str, float]
    records: dict[str, int]
    bytes: dict[str, int]
    postgres: dict[str, int] = field(default_factory=dict)  # "WAL bytes", "WAL full-page images"


async def wal_written(db: asyncpg.Connection) -> dict[str, int]:
    """Where PostgreSQL's write-ahead log stands (the whole server): its insert position in bytes, exact, and
    the full-page images logged, from the cumulative statistics (each backend adds its own within a second)."""
    row = await db.fetchrow(
        "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint AS bytes, wal_fpi AS fpi FROM pg_stat_wal"
    )
    assert row is not None  # the view has one row
    return {"WAL bytes": int(row["bytes"]), "WAL full-page images": int(row["fpi"])}


def scrape_statements(url: str) -> float:
    """The statement counter of one service, read from its `/metrics`."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return statements_in(response.read().decode())


def statements_in(text: str) -> float:
    """The statement counter in a Prometheus text exposition (0 when the service does not expose it)."""
    for family in text_string_to_metric_families(text):
        if family.name == STATEMENTS_METRIC:
            return sum(s.value for s in family.samples if s.name.endswith("_total"))
    return 0.0


def log_bytes(data_dir: Path) -> dict[str, int]:
    """topic → bytes of its log segments, from the broker's data dir (`<topic>-<partition>/`)."""
    sizes: dict[str, int] = {}
    if not data_dir.is_dir():
        return sizes
    for partition_dir in data_dir.iterdir():
        topic, _, partition = partition_dir.name.rpartition("-")
        if not partition_dir.is_dir() or not partition.isdigit() or topic.startswith("__"):
            continue
        size = sum(f.stat().st_size for f in partition_dir.glob("*.log"))
        sizes[topic] = sizes.get(topic, 0) + size
    return sizes


@dataclass
class Counters:
    """Snapshots of the counters at named boundaries."""

    metrics_urls: Mapping[str, Sequence[str]]  # service → the /metrics of each of its processes
    bootstrap: str
    kafka_data: Path
    database_url: str | None = None  # PostgreSQL's write-ahead log is read through it
    marks: dict[str, Snapshot] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    _consumer: AIOKafkaConsumer | None = None
    _admin: AIOKafkaAdminClient | None = None
    _db: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await self._consumer.start()
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await self._admin.start()
        if self.database_url is not None:
            self._db = await asyncpg.connect(self.database_url)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        if self._admin is not None:
            await self._admin.close()
        if self._db is not None:
            await self._db.close()

    async def _wal(self) -> dict[str, int]:
        return await wal_written(self._db) if self._db is not None else {}

    async def _records(self) -> dict[str, int]:
        assert self._consumer is not None and self._admin is not None, "start() first"
        # The admin client's metadata: the consumer's own knows only the topics it was assigned.
        described = await self._admin.describe_topics()
        partitions = [
            TopicPartition(t["topic"], p["partition"])
            for t in described
            if not t["topic"].startswith("__")
            for p in t["partitions"]
        ]
        ends = await self._consumer.end_offsets(partitions) if partitions else {}
        records: dict[str, int] = {}
        for tp, end in ends.items():
            records[tp.topic] = records.get(tp.topic, 0) + int(end)
        return records

    async def mark(self, name: str) -> None:
        async def of(urls: Sequence[str]) -> float:
            counts = await asyncio.gather(*(asyncio.to_thread(scrape_statements, url) for url in urls))
            return sum(counts)

        # A counter that cannot be read costs its figure, never the run.
        try:
            counted = await asyncio.gather(*(of(urls) for urls in self.metrics_urls.values()))
            statements = dict(zip(self.metrics_urls, counted, strict=True))
        except OSError as exc:
            self.errors.append(f"{name}: statements: {exc}")
            statements = {}
        try:
            records = await self._records()
        except Exception as exc:
            self.errors.append(f"{name}: records: {type(exc).__name__}: {exc}")
            records = {}
        size = await asyncio.to_thread(log_bytes, self.kafka_data)
        try:
            postgres = await self._wal()
        except (OSError, asyncpg.PostgresError) as exc:
            self.errors.append(f"{name}: WAL: {type(exc).__name__}: {exc}")
            postgres = {}
        self.marks[name] = Snapshot(statements=statements, records=records, bytes=size, postgres=postgres)


def _delta(after: Mapping[str, float], before: Mapping[str, float]) -> dict[str, float]:
    return {k: after[k] - before.get(k, 0) for k in after}


def per_dossier(
    marks: Mapping[str, Snapshot], phases: Sequence[str], dossiers: int
) -> dict[str, dict[str, dict[str, float]]]:
    """For each kind (statements, records, bytes, postgres): name → phase → amount per dossier, with `campaign` the sum.

    A phase's amount is the delta between the mark before it and its own mark.
    """
    names = list(marks)
    out: dict[str, dict[str, dict[str, float]]] = {"statements": {}, "records": {}, "bytes": {}, "postgres": {}}
    if dossiers <= 0:
        return out
    for kind in out:
        totals: dict[str, float] = {}
        for previous, phase in itertools.pairwise(names):
            if phase not in phases:
                continue
            delta = _delta(getattr(marks[phase], kind), getattr(marks[previous], kind))
            for key, value in delta.items():
                if value:
                    out[kind].setdefault(key, {})[phase] = round(value / dossiers, 2)
                    totals[key] = totals.get(key, 0) + value
        for key, value in totals.items():
            out[kind][key]["campaign"] = round(value / dossiers, 2)
    return out
