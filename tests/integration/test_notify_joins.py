"""notify's joins on a real PostgreSQL, events applied in the orders Kafka may deliver them.

jury.v1 and palmares.v1 are different topics, read independently: a jury
decision published before the palmarès may reach notify after it. The award
must still carry the jury's arobases (and no rectificatif follow).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from importlib import resources

import asyncpg
import pytest
from palmares_contracts import (
    Event,
    GrillePublished,
    JuryDecided,
    Mention,
    PalmaresPublished,
    SubmissionReceived,
    topic_of,
)
from palmares_eventkit.db import DB_STATEMENTS, create_pool, eventkit_migrations, load_migrations, migrate
from palmares_eventkit.runtime import Tx
from palmares_notify.handlers import Notifier
from palmares_notify.render import Sender
from palmares_stack.pytest_plugin import Infra

from tests.factories import grille, results, submission

pytestmark = [pytest.mark.integration]


@pytest.fixture
async def schema_pool(infra: Infra) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    schema = f"notify_joins_{uuid.uuid4().hex[:8]}"
    pool = await create_pool(infra.database_url, schema, min_size=1, max_size=2)
    await migrate(
        pool,
        schema,
        eventkit_migrations() + load_migrations("notify", resources.files("palmares_notify") / "migrations"),
    )
    try:
        yield schema, pool
    finally:
        await pool.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()


async def handle(pool: asyncpg.Pool, schema: str, notifier: Notifier, event: Event) -> None:
    """Apply an event as the runtime does: with the handler notify's table subscribes to its topic."""
    handler = next(s.handler for s in notifier.subscriptions() if s.topic is topic_of(event))
    async with pool.acquire() as conn, conn.transaction():
        await handler(Tx(conn, schema), event)


async def apply(pool: asyncpg.Pool, schema: str, notifier: Notifier, event: Event) -> None:
    await handle(pool, schema, notifier, event)
    await notifier.award_pending(pool)  # what the award loop does after each commit


@pytest.mark.parametrize("jury_first", [True, False], ids=["jury-before-palmares", "palmares-before-jury"])
async def test_the_award_waits_for_the_jury_decisions_published_before_the_palmares(
    schema_pool: tuple[str, asyncpg.Pool], jury_first: bool
) -> None:
    schema, pool = schema_pool
    notifier = Notifier(Sender())
    dossier = submission()
    jury = JuryDecided(**_decision(dossier.submission_id), arobases=5)
    palmares = PalmaresPublished(edition=2017, published_at=datetime(2017, 2, 1, tzinfo=UTC), jury_decisions=1)
    for event in (GrillePublished(edition=2017, version=1, grille=grille()), dossier, *results(dossier)):
        await apply(pool, schema, notifier, event)

    order = [jury, palmares] if jury_first else [palmares, jury]
    await apply(pool, schema, notifier, order[0])
    awards = f"SELECT message FROM {schema}.notifications WHERE kind = 'award'"
    if not jury_first:
        assert await pool.fetch(awards) == [], "no award before the jury decision it must carry"
    await apply(pool, schema, notifier, order[1])

    (row,) = await pool.fetch(awards)
    message = email.message_from_bytes(row["message"], policy=email.policy.default)
    assert message["Subject"] == "Palmarès 2017\u00a0: Angers obtient cinq arobases"
    assert await pool.fetchval(f"SELECT count(*) FROM {schema}.notifications WHERE kind = 'rectificatif'") == 0


async def _seven_dossiers_published(pool: asyncpg.Pool, schema: str, notifier: Notifier) -> list[SubmissionReceived]:
    """Seven dossiers of 2017, each with its results, then the edition's palmarès published."""
    await apply(pool, schema, notifier, GrillePublished(edition=2017, version=1, grille=grille()))
    dossiers = [submission() for _ in range(7)]
    for dossier in dossiers:
        for event in (dossier, *results(dossier)):
            await handle(pool, schema, notifier, event)
    await handle(pool, schema, notifier, PalmaresPublished(edition=2017, published_at=datetime.now(UTC)))
    return dossiers


async def test_the_awards_of_an_edition_are_queued_in_committed_chunks_each_once(
    schema_pool: tuple[str, asyncpg.Pool],
) -> None:
    schema, pool = schema_pool
    notifier = Notifier(Sender())
    await _seven_dossiers_published(pool, schema, notifier)
    awards = f"SELECT count(*) FROM {schema}.notifications WHERE kind = 'award'"
    assert await pool.fetchval(awards) == 0, "the handler only asks for a pass; the loop queues the awards"

    assert await notifier.award_pending(pool, chunk=3) == 7  # chunks of 3, 3 and 1
    assert await pool.fetchval(awards) == 7
    assert await notifier.award_pending(pool, chunk=3) == 0, "nothing pending: no pass, no duplicate"
    async with pool.acquire() as conn, conn.transaction():  # the same edition asked again (a new grille, say)
        await notifier._request_awards(Tx(conn, schema), 2017)
    assert await notifier.award_pending(pool, chunk=3) == 0
    assert await pool.fetchval(awards) == 7


async def test_the_award_loop_is_woken_once_the_request_commits_never_before(
    schema_pool: tuple[str, asyncpg.Pool],
) -> None:
    """Woken before the commit, the loop would read no request, and wait for its next poll."""
    schema, pool = schema_pool
    notifier = Notifier(Sender())
    async with pool.acquire() as conn:
        async with conn.transaction():
            tx = Tx(conn, schema)
            await notifier._request_awards(tx, 2017)
            assert not notifier.award_pass_asked
        tx.committed()  # what the runtime's transaction does once it has committed
    assert notifier.award_pass_asked


async def test_the_award_and_the_rectificatif_carry_the_mentions_the_jury_granted(
    schema_pool: tuple[str, asyncpg.Pool],
) -> None:
    """JuryDecided v2: the detected mentions the jury confirmed and those it added, not those it removed."""
    schema, pool = schema_pool
    notifier = Notifier(Sender())
    dossier = submission()
    sid = dossier.submission_id
    confirmed = Mention(code="gouvernement_ouvert", label="Gouvernement ouvert")
    removed = Mention(code="teletravail", label="Télétravail")
    added = Mention(code="democratie_locale", label="Démocratie locale")
    for event in (
        GrillePublished(edition=2017, version=1, grille=grille()),
        dossier,
        *results(dossier, mentions=(confirmed, removed)),
        JuryDecided(**_decision(sid), arobases=3, mentions=(confirmed, added)),
        PalmaresPublished(edition=2017, published_at=datetime(2017, 2, 1, tzinfo=UTC), jury_decisions=1),
    ):
        await apply(pool, schema, notifier, event)
    award = await _text(pool, f"SELECT message FROM {schema}.notifications WHERE kind = 'award'")
    assert "Gouvernement ouvert" in award and "Démocratie locale" in award
    assert "Télétravail" not in award

    # After the award, a decision on the arobases alone: the rectificatif shows the detected mentions again.
    await apply(pool, schema, notifier, JuryDecided(**_decision(sid), arobases=4))
    rectificatif = await _text(pool, f"SELECT message FROM {schema}.notifications WHERE kind = 'rectificatif'")
    assert "Gouvernement ouvert" in rectificatif and "Télétravail" in rectificatif
    assert "Démocratie locale" not in rectificatif


def _decision(sid: uuid.UUID) -> dict[str, object]:
    return {"submission_id": sid, "edition": 2017, "collectivite_code": "49007", "decided_by": "Jury"}


async def _text(pool: asyncpg.Pool, query: str) -> str:
    (row,) = await pool.fetch(query)
    message = email.message_from_bytes(row["message"], policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


async def _statements() -> float:
    """Statements counted so far (asyncpg calls the query loggers with `call_soon`: let them run first)."""
    for _ in range(3):
        await asyncio.sleep(0)
    return float(DB_STATEMENTS._value.get())  # type: ignore[attr-defined]


async def test_a_chunk_of_awards_is_read_and_queued_in_a_few_statements_with_its_edition_read_once(
    schema_pool: tuple[str, asyncpg.Pool],
) -> None:
    schema, pool = schema_pool
    notifier = Notifier(Sender())
    dossiers = await _seven_dossiers_published(pool, schema, notifier)

    before = await _statements()
    assert await notifier.award_pending(pool) == 7
    statements = await _statements() - before
    # The pass's editions; BEGIN, candidates, dossiers, edition, queue, COMMIT; the pass recorded: not 2 per award.
    assert statements <= 8, statements
    queued = await pool.fetch(f"SELECT submission_id, to_addr FROM {schema}.notifications WHERE kind = 'award'")
    assert sorted((r["submission_id"], r["to_addr"]) for r in queued) == sorted(
        (d.submission_id, d.collectivite.contact_email) for d in dossiers
    )
