"""notify's database rebuilt from the topics after it was lost (`python -m palmares_notify rebuild`).

Every instance of notify must be stopped. Then, in this order:
1. the schema is created again, empty (with `--drop-existing`, what is left of
   the old one is dropped first; without it, a schema that still holds
   dossiers or emails is refused);
2. what notify has sent is read back from `notifications.v1`, its own log of
   deliveries: each `NotificationSent` and `NotificationFailed` becomes a
   notification row in its final state, so that no email already sent or
   given up is sent again (ids are stable: the replay renders the same ids,
   which the restored rows already hold);
3. notify's consumer groups are sent back to the first record of their topics.
When notify starts again, it replays the dossiers, results, jury decisions and
palmarès of every edition; the emails that had not been sent when the
database was lost are queued and sent, once.

What cannot come back: an email whose `NotificationSent` was still in the
lost outbox (sent in the last instants before a crash, not yet relayed) is
sent a second time; a graceful stop relays the outbox first, leaving none.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import asdict, dataclass
from importlib import resources
from uuid import UUID

import asyncpg
from palmares_contracts import NOTIFICATIONS, ContractError, NotificationFailed, NotificationSent, decode
from palmares_eventkit import lag, rewind
from palmares_eventkit.db import create_pool, eventkit_migrations, load_migrations, migrate

from palmares_notify.app import SERVICE, create_runtime
from palmares_notify.settings import NotifySettings

log = logging.getLogger(__name__)

_NO_SUBMISSION = UUID(int=0)  # events of an older version named no dossier; the row only keeps the id taken


@dataclass
class Rebuilt:
    """What a rebuild did (printed as JSON)."""

    dropped: bool = False
    records_read: int = 0
    unreadable: int = 0
    sent: int = 0
    failed: int = 0
    partitions_rewound: int = 0
    groups: int = 0


class NotEmpty(RuntimeError):
    """The schema still holds notify's state: a rebuild replaces a lost database, never a live one."""


async def rebuild(settings: NotifySettings, *, drop_existing: bool = False) -> Rebuilt:
    """Restore notify's delivered emails from the topics and rewind its consumer groups (notify stopped)."""
    report = Rebuilt()
    groups = lag.consumer_groups(create_runtime(settings).broker)
    report.groups = len(groups)
    pool = await create_pool(settings.database_url, SERVICE, min_size=1, max_size=2)
    try:
        # The groups first: if an instance still runs, nothing is touched.
        await rewind.ensure_idle(settings, list(groups))
        report.dropped = await _empty_schema(pool, drop_existing)
        await migrate(
            pool,
            SERVICE,
            eventkit_migrations() + load_migrations(SERVICE, resources.files("palmares_notify") / "migrations"),
        )
        final: dict[UUID, NotificationSent | NotificationFailed] = {}
        async for record in rewind.read_topic(settings, NOTIFICATIONS.name):
            report.records_read += 1
            headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
            try:
                event = decode(NOTIFICATIONS, record.value, headers)
            except ContractError:
                report.unreadable += 1  # poison, already dead-lettered by the topic's consumers
                continue
            # One key (the collectivité) per email: its events are in one partition, in order; the last wins.
            final[event.notification_id] = event
        await _restore(pool, list(final.values()))
        report.sent = sum(isinstance(e, NotificationSent) for e in final.values())
        report.failed = len(final) - report.sent
        report.partitions_rewound = len(await rewind.rewind(settings, groups))
    finally:
        await pool.close()
    return report


async def _empty_schema(pool: asyncpg.Pool, drop_existing: bool) -> bool:
    """True when an old schema was dropped; NotEmpty when it holds state and `drop_existing` is not set."""
    exists = await pool.fetchval("SELECT true FROM pg_namespace WHERE nspname = $1", SERVICE)
    if not exists:
        return False
    if drop_existing:
        await pool.execute(f"DROP SCHEMA {SERVICE} CASCADE")
        return True
    held = await pool.fetchval(
        """SELECT count(*) FROM pg_tables
           WHERE schemaname = $1 AND tablename IN ('dossiers', 'notifications')""",
        SERVICE,
    )
    if held:
        state = await pool.fetchval(
            f"SELECT (SELECT count(*) FROM {SERVICE}.dossiers) + (SELECT count(*) FROM {SERVICE}.notifications)"
        )
        if state:
            raise NotEmpty(
                f"schema {SERVICE} holds {state} dossiers and emails: a rebuild replaces a lost database "
                "(--drop-existing drops what is left of it)"
            )
    return False


_RESTORE = """
INSERT INTO notifications (notification_id, kind, submission_id, revision, edition, collectivite_code,
                           to_addr, message_id, message, status, attempts, last_error, sent_at, created_at)
SELECT u.id, u.kind, u.submission_id, u.revision, u.edition, u.code, u.to_addr, u.message_id, ''::bytea,
       u.status, 1, u.reason, CASE WHEN u.status = 'sent' THEN u.at END, u.at
FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::int[], $5::int[], $6::text[], $7::text[], $8::text[],
            $9::text[], $10::text[], $11::timestamptz[])
     AS u(id, kind, submission_id, revision, edition, code, to_addr, message_id, status, reason, at)
ON CONFLICT (notification_id) DO NOTHING"""


async def _restore(pool: asyncpg.Pool, events: list[NotificationSent | NotificationFailed], chunk: int = 5000) -> None:
    """Each email's final state as a notification row (no message body: it is never sent again)."""
    for start in range(0, len(events), chunk):
        part = events[start : start + chunk]
        await pool.execute(
            _RESTORE,
            [e.notification_id for e in part],
            [e.kind.value for e in part],
            [e.submission_id or _NO_SUBMISSION for e in part],
            [e.revision or 0 for e in part],
            [e.edition for e in part],
            [e.collectivite_code for e in part],
            [str(e.to) for e in part],
            [e.message_id for e in part],
            ["sent" if isinstance(e, NotificationSent) else "failed" for e in part],
            [e.reason if isinstance(e, NotificationFailed) else None for e in part],
            [e.occurred_at for e in part],
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m palmares_notify rebuild", description=__doc__.splitlines()[0])
    parser.add_argument("--drop-existing", action="store_true", help="drop what is left of notify's schema first")
    args = parser.parse_args(argv)
    try:
        report = asyncio.run(rebuild(NotifySettings(), drop_existing=args.drop_existing))
    except (NotEmpty, rewind.GroupActive) as exc:
        print(f"rebuild refused: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(report)))
    return 0
