"""notify in process: its own runtime (`create_runtime`, its table of subscriptions) on the test broker,
a real PostgreSQL and a real SMTP server (the capture); and the award rule's SQL checked against the rule.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import itertools
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from palmares_contracts import (
    NOTIFICATIONS,
    SUBMISSIONS,
    GrillePublished,
    JuryDecided,
    Mention,
    NotificationFailed,
    NotificationKind,
    NotificationSent,
    PalmaresPublished,
    decode,
)
from palmares_eventkit.db import create_pool, eventkit_migrations, load_migrations, migrate
from palmares_label.french import NBSP
from palmares_notify import app, sender, store
from palmares_notify.awards import award_due
from palmares_notify.settings import NotifySettings
from palmares_stack.smtp import SmtpCapture, list_messages, read_message

from tests.factories import grille, results, submission
from tests.runtime.harness import InMemory, Raw, eventually


def notify_settings(database: str, smtp: SmtpCapture, **extra: Any) -> NotifySettings:
    return NotifySettings(
        **extra,
        DATABASE_URL=database,
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9",
        PALMARES_RETRY_BASE_DELAY_S=0.01,
        PALMARES_RETRY_MAX_DELAY_S=0.05,
        PALMARES_DB_POOL_MAX=6,
        PALMARES_TOPIC_PARTITIONS=1,
        PALMARES_SEND_WORKERS=2,
        SMTP_HOST=smtp.host,
        SMTP_PORT=smtp.port,
    )


@contextlib.asynccontextmanager
async def _notify_running(database: str, tmp_path: Path) -> AsyncIterator[tuple[InMemory, Any, SmtpCapture]]:
    """notify's runtime on the in-memory broker, a real PostgreSQL and an SMTP capture; stopped on leaving."""
    with SmtpCapture(tmp_path / "mail") as smtp:
        harness = InMemory(database)
        try:
            runtime = await harness.run(
                lambda _, cluster: app.create_runtime(notify_settings(database, smtp), cluster=cluster)
            )
            yield harness, runtime, smtp
        finally:
            await harness.stop()


async def mails(smtp: SmtpCapture, count: int) -> list[str]:
    """The subjects of the first `count` emails the SMTP server stored, once it has them."""

    async def stored() -> bool:
        return len(list_messages(smtp.mail_dir)) >= count

    await eventually(stored, 30.0, f"{count} emails")
    return [str(read_message(path)["Subject"]) for path in list_messages(smtp.mail_dir)]


def text(path: Path) -> str:
    body = read_message(path).get_body(("plain",))
    assert body is not None
    return str(body.get_content())


async def test_receipt_award_and_rectificatif_from_the_topics_to_the_smtp_server(database: str, tmp_path: Path) -> None:
    async with _notify_running(database, tmp_path) as (harness, _runtime, smtp):
        dossier = submission()
        sid = dossier.submission_id
        common = {"submission_id": sid, "revision": 1, "edition": 2017, "collectivite_code": "49007"}
        confirmed = Mention(code="gouvernement_ouvert", label="Gouvernement ouvert")
        removed = Mention(code="teletravail", label="Télétravail")
        added = Mention(code="democratie_locale", label="Démocratie locale")

        await harness.feed_events(GrillePublished(edition=2017, version=1, grille=grille()))
        await harness.feed_events(dossier)
        assert await mails(smtp, 1) == ["Dossier reçu — label Territoires, Villes et Villages Internet 2017"]

        decision = JuryDecided(**common, arobases=3, decided_by="Jury", mentions=(confirmed, added))
        await harness.feed_events(
            *results(dossier, mentions=(confirmed, removed)),
            decision,
            PalmaresPublished(edition=2017, published_at=datetime.now(UTC), jury_decisions=1),
        )
        assert (await mails(smtp, 2))[1] == f"Palmarès 2017{NBSP}: Angers obtient trois arobases"
        award = text(list_messages(smtp.mail_dir)[1])
        assert "Gouvernement ouvert" in award and "Démocratie locale" in award and "Télétravail" not in award

        # A redelivered decision changes nothing; a new one after the award sends one rectificatif.
        await harness.feed_events(decision, JuryDecided(**common, arobases=4, decided_by="Jury"))
        subjects = await mails(smtp, 3)
        assert subjects[2] == f"Rectificatif — palmarès 2017{NBSP}: Angers obtient quatre arobases"

        # Each email sent is told on notifications.v1, in order, keyed by the collectivité.
        sent = await harness.sent_until(NOTIFICATIONS.name, lambda found: len(found) >= 3)
        events = [decode(NOTIFICATIONS, r.value, {k: v.decode() for k, v in r.headers}) for r in sent]
        assert [(type(e), e.kind.value) for e in events] == [
            (NotificationSent, "receipt"),
            (NotificationSent, "award"),
            (NotificationSent, "rectificatif"),
        ]
        assert {r.key for r in sent} == {b"49007"}
        assert len(list_messages(smtp.mail_dir)) == 3, "the redelivered decision sent nothing"


async def test_the_receipts_of_a_batch_are_queued_together_and_each_sent_once(database: str, tmp_path: Path) -> None:
    """A batch of dossiers (two revisions of one, and another) queues its receipts in one statement at its commit."""
    async with _notify_running(database, tmp_path) as (harness, runtime, smtp):
        first = submission()
        second = submission(submission_id=first.submission_id, revision=2)
        other = submission()
        await harness.feed(SUBMISSIONS, [Raw.of(first), Raw.of(second), Raw.of(other), Raw.of(other)])
        subjects = await mails(smtp, 3)
        assert len(subjects) == 3 and all(s.startswith("Dossier reçu") for s in subjects)
        async with runtime.pool.acquire() as conn:
            rows = await conn.fetch("SELECT submission_id, revision FROM notify.notifications ORDER BY created_at")
        assert sorted((r["submission_id"], r["revision"]) for r in rows) == sorted(
            [(first.submission_id, 1), (first.submission_id, 2), (other.submission_id, 1)]
        )


async def test_results_before_the_palmares_are_written_with_their_batch_and_hold_off_its_publication(
    database: str, tmp_path: Path
) -> None:
    """A batch of results for dossiers whose palmarès is not out: one write at the commit, the newest kept; until
    then the edition's row is held in share mode, so the publication (whose award pass must see these results)
    waits for the commit."""
    from palmares_notify.handlers import Notifier
    from palmares_notify.render import Sender

    async with _notify_running(database, tmp_path) as (harness, runtime, _smtp):
        dossiers = [submission(), submission()]
        await harness.feed_events(GrillePublished(edition=2017, version=1, grille=grille()), *dossiers)
        notifier = Notifier(Sender())
        older, _ = results(dossiers[0], arobases=1)
        newer, _ = results(dossiers[0], arobases=3)
        other, _ = results(dossiers[1])
        batch = [older, newer, other]
        async with runtime.transaction(deferred=True) as tx:
            await notifier.prepare_results(tx, batch)
            for event in batch:
                await notifier.on_scored(tx, event)
            assert await tx.conn.fetchval("SELECT count(*) FROM notify.results") == 0, "written at the commit"
            async with runtime.pool.acquire() as conn:
                await conn.execute("SET lock_timeout = '200ms'")
                with pytest.raises(asyncpg.exceptions.LockNotAvailableError):
                    await conn.execute("UPDATE notify.editions SET published_at = now() WHERE edition = 2017")
        async with runtime.pool.acquire() as conn:
            kept = await conn.fetch("SELECT submission_id, payload FROM notify.results WHERE kind = 'score'")
            await conn.execute("UPDATE notify.editions SET published_at = now() WHERE edition = 2017")
        by_id = {r["submission_id"]: json.loads(r["payload"]) for r in kept}
        assert by_id[dossiers[0].submission_id]["arobases"] == 3 and len(by_id) == 2


async def test_results_for_a_dossier_not_known_yet_are_written_with_their_batch(database: str, tmp_path: Path) -> None:
    """notify often reads a result before its dossier (another consumer): no award can be due yet, so the result
    waits for the batch's one write at the commit instead of a statement of its own."""
    from palmares_notify.handlers import Notifier
    from palmares_notify.render import Sender

    async with _notify_running(database, tmp_path) as (harness, runtime, _smtp):
        await harness.feed_events(GrillePublished(edition=2017, version=1, grille=grille()))
        notifier, dossier = Notifier(Sender()), submission()
        scored, _ = results(dossier)
        async with runtime.transaction(deferred=True) as tx:
            await notifier.prepare_results(tx, [scored])
            await notifier.on_scored(tx, scored)
            # Read in the transaction itself: another connection would not see an uncommitted write either way.
            assert await tx.conn.fetchval("SELECT count(*) FROM notify.results") == 0, "written at the commit"
        async with runtime.pool.acquire() as conn:
            kept = await conn.fetchval("SELECT submission_id FROM notify.results WHERE kind = 'score'")
        assert kept == dossier.submission_id


async def test_a_single_result_also_holds_off_the_publication_until_its_commit(database: str, tmp_path: Path) -> None:
    """A result applied alone (no batch read) holds the edition's row in share mode too."""
    from palmares_notify.handlers import Notifier
    from palmares_notify.render import Sender

    async with _notify_running(database, tmp_path) as (harness, runtime, _smtp):
        dossier = submission()
        await harness.feed_events(GrillePublished(edition=2017, version=1, grille=grille()), dossier)
        scored, _ = results(dossier)
        async with runtime.transaction(deferred=True) as tx:
            await Notifier(Sender()).on_scored(tx, scored)
            async with runtime.pool.acquire() as conn:
                await conn.execute("SET lock_timeout = '200ms'")
                with pytest.raises(asyncpg.exceptions.LockNotAvailableError):
                    await conn.execute("UPDATE notify.editions SET published_at = now() WHERE edition = 2017")
        async with runtime.pool.acquire() as conn:
            await conn.execute("UPDATE notify.editions SET published_at = now() WHERE edition = 2017")
            assert await conn.fetchval("SELECT count(*) FROM notify.results") == 1


async def test_the_score_and_the_mentions_applied_at_once_after_the_palmares_queue_the_award(
    database: str, tmp_path: Path
) -> None:
    """After the palmarès, notify's score and mentions consumers apply a dossier's two results at the same time:
    each transaction writes its result, then looks whether the award is due. The second to look must see the
    first's result, committed. (Each once read the other's as missing, and the award waited for an award pass
    that nothing asked for: a flaky integration test, 8 December 2026.)"""
    from palmares_notify.handlers import Notifier
    from palmares_notify.render import Sender

    async with _notify_running(database, tmp_path) as (harness, runtime, _smtp):
        dossier = submission()
        await harness.feed_events(GrillePublished(edition=2017, version=1, grille=grille()), dossier)
        await harness.feed_events(PalmaresPublished(edition=2017, published_at=datetime.now(UTC), jury_decisions=0))
        notifier = Notifier(Sender())
        scored, detected = results(dossier)

        async def apply_mentions() -> None:
            async with runtime.transaction(deferred=True) as tx:
                await notifier.on_mentions(tx, detected)

        async with runtime.transaction(deferred=True) as first:
            await notifier.on_scored(first, scored)
            second = asyncio.create_task(apply_mentions())
            await asyncio.sleep(0.5)  # time enough for the second to write, look and commit, were it not held
        await second
        async with runtime.pool.acquire() as conn:
            awards = await conn.fetchval(
                "SELECT count(*) FROM notify.notifications WHERE kind = 'award' AND submission_id = $1",
                dossier.submission_id,
            )
        assert awards == 1


# --- the award rule: the SQL that finds an edition's due awards agrees with `awards.award_due` --------------


@pytest.fixture
async def notify_pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database, "notify", min_size=1, max_size=2)
    await migrate(
        pool,
        "notify",
        eventkit_migrations() + load_migrations("notify", resources.files("palmares_notify") / "migrations"),
    )
    try:
        yield pool
    finally:
        await pool.close()


# Every combination of what the rule looks at, with values on each side of its boundaries.
PUBLISHED = (False, True)
JURY_EVENTS = ((0, 0), (0, 1), (1, 1), (2, 1))  # (seen, expected)
GRILLE = (None, 1, 2)  # the edition's latest grille version notify read
REVISION = (1, 2)
RESULT = (None, (1, 0), (1, 1), (1, 2), (2, 1), (2, 2))  # (revision, grille version) kept, or none
QUEUED = (False, True)


async def test_the_sql_finds_exactly_the_dossiers_whose_award_is_due(notify_pool: asyncpg.Pool) -> None:
    editions = list(itertools.product(PUBLISHED, JURY_EVENTS, GRILLE))
    dossiers = []
    async with notify_pool.acquire() as conn, conn.transaction():
        for number, (published, (seen, expected), grille_version) in enumerate(editions, start=3000):
            await conn.execute(
                "INSERT INTO editions (edition, grille_version, published_at, jury_events_seen, jury_events_expected) "
                "VALUES ($1, $2, $3, $4, $5)",
                number,
                grille_version,
                datetime(2017, 2, 1, tzinfo=UTC) if published else None,
                seen,
                expected,
            )
            for revision, score, mentions, queued in itertools.product(REVISION, RESULT, RESULT, QUEUED):
                sid = uuid.uuid4()
                dossiers.append((number, sid))
                await _dossier(conn, number, sid, revision, score, mentions, queued)

        due = {sid for _, sid in dossiers if award_due((await store.dossier(conn, sid)).state)}  # type: ignore[union-attr]
        found: set[uuid.UUID] = set()
        for number in range(3000, 3000 + len(editions)):
            found |= set(await store.award_candidates(conn, number, uuid.UUID(int=0), len(dossiers)))
    assert 0 < len(due) < len(dossiers)  # the combinations reach both sides of the rule
    assert found == due


async def _dossier(
    conn: asyncpg.Connection,
    edition: int,
    sid: uuid.UUID,
    revision: int,
    score: tuple[int, int] | None,
    mentions: tuple[int, int] | None,
    queued: bool,
) -> None:
    collectivite = {"code": "49007", "contact_email": "numerique@mairie-angers.example"}
    await conn.execute(
        "INSERT INTO dossiers (submission_id, edition, collectivite_code, revision, collectivite) "
        "VALUES ($1, $2, '49007', $3, $4::jsonb)",
        sid,
        edition,
        revision,
        json.dumps(collectivite),
    )
    for kind, version in (("score", score), ("mentions", mentions)):
        if version is not None:
            await conn.execute(
                "INSERT INTO results (submission_id, kind, revision, grille_version, payload) "
                "VALUES ($1, $2, $3, $4, '{}'::jsonb)",
                sid,
                kind,
                *version,
            )
    if queued:
        await conn.execute(
            "INSERT INTO notifications (notification_id, kind, submission_id, revision, edition, collectivite_code, "
            "to_addr, message_id, message) VALUES ($1, 'award', $2, $3, $4, '49007', 'x@example.org', '<x>', '')",
            uuid.uuid4(),
            sid,
            revision,
            edition,
        )


async def test_a_receipt_is_due_for_a_newer_revision_unless_already_known(notify_pool: asyncpg.Pool) -> None:
    sid, collectivite = uuid.uuid4(), json.dumps({"code": "49007", "contact_email": "numerique@mairie-angers.example"})

    def row(revision: int, receipt: uuid.UUID | None = None, submission_id: uuid.UUID = sid) -> store.NewDossier:
        return store.NewDossier(submission_id, 3999, "49007", revision, collectivite, {}, receipt or uuid.uuid4())

    async with notify_pool.acquire() as conn:
        assert await store.upsert_dossiers(conn, [row(1)]) == [True]
        assert await store.upsert_dossiers(conn, [row(1)]) == [False]  # not newer
        # Revision 2's receipt restored as sent by a rebuild from the log: the dossier is kept, nothing is rendered.
        known = uuid.uuid4()
        await conn.execute(
            "INSERT INTO notifications (notification_id, kind, submission_id, revision, edition, collectivite_code, "
            "to_addr, message_id, message, status) "
            "VALUES ($1, 'receipt', $2, 2, 3999, '49007', 'numerique@mairie-angers.example', '<m@x>', '', 'sent')",
            known,
            sid,
        )
        assert await store.upsert_dossiers(conn, [row(2, known)]) == [False]
        assert await conn.fetchval("SELECT revision FROM dossiers WHERE submission_id = $1", sid) == 2
        # A batch is judged as one row at a time would be: newer than the kept one and than the batch's earlier rows.
        other = uuid.uuid4()
        batch = [row(3), row(5), row(4), row(5), row(2), row(1, submission_id=other), row(1, submission_id=other)]
        assert await store.upsert_dossiers(conn, batch) == [True, True, False, False, False, True, False]
        kept = await conn.fetch(
            "SELECT submission_id, revision FROM dossiers WHERE submission_id = ANY($1)", [sid, other]
        )
        assert {r["submission_id"]: r["revision"] for r in kept} == {sid: 5, other: 1}


# --- the senders -----------------------------------------------------------------------------------


# The batch tests count emails per pass: a loaded machine must not end a batch on its time window.
_NO_WINDOW = {"PALMARES_SEND_BATCH_WINDOW_MS": 10_000}


class _Runtime:
    """What `sender.deliver_due` uses of notify's runtime: the pool, the schema and the relay's wake-up."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.schema, self.woken = pool, "notify", 0

    def wake_relay(self) -> None:
        self.woken += 1


def _receipt(number: int, to: str | None = None) -> store.Email:
    nid = uuid.uuid4()
    message_id = f"<{nid}@villes-internet.example>"
    return store.Email(
        notification_id=nid,
        kind=NotificationKind.RECEIPT,
        submission_id=uuid.uuid4(),
        revision=1,
        edition=2099,
        collectivite_code="49007",
        to=to or f"numerique{number}@mairie-angers.example",
        message_id=message_id,
        message=f"Message-ID: {message_id}\r\nSubject: Dossier {number}\r\n\r\nBonjour.\r\n".encode(),
        trace={},
    )


async def _queued(pool: asyncpg.Pool, count: int) -> list[store.Email]:
    emails = [_receipt(n) for n in range(count)]
    async with pool.acquire() as conn, conn.transaction():
        await store.queue(conn, emails)
    return emails


async def _states(pool: asyncpg.Pool, emails: list[store.Email]) -> list[tuple[str, int, str | None]]:
    """(status, attempts, last error) of each email, in the order given."""
    rows = await pool.fetch(
        "SELECT notification_id, status, attempts, last_error FROM notifications WHERE notification_id = ANY($1)",
        [e.notification_id for e in emails],
    )
    by_id = {r["notification_id"]: (r["status"], r["attempts"], r["last_error"]) for r in rows}
    return [by_id[e.notification_id] for e in emails]


async def _events(pool: asyncpg.Pool) -> list[Any]:
    rows = await pool.fetch("SELECT value, headers FROM outbox WHERE topic = $1 ORDER BY id", NOTIFICATIONS.name)
    return [decode(NOTIFICATIONS, r["value"], json.loads(r["headers"])) for r in rows]


async def test_a_message_is_stored_out_of_line_uncompressed_and_read_back_whole(notify_pool: asyncpg.Pool) -> None:
    email = _receipt(0)
    # As an award: 5 kB of quoted-printable French (pglz shrinks it well), 7 kB of base64 PNG.
    text = b"Le palmar=C3=A8s 2017 du label Territoires, Villes et Villages Internet a =\r\n" * 70
    award_size = email.message + text + base64.encodebytes(os.urandom(5000)).replace(b"\n", b"\r\n")
    email = dataclasses.replace(email, message=award_size)
    async with notify_pool.acquire() as conn, conn.transaction():
        await store.queue(conn, [email])
    row = await notify_pool.fetchrow(
        "SELECT message, pg_column_compression(message) AS compression FROM notifications WHERE notification_id = $1",
        email.notification_id,
    )
    assert row["message"] == award_size
    assert row["compression"] is None, "written once and read once: not worth pglz's CPU (migration 0011)"


async def test_a_sender_delivers_a_batch_in_one_transaction_recorded_after_the_last_reply(
    database: str, notify_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    with SmtpCapture(tmp_path / "mail") as smtp:
        settings = notify_settings(database, smtp, PALMARES_SEND_BATCH=3, **_NO_WINDOW)
        runtime, smtp_sender = _Runtime(notify_pool), sender.SmtpSender(settings)
        try:
            emails = await _queued(notify_pool, 5)
            assert await sender.deliver_due(runtime, [smtp_sender], settings) == 3  # type: ignore[arg-type]
            assert [s[:2] for s in await _states(notify_pool, emails)] == [("sent", 1)] * 3 + [("pending", 0)] * 2
            # One transaction for the three: PostgreSQL's now() is its start, the same for each.
            assert await notify_pool.fetchval("SELECT count(DISTINCT sent_at) FROM notifications") == 1
            assert len(list_messages(smtp.mail_dir)) == 3 and runtime.woken == 1
            assert await sender.deliver_due(runtime, [smtp_sender], settings) == 2  # type: ignore[arg-type]
            assert await sender.deliver_due(runtime, [smtp_sender], settings) == 0  # type: ignore[arg-type]
        finally:
            await smtp_sender.close()
        stored = sorted(read_message(path)["Message-ID"] for path in list_messages(smtp.mail_dir))
        assert stored == sorted(e.message_id for e in emails), "each email once"
        attempts = await notify_pool.fetch("SELECT attempt, outcome FROM delivery_attempts")
        assert sorted((a["attempt"], a["outcome"]) for a in attempts) == [(1, "sent")] * 5
        events = await _events(notify_pool)
        assert [type(e) for e in events] == [NotificationSent] * 5
        assert [e.notification_id for e in events] == [e.notification_id for e in emails], "in the order sent"


async def test_a_batch_goes_out_over_every_connection_and_a_recipient_gets_its_emails_in_order(
    database: str, notify_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """Ten emails, four of them to one mairie, over three connections: one pass, one transaction, every
    connection used, and the mairie's four arrive in the order they were queued."""
    with SmtpCapture(tmp_path / "mail") as smtp:
        settings = notify_settings(database, smtp, PALMARES_SEND_BATCH=10, **_NO_WINDOW)
        runtime = _Runtime(notify_pool)
        connections = [sender.SmtpSender(settings) for _ in range(3)]
        same = "numerique@mairie-angers.example"
        emails = [_receipt(n, same if n % 3 == 0 else None) for n in range(10)]
        async with notify_pool.acquire() as conn, conn.transaction():
            await store.queue(conn, emails)
        try:
            assert await sender.deliver_due(runtime, connections, settings) == 10  # type: ignore[arg-type]
            opened = [smtp_sender._smtp is not None for smtp_sender in connections]
        finally:
            for smtp_sender in connections:
                await smtp_sender.close()
        assert opened == [True] * 3, "each connection carried a recipient's emails"
        assert [s[:2] for s in await _states(notify_pool, emails)] == [("sent", 1)] * 10
        assert await notify_pool.fetchval("SELECT count(DISTINCT sent_at) FROM notifications") == 1
        arrived = [str(read_message(path)["Message-ID"]) for path in list_messages(smtp.mail_dir)]  # by arrival
        assert sorted(arrived) == sorted(e.message_id for e in emails), "each email once"
        to_same = [e.message_id for e in emails if e.to == same]
        assert [m for m in arrived if m in to_same] == to_same
        events = await _events(notify_pool)
        assert [e.notification_id for e in events] == [e.notification_id for e in emails], "in the order taken"


async def test_a_temporary_failure_stops_the_batch_and_leaves_the_rest_untouched(
    database: str, notify_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    with SmtpCapture(tmp_path / "mail") as smtp:
        settings = notify_settings(database, smtp, PALMARES_SEND_BATCH=10, PALMARES_SEND_BASE_DELAY_S=60, **_NO_WINDOW)
        runtime, smtp_sender = _Runtime(notify_pool), sender.SmtpSender(settings)
        try:
            emails = await _queued(notify_pool, 3)
            smtp.refuse(451)
            assert await sender.deliver_due(runtime, [smtp_sender], settings) == 3  # type: ignore[arg-type]
            first, *rest = await _states(notify_pool, emails)
            assert first[:2] == ("pending", 1) and first[2] is not None and "451" in first[2]
            assert rest == [("pending", 0, None)] * 2, "not tried: no attempt counted"
            smtp.clear_faults()
            # The first waits for its backoff (60 s); the two others were due all along.
            assert await sender.deliver_due(runtime, [smtp_sender], settings) == 2  # type: ignore[arg-type]
        finally:
            await smtp_sender.close()
        assert [s[:2] for s in await _states(notify_pool, emails)] == [("pending", 1), ("sent", 1), ("sent", 1)]
        assert len(list_messages(smtp.mail_dir)) == 2
        assert [type(e) for e in await _events(notify_pool)] == [NotificationSent] * 2


async def test_a_permanent_refusal_fails_its_email_and_the_batch_goes_on(
    database: str, notify_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    with SmtpCapture(tmp_path / "mail") as smtp:
        settings = notify_settings(database, smtp, PALMARES_SEND_BATCH=10, **_NO_WINDOW)
        runtime, smtp_sender = _Runtime(notify_pool), sender.SmtpSender(settings)
        try:
            emails = await _queued(notify_pool, 3)
            smtp.refuse(550)
            assert await sender.deliver_due(runtime, [smtp_sender], settings) == 3  # type: ignore[arg-type]
        finally:
            await smtp_sender.close()
        assert [s[:2] for s in await _states(notify_pool, emails)] == [("failed", 1)] * 3
        events = await _events(notify_pool)
        assert [type(e) for e in events] == [NotificationFailed] * 3 and all("550" in e.reason for e in events)


async def test_a_batch_takes_no_further_email_once_its_window_has_passed(
    database: str, notify_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """A slow server must not hold a batch's accepted emails uncommitted for long: with a window of 0 ms,
    each pass sends one email and leaves the others due, untouched."""
    with SmtpCapture(tmp_path / "mail") as smtp:
        settings = notify_settings(database, smtp, PALMARES_SEND_BATCH=10, PALMARES_SEND_BATCH_WINDOW_MS=0)
        runtime, smtp_sender = _Runtime(notify_pool), sender.SmtpSender(settings)
        try:
            emails = await _queued(notify_pool, 3)
            assert await sender.deliver_due(runtime, [smtp_sender], settings) == 3  # type: ignore[arg-type]
            assert await _states(notify_pool, emails) == [("sent", 1, None)] + [("pending", 0, None)] * 2
            assert await sender.deliver_due(runtime, [smtp_sender], settings) == 2  # type: ignore[arg-type]
            assert await sender.deliver_due(runtime, [smtp_sender], settings) == 1  # type: ignore[arg-type]
        finally:
            await smtp_sender.close()
        assert [s[:2] for s in await _states(notify_pool, emails)] == [("sent", 1)] * 3
        assert len(list_messages(smtp.mail_dir)) == 3
