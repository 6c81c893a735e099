"""Poison on every topic, dead letters replayed after a fix, truthful probes, graceful shutdown."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from palmares_cli.kafka_io import read_topics
from palmares_contracts import ALL_TOPICS, SUBMISSIONS, Topic, encode
from palmares_stack.pytest_plugin import Infra

from tests.factories import grille_body, one_of_each
from tests.integration.harness import Api, Codes, Stack, dossier, eventually, produce, read_mails

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.timeout(300)]

PALMARES = Path(sys.executable).with_name("palmares")

# Who consumes what (docs/architecture.md, "Topics and events"): one dead letter per consumer group that fails.
CONSUMERS = {
    "grilles.v1": {"scoring", "mentions", "notify"},
    "submissions.v1": {"scoring", "mentions", "notify"},
    "scores.v1": {"notify", "submission"},
    "mentions.v1": {"notify", "submission"},
    "jury.v1": {"notify"},
    "palmares.v1": {"notify"},
    "notifications.v1": {"submission"},
}
SAMPLES = {type(e): e for e in one_of_each()}


def poisons(topic: Topic, marker: str) -> list[tuple[str, bytes, list[tuple[str, bytes]]]]:
    """One record of each kind of poison for a topic, and the error type it must get."""
    sample = SAMPLES[topic.events[0]]
    value, headers = encode(sample)
    doc = json.loads(value)
    future = {**doc, "schema_version": sample.SCHEMA_VERSION + 1, "marker": marker}
    # A truly unsupported version: it declares itself unreadable by today's consumers (an additive
    # version, compatible with theirs, is read: the rolling upgrade's campaign).
    headers["schema-compatible-since"] = str(sample.SCHEMA_VERSION + 1)
    wrong_shape = {"event_type": sample.event_type, "marker": marker}
    oversized = {**doc, "marker": marker, "padding": "x" * 600_000}
    return [
        ("undecodable", b"\xff\xfe\x00 not json " + marker.encode(), []),
        ("invalid-event", json.dumps(wrong_shape).encode(), []),
        ("unknown-event-type", json.dumps({"event_type": "Nonsense", "marker": marker}).encode(), []),
        ("unsupported-schema-version", json.dumps(future).encode(), [(k, v.encode()) for k, v in headers.items()]),
        ("oversized", json.dumps(oversized).encode(), []),
        # A header that is not UTF-8: the framework's header decoding must not drop the record.
        ("unknown-event-type", json.dumps({"marker": marker, "binary": True}).encode(), [("event-type", b"\xff\xfe")]),
    ]


@pytest.mark.parametrize("topic", ALL_TOPICS, ids=lambda t: t.name)
async def test_poison_on_every_topic_is_dead_lettered_with_its_reason(
    stack: Stack, api: Api, codes: Codes, edition: int, topic: Topic
) -> None:
    bootstrap = stack.env["KAFKA_BOOTSTRAP_SERVERS"]
    marker = uuid.uuid4().hex
    records = poisons(topic, marker)
    # An oversized poison is among them: the producer takes records the services' consumers refuse.
    await produce(
        bootstrap,
        topic.name,
        [(b"poison", value, headers) for _, value, headers in records],
        max_request_size=2 * 1024 * 1024,
    )
    expected = {(consumer, kind) for consumer in CONSUMERS[topic.name] for kind, _, _ in records}

    async def dead_letters() -> set[tuple[str, str]] | None:
        (content,) = await read_topics(bootstrap, [topic.dlq])
        letters = [d for d in content.letters if marker.encode() in (d.value or b"")]
        found = {(d.header("x-consumer").split(".")[0], d.header("x-error-type")) for d in letters}  # type: ignore[union-attr]
        binary = [d for d in letters if b'"binary": true' in (d.value or b"")]
        # Every record, once per consumer group: the binary-header one included, its header bytes kept.
        if len(letters) == len(records) * len(CONSUMERS[topic.name]) and found == expected:
            assert all(dict(d.headers).get("event-type") == b"\xff\xfe" for d in binary)
            return found
        return None

    assert await eventually(dead_letters, 60, f"dead letters on {topic.dlq}") == expected
    (content,) = await read_topics(bootstrap, [topic.dlq])
    for letter in content.letters:
        if marker.encode() in (letter.value or b"") and letter.header("x-error-type") == "oversized":
            assert len(letter.value or b"") > 600_000, "the original record is kept whole"
            assert letter.header("x-source-topic") == topic.name

    # Every consumer went on: a dossier flows end to end after the poison.
    await api.publish_grille(grille_body(edition))
    code = codes.take("ville")
    contact = f"after-{topic.name}-{edition}@collectivites.example"
    r = await api.submit(await api.register(code, contact), edition, dossier(contact))
    await api.wait_status(r.json()["submission_id"], "notified")


def cli(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PALMARES), "--env-file", str(env_file), "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_dead_letters_listed_then_replayed_after_the_fix(
    stack: Stack, api: Api, codes: Codes, edition: int, tmp_path: Path
) -> None:
    """An operator's mistake (a table renamed during maintenance) fails a handler; fixed, then replayed."""
    env_file = tmp_path / "stack.env"
    env_file.write_text(
        f"API_URL={stack.api_url}\nOPERATOR_TOKEN={stack.operator_token}\n"
        f"KAFKA_BOOTSTRAP_SERVERS={stack.env['KAFKA_BOOTSTRAP_SERVERS']}\n"
    )
    await api.publish_grille(grille_body(edition))
    code = codes.take("ville")
    contact = f"replay-{edition}@collectivites.example"
    token = await api.register(code, contact)
    conn = await asyncpg.connect(stack.env["DATABASE_URL"])
    try:

        async def grille_applied() -> bool:
            row = await conn.fetchval("SELECT 1 FROM mentions.grilles WHERE edition = $1", edition)
            return row is not None

        # The maintenance starts once mentions holds the grille: otherwise the grille, not the dossier, is set aside.
        await eventually(grille_applied, 60, "the grille applied by the mentions service")
        await conn.execute("ALTER TABLE mentions.evaluations RENAME TO evaluations_maintenance")
        try:
            r = await api.submit(token, edition, dossier(contact))
            sid = r.json()["submission_id"]

            async def listed() -> dict[str, object] | None:
                out = cli(env_file, "dlq", "list", SUBMISSIONS.name)
                assert out.returncode == 0, out.stderr
                letters = [
                    d for d in _letters(json.loads(out.stdout)) if sid in json.dumps(d) and "mentions" in json.dumps(d)
                ]
                return letters[0] if letters else None

            letter = await eventually(listed, 60, "the dead letter in `palmares dlq list`")
            assert "UndefinedTable" in json.dumps(letter)
            view = await api.status(sid)
            assert view["score"] is not None and view["mentions"] is None, "scoring went on; mentions set it aside"
        finally:
            await conn.execute("ALTER TABLE mentions.evaluations_maintenance RENAME TO evaluations")  # the fix
    finally:
        await conn.close()

    position = _position(letter)
    out = cli(env_file, "dlq", "replay", SUBMISSIONS.name, "--offset", position)
    assert out.returncode == 0, out.stdout + out.stderr
    view = await api.wait_status(sid, "notified")
    assert [m["code"] for m in view["mentions"]] == ["gouvernement_ouvert"]
    assert len(read_mails(stack.mail_dir, [contact])) == 1, "the replay reached every consumer; only mentions acted"


def _letters(document: object) -> list[dict[str, object]]:
    """The dead letters in `palmares dlq list --json` output, whatever its nesting."""
    if isinstance(document, list):
        return [d for item in document for d in _letters(item)]
    if isinstance(document, dict):
        if "offset" in document and "partition" in document:
            return [document]
        return [d for value in document.values() for d in _letters(value)]
    return []


def _position(letter: dict[str, object]) -> str:
    return f"{letter['partition']}:{letter['offset']}"


async def _ready(client: httpx.AsyncClient, url: str) -> int:
    try:
        return (await client.get(f"{url}/ready", timeout=5)).status_code
    except httpx.TransportError:
        return 0


async def test_readiness_tells_the_truth_and_services_reconnect(stack: Stack, infra: Infra) -> None:
    if infra.postgres is None or infra.kafka is None:
        pytest.fail("needs TEST_INFRA=local")
    urls = {
        name: e.url for name, e in stack.endpoints.items() if name in ("submission", "scoring", "mentions", "notify")
    }
    async with httpx.AsyncClient() as client:
        assert [await _ready(client, u) for u in urls.values()] == [200] * 4
        infra.postgres.stop()
        try:

            async def all_unready() -> bool:
                return all([await _ready(client, u) == 503 for u in urls.values()])

            await eventually(all_unready, 30, "every service not ready without its database")
            assert all([(await client.get(f"{u}/health")).status_code == 200 for u in urls.values()]), "alive"
        finally:
            await asyncio.to_thread(infra.postgres.start)

        async def all_ready() -> bool:
            return all([await _ready(client, u) == 200 for u in urls.values()])

        await eventually(all_ready, 60, "every service ready again, with no restart")
        await asyncio.to_thread(infra.kafka.stop_broker, 0)
        try:
            await eventually(all_unready, 60, "every service not ready without Kafka")
        finally:
            await asyncio.to_thread(infra.kafka.restart_broker, 0)
        await eventually(all_ready, 90, "every service ready again after Kafka came back")


async def test_sigterm_finishes_in_flight_work_within_the_grace_period(
    stack: Stack, api: Api, codes: Codes, edition: int
) -> None:
    await api.publish_grille(grille_body(edition))
    contacts = {}
    for _ in range(20):
        code = codes.take("village")
        contacts[code] = f"sigterm-{edition}-{code}@collectivites.example"
        await api.submit(await api.register(code, contacts[code]), edition, dossier(contacts[code]))
    process = stack.process("notify")
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)  # while receipts are being sent
    assert await asyncio.to_thread(process.wait_exit, 30), "notify did not stop within its grace period"
    stopped_in = time.monotonic() - began
    # uvicorn re-raises the signal once its graceful shutdown is done: -15 is the expected status.
    assert process.returncode in (0, -signal.SIGTERM), f"exit code {process.returncode}"
    log = process.log_path.read_text()
    assert '"message": "service stopped"' in log, "the runtime stopped cleanly (relay, producer, pool, spans)"
    await asyncio.to_thread(stack.restart, "notify")

    async def all_receipts() -> list[object] | None:
        mails = read_mails(stack.mail_dir, contacts.values())
        return mails if len(mails) >= len(contacts) else None  # type: ignore[return-value]

    await eventually(all_receipts, 60, "every receipt after the restart")
    await asyncio.sleep(2)
    mails = read_mails(stack.mail_dir, contacts.values())
    assert sorted(m.to for m in mails) == sorted(contacts.values()), "none lost, none twice"
    print(f"\nnotify stopped on SIGTERM in {stopped_in:.1f} s, finishing its in-flight work")
