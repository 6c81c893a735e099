"""Delivery guarantees on real Kafka: dead letters, redeliveries, and a service killed mid-flow."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import httpx
import pytest
from palmares_cli.kafka_io import read_topics
from palmares_contracts import SUBMISSIONS, encode
from palmares_notify.settings import NotifySettings

from tests.factories import collectivite, grille_body, submission
from tests.integration.harness import Api, Codes, Stack, dossier, eventually, produce, read_mails

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def test_poison_records_are_dead_lettered_and_consumers_go_on(
    stack: Stack, api: Api, codes: Codes, edition: int
) -> None:
    bootstrap = stack.env["KAFKA_BOOTSTRAP_SERVERS"]
    marker = uuid.uuid4().hex.encode()
    await produce(
        bootstrap,
        SUBMISSIONS.name,
        [
            (b"poison-" + marker, b"\xff\xfe not json " + marker, []),
            (b"poison-" + marker, json.dumps({"event_type": "SubmissionReceived", "m": marker.decode()}).encode(), []),
            (b"poison-" + marker, json.dumps({"event_type": "Nope", "m": marker.decode()}).encode(), []),
        ],
        enable_idempotence=True,
    )

    async def dead_letters() -> list[dict[str, object]] | None:
        (content,) = await read_topics(bootstrap, [SUBMISSIONS.dlq])
        found = [d for d in content.letters if marker in (d.value or b"")]
        return found if len(found) == 9 else None  # 3 records × 3 consumer groups

    found = await eventually(dead_letters, 60, "9 dead letters")
    by_consumer: dict[str, set[str]] = {}
    for letter in found:
        headers = {k: v.decode() for k, v in letter.headers}
        assert headers["x-source-topic"] == "submissions.v1"
        assert headers["x-source-partition"].isdigit() and headers["x-source-offset"].isdigit()
        assert headers["x-error"]
        assert letter.key == b"poison-" + marker
        by_consumer.setdefault(headers["x-consumer"], set()).add(headers["x-error-type"])
    assert by_consumer == {
        c: {"undecodable", "invalid-event", "unknown-event-type"}
        for c in ("scoring.submissions.v1", "mentions.submissions.v1", "notify.submissions.v1")
    }

    # The consumers kept going: a real dossier after the poison flows through.
    await api.publish_grille(grille_body(edition))
    code = codes.take("ville")
    contact = f"after-poison-{edition}@collectivites.example"
    r = await api.submit(await api.register(code, contact), edition, dossier(contact))
    await api.wait_status(r.json()["submission_id"], "notified")


async def test_a_redelivered_event_is_a_no_op(stack: Stack, api: Api, codes: Codes, edition: int) -> None:
    await api.publish_grille(grille_body(edition))
    code = codes.take("ville")
    contact = f"redelivered-{edition}@collectivites.example"
    event = submission(edition=edition, collectivite=collectivite(code=code, contact_email=contact))
    value, headers = encode(event)
    record = (SUBMISSIONS.key_of(event), value, [(k, v.encode()) for k, v in headers.items()])
    await produce(
        stack.env["KAFKA_BOOTSTRAP_SERVERS"], SUBMISSIONS.name, [record, record, record], enable_idempotence=True
    )

    async def receipt() -> list[object] | None:
        return read_mails(stack.mail_dir, [contact]) or None  # type: ignore[return-value]

    await eventually(receipt, 30, "the receipt")
    conn = await asyncpg.connect(stack.env["DATABASE_URL"])
    try:

        async def absorbed() -> dict[str, int] | None:
            counts = {
                schema: await conn.fetchval(
                    f"SELECT redeliveries FROM {schema}.inbox WHERE consumer = $1 AND event_id = $2",
                    f"{schema}.submissions.v1",
                    event.event_id,
                )
                for schema in ("scoring", "mentions", "notify")
            }
            return counts if all(v == 2 for v in counts.values()) else None

        assert await eventually(absorbed, 30, "two redeliveries absorbed by each inbox")

        async def evaluations() -> int:
            # The dossier may have arrived before scoring read the grille: it is evaluated when the grille comes.
            n: int = await conn.fetchval(
                "SELECT count(*) FROM scoring.evaluations WHERE submission_id = $1", event.submission_id
            )
            return n

        await eventually(evaluations, 30, "the dossier scored")
        await asyncio.sleep(1)
        assert await evaluations() == 1
    finally:
        await conn.close()
    await asyncio.sleep(1)
    assert len(read_mails(stack.mail_dir, [contact])) == 1, "one receipt, not three"


async def _flow_with_kills(
    stack: Stack, api: Api, codes: Codes, edition: int, victims: tuple[str, ...], dossiers: int = 16
) -> tuple[dict[str, str], dict[str, str]]:
    """Submit dossiers steadily while each victim is SIGKILLed then restarted; wait until all are notified."""
    await api.publish_grille(grille_body(edition))
    contacts: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for _ in range(dossiers):
        code = codes.take("ville")
        contacts[code] = f"killed-{edition}-{code}@collectivites.example"
        tokens[code] = await api.register(code, contacts[code])
    submitted: dict[str, str] = {}

    async def submit_all() -> None:
        for code, token in tokens.items():
            # A collectivité whose request fails (the API was killed) retries with the
            # same Idempotency-Key: it gets the same dossier, never a second one.
            async def attempt(code: str = code, token: str = token) -> dict[str, str] | None:
                try:
                    r = await api.submit(token, edition, dossier(contacts[code]), **{"Idempotency-Key": f"k-{code}"})
                except httpx.TransportError:
                    return None
                return dict(r.json()) if r.status_code == 202 else None

            submitted[code] = (await eventually(attempt, 60, f"dossier of {code} accepted"))["submission_id"]
            await asyncio.sleep(0.15)

    flow = asyncio.create_task(submit_all())
    for victim in victims:
        await asyncio.sleep(0.7)
        stack.kill(victim)  # SIGKILL while dossiers flow: no graceful shutdown
        await asyncio.sleep(0.5)
        await asyncio.to_thread(stack.restart, victim)
    await flow
    for sid in submitted.values():
        view = await api.wait_status(sid, "notified", within=90)
        assert view["revision"] == 1, "a retried request never makes a second revision"
    await asyncio.sleep(2)  # a duplicate, if any, would arrive now
    return contacts, submitted


_SETTINGS = NotifySettings.model_fields  # the stack's notify runs with the defaults


@pytest.mark.slow
async def test_killed_services_lose_nothing_and_duplicate_nothing(
    stack: Stack, api: Api, codes: Codes, edition: int
) -> None:
    contacts, _ = await _flow_with_kills(stack, api, codes, edition, ("scoring", "submission", "mentions"))
    mails = read_mails(stack.mail_dir, contacts.values())
    assert sorted(m.to for m in mails) == sorted(contacts.values()), "exactly one receipt per dossier"


@pytest.mark.slow
async def test_notify_killed_while_sending_loses_nothing(stack: Stack, api: Api, codes: Codes, edition: int) -> None:
    """SMTP itself leaves one window open (RFC 1047): accepted by the server, not yet recorded.

    Killing notify can land in it; the emails of the batches in flight are then
    sent again, byte for byte with the same Message-ID. Nothing else may differ:
    no loss, no other duplicate.
    """
    contacts, _ = await _flow_with_kills(stack, api, codes, edition, ("notify",))
    mails = read_mails(stack.mail_dir, contacts.values())
    assert set(m.to for m in mails) == set(contacts.values()), "every dossier got its receipt"
    ids = [m.message_id for m in mails]
    resent = sorted({i for i in ids if ids.count(i) > 1})
    in_flight = _SETTINGS["send_workers"].default * _SETTINGS["send_batch"].default  # a batch per sender at most
    assert len(mails) - len(set(ids)) <= in_flight, f"only emails of batches in flight at the kill are resent: {resent}"
    for message_id in resent:
        copies = {m.path.read_bytes() for m in mails if m.message_id == message_id}
        assert len(copies) == 1, "a resend is byte-identical"
    assert len(set(ids)) == len(contacts), "one distinct receipt per dossier"
    print(f"\nnotify SIGKILLed while sending: {len(mails) - len(set(ids))} email(s) resent in the SMTP window")
