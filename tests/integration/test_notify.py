"""Emails on real SMTP: rectificatifs after the palmarès, and an SMTP server refusing for 30 seconds."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from palmares_label import french
from palmares_stack.pytest_plugin import Infra

from tests.factories import grille_body
from tests.integration.harness import Api, Codes, Stack, dossier, eventually, read_mails

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
# Each test spells out its own arrange (grille, collectivité, contact, token), alike from test to test on
# purpose: a scenario reads top to bottom without a fixture to look up.


async def test_a_jury_correction_after_the_palmares_sends_one_rectificatif(
    stack: Stack, api: Api, codes: Codes, edition: int
) -> None:
    await api.publish_grille(grille_body(edition))
    code = codes.take("ville")
    contact = f"rectificatif-{edition}@collectivites.example"
    sid = (await api.submit(await api.register(code, contact), edition, dossier(contact))).json()["submission_id"]
    view = await api.wait_status(sid, "notified")
    assert (await api.publish_palmares(edition)).status_code == 202

    async def mails_of(kind: str, n: int) -> list[object] | None:
        found = [m for m in read_mails(stack.mail_dir, [contact]) if m.kind == kind]
        return found if len(found) >= n else None

    await eventually(lambda: mails_of("award", 1), 60, "the award")

    async def decide(arobases: int, mentions: list[str] | None = None) -> None:
        body = {"arobases": arobases, "comment": "Correction du jury.", "decided_by": "Jury test", "mentions": mentions}
        r = await api.client.post(f"/v1/submissions/{sid}/jury-decision", json=body, headers=api.operator)
        assert r.status_code == 202, r.text

    corrected = 5 if view["arobases"] != 5 else 4
    await decide(corrected)
    (rectificatif,) = await eventually(lambda: mails_of("rectificatif", 1), 60, "the rectificatif")  # type: ignore[misc]
    assert f"obtient {french.arobases(corrected)}" in str(rectificatif.message["Subject"])  # type: ignore[attr-defined]
    assert f"et non {french.arobases(view['arobases'])} comme nous vous l’avions annoncé" in rectificatif.text()  # type: ignore[attr-defined]

    await decide(corrected)  # the same decision again: nothing changed, nothing sent
    await asyncio.sleep(3)
    assert sorted(m.kind for m in read_mails(stack.mail_dir, [contact])) == ["award", "receipt", "rectificatif"]

    # The same arobases, a mention removed: the final mentions changed, one more rectificatif says so.
    assert [m["code"] for m in view["mentions"]] == ["gouvernement_ouvert"]  # type: ignore[index]
    assert "Gouvernement ouvert" in rectificatif.text()  # type: ignore[attr-defined]
    await decide(corrected, mentions=[])
    rectificatifs = await eventually(lambda: mails_of("rectificatif", 2), 60, "the rectificatif of the mentions")
    assert rectificatifs is not None
    (removed,) = [m for m in rectificatifs if "Le jury a revu les mentions" in m.text()]  # type: ignore[attr-defined]
    assert "annule et remplace" in removed.text()  # type: ignore[attr-defined]
    assert f"garde {french.arobases(corrected)}, mais n’obtient finalement pas de mention" in removed.text()  # type: ignore[attr-defined]
    assert "Gouvernement ouvert" not in removed.text()  # type: ignore[attr-defined]

    await decide(corrected, mentions=[])  # again: nothing changed, nothing sent
    await asyncio.sleep(3)
    assert len([m for m in read_mails(stack.mail_dir, [contact]) if m.kind == "rectificatif"]) == 2
    expected = {("receipt", "sent"), ("award", "sent"), ("rectificatif", "sent")}

    async def all_sent() -> dict[str, object] | None:
        # NotificationSent reaches the status view through Kafka, a moment after the SMTP capture.
        status = await api.status(sid)
        return status if {(n["kind"], n["status"]) for n in status["notifications"]} == expected else None

    status = await eventually(all_sent, 30, "the four emails sent in the status view")
    assert status["jury"]["arobases"] == corrected  # type: ignore[index]
    assert len(status["notifications"]) == 4  # type: ignore[arg-type]


@pytest.mark.slow
async def test_smtp_refusing_for_30_seconds_then_recovering(
    stack: Stack, api: Api, codes: Codes, edition: int, infra: Infra
) -> None:
    await api.publish_grille(grille_body(edition))
    contacts = {}
    infra.smtp.refuse(421)  # every transaction: "421 Service not available", connection closed
    try:
        for _ in range(5):
            code = codes.take("village")
            contacts[code] = f"smtp-down-{edition}-{code}@collectivites.example"
            r = await api.submit(await api.register(code, contacts[code]), edition, dossier(contacts[code]))
            assert r.status_code == 202
        began = time.monotonic()
        await asyncio.sleep(30)
        assert read_mails(stack.mail_dir, contacts.values()) == [], "nothing gets through a refusing server"
    finally:
        infra.smtp.clear_faults()

    async def all_arrived() -> list[object] | None:
        mails = read_mails(stack.mail_dir, contacts.values())
        return mails if len(mails) >= len(contacts) else None  # type: ignore[return-value]

    await eventually(all_arrived, 60, "every receipt after the SMTP server recovered")
    recovered_in = time.monotonic() - began - 30
    await asyncio.sleep(3)
    mails = read_mails(stack.mail_dir, contacts.values())
    assert sorted(m.to for m in mails) == sorted(contacts.values()), "every email arrives, none twice"
    conn = await asyncpg.connect(stack.env["DATABASE_URL"])
    try:
        outcomes = await conn.fetch(
            "SELECT a.outcome, count(*) AS n FROM notify.delivery_attempts a "
            "JOIN notify.notifications n USING (notification_id) WHERE n.to_addr = ANY($1::text[]) GROUP BY 1",
            list(contacts.values()),
        )
    finally:
        await conn.close()
    counts = {r["outcome"]: r["n"] for r in outcomes}
    assert counts["sent"] == len(contacts) and counts["retry"] >= len(contacts), "every attempt is recorded"
    print(
        f"\nSMTP refused for 30 s: {len(mails)} receipts delivered {recovered_in:.1f} s after it recovered, "
        f"after {counts['retry']} refused attempts"
    )


async def test_territoire_d_excellence_numerique_from_the_label_history(
    stack: Stack, api: Api, codes: Codes, edition: int
) -> None:
    await api.publish_grille(grille_body(edition))
    veteran, newcomer = codes.take("territoire"), codes.take("territoire")
    # Editions before this system (other tests publish the recent ones in this session).
    history = [{"code": veteran, "edition": year, "arobases": 5} for year in range(2010, 2015)]
    history += [{"code": newcomer, "edition": year, "arobases": 5} for year in range(2011, 2015)]
    r = await api.client.post("/v1/label-history", json={"entries": history}, headers=api.operator)
    assert r.status_code == 202, r.text

    sids = {}
    contacts = {}
    for code in (veteran, newcomer):
        contacts[code] = f"excellence-{edition}-{code}@collectivites.example"
        r = await api.submit(await api.register(code, contacts[code]), edition, dossier(contacts[code]))
        sids[code] = r.json()["submission_id"]
        await api.wait_status(sids[code], "notified")
        r = await api.client.post(
            f"/v1/submissions/{sids[code]}/jury-decision",
            json={"arobases": 5, "comment": "", "decided_by": "Jury test"},
            headers=api.operator,
        )
        assert r.status_code == 202
    assert (await api.publish_palmares(edition)).status_code == 202

    listed = {
        e["collectivite_code"]: e
        for e in (await api.client.get(f"/v1/editions/{edition}/palmares")).json()["territoires"]
    }
    assert listed[veteran]["distinctions"] == ["Territoire d’excellence numérique"]  # its 6th label at 5 @
    assert listed[newcomer]["distinctions"] == []  # its 5th

    async def awards() -> list[object] | None:
        found = [m for m in read_mails(stack.mail_dir, contacts.values()) if m.kind == "award"]
        return found if len(found) == 2 else None  # type: ignore[return-value]

    mails = {m.to: m for m in await eventually(awards, 60, "both awards")}  # type: ignore[attr-defined]
    assert "Distinction\u00a0: Territoire d’excellence numérique" in mails[contacts[veteran]].text()
    assert "Distinction" not in mails[contacts[newcomer]].text()

    # The history of an edition this system published is its own: not importable.
    r = await api.client.post(
        "/v1/label-history",
        json={"entries": [{"code": veteran, "edition": edition, "arobases": 1}]},
        headers=api.operator,
    )
    assert r.status_code == 409 and r.json()["detail"][0]["field"] == "entries.0.edition"


async def test_a_permanent_refusal_ends_in_notification_failed_with_its_reason(
    stack: Stack, api: Api, codes: Codes, edition: int
) -> None:
    await api.publish_grille(grille_body(edition))
    code = codes.take("village")
    contact = f"mairie-{edition}@unknown-user.example"  # the capture answers 550 for this domain
    sid = (await api.submit(await api.register(code, contact), edition, dossier(contact))).json()["submission_id"]

    async def failed() -> dict[str, object] | None:
        view = await api.status(sid)
        notes = [n for n in view["notifications"] if n["status"] == "failed"]
        return notes[0] if notes else None

    note = await eventually(failed, 30, "NotificationFailed in the status view")
    assert note["kind"] == "receipt"
    assert str(note["reason"]).startswith("550")
    assert "unknown user" in str(note["reason"])
    # Scored and evaluated for mentions (those results may reach the status view after the failure), never notified.
    view = await api.wait_status(sid, "evaluated")
    assert not [n for n in view["notifications"] if n["status"] == "sent"], "the receipt could not be delivered"
    conn = await asyncpg.connect(stack.env["DATABASE_URL"])
    try:
        attempts = await conn.fetch(
            "SELECT attempt, outcome, detail FROM notify.delivery_attempts WHERE notification_id = $1::uuid",
            note["notification_id"],
        )
    finally:
        await conn.close()
    assert [(a["attempt"], a["outcome"]) for a in attempts] == [(1, "failed")], "a permanent refusal is not retried"
    assert attempts[0]["detail"].startswith("550")
