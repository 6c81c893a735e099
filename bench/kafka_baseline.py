"""The baseline: raw aiokafka produce → consume → produce on the benchmark's own broker.

    python -m bench.kafka_baseline relay --bootstrap H:P --source T1 --sink T2 --count N --group G

`measure_baseline` creates two scratch topics of 6 partitions, starts the
relay above as its own process (a consumer group on the first topic that, for
each record, produces it to the second and commits after each batch, like a
service does), produces N records of the measured size to the first topic and
counts them as they arrive in the second. The figure is N divided by the time
from the first record produced to the last one arrived. Producers use the
services' settings (idempotent, acks=all, linger 2 ms); batches are at most
200 records (the services' PALMARES_BATCH_MAX_RECORDS default).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tools.repository import repository_root

PARTITIONS = 6
BATCH_MAX_RECORDS = 200
READY = "relay ready"


def producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=2)


@dataclass(frozen=True)
class RecordShape:
    """The size of a record to imitate: value bytes, key bytes and headers."""

    value_bytes: int
    key_bytes: int
    headers: tuple[tuple[str, bytes], ...]

    def value(self, i: int) -> bytes:
        head = b'{"n":%d,"pad":"' % i
        tail = b'"}'
        return head + b"x" * max(0, self.value_bytes - len(head) - len(tail)) + tail

    def key(self, i: int) -> bytes:
        return str(i % 100_000).zfill(self.key_bytes).encode()[-self.key_bytes :]


async def partitions_of(bootstrap: str, topic: str) -> list[TopicPartition]:
    """The partitions of `topic`, from a metadata request."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(TopicPartition(topic, p["partition"]) for t in described for p in t["partitions"])


async def record_shape(bootstrap: str, topic: str, within: float = 120.0) -> tuple[RecordShape, int]:
    """The average value and key size of every record of `topic`, and the headers of its last one."""
    partitions = await partitions_of(bootstrap, topic)
    if not partitions:
        raise RuntimeError(f"topic {topic} has no partition")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        count = value_bytes = key_bytes = 0
        headers: tuple[tuple[str, bytes], ...] = ()
        deadline = time.monotonic() + within
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: read {count} of {sum(ends.values())} records")
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batches.values():
                for record in records:
                    count += 1
                    value_bytes += len(record.value or b"")
                    key_bytes += len(record.key or b"")
                    headers = tuple(record.headers or ())
    finally:
        await consumer.stop()
    if count == 0:
        raise RuntimeError(f"no record in {topic} to take the size of")
    return RecordShape(round(value_bytes / count), max(1, round(key_bytes / count)), headers), count


async def relay(bootstrap: str, source: str, sink: str, count: int, group: str) -> None:
    """Consume `source` in `group`; produce each record to `sink`; commit after each batch."""
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    out = producer(bootstrap)
    await consumer.start()
    await out.start()
    try:
        forwarded = 0
        announced = False
        while forwarded < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=BATCH_MAX_RECORDS)
            if not announced and consumer.assignment():
                print(READY, flush=True)
                announced = True
            futures = [
                await out.send(sink, record.value, key=record.key, headers=list(record.headers or ()))
                for records in batches.values()
                for record in records
            ]
            if futures:
                await asyncio.gather(*futures)
                await consumer.commit()
                forwarded += len(futures)
    finally:
        await out.stop()
        await consumer.stop()


@dataclass(frozen=True)
class BaselineResult:
    messages: int
    value_bytes: int
    seconds: float
    produce_seconds: float

    @property
    def per_s(self) -> float:
        return self.messages / self.seconds


async def _count_arrivals(bootstrap: str, topic: str, expected: int, within: float) -> float:
    """Read `topic` from the beginning until `expected` records arrived; the time of the last one."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await partitions_of(bootstrap, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen = 0
        last = time.time()
        deadline = time.monotonic() + within
        while seen < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"baseline: {seen}/{expected} records arrived in {topic}")
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            got = sum(len(records) for records in batches.values())
            if got:
                seen += got
                last = time.time()
        return last
    finally:
        await consumer.stop()


async def measure_baseline(
    bootstrap: str, shape: RecordShape, messages: int, *, within: float = 600.0, tag: str = ""
) -> BaselineResult:
    """Produce → relay (another process) → count; see the module's docstring."""
    from palmares_eventkit.topics_admin import ensure_topics

    suffix = tag or str(int(time.time()))
    source, sink = f"bench.baseline.in.{suffix}", f"bench.baseline.out.{suffix}"
    await ensure_topics(bootstrap, [source, sink], partitions=PARTITIONS, replication_factor=1)
    argv = [
        sys.executable,
        "-m",
        "bench.kafka_baseline",
        "relay",
        "--bootstrap",
        bootstrap,
        "--source",
        source,
        "--sink",
        sink,
        "--count",
        str(messages),
        "--group",
        f"bench.baseline.{suffix}",
    ]
    proc = await asyncio.create_subprocess_exec(*argv, stdout=subprocess.PIPE, cwd=repository_root())
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if READY not in line.decode():
            raise RuntimeError(f"baseline relay did not start: {line!r}")
        arrivals = asyncio.create_task(_count_arrivals(bootstrap, sink, messages, within))
        out = producer(bootstrap)
        await out.start()
        try:
            begin = time.time()
            pending = []
            for i in range(messages):
                pending.append(await out.send(source, shape.value(i), key=shape.key(i), headers=list(shape.headers)))
                if len(pending) >= 2000:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.gather(*pending)
            produced = time.time()
        finally:
            await out.stop()
        last = await arrivals
        await asyncio.wait_for(proc.wait(), 30)
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    return BaselineResult(messages, shape.value_bytes, last - begin, produced - begin)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("relay", help="consume --source, produce each record to --sink, --count records in all")
    r.add_argument("--bootstrap", required=True)
    r.add_argument("--source", required=True)
    r.add_argument("--sink", required=True)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--group", required=True)
    args = parser.parse_args(argv)
    asyncio.run(relay(args.bootstrap, args.source, args.sink, args.count, args.group))
    return 0


if __name__ == "__main__":
    sys.exit(main())
