"""End to end through real Kafka, PostgreSQL and SMTP: dossiers → scores and mentions → emails."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from palmares_cli.kafka_io import read_topics
from palmares_label import french

from tests.factories import grille_body
from tests.integration.harness import Api, Codes, Stack, dossier, eventually, produce, read_mails

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
# Each test spells out its own arrange (grille, collectivité, contact, token), alike from test to test on
# purpose: a scenario reads top to bottom without a fixture to look up.


async def test_dossiers_are_scored_evaluated_and_notified(stack: Stack, api: Api, codes: Codes, edition: int) -> None:
    await api.publish_grille(grille_body(edition))
    kinds = ["village", "ville", "territoire", "ville"]
    contacts = {}
    submissions = {}
    for kind in kinds:
        code = codes.take(kind)
        contact = f"numerique-{edition}-{code}@collectivites.example"
        token = await api.register(code, contact)
        r = await api.submit(token, edition, dossier(contact))
        assert r.status_code == 202, r.text
        submissions[code] = r.json()["submission_id"]
        contacts[code] = contact

    # Before the palmarès: evaluated, receipt sent → notified.
    views = {code: await api.wait_status(sid, "notified") for code, sid in submissions.items()}
    for view in views.values():
        assert view["revision"] == 1 and view["grille_version"] == 1
        assert 1 <= view["arobases"] <= 5
        assert [m["code"] for m in view["mentions"]] == ["gouvernement_ouvert"]
        assert view["explanation"]["enjeux"], "the explanation lists the coverage per enjeu"
        assert [(n["kind"], n["status"]) for n in view["notifications"]] == [("receipt", "sent")]
    receipts = read_mails(stack.mail_dir, contacts.values())
    assert sorted(m.to for m in receipts) == sorted(contacts.values())
    assert {m.kind for m in receipts} == {"receipt"}

    r = await api.publish_palmares(edition)
    assert r.status_code == 202, r.text

    async def all_awarded() -> list[object] | None:
        mails = read_mails(stack.mail_dir, contacts.values())
        awards = [m for m in mails if m.kind == "award"]
        return mails if len(awards) >= len(contacts) else None

    mails = await eventually(all_awarded, 60, "one award per collectivité")
    await asyncio.sleep(1)  # anything extra (a duplicate) would arrive now
    mails = read_mails(stack.mail_dir, contacts.values())
    assert sorted((m.kind, m.to) for m in mails) == sorted(
        [("receipt", c) for c in contacts.values()] + [("award", c) for c in contacts.values()]
    ), "exactly one receipt and one award per collectivité"
    assert len({m.message_id for m in mails}) == len(mails)

    for code, sid in submissions.items():
        view = await api.wait_status(sid, "notified")
        assert {n["kind"] for n in view["notifications"]} == {"receipt", "award"}
        award = next(m for m in mails if m.kind == "award" and m.to == contacts[code])
        assert award.message.is_multipart() and award.message.get_content_type() == "multipart/alternative"
        assert f"obtient {french.arobases(view['arobases'])}" in str(award.message["Subject"])
        assert "Gouvernement ouvert" in award.text() and "Gouvernement ouvert" in award.html()
        assert "Palmarès" in str(award.message["Subject"])  # accents intact through MIME encoding
        assert "é" in award.text() and '<html lang="fr">' in award.html()

    palmares = (await api.client.get(f"/v1/editions/{edition}/palmares")).json()
    listed = [e["collectivite_code"] for group in ("villages", "villes", "territoires") for e in palmares[group]]
    assert sorted(listed) == sorted(submissions)


async def test_one_trace_per_dossier_across_the_four_services(
    stack: Stack, api: Api, codes: Codes, edition: int
) -> None:
    await api.publish_grille(grille_body(edition))
    code = codes.take("ville")
    contact = f"trace-{edition}@collectivites.example"
    token = await api.register(code, contact)
    started = time.monotonic()
    r = await api.submit(token, edition, dossier(contact))
    sid = r.json()["submission_id"]

    async def receipt() -> list[object] | None:
        return read_mails(stack.mail_dir, [contact]) or None  # type: ignore[return-value]

    await eventually(receipt, 30, "the receipt")
    latency = time.monotonic() - started
    await api.wait_status(sid, "notified")

    async def receipt_trace() -> list[dict[str, object]] | None:
        spans = stack.spans()
        sends = [s for s in spans if s["name"] == "smtp send" and s["attributes"].get("palmares.submission_id") == sid]
        if not sends:
            return None
        trace = [s for s in spans if s["trace_id"] == sends[0]["trace_id"]]
        # Wait for the last hops (notifications.v1 back to submission) and every service's spans
        # to be exported too: each service exports in batches, on its own schedule.
        names = {(s["service"], s["name"]) for s in trace}
        exported = {s["service"] for s in trace} >= {"submission", "scoring", "mentions", "notify"}
        return trace if exported and ("submission", "notifications.v1 process") in names else None

    trace = await eventually(receipt_trace, 30, "the spans of the dossier's trace")
    by_id = {s["span_id"]: s for s in trace}
    roots = [s for s in trace if s["parent_span_id"] is None]
    assert len(roots) == 1, roots
    root = roots[0]
    assert root["service"] == "submission" and root["kind"] == "SERVER"
    assert root["name"] == "POST /v1/editions/{edition}/submissions"
    assert {s["service"] for s in trace} == {"submission", "scoring", "mentions", "notify"}
    for span in trace:
        if span is not root:
            assert span["parent_span_id"] in by_id, f"{span['service']} {span['name']} has a dangling parent"

    def chain(span: dict[str, object]) -> list[str]:
        names = []
        while span["parent_span_id"]:
            names.append(f"{span['service']}:{span['name']}")
            span = by_id[span["parent_span_id"]]  # type: ignore[index]
        return [*names, f"{span['service']}:{span['name']}"]

    send = next(s for s in trace if s["name"] == "smtp send")
    assert chain(send) == [
        "notify:smtp send",
        "notify:submissions.v1 process",
        "submission:submissions.v1 publish",
        "submission:POST /v1/editions/{edition}/submissions",
    ]
    for service in ("scoring", "mentions"):
        process = next(s for s in trace if s["service"] == service and s["name"] == "submissions.v1 process")
        assert by_id[process["parent_span_id"]]["name"] == "submissions.v1 publish"
    traced = (int(send["end_ns"]) - int(root["start_ns"])) / 1e6  # type: ignore[call-overload]
    print(
        f"\nPOST → receipt accepted by SMTP: {traced:.0f} ms (spans), {latency * 1000:.0f} ms seen by the test "
        f"(polling every 100 ms); trace {root['trace_id']} has {len(trace)} spans"
    )


async def test_grille_update_rescores_every_dossier_once(stack: Stack, api: Api, codes: Codes, edition: int) -> None:
    await api.publish_grille(grille_body(edition))
    sids = []
    for _ in range(3):
        code = codes.take("ville")
        contact = f"regrade-{edition}-{code}@collectivites.example"
        r = await api.submit(await api.register(code, contact), edition, dossier(contact))
        sids.append(r.json()["submission_id"])
    before = {sid: await api.wait_status(sid, "notified", grille_version=1) for sid in sids}

    # v2 doubles the weight of the open data portal: every score changes.
    body = grille_body(edition)
    body["services"] = [
        {**s, "weight": s["weight"] * 2} if s["code"] == "portail_open_data" else s  # type: ignore[index]
        for s in body["services"]  # type: ignore[union-attr]
    ]
    published = await api.publish_grille(body)
    assert published["version"] == 2
    after = {sid: await api.wait_status(sid, "notified", grille_version=2, mentions_grille_version=2) for sid in sids}
    for sid in sids:
        assert after[sid]["score"] > before[sid]["score"]
        assert after[sid]["mentions_grille_version"] == 2

    conn = await asyncpg.connect(stack.env["DATABASE_URL"])
    try:
        for schema in ("scoring", "mentions"):
            rows = await conn.fetch(
                f"SELECT submission_id::text, grille_version, count(*) AS n FROM {schema}.evaluations "
                "WHERE submission_id = ANY($1::uuid[]) GROUP BY 1, 2",
                sids,
            )
            assert sorted((r["submission_id"], r["grille_version"], r["n"]) for r in rows) == sorted(
                [(sid, v, 1) for sid in sids for v in (1, 2)]
            ), f"{schema}: one evaluation per dossier and grille version"
    finally:
        await conn.close()


async def test_revision_supersedes_and_jury_decides_the_award(
    stack: Stack, api: Api, codes: Codes, edition: int
) -> None:
    await api.publish_grille(grille_body(edition))
    code = codes.take("village")
    contact = f"jury-{edition}@collectivites.example"
    token = await api.register(code, contact)
    first = (await api.submit(token, edition, dossier(contact, services=[]))).json()
    second = (await api.submit(token, edition, dossier(contact))).json()
    assert second["submission_id"] == first["submission_id"] and second["revision"] == 2
    view = await api.wait_status(second["submission_id"], "notified", revision=2)
    assert view["revision"] == 2

    r = await api.client.post(
        f"/v1/submissions/{second['submission_id']}/jury-decision",
        json={"arobases": 5, "comment": "Un village exemplaire.", "decided_by": "Jury test"},
        headers=api.operator,
    )
    assert r.status_code == 202, r.text
    assert (await api.publish_palmares(edition)).status_code == 202

    async def award() -> list[object] | None:
        awards = [m for m in read_mails(stack.mail_dir, [contact]) if m.kind == "award"]
        return awards or None

    (mail,) = await eventually(award, 60, "the award")
    assert "obtient cinq arobases" in str(mail.message["Subject"])  # type: ignore[attr-defined]
    assert "Un village exemplaire." in mail.text()  # type: ignore[attr-defined]
    receipts = [m for m in read_mails(stack.mail_dir, [contact]) if m.kind == "receipt"]
    assert len(receipts) == 2, "one receipt per revision"


def real_grille(name: str) -> dict[str, object]:
    """A grille file of deploy/grilles, as an operator publishes it."""
    return dict(json.loads((Path(__file__).resolve().parents[2] / "deploy" / "grilles" / name).read_text()))


async def test_grille_2018_v2_over_v1_rescores_every_2018_dossier_exactly_once(
    stack: Stack, api: Api, codes: Codes
) -> None:
    """The real grilles: 2018 v1, dossiers, then the operator's 2018 v2 (and a replay of it)."""
    v1, v2 = real_grille("grille-2018.json"), real_grille("grille-2018-v2.json")
    assert (await api.publish_grille(v1))["version"] == 1
    declared = ["franceconnect", "rgpd_dpo", "conseils_quartier_numeriques", "demarches_en_ligne", "cybersecurite"]
    sids = []
    for kind in ("village", "village", "ville", "ville", "territoire", "territoire"):
        code = codes.take(kind)
        contact = f"grille2018-{code}@collectivites.example"
        body = dossier(contact, services=declared)
        body["actions"][1]["services"] = []  # type: ignore[index]
        r = await api.submit(await api.register(code, contact), 2018, body)
        assert r.status_code == 202, r.text
        sids.append(r.json()["submission_id"])
    before = {sid: await api.wait_status(sid, "notified", grille_version=1) for sid in sids}

    assert (await api.publish_grille(v2))["version"] == 2
    after = {sid: await api.wait_status(sid, "notified", grille_version=2, mentions_grille_version=2) for sid in sids}
    assert any(after[s]["score"] != before[s]["score"] for s in sids), "v2 re-weights services these dossiers declare"

    conn = await asyncpg.connect(stack.env["DATABASE_URL"])
    try:

        async def evaluations() -> list[tuple[str, int, int]]:
            rows = await conn.fetch(
                "SELECT submission_id::text AS s, grille_version AS v, count(*) AS n FROM scoring.evaluations "
                "WHERE submission_id = ANY($1::uuid[]) GROUP BY 1, 2 ORDER BY 1, 2",
                sids,
            )
            return [(r["s"], r["v"], r["n"]) for r in rows]

        expected = sorted((sid, v, 1) for sid in sids for v in (1, 2))
        assert await evaluations() == expected

        # Replaying the same GrillePublished (same bytes, same event id) changes nothing.
        bootstrap = stack.env["KAFKA_BOOTSTRAP_SERVERS"]
        (grilles,) = await read_topics(bootstrap, ["grilles.v1"])
        versions = [(r, document(r.value)) for r in grilles.letters]
        record = [r for r, doc in versions if doc.get("edition") == 2018 and doc.get("version") == 2][-1]
        await produce(bootstrap, "grilles.v1", [(record.key, record.value or b"", record.headers)])
        event_id = json.loads(record.value)["event_id"]

        async def absorbed() -> bool:
            n = await conn.fetchval(
                "SELECT redeliveries FROM scoring.inbox WHERE consumer = 'scoring.grilles.v1' AND event_id = $1::uuid",
                event_id,
            )
            return n == 1

        await eventually(absorbed, 30, "the replayed GrillePublished absorbed by scoring's inbox")
        assert await evaluations() == expected
    finally:
        await conn.close()


async def test_mentions_detected_from_the_api_and_again_after_a_grille_update(
    stack: Stack, api: Api, codes: Codes, edition: int
) -> None:
    """The expected MentionsDetected on mentions.v1, for v1 of the grille and again for v2."""
    body = grille_body(edition)
    await api.publish_grille(body)
    code = codes.take("ville")
    contact = f"mentions-{edition}@collectivites.example"
    narrative = (
        "Nous publions nos données ouvertes sur data.gouv.fr. Nous n'avons pas encore de page Facebook. "
        "Chaque séance du conseil municipal retransmis en direct sur le site de la ville est très suivie."
    )
    r = await api.submit(await api.register(code, contact), edition, dossier(contact, services=[], narrative=narrative))
    sid = r.json()["submission_id"]
    view = await api.wait_status(sid, "notified")
    assert [m["code"] for m in view["mentions"]] == ["gouvernement_ouvert"], "a negated Facebook page is no evidence"

    body["mentions"] = [  # type: ignore[index]
        *body["mentions"],  # type: ignore[misc]
        {"code": "democratie_locale", "label": "Démocratie locale", "terms": ["conseil municipal retransmis"]},
    ]
    assert (await api.publish_grille(body))["version"] == 2
    view = await api.wait_status(sid, "notified", mentions_grille_version=2)
    assert [m["code"] for m in view["mentions"]] == ["gouvernement_ouvert", "democratie_locale"]

    events = await mentions_events(stack.env["KAFKA_BOOTSTRAP_SERVERS"], sid)
    assert [(e["grille_version"], [m["code"] for m in e["mentions"]]) for e in events] == [
        (1, ["gouvernement_ouvert"]),
        (2, ["gouvernement_ouvert", "democratie_locale"]),
    ]
    evidence = events[1]["mentions"][1]["evidence"][0]
    assert evidence["action_title"] is None and "retransmis en direct" in evidence["snippet"]


def document(value: bytes | None) -> dict[str, Any]:
    """A record's JSON object; {} for what is not one (the poison tests leave undecodable records in every topic)."""
    try:
        doc = json.loads(value or b"")
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


async def mentions_events(bootstrap: str, submission_id: str) -> list[dict[str, object]]:
    """The MentionsDetected events of a dossier, read from mentions.v1 as any consumer sees them."""
    (content,) = await read_topics(bootstrap, ["mentions.v1"])
    found = [doc for r in content.letters if (doc := document(r.value)).get("submission_id") == submission_id]
    return sorted(found, key=lambda d: d["grille_version"])
